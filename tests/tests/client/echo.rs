//! Messages of every kind and size make the round trip through a tungstenite echo server.

use ws_client::{CloseCode, Message};
use ws_tests::{Tls, echo, ws_server};

use crate::{client, tls_client};

#[test]
fn echoes_text_binary_and_empty_messages() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(ws.status(), 101);
    let messages = [
        Message::Text("héllo wörld".into()),
        Message::Binary(vec![0, 1, 2, 255]),
        Message::Text(String::new()),
        Message::Binary(Vec::new()),
        Message::Text("x".repeat(70_000)),
        Message::Binary(vec![7; 200]),
    ];
    for message in &messages {
        ws.send(message).unwrap();
        assert_eq!(&ws.recv().unwrap(), message);
    }
    ws.send_text("text").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("text".into()));
    ws.send_binary(b"bin").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(b"bin".to_vec()));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn echoes_16_mib_messages() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let binary: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
    ws.send_binary(&binary).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(binary));
    let text = "ü".repeat(8 << 20);
    ws.send_text(&text).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text(text));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn echoes_over_tls() {
    let peer = ws_server(1, Tls::On, &[], echo);
    let mut ws = tls_client().connect(&peer.wss_url("/")).unwrap();
    assert!(ws.is_tls());
    ws.send_text("secret hello").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("secret hello".into()));
    let big = vec![3; 1 << 20];
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn batched_writes_arrive_in_order_after_flush() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    for i in 0..1000 {
        ws.write(&Message::Text(format!("m{i}"))).unwrap();
    }
    ws.flush().unwrap();
    for i in 0..1000 {
        assert_eq!(ws.recv().unwrap(), Message::Text(format!("m{i}")));
    }
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn messages_iterator_yields_until_the_peer_closes() {
    let peer = ws_server(1, Tls::Off, &[], |ws| {
        for i in 0..3 {
            ws.send(tungstenite::Message::text(format!("n{i}")))
                .unwrap();
        }
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let got: Vec<Message> = ws.messages().map(Result::unwrap).collect();
    assert_eq!(
        got,
        [
            Message::Text("n0".into()),
            Message::Text("n1".into()),
            Message::Text("n2".into()),
            Message::Close(None),
        ]
    );
    peer.join();
}

#[test]
fn a_full_write_buffer_is_written_without_flush() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = client()
        .write_buffer_size(4096)
        .connect(&peer.url("/"))
        .unwrap();
    // 100 messages of 100 bytes overflow a 4 KiB buffer: the first ones go out (and come
    // back) without any flush.
    for i in 0..100 {
        ws.write(&Message::Binary(vec![i; 100])).unwrap();
    }
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![0; 100]));
    ws.flush().unwrap();
    for i in 1..100 {
        assert_eq!(ws.recv().unwrap(), Message::Binary(vec![i; 100]));
    }
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}
