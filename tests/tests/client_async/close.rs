//! The closing handshake both ways, and what follows it.

use ws_client::{CloseCode, Error, Message};
use ws_tests::{PythonPeer, accept_raw, read_client_frame, tcp_server};

use crate::{client, within};

#[tokio::test]
async fn server_closes_first_and_the_echo_goes_back() {
    let peer = PythonPeer::start();
    let mut ws = within(client().connect_async(&peer.url("/close")))
        .await
        .unwrap();
    let got = within(ws.recv()).await.unwrap();
    assert_eq!(
        got,
        Message::Close(Some((CloseCode::from_raw(4000), "python says bye".into())))
    );
    let err = within(ws.recv()).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
    let err = ws.send_text("late").await.unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
    // close after the peer closed only shuts the stream down.
    within(ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT)))
        .await
        .unwrap();
}

#[tokio::test]
async fn close_to_a_silent_peer_is_bounded_by_its_timeout() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, b"");
        // Reads our close frame and never answers.
        tx.send(read_client_frame(&mut tcp)).unwrap();
        let _ = std::io::Read::read(&mut tcp, &mut [0; 16]);
    });
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let timeout = std::time::Duration::from_millis(300);
    within(ws.close(CloseCode::GOING_AWAY, "leaving", Some(timeout)))
        .await
        .unwrap();
    assert!(ws.close_frame().is_none());
    let frame = rx.recv_timeout(ws_tests::TIMEOUT).unwrap();
    assert_eq!((frame.opcode, frame.close_code()), (8, Some(1001)));
    assert_eq!(&frame.payload[2..], b"leaving");
    peer.join();
}

#[tokio::test]
async fn close_with_an_unsendable_code_sends_nothing() {
    let peer = PythonPeer::start();
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let err = ws
        .close(CloseCode::ABNORMAL, "", Some(ws_tests::TIMEOUT))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidFrame(_)), "{err:?}");
    // Still open: the echo works.
    ws.send_text("still here").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("still here".into())
    );
}

#[tokio::test]
async fn protocol_error_fails_with_1002_on_the_wire() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = tcp_server(1, move |mut tcp| {
        // A text frame with RSV2 set: no extension allows it.
        accept_raw(&mut tcp, &[0xa1, 0x01, b'x']);
        tx.send(read_client_frame(&mut tcp)).unwrap();
    });
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let err = within(ws.recv()).await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    let frame = rx.recv_timeout(ws_tests::TIMEOUT).unwrap();
    assert_eq!((frame.opcode, frame.close_code()), (8, Some(1002)));
    peer.join();
}
