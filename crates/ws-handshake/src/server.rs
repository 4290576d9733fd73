//! The server side, small: accept a client's opening handshake request and answer it with
//! a 101 response or a 4xx response naming the problem. It serves test peers and the demo
//! echo server.

use crate::accept::{accept_key, is_valid_key};
use crate::http::{find_head_end, has_token, owned_headers, single, values};
use crate::negotiate::pick_subprotocol;

/// Limits for reading a client's handshake request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestLimits {
    head_bytes: usize,
    headers: usize,
}

impl Default for RequestLimits {
    /// 64 KiB of head, 124 headers.
    fn default() -> Self {
        Self {
            head_bytes: 64 * 1024,
            headers: 124,
        }
    }
}

impl RequestLimits {
    /// The most bytes the request line and headers may take. Default: 65 536 (64 KiB).
    #[must_use]
    pub fn max_head_bytes(mut self, limit: usize) -> Self {
        self.head_bytes = limit;
        self
    }

    /// The most header lines a request may have. Default: 124.
    #[must_use]
    pub fn max_headers(mut self, limit: usize) -> Self {
        self.headers = limit;
        self
    }

    /// The head byte limit.
    pub fn head_bytes(&self) -> usize {
        self.head_bytes
    }

    /// The header count limit.
    pub fn headers(&self) -> usize {
        self.headers
    }
}

/// Why a client's handshake request was refused. [`status`](Self::status) and
/// [`response`](Self::response) give the HTTP answer to send before closing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The request head exceeds the byte limit (answer 431).
    #[error("request head exceeds the limit of {limit} bytes")]
    HeadTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// The request has more headers than the limit (answer 431).
    #[error("request has more than {limit} headers")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// The request is not valid HTTP/1.x (answer 400).
    #[error("malformed http request: {0}")]
    Malformed(String),
    /// The method is not `GET` (answer 405).
    #[error("handshake method is {0}, GET is required")]
    BadMethod(String),
    /// The request line is not `HTTP/1.1` (answer 505).
    #[error("request line is HTTP/1.{minor}, HTTP/1.1 is required")]
    BadHttpVersion {
        /// The minor version the client sent.
        minor: u8,
    },
    /// No `Host` header (answer 400).
    #[error("request lacks a Host header")]
    MissingHost,
    /// No `Upgrade` header with the token `websocket` (answer 400).
    #[error("request lacks an `Upgrade: websocket` header")]
    MissingUpgrade,
    /// No `Connection` header with the token `upgrade` (answer 400).
    #[error("request lacks a `Connection: upgrade` header")]
    MissingConnection,
    /// No `Sec-WebSocket-Key` header (answer 400).
    #[error("request lacks a Sec-WebSocket-Key header")]
    MissingKey,
    /// The `Sec-WebSocket-Key` is not the base64 encoding of 16 bytes (answer 400).
    #[error("Sec-WebSocket-Key {0:?} is not the base64 encoding of 16 bytes")]
    BadKey(String),
    /// A header that must appear once appears more often (answer 400).
    #[error("request header {name:?} appears more than once")]
    DuplicateHeader {
        /// The header name.
        name: String,
    },
    /// `Sec-WebSocket-Version` is missing or not 13 (answer 426 with
    /// `Sec-WebSocket-Version: 13`).
    #[error("Sec-WebSocket-Version is {}, 13 is required", .0.as_deref().unwrap_or("missing"))]
    UnsupportedVersion(Option<String>),
    /// The connection closed before the request head was complete (nothing to answer).
    #[error("connection closed after {read} bytes, before the request head was complete")]
    UnexpectedEof {
        /// How many bytes had been received.
        read: usize,
    },
    /// The handshake already produced its outcome; it takes no more input.
    #[error("the server handshake is already finished")]
    Finished,
}

impl RequestError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            Self::HeadTooLarge { .. } | Self::TooManyHeaders { .. } => 431,
            Self::BadMethod(_) => 405,
            Self::BadHttpVersion { .. } => 505,
            Self::UnsupportedVersion(_) => 426,
            _ => 400,
        }
    }

    /// The complete HTTP response to send (status line, headers and a short plain-text body
    /// naming the problem); the connection should be closed after it.
    pub fn response(&self) -> Vec<u8> {
        let status = self.status();
        let phrase = match status {
            405 => "Method Not Allowed",
            426 => "Upgrade Required",
            431 => "Request Header Fields Too Large",
            505 => "HTTP Version Not Supported",
            _ => "Bad Request",
        };
        let body = format!("{self}\n");
        let mut out = format!(
            "HTTP/1.1 {status} {phrase}\r\nConnection: close\r\n\
             Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n",
            body.len()
        );
        match self {
            Self::UnsupportedVersion(_) => out.push_str("Sec-WebSocket-Version: 13\r\n"),
            Self::BadMethod(_) => out.push_str("Allow: GET\r\n"),
            _ => {}
        }
        out.push_str("\r\n");
        out.push_str(&body);
        out.into_bytes()
    }
}

/// A client request that passed every check of RFC 6455 section 4.2.1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AcceptedRequest {
    /// The request target (path and query) as sent.
    pub resource: String,
    /// The request headers in order, duplicates kept.
    pub headers: Vec<(String, String)>,
    /// The client's `Sec-WebSocket-Key`.
    pub key: String,
    /// The subprotocol chosen (the first of the server's list the client offered).
    pub subprotocol: Option<String>,
    /// The 101 response to send.
    pub response: Vec<u8>,
    /// Bytes received after the request head: the client's first frames.
    pub rest: Vec<u8>,
}

