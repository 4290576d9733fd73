//! From a `ws://` or `wss://` URL to a connected, configured, proxied, TLS-wrapped stream.
//!
//! This is the only crate of the workspace that opens sockets. [`connect`] takes an
//! [`Endpoint`] and [`NetOptions`] and
//!
//! 1. picks a proxy ([`ProxyConfig`]: explicit, from `http_proxy`/`https_proxy`/
//!    `all_proxy` minus `no_proxy`, or none);
//! 2. resolves the host (of the server or the proxy) and connects with Happy Eyeballs
//!    (RFC 8305): **every** address is tried, the families interleaved
//!    ([`NetOptions::preferred_family`], IPv6 first by default), the next attempt started
//!    when the previous one fails or has been pending for [`NetOptions::attempt_delay`]
//!    (250 ms; zero tries one address at a time), the first connection kept and the
//!    others closed; each attempt has the connect timeout, and [`Error::Connect`] lists
//!    every address with its own failure. Sockets are configured by [`SocketOptions`]
//!    (`TCP_NODELAY`, keepalive 30 s / 10 s / 3, buffer sizes, hooks) before connect;
//! 3. opens an HTTP CONNECT, SOCKS4, SOCKS4a, SOCKS5 or SOCKS5h tunnel if a proxy applies,
//!    by driving the sans-IO [`ProxyHandshake`] over the socket;
//! 4. runs the TLS handshake for `wss://` with rustls and the `ring` provider, verifying
//!    the certificate and host name ([`TlsOptions`]);
//!
//! each operation bounded by its [`Timeouts`] and all of them by one overall deadline,
//! kept by a [`Budget`] that the caller goes on using for the WebSocket handshake, so a
//! silent or dripping peer ends in [`Error::Timeout`] naming the operation and the limit,
//! never in a hang. [`connect_on`] does the same over a socket the caller connected. The [`Stream`] it returns is `Read + Write` and
//! [`Stream::split`] gives a reader and a writer that work from two threads at once, also
//! over TLS.
//!
//! Errors name the host, port and cause; credentials (from URLs or proxy settings) never
//! appear in errors or logs, and proxies are logged as `scheme://host:port`.
//!
//! # Public items
//!
//! | for | items |
//! |---|---|
//! | connecting | [`connect`], [`connect_on`], [`Endpoint`], [`Stream`] ([`ReadHalf`], [`WriteHalf`]); `tokio::connect`, `tokio::connect_on`, `tokio::TokioStream` (feature `tokio`) |
//! | options | [`NetOptions`] ([`AddressFamily`], [`Resolver`]), [`SocketOptions`] ([`Keepalive`], [`SocketHook`]), [`TlsOptions`] ([`DangerousTlsOptions`], [`CA_BUNDLE_ENV`]) |
//! | time | [`Timeouts`], [`Budget`], [`Limit`] |
//! | proxies | [`ProxyConfig`], [`Proxy`] ([`ProxyKind`]), [`NoProxy`], [`ProxyHandshake`] ([`Progress`]) |
//! | errors | [`Error`] ([`Phase`]), [`UrlError`], [`ProxyError`], [`TlsError`], [`Result`] |
//!
//! # Proxy handshakes without I/O
//!
//! [`ProxyHandshake`] is the proxy protocol alone: it gives the request bytes, takes the
//! proxy's reply in any split, says with [`Progress`] how many bytes it consumed, and
//! never consumes a byte past the reply, so the tunnel's first bytes stay with the
//! caller. It reads no clock and opens no socket; [`connect`] drives it over a blocking
//! socket, and a driver for another transport or runtime drives the same machine.
//!
//! # Cargo features
//!
//! - `platform-roots` (off): trust the operating system's certificate store in addition
//!   to webpki-roots.
//! - `tokio` (off): `ws_net::tokio::connect`, the same connect for async code on tokio,
//!   returning a `ws_net::tokio::TokioStream` (`AsyncRead + AsyncWrite`, plain or TLS through
//!   tokio-rustls). It uses the same [`NetOptions`] (resolver, Happy Eyeballs, socket
//!   options, proxies, [`TlsOptions`]) and [`Budget`], the same
//!   [`ProxyHandshake`] and gives the same [`Error`]s. Without it the crate pulls in no
//!   async runtime: blocking users compile only `std` sockets and `mio` for the Happy
//!   Eyeballs poll loop.
//!
//! # Logging
//!
//! Through the `log` crate: `debug` for each connect attempt and its failure, the proxy
//! chosen (and why none was), the tunnel, the TLS server name, protocol and ALPN result;
//! `warn` when certificate verification is turned off. No level carries credentials.
//!
//! # Example
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::time::Duration;
//!
//! use ws_net::{Budget, Endpoint, NetOptions, Proxy, ProxyConfig, Timeouts, TlsOptions};
//!
//! let endpoint = Endpoint::parse("wss://example.com:8443/chat?room=1")?;
//! let options = NetOptions::new()
//!     .proxy(ProxyConfig::Explicit(
//!         Proxy::socks5h("127.0.0.1", 1080).with_auth("user", "password"),
//!     ))
//!     .tls(TlsOptions::default().alpn(["http/1.1"]));
//! let mut timeouts = Timeouts::default();
//! timeouts.connect = Some(Duration::from_secs(5));
//! timeouts.deadline = Some(Duration::from_secs(20));
//! let budget = Budget::start(timeouts);
//! let stream = ws_net::connect(&endpoint, &options, &budget)?;
//! assert!(stream.is_tls());
//!
//! // One thread reads while another writes.
//! let (mut reader, mut writer) = stream.split();
//! let echo = std::thread::spawn(move || {
//!     let mut buf = [0u8; 1024];
//!     reader.read(&mut buf).map(|n| buf[..n].to_vec())
//! });
//! writer.write_all(b"GET /chat?room=1 HTTP/1.1\r\n\r\n")?;
//! let first_bytes = echo.join().expect("reader thread")?;
//! # let _ = first_bytes;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod budget;
mod endpoint;
mod error;
mod options;
mod proxy;
mod socket;
mod stream;
mod tls;
#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use rustls;

