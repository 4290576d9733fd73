//! The scale cells of `cargo xtask bench` (also alone: `cargo xtask bench --scale`): N idle
//! connections held in one client process, reporting the client's heap growth per
//! connection (`RssAnon` after minus before, over N) for ours and tungstenite, and the
//! connection setup rate (TCP connect plus WebSocket handshake per second), against one
//! single-threaded event-driven server (`ws-bench scale-server`) that holds any number of
//! connections.
//!
//! Not covered yet: N connections x M messages of echo load, which needs the async client
//! (hook: a `ws-bench load` subcommand run from [`run_scale`] next to the idle cells).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::bench::{Server, median, wait_with_timeout};

/// What the scale cells measured, per round.
#[derive(Debug, Default)]
pub(crate) struct Scale {
    pub(crate) connections: usize,
    /// Bytes per idle connection, `[ours, tungstenite]`, one per round.
    idle: [Vec<f64>; 2],
    /// Connections set up per second, `[ours, tungstenite]`, one per round.
    setup: [Vec<f64>; 2],
    /// Seconds to open all N connections, `[ours, tungstenite]`.
    open_seconds: [Vec<f64>; 2],
    failures: Vec<String>,
}

const CLIENTS: [&str; 2] = ["ours", "tungstenite"];

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
        for turn in 0..2 {
            let which = (turn + round) % 2;
            match idle_run(exe, CLIENTS[which], server.port, connections) {
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
    server.stop();
    scale
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
        let ours = median(self.idle[0].clone());
        let theirs = median(self.idle[1].clone());
        let (ratio, low, high) = ratios(&self.idle[0], &self.idle[1]);
        let _ = writeln!(
            *md,
            "\nScale: {} idle connections held in one client process (one process per client \
             and round, alternating), against one single-threaded event-driven server; heap \
             per connection is the growth of the process's `RssAnon` while opening them, \
             over N (after one connection opened and closed first). Setup rate: TCP connect \
             plus WebSocket handshake plus close (`SO_LINGER` 0), per second, both clients \
             interleaved in 10 slices in one process. Medians over {} rounds.\n\n\
             | Cell | Ours | Tungstenite | Ours/tungstenite | Per-round range | Target |\n\
             |---|---:|---:|---:|---:|---|",
            self.connections,
            self.idle[0].len().max(self.setup[0].len()),
        );
        let _ = writeln!(
            *md,
            "| heap per idle connection | {:.0} B | {:.0} B | **{ratio:.2}×** | {low:.2}–{high:.2} \
             | ≤ 4096 B and ≤ 0.25× {} |",
            ours,
            theirs,
            if idle_met(ours, theirs) {
                "met"
            } else {
                "**missed**"
            },
        );
        let (ratio, low, high) = ratios(&self.setup[0], &self.setup[1]);
        let _ = writeln!(
            *md,
            "| connection setups per second | {:.0} | {:.0} | **{ratio:.2}×** | {low:.2}–{high:.2} | - |",
            median(self.setup[0].clone()),
            median(self.setup[1].clone()),
        );
        let _ = writeln!(
            *md,
            "| seconds to open all {} | {:.2} | {:.2} | | | - |",
            self.connections,
            median(self.open_seconds[0].clone()),
            median(self.open_seconds[1].clone()),
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
        format!(
            "{{\"connections\": {}, \"idle_bytes_per_connection\": {{\"ours\": [{}], \
             \"tungstenite\": [{}]}}, \"setups_per_s\": {{\"ours\": [{}], \"tungstenite\": [{}]}}}}",
            self.connections,
            list(&self.idle[0]),
            list(&self.idle[1]),
            list(&self.setup[0]),
            list(&self.setup[1]),
        )
    }

    /// `(name, median ratio, low, high)` of each cell, for the chart.
    pub(crate) fn ratios(&self) -> Vec<(String, f64, f64, f64)> {
        // For memory, less is better: plot tungstenite/ours so > 1 means ours wins.
        let (r, l, h) = ratios(&self.idle[1], &self.idle[0]);
        let (s, sl, sh) = ratios(&self.setup[0], &self.setup[1]);
        vec![
            ("idle heap (tungstenite/ours)".to_owned(), r, l, h),
            ("setup rate".to_owned(), s, sl, sh),
        ]
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
