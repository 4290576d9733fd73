//! The client response parser against real captured responses and every error branch.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use ws_handshake::{
    Accepted, ClientRequest, DeflateError, DeflateOffer, Error, Handshake, Outcome, RequestOptions,
    ResponseLimits, Scheme,
};

const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn base() -> ClientRequest {
    ClientRequest::new("127.0.0.1", 18080, Scheme::Ws, "/ws").key(NONCE)
}

fn run(req: &ClientRequest, response: &[u8]) -> Result<Option<Outcome>, Error> {
    req.build().unwrap().feed(response)
}

fn accepted(req: &ClientRequest, response: &[u8]) -> Accepted {
    match run(req, response) {
        Ok(Some(Outcome::Accepted(a))) => a,
        other => panic!("expected Accepted, got {other:?}"),
    }
}

/// A 101 answer for our key with `extra` header lines (each ending in CRLF).
fn ok_101(extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n{extra}\r\n"
    )
    .into_bytes()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn accepts_python_websockets_101_and_keeps_the_frame_behind_it() {
    let a = accepted(&base(), &fixture("websockets_101.http"));
    assert_eq!(a.status, 101);
    assert_eq!(
        a.headers,
        pairs(&[
            ("Date", "Wed, 25 Nov 2026 21:17:39 GMT"),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Accept", ACCEPT),
            ("Server", "Python/3.11 websockets/15.0.1"),
        ])
    );
    assert_eq!(a.subprotocol, None);
    assert!(a.extensions.is_empty());
    assert_eq!(a.rest, b"\x81\x05hello");
    assert_eq!(a.header("server"), Some("Python/3.11 websockets/15.0.1"));
}

#[test]
fn accepts_nginx_101_with_lower_case_connection_upgrade() {
    let a = accepted(&base(), &fixture("nginx_101.http"));
    assert_eq!(a.header("Connection"), Some("upgrade"));
    assert_eq!(a.header("Server"), Some("nginx/1.22.1"));
    assert_eq!(a.rest, b"\x81\x05hello");
}

#[test]
fn accepts_tungstenite_101_with_lower_case_names() {
    let raw = fixture("tungstenite_101_subprotocol.http");
    let a = accepted(
        &base().options(RequestOptions::new().subprotocols(["chat.v2", "chat.v1"])),
        &raw,
    );
    assert_eq!(a.header("Sec-WebSocket-Accept"), Some(ACCEPT));
    assert_eq!(a.subprotocol.as_deref(), Some("chat.v1"));
    assert_eq!(a.rest, b"\x81\x02hi");
}

#[test]
fn reports_the_subprotocol_the_server_chose_from_our_offer() {
    let a = accepted(
        &base().options(RequestOptions::new().subprotocols(["superchat", "chat"])),
        &fixture("websockets_101_subprotocol.http"),
    );
    assert_eq!(a.subprotocol.as_deref(), Some("chat"));
    assert_eq!(a.rest, b"\x81\x05hello");
}

#[test]
fn rejects_a_subprotocol_when_none_was_offered() {
    let err = run(&base(), &fixture("websockets_101_subprotocol.http")).unwrap_err();
    assert_eq!(err, Error::UnexpectedSubprotocol("chat".to_owned()));
    assert_eq!(
        err.to_string(),
        "server chose subprotocol \"chat\", which the client did not offer"
    );
}

#[test]
fn subprotocols_match_case_sensitively() {
    let err = run(
        &base().options(RequestOptions::new().subprotocols(["Chat"])),
        &fixture("websockets_101_subprotocol.http"),
    )
    .unwrap_err();
    assert_eq!(err, Error::UnexpectedSubprotocol("chat".to_owned()));
}

#[test]
fn rejects_a_subprotocol_list_or_repeated_header() {
    let offer = || base().options(RequestOptions::new().subprotocols(["a", "b"]));
    let err = run(&offer(), &ok_101("Sec-WebSocket-Protocol: a, b\r\n")).unwrap_err();
    assert_eq!(err, Error::UnexpectedSubprotocol("a, b".to_owned()));
    let err = run(
        &offer(),
        &ok_101("Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::DuplicateHeader {
            name: "Sec-WebSocket-Protocol".to_owned()
        }
    );
}

