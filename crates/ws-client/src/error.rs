//! The one error type of the client, mirroring the exception classes of Python's
//! `websocket-client`, and the operation names timeouts and I/O errors carry.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use ws_frame::CloseCode;

/// What the client was doing when an I/O error or a timeout happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Opening the TCP connection (including proxy tunnelling and TLS).
    Connect,
    /// Writing the HTTP upgrade request or reading its response.
    Handshake,
    /// Reading frames.
    Read,
    /// Writing frames.
    Write,
    /// Flushing buffered frames.
    Flush,
    /// The closing handshake: waiting for the peer's close frame.
    Close,
    /// Shutting the TCP connection down.
    Shutdown,
    /// Changing a socket option such as a timeout.
    Configure,
    /// Waiting for the pong answering a keepalive ping of [`App`](crate::App) or of an
    /// async socket (`AsyncReader::set_keepalive`, feature `tokio`).
    Keepalive,
}

impl Op {
    /// The lower-case name used in error messages ("read", "write", ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Handshake => "handshake",
            Self::Read => "read",
            Self::Write => "write",
            Self::Flush => "flush",
            Self::Close => "close",
            Self::Shutdown => "shutdown",
            Self::Configure => "configure",
            Self::Keepalive => "ping/pong",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong, one variant per class of Python's `websocket-client`
/// exceptions (see the crate docs for the table).
///
/// Every variant names what failed; `source()` leads to the lower layer's error where
/// there is one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The peer broke a framing rule (`WebSocketProtocolException`). The client has sent
    /// the matching close code (1002, or 1009 for a size limit) before returning this.
    #[error(transparent)]
    Protocol(ws_frame::ProtocolError),

    /// The peer sent an invalid payload, such as text that is not UTF-8
    /// (`WebSocketPayloadException`). The client has sent close code 1007 before returning
    /// this.
    #[error(transparent)]
    Payload(ws_frame::PayloadError),

    /// The connection is closed (`WebSocketConnectionClosedException`): the peer closed it,
    /// it was lost, or an operation was tried after the close. `code` and `reason` are the
    /// peer's close frame when one was received; `code` is 1006 (abnormal) when the
    /// connection was lost without a close frame, however it was lost: an end of stream,
    /// a reset, a broken pipe or an aborted connection all come back as this variant, with
    /// the I/O error as `source`, so matching it never misses a dead connection.
    #[error("connection closed{}", describe_close(*code, reason))]
    ConnectionClosed {
        /// The peer's close code, 1006 if the connection was lost without one, `None` if
        /// the peer's close frame carried no code or the connection was closed locally.
        code: Option<CloseCode>,
        /// The peer's close reason (empty when none).
        reason: String,
        /// How the connection was lost, when an I/O error said so.
        #[source]
        source: Option<io::Error>,
    },

    /// An operation took longer than its timeout (`WebSocketTimeoutException`).
    #[error("{op} timed out{}", after(*limit))]
    Timeout {
        /// The operation (the phase of a connect) that timed out.
        op: Op,
        /// The limit that ran out: the operation's timeout, or the overall deadline of a
        /// connect; `None` when the socket did not say.
        limit: Option<Duration>,
        /// For connect timeouts, which step ran out of time (TCP connect, proxy, TLS)
        /// and whether the deadline or a per-operation timeout ended it.
        #[source]
        detail: Option<Box<ws_net::Error>>,
    },

    /// The proxy refused or failed the tunnel (`WebSocketProxyException`).
    #[error(transparent)]
    Proxy(ws_net::ProxyError),

    /// The URL is not a valid `ws://` or `wss://` URL (`WebSocketAddressException`).
    #[error(transparent)]
    Url(ws_net::UrlError),

    /// The server answered the upgrade with a status other than 101 or a followed
    /// redirect (`WebSocketBadStatusException`).
    #[error("handshake status {status} {reason}")]
    BadStatus {
        /// The HTTP status code.
        status: u16,
        /// The reason phrase.
        reason: String,
        /// The response headers, in order.
        headers: Vec<(String, String)>,
        /// The response body (possibly truncated by the handshake limits).
        body: Vec<u8>,
    },

    /// The server's upgrade response broke the handshake rules: wrong accept key, a
    /// missing upgrade header, an unrequested subprotocol, oversized headers, ...
    #[error(transparent)]
    Handshake(ws_handshake::Error),

