//! [`ClientBuilder`]: every option of Python's `create_connection`, under Rust names.

use std::fmt;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ws_frame::Limits;
use ws_handshake::{HostHeader, Origin};
use ws_net::{NetOptions, ProxyConfig, SocketOptions, TlsOptions};

use crate::deflate::DeflateOptions;
use crate::error::Result;
use crate::mask::MaskKeyFn;
use crate::redirect::{RedirectCredentials, RedirectDowngrade};
use crate::websocket::WebSocket;

/// A function returning extra handshake headers, called on every connection attempt
/// (Python's callable `header=`), for tokens that expire.
pub type HeaderFn = Arc<dyn Fn() -> Vec<(String, String)> + Send + Sync>;

/// The default redirect limit, as in Python.
pub const DEFAULT_REDIRECT_LIMIT: u32 = 3;

/// The default size of the write buffer: frames are batched up to this many bytes.
pub const DEFAULT_WRITE_BUFFER_SIZE: usize = 128 * 1024;

/// The default timeout of the closing handshake, as in Python.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

/// Options for opening a connection; build one, then call [`ClientBuilder::connect`].
///
/// Every setter documents its default. The builder is cheap to clone and can connect any
/// number of times (a reconnecting application keeps one).
///
/// | Python `create_connection` | here |
/// |---|---|
/// | `timeout` | [`timeout`](Self::timeout) (or [`connect_timeout`](Self::connect_timeout), [`read_timeout`](Self::read_timeout), [`write_timeout`](Self::write_timeout), [`deadline`](Self::deadline)) |
/// | `header` (list / dict / callable) | [`header`](Self::header), [`headers`](Self::headers), [`header_fn`](Self::header_fn) |
/// | `cookie` | [`cookie`](Self::cookie) |
/// | `origin`, `suppress_origin` | [`origin`](Self::origin) with [`Origin`] |
/// | `host`, `suppress_host` | [`host`](Self::host) with [`HostHeader`] |
/// | `subprotocols` | [`subprotocols`](Self::subprotocols) |
/// | `redirect_limit` | [`redirect_limit`](Self::redirect_limit) (and [`redirect_credentials`](Self::redirect_credentials), [`redirect_downgrade`](Self::redirect_downgrade)) |
/// | `http_proxy_*`, `proxy_type`, `http_no_proxy` | [`proxy`](Self::proxy) with [`ProxyConfig`] |
/// | `sockopt` | [`socket_options`](Self::socket_options) |
/// | `sslopt` | [`tls`](Self::tls) with [`TlsOptions`] |
/// | `socket` | [`connect_on`](Self::connect_on) |
/// | `skip_utf8_validation` | [`validate_utf8`](Self::validate_utf8) |
/// | `get_mask_key` | [`mask_key_fn`](Self::mask_key_fn) |
/// | `enable_multithread` | always on: see [`WebSocket::sender`] and [`WebSocket::split`] |
/// | `fire_cont_frame` | [`WebSocket::recv_frame`] |
/// | (none) | [`limits`](Self::limits), [`auto_pong`](Self::auto_pong), [`write_buffer_size`](Self::write_buffer_size), `deflate` (feature `deflate`) |
///
/// ```no_run
/// use std::time::Duration;
/// use ws_client::ClientBuilder;
///
/// let mut ws = ClientBuilder::new()
///     .timeout(Some(Duration::from_secs(10)))
///     .header("Authorization", "Bearer abc")
///     .subprotocols(["chat"])
///     .connect("wss://example.com/socket")?;
/// ws.send_text("hello")?;
/// # Ok::<(), ws_client::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    pub(crate) net: NetOptions,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) header_fn: Option<HeaderFn>,
    pub(crate) cookie: Option<String>,
    pub(crate) origin: Origin,
    pub(crate) host: HostHeader,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) redirect_limit: u32,
    pub(crate) redirect_credentials: RedirectCredentials,
    pub(crate) redirect_downgrade: RedirectDowngrade,
    pub(crate) limits: Limits,
    pub(crate) validate_utf8: bool,
    pub(crate) mask_key: Option<MaskKeyFn>,
    pub(crate) auto_pong: bool,
    pub(crate) write_buffer_size: usize,
    pub(crate) deflate: Option<DeflateOptions>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            net: NetOptions::default(),
            headers: Vec::new(),
            header_fn: None,
            cookie: None,
            origin: Origin::Default,
            host: HostHeader::Default,
            subprotocols: Vec::new(),
            redirect_limit: DEFAULT_REDIRECT_LIMIT,
            redirect_credentials: RedirectCredentials::SameOrigin,
            redirect_downgrade: RedirectDowngrade::Refuse,
            limits: Limits::default(),
            validate_utf8: true,
            mask_key: None,
            auto_pong: true,
            write_buffer_size: DEFAULT_WRITE_BUFFER_SIZE,
            deflate: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values and the cookie may hold credentials: only names are shown.
        f.debug_struct("ClientBuilder")
            .field("net", &self.net)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("header_fn", &self.header_fn.is_some())
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field("subprotocols", &self.subprotocols)
            .field("redirect_limit", &self.redirect_limit)
            .field("redirect_credentials", &self.redirect_credentials)
            .field("redirect_downgrade", &self.redirect_downgrade)
            .field("limits", &self.limits)
            .field("validate_utf8", &self.validate_utf8)
            .field("mask_key", &self.mask_key.is_some())
            .field("auto_pong", &self.auto_pong)
            .field("write_buffer_size", &self.write_buffer_size)
            .field("deflate", &self.deflate)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// A builder with the defaults listed on each setter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the connect, read and write timeouts at once, like Python's `timeout`.
    /// `None` waits forever (the connect then still has the overall
    /// [`deadline`](Self::deadline)).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.net.connect_timeout = timeout;
        self.net.read_timeout = timeout;
        self.net.write_timeout = timeout;
        self
    }

    /// The timeout of each TCP connection attempt (per address). Default: 30 s.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.net.connect_timeout = timeout;
        self
    }

    /// The time allowed for everything before the first frame: TCP connect, proxy
    /// tunnel, TLS and the upgrade handshake, redirects included. Default: 60 s.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.net.deadline = deadline;
        self
    }

    /// The timeout of each read, also during the handshake; change it later with
    /// [`WebSocket::set_read_timeout`]. Default: `None` (block).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.net.read_timeout = timeout;
        self
    }

    /// The timeout of each write; change it later with [`WebSocket::set_write_timeout`].
    /// Default: `None` (block).
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.net.write_timeout = timeout;
        self
    }

    /// Adds a header to the upgrade request, after the standard ones, in call order.
    /// Duplicates are allowed. A name or value containing CR or LF makes `connect` fail
    /// with [`Error::InvalidOption`](crate::Error::InvalidOption). A header the logs
    /// redact (anything but a short allow-list, `Authorization` included) is not sent
    /// to another origin after a redirect, see
    /// [`redirect_credentials`](Self::redirect_credentials). Default: none.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds several headers, as [`header`](Self::header) does.
    pub fn headers<I, N, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        self.headers
            .extend(headers.into_iter().map(|(n, v)| (n.into(), v.into())));
        self
    }

    /// A function called on every connection attempt (also each redirect) whose headers
    /// are added after the fixed ones. Default: none.
    pub fn header_fn(
        mut self,
        f: impl Fn() -> Vec<(String, String)> + Send + Sync + 'static,
    ) -> Self {
        self.header_fn = Some(Arc::new(f));
        self
    }

    /// The `Cookie` header value; not sent to another origin after a redirect, see
    /// [`redirect_credentials`](Self::redirect_credentials). Default: none.
    pub fn cookie(mut self, cookie: impl Into<String>) -> Self {
        self.cookie = Some(cookie.into());
        self
    }

    /// The `Origin` header: derived from the URL, a custom value, or none.
    /// Default: [`Origin::Default`] (`http://host[:port]`, `https` for `wss`).
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// The `Host` header: derived from the URL, a custom value, or none.
    /// Default: [`HostHeader::Default`].
    pub fn host(mut self, host: HostHeader) -> Self {
        self.host = host;
        self
    }

    /// Subprotocols to offer, in order of preference; the server's choice is
    /// [`WebSocket::subprotocol`]. A server choosing one not offered fails the handshake.
    /// Default: none offered.
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// How many redirects (301, 302, 303, 307, 308) to follow; relative `Location`s are
    /// resolved against the request URL. `0` turns following off: a redirect then fails
    /// with [`Error::RedirectLimit`](crate::Error::RedirectLimit). Default: 3.
    pub fn redirect_limit(mut self, limit: u32) -> Self {
        self.redirect_limit = limit;
        self
    }

    /// Which credentials a followed redirect sends again: with
    /// [`RedirectCredentials::SameOrigin`], a redirect to another scheme, host or port
    /// gets no basic auth from the URL, no [`cookie`](Self::cookie) and none of the
    /// headers the logs redact (`Authorization`, custom headers such as `X-Api-Key`);
    /// they are sent again only to the origin of the URL given to `connect`.
    /// Default: [`RedirectCredentials::SameOrigin`].
    pub fn redirect_credentials(mut self, credentials: RedirectCredentials) -> Self {
        self.redirect_credentials = credentials;
        self
    }

    /// Whether a redirect may lead from `wss://` to plain `ws://`; refused ones fail with
    /// [`Error::InsecureRedirect`](crate::Error::InsecureRedirect) before anything is
    /// sent to the plain target. Default: [`RedirectDowngrade::Refuse`].
    pub fn redirect_downgrade(mut self, downgrade: RedirectDowngrade) -> Self {
        self.redirect_downgrade = downgrade;
        self
    }

    /// The proxy: from the environment (`http_proxy`, `https_proxy`, `all_proxy`,
    /// `no_proxy`), none, or explicit (HTTP CONNECT, SOCKS4/4a/5/5h).
    /// Default: [`ProxyConfig::FromEnv`].
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.net.proxy = proxy;
        self
    }

    /// Socket options (`TCP_NODELAY`, keepalive, buffer sizes).
    /// Default: [`SocketOptions::default`] (no delay, keepalive on).
    pub fn socket_options(mut self, options: SocketOptions) -> Self {
        self.net.socket = options;
        self
    }

    /// TLS options for `wss://` (roots, CA file, client certificate, SNI, ...).
    /// Default: [`TlsOptions::default`] (verify against the webpki roots).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.net.tls = tls;
        self
    }

    /// Frame and message size limits for received data; a peer exceeding them gets close
    /// code 1009 and the call returns [`Error::Protocol`](crate::Error::Protocol).
    /// Default: [`Limits::default`] (16 MiB per frame, 64 MiB per message).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether text messages and close reasons are checked to be UTF-8 as they arrive
    /// (Python's `skip_utf8_validation` inverted). When off, invalid text is still never
    /// handed out as a `String`: [`WebSocket::recv`] then fails with
    /// [`Error::Payload`](crate::Error::Payload) at the end of the message instead of at
    /// the first bad byte. Default: `true`.
    pub fn validate_utf8(mut self, validate: bool) -> Self {
        self.validate_utf8 = validate;
        self
    }

    /// A function giving the mask key of each frame, for tests that compare bytes on the
    /// wire (Python's `get_mask_key`). Default: keys from the operating system's CSPRNG.
    pub fn mask_key_fn(mut self, f: impl Fn() -> [u8; 4] + Send + Sync + 'static) -> Self {
        self.mask_key = Some(Arc::new(f));
        self
    }

    /// Whether a received ping is answered with a pong carrying the same payload while
    /// receiving. Default: `true`.
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// How many bytes of frames [`WebSocket::write`] may buffer before writing them; also
    /// the chunk size used to mask large payloads. At least 4 KiB is used.
    /// Default: 128 KiB.
    pub fn write_buffer_size(mut self, size: usize) -> Self {
        self.write_buffer_size = size;
        self
    }

    /// Offers permessage-deflate compression (RFC 7692) with these options, or not at all
    /// with `None`. When the server accepts, whole text and binary messages from the
    /// threshold up are sent compressed, and compressed messages are inflated as they
    /// arrive, with [`limits`](Self::limits) applied to the inflated size (a message that
    /// inflates past the message limit fails with close code 1009 before it is all in
    /// memory). A server that declines simply gets uncompressed messages. Raw frames are
    /// handled alike: [`WebSocket::recv_frame`] returns each frame's payload inflated (its
    /// `rsv` still shows RSV1) and [`WebSocket::send_frame`] compresses a whole text or
    /// binary frame. See `docs/compression.md`.
    ///
    /// Default: `None` (off), because compression is not free and not always safe:
    /// mixing secrets and attacker-chosen data in one compressed stream leaks the secrets
    /// through the compressed sizes (CRIME/BREACH), each connection keeps up to about
    /// 300 KiB of compressor state, and on fast links the CPU time costs more than the
    /// bytes saved. Turn it on for chatty text protocols over slow links.
    ///
    /// ```no_run
    /// use ws_client::{ClientBuilder, DeflateOptions};
    ///
    /// let ws = ClientBuilder::new()
    ///     .deflate(Some(DeflateOptions::new()))
    ///     .connect("wss://example.com/feed")?;
    /// println!("compressed: {}", ws.is_compressed());
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, options: Option<DeflateOptions>) -> Self {
        self.deflate = options;
        self
    }

    /// Connects to a `ws://` or `wss://` URL and completes the opening handshake.
    ///
    /// # Errors
    ///
    /// [`Error::Url`](crate::Error::Url) for a bad URL, [`Error::Address`](crate::Error::Address)
    /// when the host does not resolve, [`Error::Net`](crate::Error::Net) when no address
    /// accepts the connection, [`Error::Proxy`](crate::Error::Proxy),
    /// [`Error::Tls`](crate::Error::Tls), [`Error::Timeout`](crate::Error::Timeout),
    /// [`Error::BadStatus`](crate::Error::BadStatus) for a non-101 answer,
    /// [`Error::Handshake`](crate::Error::Handshake) for a broken upgrade response,
    /// [`Error::RedirectLimit`](crate::Error::RedirectLimit),
    /// [`Error::InsecureRedirect`](crate::Error::InsecureRedirect) for a redirect from
    /// `wss://` to `ws://`,
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a header with CR or LF,
    /// [`Error::Io`](crate::Error::Io).
    pub fn connect(&self, url: &str) -> Result<WebSocket> {
        crate::connect::connect(self, url, None)
    }

    /// Like [`connect`](Self::connect) but over a TCP connection the caller opened
    /// (Python's `socket=` option); for `wss://` it is wrapped in TLS first. Redirects
    /// open new connections.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub fn connect_on(&self, url: &str, tcp: TcpStream) -> Result<WebSocket> {
        crate::connect::connect(self, url, Some(tcp))
    }

    /// Like [`connect`](Self::connect), on tokio (feature `tokio`): every option applies
    /// the same way (the read timeout and the deadline bound each handshake read, the
    /// write timeout the request), over `ws_net::tokio`'s connect (proxies, Happy
    /// Eyeballs, tokio-rustls). After the handshake an async socket has no socket
    /// timeouts: wrap calls in `tokio::time::timeout`.
    ///
    /// ```no_run
    /// # async fn run() -> ws_client::Result<()> {
    /// let mut ws = ws_client::ClientBuilder::new()
    ///     .subprotocols(["chat"])
    ///     .connect_async("wss://example.com/socket")
    ///     .await?;
    /// ws.send_text("hello").await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn connect_async(&self, url: &str) -> Result<crate::AsyncWebSocket> {
        crate::asynch::connect(self, url).await
    }

    /// A stream of events over successive async connections to `url`, reconnecting as
    /// `policy` says (feature `tokio`); see [`Reconnecting`](crate::Reconnecting). The
    /// first connect starts when the stream is first polled.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for an invalid policy (a
    /// factor below 1, a jitter outside 0..=1).
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub fn reconnecting(&self, url: &str, policy: crate::Reconnect) -> Result<crate::Reconnecting> {
        crate::asynch::Reconnecting::new(self, url, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let b = ClientBuilder::new();
        assert_eq!(b.net.connect_timeout, Some(Duration::from_secs(30)));
        assert_eq!(b.net.deadline, Some(Duration::from_secs(60)));
        assert_eq!(b.net.read_timeout, None);
        assert_eq!(b.net.write_timeout, None);
        assert_eq!(b.redirect_limit, 3);
        assert_eq!(b.redirect_credentials, RedirectCredentials::SameOrigin);
        assert_eq!(b.redirect_downgrade, RedirectDowngrade::Refuse);
        assert!(b.validate_utf8);
        assert!(b.auto_pong);
        assert_eq!(b.write_buffer_size, 128 * 1024);
        assert!(b.headers.is_empty() && b.subprotocols.is_empty() && b.cookie.is_none());
        assert!(matches!(b.origin, Origin::Default));
        assert!(matches!(b.host, HostHeader::Default));
    }

    #[test]
    fn debug_does_not_show_header_values_or_cookie() {
        let b = ClientBuilder::new()
            .header("Authorization", "Bearer s3cret")
            .cookie("session=hunter2");
        let shown = format!("{b:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("Authorization"));
    }

    #[test]
    fn timeout_sets_all_three() {
        let d = Some(Duration::from_secs(2));
        let b = ClientBuilder::new().timeout(d);
        assert_eq!(
            (
                b.net.connect_timeout,
                b.net.read_timeout,
                b.net.write_timeout
            ),
            (d, d, d)
        );
    }
}
