//! The bounded soak of both clients (`tests/tests/app/soak.rs`, the blocking App, and
//! `tests/tests/client_async/soak.rs`, the async reconnecting stream): a server that drops
//! every connection after a few messages and a short pseudo-random time, and the counts of
//! threads, file descriptors and memory from `/proc/self` that must not grow across
//! cycles (nextest runs each test in its own process).

use std::fs;
use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use crate::{Peer, Tls, ws_server};

/// How many connections a soak runs through.
pub const CYCLES: usize = 600;

/// One growth step of glibc's heap (128 KiB of top pad plus a page): the allocator may
/// take one once at any point of a run that leaks nothing.
const HEAP_STEP_KIB: u64 = 132;

/// Threads, open file descriptors and `RssAnon` (KiB) of this process.
pub type Counts = (usize, usize, u64);

/// Threads, open file descriptors and `RssAnon` (KiB) of this process, now.
pub fn counts() -> Counts {
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

/// How many text messages connection `i` of [`dropping_server`] sends: 1 to 4, a fixed
/// pseudo-random count.
pub fn messages_in(i: usize) -> usize {
    (i * 7 + 3) % 4 + 1
}

/// The messages all [`CYCLES`] connections of [`dropping_server`] send.
pub fn messages_sent() -> usize {
    (0..CYCLES).map(messages_in).sum()
}

/// A server for [`CYCLES`] connections: connection `i` sends [`messages_in`]`(i)` text
/// messages `"{i}:{n}"`, waits 0 to 2 ms (pseudo-random) and drops TCP without a close
/// frame; the last one closes normally (1000, "done") instead.
pub fn dropping_server() -> Peer {
    let count = std::sync::atomic::AtomicUsize::new(0);
    ws_server(CYCLES, Tls::Off, &[], move |ws| {
        let i = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        for n in 0..messages_in(i) {
            if ws
                .send(tungstenite::Message::text(format!("{i}:{n}")))
                .is_err()
            {
                return;
            }
        }
        if i + 1 == CYCLES {
            ws.close(Some(tungstenite::protocol::CloseFrame {
                code: 1000.into(),
                reason: "done".into(),
            }))
            .unwrap();
            while ws.read().is_ok() {}
        } else {
            // The injected fault: the connection lives a little while, then drops.
            let _ = ws.flush();
            thread::sleep(Duration::from_millis(u64::try_from(i * 5 % 3).unwrap()));
            let _ = ws.get_ref().tcp().shutdown(Shutdown::Both);
        }
    })
}

/// Asserts that nothing grew with the number of cycles, from `samples` taken once per
/// connection (at least [`CYCLES`]).
///
/// The server's threads and sockets (in this process too) come and go by one or two,
/// and the allocator warms up over the first hundred or so cycles, so this compares the
/// most seen over cycles 100..120 with the most over the last 20: 480 cycles apart, so a
/// leak of even half a KiB per connection fails the bound.
pub fn assert_no_growth(samples: &[Counts]) {
    let most = |window: &[Counts]| {
        window.iter().fold((0, 0, 0), |(t, f, a), &(t2, f2, a2)| {
            (t.max(t2), f.max(f2), a.max(a2))
        })
    };
    let (threads, fds, anon) = most(&samples[100..120]);
    let (threads_end, fds_end, anon_end) = most(&samples[samples.len() - 20..]);
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
}
