//! The command line: Python's wsdump flags plus `--ca-file`, `--timeout`,
//! `--ping-interval`, `--binary`, `--echo-server` and the `demo` command.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// Talk to a WebSocket server from the terminal: each line you type is sent as a text
/// message, and every message received is printed.
///
/// Also: `wsdump demo` (a tour against a built-in echo server, offline) and
/// `wsdump --echo-server [ADDR]` (that echo server, for your own tests).
#[derive(Debug, Parser)]
#[command(name = "wsdump", version, args_conflicts_with_subcommands = true)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "each bool is one command-line switch"
)]
pub(crate) struct Args {
    /// A command instead of a URL.
    #[command(subcommand)]
    pub(crate) command: Option<Command>,

    /// The WebSocket URL to connect to (ws:// or wss://).
    #[arg(value_name = "URL")]
    pub(crate) url: Option<String>,

    /// Connect through this proxy: http://, socks4://, socks4a://, socks5:// or
    /// socks5h://, optionally with user:password@.
    #[arg(short = 'p', long, value_name = "URL")]
    pub(crate) proxy: Option<String>,

    /// Show opcode names (-v) and also the full protocol trace on stderr (-vv).
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,

    /// Do not verify the server's TLS certificate (DANGEROUS: for test servers only).
    #[arg(short = 'n', long)]
    pub(crate) nocert: bool,

    /// Plain output for scripts: one line per message, no prompt, no colours.
    #[arg(short = 'r', long)]
    pub(crate) raw: bool,

    /// Subprotocols to offer, in order of preference (repeat the flag or separate with
    /// commas).
    #[arg(
        short = 's',
        long,
        value_name = "PROTOCOL",
        value_delimiter = ',',
        action = clap::ArgAction::Append
    )]
    pub(crate) subprotocols: Vec<String>,

    /// The Origin header to send (default: derived from the URL).
    #[arg(short = 'o', long, value_name = "ORIGIN")]
    pub(crate) origin: Option<String>,

    /// After end of input, keep printing received messages for this long before closing.
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = seconds)]
    pub(crate) eof_wait: Duration,

    /// Send this text message right after connecting.
    #[arg(short = 't', long, value_name = "TEXT")]
    pub(crate) text: Option<String>,

    /// Prefix every printed message with the seconds since the start.
    #[arg(long)]
    pub(crate) timings: bool,

    /// Extra handshake headers, comma separated: "Authorization: Bearer x,X-Id: 7".
    #[arg(long, value_name = "\"NAME: VALUE,...\"")]
    pub(crate) headers: Option<String>,

    /// Trust the CA certificates in this PEM file (in addition to the usual roots).
    #[arg(long, value_name = "PATH")]
    pub(crate) ca_file: Option<PathBuf>,

    /// Time limit for connecting (TCP, proxy, TLS and the upgrade handshake together) and
    /// for each write.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
    pub(crate) timeout: Duration,

    /// Send a ping this often while connected (0: never).
    #[arg(long, value_name = "SECS", default_value = "0", value_parser = seconds)]
    pub(crate) ping_interval: Duration,

    /// Send input lines as binary messages instead of text.
    #[arg(short = 'b', long)]
    pub(crate) binary: bool,

    /// Offer permessage-deflate compression (RFC 7692); used when the server accepts it.
    #[arg(long)]
    pub(crate) deflate: bool,

    /// Run the built-in echo server on ADDR instead of connecting (default
    /// 127.0.0.1:8765); it prints its URL and serves until interrupted.
    #[arg(
        long,
        value_name = "ADDR",
        num_args = 0..=1,
        default_missing_value = crate::echo::DEFAULT_ADDR
    )]
    pub(crate) echo_server: Option<String>,

    /// With --echo-server: serve wss:// with a generated self-signed certificate (its PEM
    /// file is printed, for --ca-file).
    #[arg(long, requires = "echo_server")]
    pub(crate) tls: bool,
}

/// Commands run instead of connecting to a URL.
#[derive(Debug, Clone, Copy, Subcommand)]
pub(crate) enum Command {
    /// Start the built-in echo server in this process, connect to it, exchange text,
    /// binary, a fragmented message, a ping and a 16 MiB message, then close: works
    /// offline.
    Demo,
}

/// Parses a number of seconds (fractions allowed) into a duration.
fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text:?} is not a non-negative number of seconds"))
}

/// Splits `--headers "A: 1,B: 2"` into name and value pairs.
///
/// # Errors
///
/// A message naming the item without a colon or with an empty name.
pub(crate) fn parse_headers(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| match item.split_once(':') {
            Some((name, value)) if !name.trim().is_empty() => {
                Ok((name.trim().to_owned(), value.trim().to_owned()))
            }
            _ => Err(format!("--headers item {item:?} is not \"Name: value\"")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn headers_split_on_commas_and_colons() {
        assert_eq!(
            parse_headers("A: 1, B:2,").unwrap(),
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        assert!(parse_headers("no colon").is_err());
        assert!(parse_headers(": empty name").is_err());
    }

    #[test]
    fn seconds_accept_fractions_and_refuse_negatives() {
        assert_eq!(seconds("1.5").unwrap(), Duration::from_millis(1500));
        assert!(seconds("-1").is_err());
        assert!(seconds("soon").is_err());
    }

    #[test]
    fn demo_is_a_command_and_urls_are_positional() {
        let args = Args::try_parse_from(["wsdump", "demo"]).unwrap();
        assert!(matches!(args.command, Some(Command::Demo)));
        let args = Args::try_parse_from(["wsdump", "ws://h/", "-s", "a,b", "-s", "c"]).unwrap();
        assert_eq!(args.url.as_deref(), Some("ws://h/"));
        assert_eq!(args.subprotocols, ["a", "b", "c"]);
        let args = Args::try_parse_from(["wsdump", "--echo-server"]).unwrap();
        assert_eq!(args.echo_server.as_deref(), Some(crate::echo::DEFAULT_ADDR));
    }
}