impl AcceptedRequest {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        values(&self.headers, name).next()
    }
}

/// The server side of an opening handshake: feed the client's bytes until the request is
/// accepted or refused.
///
/// ```
/// use ws_handshake::ServerHandshake;
///
/// let mut server = ServerHandshake::new().subprotocols(["chat"]);
/// let accepted = server
///     .feed(
///         b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
///           Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///           Sec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n",
///     )?
///     .expect("the request is complete");
/// assert_eq!(accepted.subprotocol.as_deref(), Some("chat"));
/// assert_eq!(
///     accepted.response,
///     b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
///       Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
/// );
/// # Ok::<(), ws_handshake::RequestError>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ServerHandshake {
    subprotocols: Vec<String>,
    limits: RequestLimits,
    buf: Vec<u8>,
    scanned: usize,
    done: bool,
}

impl ServerHandshake {
    /// A server handshake with no subprotocols and default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The subprotocols this server speaks, in its preference order. Default: none (a
    /// client's offer is then declined by not answering `Sec-WebSocket-Protocol`).
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Limits for reading the request. Default: [`RequestLimits::default`].
    pub fn limits(mut self, limits: RequestLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Feed bytes received from the client. Returns `Ok(None)` while more are needed.
    ///
    /// # Errors
    ///
    /// A [`RequestError`] naming the broken rule; send its [`response`](RequestError::response)
    /// and close. [`RequestError::Finished`] when called after the outcome or an error.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<AcceptedRequest>, RequestError> {
        if self.done {
            return Err(RequestError::Finished);
        }
        self.buf.extend_from_slice(bytes);
        let result = self.try_accept();
        if !matches!(result, Ok(None)) {
            self.done = true;
            self.buf = Vec::new();
        }
        result
    }

    /// The client closed the connection before its request was complete.
    ///
    /// # Errors
    ///
    /// Always: [`RequestError::UnexpectedEof`], or [`RequestError::Finished`] after the outcome.
    pub fn finish_eof(&mut self) -> Result<AcceptedRequest, RequestError> {
        if std::mem::replace(&mut self.done, true) {
            return Err(RequestError::Finished);
        }
        Err(RequestError::UnexpectedEof {
            read: std::mem::take(&mut self.buf).len(),
        })
    }

    fn try_accept(&mut self) -> Result<Option<AcceptedRequest>, RequestError> {
        let limit = self.limits.head_bytes;
        let Some(end) = find_head_end(&self.buf, self.scanned) else {
            if self.buf.len() > limit {
                return Err(RequestError::HeadTooLarge { limit });
            }
            self.scanned = self.buf.len();
            return Ok(None);
        };
        if end > limit {
            return Err(RequestError::HeadTooLarge { limit });
        }
        let head = self.buf.get(..end).unwrap_or_default();
        let mut slots = vec![httparse::EMPTY_HEADER; self.limits.headers];
        let mut request = httparse::Request::new(&mut slots);
        match request.parse(head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => {
                return Err(RequestError::Malformed(
                    "request head ends early".to_owned(),
                ));
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(RequestError::TooManyHeaders {
                    limit: self.limits.headers,
                });
            }
            Err(e) => return Err(RequestError::Malformed(e.to_string())),
        }
        let method = request.method.unwrap_or_default();
        if method != "GET" {
            return Err(RequestError::BadMethod(method.to_owned()));
        }
        match request.version {
            Some(1) => {}
            Some(minor) => return Err(RequestError::BadHttpVersion { minor }),
            None => return Err(RequestError::Malformed("no http version".to_owned())),
        }
        let resource = request.path.unwrap_or_default().to_owned();
        let headers = owned_headers(request.headers);

        let one = |name: &str| {
            single(&headers, name).map_err(|()| RequestError::DuplicateHeader {
                name: name.to_owned(),
            })
        };
        if one("Host")?.is_none() {
            return Err(RequestError::MissingHost);
        }
        if !has_token(&headers, "Upgrade", "websocket") {
            return Err(RequestError::MissingUpgrade);
        }
        if !has_token(&headers, "Connection", "upgrade") {
            return Err(RequestError::MissingConnection);
        }
        let key = one("Sec-WebSocket-Key")?
            .ok_or(RequestError::MissingKey)?
            .trim()
            .to_owned();
        if !is_valid_key(&key) {
            return Err(RequestError::BadKey(key));
        }
        match one("Sec-WebSocket-Version")?.map(str::trim) {
            Some("13") => {}
            other => return Err(RequestError::UnsupportedVersion(other.map(str::to_owned))),
        }
        let subprotocol = pick_subprotocol(&headers, &self.subprotocols);

        let mut response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n",
            accept_key(&key)
        );
        if let Some(protocol) = &subprotocol {
            response.push_str("Sec-WebSocket-Protocol: ");
            response.push_str(protocol);
            response.push_str("\r\n");
        }
        response.push_str("\r\n");
        let rest = self.buf.get(end..).unwrap_or_default().to_vec();
        Ok(Some(AcceptedRequest {
            resource,
            headers,
            key,
            subprotocol,
            response: response.into_bytes(),
            rest,
        }))
    }
}

/// Accept a complete client request in one call (see [`ServerHandshake`]); `Ok(None)` when
/// `bytes` do not yet hold the whole request head.
///
/// # Errors
///
/// As [`ServerHandshake::feed`].
pub fn accept_request(
    bytes: &[u8],
    subprotocols: &[&str],
) -> Result<Option<AcceptedRequest>, RequestError> {
    ServerHandshake::new()
        .subprotocols(subprotocols.iter().copied())
        .feed(bytes)
}
