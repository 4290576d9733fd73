//! Tunnels through real proxy servers (`pproxy`, `gera2ld.socks`) to a real TLS peer, and
//! scripted listeners for replies a real proxy would not send. Run for the blocking and
//! the tokio path (`super::connect`).

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ws_net::{
    Endpoint, Error, Limit, Phase, Proxy, ProxyConfig, ProxyError, ProxyKind, SocketOptions,
    TlsOptions,
};

use super::connect;
use crate::common::{
    Ca, Echo, IO_TIMEOUT, Opts, ProxyProcess, SilentServer, Step, TempDir, TlsEchoServer,
    assert_cut_by_deadline, blackhole, captured_logs, dead_port, scripted, server_config,
    tcp_echo_server,
};

fn through(proxy: Proxy) -> Opts {
    Opts::default()
        .proxy(ProxyConfig::Explicit(proxy))
        .read_timeout(Some(IO_TIMEOUT))
        .write_timeout(Some(IO_TIMEOUT))
}

/// Connects `wss://localhost:<port>` through `proxy` to a TLS echo server and echoes.
fn wss_through(proxy: Proxy) {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let endpoint =
        Endpoint::parse(&format!("wss://localhost:{}/chat", server.addr.port())).unwrap();
    let kind = proxy.kind();
    let proxy_port = proxy.port();
    let tls = TlsOptions::default()
        .ignore_env_ca_bundle()
        .ca_file(dir.write("ca.pem", &ca.pem()));
    let mut stream =
        connect(&endpoint, &through(proxy).tls(tls)).unwrap_or_else(|e| panic!("{kind:?}: {e}"));
    assert!(stream.is_tls());
    assert_eq!(
        stream.peer_addr().unwrap().port(),
        proxy_port,
        "{kind:?} goes through the proxy"
    );
    stream.write_all(b"through the tunnel").unwrap();
    let mut buf = [0u8; 18];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"through the tunnel", "{kind:?}");
    stream.shutdown().unwrap();
}

#[test]
fn wss_through_an_http_connect_proxy() {
    let proxy = ProxyProcess::pproxy("http", None);
    wss_through(Proxy::http("127.0.0.1", proxy.port));
}

#[test]
fn wss_through_an_http_connect_proxy_with_basic_auth() {
    let proxy = ProxyProcess::pproxy("http", Some("alice:wonder land"));
    wss_through(
        Proxy::parse(&format!(
            "http://alice:wonder%20land@127.0.0.1:{}",
            proxy.port
        ))
        .unwrap(),
    );
}

#[test]
fn wss_through_a_socks4_proxy() {
    let proxy = ProxyProcess::pproxy("socks4", None);
    wss_through(Proxy::socks4("127.0.0.1", proxy.port));
}

#[test]
fn wss_through_a_socks4a_proxy() {
    let proxy = ProxyProcess::gera2ld(None);
    wss_through(Proxy::socks4a("127.0.0.1", proxy.port));
}

#[test]
fn wss_through_a_socks5_proxy() {
    let proxy = ProxyProcess::pproxy("socks5", None);
    wss_through(Proxy::socks5("127.0.0.1", proxy.port));
}

#[test]
fn wss_through_a_socks5_proxy_with_username_and_password() {
    let proxy = ProxyProcess::pproxy("socks5", Some("bob:s3cret"));
    wss_through(Proxy::socks5("127.0.0.1", proxy.port).with_auth("bob", "s3cret"));
}

#[test]
fn wss_through_a_socks5h_proxy() {
    let proxy = ProxyProcess::pproxy("socks5", None);
    wss_through(Proxy::socks5h("127.0.0.1", proxy.port));
}

#[test]
fn wss_through_a_socks5h_proxy_with_auth_on_another_implementation() {
    let proxy = ProxyProcess::gera2ld(Some(("carol", "pa55")));
    wss_through(Proxy::socks5h("127.0.0.1", proxy.port).with_auth("carol", "pa55"));
}

