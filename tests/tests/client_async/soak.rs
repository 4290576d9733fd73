//! A bounded soak of the reconnecting async stream ([`ClientBuilder::reconnecting`])
//! against a server that drops every connection after a few messages and a short
//! pseudo-random time (`ws_tests::soak`), for a fixed number of cycles: every cycle
//! reconnects after the documented backoff delay, every message is delivered, and threads,
//! file descriptors and memory (from `/proc/self`, in a process of the test's own:
//! `ws_tests::run_alone`) do not grow from cycle to cycle.
//!
//! [`ClientBuilder::reconnecting`]: ws_client::ClientBuilder::reconnecting

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::Instant;
use ws_client::{CloseCode, Error, Reconnect, ReconnectEvent};
use ws_tests::soak::{CYCLES, assert_no_growth, counts, dropping_server, messages_sent};

use crate::{client, within};

const MS: Duration = Duration::from_millis(1);

/// The policy's jitter: each delay within ±25 % of its base.
const JITTER: f64 = 0.25;

/// The documented delay before attempt `attempt` (from 1) before jitter:
/// `min(initial * factor^(attempt - 1), max)`.
fn base_delay(attempt: u32) -> Duration {
    (MS * 2_u32.pow(attempt.saturating_sub(1).min(8))).min(4 * MS)
}

#[test]
fn reconnecting_through_many_dropped_connections_leaks_nothing() {
    if !ws_tests::is_alone() {
        return ws_tests::run_alone(
            "soak::reconnecting_through_many_dropped_connections_leaks_nothing",
            |_| {},
        );
    }
    // One runtime thread: on a multi-threaded runtime glibc's per-thread arenas warm up
    // for far longer (measured: `RssAnon` climbs about 400 KiB over the first 800
    // cycles, then stays flat to 2,400), which would need four times the cycles to tell
    // from a leak.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(soak());
}

async fn soak() {
    let server = dropping_server();
    // The default reset_after (10 s) is never reached by these short connections, so the
    // attempt count grows by one per cycle and the delay reaches its cap.
    let policy = Reconnect::new()
        .initial_delay(MS)
        .max_delay(4 * MS)
        .jitter(JITTER)
        .max_attempts(None);
    let mut events = client().reconnecting(&server.url("/soak"), policy).unwrap();
    let mut samples = Vec::new();
    let mut received = 0;
    let mut lost = 0;
    let mut attempts = Vec::new();
    // When the last connection ended (before the stream starts its backoff sleep), and
    // the delay it announced after that.
    let mut ended = Instant::now();
    let mut waiting: Option<(Instant, Duration)> = None;
    let mut closed = None;
    while let Some(event) = within(events.next()).await {
        match event {
            ReconnectEvent::Open(_) => {
                if let Some((since, delay)) = waiting.take() {
                    assert!(since.elapsed() >= delay, "reconnected before {delay:?}");
                }
                samples.push(counts());
            }
            ReconnectEvent::Message(_) => received += 1,
            ReconnectEvent::Error(e) => {
                assert!(
                    matches!(e, Error::ConnectionClosed { code: Some(c), .. } if c == CloseCode::ABNORMAL),
                    "{e:?}"
                );
                lost += 1;
                ended = Instant::now();
            }
            ReconnectEvent::Reconnecting { delay, attempt } => {
                let base = base_delay(attempt).as_secs_f64();
                let secs = delay.as_secs_f64();
                assert!(
                    secs >= base * (1.0 - JITTER) - 1e-9 && secs <= base * (1.0 + JITTER) + 1e-9,
                    "attempt {attempt}: {delay:?} is not within {JITTER} of {base}s"
                );
                attempts.push(attempt);
                waiting = Some((ended, delay));
            }
            ReconnectEvent::Closed { code, reason } => closed = Some((code, reason)),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(closed, Some((Some(CloseCode::NORMAL), "done".to_owned())));
    assert_eq!(samples.len(), CYCLES, "one open per connection");
    assert_eq!(lost, CYCLES - 1, "every drop is an abnormal close");
    let expected: Vec<u32> = (1..u32::try_from(CYCLES).unwrap()).collect();
    assert_eq!(attempts, expected, "one reconnect per drop, counting up");
    // Every message every connection sent before its drop arrived.
    assert_eq!(received, messages_sent());
    assert_no_growth(&samples);
    server.join();
}
