//! Split halves and cloned senders from many tasks: per-sender order kept, nothing lost,
//! frames never interleaved (the echo server would fail on a torn frame).

use std::collections::HashMap;

use ws_client::{CloseCode, Message};
use ws_tests::{PythonPeer, Tls, echo, ws_server};

use crate::{client, tls_client, within};

const TASKS: usize = 4;
const EACH: usize = 300;

/// Sends `EACH` messages from each of `TASKS` tasks (some large, to cross chunk
/// boundaries) while the reading half receives them all.
async fn concurrent_senders(ws: ws_client::AsyncWebSocket) {
    let (mut reader, sender) = ws.split();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                let pad = if i % 50 == 0 { 200_000 } else { i % 7 };
                let text = format!("{t}:{i}:{}", "x".repeat(pad));
                sender.send_text(&text).await.unwrap();
            }
        }));
    }
    let mut next: HashMap<usize, usize> = HashMap::new();
    for _ in 0..TASKS * EACH {
        let Message::Text(text) = within(reader.recv()).await.unwrap() else {
            panic!("expected text");
        };
        let mut parts = text.splitn(3, ':');
        let t: usize = parts.next().unwrap().parse().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let expected = next.entry(t).or_insert(0);
        assert_eq!(i, *expected, "sender {t} out of order");
        *expected += 1;
    }
    for task in tasks {
        within(task).await.unwrap();
    }
    assert!(next.values().all(|&n| n == EACH));
    sender.send_close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        within(reader.recv()).await.unwrap(),
        Message::Close(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_over_ws() {
    let peer = PythonPeer::start();
    let ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    concurrent_senders(ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_senders_over_wss() {
    let peer = ws_server(1, Tls::On, &[], echo);
    let ws = within(tls_client().connect_async(&peer.wss_url("/")))
        .await
        .unwrap();
    concurrent_senders(ws).await;
    peer.join();
}

#[test]
fn the_halves_are_send_and_the_sender_sync_and_clone() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn clone<T: Clone>() {}
    send::<ws_client::AsyncWebSocket>();
    send::<ws_client::AsyncReader>();
    send::<ws_client::AsyncSender>();
    sync::<ws_client::AsyncSender>();
    clone::<ws_client::AsyncSender>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_are_answered_while_other_tasks_hold_the_writer() {
    use std::io::Write;

    use ws_tests::{accept_raw, read_client_frame, server_frame, tcp_server};

    const PINGS: usize = 50;
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        for i in 0..PINGS {
            tcp.write_all(&server_frame(true, 9, format!("p{i}").as_bytes()))
                .unwrap();
        }
        let mut pongs = Vec::new();
        let mut data = 0;
        while pongs.len() < PINGS || data < TASKS * EACH {
            let frame = read_client_frame(&mut tcp);
            match frame.opcode {
                10 => pongs.push(String::from_utf8(frame.payload).unwrap()),
                1 => data += 1,
                other => panic!("unexpected opcode {other}"),
            }
        }
        // Every ping answered, in order (50 is below the engine's cap on waiting replies).
        let expected: Vec<_> = (0..PINGS).map(|i| format!("p{i}")).collect();
        assert_eq!(pongs, expected);
        tcp.write_all(&server_frame(true, 1, b"done")).unwrap();
        let _ = read_client_frame(&mut tcp);
    });
    let ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let (mut reader, sender) = ws.split();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let sender = sender.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                sender.send_text(&format!("{t}:{i}")).await.unwrap();
            }
        }));
    }
    assert_eq!(
        within(reader.recv()).await.unwrap(),
        Message::Text("done".into())
    );
    for task in tasks {
        within(task).await.unwrap();
    }
    sender.send_close(CloseCode::NORMAL, "").await.unwrap();
    peer.join();
}
