//! `cargo xtask bench`: our client against tungstenite's on loopback, plus the ws-frame
//! codec micro-benchmarks, in one run, written to `target/bench/report.md` and
//! `report.json`.
//!
//! The clients and the echo server are the `ws-bench` package, built in release mode and
//! run as processes: one client process per cell and round, so each reports its own peak
//! memory. Both clients run every cell in every round, alternating which goes first;
//! the report gives per-cell medians and the ratio ours/tungstenite. Round trips run with
//! the client and its server pinned to CPU 0 (`taskset`), because on a 2-vCPU machine a
//! cross-CPU wake-up per message otherwise dominates small round trips. Speed never fails
//! the task; only a broken run does.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use std::{fs, thread};

use crate::bench_scale::{Scale, run_scale};
use crate::{StepResult, cargo_with, run};
use crate::{bench_async, bench_instructions, chart};

/// Settings from the command line.
#[derive(Debug, Clone)]
#[allow(clippy::struct_excessive_bools, reason = "command-line switches")]
struct Settings {
    rounds: usize,
    warmup: f64,
    time: f64,
    codec: bool,
    /// Another `ws-bench` build whose `ours` client is run next to this one's.
    compare: Option<std::path::PathBuf>,
    /// Run the scale cells (after the loopback cells, or alone with `--scale`).
    scale: bool,
    /// Only the scale cells.
    scale_only: bool,
    /// Idle connections held by each client in the scale cells.
    connections: usize,
    /// Rounds of the scale cells (their runs do not shrink with `--time`): all rounds
    /// unless `--quick` made it one.
    scale_rounds: Option<usize>,
    /// Run the async cells (ours async against tokio-tungstenite, fastwebsockets and
    /// tokio-websockets).
    asynch: bool,
    /// Only count instructions per message under callgrind (`bench_instructions`).
    instructions: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            rounds: 5,
            warmup: 0.2,
            time: 1.0,
            codec: true,
            compare: None,
            scale: true,
            scale_only: false,
            connections: 10_000,
            scale_rounds: None,
            asynch: true,
            instructions: false,
        }
    }
}

/// One loopback cell.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cell {
    pub(crate) pipelined: bool,
    pub(crate) text: bool,
    pub(crate) size: usize,
    /// The speed target: ours/tungstenite at least this.
    target: Option<f64>,
    /// The target of ours receiving with `recv_ref` (pipelined cells only).
    lent_target: Option<f64>,
    /// Whether the peak memory of both clients is reported for this cell.
    rss: bool,
}

pub(crate) const KIB: usize = 1 << 10;
pub(crate) const MIB: usize = 1 << 20;

pub(crate) const fn cell(
    pipelined: bool,
    text: bool,
    size: usize,
    target: Option<f64>,
    rss: bool,
) -> Cell {
    Cell {
        pipelined,
        text,
        size,
        target,
        lent_target: None,
        rss,
    }
}

/// A pipelined binary cell, also run with ours receiving through `recv_ref`.
const fn pipelined(size: usize, target: Option<f64>, lent_target: Option<f64>) -> Cell {
    Cell {
        pipelined: true,
        text: false,
        size,
        target,
        lent_target,
        rss: false,
    }
}

pub(crate) const CELLS: &[Cell] = &[
    cell(false, false, 16, Some(1.05), true),
    cell(false, false, KIB, Some(1.05), false),
    cell(false, false, 64 * KIB, None, false),
    cell(false, false, MIB, Some(1.4), false),
    cell(false, false, 16 * MIB, Some(1.4), true),
    pipelined(16, Some(1.3), Some(2.0)),
    pipelined(KIB, Some(1.1), None),
    pipelined(64 * KIB, Some(1.1), None),
    pipelined(MIB, None, None),
    pipelined(16 * MIB, None, None),
    cell(false, true, KIB, None, false),
    cell(false, true, MIB, Some(1.2), false),
];

/// The clients: ours, tungstenite, and the raw ceiling (pre-masked frame bytes written
/// as they are, echoes read into one reused buffer: no masking, allocation, parsing or
/// UTF-8 check per message); in pipelined cells also ours receiving lent messages
/// (`recv_ref`, no allocation per message).
const CLIENTS: [&str; 4] = ["ours", "tungstenite", "raw", "ours-ref"];

impl Cell {
    /// How many of [`CLIENTS`] run in this cell.
    fn clients(&self) -> usize {
        if self.pipelined { 4 } else { 3 }
    }
}

impl Cell {
    pub(crate) fn name(&self) -> String {
        format!(
            "{} {} {}",
            if self.pipelined {
                "pipelined"
            } else {
                "round trip"
            },
            if self.text { "text" } else { "binary" },
            size_name(self.size)
        )
    }
}

/// What one client process reported.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) per_second: f64,
    /// Client CPU time (user and system) per message, in microseconds.
    pub(crate) cpu_us: f64,
    batch: u64,
    peak_rss_kib: u64,
    /// Heap and stack resident at the end of the run.
    anon_kib: u64,
}

/// Both clients' samples for one cell.
#[derive(Debug, Default)]
struct Results {
    /// `[ours, tungstenite, raw, ours-ref]`, one sample per round (no ours-ref in round
    /// trips).
    samples: [Vec<Sample>; 4],
    /// `[ours, tungstenite]` run alone, for their memory; only for cells with `rss`.
    memory: [Vec<Sample>; 2],
    /// `[ours, tungstenite]` of the `--compare-with` build, one pair per round, from its
    /// own interleaved run next to this build's.
    compared: Vec<[Sample; 2]>,
    /// Runs that failed (after a retry) and were left out.
    failures: Vec<String>,
}