#[test]
fn http_proxy_with_wrong_credentials_says_authentication_failed_without_the_password() {
    let proxy = ProxyProcess::pproxy("http", Some("alice:right-password"));
    let endpoint =
        Endpoint::parse(&format!("ws://127.0.0.1:{}/", tcp_echo_server().port())).unwrap();
    let logs = captured_logs();
    let options =
        through(Proxy::http("127.0.0.1", proxy.port).with_auth("alice", "wrong-Pa55word"));
    let err = connect(&endpoint, &options).unwrap_err();
    let Error::Proxy(ProxyError::AuthenticationFailed { status_line, .. }) = &err else {
        panic!("expected a 407, got {err:?}");
    };
    assert!(status_line.starts_with("HTTP/1.1 407"), "{status_line}");
    let text = err.to_string();
    assert!(text.contains("authentication failed"), "{text}");
    for secret in ["wrong-Pa55word", "YWxpY2U6d3JvbmctUGE1NXdvcmQ="] {
        assert!(
            !text.contains(secret) && !format!("{err:?}").contains(secret),
            "{text}"
        );
        assert!(!format!("{:?}", options.net).contains(secret));
        let lines = logs.lock().unwrap();
        assert!(!lines.is_empty());
        assert!(lines.iter().all(|l| !l.contains(secret)), "{lines:?}");
    }
}

#[test]
fn socks5_proxy_with_wrong_credentials_is_an_authentication_error() {
    let proxy = ProxyProcess::gera2ld(Some(("carol", "pa55")));
    let endpoint =
        Endpoint::parse(&format!("ws://127.0.0.1:{}/", tcp_echo_server().port())).unwrap();
    let options = through(Proxy::socks5("127.0.0.1", proxy.port).with_auth("carol", "nope-secret"));
    let err = connect(&endpoint, &options).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Socks5AuthFailed { status: 1, .. })
        ),
        "{err:?}"
    );
    assert!(!err.to_string().contains("nope-secret"));
    // Without credentials the proxy accepts none of the offered methods.
    let err = connect(&endpoint, &through(Proxy::socks5("127.0.0.1", proxy.port))).unwrap_err();
    assert!(
        matches!(err, Error::Proxy(ProxyError::Socks5NoAcceptableAuth { .. })),
        "{err:?}"
    );
}

#[test]
fn plain_ws_through_a_real_proxy_of_each_kind() {
    let echo = tcp_echo_server();
    let endpoint = Endpoint::parse(&format!("ws://localhost:{}/", echo.port())).unwrap();
    let pproxy = ProxyProcess::pproxy("http+socks4+socks5", None);
    for proxy in [
        Proxy::http("127.0.0.1", pproxy.port),
        Proxy::socks4("127.0.0.1", pproxy.port),
        Proxy::socks5("127.0.0.1", pproxy.port),
        Proxy::socks5h("127.0.0.1", pproxy.port),
    ] {
        let kind = proxy.kind();
        let mut stream = connect(&endpoint, &through(proxy)).unwrap();
        stream.write_all(b"abc").unwrap();
        let mut buf = [0u8; 3];
        stream.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"abc", "{kind:?}");
    }
}

