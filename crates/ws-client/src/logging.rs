//! Logging: what each level shows, the redacting wrappers every log line goes through,
//! and [`enable_trace`], a small stderr logger for programs that have none.
//!
//! Levels (targets `ws_client::*`):
//! - `info`: connection opened (URL without credentials, status, subprotocol) and closed.
//! - `debug`: the handshake request and response heads with secrets redacted, redirects,
//!   close codes sent and received, protocol errors.
//! - `trace`: one line per frame sent or received: opcode, fin, length and at most 64
//!   escaped payload bytes.
//!
//! Secrets never reach the log at any level: `Authorization`, `Proxy-Authorization`,
//! `Cookie`, `Set-Cookie` and every header not on a short allow-list print as
//! `<redacted>`, and URLs print without their user information.

use std::fmt;
use std::io::Write as _;

/// Headers allowed to appear in logs with their values; all others print `<redacted>`.
const ALLOWED: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "origin",
    "sec-websocket-version",
    "sec-websocket-key",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-type",
    "content-length",
    "location",
    "server",
    "date",
    "user-agent",
];

/// Formats a header list for logs, redacting every value not on the allow-list.
#[derive(Clone, Copy)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a transparent formatting wrapper, built by the caller"
)]
pub struct SafeHeaders<'a>(pub &'a [(String, String)]);

impl fmt::Debug for SafeHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        for (name, value) in self.0 {
            if is_allowed(name) {
                list.entry(&format_args!("{name}: {value}"));
            } else {
                list.entry(&format_args!("{name}: <redacted>"));
            }
        }
        list.finish()
    }
}

impl fmt::Display for SafeHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

pub(crate) fn is_allowed(name: &str) -> bool {
    ALLOWED.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Redacts an HTTP head (request or response, CRLF lines) for logs: the first line is
/// kept, header lines go through the allow-list.
pub(crate) fn redact_head(head: &str) -> String {
    let mut out = String::with_capacity(head.len());
    for (i, line) in head.split("\r\n").enumerate() {
        if line.is_empty() {
            continue;
        }
        if i > 0 {
            out.push_str(" | ");
        }
        match line.split_once(':') {
            Some((name, value)) if i > 0 => {
                out.push_str(name);
                out.push_str(": ");
                if is_allowed(name.trim()) {
                    out.push_str(value.trim());
                } else {
                    out.push_str("<redacted>");
                }
            }
            _ if i > 0 => out.push_str("<redacted>"),
            _ => out.push_str(line),
        }
    }
    out
}

/// At most 64 payload bytes, escaped, for frame trace lines.
pub(crate) struct Preview<'a>(pub(crate) &'a [u8]);

impl fmt::Display for Preview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MAX: usize = 64;
        let shown = &self.0[..self.0.len().min(MAX)];
        f.write_str("\"")?;
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")?;
        if self.0.len() > MAX {
            write!(f, "... ({} more bytes)", self.0.len() - MAX)?;
        }
        Ok(())
    }
}

/// A URL without its user information, for logs.
pub(crate) fn safe_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://<redacted>@{host}{tail}"),
        None => url.to_owned(),
    }
}

/// The stderr logger installed by [`enable_trace`].
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        // Our crates at every level; anything else (rustls, ...) from warnings up.
        metadata.target().starts_with("ws_") || metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "{:<5} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

static LOGGER: StderrLogger = StderrLogger;

/// Installs a simple logger printing every record of the `ws_*` crates (and warnings of
/// other crates) to stderr, like Python's `websocket.enableTrace(True)`.
///
/// For programs that have no logger of their own; with one (`env_logger`, ...), enable
/// the `ws_client=trace` target there instead. Returns `false` if a logger was already
/// installed, in which case nothing changes.
///
/// ```
/// ws_client::enable_trace();
/// ```
pub fn enable_trace() -> bool {
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Trace);
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_headers_redact_credentials_and_unknown_headers() {
        let headers = vec![
            ("Host".to_owned(), "example.com".to_owned()),
            ("Authorization".to_owned(), "Basic c2VjcmV0".to_owned()),
            ("cookie".to_owned(), "session=hunter2".to_owned()),
            ("X-Api-Key".to_owned(), "k3y".to_owned()),
        ];
        let shown = format!("{:?}", SafeHeaders(&headers));
        assert!(shown.contains("Host: example.com"), "{shown}");
        for secret in ["c2VjcmV0", "hunter2", "k3y"] {
            assert!(!shown.contains(secret), "{secret} leaked: {shown}");
        }
    }

    #[test]
    fn redact_head_keeps_the_request_line() {
        let head = "GET /chat HTTP/1.1\r\nHost: a\r\nCookie: s=1\r\nProxy-Authorization: x\r\n\r\n";
        assert_eq!(
            redact_head(head),
            "GET /chat HTTP/1.1 | Host: a | Cookie: <redacted> | Proxy-Authorization: <redacted>"
        );
    }

    #[test]
    fn preview_truncates_and_escapes() {
        assert_eq!(Preview(b"a\n\xff").to_string(), "\"a\\n\\xff\"");
        let long = [b'x'; 70];
        assert!(Preview(&long).to_string().ends_with("... (6 more bytes)"));
    }

    #[test]
    fn safe_url_hides_userinfo() {
        assert_eq!(
            safe_url("ws://user:pw@host:1/p?q"),
            "ws://<redacted>@host:1/p?q"
        );
        assert_eq!(safe_url("wss://host/p"), "wss://host/p");
    }
}