/// Runs `cargo xtask bench [--rounds N] [--time S] [--warmup S] [--quick] [--no-codec]`.
pub(crate) fn run_bench(root: &Path, args: &[String]) -> StepResult {
    let settings = parse_args(args)?;
    if let Some(path) = &settings.compare {
        if !path.is_file() {
            return Err(format!("--compare-with {}: no such file", path.display()));
        }
    }
    let started = Instant::now();
    let out_dir = root.join("target").join("bench");
    fs::create_dir_all(&out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;

    run(cargo_with(
        root,
        &["build", "--release", "--locked", "-p", "ws-bench"],
    ))?;
    let exe = root.join("target").join("release").join("ws-bench");
    if settings.instructions {
        return bench_instructions::run(root, &exe, settings.compare.as_deref());
    }
    if settings.scale_only {
        let scale = scale_cells(&exe, &settings);
        let mut md = String::from("# Benchmark: scale cells\n");
        scale.markdown(&mut md);
        print!("\n{md}");
        let path = out_dir.join("scale.md");
        fs::write(&path, md).map_err(|e| format!("write {}: {e}", path.display()))?;
        let svg = chart::svg(
            "ws-client scale cells: median ratio, whisker = per-round range (> 1: ours better)",
            &scale_rows(&scale),
        );
        let svg_path = out_dir.join("scale.svg");
        fs::write(&svg_path, svg).map_err(|e| format!("write {}: {e}", svg_path.display()))?;
        eprintln!(
            "xtask bench --scale: wrote {} in {:.0} s",
            path.display(),
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let codec = if settings.codec {
        codec_benchmarks(root)?
    } else {
        Vec::new()
    };

    let pin = taskset_works();
    if !pin {
        eprintln!("taskset is not available: round trips run unpinned");
    }
    let mut free = Server::start(&exe, false)?;
    let mut pinned = if pin {
        Server::start(&exe, true)?
    } else {
        Server::start(&exe, false)?
    };
    let results = loopback(&exe, &settings, pin, free.port, pinned.port);
    let asynch = settings.asynch.then(|| {
        bench_async::run_async(
            &exe,
            settings.rounds,
            settings.warmup,
            settings.time,
            pin,
            (free.port, pinned.port),
        )
    });
    free.stop();
    pinned.stop();
    let scale = settings.scale.then(|| scale_cells(&exe, &settings));

    let machine = Machine::detect();
    let mut report = markdown(&settings, &machine, pin, &results, &codec);
    let mut json = json(&settings, &machine, pin, &results, &codec);
    append_sections(&mut report, &mut json, asynch.as_deref(), scale.as_ref());
    print!("\n{report}");
    let md_path = out_dir.join("report.md");
    let json_path = out_dir.join("report.json");
    fs::write(&md_path, report).map_err(|e| format!("write {}: {e}", md_path.display()))?;
    let svg_path = out_dir.join("chart.svg");
    let mut rows = chart_rows(&results);
    if let Some(asynch) = &asynch {
        rows.extend(bench_async::chart_rows(asynch));
    }
    if let Some(scale) = &scale {
        rows.extend(scale_rows(scale));
    }
    let svg = chart::svg(
        "ws-client against each peer: median ratio, whisker = per-round range (> 1: ours faster)",
        &rows,
    );
    fs::write(&svg_path, svg).map_err(|e| format!("write {}: {e}", svg_path.display()))?;
    fs::write(&json_path, json).map_err(|e| format!("write {}: {e}", json_path.display()))?;
    eprintln!(
        "xtask bench: wrote {} and {} in {:.0} s",
        md_path.display(),
        json_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The scale cells with the command line's settings.
fn scale_cells(exe: &Path, settings: &Settings) -> Scale {
    run_scale(
        exe,
        settings.scale_rounds.unwrap_or(settings.rounds),
        settings.connections,
        settings.time,
    )
}

/// Adds the async and scale sections, when they ran, to the report and its JSON.
fn append_sections(
    report: &mut String,
    json: &mut String,
    asynch: Option<&[bench_async::AsyncResults]>,
    scale: Option<&Scale>,
) {
    let mut add = |key: &str, value: String| {
        if let Some(end) = json.rfind('}') {
            json.truncate(end);
            let _ = writeln!(json, ",\n  \"{key}\": {value}\n}}");
        }
    };
    if let Some(asynch) = asynch {
        bench_async::markdown(report, asynch);
        add("async", bench_async::json(asynch));
    }
    if let Some(scale) = scale {
        scale.markdown(report);
        add("scale", scale.json());
    }
}

fn parse_args(args: &[String]) -> Result<Settings, String> {
    let mut settings = Settings::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| -> Result<f64, String> {
            it.next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| format!("{name} needs a positive number"))
        };
        match arg.as_str() {
            "--rounds" => {
                let rounds = value("--rounds")?;
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a small positive count"
                )]
                let rounds = rounds.round() as usize;
                settings.rounds = rounds.max(1);
            }
            "--time" => settings.time = value("--time")?,
            "--warmup" => settings.warmup = value("--warmup")?,
            "--quick" => {
                settings.time = 0.3;
                settings.warmup = 0.1;
                settings.scale_rounds = Some(1);
            }
            "--no-codec" => settings.codec = false,
            "--scale" => settings.scale_only = true,
            "--no-scale" => settings.scale = false,
            "--no-async" => settings.asynch = false,
            "--instructions" => settings.instructions = true,
            "--connections" => {
                let n = value("--connections")?;
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "a positive count"
                )]
                let n = n.round() as usize;
                settings.connections = n.max(1);
            }
            "--compare-with" => {
                let path = it
                    .next()
                    .ok_or("--compare-with needs the path of another ws-bench binary")?;
                settings.compare = Some(path.into());
            }
            other => {
                return Err(format!(
                    "unknown bench option `{other}`; options: --rounds N (default 5), \
                     --time SECONDS per cell (1), --warmup SECONDS (0.2), --quick (0.3 s \
                     per cell, one round of scale cells), --no-codec (skip the criterion benchmarks), --compare-with PATH \
                     (another ws-bench build's client as a before/after column), --scale (only \
                     the scale cells), --no-scale, --no-async (skip the async cells), --connections N (idle connections, 10000), \
                     --instructions (only instructions per message under callgrind)"
                ));
            }
        }
    }
    Ok(settings)
}

