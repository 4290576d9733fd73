//! The scale cells of `cargo xtask bench` (also alone: `cargo xtask bench --scale`): N idle
//! connections held in one client process, reporting the client's heap growth per
//! connection (`RssAnon` after minus before, over N) for ours and tungstenite, and the
//! connection setup rate (TCP connect plus WebSocket handshake per second), against one
//! single-threaded event-driven server (`ws-bench scale-server`) that holds any number of
//! connections.
//!
//! The idle cells also run the async clients (ours async and tokio-tungstenite), and the
//! load cells are uWebSockets' `load_test`: N connections at once, each sending a message
//! and the next once its echo is back, M times (`ws-bench load`), for ours async,
//! tokio-tungstenite, fastwebsockets and tokio-websockets (one process per client and
//! round, alternating), plus one run of ours async with all N idle-cell connections
//! (10,000 by default) busy at once. The TLS setup cell (`ws-bench setup-tls`) runs ours
//! over `ws://` and `wss://` against its own in-process rustls server (rcgen certificate).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::bench::{Server, median, wait_with_timeout};
use crate::bench_async::CLIENTS as ASYNC;

/// What the scale cells measured, per round.
#[derive(Debug, Default)]
pub(crate) struct Scale {
    pub(crate) connections: usize,
    /// Bytes per idle connection, per [`IDLE`] client, one per round.
    idle: [Vec<f64>; 4],
    /// Connections set up per second, `[ours, tungstenite]`, one per round.
    setup: [Vec<f64>; 2],
    /// Seconds to open all N connections, per [`IDLE`] client.
    open_seconds: [Vec<f64>; 4],
    /// Load cells: messages per second per [`LOAD`] size and async client, one per round.
    load: [[Vec<f64>; 4]; 2],
    /// The big run: messages per second of ours async with all N connections busy.
    busy: Vec<f64>,
    /// Setups per second of ours over `[ws://, wss://]` (`ws-bench setup-tls`).
    tls: [Vec<f64>; 2],
    failures: Vec<String>,
}

const CLIENTS: [&str; 2] = ["ours", "tungstenite"];

/// The idle cells' clients: blocking ours and tungstenite, then async ours and
/// tokio-tungstenite.
const IDLE: [&str; 4] = ["ours", "tungstenite", "ours-async", "tokio-tungstenite"];

/// The load cells: `(size, round trips per connection)` with [`LOAD_CONNECTIONS`]
/// connections.
const LOAD: [(usize, u64); 2] = [(16, 100), (16 << 10, 20)];
const LOAD_CONNECTIONS: usize = 1000;
/// Round trips per connection in the big run.
const BUSY_MESSAGES: u64 = 10;

