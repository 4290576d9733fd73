//! The async write side: [`AsyncSender`], over the send half of the engine ([`Outbound`])
//! and the stream's write half behind an async mutex.
//!
//! The engine holds every byte not yet written, so whoever holds the lock next carries on
//! where a cancelled write stopped: frames never interleave and nothing queued is lost.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker, ready};

use futures_sink::Sink;
use ws_frame::{CloseCode, Message, OpCode, Outbound, Outgoing, Queued, Reply};

use super::rt::{Mutex, MutexGuard, OwnedMutexGuard, WriteHalf};
use crate::error::{Error, Op, OptionError, Result};
use crate::frame::Frame;
use crate::sender::{
    MIN_WRITE_BUFFER, broken, log_reply, log_send, outgoing, payload_of, send_error,
};

/// The state of the write half, behind the connection's async mutex.
pub(crate) struct Writer {
    half: WriteHalf,
    engine: Outbound,
    /// Queued bytes are written once this many are pending.
    max_buffer: usize,
    /// A write failed: the stream may hold half a frame, so nothing more is sent.
    broken: bool,
    /// The payload left of a large frame whose send was cancelled; finished (from
    /// `rest_at`) before anything else is written.
    rest: Vec<u8>,
    rest_at: usize,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("pending", &self.engine.pending())
            .field("max_buffer", &self.max_buffer)
            .field("broken", &self.broken)
            .finish_non_exhaustive()
    }
}

impl Writer {
    pub(crate) fn new(half: WriteHalf, engine: Outbound, max_buffer: usize) -> Self {
        Self {
            half,
            engine,
            max_buffer: max_buffer.max(MIN_WRITE_BUFFER),
            broken: false,
            rest: Vec::new(),
            rest_at: 0,
        }
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.engine.close_sent()
    }

    /// Queues a message; a large payload is written out as it goes, and the buffer once
    /// it holds `max_buffer` bytes. Cancelled, it has either queued nothing or the whole
    /// message (a large payload's remainder is copied and finished by the next write).
    pub(crate) async fn queue(&mut self, message: Outgoing<'_>) -> Result<()> {
        if self.broken {
            return Err(broken());
        }
        // Only what must go first is written now: the rest of a cancelled large frame, or
        // a full buffer whose write was cancelled. Small messages otherwise batch up to
        // `max_buffer` (writing every time cost one `sendto` per pipelined message).
        if !self.rest.is_empty() || self.engine.pending() >= self.max_buffer {
            poll_fn(|cx| self.poll_write_pending(cx)).await?;
        }
        let payload = payload_of(&message);
        log_send(&message);
        if let Queued::Partial { taken } = self.engine.send(message).map_err(send_error)? {
            let mut large = Large {
                writer: &mut *self,
                payload,
                offset: taken,
            };
            large.finish().await?;
        }
        if self.engine.pending() >= self.max_buffer {
            poll_fn(|cx| self.poll_write_pending(cx)).await?;
        }
        Ok(())
    }

    /// Queues a reply of the receive half (written by the next flush).
    pub(crate) fn reply(&mut self, reply: Reply) {
        log_reply(&reply);
        self.engine.handle_reply(reply);
    }

    /// Queues a keepalive ping; a ping refused now (a close is out) is not needed.
    pub(crate) fn queue_ping(&mut self, payload: &[u8]) {
        let ping = Outgoing::Ping(payload);
        log_send(&ping);
        if let Err(e) = self.engine.send(ping) {
            log::debug!(target: "ws_client", "keepalive ping not sent: {e}");
        }
    }

    /// Queues our close frame (the courtesy close of a failed keepalive).
    pub(crate) fn queue_close_now(&mut self, code: CloseCode) {
        if !self.engine.close_sent() {
            let close = Outgoing::Close(Some((code, "")));
            log_send(&close);
            let _ = self.engine.send(close);
        }
    }

    /// Writes every pending byte (first the rest of a cancelled large frame); no flush.
    fn poll_write_pending(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        loop {
            if self.broken {
                return Poll::Ready(Err(broken()));
            }
            let bytes = self.engine.poll_transmit();
            if bytes.is_empty() {
                if self.rest_at >= self.rest.len() {
                    return Poll::Ready(Ok(()));
                }
                let rest = self.rest.get(self.rest_at..).unwrap_or_default();
                if let Queued::Partial { taken } =
                    self.engine.send_rest(rest).map_err(send_error)?
                {
                    self.rest_at += taken;
                } else {
                    self.rest = Vec::new();
                    self.rest_at = 0;
                }
                continue;
            }
            match ready!(self.half.poll_write(cx, bytes)) {
                Ok(0) => {
                    self.broken = true;
                    let e = std::io::Error::from(std::io::ErrorKind::WriteZero);
                    return Poll::Ready(Err(Error::io(Op::Write, e)));
                }
                Ok(n) => self.engine.advance(n),
                Err(e) => {
                    self.broken = true;
                    return Poll::Ready(Err(Error::io(Op::Write, e)));
                }
            }
        }
    }

