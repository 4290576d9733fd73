//! Connecting: redirects, bad status with body, refused connections, exact errors.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ws_client::{Error, Message, RequestOptions, SocketOptions};
use ws_tests::{PythonPeer, read_request_head, tcp_server};

use crate::{client, net, within};

#[tokio::test]
async fn redirect_is_followed_to_the_python_server() {
    let target = PythonPeer::start();
    let location = target.url("/landing");
    let peer = tcp_server(1, move |mut tcp| {
        read_request_head(&mut tcp);
        write!(
            tcp,
            "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
    });
    let mut ws = within(client().connect_async(&peer.url("/start")))
        .await
        .unwrap();
    assert_eq!(ws.url(), target.url("/landing"));
    ws.send_text("after redirect").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("after redirect".into())
    );
    peer.join();
}

#[tokio::test]
async fn redirect_loop_stops_at_the_limit() {
    let peer = tcp_server(3, |mut tcp| {
        read_request_head(&mut tcp);
        let port = tcp.local_addr().unwrap().port();
        write!(
            tcp,
            "HTTP/1.1 301 Moved\r\nLocation: ws://127.0.0.1:{port}/again\r\n\
             Content-Length: 0\r\n\r\n"
        )
        .unwrap();
    });
    let err = within(client().redirect_limit(2).connect_async(&peer.url("/")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RedirectLimit { limit: 2, .. }),
        "{err:?}"
    );
    peer.join();
}

#[tokio::test]
async fn bad_status_carries_headers_and_body() {
    let peer = tcp_server(1, |mut tcp| {
        read_request_head(&mut tcp);
        tcp.write_all(
            b"HTTP/1.1 403 Forbidden\r\nX-Why: token\r\nContent-Length: 12\r\n\r\nnot for you!",
        )
        .unwrap();
    });
    let err = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap_err();
    match err {
        Error::BadStatus {
            status,
            reason,
            headers,
            body,
        } => {
            assert_eq!((status, reason.as_str()), (403, "Forbidden"));
            assert!(headers.iter().any(|(n, v)| n == "X-Why" && v == "token"));
            assert_eq!(body, b"not for you!");
        }
        other => panic!("expected BadStatus, got {other:?}"),
    }
    peer.join();
}

#[tokio::test]
async fn refused_connection_is_a_net_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let err = within(client().connect_async(&format!("ws://127.0.0.1:{port}/")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Net(_)), "{err:?}");
}

#[tokio::test]
async fn silent_server_is_cut_by_the_deadline() {
    let peer = tcp_server(1, |mut tcp| {
        read_request_head(&mut tcp);
        // Never answers; waits for the client to give up.
        let _ = std::io::Read::read(&mut tcp, &mut [0; 1]);
    });
    let err = within(
        client()
            .deadline(Some(std::time::Duration::from_millis(300)))
            .connect_async(&peer.url("/")),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                op: ws_client::Op::Handshake,
                ..
            }
        ),
        "{err:?}"
    );
    peer.join();
}

#[tokio::test]
async fn an_untrusted_certificate_fails_with_unknown_issuer() {
    let peer = ws_tests::ws_server(1, ws_tests::Tls::On, &[], ws_tests::echo);
    let err = within(client().connect_async(&peer.wss_url("/")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Tls(ws_client::TlsError::UnknownIssuer { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn every_request_option_reaches_the_server_and_the_mask_key_source_is_used() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = tcp_server(1, move |mut tcp| {
        let head = ws_tests::accept_raw(&mut tcp, b"");
        let frame = ws_tests::read_client_frame(&mut tcp);
        tx.send((head, frame)).unwrap();
    });
    let ws = within(
        client()
            .request(
                RequestOptions::new()
                    .header("X-Custom", "one")
                    .cookie("session=abc")
                    .origin(ws_client::Origin::Custom("https://app.example".into()))
                    .host(ws_client::HostHeader::Custom("front.example".into()))
                    .subprotocols(["chat", "superchat"]),
            )
            .header_fn(|| vec![("X-Token".to_owned(), "fresh".to_owned())])
            .mask_key_fn(|| [1, 2, 3, 4])
            .connect_async(&peer.url("/path?q=1")),
    )
    .await
    .unwrap();
    ws.send_text("masked").await.unwrap();
    let (head, frame) = rx.recv_timeout(ws_tests::TIMEOUT).unwrap();
    assert!(head.starts_with("GET /path?q=1 HTTP/1.1\r\n"), "{head}");
    for (name, value) in [
        ("X-Custom", "one"),
        ("X-Token", "fresh"),
        ("Cookie", "session=abc"),
        ("Origin", "https://app.example"),
        ("Host", "front.example"),
        ("Sec-WebSocket-Protocol", "chat, superchat"),
    ] {
        assert_eq!(ws_tests::header_value(&head, name), Some(value), "{name}");
    }
    assert_eq!(frame.mask, Some([1, 2, 3, 4]));
    assert_eq!(frame.payload, b"masked");
    peer.join();
}

/// A tokio socket the caller connected carries the upgrade, with the socket options
/// (hooks included) applied to it.
#[tokio::test]
async fn a_pre_connected_tokio_socket_is_used_and_configured() {
    let peer = ws_tests::ws_server(1, ws_tests::Tls::Off, &[], ws_tests::echo);
    let tcp = within(tokio::net::TcpStream::connect(peer.addr))
        .await
        .unwrap();
    tcp.set_nodelay(false).unwrap();
    let hooked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hooked);
    let socket = SocketOptions::default().hook(Arc::new(move |fd| {
        assert!(
            socket2::SockRef::from(&fd).tcp_nodelay()?,
            "TCP_NODELAY not applied"
        );
        seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    let mut ws = within(
        client()
            .net(net().socket(socket))
            .connect_async_on(&peer.url("/"), tcp),
    )
    .await
    .unwrap();
    assert_eq!(hooked.load(Ordering::SeqCst), 1);
    ws.send_text("over my tokio socket").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("over my tokio socket".into())
    );
    within(ws.close(ws_client::CloseCode::NORMAL, "", None))
        .await
        .unwrap();
    peer.join();
}
