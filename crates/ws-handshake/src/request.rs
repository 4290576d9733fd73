//! The client request builder: connection options in, validated request bytes out.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::accept::{accept_key, encode_key};
use crate::http::{is_token, split_list, value_problem};
use crate::negotiate::Offer;
use crate::options::RequestOptions;
use crate::response::Handshake;
use crate::{DeflateOffer, Error};

/// The scheme of the request's target: plain `ws` or `wss` over TLS. It selects the
/// default port (80 or 443) left out of `Host`, and `http` or `https` for the default
/// `Origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `ws://`, default port 80.
    Ws,
    /// `wss://` (TLS), default port 443.
    Wss,
}

impl Scheme {
    /// The scheme's default port: 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Ws => 80,
            Self::Wss => 443,
        }
    }
}

/// The `Origin` header of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// `http://host[:port]` for `ws`, `https://host[:port]` for `wss` (like Python's
    /// websocket-client), with the port only when it is not the scheme's default.
    #[default]
    Default,
    /// This exact value.
    Custom(String),
    /// No `Origin` header.
    Suppress,
}

/// The `Host` header of the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostHeader {
    /// `host[:port]`, the port only when it is not the scheme's default (80 for `ws`, 443 for
    /// `wss`), IPv6 literals in brackets.
    #[default]
    Default,
    /// This exact value.
    Custom(String),
    /// No `Host` header (HTTP/1.1 servers usually answer 400 without one).
    Suppress,
}

/// A builder for the client's opening handshake request (RFC 6455 section 4.1).
///
/// Setters are infallible; [`build`](Self::build) validates everything once and names the
/// offending input. The request is written in this order, like Python's websocket-client:
///
/// ```text
/// GET {resource} HTTP/1.1
/// Upgrade: websocket
/// Host: {host[:port]}                     (unless suppressed)
/// Origin: {origin}                        (unless suppressed)
/// Sec-WebSocket-Key: {key}                (unless the caller supplies the header)
/// Sec-WebSocket-Version: 13               (unless the caller supplies the header)
/// Connection: Upgrade
/// Sec-WebSocket-Protocol: {a, b}          (when subprotocols are offered)
/// Sec-WebSocket-Extensions: {offer}       (when extensions are offered)
/// Authorization: Basic {base64(user:pw)}  (when basic_auth is set)
/// {caller headers, in order}
/// Cookie: {cookie}                        (when a non-empty cookie is set)
/// ```
///
/// A caller header that would duplicate a generated one (`Host`, `Origin`, `Upgrade`,
/// `Connection`, and `Sec-WebSocket-Protocol`, `Sec-WebSocket-Extensions`, `Authorization`,
/// `Cookie` when the matching setter is used) is rejected with [`Error::DuplicateHeader`].
/// A caller `Sec-WebSocket-Key` or `Sec-WebSocket-Version` header replaces the generated one
/// and is used consistently: the accept check is made against the caller's key. A caller
/// `Sec-WebSocket-Protocol` or `Sec-WebSocket-Extensions` header (without the setter) counts
/// as the offer when checking the response.
///
/// There is no built-in randomness: pass the 16-byte nonce with [`key`](Self::key) (draw it
/// from a CSPRNG), or supply a `Sec-WebSocket-Key` header; otherwise `build` fails with
/// [`Error::MissingKey`].
#[derive(Clone)]
#[must_use]
pub struct ClientRequest {
    host: String,
    port: u16,
    scheme: Scheme,
    resource: String,
    options: RequestOptions,
    extensions: Option<String>,
    deflate: Vec<DeflateOffer>,
    basic_auth: Option<(String, String)>,
    key: Option<[u8; 16]>,
}