/// An echo server process.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Server {
    pub(crate) fn start(exe: &Path, pinned: bool) -> Result<Self, String> {
        Self::start_with(exe, pinned, "server")
    }

    /// Starts `exe SUBCOMMAND` and reads the port it prints.
    pub(crate) fn start_with(exe: &Path, pinned: bool, subcommand: &str) -> Result<Self, String> {
        let mut cmd = if pinned {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", "0"]).arg(exe);
            cmd
        } else {
            Command::new(exe)
        };
        cmd.arg(subcommand).stdout(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("start {}: {e}", exe.display()))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|e| format!("read the server's port: {e}"))?;
        }
        let port = line
            .trim()
            .strip_prefix("port=")
            .and_then(|p| p.parse().ok());
        if let Some(port) = port {
            Ok(Self { child, port })
        } else {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("the echo server printed `{}`", line.trim()))
        }
    }

    pub(crate) fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn taskset_works() -> bool {
    Command::new("taskset")
        .args(["-c", "0", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn loopback(
    exe: &Path,
    settings: &Settings,
    pin: bool,
    free_port: u16,
    pinned_port: u16,
) -> Vec<Results> {
    let mut results: Vec<Results> = CELLS.iter().map(|_| Results::default()).collect();
    for round in 0..settings.rounds {
        eprintln!("loopback round {}/{}", round + 1, settings.rounds);
        for (index, (cell, result)) in CELLS.iter().zip(&mut results).enumerate() {
            let port = if cell.pipelined {
                free_port
            } else {
                pinned_port
            };
            // Speed: all clients in one process, each on its own connection, taking
            // turns slice by slice; the starting client rotates from cell to cell.
            let n = cell.clients();
            let order: Vec<usize> = (0..n).map(|k| (k + round + index) % n).collect();
            let names: Vec<&str> = order.iter().map(|&i| CLIENTS[i]).collect();
            let run = Run {
                clients: &names,
                warmup: settings.warmup,
                time: settings.time,
                slices: SLICES,
            };
            // The compared build runs right before or after this one (alternating by
            // round), ours and tungstenite interleaved in its own process: its ratio
            // ours/tungstenite is as load-robust as this build's, and the two ratios'
            // quotient is the before/after figure.
            let compared_first = round % 2 == 1;
            if compared_first {
                compare_run(settings, cell, port, pin, result);
            }
            // A run that fails or hangs is retried once, then left out of this round (and
            // reported), so one bad run does not lose the whole benchmark.
            let samples = client_run(exe, cell, &run, port, pin).or_else(|first| {
                eprintln!("{first}; retrying once");
                client_run(exe, cell, &run, port, pin)
            });
            if !compared_first {
                compare_run(settings, cell, port, pin, result);
            }
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
            // Memory: one process per client, as VmHWM is per process.
            if cell.rss {
                for turn in 0..2 {
                    let which = (turn + round) % 2;
                    let run = Run {
                        clients: &[CLIENTS[which]],
                        warmup: 0.1,
                        time: 0.3,
                        slices: 1,
                    };
                    match client_run(exe, cell, &run, port, pin) {
                        Ok(mut samples) => {
                            if let Some(sample) = samples.pop() {
                                result.memory[which].push(sample);
                            }
                        }
                        Err(e) => {
                            eprintln!("{e}; memory sample left out");
                            result.failures.push(e);
                        }
                    }
                }
            }
        }
    }
    results
}

/// Runs the `--compare-with` build's `ours` and `tungstenite` on `cell`, if asked to.
fn compare_run(settings: &Settings, cell: &Cell, port: u16, pin: bool, result: &mut Results) {
    let Some(exe) = &settings.compare else {
        return;
    };
    let run = Run {
        clients: &["ours", "tungstenite"],
        warmup: settings.warmup,
        time: settings.time,
        slices: SLICES,
    };
    match client_run(exe, cell, &run, port, pin) {
        Ok(samples) => {
            if let [ours, theirs] = samples[..] {
                result.compared.push([ours, theirs]);
            }
        }
        Err(e) => {
            eprintln!("compared build: {e}; left out");
            result.failures.push(format!("compared build: {e}"));
        }
    }
}

/// How many turns each client's timed work is cut into.
pub(crate) const SLICES: u32 = 10;

/// One `ws-bench client` invocation.
pub(crate) struct Run<'a> {
    pub(crate) clients: &'a [&'a str],
    pub(crate) warmup: f64,
    pub(crate) time: f64,
    pub(crate) slices: u32,
}

pub(crate) fn client_run(
    exe: &Path,
    cell: &Cell,
    run: &Run<'_>,
    port: u16,
    pin: bool,
) -> Result<Vec<Sample>, String> {
    let mut cmd = if pin && !cell.pipelined {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0"]).arg(exe);
        cmd
    } else {
        Command::new(exe)
    };
    client_args(&mut cmd, cell, run, port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("{} on {}", run.clients.join(","), cell.name());
    let child = cmd.spawn().map_err(|e| format!("start {what}: {e}"))?;
    #[allow(clippy::cast_precision_loss, reason = "at most 3 clients")]
    let limit = Duration::from_secs_f64((run.warmup + run.time) * run.clients.len() as f64 + 30.0);
    let output = wait_with_timeout(child, limit).map_err(|e| format!("{what}: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "{what} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut samples = Vec::new();
    for name in run.clients {
        let prefix = format!("client={name} ");
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .ok_or_else(|| format!("{what} printed no line for {name}: `{}`", stdout.trim()))?;
        samples.push(parse_sample(line).ok_or_else(|| format!("{what} printed `{line}`"))?);
    }
    Ok(samples)
}

/// Appends `client CLIENTS PORT rt|pipe binary|text SIZE WARMUP TIME SLICES` for `cell`
/// and `run` to a `ws-bench` command.
pub(crate) fn client_args<'c>(
    cmd: &'c mut Command,
    cell: &Cell,
    run: &Run<'_>,
    port: u16,
) -> &'c mut Command {
    cmd.arg("client")
        .arg(run.clients.join(","))
        .arg(port.to_string())
        .arg(if cell.pipelined { "pipe" } else { "rt" })
        .arg(if cell.text { "text" } else { "binary" })
        .arg(cell.size.to_string())
        .arg(run.warmup.to_string())
        .arg(run.time.to_string())
        .arg(run.slices.to_string())
}

/// Reads `key=value` pairs of one client's line.
fn parse_sample(line: &str) -> Option<Sample> {
    let field = |name: &str| -> Option<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
    };
    let messages = field("messages")?;
    let seconds = field("seconds")?;
    if messages <= 0.0 || seconds <= 0.0 {
        return None;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "small non-negative integers printed by ws-bench"
    )]
    Some(Sample {
        per_second: messages / seconds,
        cpu_us: field("cpu_seconds")? * 1e6 / messages,
        batch: field("batch")? as u64,
        peak_rss_kib: field("peak_rss_kib")? as u64,
        anon_kib: field("rss_anon_kib")? as u64,
    })
}

