//! Connecting through an HTTP CONNECT or SOCKS proxy, with credentials.
//!
//! ```sh
//! cargo run -p wsdump -- --echo-server &
//! pproxy -l http://127.0.0.1:8080 &                 # pip install pproxy
//! cargo run -p ws-client --example proxy -- ws://127.0.0.1:8765 http://127.0.0.1:8080
//! ```
//!
//! The proxy URL may be `http://`, `socks4://`, `socks4a://`, `socks5://` or `socks5h://`
//! (the proxy resolves the host name), with `user:password@`. Without an explicit proxy
//! the client reads `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`.
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::time::Duration;

use ws_client::{ClientBuilder, CloseCode, NetOptions, Proxy, ProxyConfig};

fn main() -> Result<(), ws_client::Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "ws://127.0.0.1:8765".into());
    let proxy = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());

    let proxy = Proxy::parse(&proxy)?.timeout(Some(Duration::from_secs(5)));
    let mut ws = ClientBuilder::new()
        .net(NetOptions::new().proxy(ProxyConfig::Explicit(proxy)))
        .timeout(Some(Duration::from_secs(10)))
        .connect(&url)?;
    ws.send_text("through the proxy")?;
    println!("echo: {:?}", ws.recv()?);
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_secs(3)))
}
