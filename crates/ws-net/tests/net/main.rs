//! Integration tests of `ws-net` against real peers on loopback: rustls servers with rcgen
//! certificates, `pproxy` and `gera2ld.socks` proxies, and scripted listeners for
//! malformed replies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and their fixtures fail loudly"
)]

mod common;
mod connect;
mod proxy;
mod tls;
