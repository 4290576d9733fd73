//! The runtime seam: everything of tokio the async client uses, and nothing else of
//! `asynch` names a tokio item.
//!
//! A second runtime would give this module's items over its own stream and timers:
//!
//! - [`Stream`], the connected stream (its `peer_addr` and `is_tls`), its
//!   [`split`] into a [`ReadHalf`] and a [`WriteHalf`] that may be used from different
//!   tasks, and `poll_*` functions over plain byte slices (plus [`ReadHalf::poll_read_into`],
//!   which appends to a `Vec` without zero-filling it first);
//! - [`write_all`], [`flush`] and [`read`] on the whole stream, for the handshake;
//! - [`Timer`], a resettable timer on the runtime's clock, [`Instant`] (that clock), and
//!   [`timeout`];
//! - [`Mutex`], an async mutex whose guard may be held across `.await` (with `try_lock`,
//!   `lock_owned`);
//! - [`connect`] (DNS, TCP, proxies, TLS: `ws_net::tokio`'s) and [`Tcp`], the runtime's
//!   TCP stream a caller may connect over.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
pub(crate) use tokio::sync::{Mutex, MutexGuard, OwnedMutexGuard};
pub(crate) use tokio::time::Instant;
/// The connected stream (TCP or TLS over TCP).
pub(crate) use ws_net::tokio::TokioStream as Stream;

/// The runtime's TCP stream (what `ClientBuilder::connect_async_on` takes).
pub(crate) type Tcp = tokio::net::TcpStream;

/// Connects to `endpoint` (over `tcp` if given, else a new TCP connection) through the
/// proxies of `options`, TLS included, within `budget`.
pub(crate) async fn connect(
    tcp: Option<Tcp>,
    endpoint: &ws_net::Endpoint,
    options: &ws_net::NetOptions,
    budget: &ws_net::Budget,
) -> ws_net::Result<Stream> {
    match tcp {
        Some(tcp) => ws_net::tokio::connect_on(tcp, endpoint, options, budget).await,
        None => ws_net::tokio::connect(endpoint, options, budget).await,
    }
}

/// The reading half of a split [`Stream`].
#[derive(Debug)]
pub(crate) struct ReadHalf(tokio::io::ReadHalf<Stream>);

/// The writing half of a split [`Stream`].
#[derive(Debug)]
pub(crate) struct WriteHalf(tokio::io::WriteHalf<Stream>);

/// Splits the stream into halves usable from different tasks.
pub(crate) fn split(stream: Stream) -> (ReadHalf, WriteHalf) {
    let (read, write) = tokio::io::split(stream);
    (ReadHalf(read), WriteHalf(write))
}

impl ReadHalf {
    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        Pin::new(&mut self.0)
            .poll_read(cx, &mut buf)
            .map_ok(|()| buf.filled().len())
    }

    /// Reads at most `max` bytes, appended to `buf` (its spare capacity is not
    /// zero-filled first); `Ok(0)` is the end of the stream.
    pub(crate) fn poll_read_into(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<u8>,
        max: usize,
    ) -> Poll<io::Result<usize>> {
        buf.reserve(max);
        let mut limited = (&mut self.0).take(max as u64);
        std::pin::pin!(limited.read_buf(buf)).poll(cx)
    }

    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    pub(crate) async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).await
    }
}

impl WriteHalf {
    /// Writes some of `buf`; how much.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    /// Flushes what the stream buffers (TLS records).
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    /// Shuts the write direction down (a TLS `close_notify` first).
    pub(crate) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Writes all of `buf` to the whole stream.
pub(crate) async fn write_all(stream: &mut Stream, buf: &[u8]) -> io::Result<()> {
    stream.write_all(buf).await
}

/// Flushes the whole stream.
pub(crate) async fn flush(stream: &mut Stream) -> io::Result<()> {
    stream.flush().await
}

/// Reads from the whole stream; `Ok(0)` is the end of the stream.
pub(crate) async fn read(stream: &mut Stream, buf: &mut [u8]) -> io::Result<usize> {
    stream.read(buf).await
}

/// `future`'s output, or `None` once `limit` has passed.
pub(crate) async fn timeout<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    tokio::time::timeout(limit, future).await.ok()
}

/// A timer on the runtime's clock that can be reset to a new deadline.
#[derive(Debug)]
pub(crate) struct Timer(Pin<Box<tokio::time::Sleep>>);

impl Timer {
    /// A timer firing `after` from now.
    pub(crate) fn after(after: Duration) -> Self {
        Self(Box::pin(tokio::time::sleep(after)))
    }

    /// When it fires.
    pub(crate) fn deadline(&self) -> Instant {
        self.0.deadline()
    }

    /// Fires at `deadline` instead (also after it fired).
    pub(crate) fn reset(&mut self, deadline: Instant) {
        self.0.as_mut().reset(deadline);
    }

    /// Ready once the deadline has passed; else wakes the task then.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}
