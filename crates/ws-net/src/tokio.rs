//! The async connect on tokio (feature `tokio`): the same steps, options and errors as
//! the blocking [`connect`](crate::connect), over tokio sockets and tokio-rustls.
//!
//! Only the transport and the timers are tokio's here. DNS goes through the same resolver
//! (on tokio's blocking pool), the addresses through the same Happy Eyeballs ordering,
//! sockets through the same [`SocketOptions`](crate::SocketOptions) before connect, the
//! proxy through the same sans-IO [`ProxyHandshake`], TLS through the same
//! [`TlsOptions::build_config`](crate::TlsOptions::build_config). Another runtime would
//! add a module like this one and touch no protocol code.
//!
//! The shorter of [`Timeouts::read`](crate::Timeouts::read) and
//! [`Timeouts::write`](crate::Timeouts::write) bounds the whole TLS handshake
//! here (each of its reads and writes on the blocking path), and the proxy timeout each
//! proxy write and read, as on the blocking path. After connect, an async stream has no
//! socket timeouts: wrap reads and writes in [`tokio::time::timeout`] instead.
//!
//! ```no_run
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use ws_net::{Budget, Endpoint, NetOptions, Timeouts};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let endpoint = Endpoint::parse("wss://example.com/chat")?;
//! let budget = Budget::start(Timeouts::default());
//! let mut stream = ws_net::tokio::connect(&endpoint, &NetOptions::new(), &budget).await?;
//! stream.write_all(b"GET /chat HTTP/1.1\r\n\r\n").await?;
//! let mut buf = [0u8; 1024];
//! let n = stream.read(&mut buf).await?;
//! # let _ = n;
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use ::tokio::net::TcpStream;
use ::tokio::task::JoinSet;
use ::tokio::time::{Instant, sleep, sleep_until, timeout};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::budget::{Budget, Limit, timed_out as limit_ran_out};
use crate::endpoint::{Endpoint, authority};
use crate::error::{Error, Phase, ProxyError, Result, TlsError};
use crate::options::NetOptions;
use crate::proxy::{
    Proxy, ProxyHandshake, handshake_result, target_from_addrs, target_without_lookup,
};
use crate::socket::{ConnectFailure, Started, interleave, resolve_with, start, timed_out};
use crate::tls::TlsOptions;

/// Connects to `endpoint` like [`crate::connect`], asynchronously: proxy, TCP with Happy
/// Eyeballs, TLS for `wss://`, all within the deadline of `budget`.
///
/// # Errors
///
/// The same as [`crate::connect`]: [`Error::Resolve`]/[`Error::NoAddresses`],
/// [`Error::Connect`] listing every address tried, [`Error::Timeout`] naming the
/// operation, [`Error::Proxy`], [`Error::Tls`], [`Error::SocketOption`] and
/// [`Error::Io`].
pub async fn connect(
    endpoint: &Endpoint,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TokioStream> {
    let timeouts = budget.timeouts();
    let (host, port) = (endpoint.host(), endpoint.port());
    let tcp = match options.proxy.select(endpoint)? {
        Some(proxy) => tunnel(&proxy, host, port, options, budget).await?,
        None => connect_host("server", host, port, timeouts.connect, options, budget).await?,
    };
    finish(tcp, endpoint, options, budget).await
}

/// Like [`connect`] over a TCP connection the caller opened, as
/// [`crate::connect_on`] does: the [`SocketOptions`](crate::SocketOptions) are applied to
/// it, and for `wss://` the TLS handshake runs within `budget`. No proxy is used.
///
/// # Errors
///
/// [`Error::SocketOption`] naming an option the OS refused, [`Error::Tls`],
/// [`Error::Timeout`] and [`Error::Io`] as for [`connect`].
pub async fn connect_on(
    tcp: TcpStream,
    endpoint: &Endpoint,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TokioStream> {
    crate::socket::apply(&socket2::SockRef::from(&tcp), &options.socket)?;
    finish(tcp, endpoint, options, budget).await
}

/// TLS for `wss://` within `budget`.
async fn finish(
    tcp: TcpStream,
    endpoint: &Endpoint,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TokioStream> {
    let (host, port) = (endpoint.host(), endpoint.port());
    let stream = if endpoint.is_secure() {
        let per_op = budget.timeouts().tls_handshake();
        let tls = tls_handshake(tcp, host, port, &options.tls, budget, per_op).await?;
        let name = options.tls.effective_server_name(host).to_owned();
        TokioStream {
            inner: Inner::Tls(Box::new(tls), name),
        }
    } else {
        TokioStream {
            inner: Inner::Plain(tcp),
        }
    };
    log::debug!("connected to {endpoint}");
    Ok(stream)
}

/// A connected async byte stream, plain TCP or TLS over TCP: `AsyncRead + AsyncWrite`.
///
/// Shutting it down (`AsyncWriteExt::shutdown`) sends a TLS `close_notify` first when TLS
/// is used.
#[derive(Debug)]
pub struct TokioStream {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Plain(TcpStream),
    /// The stream and the verified server name, for error messages.
    Tls(Box<TlsStream<TcpStream>>, String),
}

impl TokioStream {
    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        matches!(self.inner, Inner::Tls(..))
    }

    /// The TCP connection underneath (to the proxy, when tunnelled).
    pub fn tcp(&self) -> &TcpStream {
        match &self.inner {
            Inner::Plain(tcp) => tcp,
            Inner::Tls(tls, _) => tls.get_ref().0,
        }
    }

    /// The address of the peer (the proxy's, when tunnelled).
    ///
    /// # Errors
    ///
    /// When the socket is no longer connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// When the OS cannot report it.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp().local_addr()
    }

    /// The ALPN protocol the server chose, if any.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        match &self.inner {
            Inner::Plain(_) => None,
            Inner::Tls(tls, _) => tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec),
        }
    }
}

