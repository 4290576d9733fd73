//! `cargo xtask autobahn`: the Autobahn|Testsuite fuzzing server referees our client.
//!
//! Steps: make (once, cached under `target/autobahn/venv`) a Python 2.7 virtualenv from
//! pyenv's 2.7.18 holding a pinned `autobahntestsuite`; for each testee (the blocking
//! `crates/ws-client/examples/autobahn_client.rs` as agent `ws-rs` and the async
//! `autobahn_async.rs` as `ws-rs-async`, release builds) write a fuzzing-server spec under
//! `target/autobahn/AGENT/` and start its own `wstest -m fuzzingserver` on a free loopback
//! port; run both testees at once, each against its own server, as
//! `TESTEE ws://127.0.0.1:PORT AGENT`; read each `AGENT/reports/clients/index.json`; print a
//! summary per section for each agent and fail on any case whose behaviour or close
//! behaviour is not OK.
//!
//! Accepted results: `OK` and `INFORMATIONAL` (Autobahn's own "passed, see the notes").
//! Everything else (`UNIMPLEMENTED`, which sections 12 and 13 report when permessage-deflate
//! is not negotiated, `NON-STRICT`, `FAILED`, `WRONG CODE`, `UNCLEAN`) fails the task, and
//! so does a report with fewer than [`EXPECTED_CASES`] cases.
//!
//! `AUTOBAHN_CASES=12.1.*,13.3.1` runs only those cases (comma-separated `wstest`
//! patterns), for quicker iteration; the case count is then not checked.

use std::fmt::Write as _;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{StepResult, cargo_with, run};

/// How many cases sections 1 to 13 hold; all of them must run.
const EXPECTED_CASES: usize = 517;

/// The Python packages the referee runs with, pinned to a set known to work on 2.7.18.
const PIP_PINS: &[&str] = &[
    "autobahntestsuite==25.10.1",
    "autobahn==0.10.9",
    "Twisted==19.10.0",
    "pyOpenSSL==19.1.0",
    "cryptography==3.3.2",
    "wsaccel==0.6.6",
];

/// The testee examples and the agent names they report under.
const TESTEES: &[(&str, &str)] = &[
    ("autobahn_client", "ws-rs"),
    ("autobahn_async", "ws-rs-async"),
];

/// How long the whole run may take before the testee is killed.
const TESTEE_DEADLINE: Duration = Duration::from_secs(60 * 60);

