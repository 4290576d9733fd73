//! The client request builder: exact bytes, header order, defaults and every validation.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use ws_handshake::{ClientRequest, Error, HostHeader, Origin, RequestOptions, Scheme};

const NONCE: [u8; 16] = *b"the sample nonce";

fn request(host: &str, port: u16, secure: bool, resource: &str) -> ClientRequest {
    let scheme = if secure { Scheme::Wss } else { Scheme::Ws };
    ClientRequest::new(host, port, scheme, resource).key(NONCE)
}

fn text(req: &ClientRequest) -> String {
    String::from_utf8(req.build().unwrap().request_bytes().to_vec()).unwrap()
}

fn header_value(req: &ClientRequest, name: &str) -> Option<String> {
    let text = text(req);
    text.lines()
        .skip(1)
        .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
}

#[test]
fn writes_the_python_header_order_with_every_option() {
    let req = request("example.com", 8080, false, "/chat?x=1")
        .options(
            RequestOptions::new()
                .subprotocols(["chat", "superchat"])
                .header("X-One", "1")
                .header("X-One", "2")
                .cookie("a=b; c=d"),
        )
        .extensions("permessage-deflate; client_max_window_bits")
        .basic_auth("user", "pa:ss");
    assert_eq!(
        text(&req),
        "GET /chat?x=1 HTTP/1.1\r\n\
         Upgrade: websocket\r\n\
         Host: example.com:8080\r\n\
         Origin: http://example.com:8080\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Authorization: Basic dXNlcjpwYTpzcw==\r\n\
         X-One: 1\r\n\
         X-One: 2\r\n\
         Cookie: a=b; c=d\r\n\
         \r\n"
    );
}

#[test]
fn minimal_request_matches_the_python_trace() {
    let req = request("127.0.0.1", 18766, false, "/echo?x=1")
        .options(RequestOptions::new().header("X-Test", "1"));
    assert_eq!(
        text(&req),
        "GET /echo?x=1 HTTP/1.1\r\nUpgrade: websocket\r\nHost: 127.0.0.1:18766\r\n\
         Origin: http://127.0.0.1:18766\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\nConnection: Upgrade\r\nX-Test: 1\r\n\r\n"
    );
}

#[test]
fn host_carries_the_port_only_when_it_is_not_the_scheme_default() {
    let cases = [
        ("h", 80, false, "h", "http://h"),
        ("h", 443, true, "h", "https://h"),
        // Python drops 80 and 443 whatever the scheme; we keep them when not the default.
        ("h", 443, false, "h:443", "http://h:443"),
        ("h", 80, true, "h:80", "https://h:80"),
        ("h", 8443, true, "h:8443", "https://h:8443"),
        ("::1", 80, false, "[::1]", "http://[::1]"),
        ("::1", 9001, true, "[::1]:9001", "https://[::1]:9001"),
        (
            "[2001:db8::1]",
            8080,
            false,
            "[2001:db8::1]:8080",
            "http://[2001:db8::1]:8080",
        ),
        (
            "fe80::1%eth0",
            80,
            false,
            "[fe80::1%eth0]",
            "http://[fe80::1%eth0]",
        ),
    ];
    for (host, port, secure, want_host, want_origin) in cases {
        let req = request(host, port, secure, "/");
        assert_eq!(
            header_value(&req, "Host").as_deref(),
            Some(want_host),
            "{host}:{port}"
        );
        assert_eq!(
            header_value(&req, "Origin").as_deref(),
            Some(want_origin),
            "{host}:{port}"
        );
        let scheme = if secure { "wss://" } else { "ws://" };
        assert_eq!(req.build().unwrap().url(), format!("{scheme}{want_host}/"));
    }
}

#[test]
fn url_names_scheme_host_port_and_resource() {
    assert_eq!(
        request("h", 80, false, "").build().unwrap().url(),
        "ws://h/"
    );
    assert_eq!(
        request("::1", 444, true, "/a?b").build().unwrap().url(),
        "wss://[::1]:444/a?b"
    );
}

