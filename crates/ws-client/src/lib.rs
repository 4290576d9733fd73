//! A blocking WebSocket client: everything Python's `websocket-client` does, in Rust; and
//! with the `tokio` feature the same client async.
//!
//! ```no_run
//! use ws_client::{CloseCode, Message};
//!
//! let mut ws = ws_client::connect("ws://127.0.0.1:9001/echo")?;
//! ws.send_text("hello")?;
//! match ws.recv()? {
//!     Message::Text(text) => println!("got {text}"),
//!     other => println!("got {other:?}"),
//! }
//! ws.close(CloseCode::NORMAL, "bye", Some(ws_client::DEFAULT_CLOSE_TIMEOUT))?;
//! # Ok::<(), ws_client::Error>(())
//! ```
//!
//! - [`connect`] and [`ClientBuilder`] open a connection with every option of Python's
//!   `create_connection` (table on [`ClientBuilder`]): timeouts, headers, cookie, origin,
//!   host, subprotocols, redirects, proxies, socket and TLS options, a pre-connected
//!   socket, size limits, UTF-8 validation, mask keys, automatic pongs, write buffering.
//! - [`WebSocket`] sends and receives messages or raw frames, pings, and runs the closing
//!   handshake of RFC 6455 section 7. [`WebSocket::sender`] and [`WebSocket::split`] send
//!   from other threads while one receives, for `ws://` and `wss://`.
//! - [`App`] is the callback client (Python's `WebSocketApp`): [`App::run_forever`] with
//!   keepalive pings, a ping timeout, reconnection with backoff ([`Reconnect`]) and a
//!   thread-safe [`AppHandle`]; `docs/FROM-PYTHON-APP.md` maps every Python parameter.
//! - permessage-deflate compression (RFC 7692) on request, with
//!   `ClientBuilder::deflate` and `DeflateOptions`; off by default (see there why).
//! - With the `tokio` feature, `ClientBuilder::connect_async` and `connect_async` give an
//!   `AsyncWebSocket` (a `futures` `Stream` and `Sink` of messages, with `async fn`s too):
//!   the same options, handshake and protocol engine, cancel-safe receives, bounded
//!   writes, `split()` for tasks, keepalive, and `ClientBuilder::reconnecting` for the
//!   reconnect policy as a stream of events.
//! - The peer is held to RFC 6455: a broken rule makes the client send the right close
//!   code (1002, 1007 or 1009) before returning [`Error::Protocol`] or
//!   [`Error::Payload`].
//!
//! # Public items
//!
//! | for | items |
//! |---|---|
//! | connecting | [`connect`], [`ClientBuilder`] ([`HeaderFn`], [`MaskKeyFn`], [`RedirectCredentials`], [`RedirectDowngrade`], [`DEFAULT_REDIRECT_LIMIT`], [`DEFAULT_WRITE_BUFFER_SIZE`]); the lower layers' options it holds: [`NetOptions`], [`SocketOptions`], [`Keepalive`], [`TlsOptions`], [`ProxyConfig`], [`Proxy`], [`ProxyKind`], [`NoProxy`], [`RequestOptions`], [`Origin`], [`HostHeader`], [`ResponseLimits`], [`Limits`]; `DeflateOptions`, `DeflateOffer` (feature `deflate`) |
//! | blocking connection | [`WebSocket`], [`Reader`], [`Sender`], [`Messages`], [`Controls`], [`Message`], [`MessageRef`], [`Frame`], [`Fin`], [`OpCode`], [`CloseCode`], [`CloseInfo`], [`DEFAULT_CLOSE_TIMEOUT`] |
//! | callbacks | [`App`], [`AppHandle`], [`Handler`], [`Callbacks`], [`RunOptions`], [`Reconnect`], [`Ended`], [`ClosedBy`] |
//! | async (feature `tokio`) | `connect_async`, `AsyncWebSocket`, `AsyncReader`, `AsyncSender`, `Reconnecting`, `ReconnectEvent` |
//! | errors | [`Error`] ([`Op`], [`OptionError`]), [`UrlError`], [`ProxyError`], [`TlsError`], [`Result`] |
//! | logging | [`enable_trace`], [`SafeHeaders`] |
//! | lower layers | [`ws_frame`], [`ws_handshake`], [`ws_net`] |
//!
//! # Blocking or async
//!
//! Pick the blocking client (no runtime at all) for scripts, tools and a few connections
//! each on its own thread; pick the async one when the program already runs on tokio,
//! holds many connections in one process, or waits on other futures beside the socket
//! (`select!` around `recv` loses nothing). Both speak the same protocol code and pass
//! the same Autobahn cases.
//!
//! # Cargo features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `tls` | on | `wss://` with rustls (`ring`) and the webpki roots; without it a `wss://` URL fails with [`TlsError::FeatureDisabled`] |
//! | `deflate` | on | permessage-deflate (`ClientBuilder::deflate`, `DeflateOptions`, zlib-rs) |
//! | `http` | off | connect with an `http::Request<()>` or `http::Uri` (`ClientBuilder::connect_request`, `connect_uri`), every header kept in order |
//! | `tokio` | off | the async client on tokio (`connect_async`, `AsyncWebSocket`, `AsyncReader`, `AsyncSender`, `Reconnecting`); implies `tls` |
//!
//! `default-features = false` gives a plain `ws://` client; `docs/FEATURES.md` lists the
//! combinations CI checks and the size of the smallest build.
//!
//! # Errors
//!
//! One [`Error`] type; its variants mirror Python's exception classes:
//!
//! | websocket-client | [`Error`] variant |
//! |---|---|
//! | `WebSocketProtocolException` | [`Error::Protocol`] |
//! | `WebSocketPayloadException` | [`Error::Payload`] |
//! | `WebSocketConnectionClosedException` | [`Error::ConnectionClosed`] |
//! | `WebSocketTimeoutException` | [`Error::Timeout`] |
//! | `WebSocketProxyException` | [`Error::Proxy`] |
//! | `WebSocketAddressException` | [`Error::Net`] with [`ws_net::Error::Resolve`] or [`ws_net::Error::NoAddresses`], [`Error::Url`] |
//! | `WebSocketBadStatusException` | [`Error::BadStatus`] |
//! | ssl errors | [`Error::Tls`] |
//! | `OSError` and friends | [`Error::Io`], [`Error::Net`] |
//!
//! plus [`Error::Handshake`], [`Error::RedirectLimit`], [`Error::InsecureRedirect`],
//! [`Error::InvalidFrame`], [`Error::InvalidOption`] (with an [`OptionError`]),
//! [`Error::Random`] and [`Error::Internal`] (a bug in this crate), which Python reports
//! with other exceptions or not at all.
//!
//! # Logging
//!
//! Through the `log` crate; see [`enable_trace`] for what each level shows. Credentials
//! never reach the log.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod app;
#[cfg(feature = "tokio")]
mod asynch;
mod config;
mod connect;
#[cfg(feature = "deflate")]
mod deflate;
#[cfg(not(feature = "deflate"))]
#[path = "deflate_disabled.rs"]
mod deflate;
mod error;
mod frame;
#[cfg(feature = "http")]
mod http_request;
mod logging;
mod mask;
mod reader;
mod redirect;
mod sender;
mod websocket;