/// Runs the scale cells: `rounds` rounds of both clients' idle runs (one process each,
/// alternating who goes first) and one interleaved setup-rate run.
pub(crate) fn run_scale(exe: &Path, rounds: usize, connections: usize, time: f64) -> Scale {
    let mut scale = Scale {
        connections,
        ..Scale::default()
    };
    let mut server = match Server::start_with(exe, false, "scale-server") {
        Ok(server) => server,
        Err(e) => {
            scale.failures.push(e);
            return scale;
        }
    };
    for round in 0..rounds {
        eprintln!("scale round {}/{rounds}", round + 1);
        for turn in 0..IDLE.len() {
            let which = (turn + round) % IDLE.len();
            match idle_run(exe, IDLE[which], server.port, connections) {
                Ok((bytes, seconds)) => {
                    scale.idle[which].push(bytes);
                    scale.open_seconds[which].push(seconds);
                }
                Err(e) => {
                    eprintln!("{e}; left out");
                    scale.failures.push(e);
                }
            }
        }
        let order = if round % 2 == 0 {
            "ours,tungstenite"
        } else {
            "tungstenite,ours"
        };
        match tls_run(exe, time) {
            Ok([plain, tls]) => {
                scale.tls[0].push(plain);
                scale.tls[1].push(tls);
            }
            Err(e) => {
                eprintln!("{e}; left out");
                scale.failures.push(e);
            }
        }
        match setup_run(exe, order, server.port, time) {
            Ok(rates) => {
                for (name, rate) in rates {
                    if let Some(i) = CLIENTS.iter().position(|c| *c == name) {
                        scale.setup[i].push(rate);
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}; left out");
                scale.failures.push(e);
            }
        }
    }
    for round in 0..rounds {
        eprintln!("load round {}/{rounds}", round + 1);
        load_round(exe, server.port, round, connections, &mut scale);
    }
    server.stop();
    scale
}

/// One round of the load cells (each async client in its own process, rotating who goes
/// first) and of the big run.
fn load_round(exe: &Path, port: u16, round: usize, connections: usize, scale: &mut Scale) {
    let n = LOAD_CONNECTIONS.min(connections);
    for (cell, &(size, m)) in LOAD.iter().enumerate() {
        for turn in 0..ASYNC.len() {
            let which = (turn + round) % ASYNC.len();
            match load_run(exe, ASYNC[which], port, n, m, size) {
                Ok(rate) => scale.load[cell][which].push(rate),
                Err(e) => {
                    eprintln!("{e}; left out");
                    scale.failures.push(e);
                }
            }
        }
    }
    match load_run(exe, ASYNC[0], port, connections, BUSY_MESSAGES, 16) {
        Ok(rate) => scale.busy.push(rate),
        Err(e) => {
            eprintln!("{e}; left out");
            scale.failures.push(e);
        }
    }
}

/// One load run: messages per second.
fn load_run(
    exe: &Path,
    client: &str,
    port: u16,
    n: usize,
    m: u64,
    size: usize,
) -> Result<f64, String> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "load",
        client,
        &port.to_string(),
        &n.to_string(),
        &m.to_string(),
        &size.to_string(),
    ]);
    let what = format!("{client} load of {n} connections x {m} messages of {size} B");
    let out = output_of(cmd, &what, Duration::from_secs(180))?;
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("client={client} ")))
        .ok_or_else(|| format!("{what} printed `{}`", out.trim()))?;
    field(line, "messages")
        .zip(field(line, "seconds"))
        .filter(|(_, s)| *s > 0.0)
        .map(|(c, s)| c / s)
        .ok_or_else(|| format!("{what} printed `{line}`"))
}

fn output_of(mut cmd: Command, what: &str, limit: Duration) -> Result<String, String> {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().map_err(|e| format!("start {what}: {e}"))?;
    let output = wait_with_timeout(child, limit).map_err(|e| format!("{what}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn field(line: &str, name: &str) -> Option<f64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
}

/// One idle run: bytes per connection and the seconds opening them took.
fn idle_run(exe: &Path, client: &str, port: u16, n: usize) -> Result<(f64, f64), String> {
    let mut cmd = Command::new(exe);
    cmd.args(["idle", client, &port.to_string(), &n.to_string()]);
    let what = format!("{client} holding {n} idle connections");
    let out = output_of(cmd, &what, Duration::from_secs(120))?;
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("client={client} ")))
        .ok_or_else(|| format!("{what} printed `{}`", out.trim()))?;
    let parse = || -> Option<(f64, f64)> {
        let before = field(line, "rss_anon_before_kib")?;
        let after = field(line, "rss_anon_after_kib")?;
        let connections = field(line, "connections")?;
        let seconds = field(line, "seconds")?;
        Some(((after - before) * 1024.0 / connections.max(1.0), seconds))
    };
    parse().ok_or_else(|| format!("{what} printed `{line}`"))
}

/// One TLS setup-rate run (its own in-process servers): `[ws://, wss://]` per second.
fn tls_run(exe: &Path, time: f64) -> Result<[f64; 2], String> {
    let mut cmd = Command::new(exe);
    cmd.args(["setup-tls", "0.2", &time.to_string(), "10"]);
    let what = "setup rate over ws:// and wss://";
    let out = output_of(cmd, what, Duration::from_secs_f64(time * 2.0 + 60.0))?;
    let rate = |name: &str| -> Result<f64, String> {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("client={name} ")))
            .ok_or_else(|| format!("{what} printed `{}`", out.trim()))?;
        field(line, "connections")
            .zip(field(line, "seconds"))
            .filter(|(_, s)| *s > 0.0)
            .map(|(c, s)| c / s)
            .ok_or_else(|| format!("{what} printed `{line}`"))
    };
    Ok([rate("plain")?, rate("tls")?])
}