/// Waits for `child`, killing it after `limit` so a stuck run cannot hang the task.
pub(crate) fn wait_with_timeout(
    mut child: Child,
    limit: Duration,
) -> Result<std::process::Output, String> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().map_err(|e| e.to_string()),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no result after {} s: killed", limit.as_secs()));
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// One criterion benchmark's result.
#[derive(Debug)]
struct Codec {
    id: String,
    median_ns: f64,
    /// `("bytes" | "elements", n)` per iteration.
    throughput: Option<(&'static str, f64)>,
}

/// Runs the ws-frame criterion benchmarks briefly and reads their results.
fn codec_benchmarks(root: &Path) -> Result<Vec<Codec>, String> {
    let since = SystemTime::now();
    run(cargo_with(
        root,
        &[
            "bench",
            "--locked",
            "-p",
            "ws-frame",
            "--bench",
            "codec",
            "--",
            "--warm-up-time",
            "0.3",
            "--measurement-time",
            "0.7",
            "--noplot",
        ],
    ))?;
    let mut found = Vec::new();
    collect_estimates(&root.join("target").join("criterion"), since, &mut found);
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// Finds `*/new/estimates.json` written since `since` under `dir`.
fn collect_estimates(dir: &Path, since: SystemTime, out: &mut Vec<Codec>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|n| n == "new") {
            if let Some(codec) = read_estimate(&path, since) {
                out.push(codec);
            }
        } else if path
            .file_name()
            .is_none_or(|n| n != "base" && n != "report")
        {
            collect_estimates(&path, since, out);
        }
    }
}

fn read_estimate(dir: &Path, since: SystemTime) -> Option<Codec> {
    let estimates = dir.join("estimates.json");
    let fresh = fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let estimates = fs::read_to_string(estimates).ok()?;
    let benchmark = fs::read_to_string(dir.join("benchmark.json")).ok()?;
    let median = &estimates[estimates.find("\"median\"")?..];
    let median_ns = json_number_after(median, "\"point_estimate\":")?;
    let id = json_string_after(&benchmark, "\"full_id\":")?;
    let throughput = json_number_after(&benchmark, "\"Bytes\":")
        .map(|n| ("bytes", n))
        .or_else(|| json_number_after(&benchmark, "\"Elements\":").map(|n| ("elements", n)));
    Some(Codec {
        id,
        median_ns,
        throughput,
    })
}

