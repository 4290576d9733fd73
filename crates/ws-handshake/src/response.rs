//! The in-flight client handshake: holds the request and parses the server's response fed
//! in pieces, ending in an [`Outcome`] or an [`Error`].

use std::fmt;

use crate::Error;
use crate::http::{find_head_end, has_token, owned_headers, single, values};
use crate::location::resolve_location;
use crate::negotiate::Offer;

/// Limits for reading a handshake response. Every limit is enforced before the memory is
/// spent, so a hostile server cannot make the client buffer without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseLimits {
    head_bytes: usize,
    headers: usize,
    body_bytes: usize,
}

impl Default for ResponseLimits {
    /// 64 KiB of head, 124 headers, 64 KiB of error-response body.
    fn default() -> Self {
        Self {
            head_bytes: 64 * 1024,
            headers: 124,
            body_bytes: 64 * 1024,
        }
    }
}

impl ResponseLimits {
    /// The most bytes the status line and headers may take, blank line included.
    /// Default: 65 536 (64 KiB).
    #[must_use]
    pub fn max_head_bytes(mut self, limit: usize) -> Self {
        self.head_bytes = limit;
        self
    }

    /// The most header lines a response may have. Default: 124.
    #[must_use]
    pub fn max_headers(mut self, limit: usize) -> Self {
        self.headers = limit;
        self
    }

    /// The most body bytes kept from an error response ([`Error::BadStatus`]); a longer body
    /// is truncated to this. Default: 65 536 (64 KiB).
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.body_bytes = limit;
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

    /// The error-body byte cap.
    pub fn body_bytes(&self) -> usize {
        self.body_bytes
    }
}

/// How a successful handshake ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The server switched to the WebSocket protocol (status 101).
    Accepted(Accepted),
    /// The server redirected (301, 302, 303, 307 or 308); connect again to `location`.
    Redirect {
        /// The redirect status.
        status: u16,
        /// The absolute `ws://` or `wss://` URL, resolved against the request URL.
        location: String,
    },
}

/// A 101 response that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accepted {
    /// The status, always 101.
    pub status: u16,
    /// The response headers in order, duplicates kept.
    pub headers: Vec<(String, String)>,
    /// The subprotocol the server chose, in the server's spelling.
    pub subprotocol: Option<String>,
    /// Each extension the server accepted, with its parameters, as sent
    /// (e.g. `permessage-deflate; server_no_context_takeover`).
    pub extensions: Vec<String>,
    /// The permessage-deflate parameters in force, when the request made typed offers
    /// ([`ClientRequest::deflate`](crate::ClientRequest::deflate)) and the server accepted
    /// one; `None` means messages are not compressed.
    pub deflate: Option<crate::DeflateParams>,
    /// Bytes received after the response head: the first WebSocket frames.
    pub rest: Vec<u8>,
}

impl Accepted {
    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        values(&self.headers, name).next()
    }
}

/// The client side of an opening handshake in flight, made by
/// [`ClientRequest::build`](crate::ClientRequest::build).
///
/// Write [`request_bytes`](Self::request_bytes), then [`feed`](Self::feed) what the server
/// sends until it returns an [`Outcome`] or an error. When the peer closes the connection
/// (or the caller stops waiting) before that, call [`finish_eof`](Self::finish_eof).
///
/// A 101 completes as soon as its head is in: bytes after it are returned in
/// [`Accepted::rest`] (the first frames). A redirect also completes at its head (its body is
/// not read: the caller connects elsewhere). Any other status reads the error body first,
/// up to `Content-Length`, the end of a chunked body, the body cap, or end of file.
#[derive(Clone)]
pub struct Handshake {
    request: Vec<u8>,
    url: String,
    key: String,
    expected_accept: String,
    offer: Offer,
    limits: ResponseLimits,
    buf: Vec<u8>,
    scanned: usize,
    response_head: Option<(String, Vec<(String, String)>)>,
    state: State,
}

#[derive(Debug, Clone)]
enum State {
    Head,
    Body(Box<BadStatusBody>),
    Done,
}

/// An error response whose body is still arriving.
#[derive(Debug, Clone)]
struct BadStatusBody {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    framing: Framing,
}

#[derive(Debug, Clone)]
enum Framing {
    /// `Content-Length`: this many bytes still to come.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked(Chunked),
    /// Neither: the body ends when the connection closes.
    Eof,
}