#[test]
fn connect_request_brackets_ipv6_sends_basic_auth_and_keeps_bytes_after_the_head() {
    let (addr, seen) = scripted(vec![
        Step::ReadHead,
        Step::Write(b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\nHELLO".to_vec()),
    ]);
    let endpoint = Endpoint::parse("ws://[::1]:9/").unwrap();
    let proxy = Proxy::http("127.0.0.1", addr.port()).with_auth("u", "p");
    let hooked = Arc::new(AtomicUsize::new(0));
    let counter = hooked.clone();
    let socket = SocketOptions::default().hook(Arc::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    let mut stream = connect(&endpoint, &through(proxy).socket(socket)).unwrap();
    assert_eq!(
        hooked.load(Ordering::SeqCst),
        1,
        "socket options apply to the proxy socket"
    );
    let mut buf = [0u8; 5];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(
        &buf, b"HELLO",
        "bytes after the proxy's head belong to the tunnel"
    );
    assert_eq!(
        String::from_utf8(seen.recv().unwrap()).unwrap(),
        "CONNECT [::1]:9 HTTP/1.1\r\nHost: [::1]:9\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
    );
}

fn http_proxy_error(reply: &[u8]) -> Error {
    let (addr, _seen) = scripted(vec![
        Step::ReadHead,
        Step::Write(reply.to_vec()),
        Step::Close,
    ]);
    let endpoint = Endpoint::parse("ws://target.test:8080/").unwrap();
    connect(&endpoint, &through(Proxy::http("127.0.0.1", addr.port()))).unwrap_err()
}

#[test]
fn http_proxy_refusals_carry_the_status_line() {
    let err = http_proxy_error(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    let Error::Proxy(ProxyError::HttpStatus {
        status,
        status_line,
        target,
        ..
    }) = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(
        (*status, status_line.as_str(), target.as_str()),
        (403, "HTTP/1.1 403 Forbidden", "target.test:8080")
    );
    assert!(
        err.to_string()
            .contains("refused CONNECT to target.test:8080: HTTP/1.1 403 Forbidden"),
        "{err}"
    );
    let err = http_proxy_error(b"HTTP/1.0 407 Proxy Authentication Required\r\n\r\n");
    assert!(
        err.to_string().contains("authentication failed")
            && err.to_string().contains("no credentials"),
        "{err}"
    );
}

#[test]
fn malformed_http_proxy_replies_are_errors() {
    let err = http_proxy_error(b"SSH-2.0-OpenSSH_9.2\r\n\r\n");
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
    let err = http_proxy_error(b"HTTP/1.1 abc Nope\r\n\r\n");
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
    let err = http_proxy_error(b"HTTP/1.1 200 OK\r\n");
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Closed {
                protocol: "http",
                ..
            })
        ),
        "{err:?}"
    );
    let mut huge = b"HTTP/1.1 200 OK\r\nX-Filler: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 20_000));
    let err = http_proxy_error(&huge);
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::HeadTooLarge { limit: 16384, .. })
        ),
        "{err:?}"
    );
}

#[test]
fn every_socks5_reply_code_has_its_own_message() {
    let codes: &[(u8, &str)] = &[
        (1, "general socks server failure"),
        (2, "connection not allowed by ruleset"),
        (3, "network unreachable"),
        (4, "host unreachable"),
        (5, "connection refused"),
        (6, "ttl expired"),
        (7, "command not supported"),
        (8, "address type not supported"),
        (9, "unassigned reply code"),
    ];
    for &(code, reason_text) in codes {
        let (addr, _seen) = scripted(vec![
            Step::Read(3),
            Step::Write(vec![5, 0]),
            Step::Read(10),
            Step::Write(vec![5, code, 0, 1, 0, 0, 0, 0, 0, 0]),
        ]);
        let endpoint = Endpoint::parse("ws://10.1.2.3:4567/").unwrap();
        let err =
            connect(&endpoint, &through(Proxy::socks5("127.0.0.1", addr.port()))).unwrap_err();
        let Error::Proxy(ProxyError::Socks5Rejected {
            code: got,
            reason,
            target,
            ..
        }) = &err
        else {
            panic!("code {code}: {err:?}");
        };
        assert_eq!(
            (*got, *reason, target.as_str()),
            (code, reason_text, "10.1.2.3:4567")
        );
        assert!(err.to_string().contains(reason_text), "{err}");
    }
}

#[test]
fn every_socks4_reply_code_has_its_own_message() {
    for (code, reason_text) in [
        (0x5b, "request rejected or failed"),
        (0x5c, "identd"),
        (0x5d, "different user id"),
        (0x42, "unknown reply code"),
    ] {
        let (addr, seen) = scripted(vec![
            Step::Read(9),
            Step::Write(vec![0, code, 0, 0, 0, 0, 0, 0]),
        ]);
        let endpoint = Endpoint::parse("ws://10.1.2.3:4567/").unwrap();
        let err =
            connect(&endpoint, &through(Proxy::socks4("127.0.0.1", addr.port()))).unwrap_err();
        let Error::Proxy(ProxyError::Socks4Rejected {
            code: got, reason, ..
        }) = &err
        else {
            panic!("code {code}: {err:?}");
        };
        assert_eq!(*got, code);
        assert!(reason.contains(reason_text), "{reason}");
        assert_eq!(seen.recv().unwrap(), [4, 1, 0x11, 0xd7, 10, 1, 2, 3, 0]);
    }
}