#[test]
fn reports_accepted_extensions_with_their_parameters() {
    let req = base().extensions("permessage-deflate; client_max_window_bits");
    let a = accepted(&req, &fixture("websockets_101_deflate.http"));
    assert_eq!(
        a.extensions,
        ["permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"]
    );
    assert_eq!(a.rest, b"\xc1\x07\xcaH\xcd\xc9\xc9\x07\x00");
}

#[test]
fn rejects_an_extension_we_did_not_offer() {
    let err = run(&base(), &fixture("websockets_101_deflate.http")).unwrap_err();
    assert_eq!(
        err,
        Error::UnexpectedExtension(
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12".to_owned()
        )
    );
    let req = base().extensions("permessage-deflate");
    let err = run(
        &req,
        &ok_101("Sec-WebSocket-Extensions: permessage-deflate, x-webkit-deflate-frame\r\n"),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::UnexpectedExtension("x-webkit-deflate-frame".to_owned())
    );
}

#[test]
fn extension_names_match_case_insensitively_across_headers() {
    let req = base().extensions("permessage-deflate, x-custom");
    let a = accepted(
        &req,
        &ok_101(
            "Sec-WebSocket-Extensions: Permessage-Deflate\r\nSec-WebSocket-Extensions: x-custom; a=\"1,2\"\r\n",
        ),
    );
    assert_eq!(a.extensions, ["Permessage-Deflate", "x-custom; a=\"1,2\""]);
}

#[test]
fn python_header01_parses_with_a_trailing_space_in_connection() {
    let raw = fixture("python_header01.http");
    // Verbatim, the accept key was computed for another nonce.
    assert_eq!(
        run(&base(), &raw).unwrap_err(),
        Error::BadAccept {
            expected: ACCEPT.to_owned(),
            found: Some("Kxep+hNu9n51529fGidYu7a3wO0=".to_owned())
        }
    );
    let raw = String::from_utf8(raw)
        .unwrap()
        .replace("Kxep+hNu9n51529fGidYu7a3wO0=", ACCEPT);
    let a = accepted(&base(), raw.as_bytes());
    assert_eq!(a.header("connection").map(str::trim), Some("Upgrade"));
    assert_eq!(a.header("some_header"), Some("something"));
}

#[test]
fn python_header02_without_a_colon_is_malformed() {
    let err = run(&base(), &fixture("python_header02.http")).unwrap_err();
    assert!(matches!(err, Error::Malformed(_)), "{err:?}");
}

#[test]
fn python_header03_with_bare_lf_and_keep_alive_upgrade_is_accepted() {
    let raw = String::from_utf8(fixture("python_header03.http"))
        .unwrap()
        .replace("Kxep+hNu9n51529fGidYu7a3wO0=", ACCEPT);
    let mut handshake = base().build().unwrap();
    let Some(Outcome::Accepted(a)) = handshake.feed(raw.as_bytes()).unwrap() else {
        panic!()
    };
    let cookies: Vec<_> = a
        .headers
        .iter()
        .filter(|(n, _)| n == "Set-Cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies, ["Token=ABCDE", "Token=FGHIJ"]);
}

#[test]
fn upgrade_and_connection_tokens_are_case_insensitive_lists() {
    let raw = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUPGRADE: WebSocket\r\nconnection: keep-alive, Upgrade\r\n\
         Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
    );
    accepted(&base(), raw.as_bytes());
}

#[test]
fn rejects_a_101_without_a_websocket_upgrade() {
    for upgrade in ["", "Upgrade: h2c\r\n", "Upgrade: websocket2\r\n"] {
        let raw = format!(
            "HTTP/1.1 101 Switching Protocols\r\n{upgrade}Connection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        assert_eq!(
            run(&base(), raw.as_bytes()).unwrap_err(),
            Error::MissingUpgrade,
            "{upgrade:?}"
        );
    }
}