    /// Writes everything pending and flushes the stream.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        ready!(self.poll_write_pending(cx))?;
        let flushed = ready!(self.half.poll_flush(cx));
        Poll::Ready(flushed.map_err(|e| {
            self.broken = true;
            Error::io(Op::Flush, e)
        }))
    }

    pub(crate) async fn flush(&mut self) -> Result<()> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// Gives back the send buffers when nothing is pending (the reading half calls it
    /// while it waits with nothing buffered: an idle connection then holds none; the
    /// next send allocates again).
    pub(crate) fn release_buffers(&mut self) {
        if self.rest.is_empty() && self.engine.buffered_capacity() > 0 {
            self.engine.release_buffers();
        }
    }

    /// Shuts the write direction down (a TLS `close_notify` first); nothing is sent after.
    pub(crate) async fn shutdown(&mut self) -> Result<()> {
        self.broken = true;
        poll_fn(|cx| self.half.poll_shutdown(cx))
            .await
            .map_err(|e| Error::io(Op::Shutdown, e))
    }
}

/// A large frame being queued; dropped before it is done (its send was cancelled), it
/// leaves the rest of the payload to the writer.
struct Large<'w, 'p> {
    writer: &'w mut Writer,
    payload: &'p [u8],
    offset: usize,
}

impl Large<'_, '_> {
    async fn finish(&mut self) -> Result<()> {
        loop {
            poll_fn(|cx| self.writer.poll_write_pending(cx)).await?;
            let rest = self.payload.get(self.offset..).unwrap_or_default();
            match self.writer.engine.send_rest(rest).map_err(send_error)? {
                Queued::Partial { taken } => self.offset += taken,
                _ => return Ok(()),
            }
        }
    }
}

impl Drop for Large<'_, '_> {
    fn drop(&mut self) {
        if self.writer.engine.is_sending_large() && !self.writer.broken {
            self.writer.rest = self.payload.get(self.offset..).unwrap_or_default().to_vec();
            self.writer.rest_at = 0;
        }
    }
}

/// What the halves of an async connection share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) writer: Arc<Mutex<Writer>>,
    /// Whether the reading half waits for the writer to be free (to pass replies on).
    reader_waits: AtomicBool,
    reader_waker: std::sync::Mutex<Option<Waker>>,
}

impl Shared {
    pub(crate) fn new(writer: Writer) -> Self {
        Self {
            writer: Arc::new(Mutex::new(writer)),
            reader_waits: AtomicBool::new(false),
            reader_waker: std::sync::Mutex::new(None),
        }
    }

    /// The writer, for an `async fn`; the reading half is woken when it is let go.
    pub(crate) async fn lock(&self) -> WriterGuard<'_> {
        WriterGuard {
            guard: Some(self.writer.lock().await),
            shared: self,
        }
    }

    /// The writer if it is free now; else the reading half's task is woken once it is.
    pub(crate) fn try_lock_for_reader(&self, cx: &Context<'_>) -> Option<MutexGuard<'_, Writer>> {
        // The waker is stored before trying, so an unlock after a failed try finds it.
        *self
            .reader_waker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cx.waker().clone());
        self.reader_waits.store(true, Ordering::SeqCst);
        let guard = self.writer.try_lock().ok()?;
        self.reader_waits.store(false, Ordering::SeqCst);
        Some(guard)
    }

    /// Wakes the reading half if it waits for the writer (call after letting it go).
    fn wake_reader(&self) {
        if self.reader_waits.swap(false, Ordering::SeqCst) {
            let waker = self
                .reader_waker
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The locked writer; letting it go wakes a reading half waiting for it.
pub(crate) struct WriterGuard<'a> {
    guard: Option<MutexGuard<'a, Writer>>,
    shared: &'a Shared,
}

impl std::ops::Deref for WriterGuard<'_> {
    type Target = Writer;

    fn deref(&self) -> &Writer {
        self.guard
            .as_deref()
            .unwrap_or_else(|| unreachable!("held until drop"))
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut Writer {
        self.guard
            .as_deref_mut()
            .unwrap_or_else(|| unreachable!("held until drop"))
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        self.guard = None;
        self.shared.wake_reader();
    }
}

type LockFuture = Pin<Box<dyn Future<Output = OwnedMutexGuard<Writer>> + Send>>;

/// Getting hold of the writer from `poll` functions: the lock future, then the guard.
#[derive(Default)]
pub(crate) struct PollLock {
    // In a std mutex only to be `Sync`; it is always reached through `&mut`.
    state: std::sync::Mutex<(Option<LockFuture>, Option<OwnedMutexGuard<Writer>>)>,
}

impl fmt::Debug for PollLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollLock").finish_non_exhaustive()
    }
}