fn json_number_after(text: &str, key: &str) -> Option<f64> {
    let rest = text[text.find(key)? + key.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn json_string_after(text: &str, key: &str) -> Option<String> {
    let rest = text[text.find(key)? + key.len()..].trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// What the report says about the machine.
#[derive(Debug)]
struct Machine {
    cpu: String,
    cpus: usize,
    kernel: String,
    rustc: String,
}

impl Machine {
    fn detect() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let cpus = thread::available_parallelism().map_or(0, std::num::NonZero::get);
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_owned(), |k| k.trim().to_owned());
        let rustc = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map_or_else(
                || "unknown".to_owned(),
                |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
            );
        Self {
            cpu,
            cpus,
            kernel,
            rustc,
        }
    }
}

pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        f64::midpoint(values[mid - 1], values[mid])
    }
}

/// Per-cell summary: medians of both clients, the ratio and the range of per-round ratios.
struct Summary {
    ours: f64,
    theirs: f64,
    ratio: f64,
    low: f64,
    high: f64,
    rss: [f64; 2],
    anon: [f64; 2],
    cpu_us: [f64; 2],
    batch: u64,
    raw: f64,
}

fn summarize(results: &Results) -> Summary {
    let rates =
        |i: usize| -> Vec<f64> { results.samples[i].iter().map(|s| s.per_second).collect() };
    #[allow(clippy::cast_precision_loss, reason = "KiB counts are far below 2^52")]
    let rss = |i: usize| {
        median(
            results.memory[i]
                .iter()
                .map(|s| s.peak_rss_kib as f64)
                .collect(),
        )
    };
    #[allow(clippy::cast_precision_loss, reason = "KiB counts are far below 2^52")]
    let anon = |i: usize| {
        median(
            results.memory[i]
                .iter()
                .map(|s| s.anon_kib as f64)
                .collect(),
        )
    };
    let cpu = |i: usize| median(results.samples[i].iter().map(|s| s.cpu_us).collect());
    let ours = median(rates(0));
    let theirs = median(rates(1));
    let (ratio, low, high) = rate_ratio(results, 0, 1);
    Summary {
        ours,
        theirs,
        ratio,
        low,
        high,
        rss: [rss(0), rss(1)],
        anon: [anon(0), anon(1)],
        cpu_us: [cpu(0), cpu(1)],
        raw: median(rates(2)),
        batch: results.samples[0].first().map_or(1, |s| s.batch),
    }
}

pub(crate) fn size_name(size: usize) -> String {
    if size >= MIB && size % MIB == 0 {
        format!("{} MiB", size / MIB)
    } else if size >= KIB && size % KIB == 0 {
        format!("{} KiB", size / KIB)
    } else {
        format!("{size} B")
    }
}

/// `1234567.8` as `1 234 568`.
pub(crate) fn grouped(value: f64) -> String {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "rates are small and non-negative"
    )]
    let digits = (value.round().max(0.0) as u64).to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

#[allow(clippy::cast_precision_loss, reason = "sizes are far below 2^52")]
fn mib_per_s(rate: f64, size: usize) -> f64 {
    rate * size as f64 / MIB as f64
}

fn markdown(
    settings: &Settings,
    machine: &Machine,
    pin: bool,
    results: &[Results],
    codec: &[Codec],
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Benchmark: ws-client vs tungstenite 0.30 (loopback)\n"
    );
    let _ = writeln!(
        md,
        "Machine: {} ({} CPUs), Linux {}, {}.  \nMethod: one echo server process \
         (ws-frame decoder, echoes each frame unmasked), TCP_NODELAY on both ends. Per \
         cell and round one client process runs all three clients (in pipelined cells \
         also ours receiving with `recv_ref`), each on its own connection: {:.1} s warm-up each, then {:.1} s timed each, cut into {SLICES} \
         slices taken in turns (rotating order), so load from elsewhere hits all alike; \
         medians over {} rounds. Round trips: client and server {}. Pipelined: batches of N messages written, flushed, then read \
         (N = 8 MiB / size, 2 to 1000). Ours/tungstenite > 1 means ours is faster. Raw is \
         the ceiling any client can reach against this server: pre-masked frame bytes \
         written as they are, echoes read into one reused buffer, no masking, allocation, \
         parsing or UTF-8 check per message.\n",
        machine.cpu,
        machine.cpus,
        machine.kernel,
        machine.rustc,
        settings.warmup,
        settings.time,
        settings.rounds,
        if pin {
            "pinned to CPU 0 with `taskset -c 0`"
        } else {
            "NOT pinned (taskset unavailable)"
        },
    );
    let _ = writeln!(
        md,
        "| Cell | Ours msg/s | Tungstenite msg/s | Raw msg/s | Ours MiB/s | Ours/tungstenite | Per-round range | Ours/raw | Target | CPU µs/msg ours / tungstenite |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|");
    for (cell, result) in CELLS.iter().zip(results) {
        let s = summarize(result);
        let target = match cell.target {
            Some(t) if s.ratio >= t => format!("≥ {t:.2}× met"),
            Some(t) => format!("≥ {t:.2}× **missed**"),
            None => "-".to_owned(),
        };
        let name = if cell.pipelined {
            format!("{} (N = {})", cell.name(), s.batch)
        } else {
            cell.name()
        };
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} | {:.1} | **{:.2}×** | {:.2}–{:.2} | {:.2} | {target} | {} / {} |",
            grouped(s.ours),
            grouped(s.theirs),
            grouped(s.raw),
            mib_per_s(s.ours, cell.size),
            s.ratio,
            s.low,
            s.high,
            if s.raw > 0.0 { s.ours / s.raw } else { 0.0 },
            cpu_figure(s.cpu_us[0]),
            cpu_figure(s.cpu_us[1]),
        );
    }
    lent_table(&mut md, results);
    for (cell, result) in CELLS.iter().zip(results) {
        for failure in &result.failures {
            let _ = writeln!(md, "\nLeft out of {}: {failure}", cell.name());
        }
    }
    let _ = writeln!(
        md,
        "\nCPU µs/msg is the client's own CPU time (user and system, from \
         `/proc/thread-self/schedstat`) per message: less sensitive than msg/s to other \
         load on the machine.\n\nPeak RSS (VmHWM of a client process running only that \
         client, 0.1 s warm-up and 0.3 s of the cell, median over rounds; \
         target: ours not above tungstenite; anon = heap and stack resident at the end, the \
         rest is file-backed code and read-only data):\n\n\
         | Cell | Ours | Tungstenite | Target | Ours anon | Tungstenite anon |\n\
         |---|---:|---:|---|---:|---:|"
    );
    for (cell, result) in CELLS.iter().zip(results).filter(|(c, _)| c.rss) {
        let s = summarize(result);
        let _ = writeln!(
            md,
            "| {} | {} KiB | {} KiB | {} | {} KiB | {} KiB |",
            cell.name(),
            grouped(s.rss[0]),
            grouped(s.rss[1]),
            if s.rss[0] <= s.rss[1] {
                "met"
            } else {
                "**missed**"
            },
            grouped(s.anon[0]),
            grouped(s.anon[1]),
        );
    }
    compare_table(&mut md, settings, results);
    codec_table(&mut md, codec);
    md
}

