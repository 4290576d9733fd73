//! The errors the fault suites of both clients expect (`client/faults.rs` and
//! `client_async/faults.rs` include this file): the same fault ends in the same error
//! whichever client meets it.

use std::time::Duration;

use ws_client::ws_frame::ProtocolError;
use ws_client::ws_net::{self, Limit, Phase};
use ws_client::{CloseCode, Error, Op, Proxy, ProxyError, ws_handshake};
use ws_tests::faults::{
    Socks5Fault, drip, http_proxy, http_proxy_answering_garbage, socks5_proxy, wait_for_hangup,
};
use ws_tests::{Peer, TIMEOUT};

/// Asserts that `err` is a timeout of `want`.
pub(crate) fn assert_timeout(err: &Error, want: Op) {
    assert!(
        matches!(err, Error::Timeout { op, .. } if *op == want),
        "{err:?}"
    );
}

/// Whether `err` is the abnormal close (1006) of a connection lost without a close
/// frame, with an I/O error of `kind` as its source (`None`: any or no source).
pub(crate) fn is_lost(err: &Error, kind: Option<std::io::ErrorKind>) -> bool {
    matches!(err, Error::ConnectionClosed { code: Some(c), source, .. }
        if *c == CloseCode::ABNORMAL
            && kind.is_none_or(|kind| source.as_ref().is_some_and(|s| s.kind() == kind)))
}

/// Whether `err` is a connect timeout of the proxy handshake, ended by the overall
/// deadline when `by_deadline`, else by a per-operation timeout (the proxy's own, or the
/// read timeout).
pub(crate) fn is_proxy_timeout(err: &Error, by_deadline: bool) -> bool {
    let Error::Timeout {
        op: Op::Connect,
        detail: Some(detail),
        ..
    } = err
    else {
        return false;
    };
    match **detail {
        ws_net::Error::Timeout {
            phase: Phase::ProxyHandshake,
            limit: Some(Limit::Deadline { .. }),
            ..
        } => by_deadline,
        ws_net::Error::Timeout {
            phase: Phase::ProxyHandshake,
            limit: Some(Limit::Timeout(_)),
            ..
        } => !by_deadline,
        _ => false,
    }
}

/// Stalling proxies: (the proxy's own timeout, the overall deadline, whether the
/// deadline ends it).
pub(crate) const STALL_CASES: [(Option<Duration>, Option<Duration>, bool); 2] = [
    (Some(Duration::from_millis(300)), Some(TIMEOUT), false),
    (None, Some(Duration::from_millis(500)), true),
];

/// Asserts that `err` is [`Error::Protocol`] with `want`.
pub(crate) fn assert_protocol(err: &Error, want: &ProtocolError) {
    assert!(matches!(err, Error::Protocol(e) if e == want), "{err:?}");
}

/// Asserts that `err` is a response head over the limit (64 KiB when `exact`).
pub(crate) fn assert_head_too_large(err: &Error, exact: bool) {
    assert!(
        matches!(err, Error::Handshake(ws_handshake::Error::HeadTooLarge { limit })
            if !exact || *limit == 65536),
        "{err:?}"
    );
}

/// Asserts that `err` is a response with more than the 124 headers allowed.
pub(crate) fn assert_too_many_headers(err: &Error) {
    assert!(
        matches!(
            err,
            Error::Handshake(ws_handshake::Error::TooManyHeaders { limit: 124 })
        ),
        "{err:?}"
    );
}

/// Asserts that `err` is the 407 of an HTTP proxy.
pub(crate) fn assert_407(err: &Error) {
    assert!(
        matches!(err, Error::Proxy(ProxyError::AuthenticationFailed { status_line, .. })
            if status_line.contains("407")),
        "{err:?}"
    );
}

