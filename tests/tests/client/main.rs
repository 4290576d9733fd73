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
#[path = "../common/fault_errors.rs"]
mod fault_errors;
mod faults;
mod frames;
mod handshake;
mod lending;
mod logging;
mod node;
mod python;
#[path = "../common/redirects.rs"]
mod redirect_cases;
mod redirects;
mod scale;
#[path = "../common/scale_load.rs"]
mod scale_load;
mod timeouts;

use ws_client::{ClientBuilder, NetOptions, ProxyConfig, TlsOptions};
use ws_tests::TIMEOUT;

/// A client with test timeouts, ignoring proxy environment variables.
fn client() -> ClientBuilder {
    ClientBuilder::new().timeout(Some(TIMEOUT)).net(net())
}

/// Network options ignoring proxy environment variables.
fn net() -> NetOptions {
    NetOptions::new().proxy(ProxyConfig::None)
}

/// [`client`] trusting the test certificate.
fn tls_client() -> ClientBuilder {
    client().net(tls_net())
}

/// [`net`] trusting the test certificate.
fn tls_net() -> NetOptions {
    net().tls(TlsOptions::default().ca_file(ws_tests::ca_file()))
}