#[test]
fn rejects_a_101_without_connection_upgrade() {
    for connection in ["", "Connection: keep-alive\r\n", "Connection: upgrades\r\n"] {
        let raw = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n{connection}Sec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
        );
        assert_eq!(
            run(&base(), raw.as_bytes()).unwrap_err(),
            Error::MissingConnection,
            "{connection:?}"
        );
    }
}

#[test]
fn accept_key_must_be_present_and_exact() {
    let raw =
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
    let err = run(&base(), raw).unwrap_err();
    assert_eq!(
        err,
        Error::BadAccept {
            expected: ACCEPT.to_owned(),
            found: None
        }
    );
    assert_eq!(
        err.to_string(),
        "Sec-WebSocket-Accept is missing, expected \"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\""
    );
    // Python compares case-insensitively; base64 is case-sensitive, so we do not.
    let lower = ACCEPT.to_ascii_lowercase();
    let raw = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {lower}\r\n\r\n"
    );
    assert_eq!(
        run(&base(), raw.as_bytes()).unwrap_err(),
        Error::BadAccept {
            expected: ACCEPT.to_owned(),
            found: Some(lower)
        }
    );
    let err = run(
        &base(),
        &ok_101(&format!("Sec-WebSocket-Accept: {ACCEPT}\r\n")),
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::DuplicateHeader {
            name: "Sec-WebSocket-Accept".to_owned()
        }
    );
}

#[test]
fn status_line_must_be_http_1_1() {
    let raw = format!(
        "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {ACCEPT}\r\n\r\n"
    );
    assert_eq!(
        run(&base(), raw.as_bytes()).unwrap_err(),
        Error::BadHttpVersion { minor: 0 }
    );
}

#[test]
fn garbage_is_malformed_http() {
    for raw in [
        &b"SSH-2.0-OpenSSH_9.2\r\n\r\n"[..],
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/2 101\r\n\r\n",
    ] {
        let err = run(&base(), raw).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{raw:?} gave {err:?}");
    }
}

#[test]
fn follows_redirects_from_real_servers() {
    let cases = [
        ("nginx_301.http", 301, "ws://127.0.0.1:18080/ws"),
        ("nginx_307.http", 307, "wss://secure.example.com/ws"),
        ("websockets_302.http", 302, "ws://127.0.0.1:18080/echo"),
    ];
    for (name, status, location) in cases {
        assert_eq!(
            run(&base(), &fixture(name)).unwrap(),
            Some(Outcome::Redirect {
                status,
                location: location.to_owned()
            }),
            "{name}"
        );
    }
}

#[test]
fn resolves_relative_redirects_against_a_secure_request() {
    let req = ClientRequest::new("h", 443, Scheme::Wss, "/a/b").key(NONCE);
    for (status, location, want) in [
        (303, "c", "wss://h/a/c"),
        (308, "//g:1/x", "wss://g:1/x"),
        (301, "http://plain/", "ws://plain/"),
    ] {
        let raw = format!("HTTP/1.1 {status} X\r\nLocation: {location}\r\n\r\n");
        assert_eq!(
            run(&req, raw.as_bytes()).unwrap(),
            Some(Outcome::Redirect {
                status,
                location: want.to_owned()
            })
        );
    }
}

#[test]
fn redirect_without_location_is_an_error() {
    for raw in [
        &b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n"[..],
        b"HTTP/1.1 307 X\r\nLocation: \r\n\r\n",
    ] {
        let status = if raw.starts_with(b"HTTP/1.1 302") {
            302
        } else {
            307
        };
        assert_eq!(
            run(&base(), raw).unwrap_err(),
            Error::MissingLocation { status }
        );
    }
    let err = run(&base(), b"HTTP/1.1 302 Found\r\nLocation: ftp://x/\r\n\r\n").unwrap_err();
    assert_eq!(
        err,
        Error::InvalidLocation {
            location: "ftp://x/".to_owned(),
            reason: "scheme is not ws, wss, http or https"
        }
    );
    let err = run(
        &base(),
        b"HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::DuplicateHeader {
            name: "Location".to_owned()
        }
    );
}

