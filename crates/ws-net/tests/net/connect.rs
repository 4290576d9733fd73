//! Plain TCP connects: address fallback, Happy Eyeballs, resolver errors, socket options,
//! timeouts. Run for the blocking and the tokio path (`super::connect`).

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_net::{Endpoint, Error, Limit, Phase, ProxyConfig};

use super::connect;
use crate::common::Opts;

use crate::common::{IO_TIMEOUT, blackhole, dead_port, tcp_echo_server};

pub(crate) fn direct() -> Opts {
    Opts::default()
        .proxy(ProxyConfig::None)
        .read_timeout(Some(IO_TIMEOUT))
        .write_timeout(Some(IO_TIMEOUT))
}

pub(crate) fn roundtrip(stream: &mut (impl Read + Write)) {
    stream.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

/// The resolver hook gives a dead address first and a live one second: the second is
/// used. Python's client gives up unless the first failure is "connection refused".
#[test]
fn falls_back_to_the_next_address_when_the_first_is_dead() {
    let live = tcp_echo_server();
    let dead = SocketAddr::from(([127, 0, 0, 1], dead_port()));
    let options = direct().resolver(Arc::new(move |host: &str, _port| {
        assert_eq!(host, "echo.test");
        Ok(vec![dead, live])
    }));
    let endpoint = Endpoint::parse("ws://echo.test:1/").unwrap();
    let mut stream = connect(&endpoint, &options).unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live);
    roundtrip(&mut stream);
}

/// A real pair: the server listens on `127.0.0.1` only, so `::1` on the same port refuses
/// (or is unavailable) and the IPv4 address that follows answers.
#[test]
fn falls_back_from_ipv6_to_ipv4_on_the_same_port() {
    let live = tcp_echo_server();
    let v6 = SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, live.port()));
    let options = direct().resolver(Arc::new(move |_: &str, _| Ok(vec![v6, live])));
    let endpoint = Endpoint::parse(&format!("ws://dual.test:{}/", live.port())).unwrap();
    let mut stream = connect(&endpoint, &options).unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live);
    roundtrip(&mut stream);
}

#[test]
fn lists_every_address_and_its_failure_when_all_fail() {
    let a = SocketAddr::from(([127, 0, 0, 1], dead_port()));
    let b = SocketAddr::from(([127, 0, 0, 1], dead_port()));
    let options = direct().resolver(Arc::new(move |_: &str, _| Ok(vec![a, b])));
    let endpoint = Endpoint::parse("ws://nowhere.test:7/").unwrap();
    let err = connect(&endpoint, &options).unwrap_err();
    let Error::Connect {
        peer,
        host,
        port,
        attempts,
    } = &err
    else {
        panic!("expected a connect error, got {err:?}");
    };
    assert_eq!((*peer, host.as_str(), *port), ("server", "nowhere.test", 7));
    let tried: Vec<SocketAddr> = attempts.iter().map(|(addr, _)| *addr).collect();
    assert_eq!(tried, vec![a, b]);
    assert!(
        attempts
            .iter()
            .all(|(_, e)| e.kind() == io::ErrorKind::ConnectionRefused)
    );
    let text = err.to_string();
    assert!(
        text.contains("nowhere.test:7")
            && text.contains(&a.to_string())
            && text.contains(&b.to_string()),
        "{text}"
    );
}

