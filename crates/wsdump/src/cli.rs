//! The command line: Python's wsdump flags plus `--ca-file`, `--timeout`,
//! `--ping-interval`, `--binary`, `--echo-server` and the `demo` command.
//!
//! Every command line Python's `wsdump` accepts means the same here: `-s a b` takes
//! several values, `-v` takes an optional level (`-v`, `-v 2`, `-vv`), `--eof-wait`
//! takes whole seconds, the URL comes before or after the flags. Where Python's
//! `argparse` would swallow the URL into `-s a b ws://h/` or `-v ws://h/` (and stop with
//! "the following arguments are required"), a value that is a `ws://`, `wss://`,
//! `http://` or `https://` URL is taken as the URL instead: [`Args::resolve`].

use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};

/// Talk to a WebSocket server from the terminal: each line you type is sent as a text
/// message, and every message received is printed.
///
/// Also: `wsdump demo` (a tour against a built-in echo server, offline) and
/// `wsdump --echo-server [ADDR]` (that echo server, for your own tests).
#[derive(Debug, Parser)]
#[command(
    name = "wsdump",
    version,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
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

    /// Show opcode names (-v, -v 1) and also the full protocol trace on stderr (-vv,
    /// -v 2); repeated flags add up.
    #[arg(
        short = 'v',
        long = "verbose",
        value_name = "LEVEL",
        num_args = 0..=1,
        default_missing_value = "1",
        action = clap::ArgAction::Append,
        value_parser = verbosity
    )]
    verbose_flags: Vec<Verbosity>,

    /// The sum of the `-v` levels, set by [`Args::resolve`].
    #[arg(skip)]
    pub(crate) verbose: u32,

    /// Do not verify the server's TLS certificate (DANGEROUS: for test servers only).
    #[arg(short = 'n', long)]
    pub(crate) nocert: bool,

    /// Plain output for scripts: one line per message, no prompt, no colours.
    #[arg(short = 'r', long)]
    pub(crate) raw: bool,

    /// Subprotocols to offer, in order of preference: several after one flag
    /// (-s chat superchat), repeated flags or commas.
    #[arg(
        short = 's',
        long,
        value_name = "PROTOCOL",
        num_args = 0..,
        value_delimiter = ',',
        action = clap::ArgAction::Append
    )]
    pub(crate) subprotocols: Vec<String>,

    /// The Origin header to send (default: derived from the URL).
    #[arg(short = 'o', long, value_name = "ORIGIN")]
    pub(crate) origin: Option<String>,

    /// After end of input, keep printing received messages for this many seconds (whole
    /// or fractions) before closing.
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

    /// Trust the CA certificates in this PEM file (in addition to the usual roots), or a
    /// server's own self-signed certificate (as `openssl req -x509` makes it).
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

/// One `-v` flag's value: a level, or (when `argparse` would have swallowed it) the URL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verbosity {
    /// `-v` (1), `-v N` (N), `-vv` (2), `-vvv` (3).
    Level(u32),
    /// `-v ws://h/`: the URL after a bare `-v`.
    Url(String),
}

/// Parses a `-v` value the way Python's wsdump does: a number is the level, `v`s count
/// one each plus the flag's own (`-vv` is `-v` with the value `v`), and a URL is the URL.
fn verbosity(text: &str) -> Result<Verbosity, String> {
    if let Ok(level) = text.parse() {
        Ok(Verbosity::Level(level))
    } else if !text.is_empty() && text.bytes().all(|b| b == b'v') {
        u32::try_from(text.len() + 1)
            .map(Verbosity::Level)
            .map_err(|_| "too many v's".to_owned())
    } else if looks_like_url(text) {
        Ok(Verbosity::Url(text.to_owned()))
    } else {
        Err(format!(
            "{text:?} is not a level: use a number (-v 2) or v's (-vv), and give other flags separately (-v -r)"
        ))
    }
}

/// Whether `text` is a URL of a scheme `connect` takes (never a subprotocol or a level:
/// `:` and `/` cannot appear in either).
fn looks_like_url(text: &str) -> bool {
    ["ws://", "wss://", "http://", "https://"]
        .iter()
        .any(|scheme| {
            text.get(..scheme.len())
                .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
        })
}

impl Args {
    /// Parses the process's command line and [`resolve`](Self::resolve)s it; exits with
    /// a usage error (status 2) as clap does.
    pub(crate) fn from_env() -> Self {
        let mut args = Self::parse();
        if let Err(message) = args.resolve() {
            Self::command()
                .error(clap::error::ErrorKind::ArgumentConflict, message)
                .exit();
        }
        args
    }

