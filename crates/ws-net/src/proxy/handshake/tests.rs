//! The proxy machines fed in memory: every split of every reply, every refusal, and the
//! tunnel's first bytes left alone.

use super::*;

/// What a run of the machine against a scripted proxy gave.
struct Run {
    /// Everything the machine asked to send, in order.
    sent: Vec<u8>,
    /// How many bytes of the proxy's stream the handshake consumed, or its error.
    result: Result<usize, ProxyError>,
}

/// Feeds `stream` (everything the proxy sends, replies and tunnel data) in chunks of
/// `chunk` bytes, sending whatever the machine asks for in between; ends the stream with
/// an EOF when it runs out.
fn run(hs: ProxyHandshake, stream: &[u8], chunk: usize) -> Run {
    run_split(hs, stream, || chunk)
}

/// Like [`run`], with each chunk's size from `next_chunk` (at least 1).
fn run_split(mut hs: ProxyHandshake, stream: &[u8], mut next_chunk: impl FnMut() -> usize) -> Run {
    let mut sent = Vec::new();
    let mut pos = 0;
    loop {
        while let Some(bytes) = hs.poll_transmit() {
            sent.extend_from_slice(bytes);
            let n = bytes.len();
            hs.transmitted(n);
        }
        if hs.is_complete() {
            return Run {
                sent,
                result: Ok(pos),
            };
        }
        if pos == stream.len() {
            let result = Err(hs.receive_eof());
            return Run { sent, result };
        }
        let end = (pos + next_chunk().max(1)).min(stream.len());
        match hs.receive(&stream[pos..end]) {
            Ok(progress) => {
                let consumed = progress.consumed();
                assert!(consumed <= end - pos);
                if let Progress::Partial { needed, .. } = progress {
                    assert!(needed >= 1, "a partial reply always needs a byte");
                    assert!(
                        consumed == end - pos || hs.poll_transmit().is_some(),
                        "input is left only when a request must be sent first"
                    );
                }
                pos += consumed;
            }
            Err(err) => {
                return Run {
                    sent,
                    result: Err(err),
                };
            }
        }
    }
}

/// Runs with every chunk size from 1 to the whole stream and with 64 irregular splits
/// (sizes from a fixed-seed generator), asserting they all agree, and returns the
/// byte-by-byte run.
fn run_every_split(new: impl Fn() -> ProxyHandshake, stream: &[u8]) -> Run {
    let first = run(new(), stream, 1);
    let same = |other: &Run, what: &str| {
        assert_eq!(other.sent, first.sent, "{what}");
        match (&other.result, &first.result) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{what}"),
            (a, b) => panic!("{what}: {a:?} vs {b:?}"),
        }
    };
    for chunk in 2..=stream.len().max(2) {
        same(&run(new(), stream, chunk), &format!("chunk {chunk}"));
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for seed in 0..64 {
        let mut next_chunk = || {
            // xorshift64: a reproducible spread of sizes 1..=7.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % 7).unwrap() + 1
        };
        same(
            &run_split(new(), stream, &mut next_chunk),
            &format!("split {seed}"),
        );
    }
    first
}

/// Reads only what `needed` allows, as a driver without `peek` would: every byte read
/// must be consumed, and the run ends exactly at the end of the reply.
fn run_reading_only_needed(mut hs: ProxyHandshake, stream: &[u8]) -> usize {
    let mut pos = 0;
    let mut needed = 1;
    loop {
        while let Some(bytes) = hs.poll_transmit() {
            let n = bytes.len();
            hs.transmitted(n);
        }
        if hs.is_complete() {
            return pos;
        }
        let end = (pos + needed).min(stream.len());
        match hs.receive(&stream[pos..end]).unwrap() {
            Progress::Partial {
                consumed,
                needed: next,
            } => {
                assert_eq!(
                    consumed,
                    end - pos,
                    "a byte read within `needed` was refused"
                );
                needed = next;
                pos = end;
            }
            Progress::Complete { consumed } => {
                assert_eq!(
                    consumed,
                    end - pos,
                    "a byte read within `needed` was refused"
                );
                pos = end;
            }
        }
    }
}

fn http(auth: bool) -> ProxyHandshake {
    let proxy = Proxy::http("proxy.test", 3128);
    let proxy = if auth {
        proxy.with_auth("u", "p")
    } else {
        proxy
    };
    ProxyHandshake::new(&proxy, "target.test", 8080).unwrap()
}

