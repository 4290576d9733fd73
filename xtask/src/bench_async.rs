//! The async cells of `cargo xtask bench`: ours (`ws-client` with the `tokio` feature)
//! against tokio-tungstenite, fastwebsockets and tokio-websockets, each on a tokio
//! current-thread runtime, on the same echo servers as the blocking cells and in the same
//! run: per cell and round one `ws-bench client` process runs all four, each on its own
//! connection, in turns slice by slice (rotating order), round trips pinned to CPU 0.

use std::fmt::Write as _;
use std::path::Path;

use crate::bench::{
    Cell, KIB, MIB, Run, SLICES, Sample, cell, client_run, cpu_figure, grouped, median,
};
use crate::chart;

/// The async clients, ours first; the report's ratios are ours over each of the others.
pub(crate) const CLIENTS: [&str; 4] = [
    "ours-async",
    "tokio-tungstenite",
    "fastwebsockets",
    "tokio-websockets",
];

/// Binary round trips and pipelined batches at 16 B, 1 KiB, 64 KiB and 1 MiB.
const CELLS: &[Cell] = &[
    cell(false, false, 16, None, false),
    cell(false, false, KIB, None, false),
    cell(false, false, 64 * KIB, None, false),
    cell(false, false, MIB, None, false),
    cell(true, false, 16, None, false),
    cell(true, false, KIB, None, false),
    cell(true, false, 64 * KIB, None, false),
    cell(true, false, MIB, None, false),
];

/// The targets: ours over tokio-tungstenite at least 1.2 pipelined and 1.0 round trip,
/// and at least 0.95 of fastwebsockets and tokio-websockets everywhere.
fn target(cell: &Cell, peer: usize) -> f64 {
    match (peer, cell.pipelined) {
        (1, true) => 1.2,
        (1, false) => 1.0,
        _ => 0.95,
    }
}

/// Every client's samples for one cell, one per round (all from the same process run).
#[derive(Debug, Default)]
pub(crate) struct AsyncResults {
    samples: [Vec<Sample>; 4],
    failures: Vec<String>,
}

/// Median and range of the per-round ratios ours / `peer`.
fn ratio(result: &AsyncResults, peer: usize) -> (f64, f64, f64) {
    let per_round: Vec<f64> = result.samples[0]
        .iter()
        .zip(&result.samples[peer])
        .map(|(a, b)| {
            if b.per_second > 0.0 {
                a.per_second / b.per_second
            } else {
                0.0
            }
        })
        .collect();
    if per_round.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let low = per_round.iter().copied().fold(f64::INFINITY, f64::min);
    let high = per_round.iter().copied().fold(0.0, f64::max);
    (median(per_round), low, high)
}

/// Runs every async cell for `rounds` rounds against the two echo servers.
pub(crate) fn run_async(
    exe: &Path,
    rounds: usize,
    warmup: f64,
    time: f64,
    pin: bool,
    ports: (u16, u16),
) -> Vec<AsyncResults> {
    let (free_port, pinned_port) = ports;
    let mut results: Vec<AsyncResults> = CELLS.iter().map(|_| AsyncResults::default()).collect();
    for round in 0..rounds {
        eprintln!("async round {}/{rounds}", round + 1);
        for (index, (cell, result)) in CELLS.iter().zip(&mut results).enumerate() {
            let port = if cell.pipelined {
                free_port
            } else {
                pinned_port
            };
            let order: Vec<usize> = (0..CLIENTS.len())
                .map(|k| (k + round + index) % CLIENTS.len())
                .collect();
            let names: Vec<&str> = order.iter().map(|&i| CLIENTS[i]).collect();
            let run = Run {
                clients: &names,
                warmup,
                time,
                slices: SLICES,
            };
            let samples = client_run(exe, cell, &run, port, pin).or_else(|first| {
                eprintln!("{first}; retrying once");
                client_run(exe, cell, &run, port, pin)
            });
            match samples {
                Ok(samples) => {
                    for (&which, sample) in order.iter().zip(samples) {
                        result.samples[which].push(sample);
                    }
                }
                Err(e) => {
                    eprintln!("{e}; round {} of this cell left out", round + 1);
                    result.failures.push(e);
                }
            }
        }
    }
    results
}

