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

use crate::common::Opts;

/// The blocking connect, used by the modules shared with `on_tokio`.
fn connect(endpoint: &ws_net::Endpoint, options: &Opts) -> ws_net::Result<ws_net::Stream> {
    ws_net::connect(endpoint, &options.net, &options.budget())
}

mod common;
mod connect;
#[cfg(feature = "tokio")]
mod on_tokio;
mod proxy;
mod stream;
mod tls;