#[test]
fn resource_defaults_to_slash_and_a_bare_query_gets_one() {
    assert!(text(&request("h", 80, false, "")).starts_with("GET / HTTP/1.1\r\n"));
    assert!(text(&request("h", 80, false, "?a=1")).starts_with("GET /?a=1 HTTP/1.1\r\n"));
    assert!(text(&request("h", 80, false, "/p%20q")).starts_with("GET /p%20q HTTP/1.1\r\n"));
}

#[test]
fn rejects_resources_that_would_break_the_request_line() {
    let cases = [
        ("/a b", "contains whitespace or a control character"),
        ("/a\r\nX: y", "contains whitespace or a control character"),
        ("/é", "contains non-ASCII characters (percent-encode them)"),
        ("/a#frag", "contains a fragment ('#')"),
        ("chat", "must start with '/'"),
    ];
    for (resource, reason) in cases {
        let err = request("h", 80, false, resource).build().unwrap_err();
        assert_eq!(
            err,
            Error::InvalidResource {
                resource: resource.to_owned(),
                reason
            }
        );
    }
}

#[test]
fn origin_and_host_can_be_replaced_or_suppressed() {
    let req = request("h", 80, false, "/").options(
        RequestOptions::new()
            .origin(Origin::Custom("https://app.example".to_owned()))
            .host(HostHeader::Custom("front.example".to_owned())),
    );
    assert_eq!(
        header_value(&req, "Origin").as_deref(),
        Some("https://app.example")
    );
    assert_eq!(header_value(&req, "Host").as_deref(), Some("front.example"));

    let req = request("h", 80, false, "/").options(
        RequestOptions::new()
            .origin(Origin::Suppress)
            .host(HostHeader::Suppress),
    );
    let text = text(&req);
    assert!(
        !text.contains("Origin:") && !text.contains("Host:"),
        "{text}"
    );
    // With the generated header suppressed, the caller may send their own.
    let req = request("h", 80, false, "/").options(
        RequestOptions::new()
            .origin(Origin::Suppress)
            .header("origin", "null")
            .host(HostHeader::Suppress)
            .header("Host", "x"),
    );
    assert!(text_contains(&req, "origin: null\r\nHost: x\r\n"));
}

fn text_contains(req: &ClientRequest, needle: &str) -> bool {
    text(req).contains(needle)
}

#[test]
fn empty_cookie_is_omitted() {
    assert!(
        !text(&request("h", 80, false, "/").options(RequestOptions::new().cookie("")))
            .contains("Cookie")
    );
}

#[test]
fn rejects_header_injection_in_names_and_values() {
    let cases: [(&str, &str, &str, &str); 7] = [
        (
            "X-A",
            "v\r\nEvil: 1",
            "X-A",
            "value contains a carriage return",
        ),
        ("X-A", "v\nEvil: 1", "X-A", "value contains a line feed"),
        ("X-A", "v\0", "X-A", "value contains a NUL byte"),
        (
            "X-A",
            "v\x1b[0m",
            "X-A",
            "value contains a control character",
        ),
        ("X A", "v", "X A", "name is not an HTTP token"),
        ("X-A:", "v", "X-A:", "name is not an HTTP token"),
        ("", "v", "", "name is not an HTTP token"),
    ];
    for (name, value, err_name, reason) in cases {
        let err = request("h", 80, false, "/")
            .options(RequestOptions::new().header(name, value))
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidHeader {
                name: err_name.to_owned(),
                reason
            },
            "{name:?}: {value:?}"
        );
    }
}

