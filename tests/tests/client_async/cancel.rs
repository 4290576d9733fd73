//! Cancellation: a `recv` dropped by `select!` or a timeout loses nothing, mid-frame or
//! mid-message, and a cancelled large send never tears a frame.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

use ws_client::Message;
use ws_tests::{PythonPeer, accept_raw, server_frame, tcp_server};

use crate::{client, within};

#[tokio::test]
async fn recv_cancelled_mid_frame_and_mid_message_loses_nothing() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx = std::sync::Mutex::new(go_rx);
    let peer = tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, b"");
        let first = server_frame(false, 1, b"hello ");
        let big = vec![b'y'; 200_000];
        let second = server_frame(true, 0, &big);
        let mut wire = first;
        wire.extend_from_slice(&second);
        wire.extend_from_slice(&server_frame(true, 2, b"after"));
        // Three pieces, each sent when the client has given up waiting on the last.
        let cuts = [3, 10, wire.len() / 2, wire.len()];
        let mut at = 0;
        for cut in cuts {
            tcp.write_all(&wire[at..cut]).unwrap();
            tcp.flush().unwrap();
            at = cut;
            if cut < wire.len() {
                go_rx
                    .lock()
                    .unwrap()
                    .recv_timeout(ws_tests::TIMEOUT)
                    .unwrap();
            }
        }
        let _ = std::io::Read::read(&mut tcp, &mut [0; 64]);
    });
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let mut cancelled = 0;
    let message = loop {
        tokio::select! {
            got = ws.recv() => break got.unwrap(),
            () = tokio::time::sleep(Duration::from_millis(30)) => {
                cancelled += 1;
                let _ = go_tx.send(());
            }
        }
    };
    assert!(
        cancelled >= 3,
        "the message arrived in pieces ({cancelled})"
    );
    let mut expected = b"hello ".to_vec();
    expected.resize(expected.len() + 200_000, b'y');
    assert_eq!(message, Message::Text(String::from_utf8(expected).unwrap()));
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Binary(b"after".to_vec())
    );
    drop(ws);
    peer.join();
}

#[tokio::test]
async fn a_cancelled_large_send_is_finished_by_the_next_one() {
    let peer = PythonPeer::start();
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let big = vec![5u8; 8 * 1024 * 1024];
    // Cancelled at once: either nothing was queued or the whole message goes out.
    let sent = tokio::time::timeout(Duration::ZERO, ws.send_binary(&big)).await;
    ws.send_text("next").await.unwrap();
    if sent.is_err() {
        // It was cancelled (at any point): the big one may or may not have been queued.
        let first = within(ws.recv()).await.unwrap();
        if first != Message::Text("next".into()) {
            assert_eq!(first, Message::Binary(big));
            assert_eq!(
                within(ws.recv()).await.unwrap(),
                Message::Text("next".into())
            );
        }
    } else {
        assert_eq!(within(ws.recv()).await.unwrap(), Message::Binary(big));
        assert_eq!(
            within(ws.recv()).await.unwrap(),
            Message::Text("next".into())
        );
    }
}