/// The `http` crate, whose `Request` and `Uri` [`ClientBuilder::connect_request`] and
/// [`ClientBuilder::connect_uri`] take.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub use ::http;
pub use ws_frame::{CloseCode, Fin, Limits, Message, MessageRef, OpCode};
pub use ws_handshake::{HostHeader, Origin, RequestOptions, ResponseLimits};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use ws_net::rustls;
pub use ws_net::{
    Keepalive, NetOptions, NoProxy, Proxy, ProxyConfig, ProxyError, ProxyKind, SocketOptions,
    TlsError, TlsOptions, UrlError,
};
/// The lower layers, for their error types and advanced options.
pub use {ws_frame, ws_handshake, ws_net};

pub use crate::app::{App, AppHandle, Callbacks, ClosedBy, Ended, Handler, Reconnect, RunOptions};
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use crate::asynch::{AsyncReader, AsyncSender, AsyncWebSocket, ReconnectEvent, Reconnecting};
pub use crate::config::{
    ClientBuilder, DEFAULT_CLOSE_TIMEOUT, DEFAULT_REDIRECT_LIMIT, DEFAULT_WRITE_BUFFER_SIZE,
    HeaderFn,
};
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub use crate::deflate::DeflateOptions;
pub use crate::error::{Error, Op, OptionError, Result};
pub use crate::frame::Frame;
pub use crate::logging::{SafeHeaders, enable_trace};
pub use crate::mask::MaskKeyFn;
pub use crate::reader::{CloseInfo, Controls, Messages, Reader};
pub use crate::redirect::{RedirectCredentials, RedirectDowngrade};
pub use crate::sender::Sender;
pub use crate::websocket::WebSocket;
#[cfg(feature = "deflate")]
#[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
pub use ws_handshake::DeflateOffer;

/// Connects to a `ws://` or `wss://` URL with default options (Python's
/// `create_connection(url)`).
///
/// # Errors
///
/// As [`ClientBuilder::connect`].
pub fn connect(url: &str) -> Result<WebSocket> {
    ClientBuilder::new().connect(url)
}

/// Connects to a `ws://` or `wss://` URL with default options, on tokio (feature
/// `tokio`).
///
/// # Errors
///
/// As [`ClientBuilder::connect`].
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub async fn connect_async(url: &str) -> Result<AsyncWebSocket> {
    ClientBuilder::new().connect_async(url).await
}

/// The README's Rust snippets, compiled (and those not marked `no_run` run) as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// `docs/FROM-TUNGSTENITE.md`'s Rust snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/FROM-TUNGSTENITE.md")]
struct FromTungsteniteDoctests;

/// `docs/FROM-PYTHON-APP.md`'s Rust snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/FROM-PYTHON-APP.md")]
struct FromPythonAppDoctests;

/// `docs/compression.md`'s Rust snippets, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/compression.md")]
struct CompressionDoctests;

/// Keeps the thread-safety promises of the public types.
#[cfg(test)]
mod tests {
    #[test]
    fn public_types_are_thread_safe() {
        fn assert_send<T: Send>() {}
        fn assert_send_sync<T: Send + Sync>() {}
        fn assert_clone<T: Clone>() {}
        assert_send::<crate::WebSocket>();
        assert_send::<crate::Reader>();
        assert_send_sync::<crate::Sender>();
        assert_clone::<crate::Sender>();
        assert_send_sync::<crate::ClientBuilder>();
        assert_send_sync::<crate::Error>();
    }
}