pub use crate::budget::{Budget, Limit, Timeouts};
pub use crate::endpoint::Endpoint;
pub use crate::error::{Error, Phase, ProxyError, Result, TlsError, UrlError};
#[cfg(any(unix, windows))]
pub use crate::options::SocketHook;
pub use crate::options::{AddressFamily, Keepalive, NetOptions, Resolver, SocketOptions};
pub use crate::proxy::{NoProxy, Progress, Proxy, ProxyConfig, ProxyHandshake, ProxyKind};
pub use crate::stream::{ReadHalf, Stream, WriteHalf};
pub use crate::tls::{CA_BUNDLE_ENV, DangerousTlsOptions, TlsOptions};

/// Connects to `endpoint`: proxy, TCP, TLS for `wss://`, each phase bounded as
/// [`Timeouts`] says and all of it by the deadline of `budget` (keep using the same
/// budget for the WebSocket handshake). The stream gets the read and write timeouts.
///
/// # Errors
///
/// [`Error::Resolve`]/[`Error::NoAddresses`] when the name does not resolve,
/// [`Error::Connect`] listing every address tried, [`Error::Timeout`] naming the operation
/// that ran out of time, [`Error::Proxy`] when the proxy refuses or misbehaves,
/// [`Error::Tls`] when the server is not trusted or the handshake fails,
/// [`Error::SocketOption`] and [`Error::Io`] for the rest.
pub fn connect(endpoint: &Endpoint, options: &NetOptions, budget: &Budget) -> Result<Stream> {
    let (host, port) = (endpoint.host(), endpoint.port());
    let timeouts = budget.timeouts();
    let tcp = match options.proxy.select(endpoint)? {
        Some(proxy) => proxy::tunnel(&proxy, host, port, options, budget)?,
        None => socket::connect_host("server", host, port, timeouts.connect, options, budget)?,
    };
    finish(tcp, endpoint, options, budget)
}

/// Like [`connect`] over a TCP connection the caller opened (to the server, or a tunnel
/// through a proxy): the [`SocketOptions`] of `options` are applied to it, and for
/// `wss://` the TLS handshake runs within `budget`. No proxy is used.
///
/// # Errors
///
/// [`Error::SocketOption`] naming an option the OS refused, [`Error::Tls`],
/// [`Error::Timeout`] and [`Error::Io`] as for [`connect`].
pub fn connect_on(
    tcp: std::net::TcpStream,
    endpoint: &Endpoint,
    options: &NetOptions,
    budget: &Budget,
) -> Result<Stream> {
    options.socket.apply_to(&tcp)?;
    finish(tcp, endpoint, options, budget)
}

/// TLS for `wss://` within `budget`, then the stream's read and write timeouts.
fn finish(
    tcp: std::net::TcpStream,
    endpoint: &Endpoint,
    options: &NetOptions,
    budget: &Budget,
) -> Result<Stream> {
    let (host, port) = (endpoint.host(), endpoint.port());
    let timeouts = budget.timeouts();
    let stream = if endpoint.is_secure() {
        tls::handshake(
            tcp,
            host,
            port,
            &options.tls,
            budget,
            timeouts.tls_handshake(),
        )?
    } else {
        Stream::from_tcp(tcp)
    };
    let io = |source| Error::Io {
        op: "set stream timeouts",
        target: endpoint.authority(),
        source,
    };
    stream.set_read_timeout(timeouts.read).map_err(io)?;
    stream.set_write_timeout(timeouts.write).map_err(io)?;
    log::debug!("connected to {endpoint}");
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_thread_safe() {
        assert_send::<Stream>();
        assert_send::<ReadHalf>();
        assert_send::<WriteHalf>();
        assert_send_sync::<NetOptions>();
        assert_send_sync::<Error>();
        assert_send_sync::<Endpoint>();
    }
}