impl fmt::Debug for ClientRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The basic-auth password and the key stay out; the options redact themselves.
        f.debug_struct("ClientRequest")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("scheme", &self.scheme)
            .field("resource", &self.resource)
            .field("options", &self.options)
            .field("extensions", &self.extensions)
            .field("deflate", &self.deflate)
            .field(
                "basic_auth",
                &self.basic_auth.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl ClientRequest {
    /// A request for `resource` (path and query; `""` means `/`) on `host:port` with
    /// `scheme`. `host` is a name or an IP address; an IPv6 literal may come with or
    /// without brackets. The other options are [`RequestOptions::default`] until
    /// [`options`](Self::options) sets them.
    pub fn new(host: &str, port: u16, scheme: Scheme, resource: &str) -> Self {
        Self {
            host: host.to_owned(),
            port,
            scheme,
            resource: resource.to_owned(),
            options: RequestOptions::default(),
            extensions: None,
            deflate: Vec::new(),
            basic_auth: None,
            key: None,
        }
    }

    /// The headers, subprotocols, cookie and response limits of the request.
    /// Default: [`RequestOptions::default`].
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// The raw `Sec-WebSocket-Extensions` offer, e.g.
    /// `permessage-deflate; client_max_window_bits`. The extension names in it are the ones
    /// the server may accept. An empty offer sends no header. Default: none.
    pub fn extensions(mut self, offer: &str) -> Self {
        self.extensions = Some(offer.to_owned());
        self
    }

    /// Offers permessage-deflate (RFC 7692) with these parameter sets, in preference order,
    /// after any raw [`extensions`](Self::extensions) offer in the same header. The server's
    /// answer is then validated and returned as
    /// [`Accepted::deflate`](crate::Accepted::deflate). Default: none.
    ///
    /// ```
    /// use ws_handshake::{ClientRequest, DeflateOffer, Scheme};
    ///
    /// let handshake = ClientRequest::new("example.com", 80, Scheme::Ws, "/")
    ///     .deflate([
    ///         DeflateOffer::new().client_max_window_bits(None),
    ///         DeflateOffer::new().client_no_context_takeover(),
    ///     ])
    ///     .key([7; 16])
    ///     .build()?;
    /// let request = String::from_utf8_lossy(handshake.request_bytes()).into_owned();
    /// assert!(request.contains(
    ///     "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits, \
    ///      permessage-deflate; client_no_context_takeover\r\n"
    /// ));
    /// # Ok::<(), ws_handshake::Error>(())
    /// ```
    pub fn deflate<I: IntoIterator<Item = DeflateOffer>>(mut self, offers: I) -> Self {
        self.deflate = offers.into_iter().collect();
        self
    }

    /// `Authorization: Basic` with these credentials (e.g. from the URL's userinfo, already
    /// percent-decoded). Default: none.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// The 16-byte nonce of `Sec-WebSocket-Key`; draw it from a CSPRNG. Required unless a
    /// `Sec-WebSocket-Key` header is supplied.
    pub fn key(mut self, nonce: [u8; 16]) -> Self {
        self.key = Some(nonce);
        self
    }

    /// Validate the options and produce the in-flight [`Handshake`].
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidHeader`]: a caller header name is not a token, a value (including
    ///   the origin, host override, cookie and extension offer) contains CR, LF, NUL or
    ///   another control character, the host is empty or holds characters a host cannot,
    ///   a subprotocol or extension name is not a token, or the basic-auth user has a `:`;
    /// - [`Error::InvalidResource`]: the resource does not start with `/` or `?`, or holds
    ///   whitespace, control or non-ASCII characters;
    /// - [`Error::DuplicateHeader`]: a caller header duplicates a generated one (see above),
    ///   or `Sec-WebSocket-Key` / `Sec-WebSocket-Version` is supplied twice;
    /// - [`Error::MissingKey`]: neither [`key`](Self::key) nor a `Sec-WebSocket-Key` header.
    pub fn build(&self) -> Result<Handshake, Error> {
        let resource = normalize_resource(&self.resource)?;
        let host = host_literal(&self.host)?;
        let host_port = if self.port == self.scheme.default_port() {
            host.clone()
        } else {
            format!("{host}:{}", self.port)
        };
        let (scheme, http) = match self.scheme {
            Scheme::Ws => ("ws", "http"),
            Scheme::Wss => ("wss", "https"),
        };
        let url = format!("{scheme}://{host_port}{resource}");

        for (name, value) in &self.options.headers {
            if !is_token(name) {
                return Err(invalid(name, "name is not an HTTP token"));
            }
            if let Some(reason) = value_problem(value) {
                return Err(invalid(name, reason));
            }
        }
        self.check_duplicates()?;

        let caller_key = self.caller_single("Sec-WebSocket-Key")?;
        let caller_version = self.caller_single("Sec-WebSocket-Version")?;
        let key = match (caller_key, self.key) {
            (Some(k), _) => k.to_owned(),
            (None, Some(nonce)) => encode_key(nonce),
            (None, None) => return Err(Error::MissingKey),
        };

        let mut headers: Vec<(String, String)> =
            Vec::with_capacity(10 + self.options.headers.len());
        let mut push = |name: &str, value: String| headers.push((name.to_owned(), value));
        push("Upgrade", "websocket".to_owned());
        match &self.options.host {
            HostHeader::Default => push("Host", host_port.clone()),
            HostHeader::Custom(value) => push("Host", checked("Host", value)?.to_owned()),
            HostHeader::Suppress => {}
        }
        match &self.options.origin {
            Origin::Default => push("Origin", format!("{http}://{host_port}")),
            Origin::Custom(value) => push("Origin", checked("Origin", value)?.to_owned()),
            Origin::Suppress => {}
        }
        if caller_key.is_none() {
            push("Sec-WebSocket-Key", key.clone());
        }
        if caller_version.is_none() {
            push("Sec-WebSocket-Version", "13".to_owned());
        }
        push("Connection", "Upgrade".to_owned());
        self.push_negotiation(&mut push)?;
        for (name, value) in &self.options.headers {
            push(name, value.clone());
        }
        if let Some(cookie) = self.options.cookie.as_deref().filter(|c| !c.is_empty()) {
            push("Cookie", checked("Cookie", cookie)?.to_owned());
        }

        let mut offer = Self::offer(&headers)?;
        offer.deflate.clone_from(&self.deflate);
        let request_line = format!("GET {resource} HTTP/1.1");
        let mut bytes = Vec::with_capacity(256);
        bytes.extend_from_slice(request_line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        for (name, value) in &headers {
            bytes.extend_from_slice(name.as_bytes());
            bytes.extend_from_slice(b": ");
            bytes.extend_from_slice(value.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        bytes.extend_from_slice(b"\r\n");
        let expected_accept = accept_key(&key);
        Ok(Handshake::new(
            bytes,
            url,
            key,
            expected_accept,
            offer,
            self.options.response_limits,
        ))
    }

    /// Push `Sec-WebSocket-Protocol`, `Sec-WebSocket-Extensions` and `Authorization`.
    fn push_negotiation(&self, push: &mut impl FnMut(&str, String)) -> Result<(), Error> {
        if !self.options.subprotocols.is_empty() {
            for protocol in &self.options.subprotocols {
                if !is_token(protocol) {
                    return Err(invalid(
                        "Sec-WebSocket-Protocol",
                        "subprotocol is not an HTTP token",
                    ));
                }
            }
            push(
                "Sec-WebSocket-Protocol",
                self.options.subprotocols.join(", "),
            );
        }
        let mut offers: Vec<String> = self
            .extension_offer()
            .map(str::to_owned)
            .into_iter()
            .collect();
        for deflate in &self.deflate {
            if let Some(reason) = deflate.problem() {
                return Err(invalid("Sec-WebSocket-Extensions", reason));
            }
            offers.push(deflate.to_string());
        }
        if !offers.is_empty() {
            let offer = offers.join(", ");
            push(
                "Sec-WebSocket-Extensions",
                checked("Sec-WebSocket-Extensions", &offer)?.to_owned(),
            );
        }
        if let Some((user, password)) = &self.basic_auth {
            if user.contains(':') {
                return Err(invalid(
                    "Authorization",
                    "basic-auth user name contains ':'",
                ));
            }
            push(
                "Authorization",
                format!("Basic {}", STANDARD.encode(format!("{user}:{password}"))),
            );
        }
        Ok(())
    }

    /// The extension offer, unless it is empty.
    fn extension_offer(&self) -> Option<&str> {
        self.extensions
            .as_deref()
            .filter(|offer| !offer.trim().is_empty())
    }

    /// Reject caller headers that would duplicate a generated one.
    fn check_duplicates(&self) -> Result<(), Error> {
        let mut reserved = vec!["Upgrade", "Connection"];
        if self.options.host != HostHeader::Suppress {
            reserved.push("Host");
        }
        if self.options.origin != Origin::Suppress {
            reserved.push("Origin");
        }
        if !self.options.subprotocols.is_empty() {
            reserved.push("Sec-WebSocket-Protocol");
        }
        if self.extension_offer().is_some() || !self.deflate.is_empty() {
            reserved.push("Sec-WebSocket-Extensions");
        }
        if self.basic_auth.is_some() {
            reserved.push("Authorization");
        }
        if self
            .options
            .cookie
            .as_deref()
            .is_some_and(|c| !c.is_empty())
        {
            reserved.push("Cookie");
        }
        for (name, _) in &self.options.headers {
            if reserved.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                return Err(Error::DuplicateHeader { name: name.clone() });
            }
        }
        Ok(())
    }

    /// The value of a caller header that may appear at most once.
    fn caller_single(&self, name: &str) -> Result<Option<&str>, Error> {
        let mut found = self
            .options
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        let first = found.next();
        if let Some((n, _)) = found.next() {
            return Err(Error::DuplicateHeader { name: n.clone() });
        }
        Ok(first.map(|(_, v)| v.as_str()))
    }

    /// What the request offers, read back from the final header list so that caller-supplied
    /// `Sec-WebSocket-Protocol` / `Sec-WebSocket-Extensions` headers count too.
    fn offer(headers: &[(String, String)]) -> Result<Offer, Error> {
        let mut offer = Offer::default();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("Sec-WebSocket-Protocol") {
                offer
                    .subprotocols
                    .extend(split_list(value).into_iter().map(str::to_owned));
            } else if name.eq_ignore_ascii_case("Sec-WebSocket-Extensions") {
                for ext in split_list(value) {
                    let ext_name = ext
                        .split(';')
                        .next()
                        .unwrap_or("")
                        .trim_matches([' ', '\t']);
                    if !is_token(ext_name) {
                        return Err(invalid(name, "extension name is not an HTTP token"));
                    }
                    offer.extensions.push(ext_name.to_ascii_lowercase());
                }
            }
        }
        Ok(offer)
    }
}

fn invalid(name: &str, reason: &'static str) -> Error {
    Error::InvalidHeader {
        name: name.to_owned(),
        reason,
    }
}

fn checked<'a>(name: &str, value: &'a str) -> Result<&'a str, Error> {
    match value_problem(value) {
        Some(reason) => Err(invalid(name, reason)),
        None => Ok(value),
    }
}

/// `/` for an empty resource, `/?q` for a bare query; otherwise it must start with `/` and
/// hold only visible ASCII (the caller percent-encodes).
fn normalize_resource(resource: &str) -> Result<String, Error> {
    let bad = |reason| Error::InvalidResource {
        resource: resource.to_owned(),
        reason,
    };
    if let Some(b) = resource.bytes().find(|b| !b.is_ascii_graphic()) {
        return Err(bad(if b.is_ascii() {
            "contains whitespace or a control character"
        } else {
            "contains non-ASCII characters (percent-encode them)"
        }));
    }
    if resource.contains('#') {
        return Err(bad("contains a fragment ('#')"));
    }
    if resource.is_empty() {
        Ok("/".to_owned())
    } else if resource.starts_with('?') {
        Ok(format!("/{resource}"))
    } else if resource.starts_with('/') {
        Ok(resource.to_owned())
    } else {
        Err(bad("must start with '/'"))
    }
}

/// The host as it appears in `Host` and URLs: IPv6 literals bracketed.
fn host_literal(host: &str) -> Result<String, Error> {
    let bad = |reason| invalid("Host", reason);
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if bare.is_empty() {
        return Err(bad("host is empty"));
    }
    if bare
        .bytes()
        .any(|b| !b.is_ascii_graphic() || b"/?#@[]\\".contains(&b))
    {
        return Err(bad("host contains a character a host name cannot hold"));
    }
    if bare.contains(':') {
        // An IPv6 address (hex digits, ':' and a dotted IPv4 tail), optionally with a
        // `%zone`; anything else with a ':' is likely `host:port` passed as the host.
        let (address, zone) = bare.split_once('%').unwrap_or((bare, "x"));
        let address_ok = address.matches(':').count() >= 2
            && address
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
        let zone_ok = !zone.is_empty()
            && zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !address_ok || !zone_ok {
            return Err(bad("host with ':' is not an IPv6 literal"));
        }
        Ok(format!("[{bare}]"))
    } else {
        Ok(bare.to_owned())
    }
}