#[test]
fn bad_status_carries_headers_and_body_from_real_servers() {
    let err = run(&base(), &fixture("websockets_403.http")).unwrap_err();
    assert_eq!(
        err,
        Error::BadStatus {
            status: 403,
            reason: "Forbidden".to_owned(),
            headers: pairs(&[
                ("Date", "Wed, 25 Nov 2026 21:17:34 GMT"),
                ("Connection", "close"),
                ("Content-Length", "6"),
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Server", "Python/3.11 websockets/15.0.1"),
            ]),
            body: b"nope!\n".to_vec(),
        }
    );
    assert_eq!(
        err.to_string(),
        "handshake answered with status 403 Forbidden"
    );

    for (name, status, reason, body_start) in [
        (
            "websockets_404.http",
            404,
            "Not Found",
            &b"no such endpoint\n"[..],
        ),
        (
            "websockets_400_missing_subprotocol.http",
            400,
            "Bad Request",
            b"Failed to open",
        ),
        (
            "websockets_426_plain_get.http",
            426,
            "Upgrade Required",
            b"Failed to open",
        ),
        (
            "nginx_403.http",
            403,
            "Forbidden",
            b"<html>\r\n<head><title>403 Forbidden",
        ),
        (
            "nginx_404.http",
            404,
            "Not Found",
            b"<html>\r\n<head><title>404 Not Found",
        ),
        (
            "nginx_400.http",
            400,
            "Bad Request",
            b"<html>\r\n<head><title>400 Bad Request",
        ),
    ] {
        let raw = fixture(name);
        let Err(Error::BadStatus {
            status: s,
            reason: r,
            headers,
            body,
        }) = run(&base(), &raw)
        else {
            panic!("{name}")
        };
        assert_eq!((s, r.as_str()), (status, reason), "{name}");
        assert!(body.starts_with(body_start), "{name}: {body:?}");
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .unwrap()
            .1
            .parse()
            .unwrap();
        assert_eq!(body.len(), length, "{name}");
    }
}

#[test]
fn bad_status_waits_for_the_whole_content_length() {
    let raw = fixture("nginx_404.http");
    let split = raw.len() - 20;
    let mut handshake = base().build().unwrap();
    assert_eq!(handshake.feed(raw.get(..split).unwrap()).unwrap(), None);
    let Err(Error::BadStatus { body, .. }) = handshake.feed(raw.get(split..).unwrap()) else {
        panic!()
    };
    assert!(body.ends_with(b"</html>\r\n"));
}

#[test]
fn bad_status_body_is_capped() {
    let req = base().options(
        RequestOptions::new().response_limits(ResponseLimits::default().max_body_bytes(10)),
    );
    let raw = b"HTTP/1.1 500 Oops\r\nContent-Length: 100000\r\n\r\n0123456789abcdef";
    let Err(Error::BadStatus { body, .. }) = run(&req, raw) else {
        panic!()
    };
    assert_eq!(body, b"0123456789");
    let raw = b"HTTP/1.1 500 Oops\r\n\r\n0123456789abcdef";
    let Err(Error::BadStatus { body, .. }) = run(&req, raw) else {
        panic!()
    };
    assert_eq!(body, b"0123456789");
}

#[test]
fn default_body_cap_is_64_kib() {
    let mut raw = b"HTTP/1.1 500 Oops\r\nContent-Length: 100000\r\n\r\n".to_vec();
    raw.resize(raw.len() + 100_000, b'x');
    let Err(Error::BadStatus { body, .. }) = run(&base(), &raw) else {
        panic!()
    };
    assert_eq!(body.len(), 64 * 1024);
}