fn with_tunnel_data(reply: &[u8]) -> Vec<u8> {
    let mut stream = reply.to_vec();
    stream.extend_from_slice(b"TUNNEL\r\n\r\nDATA");
    stream
}

#[test]
fn http_connect_completes_in_any_split_and_leaves_the_tunnel_bytes() {
    let head = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n";
    let stream = with_tunnel_data(head);
    let run = run_every_split(|| http(true), &stream);
    assert_eq!(run.result.unwrap(), head.len());
    assert_eq!(
        run.sent,
        b"CONNECT target.test:8080 HTTP/1.1\r\nHost: target.test:8080\r\n\
          Proxy-Authorization: Basic dTpw\r\n\r\n"
    );
    assert_eq!(run_reading_only_needed(http(false), &stream), head.len());
}

#[test]
fn http_connect_brackets_ipv6_targets() {
    let hs = ProxyHandshake::new(&Proxy::http("p", 1), "[::1]", 9).unwrap();
    assert_eq!(
        hs.poll_transmit().unwrap(),
        b"CONNECT [::1]:9 HTTP/1.1\r\nHost: [::1]:9\r\n\r\n"
    );
}

#[test]
fn http_407_with_a_body_is_an_authentication_failure_saying_whether_credentials_were_sent() {
    let reply = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nnope";
    for (auth, note) in [
        (false, "(no credentials were configured)"),
        (true, "(the proxy rejected the credentials)"),
    ] {
        let run = run_every_split(|| http(auth), reply);
        let err = run.result.unwrap_err();
        let ProxyError::AuthenticationFailed { proxy, status_line } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(proxy, "proxy.test:3128");
        assert_eq!(
            status_line,
            &format!("HTTP/1.1 407 Proxy Authentication Required {note}")
        );
        assert!(!err.to_string().contains("dTpw"), "{err}");
    }
}

#[test]
fn http_refusals_carry_status_and_target() {
    let run = run_every_split(|| http(false), b"HTTP/1.0 503 Service Unavailable\r\n\r\n");
    let err = run.result.unwrap_err();
    assert!(
        matches!(
            &err,
            ProxyError::HttpStatus { status: 503, target, status_line, .. }
                if target == "target.test:8080" && status_line == "HTTP/1.0 503 Service Unavailable"
        ),
        "{err:?}"
    );
}

#[test]
fn http_head_over_16_kib_is_refused_and_one_of_exactly_16_kib_is_not() {
    let mut exact = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
    exact.resize(MAX_HEAD_FOR_TESTS - 4, b'a');
    exact.extend_from_slice(b"\r\n\r\n");
    assert_eq!(exact.len(), MAX_HEAD_FOR_TESTS);
    assert_eq!(run(http(false), &exact, 1000).result.unwrap(), exact.len());

    let mut over = exact[..exact.len() - 4].to_vec();
    over.extend_from_slice(b"a\r\n\r\n");
    for chunk in [1, 1000, over.len()] {
        let err = run(http(false), &over, chunk).result.unwrap_err();
        assert!(
            matches!(err, ProxyError::HeadTooLarge { limit: 16384, ref proxy } if proxy == "proxy.test:3128"),
            "{err:?}"
        );
    }
}

const MAX_HEAD_FOR_TESTS: usize = super::super::http::MAX_HEAD;

#[test]
fn http_garbage_is_malformed_as_soon_as_the_status_line_ends() {
    for (reply, reason) in [
        (&b"SSH-2.0-OpenSSH_9.2\r\n"[..], "is not HTTP/1.x"),
        (b"HTTP/2 200\r\n", "is not HTTP/1.x"),
        (b"HTTP/1.1 abc Nope\r\n", "has no status code"),
        (b"HTTP/1.1 20 OK\r\n", "has no status code"),
        (b"\r\n", "is not HTTP/1.x"),
        (b"\x05\x00\x00\x01\r\n", "is not HTTP/1.x"),
    ] {
        // No blank line follows: the error must not wait for one.
        let err = run_every_split(|| http(false), reply).result.unwrap_err();
        assert!(
            matches!(&err, ProxyError::Malformed { protocol: "http", reason: r, .. } if r.contains(reason)),
            "{reply:?}: {err:?}"
        );
    }
}