#[test]
fn resolver_failures_and_empty_answers_are_errors_naming_the_host() {
    let failing = direct().resolver(Arc::new(|_: &str, _| Err(io::Error::other("no such host"))));
    let endpoint = Endpoint::parse("ws://missing.test/").unwrap();
    let err = connect(&endpoint, &failing).unwrap_err();
    assert!(
        matches!(&err, Error::Resolve { host, port: 80, .. } if host == "missing.test"),
        "{err:?}"
    );
    let empty = direct().resolver(Arc::new(|_: &str, _| Ok(Vec::new())));
    let err = connect(&endpoint, &empty).unwrap_err();
    assert!(
        matches!(&err, Error::NoAddresses { host, port: 80 } if host == "missing.test"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "missing.test:80 resolved to no address");
}

#[test]
fn the_system_resolver_resolves_localhost() {
    let live = tcp_echo_server();
    let endpoint = Endpoint::parse(&format!("ws://localhost:{}/", live.port())).unwrap();
    let mut stream = connect(&endpoint, &direct()).unwrap();
    roundtrip(&mut stream);
}

#[test]
fn an_expired_deadline_stops_before_connecting() {
    let live = tcp_echo_server();
    let endpoint = Endpoint::parse(&format!("ws://127.0.0.1:{}/", live.port())).unwrap();
    let err = connect(&endpoint, &direct().deadline(Some(Duration::ZERO))).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::TcpConnect,
                limit: Some(Limit::Deadline { .. }),
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn socket_hooks_run_before_connect_and_their_errors_are_reported() {
    let live = tcp_echo_server();
    let endpoint = Endpoint::parse(&format!("ws://127.0.0.1:{}/", live.port())).unwrap();
    let failing = ws_net::SocketOptions::default()
        .hook(Arc::new(|_| Err(io::Error::other("refused by hook"))));
    let err = connect(&endpoint, &direct().socket(failing)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SocketOption {
                option: "custom option hook",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn url_credentials_stay_out_of_logs_and_errors() {
    let logs = crate::common::captured_logs();
    let endpoint = Endpoint::parse(&format!(
        "ws://alice:url-s3cret@127.0.0.1:{}/x",
        dead_port()
    ))
    .unwrap();
    assert_eq!(endpoint.userinfo(), Some(("alice", "url-s3cret")));
    let err = connect(&endpoint, &direct()).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(!err.to_string().contains("url-s3cret"));
    let lines = logs.lock().unwrap();
    assert!(lines.iter().any(|l| l.contains("127.0.0.1")), "{lines:?}");
    assert!(lines.iter().all(|l| !l.contains("url-s3cret")), "{lines:?}");
}

/// Python's client stops at the first address that times out; we try the next one.
#[test]
fn falls_back_to_the_next_address_when_the_first_times_out() {
    let (_listener, _filling, silent) = blackhole();
    let live = tcp_echo_server();
    let options = direct()
        .connect_timeout(Some(Duration::from_millis(300)))
        .resolver(Arc::new(move |_: &str, _| Ok(vec![silent, live])));
    let endpoint = Endpoint::parse("ws://slow.test:1/").unwrap();
    let mut stream = connect(&endpoint, &options).unwrap();
    assert_eq!(stream.peer_addr().unwrap(), live);
    roundtrip(&mut stream);

    let only_silent = direct()
        .connect_timeout(Some(Duration::from_millis(300)))
        .resolver(Arc::new(move |_: &str, _| Ok(vec![silent])));
    let err = connect(&endpoint, &only_silent).unwrap_err();
    let Error::Connect { attempts, .. } = &err else {
        panic!("expected a connect error, got {err:?}");
    };
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].0, silent);
    assert_eq!(attempts[0].1.kind(), io::ErrorKind::TimedOut, "{err}");
}

/// Happy Eyeballs: while the first address is black-holed, the second is tried after the
/// attempt delay (250 ms) and wins, long before the 10 s connect timeout.
#[test]
fn a_black_holed_first_address_costs_the_attempt_delay_not_the_connect_timeout() {
    let (_listener, _filling, silent) = blackhole();
    let live = tcp_echo_server();
    let options = direct()
        .connect_timeout(Some(Duration::from_secs(10)))
        .resolver(Arc::new(move |_: &str, _| Ok(vec![silent, live])));
    let endpoint = Endpoint::parse("ws://eyeballs.test:1/").unwrap();
    let start = Instant::now();
    let mut stream = connect(&endpoint, &options).unwrap();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(stream.peer_addr().unwrap(), live);
    roundtrip(&mut stream);
}

/// An attempt delay of zero waits for each attempt to end before the next one.
#[test]
fn a_zero_attempt_delay_tries_one_address_at_a_time() {
    let (_listener, _filling, silent) = blackhole();
    let live = tcp_echo_server();
    let timeout = Duration::from_millis(500);
    let options = direct()
        .connect_timeout(Some(timeout))
        .attempt_delay(Duration::ZERO)
        .resolver(Arc::new(move |_: &str, _| Ok(vec![silent, live])));
    let endpoint = Endpoint::parse("ws://sequential.test:1/").unwrap();
    let start = Instant::now();
    let mut stream = connect(&endpoint, &options).unwrap();
    assert!(start.elapsed() >= timeout, "took {:?}", start.elapsed());
    assert_eq!(stream.peer_addr().unwrap(), live);
    roundtrip(&mut stream);
}

/// Attempts overlap, but each failed address keeps its own cause, in the order the
/// attempts started.
#[test]
fn every_failed_address_keeps_its_own_cause() {
    let (_listener, _filling, silent) = blackhole();
    let dead = SocketAddr::from(([127, 0, 0, 1], dead_port()));
    let options = direct()
        .connect_timeout(Some(Duration::from_secs(1)))
        .resolver(Arc::new(move |_: &str, _| Ok(vec![silent, dead])));
    let endpoint = Endpoint::parse("ws://mixed.test:7/").unwrap();
    let err = connect(&endpoint, &options).unwrap_err();
    let Error::Connect {
        peer: "server",
        attempts,
        ..
    } = &err
    else {
        panic!("expected a connect error, got {err:?}");
    };
    let causes: Vec<(SocketAddr, io::ErrorKind)> =
        attempts.iter().map(|(a, e)| (*a, e.kind())).collect();
    assert_eq!(
        causes,
        vec![
            (silent, io::ErrorKind::TimedOut),
            (dead, io::ErrorKind::ConnectionRefused)
        ]
    );
    assert_eq!(attempts[0].1.to_string(), "connect timed out after 1s");
    let text = err.to_string();
    assert!(
        text.contains(&format!("{silent} (connect timed out after 1s)"))
            && text.contains(&dead.to_string()),
        "{text}"
    );
}

#[test]
fn the_overall_deadline_bounds_pending_attempts() {
    let (_listener, _filling, silent) = blackhole();
    let options = direct()
        .connect_timeout(Some(Duration::from_secs(10)))
        .deadline(Some(Duration::from_millis(300)))
        .resolver(Arc::new(move |_: &str, _| Ok(vec![silent, silent])));
    let endpoint = Endpoint::parse("ws://stuck.test:1/").unwrap();
    let start = Instant::now();
    let err = connect(&endpoint, &options).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            &err,
            Error::Timeout { phase: Phase::TcpConnect, limit: Some(Limit::Deadline { .. }), target, .. }
                if target == "stuck.test:1"
        ),
        "{err:?}"
    );
}
