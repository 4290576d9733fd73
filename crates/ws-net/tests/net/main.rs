//! Integration tests of `ws-net` against real peers on loopback: rustls servers with rcgen
//! certificates, `pproxy` and `gera2ld.socks` proxies, and scripted listeners for
//! malformed replies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests and their fixtures fail loudly"
)]
#![allow(
    clippy::duplicate_mod,
    reason = "on_tokio runs the connect, proxy and tls modules a second time, async"
)]

/// The blocking connect, used by the modules shared with `on_tokio`.
use ws_net::{connect, connect_with_deadline};

mod common;
mod connect;
#[cfg(feature = "tokio")]
mod on_tokio;
mod proxy;
mod stream;
mod tls;
