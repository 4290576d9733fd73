//! Timeouts name the operation, never hang, and a read timeout loses nothing.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ws_client::{Error, Message, Op};
use ws_tests::{accept_raw, read_client_frame, read_request_head, server_frame, tcp_server};

use crate::client;

/// A server that reads the request and then says nothing until the client hangs up.
fn silent_after_request() -> ws_tests::Peer {
    tcp_server(1, |mut tcp| {
        read_request_head(&mut tcp);
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
    })
}

/// A `wss://` connect over a socket the caller opened to a server that never answers the
/// `ClientHello`: the deadline ends the TLS handshake (there is no read timeout).
#[test]
fn the_deadline_bounds_tls_over_a_pre_connected_socket() {
    let peer = tcp_server(1, |mut tcp| {
        let mut rest = Vec::new();
        let _ = tcp.read_to_end(&mut rest);
    });
    let tcp = TcpStream::connect(peer.addr).unwrap();
    let start = Instant::now();
    let err = client()
        .read_timeout(None)
        .deadline(Some(Duration::from_millis(300)))
        .connect_on(&format!("wss://127.0.0.1:{}/", peer.addr.port()), tcp)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Timeout { op: Op::Connect, limit: Some(limit), detail: Some(detail) }
                if *limit == Duration::from_millis(300) && matches!(
                    **detail,
                    ws_client::ws_net::Error::Timeout {
                        phase: ws_client::ws_net::Phase::TlsHandshake,
                        limit: Some(ws_client::ws_net::Limit::Deadline { total, .. }),
                        ..
                    } if total == Duration::from_millis(300)
                )
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    peer.join();
}

#[test]
fn handshake_against_a_silent_server_times_out() {
    let peer = silent_after_request();
    let start = Instant::now();
    let err = client()
        .read_timeout(Some(Duration::from_millis(200)))
        .connect(&peer.url("/"))
        .unwrap_err();
    // The read timeout is the limit that ran out.
    assert!(
        matches!(
            err,
            Error::Timeout {
                op: Op::Handshake,
                limit: Some(limit),
                ..
            } if limit == Duration::from_millis(200)
        ),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "handshake timed out after 200ms");
    assert!(start.elapsed() < Duration::from_secs(5));
    peer.join();
}

#[test]
fn connect_deadline_bounds_the_handshake() {
    let peer = silent_after_request();
    let start = Instant::now();
    let err = client()
        .read_timeout(None)
        .deadline(Some(Duration::from_millis(300)))
        .connect(&peer.url("/"))
        .unwrap_err();
    // The deadline is the limit that ran out.
    assert!(
        matches!(
            err,
            Error::Timeout {
                op: Op::Handshake,
                limit: Some(limit),
                ..
            } if limit == Duration::from_millis(300)
        ),
        "{err:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    peer.join();
}

#[test]
fn read_timeout_keeps_partial_frames_and_the_connection() {
    let frame = server_frame(true, 1, "split across a timeout".as_bytes());
    let (first, second) = frame.split_at(7);
    let (first, second) = (first.to_vec(), second.to_vec());
    let peer = tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, &first);
        let go = read_client_frame(&mut tcp);
        assert_eq!(go.payload, b"now");
        tcp.write_all(&second).unwrap();
        let _ = read_client_frame(&mut tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    ws.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let err = ws.recv().unwrap_err();
    assert!(
        matches!(err, Error::Timeout { op: Op::Read, limit: Some(l), .. } if l == Duration::from_millis(100)),
        "{err:?}"
    );
    assert!(!err.is_fatal());
    ws.send_text("now").unwrap();
    ws.set_timeout(Some(ws_tests::TIMEOUT)).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("split across a timeout".into())
    );
    ws.close(
        ws_client::CloseCode::NORMAL,
        "",
        Some(Duration::from_millis(200)),
    )
    .unwrap();
    peer.join();
}
