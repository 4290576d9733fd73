//! The async read side: [`AsyncReader`], over the receive half of the engine ([`Inbound`])
//! and the stream's read half, with the keepalive schedule.
//!
//! Everything is `poll`-based and keeps its state in the reader, not in a future: bytes
//! read are committed to the engine in the same poll that read them, and an item taken
//! from the engine is kept in the reader until it is returned. So a `recv` dropped at its
//! `.await` loses nothing.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use ws_frame::{CloseCode, Inbound, Keepalive, KeepaliveAction, Message, OpCode};

use super::rt::{Instant, ReadHalf, Timer as RtTimer};
use super::writer::{AsyncSender, Shared};
use crate::error::{Error, Op, OptionError, Result};
use crate::frame::Frame;
use crate::reader::{CloseInfo, recv_error};

/// What the engine gave, kept until it is returned.
#[derive(Debug)]
enum Polled {
    Message(Message),
    Frame(ws_frame::Frame),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Messages,
    Frames,
}

/// The keepalive schedule on the runtime's clock.
#[derive(Debug)]
struct Timer {
    schedule: Keepalive,
    origin: Instant,
    payload: Vec<u8>,
    sleep: RtTimer,
}

/// The receiving half of an async connection.
///
/// An [`AsyncWebSocket`](crate::AsyncWebSocket) holds one;
/// [`split`](crate::AsyncWebSocket::split) hands it out so one task receives while others
/// send with the [`AsyncSender`]. While a receive is in progress it answers pings and the
/// peer's close through the writing half (as soon as no sender holds it), and runs the
/// keepalive schedule ([`set_keepalive`](Self::set_keepalive)).
///
/// It is a [`Stream`] of `Result<Message>` with what [`recv`](Self::recv) returns: text,
/// binary, and the peer's close frame once, then the stream ends (also after an error).
///
/// # Cancellation
///
/// Every receive method is cancel-safe: dropped at its `.await` (in `select!`, by a
/// timeout), it loses no message and no byte; the next call goes on where it stopped.
///
/// # Memory
///
/// No read buffer is held before bytes arrive, and once a read has waited 250 ms with
/// nothing buffered the read and send buffers are given
/// back: an idle connection holds none (about 2 KiB of heap per idle `ws://` connection
/// in all, measured over 10,000 connections; the next read or send allocates again). A
/// busy connection keeps them between messages. The wait runs on tokio's timer, which
/// `connect_async` needs already (its default connect timeout).
#[derive(Debug)]
pub struct AsyncReader {
    half: ReadHalf,
    engine: Inbound,
    shared: Arc<Shared>,
    ready: Option<Result<Polled>>,
    /// Replies were handed to the writer but not all written yet.
    flushing: bool,
    ping_due: bool,
    close_due: Option<CloseCode>,
    keepalive: Option<Timer>,
    /// Armed when a read starts waiting with nothing buffered and buffers held; when it
    /// fires first, the buffers go back (and the timer with them).
    idle: Option<IdleTimer>,
    /// The stream yielded its last item.
    done: bool,
}

/// The idle timer of a connection that holds buffers.
#[derive(Debug)]
struct IdleTimer {
    sleep: RtTimer,
    /// Set for the current wait (bytes arriving end the wait).
    armed: bool,
}

/// How long a read waits with nothing buffered before the connection gives its read and
/// send buffers back. Giving them back at every wait cost a fresh, zero-filled 16 KiB read
/// buffer per message in round trips over many connections (`memset` was 9 % of the
/// client's CPU in the 1,000-connection load cell).
const IDLE_RELEASE: Duration = Duration::from_millis(250);

impl AsyncReader {
    pub(crate) fn new(half: ReadHalf, engine: Inbound, shared: Arc<Shared>) -> Self {
        Self {
            half,
            engine,
            shared,
            ready: None,
            flushing: false,
            ping_due: false,
            close_due: None,
            keepalive: None,
            idle: None,
            done: false,
        }
    }

