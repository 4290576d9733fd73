//! The `handshake_response` fuzz target: [`ws_fuzz::handshake_response`] holds the input layout and the checks, shared
//! with the regression replay test (`crates/ws-fuzz/tests/regressions.rs`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ws_fuzz::handshake_response::run(data));