#[test]
fn body_without_length_ends_at_eof() {
    let mut handshake = base().build().unwrap();
    assert_eq!(
        handshake
            .feed(b"HTTP/1.1 503 Busy\r\nRetry-After: 5\r\n\r\ntry ")
            .unwrap(),
        None
    );
    assert_eq!(handshake.feed(b"later").unwrap(), None);
    assert_eq!(
        handshake.finish_eof().unwrap_err(),
        Error::BadStatus {
            status: 503,
            reason: "Busy".to_owned(),
            headers: pairs(&[("Retry-After", "5")]),
            body: b"try later".to_vec(),
        }
    );
    assert_eq!(handshake.finish_eof().unwrap_err(), Error::Finished);
}

#[test]
fn chunked_bodies_are_decoded() {
    let mut handshake = base().build().unwrap();
    let raw = b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\nWWW-Authenticate: Basic\r\n\r\n\
                5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
    for (i, byte) in raw.iter().enumerate() {
        let result = handshake.feed(std::slice::from_ref(byte));
        if i + 1 < raw.len() {
            assert_eq!(result, Ok(None), "byte {i}");
        } else {
            let Err(Error::BadStatus { status, body, .. }) = result else {
                panic!("{result:?}")
            };
            assert_eq!((status, body.as_slice()), (401, &b"hello, world"[..]));
        }
    }
}

#[test]
fn malformed_chunked_body_is_an_error() {
    let raw = b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    assert_eq!(
        run(&base(), raw).unwrap_err(),
        Error::Malformed("chunked body: invalid chunk size".to_owned())
    );
    let raw = b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc";
    assert_eq!(
        run(&base(), raw).unwrap_err(),
        Error::Malformed("chunked body: missing line end after chunk data".to_owned())
    );
    let raw = b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n";
    assert_eq!(
        run(&base(), raw).unwrap_err(),
        Error::Malformed("chunked body: chunk size too large".to_owned())
    );
}

#[test]
fn statuses_without_a_body_end_at_the_head() {
    for status in [100, 102, 204, 304] {
        let raw = format!("HTTP/1.1 {status} X\r\nContent-Length: 10\r\n\r\n");
        let Err(Error::BadStatus {
            status: s, body, ..
        }) = run(&base(), raw.as_bytes())
        else {
            panic!()
        };
        assert_eq!((s, body.len()), (status, 0));
    }
}

#[test]
fn rejects_invalid_content_length() {
    for (value, shown) in [
        ("abc", "abc"),
        ("-1", "-1"),
        ("5, 6", "5, 6"),
        ("99999999999999999999999", "99999999999999999999999"),
    ] {
        let raw = format!("HTTP/1.1 500 X\r\nContent-Length: {value}\r\n\r\n");
        assert_eq!(
            run(&base(), raw.as_bytes()).unwrap_err(),
            Error::InvalidContentLength(shown.to_owned())
        );
    }
    // Equal repeated values are fine (RFC 9112 section 6.3).
    let raw = b"HTTP/1.1 500 X\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab";
    assert!(matches!(run(&base(), raw), Err(Error::BadStatus { .. })));
}

#[test]
fn head_size_limit_is_enforced_before_and_after_completion() {
    let req = base().options(
        RequestOptions::new().response_limits(ResponseLimits::default().max_head_bytes(64)),
    );
    let mut handshake = req.build().unwrap();
    assert_eq!(handshake.feed(&[b'a'; 64]).unwrap(), None);
    assert_eq!(
        handshake.feed(b"a").unwrap_err(),
        Error::HeadTooLarge { limit: 64 }
    );
    let big = ok_101("X-Pad: 0123456789\r\n");
    assert_eq!(
        run(&req, &big).unwrap_err(),
        Error::HeadTooLarge { limit: 64 }
    );
}

#[test]
fn default_head_limit_is_64_kib() {
    let mut handshake = base().build().unwrap();
    let mut raw = b"HTTP/1.1 101 Switching Protocols\r\nX-Big: ".to_vec();
    raw.resize(64 * 1024 + 1, b'x');
    assert_eq!(
        handshake.feed(&raw).unwrap_err(),
        Error::HeadTooLarge { limit: 64 * 1024 }
    );
}

