//! The closing handshake of RFC 6455 section 7, started by either side, and connections
//! that end without one.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use ws_client::{CloseCode, Error, Message};
use ws_tests::{Tls, accept_raw, read_client_frame, server_frame, tcp_server, ws_server};

use crate::client;

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

#[test]
fn client_close_sends_code_and_reason_and_waits_for_the_echo() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = ws_server(1, Tls::Off, &[], move |ws| {
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Close(frame)) => {
                    let frame = frame.unwrap();
                    tx.send((u16::from(frame.code), frame.reason.to_string()))
                        .unwrap();
                }
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let code = CloseCode::try_from(4001).unwrap();
    ws.close(code, "bye now", Some(ws_tests::TIMEOUT)).unwrap();
    assert_eq!(
        rx.recv_timeout(ws_tests::TIMEOUT).unwrap(),
        (4001, "bye now".to_owned())
    );
    assert_eq!(ws.close_frame().unwrap().code, Some(code));
    assert!(!ws.is_open());
    assert!(matches!(
        ws.send_text("late"),
        Err(Error::ConnectionClosed { .. })
    ));
    peer.join();
}

#[test]
fn server_close_is_echoed_with_its_code_and_close_still_shuts_down() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(
            &mut tcp,
            &server_frame(true, 8, &close_payload(4000, "server bye")),
        );
        let reply = read_client_frame(&mut tcp);
        assert_eq!(reply.opcode, 8);
        assert_eq!(reply.close_code(), Some(4000), "the client echoes our code");
        assert!(reply.mask.is_some());
        drop(tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Close(Some((
            CloseCode::try_from(4000).unwrap(),
            "server bye".into()
        )))
    );
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionClosed { code: Some(c), reason, .. } if u16::from(*c) == 4000 && reason == "server bye"),
        "{err:?}"
    );
    // Unlike Python, close() after the server closed first still ends the connection.
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();
    assert!(!ws.is_open());
    peer.join();
}

#[test]
fn data_received_before_the_close_is_delivered_first() {
    let peer = tcp_server(1, |mut tcp| {
        let mut frames = server_frame(true, 1, b"last words");
        frames.extend(server_frame(true, 8, &close_payload(1001, "")));
        accept_raw(&mut tcp, &frames);
        let _ = read_client_frame(&mut tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("last words".into()));
    assert_eq!(
        ws.recv().unwrap(),
        Message::Close(Some((CloseCode::GOING_AWAY, String::new())))
    );
    peer.join();
}

#[test]
fn tcp_closed_without_close_frame_is_an_abnormal_close() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        tcp.flush().unwrap();
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConnectionClosed {
                code: Some(CloseCode::ABNORMAL),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(ws.recv(), Err(Error::ConnectionClosed { .. })));
    peer.join();
}

#[test]
fn close_gives_up_after_its_timeout_when_the_peer_never_answers() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let frame = read_client_frame(&mut tcp);
        assert_eq!((frame.opcode, frame.close_code()), (8, Some(1000)));
        // Say nothing; the client must shut the connection down by itself.
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).unwrap();
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let start = Instant::now();
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_millis(300)))
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(ws.close_frame().is_none());
    peer.join();
}

#[test]
fn shutdown_ends_the_connection_without_a_handshake() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let mut rest = Vec::new();
        tcp.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "no close frame is sent: {rest:?}");
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    ws.shutdown();
    ws.shutdown();
    assert!(!ws.is_open());
    assert!(matches!(ws.recv(), Err(Error::ConnectionClosed { .. })));
    assert!(matches!(
        ws.send_text("x"),
        Err(Error::ConnectionClosed { .. })
    ));
    // close() on a shut connection is a no-op.
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}
