//! Misbehaving peers for the fault suites of both clients (`tests/tests/client/faults.rs`
//! and `tests/tests/client_async/faults.rs`): servers that drip, stall, cut or lie, and
//! proxies that stall or answer garbage. The injected pauses here are the faults, not a
//! synchronisation.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use crate::{Peer, accept_raw, read_client_frame, read_request_head, server_frame, tcp_server};

/// What "promptly" means on a loaded 2-core machine for an expectation under a second.
pub const PROMPTLY: Duration = Duration::from_secs(5);

/// Asserts that `start` was less than [`PROMPTLY`] ago.
pub fn assert_prompt(start: Instant, what: &str) {
    let elapsed = start.elapsed();
    assert!(elapsed < PROMPTLY, "{what} took {elapsed:?}");
}

/// Reads (and drops) everything until the client hangs up or the read timeout passes.
pub fn wait_for_hangup(tcp: &mut impl Read) {
    let mut sink = Vec::new();
    let _ = tcp.read_to_end(&mut sink);
}

/// Writes `bytes` one at a time, `gap` apart, until all are out or the client has hung up.
pub fn drip(tcp: &mut impl Write, bytes: &[u8], gap: Duration) {
    for byte in bytes {
        if tcp.write_all(&[*byte]).and_then(|()| tcp.flush()).is_err() {
            return;
        }
        thread::sleep(gap);
    }
}

/// Resets the connection (RST instead of FIN) when `tcp` is dropped.
pub fn reset_on_drop(tcp: &TcpStream) {
    socket2::SockRef::from(tcp)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

/// Text frames for `messages`, then the first `partial` bytes of a 50-byte text frame.
pub fn messages_then_partial(messages: &[&str], partial: usize) -> Vec<u8> {
    let mut wire: Vec<u8> = messages
        .iter()
        .flat_map(|m| server_frame(true, 1, m.as_bytes()))
        .collect();
    let cut = server_frame(true, 1, &[b'x'; 50]);
    wire.extend_from_slice(&cut[..partial]);
    wire
}

/// A server that upgrades, sends `wire` and expects a close frame with `code` back.
pub fn expects_close(wire: Vec<u8>, code: u16) -> Peer {
    tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, &wire);
        let reply = read_client_frame(&mut tcp);
        assert_eq!((reply.opcode, reply.close_code()), (8, Some(code)));
    })
}

/// A server that upgrades, drips `wire` one byte every `gap`, then expects a close frame
/// with `code` back (or the client to hang up first, when `code` is `None`).
pub fn drips_frames(wire: Vec<u8>, gap: Duration, code: Option<u16>) -> Peer {
    tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, b"");
        drip(&mut tcp, &wire, gap);
        match code {
            Some(code) => {
                let reply = read_client_frame(&mut tcp);
                assert_eq!((reply.opcode, reply.close_code()), (8, Some(code)));
            }
            None => wait_for_hangup(&mut tcp),
        }
    })
}

/// A server that reads the upgrade request and drips the 101 one byte every 100 ms
/// (about 13 s for the whole response).
pub fn drips_the_101() -> Peer {
    tcp_server(1, |mut tcp| {
        let head = read_request_head(&mut tcp);
        let mut response = Vec::new();
        crate::answer_101(&mut response, &head, b"");
        drip(&mut tcp, &response, Duration::from_millis(100));
    })
}

/// A server that accepts TCP and says nothing until the client hangs up.
pub fn silent() -> Peer {
    tcp_server(1, |mut tcp| wait_for_hangup(&mut tcp))
}

/// A server that upgrades, sends "one" and "two", then part of a third frame, and cuts
/// the connection: with an RST after the client sent a frame ("go") when `reset`, else
/// with a FIN right away.
pub fn cuts_mid_frame(reset: bool) -> Peer {
    tcp_server(1, move |mut tcp| {
        if reset {
            accept_raw(&mut tcp, &messages_then_partial(&["one", "two"], 5));
            let go = read_client_frame(&mut tcp);
            assert_eq!(go.payload, b"go");
            reset_on_drop(&tcp);
        } else {
            accept_raw(&mut tcp, &messages_then_partial(&["one", "two"], 9));
            tcp.shutdown(std::net::Shutdown::Write).unwrap();
            wait_for_hangup(&mut tcp);
        }
    })
}

