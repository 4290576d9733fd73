//! The checks behind the fuzz targets in `fuzz/`, as plain functions over bytes: each
//! `fuzz/fuzz_targets/<name>.rs` is a one-line wrapper around [`TARGETS`]' entry of that
//! name, and `tests/regressions.rs` replays every file of `fuzz/corpus/<name>/` and
//! `fuzz/regressions/<name>/` through the same function, so a crash found once stays
//! fixed.
//!
//! A check panics on a finding (that is how libFuzzer notices); on any other input it
//! returns normally.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc,
    clippy::cast_possible_truncation,
    reason = "fuzz checks: a failed assertion is the finding"
)]

pub mod connection;
pub mod decoder;
pub mod handshake_response;
pub mod inflate;
pub mod location;
pub mod proxy_reply;

/// One fuzz target: its name (the binary in `fuzz/` and the directory under
/// `fuzz/corpus/` and `fuzz/regressions/`) and its check.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target, in the order `cargo xtask fuzz` runs them.
pub const TARGETS: &[Target] = &[
    ("decoder", decoder::run),
    ("handshake_response", handshake_response::run),
    ("inflate", inflate::run),
    ("location", location::run),
    ("connection", connection::run),
    ("proxy_reply", proxy_reply::run),
];
