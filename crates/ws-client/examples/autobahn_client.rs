//! The Autobahn|Testsuite testee: `autobahn_client ws://127.0.0.1:9001 AGENT`.
//!
//! Asks the fuzzing server for the case count, runs every case as an echo client (text and
//! binary messages go back as received), then asks the server to write its reports.
//! permessage-deflate is offered with `client_max_window_bits` and
//! `client_no_context_takeover`, the parameters every case of sections 12 and 13 needs
//! to be accepted (the server may then shrink our window to 2^8 or ask for no context
//! takeover).
//! `cargo xtask autobahn` runs it against `wstest -m fuzzingserver`.
#![allow(
    clippy::print_stderr,
    reason = "a command-line program reporting progress"
)]

use std::process::ExitCode;
use std::time::Duration;

use ws_client::{
    ClientBuilder, CloseCode, DeflateOffer, DeflateOptions, Error, Message, NetOptions,
};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(base), agent) = (args.next(), args.next()) else {
        eprintln!("usage: autobahn_client ws://127.0.0.1:9001 [AGENT]");
        return ExitCode::from(2);
    };
    let agent = agent.unwrap_or_else(|| "ws-rs".to_owned());
    match run(base.trim_end_matches('/'), &agent) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("autobahn_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn builder() -> ClientBuilder {
    // No case needs more than a few seconds; a stuck case must not stall the run.
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

fn run(base: &str, agent: &str) -> Result<(), Error> {
    let mut ws = builder().connect(&format!("{base}/getCaseCount"))?;
    let count: u32 = match ws.recv()? {
        Message::Text(text) => text.trim().parse().unwrap_or(0),
        other => {
            eprintln!("unexpected case count message {other:?}");
            0
        }
    };
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_secs(5)))?;
    eprintln!("running {count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match builder().connect(&url) {
            Ok(ws) => echo(ws),
            Err(e) => eprintln!("case {case}: connect failed: {e}"),
        }
        if case % 50 == 0 {
            eprintln!("{case}/{count}");
        }
    }
    let mut ws = builder().connect(&format!("{base}/updateReports?agent={agent}"))?;
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_secs(5)))?;
    Ok(())
}

/// Echoes every message until the connection ends.
fn echo(mut ws: ws_client::WebSocket) {
    loop {
        let result = match ws.recv() {
            Ok(Message::Text(text)) => ws.send_text(&text),
            Ok(Message::Binary(data)) => ws.send_binary(&data),
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => Ok(()),
        };
        if result.is_err() {
            break;
        }
    }
    let _ = ws.close(CloseCode::NORMAL, "", Some(Duration::from_secs(2)));
}