/// The chart's rows: per cell, ours against tungstenite, raw and the compared build.
fn chart_rows(results: &[Results]) -> Vec<chart::Row> {
    let mut rows = Vec::new();
    for (cell, result) in CELLS.iter().zip(results) {
        let s = summarize(result);
        rows.push(chart::Row {
            cell: cell.name(),
            peer: "tungstenite".to_owned(),
            median: s.ratio,
            low: s.low,
            high: s.high,
        });
        let raw: Vec<f64> = result.samples[0]
            .iter()
            .zip(&result.samples[2])
            .map(|(a, b)| {
                if b.per_second > 0.0 {
                    a.per_second / b.per_second
                } else {
                    0.0
                }
            })
            .collect();
        if !raw.is_empty() {
            rows.push(chart::Row {
                cell: cell.name(),
                peer: "raw".to_owned(),
                median: if s.raw > 0.0 { s.ours / s.raw } else { 0.0 },
                low: raw.iter().copied().fold(f64::INFINITY, f64::min),
                high: raw.iter().copied().fold(0.0, f64::max),
            });
        }
        if cell.pipelined && result.samples.get(3).is_some_and(|s| !s.is_empty()) {
            let (median, low, high) = lent_ratio(result);
            rows.push(chart::Row {
                cell: cell.name(),
                peer: "tungstenite (ours with recv_ref)".to_owned(),
                median,
                low,
                high,
            });
        }
        if let Some(c) = compare(result) {
            rows.push(chart::Row {
                cell: cell.name(),
                peer: "compared build".to_owned(),
                median: c.ratio,
                low: c.low,
                high: c.high,
            });
        }
    }
    rows
}

fn scale_rows(scale: &Scale) -> Vec<chart::Row> {
    scale
        .ratios()
        .into_iter()
        .map(|(cell, peer, median, low, high)| chart::Row {
            cell,
            peer,
            median,
            low,
            high,
        })
        .collect()
}

/// This build against the `--compare-with` build, for one cell.
struct Comparison {
    /// Median over rounds of this build's ours/tungstenite.
    this: f64,
    /// Median over rounds of the compared build's ours/tungstenite.
    other: f64,
    /// Median, lowest and highest per-round quotient of the two.
    ratio: f64,
    low: f64,
    high: f64,
    /// Median CPU µs per message of this build's and the compared build's ours.
    cpu_us: [f64; 2],
}

fn compare(results: &Results) -> Option<Comparison> {
    if results.compared.is_empty() {
        return None;
    }
    let ratio = |ours: &Sample, theirs: &Sample| {
        if theirs.per_second > 0.0 {
            ours.per_second / theirs.per_second
        } else {
            0.0
        }
    };
    let this: Vec<f64> = results.samples[0]
        .iter()
        .zip(&results.samples[1])
        .map(|(a, b)| ratio(a, b))
        .collect();
    let other: Vec<f64> = results.compared.iter().map(|[a, b]| ratio(a, b)).collect();
    let per_round: Vec<f64> = this
        .iter()
        .zip(&other)
        .map(|(a, b)| if *b > 0.0 { a / b } else { 0.0 })
        .collect();
    Some(Comparison {
        this: median(this),
        other: median(other),
        ratio: median(per_round.clone()),
        low: per_round.iter().copied().fold(f64::INFINITY, f64::min),
        high: per_round.iter().copied().fold(0.0, f64::max),
        cpu_us: [
            median(results.samples[0].iter().map(|s| s.cpu_us).collect()),
            median(results.compared.iter().map(|[s, _]| s.cpu_us).collect()),
        ],
    })
}