/// A server that answers the upgrade with a 101 status line and then `headers`, which
/// it writes until the client hangs up.
pub fn endless_head(headers: impl Fn(usize) -> Option<String> + Send + Sync + 'static) -> Peer {
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

/// 70 headers of 1 KB: a complete head of about 70 KB, over the 64 KiB limit.
pub fn oversized_head() -> Peer {
    let pad = "x".repeat(1000);
    endless_head(move |i| (i < 70).then(|| format!("X-Pad-{i}: {pad}\r\n")))
}

/// A binary frame header declaring `len` payload bytes, and no payload.
pub fn declared_length(len: u64) -> Vec<u8> {
    let mut wire = vec![0x82, 127];
    wire.extend_from_slice(&len.to_be_bytes());
    wire
}

/// The text message "before", then a frame header declaring `len` bytes; the server
/// expects a close frame with `code` back.
pub fn before_then_declared_length(len: u64, code: u16) -> Peer {
    let mut wire = server_frame(true, 1, b"before");
    wire.extend(declared_length(len));
    expects_close(wire, code)
}

/// A 100-byte binary message, then a 101-byte one in two fragments (the second crosses
/// a 100-byte limit); the server expects close 1009 back.
pub fn at_then_over_a_100_byte_limit() -> Peer {
    let mut wire = server_frame(true, 2, &[7; 100]);
    wire.extend(server_frame(false, 2, &[8; 60]));
    wire.extend(server_frame(true, 0, &[8; 41]));
    expects_close(wire, 1009)
}

/// Close codes a peer must not send (RFC 6455 section 7.4).
pub const INVALID_CLOSE_CODES: [u16; 9] = [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000];

/// The text message "before", then a close frame with `payload`; the server expects
/// close 1002 back.
pub fn before_then_close_payload(payload: &[u8]) -> Peer {
    let mut wire = server_frame(true, 1, b"before");
    wire.extend(server_frame(true, 8, payload));
    expects_close(wire, 1002)
}

/// A server that reads our close frame and never answers it: it sends a text frame every
/// 10 ms until the client hangs up.
pub fn never_answers_the_close() -> Peer {
    tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let close = read_client_frame(&mut tcp);
        assert_eq!(close.opcode, 8);
        let chatter = server_frame(true, 1, b"chatter");
        for _ in 0..1000 {
            if tcp.write_all(&chatter).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
    })
}

/// An HTTP proxy that reads a CONNECT request for `example.com:80` and then does `then`.
pub fn http_proxy(then: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> Peer {
    tcp_server(1, move |mut tcp| {
        let head = read_request_head(&mut tcp);
        assert!(head.starts_with("CONNECT example.com:80 "), "{head}");
        then(&mut tcp);
    })
}

/// The garbage a misbehaving proxy answers with.
pub const GARBAGE: &[u8] = b"SSH-2.0-OpenSSH_9.6\r\n\r\n";

/// An HTTP proxy answering a CONNECT with [`GARBAGE`].
pub fn http_proxy_answering_garbage() -> Peer {
    http_proxy(|tcp| {
        tcp.write_all(GARBAGE).unwrap();
        wait_for_hangup(tcp);
    })
}

/// An HTTP proxy answering a CONNECT with 407.
pub fn http_proxy_answering_407() -> Peer {
    http_proxy(|tcp| {
        tcp.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\
              Content-Length: 0\r\n\r\n",
        )
        .unwrap();
    })
}

/// How a SOCKS5 proxy misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Socks5Fault {
    /// Accepts TCP and never answers the greeting.
    StallsAtTheGreeting,
    /// Accepts the greeting (no authentication) and never answers the CONNECT request.
    StallsAtTheRequest,
    /// Answers the greeting with [`GARBAGE`].
    GarbageGreeting,
    /// Accepts the greeting and answers the CONNECT request with a reply of the wrong
    /// version.
    GarbageReply,
}

/// A SOCKS5 proxy that misbehaves as `fault` says.
pub fn socks5_proxy(fault: Socks5Fault) -> Peer {
    tcp_server(1, move |mut tcp| {
        // Greeting: version 5, n methods, the methods.
        let mut greeting = [0; 2];
        tcp.read_exact(&mut greeting).unwrap();
        assert_eq!(greeting[0], 5, "a SOCKS5 greeting");
        let mut methods = vec![0; usize::from(greeting[1])];
        tcp.read_exact(&mut methods).unwrap();
        match fault {
            Socks5Fault::StallsAtTheGreeting => return wait_for_hangup(&mut tcp),
            Socks5Fault::GarbageGreeting => {
                let _ = tcp.write_all(GARBAGE);
                return wait_for_hangup(&mut tcp);
            }
            Socks5Fault::StallsAtTheRequest | Socks5Fault::GarbageReply => {}
        }
        tcp.write_all(&[5, 0]).unwrap();
        // The request: version, CONNECT, reserved, then the address and port.
        let mut request = [0; 4];
        tcp.read_exact(&mut request).unwrap();
        assert_eq!(request[..3], [5, 1, 0], "a SOCKS5 CONNECT request");
        if fault == Socks5Fault::GarbageReply {
            let _ = tcp.write_all(&[4, 0x5a, 0, 0, 0, 0, 0, 0, 0, 0]);
        }
        wait_for_hangup(&mut tcp);
    })
}

/// A `wss://` server (the test certificate) that upgrades, sends the text messages
/// "one" and "two" and the first `partial` bytes of a 50-byte text frame inside TLS, and
/// then closes TCP without a TLS `close_notify`.
pub fn tls_truncated_mid_message(partial: usize) -> Peer {
    tcp_server(1, move |tcp| {
        let conn =
            rustls::ServerConnection::new(std::sync::Arc::clone(&crate::certs().server)).unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        accept_raw(&mut tls, &messages_then_partial(&["one", "two"], partial));
        tls.flush().unwrap();
        // Closing TCP without `send_close_notify` leaves only a FIN.
        let mut tcp = tls.sock;
        tcp.shutdown(std::net::Shutdown::Write).unwrap();
        wait_for_hangup(&mut tcp);
    })
}
