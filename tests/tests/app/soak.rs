//! A bounded soak: the App against a server that drops every connection after a few
//! messages, for a fixed number of cycles (`ws_tests::soak`). Each cycle reconnects after
//! the backoff delay, and threads, file descriptors and memory (counted from
//! `/proc/self`, in a process of the test's own: `ws_tests::run_alone`) do not grow from
//! cycle to cycle.

use std::sync::Arc;

use ws_tests::soak::{CYCLES, assert_no_growth, counts, dropping_server, messages_sent};

use super::*;

#[test]
fn reconnecting_through_many_dropped_connections_leaks_nothing() {
    if !ws_tests::is_alone() {
        return ws_tests::run_alone(
            "soak::reconnecting_through_many_dropped_connections_leaks_nothing",
            |_| {},
        );
    }
    let server = dropping_server();
    let (samples_tx, samples_rx) = mpsc::channel();
    let received = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&received);
    let mut app = App::new(server.url("/soak"))
        .client(client())
        .on_open(move |_| samples_tx.send(counts()).unwrap())
        .on_message(move |_, _| {
            counted.fetch_add(1, Ordering::SeqCst);
        });
    let policy = Reconnect::new()
        .initial_delay(MS)
        .max_delay(4 * MS)
        .max_attempts(None);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "done");

    let samples: Vec<_> = samples_rx.try_iter().collect();
    assert_eq!(samples.len(), CYCLES, "one open per connection");
    // Every message every connection sent before its drop arrived.
    assert_eq!(received.load(Ordering::SeqCst), messages_sent());
    assert_no_growth(&samples);
    server.join();
}
