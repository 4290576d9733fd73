//! What every feature combination must do: a plain `ws://` round trip against a real
//! loopback server, and (without `tls`) a `wss://` URL refused with an error naming the
//! missing feature. `cargo xtask ci` runs this file for each documented combination.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a failed step fails the test"
)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use ws_client::{ClientBuilder, CloseCode, Message};
use ws_frame::{Decoder, Fin, MessageDecoder, OpCode, Role, encode_frame};
use ws_handshake::ServerHandshake;

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A one-connection server that echoes the first message, then closes; returns the URL
/// and the request's headers.
fn echo_once() -> (String, thread::JoinHandle<Vec<(String, String)>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let server = thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut handshake = ServerHandshake::new();
        let mut buf = [0; 4096];
        let accepted = loop {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0, "client left during the handshake");
            if let Some(accepted) = handshake.feed(&buf[..n]).unwrap() {
                break accepted;
            }
        };
        tcp.write_all(&accepted.response).unwrap();
        let mut decoder = MessageDecoder::new(Decoder::new(Role::Server));
        decoder.feed(&accepted.rest);
        let message = loop {
            if let Some(message) = decoder.next_message().unwrap() {
                break message;
            }
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0, "client left before sending");
            decoder.feed(&buf[..n]);
        };
        let Message::Text(text) = message else {
            panic!("expected text, got {message:?}");
        };
        let mut out = Vec::new();
        encode_frame(&mut out, Fin::Final, OpCode::Text, None, text.as_bytes());
        encode_frame(
            &mut out,
            Fin::Final,
            OpCode::Close,
            None,
            &1000u16.to_be_bytes(),
        );
        tcp.write_all(&out).unwrap();
        accepted.headers
    });
    (url, server)
}

#[test]
fn plain_ws_round_trip_works_in_every_build() {
    let (url, server) = echo_once();
    let mut ws = ClientBuilder::new()
        .read_timeout(Some(IO_TIMEOUT))
        .connect(&url)
        .unwrap();
    ws.send_text("small build").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("small build".into()));
    assert!(matches!(ws.recv().unwrap(), Message::Close(_)));
    let _ = ws.close(CloseCode::NORMAL, "", Some(IO_TIMEOUT));
    let headers = server.join().unwrap();
    // Compression is off by default in every build, so nothing is offered.
    assert!(
        !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("Sec-WebSocket-Extensions")),
        "{headers:?}"
    );
}

#[cfg(not(feature = "tls"))]
#[test]
fn wss_without_the_tls_feature_names_the_feature() {
    // TCP connects (the listener's backlog takes it); TLS is what this build lacks.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://{}/", listener.local_addr().unwrap());
    let err = ws_client::connect(&url).unwrap_err();
    assert!(
        matches!(
            &err,
            ws_client::Error::Tls(ws_client::TlsError::FeatureDisabled { host }) if host == "127.0.0.1"
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("enable the `tls` feature"),
        "{err}"
    );
}

/// A request as tungstenite's `into_client_request` builds it, plus the caller's headers:
/// the server sees each header once, the caller's in their order, and the caller's key.
#[cfg(feature = "http")]
#[test]
fn an_http_request_connects_with_its_headers_in_order() {
    let (url, server) = echo_once();
    let host = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_owned();
    let request = http::Request::get(&url)
        .header("Host", &host)
        .header("Connection", "Upgrade")
        .header("Upgrade", "websocket")
        .header("Sec-WebSocket-Version", "13")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("X-Second", "b")
        .header("X-First", "a")
        .body(())
        .unwrap();
    let mut ws = ClientBuilder::new()
        .read_timeout(Some(IO_TIMEOUT))
        .connect_request(&request)
        .unwrap();
    ws.send_text("via http::Request").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("via http::Request".into())
    );
    let headers = server.join().unwrap();
    let count = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    };
    for name in ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"] {
        assert_eq!(count(name), 1, "{name} in {headers:?}");
    }
    let value = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(value("Sec-WebSocket-Key"), Some("dGhlIHNhbXBsZSBub25jZQ=="));
    assert_eq!(value("Host"), Some(host.as_str()));
    let custom: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-"))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(custom, ["x-second", "x-first"]);

    // An http::Uri works as a URL.
    let (url, server) = echo_once();
    let uri: http::Uri = url.parse().unwrap();
    let mut ws = ClientBuilder::new()
        .read_timeout(Some(IO_TIMEOUT))
        .connect_uri(&uri)
        .unwrap();
    ws.send_text("via Uri").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("via Uri".into()));
    server.join().unwrap();
}
