//! Lent messages (`recv_ref`) against real peers: the same messages as `recv`, pings
//! answered, the close echoed, invalid text failing the connection.

use ws_client::ws_frame::PayloadError;
use ws_client::{CloseCode, Error, Message, MessageRef};
use ws_tests::{Tls, accept_raw, echo, read_client_frame, server_frame, tcp_server, ws_server};

use crate::client;

#[test]
fn recv_ref_gives_every_kind_and_size_as_recv_does() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let messages = [
        Message::Text("héllo wörld".into()),
        Message::Binary(vec![0, 1, 2, 255]),
        Message::Text(String::new()),
        Message::Binary(Vec::new()),
        Message::Text("ü".repeat(70_000)),
        Message::Binary((0..300_000).map(|i: u32| (i % 251) as u8).collect()),
        Message::Binary(vec![7; 200]),
        Message::Binary(vec![8; 100_000]),
    ];
    for message in &messages {
        ws.send(message).unwrap();
        assert_eq!(&Message::from(ws.recv_ref().unwrap()), message);
    }
    // Pipelined: a batch written at once, lent back one by one.
    for i in 0..1000 {
        ws.write(&Message::Binary(format!("m{i}").into_bytes()))
            .unwrap();
    }
    ws.flush().unwrap();
    for i in 0..1000 {
        assert_eq!(
            ws.recv_ref().unwrap(),
            MessageRef::Binary(format!("m{i}").as_bytes())
        );
    }
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn recv_ref_answers_pings_skips_them_and_echoes_the_close() {
    let peer = tcp_server(1, |mut tcp| {
        let mut frames = server_frame(false, 1, b"frag");
        frames.extend(server_frame(true, 9, b"are you there"));
        frames.extend(server_frame(true, 0, "mënted".as_bytes()));
        frames.extend(server_frame(true, 2, &vec![5; 20_000]));
        frames.extend(server_frame(true, 8, &[0x03, 0xe9, b'b', b'y', b'e']));
        accept_raw(&mut tcp, &frames);
        let pong = read_client_frame(&mut tcp);
        assert_eq!(
            (pong.opcode, pong.payload.as_slice()),
            (10, &b"are you there"[..])
        );
        let close = read_client_frame(&mut tcp);
        assert_eq!((close.opcode, close.close_code()), (8, Some(1001)));
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(ws.recv_ref().unwrap(), MessageRef::Text("fragmënted"));
    assert_eq!(ws.recv_ref().unwrap(), MessageRef::Binary(&vec![5; 20_000]));
    assert_eq!(
        ws.recv_ref().unwrap(),
        MessageRef::Close(Some((CloseCode::GOING_AWAY, "bye")))
    );
    assert!(matches!(
        ws.recv_ref(),
        Err(Error::ConnectionClosed {
            code: Some(CloseCode::GOING_AWAY),
            ..
        })
    ));
    peer.join();
}

#[test]
fn recv_ref_fails_invalid_text_with_1007() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, &server_frame(true, 1, &[b'o', b'k', 0xff]));
        let close = read_client_frame(&mut tcp);
        assert_eq!((close.opcode, close.close_code()), (8, Some(1007)));
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let err = ws.recv_ref().unwrap_err();
    assert!(
        matches!(err, Error::Payload(PayloadError::InvalidUtf8 { offset: 2 })),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn recv_ref_reports_a_lost_connection_as_1006() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, &server_frame(true, 2, b"last"));
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(ws.recv_ref().unwrap(), MessageRef::Binary(b"last"));
    peer.join();
    assert!(matches!(
        ws.recv_ref(),
        Err(Error::ConnectionClosed {
            code: Some(CloseCode::ABNORMAL),
            ..
        })
    ));
}