    /// More redirects than the configured limit.
    #[error("redirect limit of {limit} exceeded (last location {location})")]
    RedirectLimit {
        /// The configured limit.
        limit: u32,
        /// The location the server redirected to last.
        location: String,
    },

    /// A redirect led from `wss://` to plain `ws://`, refused by
    /// [`RedirectDowngrade::Refuse`](crate::RedirectDowngrade::Refuse) (the default)
    /// before anything was sent to the plain target.
    #[error("refusing redirect from wss:// to insecure {location}")]
    InsecureRedirect {
        /// The `ws://` URL redirected to, without credentials.
        location: String,
    },

    /// TLS failed: certificate verification, hostname mismatch, TLS alert.
    #[error(transparent)]
    Tls(ws_net::TlsError),

    /// Connecting failed below the WebSocket layer: the host name did not resolve
    /// ([`ws_net::Error::Resolve`], [`ws_net::Error::NoAddresses`]: Python's
    /// `WebSocketAddressException`), every address refused the connection, or a network
    /// option could not be applied.
    #[error(transparent)]
    Net(ws_net::Error),

    /// An I/O operation failed.
    #[error("{op}{} failed: {source}", with(*peer))]
    Io {
        /// The operation that failed.
        op: Op,
        /// The peer's address, when the socket knew it.
        peer: Option<SocketAddr>,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// The operating system's random source failed while drawing a mask key or the
    /// handshake nonce; nothing was sent.
    #[error("{op} failed: the system random source failed: {source}")]
    Random {
        /// What needed the random bytes: [`Op::Handshake`] for the nonce, [`Op::Write`]
        /// for a mask key.
        op: Op,
        /// The random source's error.
        #[source]
        source: io::Error,
    },

    /// A state the client's own logic rules out was reached: a bug in `ws-client`
    /// (please report it), never the peer's doing.
    #[error("internal error in ws-client: {0} (please report this bug)")]
    Internal(&'static str),

    /// A frame the caller asked to send breaks RFC 6455 or the connection's state (a
    /// fragmented or oversized control frame, reserved bits without an extension, an
    /// invalid close code, a continuation without a started message, ...): the engine's
    /// [`SendError`](ws_frame::SendError) says which. Nothing was written.
    #[error("refusing to send an invalid frame: {0}")]
    InvalidFrame(ws_frame::SendError),

    /// An option is invalid, or a call came in an order the API does not allow; nothing
    /// was sent. [`OptionError`] says which.
    #[error("invalid option: {0}")]
    InvalidOption(OptionError),

    /// A callback of [`App`](crate::App) panicked; the panic was caught and ended the run.
    #[error("callback {callback} panicked: {message}")]
    Callback {
        /// The callback's name, such as `"on_message"`.
        callback: &'static str,
        /// The panic message (`"<non-string panic payload>"` when it was not a string).
        message: String,
    },
}

/// Why an option or a call was refused before anything was sent
/// ([`Error::InvalidOption`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OptionError {
    /// The upgrade request cannot be built from the request options: a header name that
    /// is not a token, a value with CR, LF or another control character, a header that
    /// duplicates a generated one; the handshake's error names it.
    #[error(transparent)]
    Request(ws_handshake::Error),
    /// An `http::Request` (feature `http`) that cannot open a WebSocket.
    #[error("http request: {reason}")]
    HttpRequest {
        /// What is wrong with it.
        reason: String,
    },
    /// A setting outside its range.
    #[error("{option}: {reason}")]
    OutOfRange {
        /// The setting, such as `"ping_timeout"`.
        option: &'static str,
        /// Why the value is refused.
        reason: String,
    },
    /// Calls made in an order the API does not allow.
    #[error("{0}")]
    Misuse(&'static str),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn after(limit: Option<Duration>) -> String {
    limit.map(|l| format!(" after {l:?}")).unwrap_or_default()
}

fn with(peer: Option<SocketAddr>) -> String {
    peer.map(|p| format!(" with {p}")).unwrap_or_default()
}

fn describe_close(code: Option<CloseCode>, reason: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), true) => format!(" (code {})", u16::from(code)),
        (Some(code), false) => format!(" (code {}: {reason})", u16::from(code)),
        (None, false) => format!(" ({reason})"),
        (None, true) => String::new(),
    }
}

