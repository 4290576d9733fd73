//! Maintainer tasks, run as `cargo xtask <task>`.
//!
//! `ci` is the one command that decides whether a change is good: a local pass means a
//! green CI. Each step is one function returning `Result<(), String>`; the first failure
//! stops the run with a message naming the step.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod api;
mod autobahn;
mod bench;
mod bench_async;
mod bench_instructions;
mod bench_scale;
mod chart;
mod fuzz;
mod tidy;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

type StepResult = Result<(), String>;

/// One named step of a task.
struct Step {
    name: &'static str,
    run: fn(&Path) -> StepResult,
}

const CI_STEPS: &[Step] = &[
    Step {
        name: "fmt",
        run: fmt,
    },
    Step {
        name: "clippy",
        run: clippy,
    },
    Step {
        name: "features",
        run: features,
    },
    Step {
        name: "clippy-no-std",
        run: clippy_no_std,
    },
    Step {
        name: "test",
        run: test,
    },
    Step {
        name: "autobahn",
        run: autobahn::run_autobahn,
    },
    Step {
        name: "examples",
        run: examples,
    },
    Step {
        name: "doc",
        run: doc,
    },
    Step {
        name: "api",
        run: api_check,
    },
    Step {
        name: "package",
        run: package,
    },
    Step {
        name: "no-std-build",
        run: no_std_build,
    },
    Step {
        name: "fuzz-check",
        run: fuzz_check,
    },
    Step {
        name: "fuzz",
        run: fuzz::ci,
    },
    Step {
        name: "tidy",
        run: tidy::run,
    },
];

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let root = project_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => run_steps(&root, CI_STEPS),
        Some("api") => api::run(&root, args.get(1).is_some_and(|a| a == "--bless")),
        Some("step") => match CI_STEPS
            .iter()
            .find(|s| Some(s.name) == args.get(1).map(String::as_str))
        {
            Some(step) => run_steps(&root, std::slice::from_ref(step)),
            None => Err(format!(
                "`cargo xtask step NAME` takes one of: {}",
                CI_STEPS
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        Some("tidy") => tidy::run(&root),
        Some("autobahn") => autobahn::run_autobahn(&root),
        Some("bench") => bench::run_bench(&root, &args[1..]),
        Some("fuzz") => fuzz::task(&root, args.get(1).map(String::as_str)),
        Some("help" | "--help" | "-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; try `cargo xtask help`")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
         ci        every check CI runs: fmt, clippy, the feature sets, tests, autobahn, docs,\n            \
         cargo package, no_std build, fuzz build, fuzz (30 s per target), tidy\n  \
         autobahn  the Autobahn fuzzing server referees the client; fails on any case not OK\n  \
         bench     our client vs tungstenite on loopback plus the codec benchmarks; writes\n            \
         target/bench/report.md and report.json (options: --rounds N, --time S,\n            \
         --warmup S, --quick, --no-codec, --compare-with PATH, --instructions: user-space\n            \
         instructions per message under callgrind, this build and the compared one)\n  \
         step      one step of ci by name: `cargo xtask step features`\n  \
         api       compare each crate's public items with docs/api/ (--bless rewrites them)\n  \
         tidy      repository checks: file headers, no #[ignore], licenses\n  \
         fuzz      run every fuzz target: `cargo xtask fuzz [SECONDS]` (default 60; installs\n            \
         cargo-fuzz); a crash is left in fuzz/artifacts/<target>/"
    );
}

fn run_steps(root: &Path, steps: &[Step]) -> StepResult {
    let start = Instant::now();
    for step in steps {
        let step_start = Instant::now();
        eprintln!("\n==> xtask step `{}`", step.name);
        (step.run)(root).map_err(|e| format!("step `{}` failed: {e}", step.name))?;
        eprintln!(
            "==> step `{}` passed in {:.1} s",
            step.name,
            step_start.elapsed().as_secs_f64()
        );
    }
    eprintln!(
        "\nxtask: all {} steps passed in {:.0} s",
        steps.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The workspace root: the parent of this crate's manifest directory.
fn project_root() -> PathBuf {
    let manifest =
        env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from("xtask"), PathBuf::from);
    manifest
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// `cargo` as the caller's toolchain sees it.
fn cargo(root: &Path) -> Command {
    let mut cmd = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root);
    cmd
}

/// Runs a command, printing it first; fails with the command line and its exit status.
fn run(mut cmd: Command) -> StepResult {
    let shown = show(&cmd);
    eprintln!("$ {shown}");
    let status = cmd
        .status()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` exited with {status}"))
    }
}

fn show(cmd: &Command) -> String {
    let mut parts = Vec::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            parts.push(format!(
                "{}={}",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    parts.push(cmd.get_program().to_string_lossy().into_owned());
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

fn cargo_with(root: &Path, args: &[&str]) -> Command {
    let mut cmd = cargo(root);
    cmd.args(args);
    cmd
}

fn fmt(root: &Path) -> StepResult {
    run(cargo_with(root, &["fmt", "--all", "--", "--check"]))
        .map_err(|e| format!("{e}; run `cargo fmt --all` to fix"))
}

fn clippy(root: &Path) -> StepResult {
    run(cargo_with(
        root,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--locked",
            "--",
            "-D",
            "warnings",
        ],
    ))
}

/// The feature sets `docs/FEATURES.md` documents, besides the defaults (which `clippy`
/// and `test` cover with `--all-features`): each passes clippy and its tests.
const FEATURE_SETS: &[(&str, &[&str])] = &[
    ("ws-client", &[]),
    ("ws-client", &["tls"]),
    ("ws-client", &["deflate"]),
    ("ws-client", &["http"]),
    ("ws-client", &["tokio"]),
    ("ws-net", &[]),
];

fn features(root: &Path) -> StepResult {
    for (package, features) in FEATURE_SETS {
        let feature_args = if features.is_empty() {
            Vec::new()
        } else {
            vec!["--features".to_owned(), features.join(",")]
        };
        let mut cmd = cargo_with(
            root,
            &[
                "clippy",
                "-p",
                package,
                "--no-default-features",
                "--all-targets",
            ],
        );
        cmd.args(&feature_args)
            .args(["--locked", "--", "-D", "warnings"]);
        run(cmd)?;
        // Unit tests, plus ws-client's tests/features.rs (a ws:// round trip, and the
        // error a wss:// URL gets without `tls`).
        let mut cmd = cargo_with(
            root,
            &["test", "-p", package, "--no-default-features", "--lib"],
        );
        if *package == "ws-client" {
            cmd.args(["--test", "features"]);
        }
        cmd.args(&feature_args).arg("--locked");
        run(cmd)?;
    }
    Ok(())
}

fn clippy_no_std(root: &Path) -> StepResult {
    // Without std, alone and with the permessage-deflate codec (no_std + alloc too).
    for features in [&[][..], &["--features", "deflate"][..]] {
        let mut cmd = cargo_with(root, &["clippy", "-p", "ws-frame", "--no-default-features"]);
        cmd.args(features)
            .args(["--locked", "--", "-D", "warnings"]);
        run(cmd)?;
    }
    Ok(())
}

fn have_nextest(root: &Path) -> bool {
    cargo_with(root, &["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn test(root: &Path) -> StepResult {
    if have_nextest(root) {
        run(cargo_with(
            root,
            &[
                "nextest",
                "run",
                "--workspace",
                "--all-features",
                "--locked",
                "--no-fail-fast",
            ],
        ))?;
        run(cargo_with(
            root,
            &["test", "--doc", "--workspace", "--all-features", "--locked"],
        ))
    } else {
        eprintln!("cargo-nextest is not installed: using `cargo test`");
        run(cargo_with(
            root,
            &["test", "--workspace", "--all-features", "--locked"],
        ))
    }
}

fn doc(root: &Path) -> StepResult {
    let mut cmd = cargo_with(
        root,
        &[
            "doc",
            "--workspace",
            "--no-deps",
            "--all-features",
            "--locked",
        ],
    );
    cmd.env("RUSTDOCFLAGS", "-D warnings");
    run(cmd)
}

/// The `api` step: the public items of each library crate against `docs/api/`.
fn api_check(root: &Path) -> StepResult {
    api::run(root, false)
}

/// The crates meant for crates.io, in publishing order (see `docs/NAMING.md`).
const PUBLISHED: &[&str] = &["ws-frame", "ws-handshake", "ws-net", "ws-client", "wsdump"];

/// `cargo package` for every published crate: each is built from its packaged sources,
/// against the packaged versions of the others (no upload). `--allow-dirty` so a local
/// run with uncommitted edits checks them too.
fn package(root: &Path) -> StepResult {
    forget_packaged_sources()?;
    let mut cmd = cargo_with(root, &["package", "--locked", "--allow-dirty"]);
    for crate_name in PUBLISHED {
        cmd.args(["-p", crate_name]);
    }
    run(cmd)
}

/// Removes cargo's unpacked copies of our own packaged crates from earlier runs.
///
/// `cargo package` verifies each crate against the others through a temporary local
/// registry whose unpacked sources land in `$CARGO_HOME/registry/src/-<hash>/`, the hash
/// taken from the checkout's path. Cargo reuses an unpacked crate of the same name and
/// version without looking at its contents, so a machine that packaged this checkout's
/// path before (a CI runner with a kept `CARGO_HOME`) would verify `ws-client` against
/// the old `ws-net` sources and fail on API changes. Only directories of that local
/// registry (their names start with `-`) and only our crates' names are touched.
fn forget_packaged_sources() -> StepResult {
    let cargo_home = match env::var_os("CARGO_HOME") {
        Some(home) => PathBuf::from(home),
        None => match env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".cargo"),
            None => return Ok(()),
        },
    };
    let Ok(registries) = std::fs::read_dir(cargo_home.join("registry").join("src")) else {
        return Ok(());
    };
    for registry in registries.flatten() {
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(crates) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for unpacked in crates.flatten() {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            let ours = PUBLISHED.iter().any(|published| {
                name.strip_prefix(published)
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                std::fs::remove_dir_all(unpacked.path())
                    .map_err(|e| format!("cannot remove {}: {e}", unpacked.path().display()))?;
            }
        }
    }
    Ok(())
}

fn no_std_build(root: &Path) -> StepResult {
    run(cargo_with(
        root,
        &[
            "build",
            "-p",
            "ws-frame",
            "--no-default-features",
            "--locked",
        ],
    ))?;
    // A bare-metal target proves no std sneaks in through a dependency. Targets cannot be
    // downloaded on every machine, so this part runs only where one is installed.
    let bare = "thumbv7em-none-eabihf";
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(bare));
    if installed {
        run(cargo_with(
            root,
            &[
                "build",
                "-p",
                "ws-frame",
                "--no-default-features",
                "--features",
                "alloc,deflate",
                "--target",
                bare,
                "--locked",
            ],
        ))
    } else {
        eprintln!("target {bare} not installed: skipping the bare-metal build");
        Ok(())
    }
}

fn fuzz_check(root: &Path) -> StepResult {
    let manifest = root.join("fuzz").join("Cargo.toml");
    if !manifest.exists() {
        return Ok(());
    }
    let mut cmd = cargo(root);
    cmd.arg("check")
        .arg("--manifest-path")
        .arg(&manifest)
        .arg("--bins");
    run(cmd)
}

/// Builds every example and runs those needing no outside network: ws-frame's as they
/// are, ws-client's against `wsdump --echo-server` (plain and TLS) and a `pproxy` speaking
/// HTTP CONNECT and SOCKS5 on one port; the async ones (feature `tokio`) too.
fn examples(root: &Path) -> StepResult {
    use std::io::{BufRead, BufReader};
    use std::process::{Child, Stdio};
    struct Killed(Child);
    impl Drop for Killed {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    run(cargo_with(
        root,
        &["build", "--locked", "--workspace", "--bins", "--examples"],
    ))?;
    run(cargo_with(
        root,
        &[
            "build",
            "--locked",
            "-p",
            "ws-client",
            "--features",
            "tokio",
            "--examples",
        ],
    ))?;
    let bin = env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("debug");
    let spawn = |program: &Path, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map(Killed)
            .map_err(|e| format!("could not start {}: {e}", program.display()))
    };
    // The echo server prints its URL, and with --tls its certificate file, first.
    let mut servers = Vec::new();
    let mut lines = Vec::new();
    for tls in [&[][..], &["--tls"][..]] {
        let mut server = spawn(
            &bin.join("wsdump"),
            &[&["--echo-server", "127.0.0.1:0"], tls].concat(),
        )?;
        let stdout = server.0.stdout.take().ok_or("no stdout")?;
        let mut read = BufReader::new(stdout).lines().map_while(Result::ok);
        for _ in 0..=tls.len() {
            let line = read.next().ok_or("the echo server did not start")?;
            lines.push(line);
        }
        servers.push(server);
    }
    // "echo server listening on URL" twice, then "certificate: PATH (...)".
    let word = |line: &String, n: usize| {
        let word = line.split_whitespace().nth(n);
        word.unwrap_or_default().to_owned()
    };
    let (ws, wss, cert) = (word(&lines[0], 4), word(&lines[1], 4), word(&lines[2], 1));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port: {e}"))?
        .port();
    let proxy_url = format!("http://127.0.0.1:{port}");
    let socks_url = format!("socks5://127.0.0.1:{port}");
    let listen = format!("http+socks5://127.0.0.1:{port}");
    let _proxy = spawn(Path::new("pproxy"), &["-l", &listen])
        .map_err(|e| format!("{e} (python3 -m pip install -r tests/requirements.txt)"))?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if started.elapsed().as_secs() > 10 {
            return Err("pproxy did not start listening within 10 s".into());
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut runs: Vec<(String, Vec<String>)> = vec![
        ("echo".into(), vec![ws.clone()]),
        ("app".into(), vec![ws.clone()]),
        ("threads".into(), vec![ws.clone()]),
        ("tls".into(), vec![wss.clone(), cert.clone()]),
        ("async_socks".into(), vec![wss, socks_url, cert]),
        ("proxy".into(), vec![ws, proxy_url]),
    ];
    if let Ok(dir) = std::fs::read_dir(root.join("crates/ws-frame/examples")) {
        for entry in dir.flatten() {
            let path = entry.path();
            if let Some(stem) = path
                .file_stem()
                .filter(|_| path.extension() == Some("rs".as_ref()))
            {
                runs.push((stem.to_string_lossy().into_owned(), Vec::new()));
            }
        }
    }
    for (name, args) in runs {
        let mut cmd = Command::new(bin.join("examples").join(&name));
        cmd.args(&args).stdout(Stdio::null());
        run(cmd)?;
    }
    Ok(())
}
