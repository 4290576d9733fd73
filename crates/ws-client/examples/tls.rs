//! `wss://` with TLS options: an extra CA file (here the echo server's self-signed
//! certificate), a client certificate or SNI name if you need them.
//!
//! ```sh
//! cargo run -p wsdump -- --echo-server --tls &      # prints the certificate's file
//! cargo run -p ws-client --example tls -- wss://localhost:8765 /tmp/wsdump-echo-8765.pem
//! ```
//!
//! Without a CA file the server must have a certificate from a public CA (the Mozilla
//! roots of `webpki-roots` are built in; `WEBSOCKET_CLIENT_CA_BUNDLE` adds a file).
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::time::Duration;

use ws_client::{ClientBuilder, CloseCode, NetOptions, TlsOptions};

fn main() -> Result<(), ws_client::Error> {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "wss://localhost:8765".into());
    let mut tls = TlsOptions::default();
    if let Some(ca_file) = args.next() {
        tls = tls.ca_file(ca_file);
    }
    // Also available: .client_cert(chain_pem, key_pem), .server_name("..."),
    // .without_default_roots(), .alpn([...]), and (for tests only)
    // .dangerous().accept_any_certificate().
    let mut ws = ClientBuilder::new()
        .net(NetOptions::new().tls(tls))
        .timeout(Some(Duration::from_secs(10)))
        .connect(&url)?;
    println!("connected over TLS: {}", ws.is_tls());
    ws.send_text("secret")?;
    println!("echo: {:?}", ws.recv()?);
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_secs(3)))
}
