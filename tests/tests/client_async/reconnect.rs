//! Reconnecting: a stream of events over successive connections, following the
//! `Reconnect` policy (which endings reconnect, backoff attempts, the attempt limit).

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use ws_client::{CloseCode, Error, Message, OptionError, Reconnect, ReconnectEvent, Reconnecting};
use ws_tests::{accept_raw, read_client_frame, server_frame, tcp_server};

use crate::{client, within};

fn close_frame(code: u16) -> Vec<u8> {
    server_frame(true, 8, &code.to_be_bytes())
}

fn quick() -> Reconnect {
    Reconnect::new()
        .initial_delay(Duration::from_millis(10))
        .jitter(0.0)
}

async fn next(events: &mut Reconnecting) -> Option<ReconnectEvent> {
    within(events.next()).await
}

#[tokio::test]
async fn reconnects_after_an_abnormal_close_and_an_error_then_stops_on_a_normal_close() {
    let served = AtomicUsize::new(0);
    let peer = tcp_server(3, move |mut tcp| {
        accept_raw(&mut tcp, b"");
        // Connections are accepted one after the other: the client reconnects only once
        // the previous one ended.
        match served.fetch_add(1, Ordering::SeqCst) {
            0 => {
                tcp.write_all(&server_frame(true, 1, b"one")).unwrap();
                tcp.write_all(&close_frame(1012)).unwrap();
                assert_eq!(read_client_frame(&mut tcp).close_code(), Some(1012));
            }
            1 => {} // dropped without a close frame
            _ => {
                tcp.write_all(&server_frame(true, 1, b"three")).unwrap();
                tcp.write_all(&close_frame(1000)).unwrap();
                assert_eq!(read_client_frame(&mut tcp).close_code(), Some(1000));
            }
        }
    });
    let mut events = client().reconnecting(&peer.url("/"), quick()).unwrap();
    let mut seen = Vec::new();
    while let Some(event) = next(&mut events).await {
        seen.push(match event {
            ReconnectEvent::Open(_) => "open".to_owned(),
            ReconnectEvent::Message(Message::Text(t)) => t,
            ReconnectEvent::Closed { code, .. } => format!("closed {}", code.unwrap()),
            ReconnectEvent::Error(e) => {
                assert!(matches!(e, Error::ConnectionClosed { .. }), "{e:?}");
                "error".to_owned()
            }
            ReconnectEvent::Reconnecting { attempt, .. } => format!("again {attempt}"),
            other => panic!("unexpected {other:?}"),
        });
    }
    assert_eq!(
        seen,
        [
            "open",
            "one",
            "closed 1012",
            "again 1",
            "open",
            "error",
            "again 2",
            "open",
            "three",
            "closed 1000"
        ]
    );
    peer.join();
}

#[tokio::test]
async fn connect_failures_stop_at_the_attempt_limit() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let policy = quick().max_attempts(Some(2));
    let mut events = client()
        .reconnecting(&format!("ws://127.0.0.1:{port}/"), policy)
        .unwrap();
    let mut errors = 0;
    let mut attempts = Vec::new();
    while let Some(event) = next(&mut events).await {
        match event {
            ReconnectEvent::Error(e) => {
                assert!(matches!(e, Error::Net(_)), "{e:?}");
                errors += 1;
            }
            ReconnectEvent::Reconnecting { attempt, .. } => attempts.push(attempt),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((errors, attempts), (3, vec![1, 2]));
}

#[tokio::test]
async fn a_bad_url_is_not_retried_and_a_bad_policy_is_refused() {
    let mut events = client()
        .reconnecting("ftp://example.com/", quick())
        .unwrap();
    let first = next(&mut events).await;
    assert!(
        matches!(first, Some(ReconnectEvent::Error(Error::Url(_)))),
        "{first:?}"
    );
    assert!(next(&mut events).await.is_none());
    let err = client()
        .reconnecting("ws://127.0.0.1:1/", Reconnect::new().factor(0.5))
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidOption(OptionError::OutOfRange { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_sender_of_an_open_event_sends_on_that_connection() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let frame = read_client_frame(&mut tcp);
        assert_eq!(frame.payload, b"subscribe");
        tcp.write_all(&close_frame(1000)).unwrap();
        let _ = read_client_frame(&mut tcp);
    });
    let mut events = client().reconnecting(&peer.url("/"), quick()).unwrap();
    let Some(ReconnectEvent::Open(sender)) = next(&mut events).await else {
        panic!("expected the connection to open");
    };
    sender.send_text("subscribe").await.unwrap();
    assert!(matches!(
        next(&mut events).await,
        Some(ReconnectEvent::Closed {
            code: Some(CloseCode::NORMAL),
            ..
        })
    ));
    assert!(next(&mut events).await.is_none());
    peer.join();
}