    /// An [`AsyncSender`] for this connection.
    pub fn sender(&self) -> AsyncSender {
        AsyncSender::new(Arc::clone(&self.shared))
    }

    /// Keepalive: a ping with `payload` every `interval` while a receive is in progress,
    /// and the connection fails with [`Error::Timeout`] for [`Op::Keepalive`] when no pong
    /// arrives within `timeout` of a ping (a close frame 1001 is then sent and every later
    /// receive fails with [`Error::ConnectionClosed`]). `None` or zero for `interval` turns
    /// it off (the default); `timeout` `None` never fails. The same options, checks and
    /// Python names as [`RunOptions`](crate::RunOptions): `ping_interval`, `ping_timeout`,
    /// `ping_payload`. The schedule starts now.
    ///
    /// Time runs on tokio's clock: pings go out and the deadline is noticed only while a
    /// [`recv`](Self::recv) (or the [`Stream`]) is awaited.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a zero `timeout`, a `timeout` not below `interval`, or
    /// a payload over 125 bytes.
    pub fn set_keepalive(
        &mut self,
        interval: Option<Duration>,
        timeout: Option<Duration>,
        payload: &[u8],
    ) -> Result<()> {
        crate::app::check_keepalive(interval, timeout, payload)?;
        let schedule = Keepalive::new(interval, timeout);
        self.keepalive = schedule.is_enabled().then(|| Timer {
            schedule,
            origin: Instant::now(),
            payload: payload.to_vec(),
            sleep: RtTimer::after(Duration::ZERO),
        });
        if let Some(timer) = &mut self.keepalive {
            let _ = timer.schedule.handle_timeout(Duration::ZERO);
        }
        Ok(())
    }

    /// Receives the next text or binary message, reassembling fragments; pings are
    /// answered (unless turned off with
    /// [`Config::ping_reply`](ws_frame::Config::ping_reply) in [`ClientBuilder::connection`](crate::ClientBuilder::connection)) and skipped, as are
    /// pongs. The peer's close frame is answered and returned once as [`Message::Close`];
    /// after it every call fails with [`Error::ConnectionClosed`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] / [`Error::Payload`] when the peer breaks RFC 6455 (the close
    /// code 1002, 1007 or 1009 has been sent), [`Error::ConnectionClosed`] when the
    /// connection ended (code 1006 if without a close frame), [`Error::Timeout`] for
    /// [`Op::Keepalive`] when no pong came in time, [`Error::Io`].
    pub async fn recv(&mut self) -> Result<Message> {
        poll_fn(|cx| self.poll_recv(cx, false)).await
    }