/// The before/after table when `--compare-with` was given.
fn compare_table(md: &mut String, settings: &Settings, results: &[Results]) {
    let Some(path) = &settings.compare else {
        return;
    };
    let _ = writeln!(
        *md,
        "\nThis build against `{}` (`--compare-with`): per cell and round the compared \
         build runs its ours and tungstenite interleaved in its own process, right before or \
         after this build's run (alternating); this/compared is the quotient of the two \
         ours/tungstenite ratios, median and range over rounds (> 1: this build is \
         faster).\n\n\
         | Cell | This ours/tungstenite | Compared ours/tungstenite | This/compared | \
         Per-round range | CPU µs/msg this / compared |\n|---|---:|---:|---:|---:|---:|",
        path.display()
    );
    for (cell, result) in CELLS.iter().zip(results) {
        let Some(c) = compare(result) else {
            continue;
        };
        let _ = writeln!(
            *md,
            "| {} | {:.2}× | {:.2}× | **{:.3}×** | {:.3}–{:.3} | {} / {} |",
            cell.name(),
            c.this,
            c.other,
            c.ratio,
            c.low,
            c.high,
            cpu_figure(c.cpu_us[0]),
            cpu_figure(c.cpu_us[1]),
        );
    }
}

/// Client `a` against client `b` of one cell: the ratio of their median rates and the
/// lowest and highest per-round ratio (zero where `b` has no rate).
fn rate_ratio(result: &Results, a: usize, b: usize) -> (f64, f64, f64) {
    let rates = |i: usize| -> Vec<f64> {
        result
            .samples
            .get(i)
            .map(|s| s.iter().map(|s| s.per_second).collect())
            .unwrap_or_default()
    };
    let (ours, theirs) = (median(rates(a)), median(rates(b)));
    let ratio = if theirs > 0.0 { ours / theirs } else { 0.0 };
    let per_round: Vec<f64> = rates(a)
        .iter()
        .zip(rates(b))
        .map(|(x, y)| if y > 0.0 { x / y } else { 0.0 })
        .collect();
    let low = per_round.iter().copied().fold(f64::INFINITY, f64::min);
    let high = per_round.iter().copied().fold(0.0, f64::max);
    (ratio, low, high)
}

/// Ours receiving lent messages (`recv_ref`, client 3) against tungstenite (client 1).
fn lent_ratio(result: &Results) -> (f64, f64, f64) {
    rate_ratio(result, 3, 1)
}

/// The pipelined cells again with ours receiving lent messages (`recv_ref`), measured in
/// the same slices as the others.
fn lent_table(md: &mut String, results: &[Results]) {
    let _ = writeln!(
        md,
        "\nPipelined, ours receiving with `recv_ref` (lent messages, no allocation per \
         message) in the same process and slices as the clients above:\n\n\
         | Cell | Ours (recv_ref) msg/s | Tungstenite msg/s | recv_ref/tungstenite | Per-round range | Target | CPU µs/msg recv_ref / recv / tungstenite |\n\
         |---|---:|---:|---:|---:|---|---:|"
    );
    for (cell, result) in CELLS.iter().zip(results) {
        if !cell.pipelined {
            continue;
        }
        let rates =
            |i: usize| -> Vec<f64> { result.samples[i].iter().map(|s| s.per_second).collect() };
        let cpu = |i: usize| median(result.samples[i].iter().map(|s| s.cpu_us).collect());
        let lent = median(rates(3));
        let theirs = median(rates(1));
        let (ratio, low, high) = lent_ratio(result);
        let target = match cell.lent_target {
            Some(t) if ratio >= t => format!("≥ {t:.2}× met"),
            Some(t) => format!("≥ {t:.2}× **missed**"),
            None => "-".to_owned(),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | **{ratio:.2}×** | {low:.2}–{high:.2} | {target} | {} / {} / {} |",
            cell.name(),
            grouped(lent),
            grouped(theirs),
            cpu_figure(cpu(3)),
            cpu_figure(cpu(0)),
            cpu_figure(cpu(1)),
        );
    }
}

/// A CPU time per message in microseconds, with sensible precision.
pub(crate) fn cpu_figure(us: f64) -> String {
    if us >= 100.0 {
        format!("{us:.0}")
    } else if us >= 1.0 {
        format!("{us:.2}")
    } else {
        format!("{us:.3}")
    }
}

/// The criterion results as a Markdown table (nothing when they were skipped).
fn codec_table(md: &mut String, codec: &[Codec]) {
    if !codec.is_empty() {
        let _ = writeln!(
            *md,
            "\nws-frame codec (criterion, short run: 0.3 s warm-up, 0.7 s measurement; \
             median time per iteration):\n\n| Benchmark | Median | Throughput |\n|---|---:|---:|"
        );
        for c in codec {
            let throughput = match c.throughput {
                Some(("bytes", n)) => format!("{:.2} GiB/s", n / c.median_ns),
                Some((_, n)) => format!("{:.1} M elements/s", n * 1e3 / c.median_ns),
                None => "-".to_owned(),
            };
            let time = if c.median_ns >= 1e6 {
                format!("{:.3} ms", c.median_ns / 1e6)
            } else if c.median_ns >= 1e3 {
                format!("{:.3} µs", c.median_ns / 1e3)
            } else {
                format!("{:.2} ns", c.median_ns)
            };
            let _ = writeln!(*md, "| {} | {time} | {throughput} |", c.id);
        }
    }
}

