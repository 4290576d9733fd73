//! Full duplex: sending from other threads while one thread blocks in `recv`, over `ws://`
//! and `wss://`, with frames that never interleave.

use std::io::Read;
use std::sync::mpsc;
use std::thread;

use ws_client::{CloseCode, Error, Message, OpCode, Reader, WebSocket};
use ws_frame::SendError;
use ws_tests::{
    Peer, TIMEOUT, Tls, accept_raw, check_batches, check_tagged, echo, tagged_payload, tcp_server,
    ws_server,
};

use crate::{client, tls_client};

fn connect(tls: Tls, peer: &Peer) -> WebSocket {
    match tls {
        Tls::Off => client().connect(&peer.url("/")).unwrap(),
        Tls::On => tls_client().connect(&peer.wss_url("/")).unwrap(),
    }
}

/// Receives `n` binary messages.
fn recv_binaries(reader: &mut Reader, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| match reader.recv().unwrap() {
            Message::Binary(data) => data,
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn concurrent_senders_and_a_blocked_reader(tls: Tls) {
    const THREADS: usize = 4;
    const EACH: usize = 40;
    let peer = ws_server(1, tls, &[], echo);
    let ws = connect(tls, &peer);
    let (mut reader, sender) = ws.split();
    let (tx, rx) = mpsc::channel();
    // The reader starts first and blocks until the echoes arrive.
    let reading = thread::spawn(move || {
        tx.send(recv_binaries(&mut reader, THREADS * EACH)).unwrap();
    });
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let sender = sender.clone();
            thread::spawn(move || {
                for seq in 0..EACH {
                    sender.send_binary(&tagged_payload(t, seq)).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let got = rx.recv_timeout(TIMEOUT).unwrap();
    reading.join().unwrap();
    let next = check_tagged(&got, THREADS);
    assert_eq!(next, [EACH; THREADS]);
    sender.send_close(CloseCode::NORMAL, "").unwrap();
    peer.join();
}

#[test]
fn split_halves_work_from_several_threads_over_ws() {
    concurrent_senders_and_a_blocked_reader(Tls::Off);
}

#[test]
fn split_halves_work_from_several_threads_over_wss() {
    concurrent_senders_and_a_blocked_reader(Tls::On);
}

/// Several threads each send their messages as one `send_batch` batch: every batch arrives
/// whole and in order, and no other thread's message lands inside it.
fn batches_from_concurrent_senders(tls: Tls) {
    const THREADS: usize = 3;
    const EACH: usize = 60;
    let peer = ws_server(1, tls, &[], echo);
    let ws = connect(tls, &peer);
    let (mut reader, sender) = ws.split();
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let sender = sender.clone();
            thread::spawn(move || {
                let batch: Vec<Message> = (0..EACH)
                    .map(|seq| Message::Binary(tagged_payload(t, seq)))
                    .collect();
                sender.send_batch(&batch).unwrap();
            })
        })
        .collect();
    let got = recv_binaries(&mut reader, THREADS * EACH);
    for w in writers {
        w.join().unwrap();
    }
    check_batches(&got, THREADS, EACH);
    sender.send_close(CloseCode::NORMAL, "").unwrap();
    peer.join();
}

#[test]
fn batches_from_several_threads_never_interleave_over_ws() {
    batches_from_concurrent_senders(Tls::Off);
}

#[test]
fn batches_from_several_threads_never_interleave_over_wss() {
    batches_from_concurrent_senders(Tls::On);
}

#[test]
fn send_batch_sends_what_precedes_a_refused_message_and_nothing_after() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = connect(Tls::Off, &peer);
    let batch = [
        Message::Text("first".to_owned()),
        Message::Binary(vec![7; 3]),
        Message::Ping(vec![0; 126]),
        Message::Text("never sent".to_owned()),
    ];
    let err = ws.send_batch(&batch).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidFrame(SendError::ControlFrameTooLong {
                opcode: OpCode::Ping,
                len: 126
            })
        ),
        "{err:?}"
    );
    assert_eq!(ws.recv().unwrap(), Message::Text("first".to_owned()));
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![7; 3]));
    // The connection is still usable, and the message after the refused one never left.
    ws.send_text("after").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("after".to_owned()));
    ws.close(CloseCode::NORMAL, "", Some(TIMEOUT)).unwrap();
    peer.join();
}

