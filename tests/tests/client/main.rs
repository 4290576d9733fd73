//! Integration tests of `ws-client` against real, independent peers on loopback: a
//! tungstenite server (plain and TLS), raw TCP servers speaking hand-written bytes, and the
//! Python `websockets` server. One test binary, one module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation is a test failure"
)]

mod close;
mod deflate;
mod duplex;
mod echo;
mod errors;
mod faults;
mod frames;
mod handshake;
mod lending;
mod logging;
mod node;
mod python;
mod redirects;
mod scale;
mod timeouts;

use ws_client::{ClientBuilder, ProxyConfig, TlsOptions};
use ws_tests::TIMEOUT;

/// A client with test timeouts, ignoring proxy environment variables.
fn client() -> ClientBuilder {
    ClientBuilder::new()
        .timeout(Some(TIMEOUT))
        .proxy(ProxyConfig::None)
}

/// [`client`] trusting the test certificate.
fn tls_client() -> ClientBuilder {
    client().tls(TlsOptions::default().ca_file(ws_tests::ca_file()))
}
