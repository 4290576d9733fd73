//! Frames as they arrive, and the bounded write buffer.

use std::io::Write;
use std::time::Duration;

use ws_client::{Fin, Message, OpCode};
use ws_tests::{accept_raw, server_frame, tcp_server};

use crate::{client, within};

#[tokio::test]
async fn recv_frame_gives_each_fragment_and_control_frame() {
    let peer = tcp_server(1, |mut tcp| {
        let mut wire = server_frame(false, 1, b"Frag");
        wire.extend_from_slice(&server_frame(true, 9, b"ping"));
        wire.extend_from_slice(&server_frame(true, 0, b"ment"));
        accept_raw(&mut tcp, &wire);
        tcp.flush().unwrap();
        let _ = std::io::Read::read(&mut tcp, &mut [0; 64]);
    });
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let frames = [
        within(ws.recv_frame()).await.unwrap(),
        within(ws.recv_frame()).await.unwrap(),
        within(ws.recv_frame()).await.unwrap(),
    ];
    let got: Vec<_> = frames
        .iter()
        .map(|f| (f.fin, f.opcode, f.payload.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            (Fin::More, OpCode::Text, &b"Frag"[..]),
            (Fin::Final, OpCode::Ping, &b"ping"[..]),
            (Fin::Final, OpCode::Continuation, &b"ment"[..]),
        ]
    );
    drop(ws);
    peer.join();
}

#[tokio::test]
async fn writes_wait_for_a_peer_that_does_not_read() {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let rx = std::sync::Mutex::new(rx);
    let peer = tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, b"");
        // Reads nothing until the test is done.
        let _ = rx.lock().unwrap().recv_timeout(ws_tests::TIMEOUT);
    });
    let ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let chunk = Message::Binary(vec![1; 1 << 20]);
    let mut queued = 0;
    // 256 MiB cannot fit in socket buffers: a bounded write buffer makes `write` wait.
    let filled = tokio::time::timeout(Duration::from_secs(2), async {
        for _ in 0..256 {
            ws.write(&chunk).await.unwrap();
            queued += 1;
        }
    })
    .await;
    assert!(
        filled.is_err(),
        "all 256 MiB were accepted without a reader"
    );
    assert!(queued < 256);
    tx.send(()).unwrap();
    drop(ws);
    peer.join();
}
