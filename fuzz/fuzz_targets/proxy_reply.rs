//! The `proxy_reply` fuzz target: [`ws_fuzz::proxy_reply`] holds the input layout and the
//! checks, shared with the regression replay test (`crates/ws-fuzz/tests/regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_fuzz::proxy_reply::run(data));