#[test]
fn header_count_limit_is_enforced() {
    let many = (0..125)
        .map(|i| format!("X-{i}: v\r\n"))
        .collect::<Vec<_>>()
        .concat();
    assert_eq!(
        run(&base(), &ok_101(&many)).unwrap_err(),
        Error::TooManyHeaders { limit: 124 }
    );
    let few = (0..120)
        .map(|i| format!("X-{i}: v\r\n"))
        .collect::<Vec<_>>()
        .concat();
    accepted(&base(), &ok_101(&few));
    let req = base()
        .options(RequestOptions::new().response_limits(ResponseLimits::default().max_headers(3)));
    accepted(&req.clone(), &ok_101(""));
    assert_eq!(
        run(&req, &ok_101("X: 1\r\n")).unwrap_err(),
        Error::TooManyHeaders { limit: 3 }
    );
}

#[test]
fn limits_default_to_the_documented_values() {
    let limits = ResponseLimits::default();
    assert_eq!(
        (limits.head_bytes(), limits.headers(), limits.body_bytes()),
        (65_536, 124, 65_536)
    );
}

#[test]
fn eof_inside_the_head_is_an_error() {
    let mut handshake = base().build().unwrap();
    assert_eq!(handshake.feed(b"HTTP/1.1 101 Swi").unwrap(), None);
    assert_eq!(
        handshake.finish_eof().unwrap_err(),
        Error::UnexpectedEof { read: 16 }
    );
    let mut handshake = base().build().unwrap();
    assert_eq!(
        handshake.finish_eof().unwrap_err(),
        Error::UnexpectedEof { read: 0 }
    );
}

#[test]
fn a_finished_handshake_takes_no_more_input() {
    let mut handshake = base().build().unwrap();
    assert!(matches!(
        handshake.feed(&ok_101("")),
        Ok(Some(Outcome::Accepted(_)))
    ));
    assert_eq!(handshake.feed(b"x").unwrap_err(), Error::Finished);
    assert_eq!(handshake.finish_eof().unwrap_err(), Error::Finished);
    let mut handshake = base().build().unwrap();
    assert_eq!(
        handshake.feed(b"HTTP/1.0 101 X\r\n\r\n").unwrap_err(),
        Error::BadHttpVersion { minor: 0 }
    );
    assert_eq!(handshake.feed(b"x").unwrap_err(), Error::Finished);
}

#[test]
fn head_split_anywhere_keeps_every_byte_after_it() {
    let raw = fixture("websockets_101.http");
    for split in 0..=raw.len() {
        let mut handshake = base().build().unwrap();
        let (a, b) = raw.split_at(split);
        let (outcome, caller_keeps) = match handshake.feed(a).unwrap() {
            Some(outcome) => (outcome, b),
            None => (handshake.feed(b).unwrap().unwrap(), &b""[..]),
        };
        let Outcome::Accepted(accepted) = outcome else {
            panic!()
        };
        // Bytes behind the head are in `rest`, or still with the caller if the head
        // completed in the first piece; none are lost or duplicated.
        let mut all = accepted.rest.clone();
        all.extend_from_slice(caller_keeps);
        assert_eq!(all, b"\x81\x05hello", "split {split}");
    }
}

#[test]
fn debug_of_a_handshake_shows_neither_request_nor_response_values() {
    let mut handshake: Handshake = base()
        .options(RequestOptions::new().cookie("session=s3cret"))
        .build()
        .unwrap();
    handshake
        .feed(b"HTTP/1.1 403 Forbidden\r\nSet-Cookie: s=hunter2\r\nContent-Length: 1\r\n\r\n")
        .unwrap();
    let shown = format!("{handshake:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("hunter2"),
        "{shown}"
    );
    assert!(shown.contains("response_complete: true"), "{shown}");
}