#[test]
fn rejects_injection_through_every_generated_value() {
    let bad = "x\r\nEvil: 1";
    let cases = [
        (
            request("h", 80, false, "/")
                .options(RequestOptions::new().origin(Origin::Custom(bad.to_owned()))),
            "Origin",
        ),
        (
            request("h", 80, false, "/")
                .options(RequestOptions::new().host(HostHeader::Custom(bad.to_owned()))),
            "Host",
        ),
        (
            request("h", 80, false, "/").options(RequestOptions::new().cookie(bad)),
            "Cookie",
        ),
        (
            request("h", 80, false, "/").extensions(bad),
            "Sec-WebSocket-Extensions",
        ),
    ];
    for (req, name) in cases {
        let err = req.build().unwrap_err();
        assert_eq!(
            err,
            Error::InvalidHeader {
                name: name.to_owned(),
                reason: "value contains a carriage return"
            }
        );
    }
}

#[test]
fn rejects_bad_hosts_subprotocols_extensions_and_users() {
    let cases = [
        (request("", 80, false, "/"), "Host", "host is empty"),
        (
            request("h/x", 80, false, "/"),
            "Host",
            "host contains a character a host name cannot hold",
        ),
        (
            request("h x", 80, false, "/"),
            "Host",
            "host contains a character a host name cannot hold",
        ),
        (
            request("a@b", 80, false, "/"),
            "Host",
            "host contains a character a host name cannot hold",
        ),
        (
            request("h:x:y!", 80, false, "/"),
            "Host",
            "host with ':' is not an IPv6 literal",
        ),
        (
            request("h", 80, false, "/").options(RequestOptions::new().subprotocols(["chat v2"])),
            "Sec-WebSocket-Protocol",
            "subprotocol is not an HTTP token",
        ),
        (
            request("h", 80, false, "/").options(RequestOptions::new().subprotocols([""])),
            "Sec-WebSocket-Protocol",
            "subprotocol is not an HTTP token",
        ),
        (
            request("h", 80, false, "/").extensions("perm(x); a=1"),
            "Sec-WebSocket-Extensions",
            "extension name is not an HTTP token",
        ),
        (
            request("h", 80, false, "/").basic_auth("a:b", "c"),
            "Authorization",
            "basic-auth user name contains ':'",
        ),
    ];
    for (req, name, reason) in cases {
        assert_eq!(
            req.build().unwrap_err(),
            Error::InvalidHeader {
                name: name.to_owned(),
                reason
            }
        );
    }
}

#[test]
fn rejects_caller_headers_that_duplicate_generated_ones() {
    let cases = [
        (
            request("h", 80, false, "/").options(RequestOptions::new().header("host", "x")),
            "host",
        ),
        (
            request("h", 80, false, "/").options(RequestOptions::new().header("Origin", "x")),
            "Origin",
        ),
        (
            request("h", 80, false, "/")
                .options(RequestOptions::new().header("UPGRADE", "websocket")),
            "UPGRADE",
        ),
        (
            request("h", 80, false, "/")
                .options(RequestOptions::new().header("Connection", "keep-alive")),
            "Connection",
        ),
        (
            request("h", 80, false, "/").options(
                RequestOptions::new()
                    .subprotocols(["a"])
                    .header("Sec-WebSocket-Protocol", "b"),
            ),
            "Sec-WebSocket-Protocol",
        ),
        (
            request("h", 80, false, "/")
                .extensions("permessage-deflate")
                .options(RequestOptions::new().header("sec-websocket-extensions", "x")),
            "sec-websocket-extensions",
        ),
        (
            request("h", 80, false, "/")
                .basic_auth("u", "p")
                .options(RequestOptions::new().header("Authorization", "x")),
            "Authorization",
        ),
        (
            request("h", 80, false, "/")
                .options(RequestOptions::new().cookie("a=b").header("Cookie", "c=d")),
            "Cookie",
        ),
        (
            request("h", 80, false, "/").options(
                RequestOptions::new()
                    .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
                    .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ),
            "sec-websocket-key",
        ),
        (
            request("h", 80, false, "/").options(
                RequestOptions::new()
                    .header("Sec-WebSocket-Version", "13")
                    .header("Sec-WebSocket-Version", "13"),
            ),
            "Sec-WebSocket-Version",
        ),
    ];
    for (req, name) in cases {
        assert_eq!(
            req.build().unwrap_err(),
            Error::DuplicateHeader {
                name: name.to_owned()
            }
        );
    }
}

