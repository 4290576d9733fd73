//! `cargo xtask bench --instructions`: the user-space instructions our client executes
//! per message in each loopback cell, counted by valgrind's callgrind, and with
//! `--compare-with` the same count of another build's client.
//!
//! Message rates on a shared machine move by several percent from run to run; an
//! instruction count does not (the same binary, inputs and environment give the same
//! count whatever else the machine does), so it tells a change of our own code's cost
//! apart from noise. Each count is the difference of a short and a long timed run of the
//! same client (`(I_long - I_short) / (M_long - M_short)`), which removes start-up,
//! connection and handshake. What it leaves out: the kernel's work (system calls,
//! loopback TCP), which dominates small round trips, and the difference between a cheap
//! and a slow instruction; `rep movsb`/`rep stosb` (large copies and fills) count once
//! per iteration. So it compares builds of one client, not different clients.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::StepResult;
use crate::bench::{CELLS, Cell, Run, Server, client_args, wait_with_timeout};

/// The short and the long timed run, in seconds of the client's own (slowed) clock.
const SHORT: f64 = 1.0;
const LONG: f64 = 4.0;

/// One cell's counts: instructions per message of this build and of the compared one.
struct Row {
    cell: Cell,
    this: Result<f64, String>,
    compared: Option<Result<f64, String>>,
}

/// Runs the instruction counts for every loopback cell and writes
/// `target/bench/instructions.md`.
pub(crate) fn run(root: &Path, exe: &Path, compare: Option<&Path>) -> StepResult {
    let started = Instant::now();
    let valgrind = Command::new("valgrind")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !valgrind.is_ok_and(|s| s.success()) {
        return Err(
            "`--instructions` needs valgrind (Debian: `apt-get install valgrind`)".to_owned(),
        );
    }
    let out_dir = root.join("target").join("bench");
    let mut server = Server::start(exe, false)?;
    let mut rows = Vec::new();
    for cell in CELLS {
        eprintln!("instructions: {}", cell.name());
        let this = per_message(exe, cell, server.port, &out_dir);
        let compared = compare.map(|other| per_message(other, cell, server.port, &out_dir));
        rows.push(Row {
            cell: *cell,
            this,
            compared,
        });
    }
    server.stop();
    let md = markdown(&rows, compare);
    print!("\n{md}");
    let path = out_dir.join("instructions.md");
    fs::write(&path, md).map_err(|e| format!("write {}: {e}", path.display()))?;
    eprintln!(
        "xtask bench --instructions: wrote {} in {:.0} s",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    if rows
        .iter()
        .any(|r| r.this.is_err() || r.compared.as_ref().is_some_and(Result::is_err))
    {
        return Err("some counts failed (see the table)".to_owned());
    }
    Ok(())
}

/// Instructions per message of `exe`'s `ours` client in `cell`: a short and a long run
/// under callgrind, differenced.
fn per_message(exe: &Path, cell: &Cell, port: u16, out_dir: &Path) -> Result<f64, String> {
    let short = counted_run(exe, cell, port, SHORT, out_dir)?;
    let long = counted_run(exe, cell, port, LONG, out_dir)?;
    let messages = long.0.saturating_sub(short.0);
    let instructions = long.1.saturating_sub(short.1);
    if messages == 0 {
        return Err(format!(
            "{}: the long run got no more messages than the short one ({} and {})",
            cell.name(),
            short.0,
            long.0
        ));
    }
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    Ok(instructions as f64 / messages as f64)
}

/// One run of `exe client ours` under callgrind for `time` seconds: (messages,
/// instructions).
fn counted_run(
    exe: &Path,
    cell: &Cell,
    port: u16,
    time: f64,
    out_dir: &Path,
) -> Result<(u64, u64), String> {
    let out_file = out_dir.join(format!("callgrind.{}.out", std::process::id()));
    let mut cmd = Command::new("valgrind");
    cmd.arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(exe);
    let run = Run {
        clients: &["ours"],
        warmup: 0.0,
        time,
        slices: 1,
    };
    client_args(&mut cmd, cell, &run, port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("{} under callgrind ({})", cell.name(), exe.display());
    let child = cmd.spawn().map_err(|e| format!("start {what}: {e}"))?;
    let output = wait_with_timeout(child, Duration::from_secs_f64(time + 120.0))
        .map_err(|e| format!("{what}: {e}"))?;
    let counted = fs::read_to_string(&out_file);
    let _ = fs::remove_file(&out_file);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or_default().trim();
        return Err(format!("{what} failed ({}): {last}", output.status));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let messages = stdout
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("messages="))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("{what} printed `{}`", stdout.trim()))?;
    let counted = counted.map_err(|e| format!("{what}: read {}: {e}", out_file.display()))?;
    let instructions = total_instructions(&counted)
        .ok_or_else(|| format!("{what}: no `summary:` line in callgrind's output"))?;
    Ok((messages, instructions))
}

/// The program's total from a callgrind output file (`summary: N`, or `totals: N`).
fn total_instructions(out: &str) -> Option<u64> {
    out.lines().find_map(|line| {
        line.strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    })
}

fn markdown(rows: &[Row], compare: Option<&Path>) -> String {
    let mut md = String::from(
        "# Benchmark: instructions per message (callgrind)\n\nUser-space instructions \
         our client executes per message, counted by callgrind: the difference of a \
         {SHORT} s and a {LONG} s run (start-up and handshake cancel out). Repeatable \
         whatever else the machine does; leaves out the kernel's work and counts a \
         `rep movsb` once per iteration, so it compares builds of one client, not \
         clients.\n\n",
    )
    .replace("{SHORT}", &SHORT.to_string())
    .replace("{LONG}", &LONG.to_string());
    let figure = |r: &Result<f64, String>| match r {
        Ok(n) => crate::bench::grouped(*n),
        Err(e) => format!("failed: {e}"),
    };
    if let Some(path) = compare {
        let _ = writeln!(
            md,
            "Compared build: `{}`. This/compared < 1: this build executes fewer.\n",
            path.display()
        );
        md.push_str(
            "| Cell | This build | Compared build | This/compared |\n|---|---:|---:|---:|\n",
        );
        for row in rows {
            let compared = row.compared.as_ref();
            let ratio = match (&row.this, compared) {
                (Ok(a), Some(Ok(b))) if *b > 0.0 => format!("**{:.3}**", a / b),
                _ => "-".to_owned(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {ratio} |",
                row.cell.name(),
                figure(&row.this),
                compared.map_or_else(|| "-".to_owned(), figure),
            );
        }
    } else {
        md.push_str("| Cell | Instructions per message |\n|---|---:|\n");
        for row in rows {
            let _ = writeln!(md, "| {} | {} |", row.cell.name(), figure(&row.this));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::total_instructions;

    #[test]
    fn reads_callgrinds_total() {
        let out = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nsummary: 86123370\n\
                   fn=main\n1 2\ntotals: 86123370\n";
        assert_eq!(total_instructions(out), Some(86_123_370));
        assert_eq!(total_instructions("events: Ir\n"), None);
    }
}