impl fmt::Debug for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The request and the response carry credentials and cookies: neither is shown.
        f.debug_struct("Handshake")
            .field("url", &self.url)
            .field("request_len", &self.request.len())
            .field("offer", &self.offer)
            .field("limits", &self.limits)
            .field("received", &self.buf.len())
            .field("response_complete", &self.response_head.is_some())
            .finish_non_exhaustive()
    }
}

impl Handshake {
    pub(crate) fn new(
        request: Vec<u8>,
        url: String,
        key: String,
        expected_accept: String,
        offer: Offer,
        limits: ResponseLimits,
    ) -> Self {
        Self {
            request,
            url,
            key,
            expected_accept,
            offer,
            limits,
            buf: Vec::new(),
            scanned: 0,
            response_head: None,
            state: State::Head,
        }
    }

    /// The request to write to the server.
    pub fn request_bytes(&self) -> &[u8] {
        &self.request
    }

    /// The headers of the response, in order with duplicates kept, once its head is complete
    /// (also for redirects, e.g. to keep their `Set-Cookie`); `None` before.
    pub fn response_headers(&self) -> Option<&[(String, String)]> {
        self.response_head
            .as_ref()
            .map(|(_, headers)| headers.as_slice())
    }

    /// The URL of this request, `ws://host[:port]/resource` (the base for redirects).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The `Sec-WebSocket-Accept` value the server must answer with.
    pub fn expected_accept(&self) -> &str {
        &self.expected_accept
    }

    /// Feed bytes received from the server. Returns `Ok(None)` while more are needed.
    ///
    /// After an outcome or an error the handshake is finished and takes no more input.
    ///
    /// # Errors
    ///
    /// - [`Error::HeadTooLarge`], [`Error::TooManyHeaders`]: a limit of [`ResponseLimits`];
    /// - [`Error::Malformed`], [`Error::BadHttpVersion`]: not an HTTP/1.1 response;
    /// - [`Error::BadStatus`]: any status but 101 and the redirects, once its body is read
    ///   (up to `Content-Length`, the end of a chunked body or the body cap);
    /// - [`Error::InvalidContentLength`]: that status came with a bad `Content-Length`;
    /// - [`Error::MissingUpgrade`], [`Error::MissingConnection`], [`Error::BadAccept`],
    ///   [`Error::UnexpectedSubprotocol`], [`Error::UnexpectedExtension`],
    ///   [`Error::DuplicateHeader`]: a 101 response that fails RFC 6455 section 4.1;
    /// - [`Error::MissingLocation`], [`Error::InvalidLocation`]: a redirect without a
    ///   usable `Location`;
    /// - [`Error::Finished`]: called again after the outcome or an error.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Outcome>, Error> {
        let cap = self.limits.body_bytes;
        let result = match &mut self.state {
            State::Done => return Err(Error::Finished),
            State::Head => {
                self.buf.extend_from_slice(bytes);
                self.on_head_bytes()
            }
            State::Body(body) => match body.consume(bytes, cap) {
                Ok(false) => Ok(None),
                Ok(true) => Err(body.take_error()),
                Err(e) => Err(e),
            },
        };
        if !matches!(result, Ok(None)) {
            self.state = State::Done;
            self.buf = Vec::new();
        }
        result
    }

    /// The peer closed the connection (or the caller gave up waiting for more bytes).
    ///
    /// For an error response whose body had no `Content-Length`, this is its normal end.
    ///
    /// # Errors
    ///
    /// - [`Error::BadStatus`] with the body received so far, after an error response's head;
    /// - [`Error::UnexpectedEof`] when the response head is incomplete;
    /// - [`Error::Finished`] when the handshake already ended.
    pub fn finish_eof(&mut self) -> Result<Outcome, Error> {
        let state = std::mem::replace(&mut self.state, State::Done);
        match state {
            State::Head => Err(Error::UnexpectedEof {
                read: self.buf.len(),
            }),
            State::Body(mut body) => Err(body.take_error()),
            State::Done => Err(Error::Finished),
        }
    }

    fn on_head_bytes(&mut self) -> Result<Option<Outcome>, Error> {
        let Some(end) = find_head_end(&self.buf, self.scanned) else {
            if self.buf.len() > self.limits.head_bytes {
                return Err(Error::HeadTooLarge {
                    limit: self.limits.head_bytes,
                });
            }
            self.scanned = self.buf.len();
            return Ok(None);
        };
        if end > self.limits.head_bytes {
            return Err(Error::HeadTooLarge {
                limit: self.limits.head_bytes,
            });
        }
        let (status, reason, headers) = {
            let head = self.buf.get(..end).unwrap_or_default();
            parse_response_head(head, self.limits.headers)?
        };
        self.response_head = Some((format!("HTTP/1.1 {status} {reason}"), headers.clone()));
        let rest = self.buf.get(end..).unwrap_or_default();

        match status {
            101 => {
                if !has_token(&headers, "Upgrade", "websocket") {
                    return Err(Error::MissingUpgrade);
                }
                if !has_token(&headers, "Connection", "upgrade") {
                    return Err(Error::MissingConnection);
                }
                let found = single(&headers, "Sec-WebSocket-Accept").map_err(|()| {
                    Error::DuplicateHeader {
                        name: "Sec-WebSocket-Accept".to_owned(),
                    }
                })?;
                if found.map(|f| f.trim_matches([' ', '\t'])) != Some(self.expected_accept.as_str())
                {
                    return Err(Error::BadAccept {
                        expected: self.expected_accept.clone(),
                        found: found.map(str::to_owned),
                    });
                }
                let subprotocol = self.offer.check_subprotocol(&headers)?;
                let extensions = self.offer.check_extensions(&headers)?;
                let deflate = self.offer.check_deflate(&extensions)?;
                Ok(Some(Outcome::Accepted(Accepted {
                    status,
                    headers,
                    subprotocol,
                    extensions,
                    deflate,
                    rest: rest.to_vec(),
                })))
            }
            301 | 302 | 303 | 307 | 308 => {
                let location = single(&headers, "Location")
                    .map_err(|()| Error::DuplicateHeader {
                        name: "Location".to_owned(),
                    })?
                    .map(|l| l.trim_matches([' ', '\t']))
                    .filter(|l| !l.is_empty())
                    .ok_or(Error::MissingLocation { status })?;
                let location = resolve_location(&self.url, location)?;
                Ok(Some(Outcome::Redirect { status, location }))
            }
            _ => {
                let framing = framing(status, &headers)?;
                let mut body = BadStatusBody {
                    status,
                    reason,
                    headers,
                    body: Vec::new(),
                    framing,
                };
                let rest = rest.to_vec();
                if body.consume(&rest, self.limits.body_bytes)? {
                    return Err(body.take_error());
                }
                self.state = State::Body(Box::new(body));
                self.buf = Vec::new();
                Ok(None)
            }
        }
    }
}