/// One interleaved setup-rate run: connections per second per client.
fn setup_run(
    exe: &Path,
    clients: &str,
    port: u16,
    time: f64,
) -> Result<Vec<(String, f64)>, String> {
    let mut cmd = Command::new(exe);
    cmd.args([
        "setup",
        clients,
        &port.to_string(),
        "0.2",
        &time.to_string(),
        "10",
    ]);
    let what = format!("setup rate of {clients}");
    let out = output_of(cmd, &what, Duration::from_secs_f64(time * 2.0 + 60.0))?;
    let mut rates = Vec::new();
    for name in clients.split(',') {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("client={name} ")))
            .ok_or_else(|| format!("{what} printed `{}`", out.trim()))?;
        let rate = field(line, "connections")
            .zip(field(line, "seconds"))
            .filter(|(_, s)| *s > 0.0)
            .map(|(c, s)| c / s)
            .ok_or_else(|| format!("{what} printed `{line}`"))?;
        rates.push((name.to_owned(), rate));
    }
    Ok(rates)
}

/// Median and range of per-round quotients `a[i] / b[i]`.
fn ratios(a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let per_round: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| if *y > 0.0 { x / y } else { 0.0 })
        .collect();
    if per_round.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let low = per_round.iter().copied().fold(f64::INFINITY, f64::min);
    let high = per_round.iter().copied().fold(0.0, f64::max);
    (median(per_round), low, high)
}

/// Whether the idle targets hold: ours at most 4 KiB and at most a quarter of
/// tungstenite's per connection.
fn idle_met(ours: f64, theirs: f64) -> bool {
    ours <= 4096.0 && ours * 4.0 <= theirs
}

impl Scale {
    /// The scale section of the report.
    pub(crate) fn markdown(&self, md: &mut String) {
        let _ = writeln!(
            *md,
            "\nScale: {} idle connections held in one client process (one process per client \
             and round, rotating), against one single-threaded event-driven server; heap \
             per connection is the growth of the process's `RssAnon` while opening them, \
             over N (after one connection opened and closed first). Async clients run on a \
             tokio current-thread runtime. Setup rate: TCP connect plus WebSocket handshake \
             plus close (`SO_LINGER` 0), per second, both clients interleaved in 10 slices \
             in one process. Medians over {} rounds.\n\n\
             | Cell | Ours | Peer | Ours/peer | Per-round range | Target |\n\
             |---|---:|---:|---:|---:|---|",
            self.connections,
            self.idle[0].len().max(self.setup[0].len()),
        );
        for (ours, theirs, name) in [
            (0, 1, "blocking vs tungstenite"),
            (2, 3, "async vs tokio-tungstenite"),
        ] {
            let a = median(self.idle[ours].clone());
            let b = median(self.idle[theirs].clone());
            let (ratio, low, high) = ratios(&self.idle[ours], &self.idle[theirs]);
            let _ = writeln!(
                *md,
                "| heap per idle connection, {name} | {a:.0} B | {b:.0} B | **{ratio:.2}×** | \
                 {low:.2}–{high:.2} | ≤ 4096 B and ≤ 0.25× {} |",
                if idle_met(a, b) { "met" } else { "**missed**" },
            );
        }
        let (ratio, low, high) = ratios(&self.setup[0], &self.setup[1]);
        let _ = writeln!(
            *md,
            "| connection setups per second, vs tungstenite | {:.0} | {:.0} | **{ratio:.2}×** | {low:.2}–{high:.2} | - |",
            median(self.setup[0].clone()),
            median(self.setup[1].clone()),
        );
        let (ratio, low, high) = ratios(&self.tls[1], &self.tls[0]);
        let _ = writeln!(
            *md,
            "| setups per second, ours wss:// (peer column: ours ws://) | {:.0} | {:.0} | \
             **{ratio:.2}×** | {low:.2}–{high:.2} | - |",
            median(self.tls[1].clone()),
            median(self.tls[0].clone()),
        );
        for (ours, theirs, name) in [(0, 1, "tungstenite"), (2, 3, "tokio-tungstenite")] {
            let _ = writeln!(
                *md,
                "| seconds to open all {}, vs {name} | {:.2} | {:.2} | | | - |",
                self.connections,
                median(self.open_seconds[ours].clone()),
                median(self.open_seconds[theirs].clone()),
            );
        }
        let _ = writeln!(
            *md,
            "\nLoad (uWebSockets' `load_test`): {} connections at once, each sends a binary \
             message and the next once its echo is back; messages per second, one process \
             per client and round (rotating), every echo checked. Targets: ≥ 1.2× \
             tokio-tungstenite, ≥ 1.0× fastwebsockets.\n\n\
             | Cell | Ours async | tokio-tungstenite | fastwebsockets | tokio-websockets | \
             Ours/tokio-tungstenite | Ours/fastwebsockets | Ours/tokio-websockets |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|",
            LOAD_CONNECTIONS.min(self.connections),
        );
        for (cell, (size, m)) in LOAD.iter().enumerate() {
            let rates = &self.load[cell];
            let mut cols = Vec::new();
            for peer in &rates[1..] {
                let (r, lo, hi) = ratios(&rates[0], peer);
                cols.push(format!("**{r:.2}×** ({lo:.2}–{hi:.2})"));
            }
            let _ = writeln!(
                *md,
                "| {size} B x {m} per connection | {:.0} | {:.0} | {:.0} | {:.0} | {} |",
                median(rates[0].clone()),
                median(rates[1].clone()),
                median(rates[2].clone()),
                median(rates[3].clone()),
                cols.join(" | "),
            );
        }
        let _ = writeln!(
            *md,
            "\nAll {} connections busy at once (ours async, one process, {BUSY_MESSAGES} round \
             trips of 16 B on every connection, every echo checked): {:.0} messages per second \
             (median of {} runs; {} failed).",
            self.connections,
            median(self.busy.clone()),
            self.busy.len(),
            self.failures
                .iter()
                .filter(|f| f.contains(&format!(" {} connections", self.connections)))
                .count(),
        );
        for failure in &self.failures {
            let _ = writeln!(*md, "\nLeft out of the scale cells: {failure}");
        }
    }