impl PollLock {
    /// The writer, once the lock is held (kept until [`release`](Self::release)).
    pub(crate) fn poll_lock(
        &mut self,
        cx: &mut Context<'_>,
        writer: &Arc<Mutex<Writer>>,
    ) -> Poll<&mut Writer> {
        let (future, guard) = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.is_none() {
            let pending = future.get_or_insert_with(|| Box::pin(Arc::clone(writer).lock_owned()));
            let got = ready!(pending.as_mut().poll(cx));
            *guard = Some(got);
            *future = None;
        }
        match guard {
            Some(guard) => Poll::Ready(&mut **guard),
            None => Poll::Pending,
        }
    }

    /// The writer, if the lock is held.
    pub(crate) fn held(&mut self) -> Option<&mut Writer> {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.1.as_deref_mut()
    }

    /// Lets the lock go (waking the reading half if it waits).
    pub(crate) fn release(&mut self, shared: &Shared) {
        let state = self
            .state
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if state.1.take().is_some() {
            shared.wake_reader();
        }
    }
}

/// A cloneable handle that sends on an async connection from any task, also while another
/// task awaits [`AsyncReader::recv`](crate::AsyncReader::recv).
///
/// Get one with [`AsyncWebSocket::sender`](crate::AsyncWebSocket::sender) or
/// [`AsyncWebSocket::split`](crate::AsyncWebSocket::split). It is `Send + Sync + Clone`;
/// every send takes the connection's async lock, so frames of concurrent senders never
/// interleave, and the messages of one sender leave in the order it sent them.
///
/// # Backpressure
///
/// Methods named `send_*` (and [`send`](Self::send), [`ping`](Self::ping),
/// [`pong`](Self::pong)) return once the frame is written to the socket and flushed:
/// they wait while the peer does not read. [`write`](Self::write) only queues (batching
/// small messages into one system call) and writes once
/// [`write_buffer_size`](crate::ClientBuilder::write_buffer_size) bytes are pending, so
/// the buffer never holds more than that plus one chunk of a large payload; call
/// [`flush`](Self::flush) afterwards. The [`Sink`] does the same: `poll_ready` waits while
/// the buffer is full, `poll_flush` writes everything. Nothing grows without bound.
///
/// # Cancellation
///
/// Every method can be dropped at its `.await` (in `select!`, by a timeout): the message
/// is then either not queued at all, or queued whole and sent by the next write on the
/// connection (any send, [`flush`](Self::flush), or an automatic pong): never half a
/// frame on the wire, never a frame of another sender inside it.
///
/// # Sink
///
/// `AsyncSender` is a `Sink<Message>`: from `poll_ready` to `poll_flush` it holds the
/// connection's lock (so `SinkExt::feed` several messages, then flush). Each clone has its
/// own sink state. The inherent `send(&Message)` comes before `SinkExt::send` in method
/// lookup: write `SinkExt::send(&mut sender, message)` for the sink's. `poll_close` sends a close frame (code 1000) if none was sent and flushes;
/// the peer's answer arrives on the reading half.
pub struct AsyncSender {
    pub(crate) shared: Arc<Shared>,
    sink: PollLock,
}

impl fmt::Debug for AsyncSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncSender").finish_non_exhaustive()
    }
}

impl Drop for AsyncSender {
    fn drop(&mut self) {
        // A sink dropped between poll_ready and poll_flush lets the lock go.
        self.sink.release(&self.shared);
    }
}

impl Clone for AsyncSender {
    fn clone(&self) -> Self {
        Self::new(Arc::clone(&self.shared))
    }
}