#[test]
fn send_batch_after_close_is_connection_closed() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let ws = connect(Tls::Off, &peer);
    ws.sender().send_close(CloseCode::NORMAL, "").unwrap();
    let err = ws
        .send_batch(&[Message::Text("late".to_owned())])
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
    drop(ws);
    peer.join();
}

fn sender_while_websocket_receives(tls: Tls) {
    let peer = ws_server(1, tls, &[], echo);
    let mut ws = connect(tls, &peer);
    let sender = ws.sender();
    let sending = thread::spawn(move || {
        for i in 0..50 {
            sender.send_text(&format!("ping {i}")).unwrap();
        }
    });
    for i in 0..50 {
        assert_eq!(ws.recv().unwrap(), Message::Text(format!("ping {i}")));
    }
    sending.join().unwrap();
    ws.close(CloseCode::NORMAL, "", Some(TIMEOUT)).unwrap();
    peer.join();
}

#[test]
fn sender_handle_sends_while_the_websocket_receives_over_ws() {
    sender_while_websocket_receives(Tls::Off);
}

#[test]
fn sender_handle_sends_while_the_websocket_receives_over_wss() {
    sender_while_websocket_receives(Tls::On);
}

#[test]
fn abort_wakes_a_thread_blocked_in_recv() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
    });
    // No read timeout: only abort() can end the recv.
    let ws = client().read_timeout(None).connect(&peer.url("/")).unwrap();
    let (mut reader, sender) = ws.split();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(reader.recv()).unwrap());
    sender.abort().unwrap();
    let result = rx.recv_timeout(TIMEOUT).expect("recv returned after abort");
    assert!(
        matches!(result, Err(Error::ConnectionClosed { .. })),
        "{result:?}"
    );
    peer.join();
}

/// Many threads send through clones of one sender while another receives; a close from a
/// third thread in the middle ends every party promptly: each sender's next send fails
/// with `ConnectionClosed`, the reader gets the server's close and then `ConnectionClosed`.
fn close_from_a_third_thread_ends_every_party(tls: Tls) {
    const THREADS: usize = 8;
    let peer = ws_server(1, tls, &[], echo);
    let ws = connect(tls, &peer);
    let (mut reader, sender) = ws.split();
    let (first_tx, first_rx) = mpsc::channel::<()>();
    let reading = thread::spawn(move || {
        let mut got = Vec::new();
        let mut first = Some(first_tx);
        loop {
            match reader.recv() {
                Ok(Message::Binary(data)) => {
                    got.push(data);
                    if let Some(tx) = first.take() {
                        tx.send(()).unwrap();
                    }
                }
                Ok(Message::Close(close)) => {
                    let after = reader.recv();
                    return (got, close, after);
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let writers: Vec<_> = (0..THREADS)
        .map(|t| {
            let sender = sender.clone();
            thread::spawn(move || {
                let mut seq = 0;
                loop {
                    match sender.send_binary(&tagged_payload(t, seq)) {
                        Ok(()) => seq += 1,
                        Err(e) => return (seq, e),
                    }
                }
            })
        })
        .collect();
    first_rx.recv_timeout(TIMEOUT).unwrap();
    let closer = {
        let sender = sender.clone();
        thread::spawn(move || sender.send_close(CloseCode::NORMAL, "stop"))
    };
    closer.join().unwrap().unwrap();
    for w in writers {
        let (sent, err) = w.join().unwrap();
        assert!(
            matches!(err, Error::ConnectionClosed { code: None, .. }),
            "a sender ended with {err:?} after {sent} messages"
        );
    }
    let (got, close, after) = reading.join().unwrap();
    assert_eq!(close, Some((CloseCode::NORMAL, "stop".to_owned())));
    assert!(
        matches!(after, Err(Error::ConnectionClosed { .. })),
        "{after:?}"
    );
    // Whatever arrived before the close arrived whole and in order per sender.
    check_tagged(&got, THREADS);
    peer.join();
}

#[test]
fn close_from_a_third_thread_ends_every_party_over_ws() {
    close_from_a_third_thread_ends_every_party(Tls::Off);
}

#[test]
fn close_from_a_third_thread_ends_every_party_over_wss() {
    close_from_a_third_thread_ends_every_party(Tls::On);
}