/// Runs the task.
pub(crate) fn run_autobahn(root: &Path) -> StepResult {
    let dir = root.join("target").join("autobahn");
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let wstest = ensure_venv(&dir)?;

    run(cargo_with(
        root,
        &[
            "build",
            "--release",
            "--locked",
            "-p",
            "ws-client",
            "--features",
            "tokio",
            "--example",
            TESTEES[0].0,
            "--example",
            TESTEES[1].0,
        ],
    ))?;

    let filter = std::env::var("AUTOBAHN_CASES")
        .ok()
        .filter(|f| !f.trim().is_empty());
    let cases = filter
        .as_deref()
        .unwrap_or("*")
        .split(',')
        .map(|c| format!("\"{}\"", c.trim()));
    let cases = cases.collect::<Vec<_>>().join(", ");

    // One referee per testee: the fuzzing server is a single-threaded Python process whose
    // cases close the connection on 0.5 s timers, and one server refereeing two testees
    // at once sometimes ran a timer out before it read a close reply that had arrived.
    let mut referees = Vec::new();
    for (_, agent) in TESTEES {
        referees.push(start_referee(&wstest, &dir.join(agent), &cases)?);
    }
    let urls: Vec<String> = referees
        .iter()
        .map(|r| format!("ws://127.0.0.1:{}", r.port))
        .collect();
    run_testees(root, &urls)?;

    let expected = if filter.is_some() { 1 } else { EXPECTED_CASES };
    let mut failures = Vec::new();
    for ((_, agent), referee) in TESTEES.iter().zip(referees) {
        // Each testee asked its referee for the reports when it ended.
        let report_dir = referee.dir.join("reports").join("clients");
        drop(referee.server);
        let judged = read_index(&report_dir.join("index.json"), agent)
            .and_then(|results| judge(agent, &results, &report_dir, expected));
        if let Err(e) = judged {
            failures.push(format!("{agent}: {e}"));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// A fuzzing server started for one testee, in its own directory.
struct Referee {
    dir: PathBuf,
    port: u16,
    server: KillOnDrop,
}

/// Writes a spec for `cases` into `dir` and starts a fuzzing server on a free port with
/// its reports and log there; returns once the server listens.
fn start_referee(wstest: &Path, dir: &Path, cases: &str) -> Result<Referee, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let _ = fs::remove_dir_all(dir.join("reports"));
    let port = free_port()?;
    let spec = dir.join("fuzzingclient-spec.json");
    let spec_text = format!(
        "{{\n  \"url\": \"ws://127.0.0.1:{port}\",\n  \"outdir\": \"./reports/clients\",\n  \
         \"cases\": [{cases}],\n  \"exclude-cases\": [],\n  \"exclude-agent-cases\": {{}}\n}}\n"
    );
    fs::write(&spec, spec_text).map_err(|e| format!("cannot write {}: {e}", spec.display()))?;

    let log_path = dir.join("fuzzingserver.log");
    let log = fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot clone a file handle: {e}"))?;
    let mut server_cmd = Command::new(wstest);
    server_cmd
        .args(["-m", "fuzzingserver", "-s"])
        .arg(&spec)
        // No embedded report web server: it would take port 8080, which another run or
        // service may hold.
        .args(["--webport", "0"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    eprintln!(
        "$ {} (log: {})",
        crate::show(&server_cmd),
        log_path.display()
    );
    let server = server_cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", wstest.display()))?;
    let mut server = KillOnDrop(server);
    wait_for_port(port, &mut server.0, &log_path)?;
    Ok(Referee {
        dir: dir.to_owned(),
        port,
        server,
    })
}

/// Runs every testee at once, each against its own server in `urls`, and waits for all.
fn run_testees(root: &Path, urls: &[String]) -> StepResult {
    let started = Instant::now();
    let mut children = Vec::new();
    for ((example, agent), url) in TESTEES.iter().zip(urls) {
        let testee = root
            .join("target")
            .join("release")
            .join("examples")
            .join(format!("{example}{}", std::env::consts::EXE_SUFFIX));
        let mut testee_cmd = Command::new(&testee);
        testee_cmd.arg(url).arg(agent).stdin(Stdio::null());
        eprintln!("$ {}", crate::show(&testee_cmd));
        let child = testee_cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", testee.display()))?;
        children.push((*agent, KillOnDrop(child)));
    }
    for (agent, child) in &mut children {
        let status = loop {
            if let Some(status) = child
                .0
                .try_wait()
                .map_err(|e| format!("waiting for the testee {agent}: {e}"))?
            {
                break status;
            }
            if started.elapsed() > TESTEE_DEADLINE {
                return Err(format!(
                    "the testee {agent} ran longer than {} s and was killed",
                    TESTEE_DEADLINE.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        eprintln!(
            "testee {agent} finished after {:.1} s with {status}",
            started.elapsed().as_secs_f64()
        );
        if !status.success() {
            return Err(format!("the testee {agent} exited with {status}"));
        }
    }
    Ok(())
}

/// Kills and reaps a child process when dropped, so no server outlives the task.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Returns the path of `wstest`, creating the virtualenv first if needed.
fn ensure_venv(dir: &Path) -> Result<PathBuf, String> {
    let venv = dir.join("venv");
    let wstest = venv.join("bin").join("wstest");
    let stamp = venv.join("pins.txt");
    let pins = PIP_PINS.join("\n");
    if wstest.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == pins) {
        return Ok(wstest);
    }
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let python = PathBuf::from(std::env::var_os("AUTOBAHN_PYTHON").unwrap_or_else(|| {
        Path::new(&home)
            .join(".pyenv/versions/2.7.18/bin/python")
            .into_os_string()
    }));
    if !python.exists() {
        return Err(format!(
            "Python 2.7 not found at {} (set AUTOBAHN_PYTHON to a python2.7 binary)",
            python.display()
        ));
    }
    let _ = fs::remove_dir_all(&venv);
    // virtualenv < 20.22 is the last line that creates Python 2 environments. It goes into
    // a private directory so the pyenv installation stays untouched.
    let boot = dir.join("bootstrap");
    if !boot.join("virtualenv").exists() {
        let mut cmd = Command::new(&python);
        cmd.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
        ])
        .arg(&boot)
        .arg("virtualenv<20.22");
        run(cmd)?;
    }
    let mut cmd = Command::new(&python);
    cmd.env("PYTHONPATH", &boot)
        .args(["-m", "virtualenv", "--quiet"])
        .arg(&venv);
    run(cmd)?;
    let mut cmd = Command::new(venv.join("bin").join("pip"));
    cmd.args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PIP_PINS);
    run(cmd)?;
    if !wstest.exists() {
        return Err(format!("{} missing after installation", wstest.display()));
    }
    fs::write(&stamp, pins).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    Ok(wstest)
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read the bound port: {e}"))
}

fn wait_for_port(port: u16, server: &mut Child, log: &Path) -> StepResult {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let start = Instant::now();
    loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = server.try_wait() {
            return Err(format!(
                "wstest exited with {status} before listening; see {}",
                log.display()
            ));
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "wstest did not listen on port {port} within 60 s; see {}",
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One case of the report: its id, `behavior` and `behaviorClose`.
#[derive(Debug)]
struct CaseResult {
    id: String,
    behavior: String,
    behavior_close: String,
}

/// Reads `index.json` through a python3 one-liner (xtask stays std-only): one line per case,
/// `id<TAB>behavior<TAB>behaviorClose`, for `agent`.
fn read_index(index: &Path, agent: &str) -> Result<Vec<CaseResult>, String> {
    if !index.exists() {
        return Err(format!("no report at {}", index.display()));
    }
    let script = "import json,sys\n\
                  d=json.load(open(sys.argv[1]))\n\
                  a=d.get(sys.argv[2])\n\
                  a is None and sys.exit('agent %s missing from the report' % sys.argv[2])\n\
                  [print('%s\\t%s\\t%s' % (k, v.get('behavior'), v.get('behaviorClose'))) for k, v in a.items()]\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(index)
        .arg(agent)
        .output()
        .map_err(|e| format!("cannot run python3 to read the report: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "reading {} failed: {}",
            index.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut results = Vec::new();
    for line in text.lines() {
        let mut parts = line.split('\t');
        let (Some(id), Some(behavior), Some(close)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("unexpected report line `{line}`"));
        };
        results.push(CaseResult {
            id: id.to_owned(),
            behavior: behavior.to_owned(),
            behavior_close: close.to_owned(),
        });
    }
    results.sort_by_key(|a| case_key(&a.id));
    Ok(results)
}

fn case_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

fn section(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

fn accepted(value: &str) -> bool {
    matches!(value, "OK" | "INFORMATIONAL")
}

/// Prints the per-section summary and fails on any case not accepted.
fn judge(agent: &str, results: &[CaseResult], report_dir: &Path, expected: usize) -> StepResult {
    if results.is_empty() {
        return Err("the report lists no cases".to_owned());
    }
    let mut sections: Vec<(String, usize, usize)> = Vec::new();
    let mut failing = Vec::new();
    for case in results {
        let sec = section(&case.id).to_owned();
        if sections.last().is_none_or(|s| s.0 != sec) {
            sections.push((sec, 0, 0));
        }
        let Some(entry) = sections.last_mut() else {
            continue;
        };
        entry.1 += 1;
        if !(accepted(&case.behavior) && accepted(&case.behavior_close)) {
            entry.2 += 1;
            failing.push(case);
        }
    }
    let mut summary = format!("\nAutobahn summary for {agent} (section: passed/total)\n");
    for (sec, total, failed) in &sections {
        let passed = total - failed;
        let _ = write!(summary, "  §{sec:<3} {passed:>4}/{total:<4}");
        if *failed > 0 {
            let _ = write!(summary, " ({failed} FAILING)");
        }
        summary.push('\n');
    }
    let _ = write!(summary, "  total: {} cases", results.len());
    eprintln!("{summary}");
    if results.len() < expected {
        return Err(format!(
            "the report lists {} cases, expected {expected}: some cases did not run",
            results.len()
        ));
    }
    if failing.is_empty() {
        eprintln!("all cases accepted; reports in {}", report_dir.display());
        Ok(())
    } else {
        let mut msg = format!("{} case(s) not OK:\n", failing.len());
        for case in &failing {
            let _ = writeln!(
                msg,
                "  {} behavior={} close={}",
                case.id, case.behavior, case.behavior_close
            );
        }
        let _ = write!(msg, "see {}/index.html", report_dir.display());
        Err(msg)
    }
}