#[test]
fn malformed_socks_replies_are_errors() {
    let endpoint = Endpoint::parse("ws://10.1.2.3:4567/").unwrap();
    // Wrong version in the greeting reply.
    let (addr, _s) = scripted(vec![Step::Read(3), Step::Write(vec![4, 0])]);
    let err = connect(&endpoint, &through(Proxy::socks5("127.0.0.1", addr.port()))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Malformed {
                protocol: "socks5",
                ..
            })
        ),
        "{err:?}"
    );
    // A method that was not offered.
    let (addr, _s) = scripted(vec![Step::Read(3), Step::Write(vec![5, 2])]);
    let err = connect(&endpoint, &through(Proxy::socks5("127.0.0.1", addr.port()))).unwrap_err();
    assert!(
        matches!(err, Error::Proxy(ProxyError::Malformed { .. })),
        "{err:?}"
    );
    // No acceptable method.
    let (addr, _s) = scripted(vec![Step::Read(3), Step::Write(vec![5, 0xff])]);
    let err = connect(&endpoint, &through(Proxy::socks5("127.0.0.1", addr.port()))).unwrap_err();
    assert!(
        matches!(err, Error::Proxy(ProxyError::Socks5NoAcceptableAuth { .. })),
        "{err:?}"
    );
    // Closed in the middle of the reply.
    let (addr, _s) = scripted(vec![Step::Read(3), Step::Write(vec![5]), Step::Close]);
    let err = connect(&endpoint, &through(Proxy::socks5("127.0.0.1", addr.port()))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Closed {
                protocol: "socks5",
                ..
            })
        ),
        "{err:?}"
    );
    // A SOCKS4 reply with a bad version byte.
    let (addr, _s) = scripted(vec![
        Step::Read(9),
        Step::Write(vec![5, 0x5a, 0, 0, 0, 0, 0, 0]),
    ]);
    let err = connect(&endpoint, &through(Proxy::socks4("127.0.0.1", addr.port()))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Proxy(ProxyError::Malformed {
                protocol: "socks4",
                ..
            })
        ),
        "{err:?}"
    );
}