/// A dripping proxy: (the proxy's own timeout, the overall deadline, whether the
/// deadline ends it).
const DRIP_CASES: [(Option<Duration>, Option<Duration>, bool); 2] = [
    (
        Some(Duration::from_millis(300)),
        Some(Duration::from_millis(800)),
        true,
    ),
    (None, Some(Duration::from_millis(500)), true),
];

/// A misbehaving proxy of the suites: what it does, the server, and how to use it.
pub(crate) struct BadProxy {
    pub(crate) what: String,
    pub(crate) peer: Peer,
    pub(crate) proxy: Proxy,
}

/// Proxies that stall (HTTP after the CONNECT, or dripping its reply one byte every
/// 100 ms; SOCKS5 at the greeting and at the request), with the proxy's own timeout set as the [`STALL_CASES`] say, and the
/// deadline and whether it ends the handshake.
pub(crate) fn stalling_proxies() -> impl Iterator<Item = (BadProxy, Option<Duration>, bool)> {
    let kinds = ["http", "http drip", "socks5 greeting", "socks5 request"];
    kinds.into_iter().flat_map(|kind| {
        // The proxy's own timeout bounds each read and write of its handshake, not the
        // whole of it: a reply dripped inside it is ended by the deadline alone.
        let cases = if kind == "http drip" {
            DRIP_CASES
        } else {
            STALL_CASES
        };
        cases
            .into_iter()
            .map(move |(proxy_timeout, deadline, by_deadline)| {
                let (peer, proxy): (Peer, fn(&str, u16) -> Proxy) = match kind {
                    "http" => (http_proxy(wait_for_hangup), Proxy::http),
                    "http drip" => (http_proxy(drips_200), Proxy::http),
                    "socks5 greeting" => (
                        socks5_proxy(Socks5Fault::StallsAtTheGreeting),
                        Proxy::socks5h,
                    ),
                    _ => (
                        socks5_proxy(Socks5Fault::StallsAtTheRequest),
                        Proxy::socks5h,
                    ),
                };
                let proxy = proxy("127.0.0.1", peer.addr.port()).timeout(proxy_timeout);
                let what = format!("{kind} with proxy timeout {proxy_timeout:?}");
                (BadProxy { what, peer, proxy }, deadline, by_deadline)
            })
    })
}

/// Drips a 200 answer to a CONNECT one byte every 100 ms (about 4 s in all).
fn drips_200(tcp: &mut std::net::TcpStream) {
    let reply = b"HTTP/1.1 200 Connection established\r\nX-Pad: dripping\r\n\r\n";
    drip(tcp, reply, Duration::from_millis(100));
    wait_for_hangup(tcp);
}

/// Proxies answering garbage (HTTP to the CONNECT, SOCKS5 to the greeting and to the
/// request), with the protocol the error names.
pub(crate) fn garbage_proxies() -> impl Iterator<Item = (BadProxy, &'static str)> {
    let kinds = ["http", "socks5 greeting", "socks5 request"];
    kinds.into_iter().map(|kind| {
        let (peer, proxy, protocol): (Peer, fn(&str, u16) -> Proxy, _) = match kind {
            "http" => (http_proxy_answering_garbage(), Proxy::http, "http"),
            "socks5 greeting" => (
                socks5_proxy(Socks5Fault::GarbageGreeting),
                Proxy::socks5h,
                "socks5",
            ),
            _ => (
                socks5_proxy(Socks5Fault::GarbageReply),
                Proxy::socks5h,
                "socks5",
            ),
        };
        let proxy = proxy("127.0.0.1", peer.addr.port());
        let what = format!("garbage from {kind}");
        (BadProxy { what, peer, proxy }, protocol)
    })
}

/// Asserts that `err` is a malformed reply of a `protocol` proxy.
pub(crate) fn assert_malformed_proxy(err: &Error, protocol: &str, what: &str) {
    assert!(
        matches!(err, Error::Proxy(ProxyError::Malformed { protocol: p, .. }) if *p == protocol),
        "{what}: {err:?}"
    );
}
