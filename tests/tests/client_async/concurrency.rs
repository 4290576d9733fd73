//! Many tasks sending through clones of one [`AsyncSender`] while another task receives,
//! over `ws://` and `wss://` on a multi-threaded runtime: every message arrives once,
//! whole and in order per sender; and a close sent from a third task in the middle ends
//! every party promptly with `Error::ConnectionClosed`. (`split.rs` covers the halves'
//! types, pings answered under load and the Python peer.)

use std::time::Instant;

use tokio::sync::oneshot;
use ws_client::{AsyncReader, AsyncSender, AsyncWebSocket, CloseCode, Error, Message};
use ws_tests::faults::assert_prompt;
use ws_tests::{Peer, Tls, check_batches, check_tagged, echo, tagged_payload, ws_server};

use crate::{client, tls_client, within};

/// How many tasks send at once.
const TASKS: usize = 16;

async fn connect(tls: Tls, peer: &Peer) -> AsyncWebSocket {
    let connecting = match tls {
        Tls::Off => within(client().connect_async(&peer.url("/"))).await,
        Tls::On => within(tls_client().connect_async(&peer.wss_url("/"))).await,
    };
    connecting.unwrap()
}

/// Starts `TASKS` tasks sending [`tagged_payload`]s through clones of `sender`: `each`
/// messages, or until a send fails when `each` is `None` (the task then returns how many
/// it sent and the error).
fn senders(
    sender: &AsyncSender,
    each: Option<usize>,
) -> Vec<tokio::task::JoinHandle<(usize, Option<Error>)>> {
    (0..TASKS)
        .map(|t| {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut seq = 0;
                while each.is_none_or(|each| seq < each) {
                    if let Err(e) = sender.send_binary(&tagged_payload(t, seq)).await {
                        return (seq, Some(e));
                    }
                    seq += 1;
                }
                (seq, None)
            })
        })
        .collect()
}

/// Receives `n` binary messages, each within the test's timeout.
async fn recv_binaries(reader: &mut AsyncReader, n: usize) -> Vec<Vec<u8>> {
    let mut got = Vec::with_capacity(n);
    for _ in 0..n {
        match within(reader.recv()).await.unwrap() {
            Message::Binary(data) => got.push(data),
            other => panic!("unexpected {other:?}"),
        }
    }
    got
}

async fn many_tasks_send_while_one_receives(tls: Tls) {
    const EACH: usize = 24;
    let peer = ws_server(1, tls, &[], echo);
    let (mut reader, sender) = connect(tls, &peer).await.split();
    // The reader runs in its own task and waits before any echo can arrive.
    let reading = tokio::spawn(async move {
        let got = recv_binaries(&mut reader, TASKS * EACH).await;
        (reader, got)
    });
    for task in senders(&sender, Some(EACH)) {
        let (sent, err) = within(task).await.unwrap();
        assert_eq!((sent, err.is_none()), (EACH, true), "{err:?}");
    }
    let (mut reader, got) = within(reading).await.unwrap();
    assert_eq!(check_tagged(&got, TASKS), [EACH; TASKS]);
    sender.send_close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        within(reader.recv()).await.unwrap(),
        Message::Close(_)
    ));
    peer.join();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_send_through_clones_while_one_receives_over_ws() {
    many_tasks_send_while_one_receives(Tls::Off).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_send_through_clones_while_one_receives_over_wss() {
    many_tasks_send_while_one_receives(Tls::On).await;
}

async fn close_from_a_third_task_ends_every_party(tls: Tls) {
    let peer = ws_server(1, tls, &[], echo);
    let (mut reader, sender) = connect(tls, &peer).await.split();
    let (first_tx, first_rx) = oneshot::channel();
    let reading = tokio::spawn(async move {
        let mut got = Vec::new();
        let mut first = Some(first_tx);
        loop {
            match within(reader.recv()).await {
                Ok(Message::Binary(data)) => {
                    got.push(data);
                    if let Some(tx) = first.take() {
                        tx.send(()).unwrap();
                    }
                }
                Ok(Message::Close(close)) => {
                    let after = within(reader.recv()).await;
                    return (got, close, after);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let sending = senders(&sender, None);
    within(first_rx).await.unwrap();
    let start = Instant::now();
    let closer = {
        let sender = sender.clone();
        tokio::spawn(async move { sender.send_close(CloseCode::NORMAL, "stop").await })
    };
    within(closer).await.unwrap().unwrap();
    for task in sending {
        let (sent, err) = within(task).await.unwrap();
        assert!(
            matches!(err, Some(Error::ConnectionClosed { code: None, .. })),
            "a sender ended with {err:?} after {sent} messages"
        );
    }
    let (got, close, after) = within(reading).await.unwrap();
    assert_prompt(start, "ending every party after the close");
    assert_eq!(close, Some((CloseCode::NORMAL, "stop".to_owned())));
    assert!(
        matches!(after, Err(Error::ConnectionClosed { .. })),
        "{after:?}"
    );
    // Whatever arrived before the close arrived whole, once and in order per sender.
    check_tagged(&got, TASKS);
    peer.join();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_from_a_third_task_ends_every_party_over_ws() {
    close_from_a_third_task_ends_every_party(Tls::Off).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_from_a_third_task_ends_every_party_over_wss() {
    close_from_a_third_task_ends_every_party(Tls::On).await;
}

/// Tasks each sending their messages as one `send_batch` batch: every batch arrives whole
/// and in order, and no other task's message lands inside it.
async fn batches_from_concurrent_tasks(tls: Tls) {
    const BATCHES: usize = 4;
    const EACH: usize = 40;
    let peer = ws_server(1, tls, &[], echo);
    let (mut reader, sender) = connect(tls, &peer).await.split();
    let reading = tokio::spawn(async move { recv_binaries(&mut reader, BATCHES * EACH).await });
    let tasks: Vec<_> = (0..BATCHES)
        .map(|t| {
            let sender = sender.clone();
            tokio::spawn(async move {
                let batch: Vec<Message> = (0..EACH)
                    .map(|seq| Message::Binary(tagged_payload(t, seq)))
                    .collect();
                sender.send_batch(&batch).await
            })
        })
        .collect();
    for task in tasks {
        within(task).await.unwrap().unwrap();
    }
    let got = within(reading).await.unwrap();
    check_batches(&got, BATCHES, EACH);
    sender.send_close(CloseCode::NORMAL, "").await.unwrap();
    drop(sender);
    peer.join();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_from_many_tasks_never_interleave_over_ws() {
    batches_from_concurrent_tasks(Tls::Off).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_from_many_tasks_never_interleave_over_wss() {
    batches_from_concurrent_tasks(Tls::On).await;
}

#[tokio::test]
async fn send_batch_sends_what_precedes_a_refused_message_and_nothing_after() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = connect(Tls::Off, &peer).await;
    let batch = [
        Message::Text("first".to_owned()),
        Message::Ping(vec![0; 126]),
        Message::Text("never sent".to_owned()),
    ];
    let err = ws.send_batch(&batch).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidFrame(ws_frame::SendError::ControlFrameTooLong {
                opcode: ws_client::OpCode::Ping,
                len: 126
            })
        ),
        "{err:?}"
    );
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("first".to_owned())
    );
    ws.send_text("after").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("after".to_owned())
    );
    within(ws.close(CloseCode::NORMAL, "", None)).await.unwrap();
    peer.join();
}
