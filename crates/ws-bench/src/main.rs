//! The programs behind `cargo xtask bench`: a loopback echo server and one timed client
//! run per process, ours or tungstenite's, so each run's peak memory is its own.
//!
//! ```text
//! ws-bench server                      # prints `port=N`, then echoes forever
//! ws-bench client CLIENTS PORT rt|pipe binary|text SIZE WARMUP_S TIME_S SLICES
//!     # CLIENTS: comma-separated ours, ours-ref (borrowed receive), tungstenite, raw, or
//!     # all async: ours-async, tokio-tungstenite, fastwebsockets, tokio-websockets; each on
//!     # its own connection,
//!     # TIME_S each, interleaved in SLICES turns. Prints one line per client:
//!     # `client=.. messages=.. seconds=.. cpu_seconds=.. batch=.. peak_rss_kib=.. rss_anon_kib=..`
//! ws-bench scale-server                # one thread, any number of connections, echoing
//! ws-bench idle CLIENT PORT N          # ours, tungstenite, ours-async or tokio-tungstenite:
//!     # opens N connections, keeps them, prints
//!     # `client=.. connections=N rss_anon_before_kib=.. rss_anon_after_kib=.. seconds=..`
//! ws-bench setup-tls WARMUP_S TIME_S SLICES
//!     # ours over ws:// and wss:// against an in-process rustls server, interleaved;
//!     # prints `client=plain|tls connections=.. seconds=..`
//! ws-bench load ASYNC_CLIENT PORT N M SIZE
//!     # N connections at once, each M round trips of SIZE bytes (uWebSockets' load_test);
//!     # prints `client=.. messages=.. seconds=.. cpu_seconds=.. open_seconds=..`
//! ws-bench setup CLIENTS PORT WARMUP_S TIME_S SLICES
//!     # connect + handshake + drop in a loop, interleaved; prints
//!     # `client=.. connections=.. seconds=..`
//! ```
//!
//! `cargo xtask bench` builds this in release mode, starts the servers, runs the clients
//! interleaved over several rounds and writes the report; run it rather than this.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a command-line program"
)]

mod async_client;
mod client;
mod scale;
mod server;
mod tls;

use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