#[test]
fn redirect_headers_stay_available_for_cookies() {
    let mut handshake = base().build().unwrap();
    assert_eq!(handshake.response_headers(), None);
    let outcome = handshake
        .feed(b"HTTP/1.1 302 Found\r\nSet-Cookie: a=1; Domain=example.com\r\nLocation: /b\r\n\r\n")
        .unwrap();
    assert!(matches!(
        outcome,
        Some(Outcome::Redirect { status: 302, .. })
    ));
    assert_eq!(
        handshake.response_headers().unwrap(),
        pairs(&[
            ("Set-Cookie", "a=1; Domain=example.com"),
            ("Location", "/b")
        ])
    );
}

#[test]
fn option_enums_default_to_the_generated_headers() {
    assert_eq!(
        ws_handshake::Origin::default(),
        ws_handshake::Origin::Default
    );
    assert_eq!(
        ws_handshake::HostHeader::default(),
        ws_handshake::HostHeader::Default
    );
}

#[test]
fn eof_inside_a_declared_body_returns_what_arrived() {
    let mut handshake = base().build().unwrap();
    assert_eq!(
        handshake
            .feed(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 50\r\n\r\npartial")
            .unwrap(),
        None
    );
    let Err(Error::BadStatus { status, body, .. }) = handshake.finish_eof() else {
        panic!()
    };
    assert_eq!((status, body.as_slice()), (403, &b"partial"[..]));
}

#[test]
fn typed_deflate_offers_give_the_negotiated_parameters() {
    let req = base().deflate([
        DeflateOffer::new().client_max_window_bits(None),
        DeflateOffer::new(),
    ]);
    let a = accepted(
        &req,
        &ok_101(
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=9; \
             server_no_context_takeover\r\n",
        ),
    );
    let params = a.deflate.unwrap();
    assert_eq!(params.client_max_window_bits, 9);
    assert_eq!(params.server_max_window_bits, 15);
    assert!(params.server_no_context_takeover);
    assert!(!params.client_no_context_takeover);
    // The server may decline: no extension, no compression.
    assert_eq!(accepted(&req, &ok_101("")).deflate, None);
    // Without typed offers there is nothing to report.
    let raw = base().extensions("permessage-deflate");
    let a = accepted(
        &raw,
        &ok_101("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
    );
    assert_eq!(a.deflate, None);
}

#[test]
fn rejects_a_deflate_answer_that_breaks_rfc_7692() {
    let req = base().deflate([DeflateOffer::new()]);
    for (answer, expected) in [
        (
            "permessage-deflate; client_max_window_bits=10",
            DeflateError::NotOffered("client_max_window_bits".to_owned()),
        ),
        (
            "permessage-deflate; mystery",
            DeflateError::UnknownParameter("mystery".to_owned()),
        ),
        (
            "permessage-deflate, permessage-deflate",
            DeflateError::DuplicateExtension,
        ),
    ] {
        let response = ok_101(&format!("Sec-WebSocket-Extensions: {answer}\r\n"));
        assert_eq!(
            run(&req, &response).unwrap_err(),
            Error::Deflate(expected),
            "{answer}"
        );
    }
}

#[test]
fn refuses_to_send_an_offer_with_bad_window_bits() {
    for offer in [
        DeflateOffer::new().server_max_window_bits(16),
        DeflateOffer::new().client_max_window_bits(Some(7)),
    ] {
        assert_eq!(
            base().deflate([offer]).build().unwrap_err(),
            Error::InvalidHeader {
                name: "Sec-WebSocket-Extensions".to_owned(),
                reason: "permessage-deflate window bits must be between 8 and 15",
            }
        );
    }
    // A caller header cannot add a second offer header next to the typed one.
    assert_eq!(
        base()
            .deflate([DeflateOffer::new()])
            .options(RequestOptions::new().header("Sec-WebSocket-Extensions", "x"))
            .build()
            .unwrap_err(),
        Error::DuplicateHeader {
            name: "Sec-WebSocket-Extensions".to_owned()
        }
    );
}
