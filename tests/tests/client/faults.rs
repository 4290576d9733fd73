//! Faults on the wire against real sockets: a scripted raw TCP server (upgrade by hand,
//! then a byte script with pauses, FIN or RST) and misbehaving proxies. Each case checks
//! the exact error, that it came within a generous bound of its timeout, and that every
//! message the peer completed before the fault was delivered first. `docs/GUARANTEES.md`
//! lists what each test proves.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use ws_client::ws_frame::ProtocolError;
use ws_client::ws_handshake;
use ws_client::{CloseCode, Error, Limits, Message, Op, Proxy, ProxyConfig, ProxyError};
use ws_tests::{
    Peer, TIMEOUT, accept_raw, answer_101, read_client_frame, read_request_head, server_frame,
    tcp_server,
};

use crate::{client, net};

/// What "promptly" means on a loaded 2-core machine for an expectation under a second.
const PROMPTLY: Duration = Duration::from_secs(5);

/// Asserts that `start` was less than [`PROMPTLY`] ago.
fn assert_prompt(start: Instant, what: &str) {
    let elapsed = start.elapsed();
    assert!(elapsed < PROMPTLY, "{what} took {elapsed:?}");
}

/// Asserts that `err` is a timeout of `want`.
fn assert_timeout(err: &Error, want: Op) {
    assert!(
        matches!(err, Error::Timeout { op, .. } if *op == want),
        "{err:?}"
    );
}

/// Reads (and drops) everything until the client hangs up or [`TIMEOUT`] passes.
fn wait_for_hangup(tcp: &mut TcpStream) {
    let mut sink = Vec::new();
    let _ = tcp.read_to_end(&mut sink);
}

/// Writes `bytes` one at a time, `gap` apart (the injected fault, not a synchronisation),
/// until all are out or the client has hung up.
fn drip(tcp: &mut TcpStream, bytes: &[u8], gap: Duration) {
    for byte in bytes {
        if tcp.write_all(&[*byte]).is_err() {
            return;
        }
        thread::sleep(gap);
    }
}

/// Resets the connection (RST instead of FIN) when `tcp` is dropped.
fn reset_on_drop(tcp: &TcpStream) {
    socket2::SockRef::from(tcp)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

/// Text frames for `messages`, then the first `partial` bytes of a longer one.
fn messages_then_partial(messages: &[&str], partial: usize) -> Vec<u8> {
    let mut wire: Vec<u8> = messages
        .iter()
        .flat_map(|m| server_frame(true, 1, m.as_bytes()))
        .collect();
    let cut = server_frame(true, 1, &[b'x'; 50]);
    wire.extend_from_slice(&cut[..partial]);
    wire
}

/// Receives text messages and checks they are `want`, in order.
fn assert_received(ws: &mut ws_client::WebSocket, want: &[&str]) {
    for text in want {
        assert_eq!(ws.recv().unwrap(), Message::Text((*text).into()));
    }
}

/// A server that upgrades, sends `wire` and expects a close frame with `code` back.
fn expects_close(wire: Vec<u8>, code: u16) -> Peer {
    tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, &wire);
        let reply = read_client_frame(&mut tcp);
        assert_eq!((reply.opcode, reply.close_code()), (8, Some(code)));
    })
}

#[test]
fn slow_drip_handshake_is_cut_by_the_overall_deadline() {
    // One byte of the 101 every 100 ms: each read is well inside the read timeout, but
    // the whole response would take about 13 s.
    let peer = tcp_server(1, |mut tcp| {
        let head = read_request_head(&mut tcp);
        let mut response = Vec::new();
        answer_101(&mut response, &head, b"");
        drip(&mut tcp, &response, Duration::from_millis(100));
    });
    let start = Instant::now();
    let err = client()
        .read_timeout(Some(Duration::from_secs(2)))
        .deadline(Some(Duration::from_millis(800)))
        .connect(&peer.url("/"))
        .unwrap_err();
    assert_timeout(&err, Op::Handshake);
    assert_prompt(start, "the dripped handshake");
    peer.join();
}

#[test]
fn silent_server_after_accept_is_cut_by_the_deadline() {
    let peer = tcp_server(1, |mut tcp| wait_for_hangup(&mut tcp));
    let start = Instant::now();
    let err = client()
        .read_timeout(None)
        .deadline(Some(Duration::from_millis(300)))
        .connect(&peer.url("/"))
        .unwrap_err();
    assert_timeout(&err, Op::Handshake);
    assert_prompt(start, "the silent handshake");
    peer.join();
}

