//! Replays every committed fuzz input through the check of its target: the seed corpus
//! (`fuzz/corpus/<target>/`) and the saved findings (`fuzz/regressions/<target>/`), so a
//! crash found once by `cargo xtask fuzz` fails `cargo test` until it is fixed.
#![allow(clippy::panic, clippy::unwrap_used, reason = "tests")]

use std::fs;
use std::path::{Path, PathBuf};

/// The repository's `fuzz/` directory.
fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files of `dir`, sorted; none when it does not exist.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `check` on every file of `fuzz/<kind>/<target>/`; returns how many ran.
fn replay(kind: &str) -> usize {
    let mut count = 0;
    for &(target, check) in ws_fuzz::TARGETS {
        for file in inputs(&fuzz_dir().join(kind).join(target)) {
            let data = fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{target} panics on {}", file.display());
            count += 1;
        }
    }
    count
}

#[test]
fn saved_fuzz_findings_no_longer_crash() {
    replay("regressions");
}

#[test]
fn every_target_has_a_seed_corpus_that_passes() {
    for &(target, _) in ws_fuzz::TARGETS {
        let dir = fuzz_dir().join("corpus").join(target);
        assert!(!inputs(&dir).is_empty(), "no seeds in {}", dir.display());
    }
    assert!(replay("corpus") >= ws_fuzz::TARGETS.len());
}

#[test]
fn every_target_has_a_binary_in_the_fuzz_crate() {
    let manifest = fs::read_to_string(fuzz_dir().join("Cargo.toml")).unwrap();
    for &(target, _) in ws_fuzz::TARGETS {
        assert!(
            manifest.contains(&format!("name = \"{target}\"")),
            "fuzz/Cargo.toml lacks a [[bin]] for {target}"
        );
    }
}
