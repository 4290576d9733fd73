//! The async client under the faults of the blocking suite (`tests/tests/client/faults.rs`,
//! same servers from `ws_tests::faults`): dripping, silent, cut and lying servers and
//! proxies. Each case checks the exact error, that it came within a generous bound of its
//! timeout, and that every message the peer completed before the fault was delivered
//! first. After the handshake an async socket has no socket timeouts: where the blocking
//! suite sets a read timeout, these tests wrap the call in `tokio::time::timeout`.
//! `docs/GUARANTEES.md` lists what each test proves.

use std::io::Write;
use std::time::{Duration, Instant};

use ws_client::ws_frame::{self, ProtocolError};
use ws_client::{
    AsyncWebSocket, ClientBuilder, CloseCode, Error, Limits, Message, Op, Proxy, ProxyConfig,
};
use ws_tests::faults::{
    INVALID_CLOSE_CODES, assert_prompt, at_then_over_a_100_byte_limit, before_then_close_payload,
    before_then_declared_length, cuts_mid_frame, drips_frames, drips_the_101, endless_head,
    http_proxy, http_proxy_answering_407, never_answers_the_close, oversized_head, silent,
    tls_truncated_mid_message, wait_for_hangup,
};
use ws_tests::{Peer, TIMEOUT, accept_raw, read_client_frame, server_frame, tcp_server};

use crate::fault_errors::{
    assert_407, assert_head_too_large, assert_malformed_proxy, assert_protocol, assert_timeout,
    assert_too_many_headers, garbage_proxies, is_lost, is_proxy_timeout, stalling_proxies,
};
use crate::{client, net, tls_client, within};

/// Connects to `peer` with `builder`.
async fn open(builder: ClientBuilder, peer: &Peer) -> AsyncWebSocket {
    within(builder.connect_async(&peer.url("/"))).await.unwrap()
}

/// The error of connecting to `url` with `builder`.
async fn refused(builder: ClientBuilder, url: &str) -> Error {
    within(builder.connect_async(url)).await.unwrap_err()
}

/// Receives text messages and checks they are `want`, in order.
async fn assert_received(ws: &mut AsyncWebSocket, want: &[&str]) {
    for text in want {
        assert_eq!(
            within(ws.recv()).await.unwrap(),
            Message::Text((*text).into())
        );
    }
}

/// The error of the next receive, checked to come promptly.
async fn next_error(ws: &mut AsyncWebSocket, what: &str) -> Error {
    let start = Instant::now();
    let err = within(ws.recv()).await.unwrap_err();
    assert_prompt(start, what);
    err
}

#[tokio::test]
async fn slow_drip_handshake_is_cut_by_the_overall_deadline() {
    let peer = drips_the_101();
    let start = Instant::now();
    let builder = client()
        .read_timeout(Some(Duration::from_secs(2)))
        .deadline(Some(Duration::from_millis(800)));
    let err = refused(builder, &peer.url("/")).await;
    assert_timeout(&err, Op::Handshake);
    assert_prompt(start, "the dripped handshake");
    peer.join();
}

#[tokio::test]
async fn slow_drip_frames_arrive_whole_and_a_timeout_ends_the_silence_after() {
    let mut wire = server_frame(true, 1, b"dripped");
    wire.extend(server_frame(true, 2, b"bytes"));
    wire.push(0x81);
    let peer = drips_frames(wire, Duration::from_millis(10), None);
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["dripped"]).await;
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Binary(b"bytes".to_vec())
    );
    let start = Instant::now();
    let waited = tokio::time::timeout(Duration::from_millis(500), ws.recv()).await;
    assert!(waited.is_err(), "{waited:?}");
    assert_prompt(start, "the silence after the drip");
    assert!(ws.is_open());
    drop(ws);
    peer.join();
}

#[tokio::test]
async fn silent_server_after_accept_is_cut_by_the_deadline() {
    let peer = silent();
    let start = Instant::now();
    let builder = client()
        .read_timeout(None)
        .deadline(Some(Duration::from_millis(300)));
    let err = refused(builder, &peer.url("/")).await;
    assert_timeout(&err, Op::Handshake);
    assert_prompt(start, "the silent handshake");
    peer.join();
}

