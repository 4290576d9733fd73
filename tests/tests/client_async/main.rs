//! Integration tests of the async client (`ws-client` feature `tokio`) against real peers
//! on loopback: the Python `websockets` server (plain and with permessage-deflate),
//! tungstenite over rustls, `pproxy` proxies, and raw TCP servers speaking hand-written
//! bytes. One test binary, one module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation is a test failure"
)]

mod cancel;
mod close;
mod concurrency;
mod connect;
mod echo;
mod env_proxy;
#[path = "../common/fault_errors.rs"]
mod fault_errors;
mod faults;
mod frames;
mod keepalive;
mod node;
mod proxy;
mod reconnect;
#[path = "../common/redirects.rs"]
mod redirect_cases;
mod redirects;
mod scale;
#[path = "../common/scale_load.rs"]
mod scale_load;
mod soak;
mod split;
mod write_queue;

use std::future::Future;

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

/// `future`, failing the test instead of hanging when it takes over [`TIMEOUT`].
async fn within<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(TIMEOUT, future)
        .await
        .expect("the async operation did not finish within the test timeout")
}