impl Error {
    /// Wraps an I/O error with the operation that failed; timeouts become
    /// [`Error::Timeout`].
    pub(crate) fn io(op: Op, source: io::Error) -> Self {
        Self::io_on(op, source, None, None)
    }

    /// [`io`](Self::io) on a socket connected to `peer` whose timeout for `op` was
    /// `limit`.
    pub(crate) fn io_on(
        op: Op,
        source: io::Error,
        peer: Option<SocketAddr>,
        limit: Option<Duration>,
    ) -> Self {
        match source.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Self::Timeout {
                op,
                limit,
                detail: None,
            },
            // A TLS peer that vanished without close_notify, a reset, a broken pipe: the
            // connection is gone, however it went.
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected
                if matches!(op, Op::Read | Op::Write | Op::Flush | Op::Close) =>
            {
                Self::ConnectionClosed {
                    code: Some(CloseCode::ABNORMAL),
                    reason: String::new(),
                    source: Some(source),
                }
            }
            _ => Self::Io { op, peer, source },
        }
    }

    /// [`Error::Timeout`] for `op` after `limit`, without a lower-layer cause.
    pub(crate) fn timeout(op: Op, limit: Option<Duration>) -> Self {
        Self::Timeout {
            op,
            limit,
            detail: None,
        }
    }

    /// The connection ended without a close frame.
    pub(crate) fn abnormal_close() -> Self {
        Self::closed(Some(CloseCode::ABNORMAL), String::new())
    }

    /// [`Error::ConnectionClosed`] without an I/O cause.
    pub(crate) fn closed(code: Option<CloseCode>, reason: String) -> Self {
        Self::ConnectionClosed {
            code,
            reason,
            source: None,
        }
    }

    /// Whether this is a timeout, after which the connection may still be used (a read
    /// timeout leaves the connection intact).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }

    /// Whether this error ends the connection: anything but a read timeout or a frame the
    /// caller was refused to send.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Self::Timeout { op: Op::Read, .. } | Self::InvalidFrame(_)
        )
    }
}

impl From<ws_frame::Error> for Error {
    fn from(e: ws_frame::Error) -> Self {
        match e {
            ws_frame::Error::Protocol(p) => Self::Protocol(p),
            ws_frame::Error::Payload(p) => Self::Payload(p),
            // ws_frame::Error is non-exhaustive: a family this crate does not know yet.
            _ => Self::Internal("the engine reported an error family ws-client does not know"),
        }
    }
}

impl From<ws_frame::ProtocolError> for Error {
    fn from(e: ws_frame::ProtocolError) -> Self {
        Self::Protocol(e)
    }
}

impl From<ws_frame::PayloadError> for Error {
    fn from(e: ws_frame::PayloadError) -> Self {
        Self::Payload(e)
    }
}

impl From<ws_handshake::Error> for Error {
    fn from(e: ws_handshake::Error) -> Self {
        match e {
            ws_handshake::Error::BadStatus {
                status,
                reason,
                headers,
                body,
            } => Self::BadStatus {
                status,
                reason,
                headers,
                body,
            },
            e @ (ws_handshake::Error::InvalidHeader { .. }
            | ws_handshake::Error::DuplicateHeader { .. }) => {
                Self::InvalidOption(OptionError::Request(e))
            }
            other => Self::Handshake(other),
        }
    }
}

impl From<ws_net::Error> for Error {
    fn from(e: ws_net::Error) -> Self {
        match e {
            ws_net::Error::Url(u) => Self::Url(u),
            e @ ws_net::Error::Timeout { limit, .. } => Self::Timeout {
                op: Op::Connect,
                limit: limit.map(ws_net::Limit::allowed),
                detail: Some(Box::new(e)),
            },
            ws_net::Error::Proxy(p) => Self::Proxy(p),
            ws_net::Error::Tls(t) => Self::Tls(t),
            other => Self::Net(other),
        }
    }
}