#[tokio::test]
async fn silent_server_after_accept_times_out_the_handshake_read() {
    let peer = silent();
    let start = Instant::now();
    let builder = client()
        .read_timeout(Some(Duration::from_millis(300)))
        .deadline(Some(TIMEOUT));
    let err = refused(builder, &peer.url("/")).await;
    assert_timeout(&err, Op::Handshake);
    assert_prompt(start, "the silent handshake");
    peer.join();
}

#[tokio::test]
async fn silent_server_after_the_101_times_out_the_recv_and_keeps_the_connection() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, &server_frame(true, 1, b"before"));
        let frame = read_client_frame(&mut tcp);
        assert_eq!(frame.payload, b"still there?");
        tcp.write_all(&server_frame(true, 1, b"after")).unwrap();
        let close = read_client_frame(&mut tcp);
        assert_eq!(close.opcode, 8);
    });
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["before"]).await;
    let start = Instant::now();
    let waited = tokio::time::timeout(Duration::from_millis(200), ws.recv()).await;
    assert!(waited.is_err(), "{waited:?}");
    assert_prompt(start, "the timeout");
    ws.send_text("still there?").await.unwrap();
    assert_received(&mut ws, &["after"]).await;
    within(ws.close(CloseCode::NORMAL, "", Some(Duration::from_millis(200))))
        .await
        .unwrap();
    peer.join();
}

#[tokio::test]
async fn reset_mid_frame_is_a_lost_connection_after_the_complete_messages() {
    let peer = cuts_mid_frame(true);
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["one", "two"]).await;
    ws.send_text("go").await.unwrap();
    let err = next_error(&mut ws, "the reset").await;
    assert!(
        is_lost(&err, Some(std::io::ErrorKind::ConnectionReset)),
        "{err:?}"
    );
    peer.join();
}

#[tokio::test]
async fn fin_mid_frame_is_an_abnormal_close_after_the_complete_messages() {
    let peer = cuts_mid_frame(false);
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["one", "two"]).await;
    let err = next_error(&mut ws, "the cut connection").await;
    assert!(is_lost(&err, None), "{err:?}");
    drop(ws);
    peer.join();
}

#[tokio::test]
async fn tls_cut_without_close_notify_mid_message_is_an_error_not_a_short_message() {
    for partial in [1, 20] {
        let peer = tls_truncated_mid_message(partial);
        let mut ws = within(tls_client().connect_async(&peer.wss_url("/")))
            .await
            .unwrap();
        assert_received(&mut ws, &["one", "two"]).await;
        let err = next_error(&mut ws, "the truncated TLS stream").await;
        assert!(
            is_lost(&err, Some(std::io::ErrorKind::UnexpectedEof)),
            "cut after {partial} bytes: {err:?}"
        );
        drop(ws);
        peer.join();
    }
}

#[tokio::test]
async fn oversized_response_head_is_refused_at_the_limit() {
    let peer = oversized_head();
    let start = Instant::now();
    let err = refused(client(), &peer.url("/")).await;
    assert_head_too_large(&err, true);
    assert_prompt(start, "the oversized head");
    peer.join();
}

#[tokio::test]
async fn endless_response_head_is_refused_at_the_limit() {
    let peer = endless_head(|i| Some(format!("X-Endless-{i}: more\r\n")));
    let start = Instant::now();
    let err = refused(client(), &peer.url("/")).await;
    assert_head_too_large(&err, false);
    assert_prompt(start, "the endless head");
    peer.join();
}

#[tokio::test]
async fn too_many_response_headers_are_refused() {
    let peer = endless_head(|i| (i < 200).then(|| format!("X-H{i}: v\r\n")));
    let err = refused(client(), &peer.url("/")).await;
    assert_too_many_headers(&err);
    peer.join();
}

#[tokio::test]
async fn a_2_pow_63_length_is_a_protocol_error_without_allocating() {
    let peer = before_then_declared_length(1 << 63, 1002);
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["before"]).await;
    let err = next_error(&mut ws, "the overflowing length").await;
    assert_protocol(&err, &ProtocolError::LengthOverflow);
    peer.join();
}

#[tokio::test]
async fn the_largest_declared_length_is_refused_by_the_frame_limit() {
    let len = (1 << 63) - 1;
    let peer = before_then_declared_length(len, 1009);
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["before"]).await;
    let err = next_error(&mut ws, "the largest length").await;
    assert_protocol(
        &err,
        &ProtocolError::FrameTooLarge {
            len,
            limit: 16 << 20,
        },
    );
    peer.join();
}