    /// Finds the URL and sums the `-v` levels after clap's parse.
    ///
    /// `-s` takes every value up to the next flag and `-v` an optional one, so in
    /// `-s chat ws://h/` and `-v ws://h/` clap (like `argparse`) hands the URL to the
    /// flag. A value that looks like a URL is moved back to the positional.
    ///
    /// # Errors
    ///
    /// A message when two URLs are given.
    pub(crate) fn resolve(&mut self) -> Result<(), String> {
        let mut urls: Vec<String> = self.url.take().into_iter().collect();
        let (moved, subprotocols): (Vec<String>, Vec<String>) =
            std::mem::take(&mut self.subprotocols)
                .into_iter()
                .partition(|value| looks_like_url(value));
        self.subprotocols = subprotocols;
        urls.extend(moved);
        self.verbose = 0;
        for flag in &self.verbose_flags {
            match flag {
                Verbosity::Level(level) => self.verbose = self.verbose.saturating_add(*level),
                Verbosity::Url(url) => {
                    urls.push(url.clone());
                    self.verbose = self.verbose.saturating_add(1);
                }
            }
        }
        if urls.len() > 1 {
            return Err(format!("more than one URL: {}", urls.join(", ")));
        }
        self.url = urls.pop();
        Ok(())
    }
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

    /// Parses and resolves like `wsdump ARGS`.
    fn parse(args: &[&str]) -> Result<Args, String> {
        let mut parsed =
            Args::try_parse_from(std::iter::once("wsdump").chain(args.iter().copied()))
                .map_err(|e| e.to_string())?;
        parsed.resolve()?;
        Ok(parsed)
    }

    /// Python's `argparse` results for each line (see the table in tests/cli.rs), and
    /// the lines it refuses because the URL was swallowed, which we accept.
    #[test]
    fn python_command_lines_parse_as_python_does() {
        for (line, url, subprotocols, verbose, eof_wait) in [
            (
                "ws://h/ -s chat superchat",
                "ws://h/",
                &["chat", "superchat"][..],
                0,
                0,
            ),
            (
                "-s chat superchat -r ws://h/",
                "ws://h/",
                &["chat", "superchat"],
                0,
                0,
            ),
            (
                "-s chat superchat ws://h/",
                "ws://h/",
                &["chat", "superchat"],
                0,
                0,
            ),
            ("-s ws://h/", "ws://h/", &[], 0, 0),
            ("ws://h/ -s", "ws://h/", &[], 0, 0),
            ("-schat ws://h/", "ws://h/", &["chat"], 0, 0),
            ("-s=chat ws://h/", "ws://h/", &["chat"], 0, 0),
            ("--subprotocols=chat ws://h/", "ws://h/", &["chat"], 0, 0),
            ("-v ws://h/", "ws://h/", &[], 1, 0),
            ("ws://h/ -v", "ws://h/", &[], 1, 0),
            ("-v 2 ws://h/", "ws://h/", &[], 2, 0),
            ("ws://h/ -v 2", "ws://h/", &[], 2, 0),
            ("ws://h/ -v2", "ws://h/", &[], 2, 0),
            ("-v=2 ws://h/", "ws://h/", &[], 2, 0),
            ("--verbose=2 ws://h/", "ws://h/", &[], 2, 0),
            ("--verbose 2 ws://h/", "ws://h/", &[], 2, 0),
            ("-vv ws://h/", "ws://h/", &[], 2, 0),
            ("-vvv ws://h/", "ws://h/", &[], 3, 0),
            ("-v 0 ws://h/", "ws://h/", &[], 0, 0),
            ("-v -r ws://h/", "ws://h/", &[], 1, 0),
            ("--eof-wait 2 ws://h/", "ws://h/", &[], 0, 2000),
            ("--eof-wait=2 ws://h/", "ws://h/", &[], 0, 2000),
            ("--eof-wait 1.5 ws://h/", "ws://h/", &[], 0, 1500),
            (
                "-r ws://h/ -s chat superchat -r",
                "ws://h/",
                &["chat", "superchat"],
                0,
                0,
            ),
            ("-s a b -v wss://h/", "wss://h/", &["a", "b"], 1, 0),
        ] {
            let args = parse(&line.split(' ').collect::<Vec<_>>())
                .unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(args.url.as_deref(), Some(url), "{line}");
            assert_eq!(args.subprotocols, subprotocols, "{line}");
            assert_eq!(args.verbose, verbose, "{line}");
            assert_eq!(args.eof_wait, Duration::from_millis(eof_wait), "{line}");
        }
    }

    #[test]
    fn ambiguous_lines_are_usage_errors() {
        let err = parse(&["ws://a/", "-s", "x", "ws://b/"]).unwrap_err();
        assert_eq!(err, "more than one URL: ws://a/, ws://b/");
        let err = parse(&["-vr", "ws://h/"]).unwrap_err();
        assert!(err.contains("\"r\" is not a level"), "{err}");
        assert!(parse(&["-t"]).is_err());
    }

    #[test]
    fn demo_is_a_command_and_urls_are_positional() {
        let args = Args::try_parse_from(["wsdump", "demo"]).unwrap();
        assert!(matches!(args.command, Some(Command::Demo)));
        let args = parse(&["ws://h/", "-s", "a,b", "-s", "c"]).unwrap();
        assert_eq!(args.url.as_deref(), Some("ws://h/"));
        assert_eq!(args.subprotocols, ["a", "b", "c"]);
        let args = Args::try_parse_from(["wsdump", "--echo-server"]).unwrap();
        assert_eq!(args.echo_server.as_deref(), Some(crate::echo::DEFAULT_ADDR));
    }
}
