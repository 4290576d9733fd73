//! `wsdump`: an interactive WebSocket client for the terminal (Python's `wsdump`, with
//! proxies that authenticate and errors on one line), a built-in echo server
//! (`--echo-server`) and an offline tour of the library (`wsdump demo`).
//!
//! Every failure prints one line starting with `error:` to stderr and exits with status 1;
//! usage errors exit with status 2.
#![forbid(unsafe_code)]

mod cli;
mod client;
mod demo;
mod display;
mod echo;

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Args, Command};
use crate::echo::EchoServer;

fn main() -> ExitCode {
    let args = Args::from_env();
    let result = match (&args.command, &args.echo_server, &args.url) {
        (Some(Command::Demo), _, _) => demo::run(),
        (None, Some(addr), None) => echo_server(addr, args.tls),
        (None, Some(_), Some(_)) => usage("--echo-server takes no URL"),
        (None, None, Some(url)) => client::run(&args, url),
        (None, None, None) => {
            usage("a URL is required (or `wsdump demo`, or `wsdump --echo-server`)")
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            #[allow(clippy::print_stderr, reason = "the tool's error report")]
            {
                eprintln!("error: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Exits with clap's usage error (status 2).
fn usage(message: &str) -> Result<(), String> {
    Args::command()
        .error(clap::error::ErrorKind::MissingRequiredArgument, message)
        .exit()
}

/// `--echo-server [ADDR] [--tls]`: prints the URL (and the certificate file), then serves.
fn echo_server(addr: &str, tls: bool) -> Result<(), String> {
    let server = EchoServer::bind(addr, tls, true)?;
    let url = server.url()?;
    let cert = server.write_cert()?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "echo server listening on {url}");
    if let Some(path) = cert {
        let _ = writeln!(
            out,
            "certificate: {} (pass it with --ca-file, or use -n)",
            path.display()
        );
    }
    let _ = out.flush();
    drop(out);
    Err(server.serve())
}
