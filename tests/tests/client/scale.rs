//! Many connections at once in one process: 500 blocking clients held open together
//! against a tungstenite echo server, every message coming back on the connection it was
//! sent on, none lost, none crossed.

use ws_client::{CloseCode, Message, WebSocket};
use ws_tests::{Tls, echo, ws_server};

use crate::client;

/// Connections held open at once (500 client sockets plus 500 server sockets).
const CONNECTIONS: usize = 500;
/// Messages each connection sends before reading any echo.
const MESSAGES: usize = 4;

/// Raises the soft limit on open files towards what `CONNECTIONS` needs on both ends (up
/// to the hard limit; the default soft limit is often 1024).
fn raise_fd_limit() {
    let want = (CONNECTIONS as u64) * 2 + 256;
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    if soft < want {
        rlimit::setrlimit(rlimit::Resource::NOFILE, want.min(hard), hard).unwrap();
    }
    let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert!(
        soft >= want,
        "the open-file limit is {soft}; this test needs {want}"
    );
}

fn message(connection: usize, n: usize) -> Message {
    if n % 2 == 0 {
        Message::Text(format!("connection {connection} message {n} ✓"))
    } else {
        // Sizes from 0 up to past the 16 KiB read buffer, so some take the direct path.
        let len = (connection * 37 + n * 4099) % 20_000;
        Message::Binary(
            (0..len)
                .map(|i| (i + connection + n).to_le_bytes()[0])
                .collect(),
        )
    }
}

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
