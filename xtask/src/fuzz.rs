//! `cargo xtask fuzz [SECONDS]` and the `fuzz` step of `cargo xtask ci`: every target of
//! `fuzz/Cargo.toml` for a bounded time on stable, seeded from the committed corpus.
//!
//! Layout (see `fuzz/README.md`):
//! - `fuzz/corpus/<target>/`: a small committed seed corpus of valid inputs, read only;
//! - `target/fuzz-corpus/<target>/`: what libFuzzer finds on top of the seeds (not
//!   committed; kept between local runs);
//! - `fuzz/artifacts/<target>/`: a crashing input, written by libFuzzer (not committed);
//! - `fuzz/regressions/<target>/`: crashing inputs saved as test cases (committed), also
//!   read as seeds here and replayed by `crates/ws-fuzz/tests/regressions.rs` in
//!   `cargo test`.

use std::fs;
use std::path::Path;

use crate::{StepResult, cargo_with, run};

/// Seconds per target in `cargo xtask ci`.
pub(crate) const CI_SECONDS: u64 = 30;

/// The `fuzz` step of `cargo xtask ci`: [`CI_SECONDS`] per target.
pub(crate) fn ci(root: &Path) -> StepResult {
    fuzz_for(root, CI_SECONDS)
}

/// `cargo xtask fuzz [SECONDS]` (default 60).
pub(crate) fn task(root: &Path, seconds: Option<&str>) -> StepResult {
    let seconds: u64 = seconds
        .unwrap_or("60")
        .parse()
        .map_err(|e| format!("fuzz: SECONDS must be a whole number: {e}"))?;
    fuzz_for(root, seconds)
}

/// Installs cargo-fuzz when absent, builds every target and runs each for `seconds`.
/// Without sanitizers (`-s none`) cargo-fuzz needs no nightly flags; if the build ever
/// needs them, it is retried (and the runs done) with `RUSTC_BOOTSTRAP=1`.
fn fuzz_for(root: &Path, seconds: u64) -> StepResult {
    let fuzz = root.join("fuzz");
    let targets = targets(&fuzz.join("Cargo.toml"))?;
    let installed = cargo_with(root, &["fuzz", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        run(cargo_with(root, &["install", "cargo-fuzz", "--locked"]))?;
    }
    // Debug assertions on: an arithmetic overflow is a finding too.
    let build = ["fuzz", "build", "-s", "none", "--debug-assertions"];
    let bootstrap = if run(cargo_with(root, &build)).is_ok() {
        false
    } else {
        eprintln!("retrying the fuzz build with RUSTC_BOOTSTRAP=1 for nightly-only flags");
        let mut cmd = cargo_with(root, &build);
        cmd.env("RUSTC_BOOTSTRAP", "1");
        run(cmd)?;
        true
    };
    let max_time = format!("-max_total_time={seconds}");
    for target in &targets {
        let work = root.join("target").join("fuzz-corpus").join(target);
        fs::create_dir_all(&work).map_err(|e| format!("creating {}: {e}", work.display()))?;
        let mut dirs = vec![work, fuzz.join("corpus").join(target)];
        let regressions = fuzz.join("regressions").join(target);
        if regressions.is_dir() {
            dirs.push(regressions);
        }
        let mut cmd = cargo_with(
            root,
            &["fuzz", "run", "-s", "none", "--debug-assertions", target],
        );
        cmd.args(&dirs).args(["--", &max_time]);
        if bootstrap {
            cmd.env("RUSTC_BOOTSTRAP", "1");
        }
        run(cmd).map_err(|e| {
            format!(
                "fuzz target `{target}` failed ({e}); the input is in fuzz/artifacts/{target}/: \
                 fix the bug, then move the file to fuzz/regressions/{target}/ so \
                 `cargo test -p ws-fuzz` replays it"
            )
        })?;
    }
    Ok(())
}

/// The `[[bin]]` names of the fuzz crate's manifest, in order.
fn targets(manifest: &Path) -> Result<Vec<String>, String> {
    let text =
        fs::read_to_string(manifest).map_err(|e| format!("reading {}: {e}", manifest.display()))?;
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
            continue;
        }
        let value = line.strip_prefix("name").map(str::trim_start);
        if let Some(value) = value.filter(|v| in_bin && v.starts_with('=')) {
            let name = value.trim_start_matches('=').trim().trim_matches('"');
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Err(format!("no [[bin]] targets in {}", manifest.display()));
    }
    Ok(names)
}