#[test]
fn silent_server_after_the_101_times_out_the_read_and_keeps_the_connection() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, &server_frame(true, 1, b"before"));
        let frame = read_client_frame(&mut tcp);
        assert_eq!(frame.payload, b"still there?");
        tcp.write_all(&server_frame(true, 1, b"after")).unwrap();
        let close = read_client_frame(&mut tcp);
        assert_eq!(close.opcode, 8);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_received(&mut ws, &["before"]);
    ws.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let err = ws.recv().unwrap_err();
    assert_timeout(&err, Op::Read);
    assert_prompt(start, "the read timeout");
    ws.send_text("still there?").unwrap();
    ws.set_read_timeout(Some(TIMEOUT)).unwrap();
    assert_received(&mut ws, &["after"]);
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_millis(200)))
        .unwrap();
    peer.join();
}

#[test]
fn reset_mid_frame_is_a_lost_connection_after_the_complete_messages() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, &messages_then_partial(&["one", "two"], 5));
        let go = read_client_frame(&mut tcp);
        assert_eq!(go.payload, b"go");
        reset_on_drop(&tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_received(&mut ws, &["one", "two"]);
    ws.send_text("go").unwrap();
    let start = Instant::now();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionClosed { code: Some(c), source: Some(source), .. }
            if *c == CloseCode::ABNORMAL && source.kind() == std::io::ErrorKind::ConnectionReset),
        "{err:?}"
    );
    assert_prompt(start, "the reset");
    peer.join();
}

#[test]
fn fin_mid_frame_is_an_abnormal_close_after_the_complete_messages() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, &messages_then_partial(&["one", "two"], 9));
        tcp.shutdown(Shutdown::Write).unwrap();
        wait_for_hangup(&mut tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_received(&mut ws, &["one", "two"]);
    let start = Instant::now();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionClosed { code: Some(code), .. } if *code == CloseCode::ABNORMAL),
        "{err:?}"
    );
    assert_prompt(start, "the cut connection");
    drop(ws);
    peer.join();
}

/// A server that answers the upgrade with a 101 status line and then `headers`, which
/// it writes until the client hangs up.
fn endless_head(headers: impl Fn(usize) -> Option<String> + Send + Sync + 'static) -> Peer {
    tcp_server(1, move |mut tcp| {
        read_request_head(&mut tcp);
        let mut out = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        for i in 0.. {
            let Some(line) = headers(i) else { break };
            out.extend_from_slice(line.as_bytes());
            if out.len() > 8192 {
                if tcp.write_all(&out).is_err() {
                    return;
                }
                out.clear();
            }
        }
        out.extend_from_slice(b"\r\n");
        let _ = tcp.write_all(&out);
        wait_for_hangup(&mut tcp);
    })
}

#[test]
fn oversized_response_head_is_refused_at_the_limit() {
    let pad = "x".repeat(1000);
    // 70 headers of 1 KB: a complete head of about 70 KB, over the 64 KiB limit.
    let peer = endless_head(move |i| (i < 70).then(|| format!("X-Pad-{i}: {pad}\r\n")));
    let start = Instant::now();
    let err = client().connect(&peer.url("/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake(ws_handshake::Error::HeadTooLarge { limit: 65536 })
        ),
        "{err:?}"
    );
    assert_prompt(start, "the oversized head");
    peer.join();
}

#[test]
fn endless_response_head_is_refused_at_the_limit() {
    let peer = endless_head(|i| Some(format!("X-Endless-{i}: more\r\n")));
    let start = Instant::now();
    let err = client().connect(&peer.url("/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake(ws_handshake::Error::HeadTooLarge { .. })
        ),
        "{err:?}"
    );
    assert_prompt(start, "the endless head");
    peer.join();
}

#[test]
fn too_many_response_headers_are_refused() {
    let peer = endless_head(|i| (i < 200).then(|| format!("X-H{i}: v\r\n")));
    let err = client().connect(&peer.url("/")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Handshake(ws_handshake::Error::TooManyHeaders { limit: 124 })
        ),
        "{err:?}"
    );
    peer.join();
}

/// A binary frame header declaring `len` payload bytes, and no payload.
fn declared_length(len: u64) -> Vec<u8> {
    let mut wire = vec![0x82, 127];
    wire.extend_from_slice(&len.to_be_bytes());
    wire
}

#[test]
fn a_2_pow_63_length_is_a_protocol_error_without_allocating() {
    let mut wire = server_frame(true, 1, b"before");
    wire.extend(declared_length(1 << 63));
    let peer = expects_close(wire, 1002);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_received(&mut ws, &["before"]);
    let start = Instant::now();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::LengthOverflow)),
        "{err:?}"
    );
    assert_prompt(start, "the overflowing length");
    peer.join();
}

