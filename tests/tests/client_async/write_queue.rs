//! `write` queues and `flush` writes: small messages batch into one write, none of them
//! reaches the wire before the flush (or a full write buffer).

use std::io::ErrorKind;
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use ws_client::Message;
use ws_tests::{TIMEOUT, accept_raw, read_client_frame, tcp_server};

use crate::{client, within};

#[tokio::test]
async fn written_messages_stay_queued_until_the_flush() {
    let (written_tx, written_rx) = mpsc::channel::<()>();
    let (quiet_tx, quiet_rx) = mpsc::channel::<bool>();
    let channels = Mutex::new((written_rx, quiet_tx));
    let peer = tcp_server(1, move |mut tcp| {
        let (written_rx, quiet_tx) = &*channels.lock().unwrap();
        accept_raw(&mut tcp, b"");
        written_rx.recv_timeout(TIMEOUT).unwrap();
        // Nothing may arrive before the flush: a generous wait for a byte that must not come.
        tcp.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let mut byte = [0; 1];
        let quiet = matches!(
            tcp.peek(&mut byte),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
        );
        quiet_tx.send(quiet).unwrap();
        tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
        for i in 0..3u8 {
            let frame = read_client_frame(&mut tcp);
            assert_eq!((frame.opcode, frame.payload), (2, vec![i; 10]));
        }
    });
    let ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    for i in 0..3u8 {
        within(ws.write(&Message::Binary(vec![i; 10])))
            .await
            .unwrap();
    }
    written_tx.send(()).unwrap();
    let quiet = quiet_rx.recv_timeout(TIMEOUT).unwrap();
    assert!(quiet, "a written message reached the wire before the flush");
    within(ws.flush()).await.unwrap();
    peer.join();
}