#[test]
fn caller_key_and_version_headers_replace_the_generated_ones_consistently() {
    let req = ClientRequest::new("h", 80, Scheme::Ws, "/")
        .key(NONCE)
        .options(
            RequestOptions::new()
                .header("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==")
                .header("Sec-WebSocket-Version", "13"),
        );
    let handshake = req.build().unwrap();
    let text = String::from_utf8(handshake.request_bytes().to_vec()).unwrap();
    assert_eq!(text.matches("Sec-WebSocket-Key").count(), 1, "{text}");
    assert_eq!(text.matches("Sec-WebSocket-Version").count(), 1, "{text}");
    assert!(text.ends_with(
        "Connection: Upgrade\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ));
    assert_eq!(handshake.key(), "x3JJHMbDL1EzLkh9GBhXDw==");
    assert_eq!(handshake.expected_accept(), "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

#[test]
fn build_fails_without_a_key() {
    let err = ClientRequest::new("h", 80, Scheme::Ws, "/")
        .build()
        .unwrap_err();
    assert_eq!(err, Error::MissingKey);
    assert_eq!(
        err.to_string(),
        "no Sec-WebSocket-Key: pass 16 random bytes with ClientRequest::key"
    );
}

#[test]
fn debug_shows_no_credentials_or_cookies() {
    let req = request("h", 80, false, "/")
        .basic_auth("user", "secret")
        .options(
            RequestOptions::new()
                .header("Proxy-Authorization", "Basic c2VjcmV0")
                .header("X-Visible", "yes")
                .cookie("session=secret"),
        );
    let handshake = req.build().unwrap();
    let raw = String::from_utf8(handshake.request_bytes().to_vec()).unwrap();
    assert!(raw.contains("Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"));
    for shown in [format!("{req:?}"), format!("{handshake:?}")] {
        assert!(
            !shown.contains("c2VjcmV0") && !shown.contains("secret") && !shown.contains("dXNl"),
            "{shown}"
        );
    }
    assert!(format!("{req:?}").contains("X-Visible"));
}

#[test]
fn error_messages_name_what_and_where() {
    let err = request("h", 80, false, "/")
        .options(RequestOptions::new().header("X-A", "a\nb"))
        .build()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request header \"X-A\": value contains a line feed"
    );
    let err = request("h", 80, false, "x").build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid request resource \"x\": must start with '/'"
    );
}

#[test]
fn empty_extension_offer_sends_no_header() {
    let req = request("h", 80, false, "/").extensions(" ");
    assert!(!text(&req).contains("Sec-WebSocket-Extensions"));
    // And a caller header may then carry the offer.
    let req = request("h", 80, false, "/")
        .extensions("")
        .options(RequestOptions::new().header("Sec-WebSocket-Extensions", "x-a"));
    assert!(text(&req).contains("\r\nSec-WebSocket-Extensions: x-a\r\n"));
}

#[test]
fn a_host_with_a_colon_must_be_an_ipv6_literal() {
    for host in ["example.com:8080", "1:2", "fe80::1%", "fe80::1%a!b", "::g"] {
        let err = request(host, 80, false, "/").build().unwrap_err();
        assert_eq!(
            err,
            Error::InvalidHeader {
                name: "Host".to_owned(),
                reason: "host with ':' is not an IPv6 literal"
            },
            "{host}"
        );
    }
    for (host, want) in [
        ("::ffff:192.0.2.1", "[::ffff:192.0.2.1]"),
        ("[fe80::1%25eth0]", "[fe80::1%25eth0]"),
    ] {
        assert_eq!(
            header_value(&request(host, 80, false, "/"), "Host").as_deref(),
            Some(want)
        );
    }
}