impl AsyncRead for TokioStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Inner::Tls(tls, name) => Pin::new(tls.as_mut())
                .poll_read(cx, buf)
                .map_err(|e| tls_io_error(name, e)),
        }
    }
}

impl AsyncWrite for TokioStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.get_mut().inner {
            Inner::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Inner::Tls(tls, name) => Pin::new(tls.as_mut())
                .poll_write(cx, buf)
                .map_err(|e| tls_io_error(name, e)),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Inner::Tls(tls, _) => Pin::new(tls.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().inner {
            Inner::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Inner::Tls(tls, _) => Pin::new(tls.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Wraps a rustls error from tokio-rustls as the blocking [`Stream`](crate::Stream) does:
/// an `io::Error` holding the specific [`TlsError`].
fn tls_io_error(name: &str, err: io::Error) -> io::Error {
    match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
    {
        Some(tls) => TlsError::from_rustls(name, tls).into(),
        None => err,
    }
}

/// Resolves on tokio's blocking pool (the resolver may block), within the deadline.
async fn resolve(
    host: &str,
    port: u16,
    options: &NetOptions,
    budget: &Budget,
) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (name, resolver) = (host.to_owned(), options.resolver.clone());
    let lookup =
        ::tokio::task::spawn_blocking(move || resolve_with(&name, port, resolver.as_ref()));
    let joined = within(budget, None, lookup)
        .await
        .ok_or_else(|| budget.spent(Phase::Resolve, authority(host, port)))?;
    joined.map_err(|e| Error::Resolve {
        host: host.to_owned(),
        port,
        source: io::Error::other(e),
    })?
}

/// Runs `future` within `per_op` and what is left of the deadline; `None` when either
/// ran out first.
async fn within<F: Future>(
    budget: &Budget,
    per_op: Option<Duration>,
    future: F,
) -> Option<F::Output> {
    match budget.limit(per_op) {
        None => Some(future.await),
        Some(limit) => timeout(limit.wait(), future).await.ok(),
    }
}

/// Happy Eyeballs over tokio sockets, as [`crate::socket::connect_host`] does blocking.
async fn connect_host(
    peer: &'static str,
    host: &str,
    port: u16,
    per_attempt: Option<Duration>,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TcpStream> {
    let addrs = interleave(
        resolve(host, port, options, budget).await?,
        options.preferred_family,
    );
    let deadline_at = budget.ends().map(Instant::from_std);
    let delay = options.attempt_delay;
    // Dropping the set aborts the attempts still pending, which closes their sockets.
    let mut attempts = JoinSet::new();
    let mut failed: Vec<(usize, SocketAddr, io::Error)> = Vec::new();
    let mut next = addrs.into_iter().enumerate();
    let mut start_next = true;
    loop {
        if budget.is_spent() {
            return Err(budget.spent(Phase::TcpConnect, authority(host, port)));
        }
        if start_next {
            start_next = false;
            if let Some((index, addr)) = next.next() {
                log::debug!("connecting to {peer} {host}:{port} at {addr}");
                let limit = budget.limit(per_attempt).map(Limit::wait);
                match start(addr, &options.socket) {
                    Ok(Started::Connected(tcp)) => return into_tokio(tcp, host, port),
                    Ok(Started::Pending(tcp)) => {
                        attempts.spawn(attempt(index, addr, tcp, limit));
                    }
                    Err(ConnectFailure::Option(err)) => return Err(err),
                    Err(ConnectFailure::Connect(err)) => {
                        log::debug!("connect to {addr} failed: {err}");
                        failed.push((index, addr, err));
                        start_next = true;
                        continue;
                    }
                }
            }
        }
        if attempts.is_empty() {
            if next.len() > 0 {
                start_next = true;
                continue;
            }
            failed.sort_by_key(|(index, ..)| *index);
            return Err(Error::Connect {
                peer,
                host: host.to_owned(),
                port,
                attempts: failed.into_iter().map(|(_, a, e)| (a, e)).collect(),
            });
        }
        let more = next.len() > 0 && !delay.is_zero();
        ::tokio::select! {
            joined = attempts.join_next() => match joined {
                Some(Ok((_, addr, Ok(tcp)))) => {
                    log::debug!("connected to {peer} {host}:{port} at {addr}");
                    return Ok(tcp);
                }
                Some(Ok((index, addr, Err(err)))) => {
                    log::debug!("connect to {addr} failed: {err}");
                    failed.push((index, addr, err));
                    start_next = true;
                }
                Some(Err(join)) => return Err(Error::Io {
                    op: "tcp connect",
                    target: authority(host, port),
                    source: io::Error::other(join),
                }),
                None => {}
            },
            () = sleep(delay), if more => start_next = true,
            () = sleep_until(deadline_at.unwrap_or_else(Instant::now)), if deadline_at.is_some() => {
                return Err(budget.spent(Phase::TcpConnect, authority(host, port)));
            }
        }
    }
}

/// One connect attempt: waits until the socket is writable, then reads its outcome.
async fn attempt(
    index: usize,
    addr: SocketAddr,
    tcp: std::net::TcpStream,
    limit: Option<Duration>,
) -> (usize, SocketAddr, io::Result<TcpStream>) {
    let connect = async move {
        let tcp = TcpStream::from_std(tcp)?;
        loop {
            tcp.writable().await?;
            if let Some(err) = tcp.take_error()? {
                return Err(err);
            }
            match tcp.peer_addr() {
                Ok(_) => return Ok(tcp),
                // Spurious readiness: clear it and wait again.
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    let _ = tcp.try_io(::tokio::io::Interest::WRITABLE, || {
                        Err::<(), _>(io::ErrorKind::WouldBlock.into())
                    });
                }
                Err(e) => return Err(e),
            }
        }
    };
    let result = match limit {
        None => connect.await,
        Some(limit) => timeout(limit, connect)
            .await
            .unwrap_or_else(|_| Err(timed_out(limit))),
    };
    (index, addr, result)
}

fn into_tokio(tcp: std::net::TcpStream, host: &str, port: u16) -> Result<TcpStream> {
    tcp.set_nonblocking(true)
        .and_then(|()| TcpStream::from_std(tcp))
        .map_err(|source| Error::Io {
            op: "register socket with tokio",
            target: authority(host, port),
            source,
        })
}

/// Connects to `proxy` and drives the same [`ProxyHandshake`] as the blocking path.
async fn tunnel(
    proxy: &Proxy,
    host: &str,
    port: u16,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TcpStream> {
    log::debug!("tunnelling to {} through {proxy}", authority(host, port));
    proxy.check_port()?;
    let target = if let Some(target) = target_without_lookup(proxy.kind(), host)? {
        target
    } else {
        let addrs = resolve(host, port, options, budget).await?;
        target_from_addrs(proxy.kind(), host, port, &addrs)?
    };
    let mut handshake = ProxyHandshake::for_target(proxy, &target, port)?;
    let mut tcp = connect_host(
        "proxy",
        proxy.host(),
        proxy.port(),
        proxy.connect_timeout(budget),
        options,
        budget,
    )
    .await?;
    let result = drive(&mut tcp, &mut handshake, proxy, budget).await;
    handshake_result(result, proxy, budget)?;
    log::debug!("proxy {proxy} tunnel to {} is open", authority(host, port));
    Ok(tcp)
}

/// The async twin of the blocking driver: each write and peek bounded by the proxy
/// timeout and what is left of the deadline, re-armed every time.
async fn drive(
    tcp: &mut TcpStream,
    handshake: &mut ProxyHandshake,
    proxy: &Proxy,
    budget: &Budget,
) -> Result<(), ProxyError> {
    let per_op = proxy.handshake_timeout(budget);
    let io_err = |op: &'static str| {
        move |source| ProxyError::Io {
            op,
            proxy: authority(proxy.host(), proxy.port()),
            source,
        }
    };
    let timed =
        |r: Option<io::Result<usize>>| r.unwrap_or_else(|| Err(io::ErrorKind::TimedOut.into()));
    let mut buf = [0u8; 1024];
    loop {
        while let Some(bytes) = handshake.poll_transmit() {
            let op = handshake.operation();
            let n = timed(within(budget, per_op, tcp.write(bytes)).await).map_err(io_err(op))?;
            if n == 0 {
                return Err(io_err(op)(io::ErrorKind::WriteZero.into()));
            }
            handshake.transmitted(n);
        }
        if handshake.is_complete() {
            return Ok(());
        }
        let op = handshake.operation();
        let n = timed(within(budget, per_op, tcp.peek(&mut buf)).await).map_err(io_err(op))?;
        if n == 0 {
            return Err(handshake.receive_eof());
        }
        let consumed = handshake
            .receive(buf.get(..n).unwrap_or_default())?
            .consumed();
        tcp.read_exact(buf.get_mut(..consumed).unwrap_or_default())
            .await
            .map_err(io_err(op))?;
    }
}

/// The TLS handshake through tokio-rustls with the configuration [`TlsOptions`] builds.
async fn tls_handshake(
    tcp: TcpStream,
    host: &str,
    port: u16,
    options: &TlsOptions,
    budget: &Budget,
    per_op: Option<Duration>,
) -> Result<TlsStream<TcpStream>> {
    let config: Arc<rustls::ClientConfig> = options.build_config()?;
    let name = options.effective_server_name(host).to_owned();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| TlsError::InvalidServerName { name: name.clone() })?;
    log::debug!("tls handshake with {} as {name:?}", authority(host, port));
    let target = authority(host, port);
    let limit = budget.limit(per_op);
    let handshake = TlsConnector::from(config).connect(server_name, tcp);
    let Some(result) = within(budget, per_op, handshake).await else {
        return Err(limit_ran_out(Phase::TlsHandshake, target, limit));
    };
    let tls = result.map_err(|source| {
        if let Some(err) = source
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            let err = TlsError::from_rustls(&name, err);
            log::debug!("{err}");
            return err.into();
        }
        if source.kind() == io::ErrorKind::UnexpectedEof {
            return TlsError::Handshake {
                host: name.clone(),
                reason: "the server closed the connection during the handshake".to_owned(),
            }
            .into();
        }
        Error::Io {
            op: "tls handshake",
            target: target.clone(),
            source,
        }
    })?;
    let conn = tls.get_ref().1;
    log::debug!(
        "tls established with {target}: {:?}, alpn {:?}",
        conn.negotiated_cipher_suite().map(|s| s.suite()),
        conn.alpn_protocol().map(String::from_utf8_lossy)
    );
    Ok(tls)
}