/// The async section of the report.
pub(crate) fn markdown(md: &mut String, results: &[AsyncResults]) {
    let _ = writeln!(
        *md,
        "\nAsync: ours (`ws-client`, feature `tokio`) against tokio-tungstenite 0.30, \
         fastwebsockets 0.10 and tokio-websockets 0.13, default options, each on a tokio \
         current-thread runtime; one process per cell and round runs all four, each on its \
         own connection to the same echo servers as above, in turns slice by slice. \
         Ratios are ours over the peer, median of per-round ratios (range in brackets). \
         Targets: ≥ 1.2× tokio-tungstenite pipelined, ≥ 1.0× round trip, ≥ 0.95× \
         fastwebsockets and tokio-websockets everywhere.\n\n\
         | Cell | Ours msg/s | tokio-tungstenite | fastwebsockets | tokio-websockets | \
         Ours/tokio-tungstenite | Ours/fastwebsockets | Ours/tokio-websockets | Missed | \
         CPU µs/msg ours / tt / fw / tw |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"
    );
    for (cell, result) in CELLS.iter().zip(results) {
        let rate = |i: usize| median(result.samples[i].iter().map(|s| s.per_second).collect());
        let cpu = |i: usize| median(result.samples[i].iter().map(|s| s.cpu_us).collect());
        let mut missed = Vec::new();
        let mut cols = Vec::new();
        for (peer, name) in CLIENTS.iter().enumerate().skip(1) {
            let (m, lo, hi) = ratio(result, peer);
            if m < target(cell, peer) {
                missed.push(*name);
            }
            cols.push(format!("**{m:.2}×** ({lo:.2}–{hi:.2})"));
        }
        let _ = writeln!(
            *md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} / {} |",
            cell.name(),
            grouped(rate(0)),
            grouped(rate(1)),
            grouped(rate(2)),
            grouped(rate(3)),
            cols[0],
            cols[1],
            cols[2],
            if missed.is_empty() {
                "-".to_owned()
            } else {
                format!("**{}**", missed.join(", "))
            },
            cpu_figure(cpu(0)),
            cpu_figure(cpu(1)),
            cpu_figure(cpu(2)),
            cpu_figure(cpu(3)),
        );
    }
    for (cell, result) in CELLS.iter().zip(results) {
        for failure in &result.failures {
            let _ = writeln!(*md, "\nLeft out of async {}: {failure}", cell.name());
        }
    }
}

/// The chart's rows: per async cell, ours against each async peer.
pub(crate) fn chart_rows(results: &[AsyncResults]) -> Vec<chart::Row> {
    let mut rows = Vec::new();
    for (cell, result) in CELLS.iter().zip(results) {
        for (peer, name) in CLIENTS.iter().enumerate().skip(1) {
            let (median, low, high) = ratio(result, peer);
            rows.push(chart::Row {
                cell: format!("async {}", cell.name()),
                peer: (*name).to_owned(),
                median,
                low,
                high,
            });
        }
    }
    rows
}

/// The async cells as a JSON array.
pub(crate) fn json(results: &[AsyncResults]) -> String {
    let mut js = String::from("[");
    for (i, (cell, result)) in CELLS.iter().zip(results).enumerate() {
        let clients: Vec<String> = CLIENTS
            .iter()
            .zip(&result.samples)
            .map(|(name, samples)| {
                let rates: Vec<String> = samples
                    .iter()
                    .map(|s| format!("{:.1}", s.per_second))
                    .collect();
                let cpu: Vec<String> = samples.iter().map(|s| format!("{:.3}", s.cpu_us)).collect();
                format!(
                    "\"{name}\": {{\"messages_per_s\": [{}], \"cpu_us_per_message\": [{}]}}",
                    rates.join(", "),
                    cpu.join(", ")
                )
            })
            .collect();
        let _ = write!(
            js,
            "{}\n    {{\"name\": \"{}\", \"size\": {}, {}}}",
            if i == 0 { "" } else { "," },
            cell.name(),
            cell.size,
            clients.join(", ")
        );
    }
    js.push_str("\n  ]");
    js
}