use crate::async_client::AsyncImpl;
use crate::client::{Cell, Impl, Kind, Mode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["server"] => server(),
        ["client", rest @ ..] => client(rest),
        ["scale-server"] => scale_server(),
        ["idle", client, port, n] => idle(client, port, n),
        ["setup", rest @ ..] => setup(rest),
        ["setup-tls", warmup, time, slices] => setup_tls(warmup, time, slices),
        ["load", client, port, n, m, size] => load(client, port, n, m, size),
        _ => Err(
            "usage: ws-bench server | ws-bench client CLIENTS PORT rt|pipe binary|text SIZE \
             WARMUP_S TIME_S SLICES | ws-bench scale-server | ws-bench idle CLIENT PORT N | \
             ws-bench load ASYNC_CLIENT PORT N M SIZE | ws-bench setup-tls WARMUP_S TIME_S \
             SLICES | ws-bench setup ours,tungstenite PORT WARMUP_S TIME_S SLICES"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ws-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn server() -> Result<(), String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?
        .port();
    println!("port={port}");
    server::serve(&listener).map_err(|e| format!("accept: {e}"))
}

fn client(args: &[&str]) -> Result<(), String> {
    let [clients, port, mode, kind, size, warmup, time, slices] = args else {
        return Err(format!("client takes 8 arguments, got {}", args.len()));
    };
    let names: Vec<&str> = clients.split(',').collect();
    let asynch: Option<Vec<AsyncImpl>> = names.iter().map(|n| AsyncImpl::parse(n)).collect();
    let impls = if asynch.is_some() {
        Vec::new()
    } else {
        impls(&names)?
    };
    let mode = match *mode {
        "rt" => Mode::RoundTrip,
        "pipe" => Mode::Pipelined,
        other => return Err(format!("unknown mode `{other}`")),
    };
    let kind = match *kind {
        "binary" => Kind::Binary,
        "text" => Kind::Text,
        other => return Err(format!("unknown kind `{other}`")),
    };
    let cell = Cell {
        clients: impls,
        slices: slices
            .parse()
            .map_err(|e| format!("slices `{slices}`: {e}"))?,
        mode,
        kind,
        size: size.parse().map_err(|e| format!("size `{size}`: {e}"))?,
        warmup: seconds(warmup)?,
        time: seconds(time)?,
    };
    let path = if mode == Mode::Pipelined {
        "pipe"
    } else {
        "rt"
    };
    let url = format!("ws://127.0.0.1:{port}/{path}");
    let addr = format!("127.0.0.1:{port}");
    let outcomes = match &asynch {
        Some(clients) => async_client::run(&url, &addr, clients, &cell),
        None => client::run(&url, &addr, &cell),
    }
    .map_err(|e| format!("{url}: {e}"))?;
    let batch = if mode == Mode::Pipelined {
        client::batch_len(cell.size)
    } else {
        1
    };
    // Memory is per process: meaningful per client only when one client ran.
    let peak = client::status_kib("VmHWM").unwrap_or(0);
    let anon = client::status_kib("RssAnon").unwrap_or(0);
    for (name, outcome) in names.iter().zip(outcomes) {
        println!(
            "client={name} messages={} seconds={:.6} cpu_seconds={:.6} batch={batch} \
             peak_rss_kib={peak} rss_anon_kib={anon}",
            outcome.messages,
            outcome.elapsed.as_secs_f64(),
            outcome.cpu.map_or(0.0, |c| c.as_secs_f64()),
        );
    }
    Ok(())
}

fn impls(names: &[&str]) -> Result<Vec<Impl>, String> {
    names
        .iter()
        .map(|name| match *name {
            "ours" => Ok(Impl::Ours),
            "ours-ref" => Ok(Impl::OursRef),
            "tungstenite" => Ok(Impl::Tungstenite),
            "raw" => Ok(Impl::Raw),
            other => Err(format!("unknown client `{other}`")),
        })
        .collect()
}

/// The scale cells' server: prints its port, then holds connections forever.
fn scale_server() -> Result<(), String> {
    scale::raise_fd_limit(1 << 20).map_err(|e| format!("raise the open-file limit: {e}"))?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?
        .port();
    println!("port={port}");
    scale::serve(listener).map_err(|e| format!("poll: {e}"))
}

fn idle(client: &str, port: &str, n: &str) -> Result<(), String> {
    let asynch = AsyncImpl::parse(client);
    let which = if asynch.is_some() {
        Impl::Ours
    } else {
        let [which] = impls(&[client])?[..] else {
            return Err("idle takes one client".to_owned());
        };
        which
    };
    if which == Impl::Raw {
        return Err("idle measures ours or tungstenite".to_owned());
    }
    let n: usize = n.parse().map_err(|e| format!("connections `{n}`: {e}"))?;
    let limit = scale::raise_fd_limit(n as u64 + 64)
        .map_err(|e| format!("raise the open-file limit: {e}"))?;
    if limit < n as u64 + 16 {
        return Err(format!(
            "the open-file limit is {limit}, too low for {n} connections"
        ));
    }
    let url = format!("ws://127.0.0.1:{port}/idle");
    let addr = format!("127.0.0.1:{port}");
    let idle = match asynch {
        Some(which) => async_client::idle(which, &url, &addr, n),
        None => scale::idle(which, &url, &addr, n),
    }
    .map_err(|e| format!("{url}: {e}"))?;
    println!(
        "client={client} connections={} rss_anon_before_kib={} rss_anon_after_kib={} \
         seconds={:.6}",
        idle.connections,
        idle.before_kib,
        idle.after_kib,
        idle.elapsed.as_secs_f64()
    );
    Ok(())
}

fn load(client: &str, port: &str, n: &str, m: &str, size: &str) -> Result<(), String> {
    let which = AsyncImpl::parse(client).ok_or_else(|| format!("`{client}` is no async client"))?;
    let n: usize = n.parse().map_err(|e| format!("connections `{n}`: {e}"))?;
    let m: u64 = m.parse().map_err(|e| format!("messages `{m}`: {e}"))?;
    let size: usize = size.parse().map_err(|e| format!("size `{size}`: {e}"))?;
    let limit = scale::raise_fd_limit(n as u64 + 64)
        .map_err(|e| format!("raise the open-file limit: {e}"))?;
    if limit < n as u64 + 16 {
        return Err(format!(
            "the open-file limit is {limit}, too low for {n} connections"
        ));
    }
    let url = format!("ws://127.0.0.1:{port}/load");
    let addr = format!("127.0.0.1:{port}");
    let load =
        async_client::load(which, &url, &addr, n, m, size).map_err(|e| format!("{url}: {e}"))?;
    println!(
        "client={client} messages={} seconds={:.6} cpu_seconds={:.6} open_seconds={:.6} \
         rss_anon_kib={}",
        load.messages,
        load.elapsed.as_secs_f64(),
        load.cpu.map_or(0.0, |c| c.as_secs_f64()),
        load.open.as_secs_f64(),
        client::status_kib("RssAnon").unwrap_or(0),
    );
    Ok(())
}

fn setup_tls(warmup: &str, time: &str, slices: &str) -> Result<(), String> {
    let slices = slices
        .parse()
        .map_err(|e| format!("slices `{slices}`: {e}"))?;
    let totals = tls::setup(seconds(warmup)?, seconds(time)?, slices)
        .map_err(|e| format!("tls setup: {e}"))?;
    for (name, (count, elapsed)) in ["plain", "tls"].iter().zip(totals) {
        println!(
            "client={name} connections={count} seconds={:.6}",
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}

fn setup(args: &[&str]) -> Result<(), String> {
    let [clients, port, warmup, time, slices] = args else {
        return Err(format!("setup takes 5 arguments, got {}", args.len()));
    };
    let names: Vec<&str> = clients.split(',').collect();
    let impls = impls(&names)?;
    let url = format!("ws://127.0.0.1:{port}/setup");
    let addr = format!("127.0.0.1:{port}");
    let slices = slices
        .parse()
        .map_err(|e| format!("slices `{slices}`: {e}"))?;
    let totals = scale::setup(
        &impls,
        &url,
        &addr,
        seconds(warmup)?,
        seconds(time)?,
        slices,
    )
    .map_err(|e| format!("{url}: {e}"))?;
    for (name, (count, elapsed)) in names.iter().zip(totals) {
        println!(
            "client={name} connections={count} seconds={:.6}",
            elapsed.as_secs_f64()
        );
    }
    Ok(())
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| format!("`{text}` is not a number of seconds"))
}
