//! A bounded soak: the App against a server that drops every connection after a few
//! messages, for a fixed number of cycles. Each cycle reconnects after the backoff delay,
//! and threads, file descriptors and memory (counted from `/proc/self`; nextest runs each
//! test in its own process) do not grow from cycle to cycle.

use std::fs;
use std::sync::Arc;

use super::*;

const CYCLES: usize = 600;

/// One growth step of glibc's heap (128 KiB of top pad plus a page): the allocator may
/// take one once at any point of a run that leaks nothing.
const HEAP_STEP_KIB: u64 = 132;

/// Threads, open file descriptors and `RssAnon` (KiB) of this process.
fn counts() -> (usize, usize, u64) {
    let threads = fs::read_dir("/proc/self/task").map_or(0, Iterator::count);
    let fds = fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
    let anon = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("RssAnon:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    (threads, fds, anon)
}

#[test]
fn reconnecting_through_many_dropped_connections_leaks_nothing() {
    // Connection i sends 1..=4 messages (a fixed pseudo-random count) and drops TCP; the
    // last closes normally, which ends the run.
    let server = serve(CYCLES, |i, ws| {
        for n in 0..=(i * 7 + 3) % 4 {
            if ws
                .send(tungstenite::Message::text(format!("{i}:{n}")))
                .is_err()
            {
                return;
            }
        }
        if i + 1 == CYCLES {
            close(ws, 1000, "done");
        } else {
            drop_tcp(ws);
        }
    });
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

    let samples: Vec<(usize, usize, u64)> = samples_rx.try_iter().collect();
    assert_eq!(samples.len(), CYCLES, "one open per connection");
    // Every message every connection sent before its drop arrived.
    let sent: usize = (0..CYCLES).map(|i| (i * 7 + 3) % 4 + 1).sum();
    assert_eq!(received.load(Ordering::SeqCst), sent);
    // After a warm-up, nothing grows with the number of cycles. The server's threads and
    // sockets (in this process too) come and go by one or two, and the allocator warms up
    // over the first hundred or so cycles, so compare the most seen over cycles 100..120
    // with the most over the last 20: 480 cycles apart, so a leak of even half a KiB per
    // connection passes the bound below.
    let most = |window: &[(usize, usize, u64)]| {
        window.iter().fold((0, 0, 0), |(t, f, a), &(t2, f2, a2)| {
            (t.max(t2), f.max(f2), a.max(a2))
        })
    };
    let (threads, fds, anon) = most(&samples[100..120]);
    let (threads_end, fds_end, anon_end) = most(&samples[CYCLES - 20..]);
    assert!(
        threads_end <= threads + 1,
        "threads: {threads} early on, {threads_end} at the end"
    );
    assert!(
        fds_end <= fds + 2,
        "file descriptors: {fds} early on, {fds_end} at the end"
    );
    assert!(
        anon_end <= anon + 128 + HEAP_STEP_KIB,
        "RssAnon: {anon} KiB early on, {anon_end} KiB at the end"
    );
    server.join();
}
