//! The client-side handshake error: every way a request can be refused before it is sent
//! and every way a server's answer can fail the opening handshake.

/// Why a client handshake could not be built or was not accepted.
///
/// Each variant names the broken rule and carries what a user needs to understand it.
/// Messages are lower-case and say what and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status other than 101 or a followed redirect.
    ///
    /// `headers` are in the order received (duplicates kept); `body` holds the response body,
    /// read up to `Content-Length` or the body cap of [`ResponseLimits`](crate::ResponseLimits).
    #[error("handshake answered with status {status} {reason}")]
    BadStatus {
        /// The HTTP status code.
        status: u16,
        /// The reason phrase of the status line (lossy UTF-8).
        reason: String,
        /// The response headers, in order, duplicates kept.
        headers: Vec<(String, String)>,
        /// The response body, possibly truncated to the body cap.
        body: Vec<u8>,
    },
    /// The 101 response has no `Upgrade` header with the token `websocket`.
    #[error("101 response lacks an `Upgrade: websocket` header")]
    MissingUpgrade,
    /// The 101 response has no `Connection` header with the token `upgrade`.
    #[error("101 response lacks a `Connection: upgrade` header")]
    MissingConnection,
    /// The `Sec-WebSocket-Accept` header is missing or does not match the key we sent.
    #[error("Sec-WebSocket-Accept is {}, expected {expected:?}", found.as_ref().map_or_else(|| "missing".to_owned(), |f| format!("{f:?}")))]
    BadAccept {
        /// The value computed from the request key.
        expected: String,
        /// The value the server sent, `None` when the header was missing.
        found: Option<String>,
    },
    /// The server chose a subprotocol we did not offer (or we offered none).
    #[error("server chose subprotocol {0:?}, which the client did not offer")]
    UnexpectedSubprotocol(String),
    /// The server accepted an extension we did not offer.
    #[error("server accepted extension {0:?}, which the client did not offer")]
    UnexpectedExtension(String),
    /// The server's `permessage-deflate` answer breaks RFC 7692 or does not fit any offer.
    #[error("permessage-deflate negotiation failed: {0}")]
    Deflate(#[from] crate::DeflateError),
    /// The response head (status line and headers) exceeds the byte limit.
    #[error("response head exceeds the limit of {limit} bytes")]
    HeadTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The response has more headers than the limit.
    #[error("response has more than {limit} headers")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// The response is not valid HTTP/1.x.
    #[error("malformed http response: {0}")]
    Malformed(String),
    /// The status line is not `HTTP/1.1`.
    #[error("response status line is HTTP/1.{minor}, HTTP/1.1 is required")]
    BadHttpVersion {
        /// The minor version the server sent (0 for HTTP/1.0).
        minor: u8,
    },
    /// A single-valued response header appears more than once, or a caller header would
    /// duplicate one the request generates.
    #[error("header {name:?} appears more than once")]
    DuplicateHeader {
        /// The header name.
        name: String,
    },
    /// The `Content-Length` of an error response is not a decimal number.
    #[error("invalid content-length {0:?} in the response")]
    InvalidContentLength(String),
    /// A redirect response (301, 302, 303, 307 or 308) has no usable `Location` header.
    #[error("redirect response with status {status} has no location header")]
    MissingLocation {
        /// The redirect status.
        status: u16,
    },
    /// A redirect `Location` (or the base URL) cannot be turned into a ws/wss URL.
    #[error("invalid redirect location {location:?}: {reason}")]
    InvalidLocation {
        /// The location as received.
        location: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A header name or value given by the caller is not allowed.
    #[error("invalid request header {name:?}: {reason}")]
    InvalidHeader {
        /// The header name as given (or the name of the generated header, e.g. `Host`).
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The request resource (path and query) cannot go in a request line.
    #[error("invalid request resource {resource:?}: {reason}")]
    InvalidResource {
        /// The resource as given.
        resource: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No `Sec-WebSocket-Key` was given: call [`ClientRequest::key`](crate::ClientRequest::key)
    /// with 16 random bytes (or supply the header).
    #[error("no Sec-WebSocket-Key: pass 16 random bytes with ClientRequest::key")]
    MissingKey,
    /// The peer closed the connection before the response head was complete.
    #[error("connection closed after {read} bytes, before the response head was complete")]
    UnexpectedEof {
        /// How many bytes of the response had been received.
        read: usize,
    },
    /// The handshake already produced its outcome; it takes no more input.
    #[error("the handshake is already finished")]
    Finished,
}