    /// The scale section as a JSON object.
    pub(crate) fn json(&self) -> String {
        let list = |v: &[f64]| -> String {
            v.iter()
                .map(|x| format!("{x:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let idle: Vec<String> = IDLE
            .iter()
            .zip(&self.idle)
            .map(|(name, v)| format!("\"{name}\": [{}]", list(v)))
            .collect();
        let load: Vec<String> = LOAD
            .iter()
            .zip(&self.load)
            .map(|((size, m), rates)| {
                let per: Vec<String> = ASYNC
                    .iter()
                    .zip(rates)
                    .map(|(name, v)| format!("\"{name}\": [{}]", list(v)))
                    .collect();
                format!(
                    "{{\"size\": {size}, \"messages\": {m}, {}}}",
                    per.join(", ")
                )
            })
            .collect();
        format!(
            "{{\"connections\": {}, \"idle_bytes_per_connection\": {{{}}}, \
             \"setups_per_s\": {{\"ours\": [{}], \"tungstenite\": [{}]}}, \
             \"load_messages_per_s\": [{}], \"busy_messages_per_s\": [{}], \
             \"tls_setups_per_s\": {{\"ws\": [{}], \"wss\": [{}]}}}}",
            self.connections,
            idle.join(", "),
            list(&self.setup[0]),
            list(&self.setup[1]),
            load.join(", "),
            list(&self.busy),
            list(&self.tls[0]),
            list(&self.tls[1]),
        )
    }

    /// `(name, peer, median ratio, low, high)` of each cell, for the chart.
    pub(crate) fn ratios(&self) -> Vec<(String, String, f64, f64, f64)> {
        // For memory, less is better: plot theirs/ours so > 1 means ours wins.
        let row = |cell: &str, peer: &str, (m, lo, hi): (f64, f64, f64)| {
            (cell.to_owned(), peer.to_owned(), m, lo, hi)
        };
        let mut rows = vec![
            row(
                "idle heap (theirs/ours)",
                "tungstenite",
                ratios(&self.idle[1], &self.idle[0]),
            ),
            row(
                "async idle heap (theirs/ours)",
                "tokio-tungstenite",
                ratios(&self.idle[3], &self.idle[2]),
            ),
            row(
                "setup rate",
                "tungstenite",
                ratios(&self.setup[0], &self.setup[1]),
            ),
        ];
        for ((size, _), rates) in LOAD.iter().zip(&self.load) {
            for (name, peer) in ASYNC.iter().zip(rates).skip(1) {
                let (m, lo, hi) = ratios(&rates[0], peer);
                rows.push((
                    format!("async load {size} B"),
                    (*name).to_owned(),
                    m,
                    lo,
                    hi,
                ));
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_targets() {
        let (m, lo, hi) = ratios(&[2.0, 3.0, 4.0], &[1.0, 1.0, 2.0]);
        assert!((m - 2.0).abs() < 1e-9 && (lo - 2.0).abs() < 1e-9 && (hi - 3.0).abs() < 1e-9);
        assert!(idle_met(2000.0, 8000.0));
        assert!(!idle_met(2000.0, 7999.0));
        assert!(!idle_met(4097.0, 100_000.0));
        assert_eq!(
            field("client=ours connections=10 seconds=0.5", "connections"),
            Some(10.0)
        );
    }
}
