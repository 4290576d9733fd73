//! Many connections at once in one process: 500 blocking clients held open together
//! against a tungstenite echo server, every message coming back on the connection it was
//! sent on, none lost, none crossed.

use ws_client::{CloseCode, Message, WebSocket};
use ws_tests::{Tls, echo, ws_server};

use crate::client;
use crate::scale_load::{CONNECTIONS, MESSAGES, message, raise_fd_limit};

#[test]
fn five_hundred_connections_at_once_lose_nothing() {
    raise_fd_limit();
    let peer = ws_server(CONNECTIONS, Tls::Off, &[], echo);
    let mut sockets: Vec<WebSocket> = (0..CONNECTIONS)
        .map(|_| client().connect(&peer.url("/many")).unwrap())
        .collect();
    // Every connection has messages in flight before any is read.
    for (i, ws) in sockets.iter().enumerate() {
        for n in 0..MESSAGES {
            ws.write(&message(i, n)).unwrap();
        }
        ws.flush().unwrap();
    }
    for (i, ws) in sockets.iter_mut().enumerate() {
        for n in 0..MESSAGES {
            let got = ws.recv().unwrap();
            assert!(
                got == message(i, n),
                "connection {i} message {n} came back wrong"
            );
        }
    }
    // And the same connections still work for a second round, read in reverse order.
    for (i, ws) in sockets.iter().enumerate().rev() {
        ws.send_text(&format!("again {i}")).unwrap();
    }
    for (i, ws) in sockets.iter_mut().enumerate().rev() {
        assert_eq!(ws.recv().unwrap(), Message::Text(format!("again {i}")));
    }
    for ws in &mut sockets {
        ws.close(CloseCode::NORMAL, "", None).unwrap();
        assert!(!ws.is_open());
    }
    peer.join();
}