/// Status, reason and headers of a response.
type ResponseHead = (u16, String, Vec<(String, String)>);

/// Parse a complete response head (ending with its blank line).
fn parse_response_head(head: &[u8], max_headers: usize) -> Result<ResponseHead, Error> {
    let mut slots = vec![httparse::EMPTY_HEADER; max_headers];
    let mut response = httparse::Response::new(&mut slots);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(Error::Malformed("response head ends early".to_owned()));
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(Error::TooManyHeaders { limit: max_headers });
        }
        Err(e) => return Err(Error::Malformed(e.to_string())),
    }
    match response.version {
        Some(1) => {}
        Some(minor) => return Err(Error::BadHttpVersion { minor }),
        None => return Err(Error::Malformed("no http version".to_owned())),
    }
    let status = response
        .code
        .ok_or_else(|| Error::Malformed("no status code".to_owned()))?;
    let reason = response.reason.unwrap_or_default().to_owned();
    Ok((status, reason, owned_headers(response.headers)))
}

/// How the body of an error response is delimited (RFC 9112 section 6.3).
fn framing(status: u16, headers: &[(String, String)]) -> Result<Framing, Error> {
    if (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Length(0));
    }
    if let Some(last) = values(headers, "Transfer-Encoding").last() {
        let chunked = crate::http::split_list(last)
            .last()
            .is_some_and(|coding| coding.eq_ignore_ascii_case("chunked"));
        return Ok(if chunked {
            Framing::Chunked(Chunked::default())
        } else {
            Framing::Eof
        });
    }
    let mut length = None;
    for value in values(headers, "Content-Length") {
        for element in crate::http::split_list(value) {
            let n = parse_decimal(element)
                .ok_or_else(|| Error::InvalidContentLength(value.to_owned()))?;
            if length.is_some_and(|l| l != n) {
                return Err(Error::InvalidContentLength(value.to_owned()));
            }
            length = Some(n);
        }
    }
    Ok(length.map_or(Framing::Eof, Framing::Length))
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl BadStatusBody {
    /// Take body bytes; `Ok(true)` when the body is complete (or hit the cap).
    fn consume(&mut self, bytes: &[u8], cap: usize) -> Result<bool, Error> {
        match &mut self.framing {
            Framing::Length(remaining) => {
                let room = cap.saturating_sub(self.body.len());
                let wanted = usize::try_from(*remaining).unwrap_or(usize::MAX).min(room);
                let take = wanted.min(bytes.len());
                self.body
                    .extend_from_slice(bytes.get(..take).unwrap_or_default());
                *remaining -= take as u64;
                Ok(*remaining == 0 || self.body.len() >= cap)
            }
            Framing::Eof => {
                let room = cap.saturating_sub(self.body.len());
                self.body
                    .extend_from_slice(bytes.get(..room.min(bytes.len())).unwrap_or_default());
                Ok(self.body.len() >= cap)
            }
            Framing::Chunked(chunked) => chunked.consume(bytes, &mut self.body, cap),
        }
    }

    fn take_error(&mut self) -> Error {
        Error::BadStatus {
            status: self.status,
            reason: std::mem::take(&mut self.reason),
            headers: std::mem::take(&mut self.headers),
            body: std::mem::take(&mut self.body),
        }
    }
}

