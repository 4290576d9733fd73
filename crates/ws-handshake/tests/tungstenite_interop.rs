//! Cross-check against an independent implementation over real loopback sockets: our
//! client request through tungstenite's server `accept`, and tungstenite's client request
//! through our server side.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::result_large_err,
    reason = "test helpers fail loudly; tungstenite fixes the callback error type"
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tungstenite::Message;
use tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tungstenite::http::{HeaderValue, StatusCode};
use ws_handshake::{ClientRequest, Error, Outcome, RequestOptions, Scheme, ServerHandshake};

const TIMEOUT: Duration = Duration::from_secs(5);

fn listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// Drive our client handshake over `stream`; returns the outcome or error and every byte read.
fn drive(stream: &mut TcpStream, request: &ClientRequest) -> (Result<Outcome, Error>, Vec<u8>) {
    let mut handshake = request.build().unwrap();
    stream.write_all(handshake.request_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = stream.read(&mut buf).unwrap();
        if n == 0 {
            return (handshake.finish_eof(), raw);
        }
        raw.extend_from_slice(&buf[..n]);
        match handshake.feed(&buf[..n]) {
            Ok(None) => {}
            Ok(Some(outcome)) => return (Ok(outcome), raw),
            Err(e) => return (Err(e), raw),
        }
    }
}

#[test]
fn tungstenite_server_accepts_our_request() {
    let (listener, port) = listener();
    let (tx, rx) = mpsc::channel();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let callback = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
            let headers: Vec<(String, String)> = req
                .headers()
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
                .collect();
            tx.send((req.uri().to_string(), headers)).unwrap();
            resp.headers_mut().insert(
                "Sec-WebSocket-Protocol",
                HeaderValue::from_static("chat.v1"),
            );
            Ok(resp)
        };
        let mut ws = tungstenite::accept_hdr(stream, callback).unwrap();
        ws.send(Message::text("hi")).unwrap();
        let echoed = ws.read().unwrap();
        assert_eq!(echoed, Message::text("back"));
    });

    let mut stream = connect(port);
    let request = ClientRequest::new("127.0.0.1", port, Scheme::Ws, "/chat?room=1")
        .options(
            RequestOptions::new()
                .subprotocols(["chat.v2", "chat.v1"])
                .header("X-Trace", "abc"),
        )
        .key(*b"the sample nonce");
    let (outcome, raw) = drive(&mut stream, &request);
    let Outcome::Accepted(accepted) = outcome.unwrap() else {
        panic!("not accepted")
    };
    assert_eq!(accepted.subprotocol.as_deref(), Some("chat.v1"));
    if let Some(dir) = std::env::var_os("WS_HANDSHAKE_CAPTURE") {
        std::fs::write(
            std::path::Path::new(&dir).join("tungstenite_101_subprotocol.http"),
            &raw,
        )
        .unwrap();
    }

    let (uri, headers) = rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(uri, "/chat?room=1");
    let get = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("host"), Some(format!("127.0.0.1:{port}").as_str()));
    assert_eq!(
        get("origin"),
        Some(format!("http://127.0.0.1:{port}").as_str())
    );
    assert_eq!(get("x-trace"), Some("abc"));

    // The first frame may have arrived with the head; it must be in `rest` or still on the
    // socket, never lost.
    let mut frame = accepted.rest;
    while frame.len() < 4 {
        let mut buf = [0u8; 16];
        let n = stream.read(&mut buf).unwrap();
        assert_ne!(n, 0, "server closed early");
        frame.extend_from_slice(&buf[..n]);
    }
    assert_eq!(frame, b"\x81\x02hi");
    // A masked "back" text frame.
    let mask = [1u8, 2, 3, 4];
    let mut out = vec![0x81, 0x80 | 4];
    out.extend_from_slice(&mask);
    out.extend(b"back".iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    stream.write_all(&out).unwrap();
    server.join().unwrap();
}

#[test]
fn tungstenite_server_rejection_becomes_bad_status_with_body() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let callback = |_: &Request, _: Response| -> Result<Response, ErrorResponse> {
            let mut resp = ErrorResponse::new(Some("go away".to_owned()));
            *resp.status_mut() = StatusCode::FORBIDDEN;
            Err(resp)
        };
        let result = tungstenite::accept_hdr(stream, callback);
        assert!(result.is_err());
    });
    let mut stream = connect(port);
    let request = ClientRequest::new("127.0.0.1", port, Scheme::Ws, "/").key(*b"0123456789abcdef");
    let (outcome, _) = drive(&mut stream, &request);
    let Err(Error::BadStatus {
        status,
        reason,
        body,
        ..
    }) = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        (status, reason.as_str(), body.as_slice()),
        (403, "Forbidden", &b"go away"[..])
    );
    server.join().unwrap();
}

#[test]
fn tungstenite_client_is_accepted_by_our_server() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        let mut handshake = ServerHandshake::new().subprotocols(["graphql-ws", "mqtt"]);
        let mut buf = [0u8; 256];
        let accepted = loop {
            let n = stream.read(&mut buf).unwrap();
            assert_ne!(n, 0, "client closed early");
            if let Some(accepted) = handshake.feed(&buf[..n]).unwrap() {
                break accepted;
            }
        };
        stream.write_all(&accepted.response).unwrap();
        stream.write_all(b"\x81\x02hi").unwrap();
        accepted
    });

    let stream = connect(port);
    let mut request = tungstenite::client::IntoClientRequest::into_client_request(format!(
        "ws://127.0.0.1:{port}/sub?x=1"
    ))
    .unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("mqtt, graphql-ws"),
    );
    let (mut ws, response) = tungstenite::client(request, stream).unwrap();
    assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "graphql-ws");
    assert_eq!(ws.read().unwrap(), Message::text("hi"));

    let accepted = server.join().unwrap();
    assert_eq!(accepted.resource, "/sub?x=1");
    assert_eq!(accepted.subprotocol.as_deref(), Some("graphql-ws"));
    assert_eq!(
        accepted.header("host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert!(accepted.rest.is_empty());
}

#[test]
fn our_server_rejection_is_understood_by_tungstenite() {
    let (listener, port) = listener();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0u8; 1024];
        let n = stream.read(&mut buf).unwrap();
        // Pretend to speak only an older version: reject by answering as for version 8.
        let text = String::from_utf8_lossy(&buf[..n])
            .replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8");
        let err = ServerHandshake::new().feed(text.as_bytes()).unwrap_err();
        stream.write_all(&err.response()).unwrap();
        err
    });
    let stream = connect(port);
    let result = tungstenite::client(format!("ws://127.0.0.1:{port}/"), stream);
    let Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) = result
    else {
        panic!("expected an HTTP failure")
    };
    assert_eq!(response.status(), StatusCode::UPGRADE_REQUIRED);
    assert_eq!(response.headers()["Sec-WebSocket-Version"], "13");
    let err = server.join().unwrap();
    assert_eq!(
        err,
        ws_handshake::RequestError::UnsupportedVersion(Some("8".to_owned()))
    );
}
