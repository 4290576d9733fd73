//! The async Autobahn|Testsuite testee: `autobahn_async ws://127.0.0.1:9001 AGENT`.
//!
//! The same cases and options as `autobahn_client.rs`, on tokio with
//! [`AsyncWebSocket`](ws_client::AsyncWebSocket): asks for the case count, echoes every
//! text and binary message of each case, then asks the server to write its reports.
//! `cargo xtask autobahn` runs it next to the blocking testee, against the same server.
#![allow(
    clippy::print_stderr,
    reason = "a command-line program reporting progress"
)]

use std::process::ExitCode;
use std::time::Duration;

use ws_client::{
    AsyncWebSocket, ClientBuilder, CloseCode, DeflateOffer, DeflateOptions, Error, Message,
    NetOptions,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(base), agent) = (args.next(), args.next()) else {
        eprintln!("usage: autobahn_async ws://127.0.0.1:9001 [AGENT]");
        return ExitCode::from(2);
    };
    let agent = agent.unwrap_or_else(|| "ws-rs-async".to_owned());
    match run(base.trim_end_matches('/'), &agent).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("autobahn_async: {e}");
            ExitCode::FAILURE
        }
    }
}

fn builder() -> ClientBuilder {
    ClientBuilder::new()
        .timeout(Some(Duration::from_secs(60)))
        .net(NetOptions::new().proxy(ws_client::ProxyConfig::None))
        .deflate(Some(
            DeflateOptions::new().offer(
                DeflateOffer::new()
                    .client_max_window_bits(None)
                    .client_no_context_takeover(),
            ),
        ))
}

async fn run(base: &str, agent: &str) -> Result<(), Error> {
    let close_wait = Some(Duration::from_secs(5));
    let mut ws = builder()
        .connect_async(&format!("{base}/getCaseCount"))
        .await?;
    let count: u32 = match ws.recv().await? {
        Message::Text(text) => text.trim().parse().unwrap_or(0),
        other => {
            eprintln!("unexpected case count message {other:?}");
            0
        }
    };
    ws.close(CloseCode::NORMAL, "", close_wait).await?;
    eprintln!("running {count} cases (async)");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match builder().connect_async(&url).await {
            Ok(ws) => echo(ws).await,
            Err(e) => eprintln!("case {case}: connect failed: {e}"),
        }
        if case % 50 == 0 {
            eprintln!("{case}/{count} (async)");
        }
    }
    let mut ws = builder()
        .connect_async(&format!("{base}/updateReports?agent={agent}"))
        .await?;
    ws.close(CloseCode::NORMAL, "", close_wait).await?;
    Ok(())
}

/// Echoes every message until the connection ends.
async fn echo(mut ws: AsyncWebSocket) {
    loop {
        let result = match ws.recv().await {
            Ok(Message::Text(text)) => ws.send_text(&text).await,
            Ok(Message::Binary(data)) => ws.send_binary(&data).await,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => Ok(()),
        };
        if result.is_err() {
            break;
        }
    }
    let _ = ws
        .close(CloseCode::NORMAL, "", Some(Duration::from_secs(2)))
        .await;
}