impl AsyncSender {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            sink: PollLock::default(),
        }
    }

    /// Sends a text message (and flushes).
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] after a close frame was sent or a write failed,
    /// [`Error::Io`] when the write fails.
    pub async fn send_text(&self, text: &str) -> Result<()> {
        self.send_now(Outgoing::Text(text)).await
    }

    /// Sends a binary message (and flushes).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub async fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.send_now(Outgoing::Binary(data)).await
    }

    /// Sends a message of any kind (and flushes); `Message::Close` sends the close frame
    /// only (see [`AsyncWebSocket::close`](crate::AsyncWebSocket::close) for the whole
    /// handshake).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text), plus [`Error::InvalidFrame`] for a ping or pong
    /// over 125 bytes or an unsendable close code.
    pub async fn send(&self, message: &Message) -> Result<()> {
        self.send_now(outgoing(message)).await
    }

    /// Queues a message without flushing (see Backpressure above).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub async fn write(&self, message: &Message) -> Result<()> {
        self.shared.lock().await.queue(outgoing(message)).await
    }

    /// Writes everything queued and flushes the stream.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub async fn flush(&self) -> Result<()> {
        self.shared.lock().await.flush().await
    }

    /// Sends `messages` in order under one lock, then flushes once: no other sender's
    /// frame goes between them, and the lock is taken once for the batch (see
    /// [`Sender::send_batch`](crate::Sender::send_batch)). The iterator runs with the write
    /// lock held, so it must not send on this connection itself. Cancelled, some of the
    /// messages may be queued or sent and the rest not.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), for the first message refused: the messages before it are
    /// flushed, it and the ones after it are not sent.
    pub async fn send_batch<'m, I>(&self, messages: I) -> Result<()>
    where
        I: IntoIterator<Item = &'m Message>,
    {
        let mut w = self.shared.lock().await;
        for message in messages {
            if let Err(e) = w.queue(outgoing(message)).await {
                // What was queued before the refused message still goes out.
                let _ = w.flush().await;
                return Err(e);
            }
        }
        w.flush().await
    }

    /// Sends a ping with `payload` (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for more than 125 bytes, else as
    /// [`send_text`](Self::send_text).
    pub async fn ping(&self, payload: &[u8]) -> Result<()> {
        self.send_now(Outgoing::Ping(payload)).await
    }

    /// Sends a pong with `payload` (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// As [`ping`](Self::ping).
    pub async fn pong(&self, payload: &[u8]) -> Result<()> {
        self.send_now(Outgoing::Pong(payload)).await
    }

    /// Sends one frame as given, after checking it against RFC 6455; see
    /// [`Sender::send_frame`](crate::Sender::send_frame).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for a frame that breaks the rules, else as
    /// [`send_text`](Self::send_text).
    pub async fn send_frame(&self, frame: &Frame) -> Result<()> {
        self.send_now(Outgoing::Frame {
            fin: frame.fin,
            rsv: frame.rsv,
            opcode: frame.opcode,
            payload: &frame.payload,
        })
        .await
    }

    /// Sends one fragment of a message; see
    /// [`Sender::send_fragment`](crate::Sender::send_fragment).
    ///
    /// # Errors
    ///
    /// As [`Sender::send_fragment`](crate::Sender::send_fragment).
    pub async fn send_fragment(
        &self,
        opcode: OpCode,
        payload: &[u8],
        fin: ws_frame::Fin,
    ) -> Result<()> {
        self.send_now(Outgoing::Fragment {
            opcode,
            payload,
            fin,
        })
        .await
    }

    /// Sends a close frame without waiting for the answer (the reading half receives it).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for an unsendable code or a reason over 123 bytes,
    /// [`Error::ConnectionClosed`] when a close was already sent, else as
    /// [`send_text`](Self::send_text).
    pub async fn send_close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.send_now(Outgoing::Close(Some((code, reason)))).await
    }

    /// Shuts the write direction of the stream down, without a closing handshake; later
    /// sends fail with [`Error::ConnectionClosed`].
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the stream cannot be shut down.
    pub async fn shutdown(&self) -> Result<()> {
        self.shared.lock().await.shutdown().await
    }

    async fn send_now(&self, message: Outgoing<'_>) -> Result<()> {
        let mut w = self.shared.lock().await;
        w.queue(message).await?;
        w.flush().await
    }

    fn poll_writer(&mut self, cx: &mut Context<'_>) -> Poll<&mut Writer> {
        self.sink.poll_lock(cx, &self.shared.writer)
    }
}

impl Sink<Message> for AsyncSender {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let w = ready!(self.poll_writer(cx));
        if w.broken {
            return Poll::Ready(Err(broken()));
        }
        if w.engine.pending() >= w.max_buffer || !w.rest.is_empty() {
            ready!(w.poll_write_pending(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<()> {
        let Some(w) = self.sink.held() else {
            return Err(Error::InvalidOption(OptionError::Misuse(
                "Sink::start_send without a successful poll_ready",
            )));
        };
        let message = outgoing(&item);
        log_send(&message);
        if let Queued::Partial { taken } = w.engine.send(message).map_err(send_error)? {
            {
                // The rest is written by poll_ready or poll_flush, before anything else.
                w.rest = payload_of(&outgoing(&item))
                    .get(taken..)
                    .unwrap_or_default()
                    .to_vec();
                w.rest_at = 0;
            }
        }
        Ok(())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let w = ready!(self.poll_writer(cx));
        let flushed = ready!(w.poll_flush(cx));
        let shared = Arc::clone(&self.shared);
        self.sink.release(&shared);
        Poll::Ready(flushed)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let w = ready!(self.poll_writer(cx));
        if !w.close_sent() && !w.broken {
            w.queue_close_now(CloseCode::NORMAL);
        }
        let flushed = ready!(w.poll_flush(cx));
        let shared = Arc::clone(&self.shared);
        self.sink.release(&shared);
        Poll::Ready(flushed)
    }
}
