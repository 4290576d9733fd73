//! Many async connections at once on one runtime thread: 500 clients held open together
//! against a tungstenite echo server, every message coming back on the connection it was
//! sent on, none lost, none crossed; then all 500 receive at once, so every connection
//! waits with its buffers held (and gives them back when idle) while the others work.

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use ws_client::{AsyncWebSocket, CloseCode, Message};
use ws_tests::{TIMEOUT, Tls, echo, ws_server};

use crate::scale_load::{CONNECTIONS, MESSAGES, message, raise_fd_limit};
use crate::{client, within};

#[tokio::test]
async fn five_hundred_async_connections_at_once_lose_nothing() {
    raise_fd_limit();
    let peer = ws_server(CONNECTIONS, Tls::Off, &[], echo);
    let mut sockets: Vec<AsyncWebSocket> = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        sockets.push(
            within(client().connect_async(&peer.url("/many")))
                .await
                .unwrap(),
        );
    }
    // Every connection has messages in flight before any is read.
    for (i, ws) in sockets.iter().enumerate() {
        for n in 0..MESSAGES {
            within(ws.write(&message(i, n))).await.unwrap();
        }
        within(ws.flush()).await.unwrap();
    }
    for (i, ws) in sockets.iter_mut().enumerate() {
        for n in 0..MESSAGES {
            let got = within(ws.recv()).await.unwrap();
            assert!(
                got == message(i, n),
                "connection {i} message {n} came back wrong"
            );
        }
    }
    // Second round: all 500 wait at once, each for its own echo, answered in any order.
    let mut waiting: FuturesUnordered<_> = sockets
        .iter_mut()
        .enumerate()
        .map(|(i, ws)| async move {
            ws.send_text(&format!("again {i}")).await.unwrap();
            (i, ws.recv().await.unwrap())
        })
        .collect();
    let mut answered = vec![false; CONNECTIONS];
    while let Some((i, got)) = tokio::time::timeout(TIMEOUT, waiting.next())
        .await
        .expect("every echo within the test timeout")
    {
        assert_eq!(got, Message::Text(format!("again {i}")));
        answered[i] = true;
    }
    drop(waiting);
    assert!(answered.iter().all(|a| *a), "an echo was lost");
    for ws in &mut sockets {
        within(ws.close(CloseCode::NORMAL, "", Some(TIMEOUT)))
            .await
            .unwrap();
        assert!(!ws.is_open());
    }
    peer.join();
}
