//! Messages both ways with independent servers: Python `websockets` (plain and with
//! permessage-deflate) and tungstenite over rustls; the `Stream`/`Sink` face.

use futures_util::{SinkExt, StreamExt};
use ws_client::{CloseCode, DeflateOptions, Message, RequestOptions};
use ws_tests::{PythonPeer, Tls, echo, ws_server};

use crate::{client, tls_client, within};

#[tokio::test]
async fn python_echo_with_async_fns_and_subprotocol() {
    let peer = PythonPeer::start();
    let mut ws = within(
        client()
            .request(RequestOptions::new().subprotocols(["chat"]))
            .connect_async(&peer.url("/")),
    )
    .await
    .unwrap();
    assert_eq!(ws.status(), 101);
    assert_eq!(ws.subprotocol(), Some("chat"));
    assert!(ws.header("upgrade").is_some());
    ws.send_text("héllo").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("héllo".into())
    );
    let big = vec![7u8; 3 * 1024 * 1024];
    ws.send_binary(&big).await.unwrap();
    assert_eq!(within(ws.recv()).await.unwrap(), Message::Binary(big));
    ws.ping(b"p").await.unwrap();
    assert_eq!(
        within(ws.recv_with_control()).await.unwrap(),
        Message::Pong(b"p".to_vec())
    );
    within(ws.close(CloseCode::NORMAL, "bye", Some(ws_tests::TIMEOUT)))
        .await
        .unwrap();
    let close = ws.close_frame().expect("the server answered the close");
    assert_eq!(close.code, Some(CloseCode::NORMAL));
    assert!(!ws.is_open());
}

#[tokio::test]
async fn python_fragments_reassemble_through_the_stream() {
    let peer = PythonPeer::start();
    let mut ws = within(client().connect_async(&peer.url("/fragments")))
        .await
        .unwrap();
    assert_eq!(
        within(ws.next()).await.unwrap().unwrap(),
        Message::Text("fragmented message".into())
    );
}

#[tokio::test]
async fn sink_batches_and_stream_yields_in_order() {
    let peer = PythonPeer::start();
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    for i in 0..100 {
        SinkExt::feed(&mut ws, Message::Text(format!("m{i}")))
            .await
            .unwrap();
    }
    within(SinkExt::flush(&mut ws)).await.unwrap();
    for i in 0..100 {
        let got = within(ws.next()).await.unwrap().unwrap();
        assert_eq!(got, Message::Text(format!("m{i}")));
    }
    // Sink::close sends a close frame; the stream yields the answer once, then ends.
    within(SinkExt::close(&mut ws)).await.unwrap();
    assert!(matches!(
        within(ws.next()).await,
        Some(Ok(Message::Close(Some((CloseCode::NORMAL, _)))))
    ));
    assert!(within(ws.next()).await.is_none());
}

#[tokio::test]
async fn wss_echo_with_tungstenite_over_rustls() {
    let peer = ws_server(1, Tls::On, &[], echo);
    let ws = within(tls_client().connect_async(&peer.wss_url("/")))
        .await
        .unwrap();
    assert!(ws.is_tls());
    let (mut reader, sender) = ws.split();
    sender.send_text("over tls").await.unwrap();
    assert_eq!(
        within(reader.recv()).await.unwrap(),
        Message::Text("over tls".into())
    );
    sender.send_close(CloseCode::NORMAL, "").await.unwrap();
    assert!(matches!(
        within(reader.recv()).await.unwrap(),
        Message::Close(Some((CloseCode::NORMAL, _)))
    ));
    drop((reader, sender));
    peer.join();
}

#[tokio::test]
async fn deflate_with_python_websockets() {
    let peer = PythonPeer::start_script("ws_deflate_server.py");
    let mut ws = within(
        client()
            .deflate(Some(DeflateOptions::default()))
            .connect_async(&peer.url("/")),
    )
    .await
    .unwrap();
    assert!(ws.is_compressed());
    let text = "compress me ".repeat(1000);
    for _ in 0..3 {
        ws.send_text(&text).await.unwrap();
        assert_eq!(
            within(ws.recv()).await.unwrap(),
            Message::Text(text.clone())
        );
    }
    within(ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT)))
        .await
        .unwrap();
    assert_eq!(ws.close_frame().unwrap().code, Some(CloseCode::NORMAL));
}

#[tokio::test]
async fn sink_start_send_without_poll_ready_is_refused() {
    use futures_util::sink::Sink;

    let peer = PythonPeer::start();
    let ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let mut sender = ws.sender();
    let err = std::pin::Pin::new(&mut sender)
        .start_send(Message::Text("early".into()))
        .unwrap_err();
    assert!(
        matches!(
            err,
            ws_client::Error::InvalidOption(ws_client::OptionError::Misuse(_))
        ),
        "{err:?}"
    );
    // The proper sequence works on the same sender.
    SinkExt::send(&mut sender, Message::Text("in order".into()))
        .await
        .unwrap();
    let mut ws = ws;
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("in order".into())
    );
}