fn json(
    settings: &Settings,
    machine: &Machine,
    pin: bool,
    results: &[Results],
    codec: &[Codec],
) -> String {
    let mut js = String::new();
    let _ = write!(
        js,
        "{{\n  \"machine\": {{\"cpu\": {}, \"cpus\": {}, \"kernel\": {}, \"rustc\": {}}},\n  \
         \"settings\": {{\"rounds\": {}, \"warmup_s\": {}, \"time_s\": {}, \"round_trips_pinned\": {pin}}},\n  \
         \"cells\": [",
        quote(&machine.cpu),
        machine.cpus,
        quote(&machine.kernel),
        quote(&machine.rustc),
        settings.rounds,
        settings.warmup,
        settings.time,
    );
    for (i, (cell, result)) in CELLS.iter().zip(results).enumerate() {
        let s = summarize(result);
        let runs = |which: usize| -> String {
            let rates: Vec<String> = result.samples[which]
                .iter()
                .map(|x| format!("{:.1}", x.per_second))
                .collect();
            let cpu: Vec<String> = result.samples[which]
                .iter()
                .map(|x| format!("{:.3}", x.cpu_us))
                .collect();
            let memory = result.memory.get(which).map_or(&[][..], Vec::as_slice);
            let rss: Vec<String> = memory.iter().map(|x| x.peak_rss_kib.to_string()).collect();
            let anon: Vec<String> = memory.iter().map(|x| x.anon_kib.to_string()).collect();
            format!(
                "{{\"messages_per_s\": [{}], \"cpu_us_per_message\": [{}], \
                 \"peak_rss_kib\": [{}], \"rss_anon_kib\": [{}]}}",
                rates.join(", "),
                cpu.join(", "),
                rss.join(", "),
                anon.join(", ")
            )
        };
        let compared = compare(result).map_or_else(
            || "null".to_owned(),
            |c| {
                format!(
                    "{{\"this_ratio\": {:.4}, \"compared_ratio\": {:.4}, \"ratio\": {:.4}, \
                     \"low\": {:.4}, \"high\": {:.4}, \"cpu_us_per_message\": [{:.3}, {:.3}]}}",
                    c.this, c.other, c.ratio, c.low, c.high, c.cpu_us[0], c.cpu_us[1]
                )
            },
        );
        let _ = write!(
            js,
            "{}\n    {{\"name\": {}, \"mode\": \"{}\", \"kind\": \"{}\", \"size\": {}, \
             \"batch\": {}, \"median_messages_per_s\": {{\"ours\": {:.1}, \"tungstenite\": {:.1}, \"raw\": {:.1}}}, \
             \"ratio\": {:.4}, \"target\": {}, \"met\": {}, \"ours\": {}, \"tungstenite\": {}, \"raw\": {}, \"ours_ref\": {}, \"compared\": {compared}}}",
            if i == 0 { "" } else { "," },
            quote(&cell.name()),
            if cell.pipelined {
                "pipelined"
            } else {
                "round_trip"
            },
            if cell.text { "text" } else { "binary" },
            cell.size,
            s.batch,
            s.ours,
            s.theirs,
            s.raw,
            s.ratio,
            cell.target
                .map_or_else(|| "null".to_owned(), |t| t.to_string()),
            cell.target
                .map_or_else(|| "null".to_owned(), |t| (s.ratio >= t).to_string()),
            runs(0),
            runs(1),
            runs(2),
            runs(3),
        );
    }
    js.push_str("\n  ],\n  \"codec\": [");
    for (i, c) in codec.iter().enumerate() {
        let (unit, n) = c.throughput.unwrap_or(("none", 0.0));
        let _ = write!(
            js,
            "{}\n    {{\"id\": {}, \"median_ns\": {:.3}, \"throughput_{unit}\": {n}}}",
            if i == 0 { "" } else { "," },
            quote(&c.id),
            c.median_ns,
        );
    }
    js.push_str("\n  ]\n}\n");
    js
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion_json_is_read_without_a_parser() {
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":1.5,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":2.0},"point_estimate":123.25,"standard_error":0.1}}"#;
        let median = &estimates[estimates.find("\"median\"").unwrap()..];
        assert_eq!(
            json_number_after(median, "\"point_estimate\":"),
            Some(123.25)
        );
        let benchmark = r#"{"group_id":"mask","function_id":"memcpy","value_str":"4KiB","throughput":{"Bytes":4096},"full_id":"mask/memcpy/4KiB","directory_name":"mask/memcpy/4KiB"}"#;
        assert_eq!(
            json_string_after(benchmark, "\"full_id\":").as_deref(),
            Some("mask/memcpy/4KiB")
        );
        assert_eq!(json_number_after(benchmark, "\"Bytes\":"), Some(4096.0));
    }

    #[test]
    fn medians_and_names() {
        assert!((median(vec![3.0, 1.0, 2.0]) - 2.0).abs() < f64::EPSILON);
        assert!((median(vec![4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < f64::EPSILON);
        assert_eq!(size_name(16), "16 B");
        assert_eq!(size_name(64 << 10), "64 KiB");
        assert_eq!(size_name(16 << 20), "16 MiB");
        assert_eq!(grouped(1_234_567.4), "1\u{202f}234\u{202f}567");
        assert_eq!(quote("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }
}