#[test]
fn the_largest_declared_length_is_refused_by_the_frame_limit() {
    let len = (1 << 63) - 1;
    let mut wire = server_frame(true, 1, b"before");
    wire.extend(declared_length(len));
    let peer = expects_close(wire, 1009);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_received(&mut ws, &["before"]);
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::FrameTooLarge { len: l, limit }) if l == len && limit == 16 << 20),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn a_message_one_byte_over_the_limit_is_refused_after_one_at_the_limit() {
    let mut wire = server_frame(true, 2, &[7; 100]);
    // 101 bytes in two fragments: the second crosses the limit.
    wire.extend(server_frame(false, 2, &[8; 60]));
    wire.extend(server_frame(true, 0, &[8; 41]));
    let peer = expects_close(wire, 1009);
    let mut ws = client()
        .connection(ws_frame::Config::new().limits(Limits::default().max_message_size(Some(100))))
        .connect(&peer.url("/"))
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![7; 100]));
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Protocol(ProtocolError::MessageTooLarge {
                len: 101,
                limit: 100
            })
        ),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn invalid_close_codes_are_protocol_errors_answered_with_1002() {
    for code in [0_u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let mut wire = server_frame(true, 1, b"before");
        wire.extend(server_frame(true, 8, &code.to_be_bytes()));
        let peer = expects_close(wire, 1002);
        let mut ws = client().connect(&peer.url("/")).unwrap();
        assert_received(&mut ws, &["before"]);
        let err = ws.recv().unwrap_err();
        assert!(
            matches!(err, Error::Protocol(ProtocolError::InvalidCloseCode(c)) if c == code),
            "code {code}: {err:?}"
        );
        peer.join();
    }
}

#[test]
fn a_one_byte_close_payload_is_a_protocol_error_answered_with_1002() {
    let mut wire = server_frame(true, 1, b"before");
    wire.extend(server_frame(true, 8, &[3]));
    let peer = expects_close(wire, 1002);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_received(&mut ws, &["before"]);
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ProtocolError::CloseFrameTooShort)),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn close_returns_within_its_timeout_when_the_server_keeps_talking_instead() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let close = read_client_frame(&mut tcp);
        assert_eq!(close.opcode, 8);
        // Never answer the close; keep sending data until the client hangs up.
        let chatter = server_frame(true, 1, b"chatter");
        for _ in 0..1000 {
            if tcp.write_all(&chatter).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let start = Instant::now();
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_millis(300)))
        .unwrap();
    assert_prompt(start, "the unanswered close");
    assert!(ws.close_frame().is_none());
    drop(ws);
    peer.join();
}

/// A proxy that reads the CONNECT request and then does `then`.
fn proxy(then: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> Peer {
    tcp_server(1, move |mut tcp| {
        let head = read_request_head(&mut tcp);
        assert!(head.starts_with("CONNECT example.com:80 "), "{head}");
        then(&mut tcp);
    })
}

fn through(peer: &Peer, timeout: Option<Duration>) -> ws_client::ClientBuilder {
    client().net(net().proxy(ProxyConfig::Explicit(
        Proxy::http("127.0.0.1", peer.addr.port()).timeout(timeout),
    )))
}

#[test]
fn a_proxy_that_stalls_hits_its_timeout_or_the_deadline() {
    // (the proxy's own timeout, the overall deadline, whether the deadline ends it)
    let cases = [
        (Some(Duration::from_millis(300)), Some(TIMEOUT), false),
        (None, Some(Duration::from_millis(500)), true),
    ];
    for (proxy_timeout, deadline, by_deadline) in cases {
        let peer = proxy(wait_for_hangup);
        let start = Instant::now();
        let err = through(&peer, proxy_timeout)
            .deadline(deadline)
            .connect("ws://example.com/")
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Timeout { op: Op::Connect, detail: Some(detail), .. }
                    if matches!(**detail, ws_client::ws_net::Error::Timeout { overall_deadline, .. } if overall_deadline == by_deadline)
            ),
            "{proxy_timeout:?}: {err:?}"
        );
        assert_prompt(start, "the stalled proxy");
        peer.join();
    }
}

#[test]
fn a_proxy_answering_garbage_is_a_malformed_proxy_reply() {
    let peer = proxy(|tcp| {
        tcp.write_all(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").unwrap();
        wait_for_hangup(tcp);
    });
    let err = through(&peer, None)
        .connect("ws://example.com/")
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Malformed {
                protocol: "http",
                ..
            })
        ),
        "{err:?}"
    );
    peer.join();
}

#[test]
fn a_407_is_a_proxy_authentication_error() {
    let peer = proxy(|tcp| {
        tcp.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n",
        )
        .unwrap();
    });
    let err = through(&peer, None)
        .connect("ws://example.com/")
        .unwrap_err();
    assert!(
        matches!(&err, Error::Proxy(ProxyError::AuthenticationFailed { status_line, .. }) if status_line.contains("407")),
        "{err:?}"
    );
    peer.join();
}
