//! [`ClientBuilder`]: every option of Python's `create_connection`, under Rust names.

use std::fmt;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ws_handshake::RequestOptions;
use ws_net::{NetOptions, Timeouts};

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
/// The builder holds the option types of the layers below, each set as a whole and
/// documented where it lives: [`net`](Self::net) takes ws-net's [`NetOptions`] (proxy,
/// socket options, TLS, resolver, Happy Eyeballs), [`request`](Self::request)
/// ws-handshake's [`RequestOptions`] (headers, cookie, `Origin`, `Host`, subprotocols,
/// response limits), and [`connection`](Self::connection) ws-frame's
/// [`Config`](ws_frame::Config) (frame and message limits, UTF-8 checking, automatic
/// pongs, the close echo). What only this facade does is set here: the timeouts and the
/// deadline, redirects, header functions, compression, the mask key source and the write
/// buffer. Every setter documents its default. The builder is cheap to clone and can
/// connect any number of times (a reconnecting application keeps one).
///
/// | Python `create_connection` | here |
/// |---|---|
/// | `timeout` | [`timeout`](Self::timeout) (or [`connect_timeout`](Self::connect_timeout), [`read_timeout`](Self::read_timeout), [`write_timeout`](Self::write_timeout), [`deadline`](Self::deadline)) |
/// | `header` (list / dict) | [`request`](Self::request) with [`RequestOptions::header`], [`RequestOptions::headers`] |
/// | `header` (callable) | [`header_fn`](Self::header_fn) |
/// | `cookie` | [`RequestOptions::cookie`] |
/// | `origin`, `suppress_origin` | [`RequestOptions::origin`] with [`Origin`](ws_handshake::Origin) |
/// | `host`, `suppress_host` | [`RequestOptions::host`] with [`HostHeader`](ws_handshake::HostHeader) |
/// | `subprotocols` | [`RequestOptions::subprotocols`] |
/// | `redirect_limit` | [`redirect_limit`](Self::redirect_limit) (and [`redirect_credentials`](Self::redirect_credentials), [`redirect_downgrade`](Self::redirect_downgrade)) |
/// | `http_proxy_*`, `proxy_type`, `http_no_proxy` | [`net`](Self::net) with [`NetOptions::proxy`] |
/// | `sockopt` | [`NetOptions::socket`] |
/// | `sslopt` | [`NetOptions::tls`] |
/// | `socket` | [`connect_on`](Self::connect_on) |
/// | `skip_utf8_validation` | [`connection`](Self::connection) with [`Config::utf8`](ws_frame::Config::utf8) |
/// | `get_mask_key` | [`mask_key_fn`](Self::mask_key_fn) |
/// | `enable_multithread` | always on: see [`WebSocket::sender`] and [`WebSocket::split`] |
/// | `fire_cont_frame` | [`WebSocket::recv_frame`] |
/// | (none) | [`Config::limits`](ws_frame::Config::limits), [`Config::ping_reply`](ws_frame::Config::ping_reply), [`write_buffer_size`](Self::write_buffer_size), `deflate` (feature `deflate`) |
///
/// ```no_run
/// use std::time::Duration;
/// use ws_client::{ClientBuilder, RequestOptions};
///
/// let mut ws = ClientBuilder::new()
///     .timeout(Some(Duration::from_secs(10)))
///     .request(
///         RequestOptions::new()
///             .header("Authorization", "Bearer abc")
///             .subprotocols(["chat"]),
///     )
///     .connect("wss://example.com/socket")?;
/// ws.send_text("hello")?;
/// # Ok::<(), ws_client::Error>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    pub(crate) net: NetOptions,
    pub(crate) timeouts: Timeouts,
    pub(crate) request: RequestOptions,
    pub(crate) header_fn: Option<HeaderFn>,
    pub(crate) redirect_limit: u32,
    pub(crate) redirect_credentials: RedirectCredentials,
    pub(crate) redirect_downgrade: RedirectDowngrade,
    pub(crate) connection: ws_frame::Config,
    pub(crate) mask_key: Option<MaskKeyFn>,
    pub(crate) write_buffer_size: usize,
    pub(crate) deflate: Option<DeflateOptions>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            net: NetOptions::default(),
            timeouts: Timeouts::default(),
            request: RequestOptions::default(),
            header_fn: None,
            redirect_limit: DEFAULT_REDIRECT_LIMIT,
            redirect_credentials: RedirectCredentials::SameOrigin,
            redirect_downgrade: RedirectDowngrade::Refuse,
            connection: ws_frame::Config::default(),
            mask_key: None,
            write_buffer_size: DEFAULT_WRITE_BUFFER_SIZE,
            deflate: None,
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The lower layers' options redact their own secrets (header values, cookie,
        // proxy credentials).
        f.debug_struct("ClientBuilder")
            .field("net", &self.net)
            .field("timeouts", &self.timeouts)
            .field("request", &self.request)
            .field("header_fn", &self.header_fn.is_some())
            .field("redirect_limit", &self.redirect_limit)
            .field("redirect_credentials", &self.redirect_credentials)
            .field("redirect_downgrade", &self.redirect_downgrade)
            .field("connection", &self.connection)
            .field("mask_key", &self.mask_key.is_some())
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
    /// [`deadline`](Self::deadline)). Which limit ends which phase:
    ///
    /// | phase | per operation | overall |
    /// |---|---|---|
    /// | resolve | - | [`deadline`](Self::deadline) |
    /// | TCP connect, each address | [`connect_timeout`](Self::connect_timeout) | [`deadline`](Self::deadline) |
    /// | each proxy read and write | the proxy's [`timeout`](ws_net::Proxy::timeout), else the shorter of [`read_timeout`](Self::read_timeout) and [`write_timeout`](Self::write_timeout) | [`deadline`](Self::deadline) |
    /// | each TLS handshake read and write | the shorter of [`read_timeout`](Self::read_timeout) and [`write_timeout`](Self::write_timeout) | [`deadline`](Self::deadline) |
    /// | each read of the upgrade response | [`read_timeout`](Self::read_timeout) | [`deadline`](Self::deadline) |
    /// | the upgrade request | [`write_timeout`](Self::write_timeout) | - |
    /// | each read and write afterwards | [`read_timeout`](Self::read_timeout) / [`write_timeout`](Self::write_timeout) | - |
    ///
    /// The deadline is checked again before every read, so a peer dripping one byte just
    /// inside the read timeout cannot stretch the connect past it; either limit ends in
    /// [`Error::Timeout`](crate::Error::Timeout).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.connect = timeout;
        self.timeouts.read = timeout;
        self.timeouts.write = timeout;
        self
    }

    /// The timeout of each TCP connection attempt (per address, also to a proxy without
    /// a timeout of its own). Default: 30 s.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The time allowed for everything before the first frame: resolving, TCP connect,
    /// proxy tunnel, TLS and the upgrade handshake, redirects included; it ends whichever
    /// phase is running when it passes (see [`timeout`](Self::timeout)). `None` is no
    /// deadline. Default: 60 s.
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.timeouts.deadline = deadline;
        self
    }

    /// The timeout of each read: during the TLS handshake and the upgrade response (each
    /// read also bounded by the [`deadline`](Self::deadline)), then on the connection;
    /// change it later with [`WebSocket::set_read_timeout`]. Default: `None` (block).
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.read = timeout;
        self
    }

    /// The timeout of each write, during the connect and then on the connection; change
    /// it later with [`WebSocket::set_write_timeout`]. Default: `None` (block).
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeouts.write = timeout;
        self
    }

    /// The network options: proxy, socket options, TLS, resolver, Happy Eyeballs; see
    /// [`NetOptions`]. Default: [`NetOptions::default`] (proxies from the environment,
    /// `TCP_NODELAY` and keepalive on, TLS verified against the webpki roots).
    pub fn net(mut self, net: NetOptions) -> Self {
        self.net = net;
        self
    }

    /// The upgrade request's options: headers, cookie, `Origin`, `Host`, subprotocols and
    /// the limits for reading the response; see [`RequestOptions`]. (Extensions are
    /// offered only through `deflate` (feature `deflate`): the engine implements no other.) Header values and the
    /// cookie the logs redact (anything but a short allow-list, `Authorization`
    /// included) are not sent to another origin after a redirect, see
    /// [`redirect_credentials`](Self::redirect_credentials). Default:
    /// [`RequestOptions::default`].
    pub fn request(mut self, request: RequestOptions) -> Self {
        self.request = request;
        self
    }

    /// The connection's options: frame and message limits for received data (a peer
    /// exceeding them gets close code 1009 and the call returns
    /// [`Error::Protocol`](crate::Error::Protocol)), when text is checked to be UTF-8,
    /// whether pings are answered automatically, what our close answer carries; see
    /// [`Config`](ws_frame::Config). Its send chunk and read buffer are set by this
    /// client ([`write_buffer_size`](Self::write_buffer_size)). Keepalive and the close
    /// timeout belong to the driver that runs the timers, each under one name:
    /// [`RunOptions::ping_interval`](crate::RunOptions::ping_interval) and
    /// [`RunOptions::close_timeout`](crate::RunOptions::close_timeout) for an
    /// [`App`](crate::App), `AsyncReader::set_keepalive` for the async client, and the
    /// timeout argument of [`WebSocket::close`] (a blocking [`WebSocket`] sends no pings
    /// of its own). Default:
    /// [`Config::default`](ws_frame::Config::default) (16 MiB per frame, 64 MiB per
    /// message, UTF-8 checked as it arrives, pings answered).
    pub fn connection(mut self, config: ws_frame::Config) -> Self {
        self.connection = config;
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

    /// How many redirects (301, 302, 303, 307, 308) to follow; relative `Location`s are
    /// resolved against the request URL. `0` turns following off: a redirect then fails
    /// with [`Error::RedirectLimit`](crate::Error::RedirectLimit). Default: 3.
    pub fn redirect_limit(mut self, limit: u32) -> Self {
        self.redirect_limit = limit;
        self
    }

    /// Which credentials a followed redirect sends again: with
    /// [`RedirectCredentials::SameOrigin`], a redirect to another scheme, host or port
    /// gets no basic auth from the URL, no [`cookie`](ws_handshake::RequestOptions::cookie) and none of the
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

    /// A function giving the mask key of each frame, for tests that compare bytes on the
    /// wire (Python's `get_mask_key`). Default: keys from the operating system's CSPRNG.
    pub fn mask_key_fn(mut self, f: impl Fn() -> [u8; 4] + Send + Sync + 'static) -> Self {
        self.mask_key = Some(Arc::new(f));
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
    /// arrive, with the [`connection`](Self::connection)'s limits applied to the inflated size (a message that
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
    /// [`Error::Url`](crate::Error::Url) for a bad URL, [`Error::Net`](crate::Error::Net)
    /// when the host does not resolve or no address accepts the connection, [`Error::Proxy`](crate::Error::Proxy),
    /// [`Error::Tls`](crate::Error::Tls), [`Error::Timeout`](crate::Error::Timeout),
    /// [`Error::BadStatus`](crate::Error::BadStatus) for a non-101 answer,
    /// [`Error::Handshake`](crate::Error::Handshake) for a broken upgrade response,
    /// [`Error::RedirectLimit`](crate::Error::RedirectLimit),
    /// [`Error::InsecureRedirect`](crate::Error::InsecureRedirect) for a redirect from
    /// `wss://` to `ws://`,
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for a header with CR or LF,
    /// [`Error::Random`](crate::Error::Random) when the system random source fails,
    /// [`Error::Io`](crate::Error::Io) naming the peer.
    pub fn connect(&self, url: &str) -> Result<WebSocket> {
        crate::connect::connect(self, url, None)
    }

    /// Like [`connect`](Self::connect) but over a TCP connection the caller opened
    /// (Python's `socket=` option): the socket options of [`net`](Self::net) are applied
    /// to it, for `wss://` it is wrapped in TLS within the [`deadline`](Self::deadline),
    /// and no proxy is used. Redirects open new connections.
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
    ///     .request(ws_client::RequestOptions::new().subprotocols(["chat"]))
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
        crate::asynch::connect(self, url, None).await
    }

    /// Like [`connect_async`](Self::connect_async) but over a tokio TCP connection the
    /// caller opened, as [`connect_on`](Self::connect_on) does for the blocking client:
    /// the socket options of [`net`](Self::net) are applied to it, for `wss://` it is
    /// wrapped in TLS within the [`deadline`](Self::deadline), and no proxy is used.
    /// Redirects open new connections.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn connect_async_on(
        &self,
        url: &str,
        tcp: tokio::net::TcpStream,
    ) -> Result<crate::AsyncWebSocket> {
        crate::asynch::connect(self, url, Some(tcp)).await
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
        assert_eq!(b.timeouts.connect, Some(Duration::from_secs(30)));
        assert_eq!(b.timeouts.deadline, Some(Duration::from_secs(60)));
        assert_eq!(b.timeouts.read, None);
        assert_eq!(b.timeouts.write, None);
        assert_eq!(b.redirect_limit, 3);
        assert_eq!(b.redirect_credentials, RedirectCredentials::SameOrigin);
        assert_eq!(b.redirect_downgrade, RedirectDowngrade::Refuse);
        assert_eq!(b.connection, ws_frame::Config::default());
        assert_eq!(b.request, RequestOptions::default());
        assert_eq!(b.write_buffer_size, 128 * 1024);
        assert!(b.header_fn.is_none() && b.mask_key.is_none() && b.deflate.is_none());
    }

    #[test]
    fn debug_does_not_show_header_values_or_cookie() {
        let b = ClientBuilder::new().request(
            RequestOptions::new()
                .header("Authorization", "Bearer s3cret")
                .cookie("session=hunter2"),
        );
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
        let t = b.timeouts;
        assert_eq!((t.connect, t.read, t.write), (d, d, d));
        assert_eq!(t.deadline, Some(Duration::from_secs(60)));
    }
}