#[test]
fn socks4_cannot_reach_ipv6_and_says_so() {
    let endpoint = Endpoint::parse("ws://[::1]:80/").unwrap();
    let err = connect(&endpoint, &through(Proxy::socks4("127.0.0.1", dead_port()))).unwrap_err();
    assert!(
        matches!(err, Error::Proxy(ProxyError::Config { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("IPv6"), "{err}");
}

#[test]
fn an_unreachable_proxy_is_a_connect_error_naming_the_proxy() {
    let port = dead_port();
    let endpoint = Endpoint::parse("ws://target.test/").unwrap();
    let err = connect(&endpoint, &through(Proxy::socks5h("127.0.0.1", port))).unwrap_err();
    assert!(
        matches!(&err, Error::Connect { peer: "proxy", port: p, .. } if *p == port),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("cannot connect to proxy 127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn a_silent_proxy_ends_in_a_timeout_naming_the_proxy_handshake() {
    let silent = SilentServer::start();
    let endpoint = Endpoint::parse("ws://target.test/").unwrap();
    for kind in [ProxyKind::Http, ProxyKind::Socks4a, ProxyKind::Socks5h] {
        let proxy = Proxy::new(kind, "127.0.0.1", silent.addr.port())
            .timeout(Some(Duration::from_millis(200)));
        let err = connect(&endpoint, &through(proxy)).unwrap_err();
        assert!(
            matches!(&err, Error::Timeout { phase: Phase::ProxyHandshake, limit: Some(Limit::Timeout(after)), .. } if *after == Duration::from_millis(200)),
            "{kind:?}: {err:?}"
        );
    }
    let options = through(Proxy::http("127.0.0.1", silent.addr.port()))
        .deadline(Some(Duration::from_millis(200)));
    let err = connect(&endpoint, &options).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::ProxyHandshake,
                limit: Some(Limit::Deadline { .. }),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_proxy_without_a_port_is_a_configuration_error() {
    let endpoint = Endpoint::parse("ws://target.test/").unwrap();
    let err = connect(&endpoint, &through(Proxy::http("127.0.0.1", 0))).unwrap_err();
    assert!(
        matches!(err, Error::Proxy(ProxyError::Config { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("port 0"), "{err}");
}

/// A proxy that sends its reply one byte every 50 ms never finishes its head within the
/// 300 ms deadline: each read is bounded by what is left of the deadline, not by a fresh
/// timeout, so dripping bytes cannot keep the connection alive.
#[test]
fn a_dripping_proxy_cannot_stretch_the_handshake_past_the_deadline() {
    let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
    reply.extend(std::iter::repeat_n(b'x', 200));
    let (addr, _seen) = scripted(vec![
        Step::ReadHead,
        Step::Drip(reply, Duration::from_millis(50)),
    ]);
    let endpoint = Endpoint::parse("ws://target.test/").unwrap();
    let options =
        through(Proxy::http("127.0.0.1", addr.port())).deadline(Some(Duration::from_millis(300)));
    let start = std::time::Instant::now();
    let err = connect(&endpoint, &options).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::ProxyHandshake,
                limit: Some(Limit::Deadline { .. }),
                ..
            }
        ),
        "{err:?}"
    );
}

/// A proxy with a timeout of its own that sends its reply one byte every 100 ms, each
/// byte well inside that timeout: the connect's deadline still ends the handshake, and
/// the error names the deadline as the limit that ran out.
#[test]
fn a_proxy_dripping_inside_its_own_timeout_is_cut_by_the_deadline() {
    let mut reply = b"HTTP/1.1 200 OK\r\n".to_vec();
    reply.extend(std::iter::repeat_n(b'x', 200));
    let (addr, _seen) = scripted(vec![
        Step::ReadHead,
        Step::Drip(reply, Duration::from_millis(100)),
    ]);
    let endpoint = Endpoint::parse("ws://target.test/").unwrap();
    let proxy = Proxy::http("127.0.0.1", addr.port()).timeout(Some(Duration::from_secs(2)));
    let options = through(proxy).deadline(Some(Duration::from_millis(700)));
    let start = std::time::Instant::now();
    let err = connect(&endpoint, &options).unwrap_err();
    assert_cut_by_deadline(
        &err,
        Phase::ProxyHandshake,
        Duration::from_millis(700),
        start,
    );
}

/// The proxy's name resolves to a black-holed address first: Happy Eyeballs reaches the
/// listening one after the attempt delay, not after the 10 s connect timeout.
#[test]
fn proxies_are_reached_with_happy_eyeballs() {
    let (_listener, _filling, silent) = blackhole();
    let (addr, seen) = scripted(vec![
        Step::ReadHead,
        Step::Write(b"HTTP/1.1 200 OK\r\n\r\n".to_vec()),
    ]);
    let options = through(Proxy::http("proxy.test", addr.port()))
        .connect_timeout(Some(Duration::from_secs(10)))
        .resolver(Arc::new(move |host: &str, _| {
            assert_eq!(host, "proxy.test");
            Ok(vec![silent, addr])
        }));
    let endpoint = Endpoint::parse("ws://target.test:9/").unwrap();
    let start = std::time::Instant::now();
    let stream = connect(&endpoint, &options).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert!(
        String::from_utf8(seen.recv().unwrap())
            .unwrap()
            .starts_with("CONNECT target.test:9 HTTP/1.1\r\n")
    );
}