/// For `Proxy::parse(..)?` in functions returning this crate's `Result`.
impl From<ws_net::ProxyError> for Error {
    fn from(e: ws_net::ProxyError) -> Self {
        Self::Proxy(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_proxy_url_converts_to_the_proxy_variant() {
        fn parse() -> Result<ws_net::Proxy> {
            Ok(ws_net::Proxy::parse("gopher://proxy:70")?)
        }
        let e = parse().unwrap_err();
        assert!(matches!(e, Error::Proxy(_)), "{e:?}");
        assert!(e.to_string().contains("gopher"), "{e}");
    }

    #[test]
    fn io_timeouts_become_timeout_with_the_operation() {
        for kind in [io::ErrorKind::WouldBlock, io::ErrorKind::TimedOut] {
            let e = Error::io(Op::Read, io::Error::from(kind));
            assert!(matches!(e, Error::Timeout { op: Op::Read, .. }), "{e:?}");
            assert_eq!(e.to_string(), "read timed out");
            let limit = Some(Duration::from_millis(250));
            let e = Error::io_on(Op::Read, io::Error::from(kind), None, limit);
            assert!(
                matches!(e, Error::Timeout { op: Op::Read, limit: l, .. } if l == limit),
                "{e:?}"
            );
            assert_eq!(e.to_string(), "read timed out after 250ms");
        }
    }

    #[test]
    fn a_missing_mask_key_is_a_random_source_failure_of_the_write() {
        let e =
            crate::sender::send_error(ws_frame::SendError::MaskKey(ws_frame::MaskKeyError::new()));
        assert!(matches!(e, Error::Random { op: Op::Write, .. }), "{e:?}");
    }

    #[test]
    fn messages_say_what_where_and_why_in_one_lower_case_line() {
        let peer: SocketAddr = "127.0.0.1:9001".parse().unwrap();
        let denied = || io::Error::new(io::ErrorKind::PermissionDenied, "permission denied");
        let cases = [
            (
                Error::io_on(Op::Handshake, denied(), Some(peer), None),
                "handshake with 127.0.0.1:9001 failed: permission denied",
            ),
            (
                Error::io(Op::Write, denied()),
                "write failed: permission denied",
            ),
            (
                Error::Random {
                    op: Op::Write,
                    source: io::Error::other("no entropy"),
                },
                "write failed: the system random source failed: no entropy",
            ),
            (
                Error::Internal("an impossible state"),
                "internal error in ws-client: an impossible state (please report this bug)",
            ),
            (
                Error::InvalidOption(OptionError::OutOfRange {
                    option: "ping_timeout",
                    reason: "must be above zero".to_owned(),
                }),
                "invalid option: ping_timeout: must be above zero",
            ),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
    }

    #[test]
    fn every_way_of_losing_the_connection_is_connection_closed_with_its_cause() {
        use std::error::Error as _;
        for kind in [
            io::ErrorKind::UnexpectedEof,
            io::ErrorKind::ConnectionReset,
            io::ErrorKind::ConnectionAborted,
            io::ErrorKind::BrokenPipe,
            io::ErrorKind::NotConnected,
        ] {
            for op in [Op::Read, Op::Write, Op::Flush] {
                let e = Error::io(op, io::Error::from(kind));
                assert!(
                    matches!(&e, Error::ConnectionClosed { code: Some(c), source: Some(s), .. }
                        if *c == CloseCode::ABNORMAL && s.kind() == kind),
                    "{op:?} {kind:?}: {e:?}"
                );
                assert_eq!(
                    e.source().map(ToString::to_string),
                    Some(io::Error::from(kind).to_string())
                );
            }
        }
        // Other failures stay I/O errors naming the operation.
        let e = Error::io(Op::Read, io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(matches!(e, Error::Io { op: Op::Read, .. }), "{e:?}");
    }

    #[test]
    fn connection_closed_message_names_code_and_reason() {
        let e = Error::closed(Some(CloseCode::GOING_AWAY), "bye".to_owned());
        assert_eq!(e.to_string(), "connection closed (code 1001: bye)");
        assert_eq!(
            Error::abnormal_close().to_string(),
            "connection closed (code 1006)"
        );
    }

    #[test]
    fn bad_status_from_the_handshake_keeps_its_parts() {
        let e = Error::from(ws_handshake::Error::BadStatus {
            status: 403,
            reason: "Forbidden".to_owned(),
            headers: vec![],
            body: b"no".to_vec(),
        });
        assert!(
            matches!(&e, Error::BadStatus { status: 403, body, .. } if body == b"no"),
            "{e:?}"
        );
    }
}
