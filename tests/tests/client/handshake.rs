//! The opening handshake: options that shape the request, redirects, statuses other than
//! 101, subprotocols, and pre-connected sockets.

use std::io::Write;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ws_client::{
    CloseCode, Error, HostHeader, Message, OptionError, Origin, RequestOptions, SocketOptions,
};
use ws_tests::{Tls, accept_raw, echo, header_value, read_request_head, tcp_server, ws_server};

use crate::{client, net};

#[test]
fn request_carries_the_configured_headers() {
    let (tx, rx) = std::sync::mpsc::channel();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let peer = tcp_server(1, move |mut tcp| {
        tx.send(accept_raw(&mut tcp, b"")).unwrap();
    });
    let url = format!("ws://alice:wonder%20land@{}/chat?room=1", peer.addr);
    let ws = client()
        .request(
            RequestOptions::new()
                .header("X-Custom", "one")
                .headers([("X-Second", "two")])
                .cookie("session=abc")
                .origin(Origin::Custom("https://app.example".into()))
                .host(HostHeader::Custom("virtual.example".into()))
                .subprotocols(["chat", "superchat"]),
        )
        .header_fn(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            vec![("X-Token".to_owned(), format!("token-{n}"))]
        })
        .connect(&url)
        .unwrap();
    let head = rx.recv_timeout(ws_tests::TIMEOUT).unwrap();
    assert!(head.starts_with("GET /chat?room=1 HTTP/1.1\r\n"), "{head}");
    assert_eq!(header_value(&head, "X-Custom"), Some("one"));
    assert_eq!(header_value(&head, "X-Second"), Some("two"));
    assert_eq!(header_value(&head, "X-Token"), Some("token-0"));
    assert_eq!(header_value(&head, "Cookie"), Some("session=abc"));
    assert_eq!(header_value(&head, "Origin"), Some("https://app.example"));
    assert_eq!(header_value(&head, "Host"), Some("virtual.example"));
    assert_eq!(
        header_value(&head, "Sec-WebSocket-Protocol"),
        Some("chat, superchat")
    );
    // base64("alice:wonder land")
    assert_eq!(
        header_value(&head, "Authorization"),
        Some("Basic YWxpY2U6d29uZGVyIGxhbmQ=")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    drop(ws);
    peer.join();
}

#[test]
fn origin_and_host_can_be_suppressed() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = tcp_server(1, move |mut tcp| {
        tx.send(accept_raw(&mut tcp, b"")).unwrap();
    });
    let _ws = client()
        .request(
            RequestOptions::new()
                .origin(Origin::Suppress)
                .host(HostHeader::Suppress),
        )
        .connect(&peer.url("/"))
        .unwrap();
    let head = rx.recv_timeout(ws_tests::TIMEOUT).unwrap();
    assert_eq!(header_value(&head, "Origin"), None, "{head}");
    assert_eq!(header_value(&head, "Host"), None, "{head}");
    peer.join();
}

#[test]
fn invalid_header_is_refused_before_connecting() {
    let peer = tcp_server(0, |_| {});
    let err = client()
        .request(RequestOptions::new().header("X-Evil", "a\r\nInjected: yes"))
        .connect(&peer.url("/"))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidOption(OptionError::Request(
                ws_client::ws_handshake::Error::InvalidHeader { name, .. }
            )) if name == "X-Evil"
        ),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn relative_redirects_are_followed() {
    let peer = tcp_server(2, |mut tcp| {
        let head = read_request_head(&mut tcp);
        if head.starts_with("GET /old ") {
            tcp.write_all(b"HTTP/1.1 301 Moved Permanently\r\nLocation: /new?x=1\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
        } else {
            assert!(head.starts_with("GET /new?x=1 "), "{head}");
            ws_tests::answer_101(&mut tcp, &head, b"");
            let _ = ws_tests::read_client_frame(&mut tcp);
        }
    });
    let mut ws = client().connect(&peer.url("/old")).unwrap();
    assert_eq!(ws.url(), peer.url("/new?x=1"));
    ws.close(
        CloseCode::NORMAL,
        "",
        Some(std::time::Duration::from_millis(200)),
    )
    .unwrap();
    peer.join();
}

fn always_redirect(connections: usize) -> ws_tests::Peer {
    tcp_server(connections, |mut tcp| {
        read_request_head(&mut tcp);
        tcp.write_all(b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    })
}

#[test]
fn redirect_limit_is_enforced() {
    // The default limit of 3 allows four requests: the first and three redirects.
    let peer = always_redirect(4);
    let err = client().connect(&peer.url("/start")).unwrap_err();
    assert!(
        matches!(&err, Error::RedirectLimit { limit: 3, location } if location.ends_with("/again")),
        "{err:?}"
    );
    peer.join();

    let peer = always_redirect(1);
    let err = client()
        .redirect_limit(0)
        .connect(&peer.url("/start"))
        .unwrap_err();
    assert!(
        matches!(err, Error::RedirectLimit { limit: 0, .. }),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn bad_status_carries_headers_and_body() {
    let peer = tcp_server(1, |mut tcp| {
        read_request_head(&mut tcp);
        tcp.write_all(
            b"HTTP/1.1 403 Forbidden\r\nX-Reason: banned\r\nContent-Length: 9\r\n\r\nno access",
        )
        .unwrap();
    });
    let err = client().connect(&peer.url("/")).unwrap_err();
    match err {
        Error::BadStatus {
            status,
            reason,
            headers,
            body,
        } => {
            assert_eq!((status, reason.as_str()), (403, "Forbidden"));
            assert!(
                headers
                    .iter()
                    .any(|(n, v)| n == "X-Reason" && v == "banned")
            );
            assert_eq!(body, b"no access");
        }
        other => panic!("{other:?}"),
    }
    peer.join();
}

#[test]
fn subprotocol_is_negotiated() {
    let peer = ws_server(2, Tls::Off, &["superchat"], echo);
    let mut ws = client()
        .request(RequestOptions::new().subprotocols(["chat", "superchat"]))
        .connect(&peer.url("/"))
        .unwrap();
    assert_eq!(ws.subprotocol(), Some("superchat"));
    assert_eq!(ws.header("sec-websocket-protocol"), Some("superchat"));
    assert!(
        ws.headers()
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("upgrade"))
    );
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(ws.subprotocol(), None);
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

/// The socket options, hooks included, are applied to a socket the caller connected.
#[test]
fn a_pre_connected_socket_gets_the_socket_options() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let tcp = TcpStream::connect(peer.addr).unwrap();
    tcp.set_nodelay(false).unwrap();
    let hooked = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hooked);
    let socket = SocketOptions::default().hook(Arc::new(move |fd| {
        // The option the hook reads was set before it, on this very socket.
        let nodelay = socket2::SockRef::from(&fd).tcp_nodelay()?;
        assert!(nodelay, "TCP_NODELAY was not applied before the hook");
        seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    let mut ws = client()
        .net(net().socket(socket))
        .connect_on(&peer.url("/"), tcp)
        .unwrap();
    assert_eq!(hooked.load(Ordering::SeqCst), 1);
    ws.send_text("configured").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("configured".into()));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn a_pre_connected_socket_is_used() {
    let peer = ws_server(1, Tls::Off, &[], echo);
    let tcp = TcpStream::connect(peer.addr).unwrap();
    let mut ws = client().connect_on(&peer.url("/"), tcp).unwrap();
    ws.send_text("over my socket").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("over my socket".into()));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}