    /// Like [`recv`](Self::recv), but pings and pongs are returned too (after the
    /// automatic pong). Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub async fn recv_with_control(&mut self) -> Result<Message> {
        poll_fn(|cx| self.poll_recv(cx, true)).await
    }

    /// Receives one frame as it arrived: no reassembly, no automatic pong, no close reply
    /// (see [`Reader::recv_frame`](crate::Reader::recv_frame)). Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub async fn recv_frame(&mut self) -> Result<Frame> {
        let polled = poll_fn(|cx| self.poll_item(cx, Mode::Frames)).await?;
        match polled {
            Polled::Frame(frame) => Ok(Frame::from(frame)),
            Polled::Message(_) => Err(mixed_modes()),
        }
    }

    /// The peer's close frame, once received.
    pub fn close_frame(&self) -> Option<&CloseInfo> {
        self.engine.close_frame()
    }

    /// Whether the peer's close frame arrived or the connection ended.
    pub fn is_closed(&self) -> bool {
        self.engine.is_done()
    }

    /// Polls for the next message; with `control`, pings and pongs too.
    fn poll_recv(&mut self, cx: &mut Context<'_>, control: bool) -> Poll<Result<Message>> {
        loop {
            match ready!(self.poll_item(cx, Mode::Messages))? {
                Polled::Message(Message::Ping(_) | Message::Pong(_)) if !control => {}
                Polled::Message(message) => return Poll::Ready(Ok(message)),
                Polled::Frame(_) => return Poll::Ready(Err(mixed_modes())),
            }
        }
    }

    /// The engine loop: pass replies on, run the keepalive, take what the engine has,
    /// else read.
    fn poll_item(&mut self, cx: &mut Context<'_>, mode: Mode) -> Poll<Result<Polled>> {
        loop {
            if self.flushing || self.ping_due || self.close_due.is_some() || self.engine.has_reply()
            {
                self.pass_replies(cx);
            }
            if let Some(item) = self.ready.take() {
                return Poll::Ready(item);
            }
            if self.run_keepalive() {
                continue;
            }
            let polled = match mode {
                Mode::Messages => self.engine.poll_message().map(|m| m.map(Polled::Message)),
                Mode::Frames => self.engine.poll_frame().map(|f| f.map(Polled::Frame)),
            };
            match polled {
                Ok(Some(item)) => {
                    self.observe(&item);
                    self.ready = Some(Ok(item));
                }
                Err(e) => {
                    self.stop_keepalive();
                    self.ready = Some(Err(recv_error(e)));
                }
                Ok(None) => match self.poll_fill(cx) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(e)) => {
                        self.stop_keepalive();
                        self.ready = Some(Err(e));
                    }
                    Poll::Pending => {
                        if self.poll_timer(cx) {
                            continue;
                        }
                        return Poll::Pending;
                    }
                },
            }
        }
    }

    /// A pong meets the keepalive deadline; a close or an error ends the schedule.
    fn observe(&mut self, item: &Polled) {
        let opcode = match item {
            Polled::Message(m) => m.opcode(),
            Polled::Frame(f) => f.header.opcode,
        };
        match opcode {
            OpCode::Pong => {
                if let Some(timer) = &mut self.keepalive {
                    timer.schedule.on_pong();
                }
            }
            OpCode::Close => self.stop_keepalive(),
            _ => {}
        }
    }

    fn stop_keepalive(&mut self) {
        if let Some(timer) = &mut self.keepalive {
            timer.schedule.stop();
        }
    }

    /// Advances the keepalive schedule; whether something is to be done first.
    fn run_keepalive(&mut self) -> bool {
        let Some(timer) = &mut self.keepalive else {
            return false;
        };
        let now = timer.origin.elapsed();
        let mut acted = false;
        while let Some(action) = timer.schedule.handle_timeout(now) {
            acted = true;
            match action {
                KeepaliveAction::SendPing => self.ping_due = true,
                KeepaliveAction::TimedOut { timeout } => {
                    log::debug!(target: "ws_client", "no pong within {timeout:?}");
                    // The peer is taken for dead: a courtesy close frame, no wait for it.
                    self.close_due = Some(CloseCode::GOING_AWAY);
                    self.engine.end(
                        Some(CloseCode::ABNORMAL),
                        "no pong within the keepalive timeout",
                    );
                    self.ready = Some(Err(Error::timeout(Op::Keepalive, Some(timeout))));
                }
                _ => {}
            }
        }
        acted
    }

    /// Arms the keepalive timer for the next deadline; whether it has passed already.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(timer) = &mut self.keepalive else {
            return false;
        };
        let Some(at) = timer.schedule.poll_timeout() else {
            return false;
        };
        let deadline = timer.origin + at;
        if timer.sleep.deadline() != deadline {
            timer.sleep.reset(deadline);
        }
        timer.sleep.poll(cx).is_ready()
    }

    /// Hands the engine's replies (and a keepalive ping or close) to the writer and writes
    /// them out, if the writer is free; else they wait in the engine and this task is
    /// woken when it is. A write failure shows up on the next send.
    fn pass_replies(&mut self, cx: &mut Context<'_>) {
        let Some(mut w) = self.shared.try_lock_for_reader(cx) else {
            return;
        };
        while let Some(reply) = self.engine.poll_reply() {
            w.reply(reply);
        }
        if std::mem::take(&mut self.ping_due) {
            if let Some(timer) = &self.keepalive {
                w.queue_ping(&timer.payload);
            }
        }
        if let Some(code) = self.close_due.take() {
            w.queue_close_now(code);
        }
        self.flushing = match w.poll_flush(cx) {
            Poll::Pending => true,
            Poll::Ready(Ok(())) => false,
            Poll::Ready(Err(e)) => {
                log::debug!(target: "ws_client", "reply not sent: {e}");
                false
            }
        };
    }

    /// Reads once into the engine: straight into the message for a large payload, else
    /// into its read buffer. Bytes read are committed before this returns.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if let Some((buf, max)) = self.engine.direct_buffer() {
            let n = match ready!(self.half.poll_read_into(cx, buf, max)) {
                Ok(n) => n,
                Err(e) => return Poll::Ready(Err(self.read_failed(e))),
            };
            self.engine.commit_direct().map_err(recv_error)?;
            self.activity();
            if n == 0 {
                self.engine.receive_eof();
            }
            return Poll::Ready(Ok(()));
        }
        let spare = self.engine.spare_mut();
        match self.half.poll_read(cx, spare) {
            Poll::Ready(Ok(n)) => {
                if n == 0 {
                    self.engine.receive_eof();
                } else {
                    self.engine.commit(n);
                }
                self.activity();
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.read_failed(e))),
            Poll::Pending => {
                if self.engine.buffered() == 0 && !self.engine.is_in_message() {
                    self.poll_idle(cx);
                }
                Poll::Pending
            }
        }
    }

    /// A read waits with nothing buffered: arms the idle timer for this wait (if buffers
    /// are held) and, once it has fired, gives the read and send buffers back so an idle
    /// connection holds none.
    fn poll_idle(&mut self, cx: &mut Context<'_>) {
        if self.engine.buffered_capacity() == 0 && self.idle.is_none() {
            // No read buffer to wait for: only a send buffer, if any, goes back now.
            if let Ok(mut w) = self.shared.writer.try_lock() {
                w.release_buffers();
            }
            return;
        }
        let timer = self.idle.get_or_insert_with(|| IdleTimer {
            sleep: RtTimer::after(IDLE_RELEASE),
            armed: true,
        });
        if !timer.armed {
            timer.sleep.reset(Instant::now() + IDLE_RELEASE);
            timer.armed = true;
        }
        if timer.sleep.poll(cx).is_ready() {
            self.idle = None;
            self.engine.release_buffers();
            if let Ok(mut w) = self.shared.writer.try_lock() {
                w.release_buffers();
            }
        }
    }

    /// Bytes arrived: the next wait starts the idle time again.
    fn activity(&mut self) {
        if let Some(timer) = &mut self.idle {
            timer.armed = false;
        }
    }

    /// A read error ends the connection.
    fn read_failed(&mut self, e: std::io::Error) -> Error {
        let error = Error::io(Op::Read, e);
        log::debug!(target: "ws_client", "read failed: {error}");
        self.engine
            .end(Some(CloseCode::ABNORMAL), &error.to_string());
        error
    }

    /// Reads until the peer ends the stream, discarding what arrives (the closing
    /// handshake is over).
    pub(crate) async fn drain_until_eof(&mut self) {
        let mut scratch = [0; 1024];
        while let Ok(n) = self.half.read(&mut scratch).await {
            if n == 0 {
                break;
            }
        }
    }

    pub(crate) fn mark_ended(&mut self) {
        self.engine.end(None, "the connection was closed locally");
    }
}

fn mixed_modes() -> Error {
    Error::InvalidOption(OptionError::Misuse(
        "recv_frame and recv were mixed inside one message",
    ))
}

impl Stream for AsyncReader {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let item = ready!(self.poll_recv(cx, false));
        if matches!(item, Ok(Message::Close(_)) | Err(_)) {
            self.done = true;
        }
        Poll::Ready(Some(item))
    }
}
