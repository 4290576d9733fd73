//! Every `Error` variant, produced through the public API against a real peer, and the
//! close code the client sends before reporting a peer's protocol violation.

use std::io::Write;
use std::net::TcpListener;
use std::time::Duration;

use ws_client::ws_frame::{PayloadError, ProtocolError};
use ws_client::{CloseCode, Error, Limits, Op, Proxy, ProxyConfig, TlsOptions};
use ws_tests::{
    Tls, accept_raw, echo, read_client_frame, read_request_head, server_frame, tcp_server,
    ws_server,
};

use crate::{client, net};

/// A server sending `frames` after the handshake and expecting a close with `code` back.
fn misbehaving_server(frames: Vec<u8>, code: u16) -> ws_tests::Peer {
    tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, &frames);
        let reply = read_client_frame(&mut tcp);
        assert_eq!(reply.opcode, 8, "the client answers with a close frame");
        assert_eq!(reply.close_code(), Some(code));
    })
}

#[test]
fn protocol_violation_sends_1002_then_returns_protocol() {
    let peer = misbehaving_server(server_frame(true, 3, b""), 1002);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::ReservedOpCode(3))),
        "{err:?}"
    );
    peer.join();
    // The connection is failed: later calls say so.
    assert!(matches!(ws.recv(), Err(Error::ConnectionClosed { .. })));
}

#[test]
fn masked_server_frame_is_a_protocol_error() {
    // FIN + text, masked, length 1, key 0, payload "a".
    let peer = misbehaving_server(vec![0x81, 0x81, 0, 0, 0, 0, b'a'], 1002);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::MaskedFrameFromServer)),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn invalid_utf8_sends_1007_then_returns_payload() {
    let mut frames = server_frame(false, 1, b"ok \xce");
    frames.extend(server_frame(true, 0, b"\xff rest"));
    let peer = misbehaving_server(frames, 1007);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Payload(PayloadError::InvalidUtf8 { .. })),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn invalid_utf8_is_still_refused_with_validation_off() {
    let peer = misbehaving_server(server_frame(true, 1, b"\xff"), 1007);
    let mut ws = client()
        .connection(ws_frame::Config::new().utf8(ws_frame::Utf8Check::AtEnd))
        .connect(&peer.url("/"))
        .unwrap();
    let err = ws.recv().unwrap_err();
    assert!(matches!(err, Error::Payload(_)), "{err:?}");
    peer.join();
}

#[test]
fn message_over_the_limit_sends_1009() {
    let peer = misbehaving_server(server_frame(true, 2, &[0; 100]), 1009);
    let mut ws = client()
        .connection(ws_frame::Config::new().limits(Limits::default().max_message_size(Some(64))))
        .connect(&peer.url("/"))
        .unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(ProtocolError::MessageTooLarge { limit: 64, .. })
        ),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn connection_reset_is_a_lost_connection_with_the_reset_as_its_cause() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        // Wait for the client's message so it is in recv, then reset the connection.
        let _ = read_client_frame(&mut tcp);
        socket2::SockRef::from(&tcp)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    ws.send_text("go").unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionClosed { code: Some(c), source: Some(source), .. }
            if *c == CloseCode::ABNORMAL && source.kind() == std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn refused_connection_is_net() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let err = client()
        .connect(&format!("ws://127.0.0.1:{port}/"))
        .unwrap_err();
    assert!(matches!(err, Error::Net(_)), "{err:?}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

#[test]
fn bad_url_is_url() {
    for url in ["ftp://example.com/", "not a url", "ws://host/#fragment"] {
        let err = client().connect(url).unwrap_err();
        assert!(matches!(err, Error::Url(_)), "{url}: {err:?}");
    }
}

/// A server that resets the connection instead of answering the upgrade: an I/O error
/// naming the handshake and the peer.
#[test]
fn a_reset_during_the_handshake_names_the_peer() {
    let peer = tcp_server(1, |mut tcp| {
        read_request_head(&mut tcp);
        socket2::SockRef::from(&tcp)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
    });
    let err = client().connect(&peer.url("/")).unwrap_err();
    let addr = peer.addr;
    assert!(
        matches!(&err, Error::Io { op: Op::Handshake, peer: Some(p), source }
            if *p == addr && source.kind() == std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("handshake with {addr} failed: ")),
        "{err}"
    );
    peer.join();
}

#[test]
fn unknown_host_is_address() {
    let err = client().connect("ws://no-such-host.invalid/").unwrap_err();
    assert!(
        matches!(
            err,
            Error::Net(
                ws_client::ws_net::Error::Resolve { .. }
                    | ws_client::ws_net::Error::NoAddresses { .. }
            )
        ),
        "{err:?}"
    );
}

#[test]
fn wrong_accept_key_is_handshake() {
    let peer = tcp_server(1, |mut tcp| {
        read_request_head(&mut tcp);
        tcp.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .unwrap();
    });
    let err = client().connect(&peer.url("/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake(ws_client::ws_handshake::Error::BadAccept { .. })
        ),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn untrusted_certificate_is_tls() {
    let peer = ws_server(1, Tls::On, &[], echo);
    let err = client()
        .net(net().tls(TlsOptions::default()))
        .connect(&peer.wss_url("/"))
        .unwrap_err();
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
    peer.join();
}

#[test]
fn proxy_refusal_is_proxy() {
    let peer = tcp_server(1, |mut tcp| {
        let head = read_request_head(&mut tcp);
        assert!(head.starts_with("CONNECT "), "{head}");
        tcp.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let err = client()
        .net(net().proxy(ProxyConfig::Explicit(Proxy::http(
            "127.0.0.1",
            peer.addr.port(),
        ))))
        .connect("ws://example.com/")
        .unwrap_err();
    assert!(matches!(err, Error::Proxy(_)), "{err:?}");
    assert!(err.to_string().contains("407"), "{err}");
    peer.join();
}
