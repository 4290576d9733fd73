//! The one error type of the client, mirroring the exception classes of Python's
//! `websocket-client`, and the operation names timeouts and I/O errors carry.

use std::fmt;
use std::io;

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
    #[error("{op} timed out")]
    Timeout {
        /// The operation that timed out.
        op: Op,
        /// For connect timeouts, which step ran out of time (TCP connect, proxy, TLS).
        #[source]
        detail: Option<Box<ws_net::Error>>,
    },

    /// The proxy refused or failed the tunnel (`WebSocketProxyException`).
    #[error(transparent)]
    Proxy(ws_net::ProxyError),

    /// The URL is not a valid `ws://` or `wss://` URL (`WebSocketAddressException`).
    #[error(transparent)]
    Url(ws_net::UrlError),

    /// The host name could not be resolved, or resolved to no address
    /// (`WebSocketAddressException`).
    #[error(transparent)]
    Address(ws_net::Error),

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

    /// Connecting failed below the WebSocket layer: every address refused the connection,
    /// or a network option could not be applied.
    #[error(transparent)]
    Net(ws_net::Error),

    /// An I/O operation failed.
    #[error("{op} failed")]
    Io {
        /// The operation that failed.
        op: Op,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },

    /// A frame the caller asked to send breaks RFC 6455 or the connection's state (a
    /// fragmented or oversized control frame, reserved bits without an extension, an
    /// invalid close code, a continuation without a started message, ...): the engine's
    /// [`SendError`](ws_frame::SendError) says which. Nothing was written.
    #[error("refusing to send an invalid frame: {0}")]
    InvalidFrame(ws_frame::SendError),

    /// An option is invalid (for example a header name or value with CR or LF).
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// A callback of [`App`](crate::App) panicked; the panic was caught and ended the run.
    #[error("callback {callback} panicked: {message}")]
    Callback {
        /// The callback's name, such as `"on_message"`.
        callback: &'static str,
        /// The panic message (`"<non-string panic payload>"` when it was not a string).
        message: String,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
        match source.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                Self::Timeout { op, detail: None }
            }
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
            _ => Self::Io { op, source },
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
            // ws_frame::Error is non-exhaustive; a future family is a protocol matter.
            other => Self::Io {
                op: Op::Read,
                source: io::Error::other(other.to_string()),
            },
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
            ws_handshake::Error::InvalidHeader { .. } => Self::InvalidOption(e.to_string()),
            other => Self::Handshake(other),
        }
    }
}

impl From<ws_net::Error> for Error {
    fn from(e: ws_net::Error) -> Self {
        match e {
            ws_net::Error::Url(u) => Self::Url(u),
            e @ (ws_net::Error::Resolve { .. } | ws_net::Error::NoAddresses { .. }) => {
                Self::Address(e)
            }
            e @ ws_net::Error::Timeout { .. } => Self::Timeout {
                op: Op::Connect,
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