/// An incremental decoder for `Transfer-Encoding: chunked` (RFC 9112 section 7.1).
#[derive(Debug, Clone, Default)]
struct Chunked {
    state: ChunkState,
    size: u64,
    digits: u8,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ChunkState {
    /// Reading the hex chunk size.
    #[default]
    Size,
    /// Skipping a chunk extension up to the end of the line.
    Extension,
    /// The chunk data, `size` bytes left.
    Data,
    /// The CRLF after the data.
    DataEnd,
    /// At the start of a trailer line (after the last chunk).
    TrailerLineStart,
    /// Inside a trailer line.
    TrailerLine,
}

impl Chunked {
    fn consume(&mut self, mut bytes: &[u8], body: &mut Vec<u8>, cap: usize) -> Result<bool, Error> {
        let bad = |what: &str| Error::Malformed(format!("chunked body: {what}"));
        while let Some((&b, tail)) = bytes.split_first() {
            match self.state {
                ChunkState::Size => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        if self.digits >= 15 {
                            return Err(bad("chunk size too large"));
                        }
                        let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                        self.size = self.size * 16 + digit;
                        self.digits += 1;
                    }
                    b';' | b' ' | b'\t' | b'\r' if self.digits > 0 => {
                        self.state = ChunkState::Extension;
                    }
                    b'\n' if self.digits > 0 => self.end_size_line(),
                    _ => return Err(bad("invalid chunk size")),
                },
                ChunkState::Extension => {
                    if b == b'\n' {
                        self.end_size_line();
                    }
                }
                ChunkState::Data => {
                    let n = usize::try_from(self.size)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    let (data, after) = bytes.split_at(n);
                    let room = cap.saturating_sub(body.len());
                    body.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
                    self.size -= n as u64;
                    if body.len() >= cap {
                        return Ok(true);
                    }
                    if self.size == 0 {
                        self.state = ChunkState::DataEnd;
                    }
                    bytes = after;
                    continue;
                }
                ChunkState::DataEnd => match b {
                    b'\r' => {}
                    b'\n' => self.state = ChunkState::Size,
                    _ => return Err(bad("missing line end after chunk data")),
                },
                ChunkState::TrailerLineStart => match b {
                    b'\r' => {}
                    b'\n' => return Ok(true),
                    _ => self.state = ChunkState::TrailerLine,
                },
                ChunkState::TrailerLine => {
                    if b == b'\n' {
                        self.state = ChunkState::TrailerLineStart;
                    }
                }
            }
            bytes = tail;
        }
        Ok(false)
    }

    fn end_size_line(&mut self) {
        self.state = if self.size == 0 {
            ChunkState::TrailerLineStart
        } else {
            ChunkState::Data
        };
        self.digits = 0;
    }
}