#[test]
fn http_eof_before_the_blank_line_is_closed() {
    for reply in [&b""[..], b"HTTP/1.1 200 OK\r\n", b"HTTP/1.1 200 OK\r\n\r"] {
        let err = run(http(false), reply, 1).result.unwrap_err();
        assert!(
            matches!(
                err,
                ProxyError::Closed {
                    protocol: "http",
                    ..
                }
            ),
            "{reply:?}: {err:?}"
        );
    }
}

#[test]
fn http_needed_never_reaches_past_the_blank_line() {
    let mut hs = http(false);
    hs.transmitted(usize::MAX);
    let needed = |p: Progress| match p {
        Progress::Partial { needed, .. } => needed,
        Progress::Complete { .. } => 0,
    };
    assert_eq!(needed(hs.receive(b"HTTP/1.1 200 OK").unwrap()), 4);
    assert_eq!(needed(hs.receive(b"\r").unwrap()), 3);
    assert_eq!(needed(hs.receive(b"\n").unwrap()), 2);
    assert_eq!(needed(hs.receive(b"\r").unwrap()), 1);
    assert_eq!(
        hs.receive(b"\nX").unwrap(),
        Progress::Complete { consumed: 1 }
    );
}

fn socks4(kind: ProxyKind, host: &str) -> ProxyHandshake {
    let proxy = Proxy::new(kind, "proxy.test", 1080).with_auth("id", "");
    ProxyHandshake::new(&proxy, host, 4567).unwrap()
}

#[test]
fn socks4_and_socks4a_requests_and_granted_replies_in_any_split() {
    let granted = with_tunnel_data(&[0, 0x5a, 0, 0, 0, 0, 0, 0]);
    let run = run_every_split(|| socks4(ProxyKind::Socks4, "10.1.2.3"), &granted);
    assert_eq!(run.result.unwrap(), 8);
    assert_eq!(run.sent, [4, 1, 0x11, 0xd7, 10, 1, 2, 3, b'i', b'd', 0]);

    let run = run_every_split(|| socks4(ProxyKind::Socks4a, "target.test"), &granted);
    assert_eq!(run.result.unwrap(), 8);
    let mut expected = vec![4, 1, 0x11, 0xd7, 0, 0, 0, 1, b'i', b'd', 0];
    expected.extend_from_slice(b"target.test\0");
    assert_eq!(run.sent, expected);
    assert_eq!(
        run_reading_only_needed(socks4(ProxyKind::Socks4a, "t.test"), &granted),
        8
    );
}