#[tokio::test]
async fn a_message_one_byte_over_the_limit_is_refused_after_one_at_the_limit() {
    let peer = at_then_over_a_100_byte_limit();
    let limits = Limits::default().max_message_size(Some(100));
    let mut ws = open(
        client().connection(ws_frame::Config::new().limits(limits)),
        &peer,
    )
    .await;
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Binary(vec![7; 100])
    );
    let err = next_error(&mut ws, "the message over the limit").await;
    assert_protocol(
        &err,
        &ProtocolError::MessageTooLarge {
            len: 101,
            limit: 100,
        },
    );
    peer.join();
}

#[tokio::test]
async fn invalid_close_codes_are_protocol_errors_answered_with_1002() {
    for code in INVALID_CLOSE_CODES {
        let peer = before_then_close_payload(&code.to_be_bytes());
        let mut ws = open(client(), &peer).await;
        assert_received(&mut ws, &["before"]).await;
        let err = next_error(&mut ws, "the invalid close code").await;
        assert_protocol(&err, &ProtocolError::InvalidCloseCode(code));
        peer.join();
    }
}

#[tokio::test]
async fn a_one_byte_close_payload_is_a_protocol_error_answered_with_1002() {
    let peer = before_then_close_payload(&[3]);
    let mut ws = open(client(), &peer).await;
    assert_received(&mut ws, &["before"]).await;
    let err = next_error(&mut ws, "the short close payload").await;
    assert_protocol(&err, &ProtocolError::CloseFrameTooShort);
    peer.join();
}

#[tokio::test]
async fn close_returns_within_its_timeout_when_the_server_keeps_talking_instead() {
    let peer = never_answers_the_close();
    let mut ws = open(client(), &peer).await;
    let start = Instant::now();
    within(ws.close(CloseCode::NORMAL, "", Some(Duration::from_millis(300))))
        .await
        .unwrap();
    assert_prompt(start, "the unanswered close");
    assert!(ws.close_frame().is_none());
    drop(ws);
    peer.join();
}

/// The error of connecting to `ws://example.com/` through `proxy`.
async fn through(proxy: Proxy, deadline: Option<Duration>) -> Error {
    let builder = client()
        .net(net().proxy(ProxyConfig::Explicit(proxy)))
        .deadline(deadline);
    refused(builder, "ws://example.com/").await
}

#[tokio::test]
async fn a_proxy_that_stalls_hits_its_timeout_or_the_deadline() {
    for (bad, deadline, by_deadline) in stalling_proxies() {
        let start = Instant::now();
        let err = through(bad.proxy, deadline).await;
        assert!(is_proxy_timeout(&err, by_deadline), "{}: {err:?}", bad.what);
        assert_prompt(start, &bad.what);
        bad.peer.join();
    }
}

#[tokio::test]
async fn a_stalled_proxy_without_its_own_timeout_is_ended_by_the_read_timeout() {
    let peer = http_proxy(wait_for_hangup);
    let start = Instant::now();
    let builder = client()
        .net(net().proxy(ProxyConfig::Explicit(Proxy::http(
            "127.0.0.1",
            peer.addr.port(),
        ))))
        .timeout(Some(Duration::from_millis(300)))
        .deadline(Some(TIMEOUT));
    let err = refused(builder, "ws://example.com/").await;
    assert!(is_proxy_timeout(&err, false), "{err:?}");
    assert_prompt(start, "the stalled proxy");
    peer.join();
}

#[tokio::test]
async fn a_proxy_answering_garbage_is_a_malformed_proxy_reply() {
    for (bad, protocol) in garbage_proxies() {
        let err = through(bad.proxy, Some(TIMEOUT)).await;
        assert_malformed_proxy(&err, protocol, &bad.what);
        bad.peer.join();
    }
}

#[tokio::test]
async fn a_407_is_a_proxy_authentication_error() {
    let peer = http_proxy_answering_407();
    let err = through(Proxy::http("127.0.0.1", peer.addr.port()), Some(TIMEOUT)).await;
    assert_407(&err);
    peer.join();
}
