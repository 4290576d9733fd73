//! The server side: accepting a client's opening handshake or refusing it with a 4xx.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use ws_handshake::{
    ClientRequest, RequestError, RequestLimits, RequestOptions, Scheme, ServerHandshake,
    accept_request,
};

/// The RFC 6455 section 1.3 example request, with `extra` header lines (CRLF-terminated).
fn rfc_request(extra: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Origin: http://example.com\r\n{extra}Sec-WebSocket-Version: 13\r\n\r\n"
    )
}

fn refuse(request: &str) -> RequestError {
    ServerHandshake::new().feed(request.as_bytes()).unwrap_err()
}

#[test]
fn accepts_the_rfc_6455_example_request() {
    let accepted = accept_request(rfc_request("").as_bytes(), &[])
        .unwrap()
        .unwrap();
    assert_eq!(
        accepted.response,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
    assert_eq!(accepted.resource, "/chat");
    assert_eq!(accepted.key, "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(accepted.subprotocol, None);
    assert_eq!(accepted.header("origin"), Some("http://example.com"));
    assert!(accepted.rest.is_empty());
}

#[test]
fn picks_the_first_subprotocol_of_the_servers_list_that_the_client_offered() {
    let request =
        rfc_request("Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Protocol: v3\r\n");
    let pick = |server: &[&str]| {
        accept_request(request.as_bytes(), server)
            .unwrap()
            .unwrap()
            .subprotocol
    };
    assert_eq!(pick(&["superchat", "chat"]).as_deref(), Some("superchat"));
    assert_eq!(pick(&["v3"]).as_deref(), Some("v3"));
    assert_eq!(pick(&["Chat", "other"]), None);
    assert_eq!(pick(&[]), None);
    let accepted = accept_request(request.as_bytes(), &["chat"])
        .unwrap()
        .unwrap();
    assert!(
        accepted
            .response
            .ends_with(b"Sec-WebSocket-Protocol: chat\r\n\r\n")
    );
}

#[test]
fn accepts_a_request_fed_byte_by_byte_and_returns_the_bytes_after_it() {
    let mut bytes = rfc_request("").into_bytes();
    bytes.extend_from_slice(b"\x81\x82abcd");
    let mut server = ServerHandshake::new();
    let head_len = bytes.len() - 6;
    for (i, byte) in bytes.iter().take(head_len).enumerate() {
        let result = server.feed(std::slice::from_ref(byte)).unwrap();
        assert_eq!(result.is_some(), i + 1 == head_len, "byte {i}");
    }
    let mut server = ServerHandshake::new();
    let accepted = server.feed(&bytes).unwrap().unwrap();
    assert_eq!(accepted.rest, b"\x81\x82abcd");
    assert_eq!(server.feed(b"x").unwrap_err(), RequestError::Finished);
    assert_eq!(server.finish_eof().unwrap_err(), RequestError::Finished);
}

#[test]
fn accepts_our_own_client_request() {
    let handshake = ClientRequest::new("::1", 9001, Scheme::Wss, "/x?y=1")
        .options(RequestOptions::new().subprotocols(["b", "a"]))
        .key(*b"0123456789abcdef")
        .build()
        .unwrap();
    let accepted = accept_request(handshake.request_bytes(), &["a"])
        .unwrap()
        .unwrap();
    assert_eq!(accepted.resource, "/x?y=1");
    assert_eq!(accepted.header("Host"), Some("[::1]:9001"));
    assert_eq!(accepted.subprotocol.as_deref(), Some("a"));
    let mut handshake = handshake;
    let outcome = handshake.feed(&accepted.response).unwrap().unwrap();
    let ws_handshake::Outcome::Accepted(done) = outcome else {
        panic!()
    };
    assert_eq!(done.subprotocol.as_deref(), Some("a"));
}

#[test]
fn refuses_every_broken_rule_with_the_right_status() {
    let base = rfc_request("");
    let cases: Vec<(String, RequestError, u16)> = vec![
        (
            base.replacen("GET", "POST", 1),
            RequestError::BadMethod("POST".to_owned()),
            405,
        ),
        (
            base.replacen("HTTP/1.1", "HTTP/1.0", 1),
            RequestError::BadHttpVersion { minor: 0 },
            505,
        ),
        (
            base.replace("Host: server.example.com\r\n", ""),
            RequestError::MissingHost,
            400,
        ),
        (
            base.replace("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
            RequestError::DuplicateHeader {
                name: "Host".to_owned(),
            },
            400,
        ),
        (
            base.replace("Upgrade: websocket\r\n", ""),
            RequestError::MissingUpgrade,
            400,
        ),
        (
            base.replace("Upgrade: websocket\r\n", "Upgrade: h2c\r\n"),
            RequestError::MissingUpgrade,
            400,
        ),
        (
            base.replace("Connection: Upgrade\r\n", "Connection: close\r\n"),
            RequestError::MissingConnection,
            400,
        ),
        (
            base.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            RequestError::MissingKey,
            400,
        ),
        (
            base.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZSE="),
            RequestError::BadKey("dGhlIHNhbXBsZSBub25jZSE=".to_owned()),
            400,
        ),
        (
            base.replace("dGhlIHNhbXBsZSBub25jZQ==", "short"),
            RequestError::BadKey("short".to_owned()),
            400,
        ),
        (
            base.replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            RequestError::UnsupportedVersion(Some("8".to_owned())),
            426,
        ),
        (
            base.replace("Sec-WebSocket-Version: 13\r\n", ""),
            RequestError::UnsupportedVersion(None),
            426,
        ),
        (
            "GET / HTTP/1.1\r\nBad Header\r\n\r\n".to_owned(),
            RequestError::Malformed("invalid header name".to_owned()),
            400,
        ),
    ];
    for (request, want, status) in cases {
        let err = refuse(&request);
        assert_eq!(err, want, "{request:?}");
        assert_eq!(err.status(), status, "{want:?}");
    }
}

#[test]
fn rejection_responses_are_complete_http_answers() {
    let err =
        refuse(&rfc_request("").replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"));
    let body = "Sec-WebSocket-Version is 8, 13 is required\n";
    assert_eq!(
        String::from_utf8(err.response()).unwrap(),
        format!(
            "HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n{body}",
            body.len()
        )
    );
    let err = refuse(&rfc_request("").replacen("GET", "PUT", 1));
    let text = String::from_utf8(err.response()).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nAllow: GET\r\n"), "{text}");
    // Our own client parses the refusal as a BadStatus with the reason as body.
    let mut client = ClientRequest::new("h", 80, Scheme::Ws, "/")
        .key([7; 16])
        .build()
        .unwrap();
    let ws_handshake::Error::BadStatus { status, body, .. } =
        client.feed(&err.response()).unwrap_err()
    else {
        panic!()
    };
    assert_eq!(
        (status, body.as_slice()),
        (405, &b"handshake method is PUT, GET is required\n"[..])
    );
}

#[test]
fn request_limits_are_enforced() {
    let limits = RequestLimits::default();
    assert_eq!((limits.head_bytes(), limits.headers()), (65_536, 124));

    let mut server = ServerHandshake::new().limits(RequestLimits::default().max_head_bytes(100));
    assert_eq!(server.feed(&[b'a'; 100]).unwrap(), None);
    assert_eq!(
        server.feed(b"a").unwrap_err(),
        RequestError::HeadTooLarge { limit: 100 }
    );
    let err = ServerHandshake::new()
        .limits(RequestLimits::default().max_head_bytes(100))
        .feed(rfc_request("").as_bytes())
        .unwrap_err();
    assert_eq!(err, RequestError::HeadTooLarge { limit: 100 });
    assert_eq!(err.status(), 431);

    let err = ServerHandshake::new()
        .limits(RequestLimits::default().max_headers(5))
        .feed(rfc_request("").as_bytes())
        .unwrap_err();
    assert_eq!(err, RequestError::TooManyHeaders { limit: 5 });
    assert_eq!(err.status(), 431);
}

#[test]
fn eof_before_the_request_is_complete_is_reported() {
    let mut server = ServerHandshake::new();
    assert_eq!(server.feed(b"GET / HT").unwrap(), None);
    assert_eq!(
        server.finish_eof().unwrap_err(),
        RequestError::UnexpectedEof { read: 8 }
    );
}
