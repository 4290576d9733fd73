//! The async client through a SOCKS5 proxy to a `wss://` server, in ten lines of tokio:
//! `async_socks wss://host/path socks5h://127.0.0.1:1080 [ca.pem]` (the CA file is for a
//! server with a private certificate, such as `wsdump --echo-server --tls`).
#![allow(clippy::print_stdout, reason = "an example printing the echo")]

use ws_client::{ClientBuilder, CloseCode, Message, NetOptions, Proxy, ProxyConfig, TlsOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (url, proxy) = (
        args.next().ok_or("usage: async_socks URL PROXY [CA]")?,
        args.next(),
    );
    let proxy = Proxy::parse(&proxy.unwrap_or_else(|| "socks5h://127.0.0.1:1080".into()))?;
    let tls = args
        .next()
        .map_or_else(TlsOptions::default, |ca| TlsOptions::default().ca_file(ca));
    let builder = ClientBuilder::new().net(
        NetOptions::new()
            .proxy(ProxyConfig::Explicit(proxy))
            .tls(tls),
    );
    let mut ws = builder.connect_async(&url).await?;
    ws.send_text("hello through socks5").await?;
    if let Message::Text(reply) = ws.recv().await? {
        println!("{reply}");
    }
    ws.close(
        CloseCode::NORMAL,
        "",
        Some(std::time::Duration::from_secs(3)),
    )
    .await?;
    Ok(())
}