#[test]
fn socks4_refusals_and_bad_versions_are_typed_errors() {
    for (code, reason) in [
        (0x5b, "request rejected or failed"),
        (0x5c, "the proxy cannot reach the client's identd"),
        (0x5d, "identd reported a different user id"),
        (0x00, "unknown reply code"),
    ] {
        let reply = [0, code, 0, 0, 0, 0, 0, 0];
        let err = run_every_split(|| socks4(ProxyKind::Socks4, "10.1.2.3"), &reply)
            .result
            .unwrap_err();
        assert!(
            matches!(
                &err,
                ProxyError::Socks4Rejected { code: c, reason: r, target, .. }
                    if *c == code && *r == reason && target == "10.1.2.3:4567"
            ),
            "{err:?}"
        );
    }
    let err = run(
        socks4(ProxyKind::Socks4, "10.1.2.3"),
        &[4, 0x5a, 0, 0, 0, 0, 0, 0],
        3,
    )
    .result
    .unwrap_err();
    assert!(
        matches!(&err, ProxyError::Malformed { protocol: "socks4", reason, .. } if reason == "reply version is 4, expected 0"),
        "{err:?}"
    );
    let err = run(socks4(ProxyKind::Socks4, "10.1.2.3"), &[0, 0x5a, 0], 1)
        .result
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProxyError::Closed {
                protocol: "socks4",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn socks4_refuses_targets_it_cannot_express() {
    let cases: &[(ProxyKind, &str, Option<&str>, &str)] = &[
        (ProxyKind::Socks4, "::1", None, "IPv6"),
        (ProxyKind::Socks4a, "::1", None, "IPv6"),
        (
            ProxyKind::Socks4,
            "target.test",
            None,
            "needs a resolved IPv4",
        ),
        (ProxyKind::Socks4a, "bad\0name", None, "NUL"),
        (ProxyKind::Socks4, "10.0.0.1", Some("bad\0id"), "NUL"),
    ];
    for &(kind, host, user, text) in cases {
        let mut proxy = Proxy::new(kind, "p", 1);
        if let Some(user) = user {
            proxy = proxy.with_auth(user, "");
        }
        let err = ProxyHandshake::new(&proxy, host, 1).unwrap_err();
        assert!(
            matches!(&err, ProxyError::Config { reason } if reason.contains(text)),
            "{host}: {err:?}"
        );
    }
}

fn socks5(auth: bool, host: &str) -> ProxyHandshake {
    let proxy = Proxy::socks5h("proxy.test", 1080);
    let proxy = if auth {
        proxy.with_auth("bob", "s3cret")
    } else {
        proxy
    };
    ProxyHandshake::new(&proxy, host, 443).unwrap()
}

#[test]
fn socks5_completes_for_every_bound_address_type_in_any_split() {
    let bound: &[&[u8]] = &[
        &[1, 10, 0, 0, 1, 0x1f, 0x90],
        &[
            4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x1f, 0x90,
        ],
        &[3, 4, b'h', b'o', b's', b't', 0x1f, 0x90],
        &[3, 0, 0x1f, 0x90],
    ];
    for bound in bound {
        let mut reply = vec![5, 0, 5, 0, 0];
        reply.extend_from_slice(bound);
        let stream = with_tunnel_data(&reply);
        let run = run_every_split(|| socks5(false, "target.test"), &stream);
        assert_eq!(run.result.unwrap(), reply.len(), "{bound:?}");
        let mut expected = vec![5, 1, 0, 5, 1, 0, 3, 11];
        expected.extend_from_slice(b"target.test");
        expected.extend_from_slice(&443u16.to_be_bytes());
        assert_eq!(run.sent, expected);
        assert_eq!(
            run_reading_only_needed(socks5(false, "target.test"), &stream),
            reply.len()
        );
    }
}

#[test]
fn socks5_sends_credentials_when_the_proxy_asks_and_ip_targets_as_addresses() {
    let stream = with_tunnel_data(&[5, 2, 1, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    let first = run_every_split(|| socks5(true, "10.1.2.3"), &stream);
    assert_eq!(first.result.unwrap(), 14);
    let mut expected = vec![5, 2, 0, 2, 1, 3];
    expected.extend_from_slice(b"bob");
    expected.push(6);
    expected.extend_from_slice(b"s3cret");
    expected.extend_from_slice(&[5, 1, 0, 1, 10, 1, 2, 3, 1, 0xbb]);
    assert_eq!(first.sent, expected);
    // With credentials set, the proxy may still choose no authentication.
    let second = run(
        socks5(true, "::1"),
        &[5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0],
        1,
    );
    assert_eq!(second.result.unwrap(), 12);
    let mut expected = vec![5, 2, 0, 2, 5, 1, 0, 4];
    expected.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    expected.extend_from_slice(&[1, 0xbb]);
    assert_eq!(second.sent, expected);
}

#[test]
fn socks5_authentication_failures_are_typed() {
    let err = run_every_split(|| socks5(true, "t.test"), &[5, 2, 1, 1])
        .result
        .unwrap_err();
    assert!(
        matches!(err, ProxyError::Socks5AuthFailed { status: 1, ref proxy } if proxy == "proxy.test:1080"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("s3cret"));
    let err = run(socks5(true, "t.test"), &[5, 2, 5, 0], 1)
        .result
        .unwrap_err();
    assert!(
        matches!(&err, ProxyError::Malformed { protocol: "socks5", reason, .. } if reason == "authentication reply version is 5, expected 1"),
        "{err:?}"
    );
    for (auth, methods) in [
        (false, "no authentication"),
        (true, "no authentication, username/password"),
    ] {
        let err = run(socks5(auth, "t.test"), &[5, 0xff], 1)
            .result
            .unwrap_err();
        assert!(
            matches!(err, ProxyError::Socks5NoAcceptableAuth { offered, .. } if offered == methods),
            "{err:?}"
        );
    }
    // Username/password chosen although no credentials were offered.
    let err = run(socks5(false, "t.test"), &[5, 2], 1).result.unwrap_err();
    assert!(
        matches!(&err, ProxyError::Malformed { protocol: "socks5", reason, .. } if reason.contains("method 0x02, which was not offered")),
        "{err:?}"
    );
}

#[test]
fn socks5_refusals_bad_versions_and_address_types_are_typed() {
    for code in 1..=9u8 {
        let err = run(socks5(false, "t.test"), &[5, 0, 5, code, 0, 1], 1)
            .result
            .unwrap_err();
        assert!(
            matches!(&err, ProxyError::Socks5Rejected { code: c, target, .. } if *c == code && target == "t.test:443"),
            "{err:?}"
        );
    }
    for (reply, reason) in [
        (&[4u8, 0][..], "greeting reply version is 4, expected 5"),
        (&[5, 0, 4, 0, 0, 1], "reply version is 4, expected 5"),
        (&[5, 0, 5, 0, 0, 9], "unknown bound address type 9"),
    ] {
        let err = run(socks5(false, "t.test"), reply, 1).result.unwrap_err();
        assert!(
            matches!(&err, ProxyError::Malformed { protocol: "socks5", reason: r, .. } if r == reason),
            "{reply:?}: {err:?}"
        );
    }
    for cut in [0, 1, 3, 7, 10] {
        let reply = [5, 0, 5, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        let err = run(socks5(false, "t.test"), &reply[..cut], 1)
            .result
            .unwrap_err();
        assert!(
            matches!(
                err,
                ProxyError::Closed {
                    protocol: "socks5",
                    ..
                }
            ),
            "cut {cut}: {err:?}"
        );
    }
}

#[test]
fn socks5_refuses_names_and_credentials_longer_than_255_bytes() {
    let long = "a".repeat(256);
    for (proxy, host, text) in [
        (Proxy::socks5h("p", 1), long.as_str(), "host name longer"),
        (
            Proxy::socks5h("p", 1).with_auth(&long, "x"),
            "t",
            "user name longer",
        ),
        (
            Proxy::socks5h("p", 1).with_auth("x", &long),
            "t",
            "password longer",
        ),
    ] {
        let err = ProxyHandshake::new(&proxy, host, 1).unwrap_err();
        assert!(
            matches!(&err, ProxyError::Config { reason } if reason.contains(text)),
            "{err:?}"
        );
        assert!(!err.to_string().contains(&long));
    }
}

#[test]
fn operation_names_the_current_step() {
    let mut hs = socks5(true, "t.test");
    assert_eq!(hs.operation(), "send socks5 greeting");
    hs.transmitted(1);
    assert_eq!(
        hs.poll_transmit(),
        Some(&[2, 0, 2][..]),
        "partial writes resume"
    );
    hs.transmitted(3);
    assert_eq!(hs.operation(), "read socks reply");
    let _ = hs.receive(&[5, 2]).unwrap();
    assert_eq!(hs.operation(), "send socks5 credentials");
    hs.transmitted(usize::MAX);
    let _ = hs.receive(&[1, 0]).unwrap();
    assert_eq!(hs.operation(), "send socks5 request");
    let mut hs = http(false);
    assert_eq!(hs.operation(), "send CONNECT request");
    hs.transmitted(usize::MAX);
    assert_eq!(hs.operation(), "read CONNECT response");
    assert_eq!(
        socks4(ProxyKind::Socks4, "1.2.3.4").operation(),
        "send socks4 request"
    );
}

#[test]
fn calls_after_the_end_are_harmless() {
    let mut hs = socks4(ProxyKind::Socks4, "1.2.3.4");
    hs.transmitted(usize::MAX);
    assert_eq!(
        hs.receive(&[0, 0x5a, 0, 0, 0, 0, 0, 0, 1]).unwrap(),
        Progress::Complete { consumed: 8 }
    );
    assert_eq!(
        hs.receive(b"more").unwrap(),
        Progress::Complete { consumed: 0 }
    );
    let mut hs = socks4(ProxyKind::Socks4, "1.2.3.4");
    let _ = hs.receive(&[9; 8]).unwrap_err();
    let err = hs.receive(&[0]).unwrap_err();
    assert!(
        matches!(&err, ProxyError::Malformed { reason, .. } if reason == "the handshake already failed"),
        "{err:?}"
    );
}

#[test]
fn debug_never_shows_credentials() {
    let proxy = Proxy::http("p", 1).with_auth("alice", "s3cret");
    let hs = ProxyHandshake::new(&proxy, "t", 1).unwrap();
    let debug = format!("{hs:?}");
    assert!(
        !debug.contains("s3cret") && !debug.contains("YWxpY2U6czNjcmV0"),
        "{debug}"
    );
    assert!(debug.contains("pending_bytes"), "{debug}");
    let hs = socks5(true, "t");
    assert!(!format!("{hs:?}").contains("s3cret"));
}
