//! The write side: [`Sender`], the cloneable handle that sends from any thread, over the
//! send half of `ws-frame`'s engine ([`Outbound`]) and the socket's write half.
//!
//! The engine checks, encodes, masks, compresses and batches; this file only moves its
//! bytes to the socket under a lock, so frames from concurrent senders never interleave.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ws_frame::{CloseCode, Message, OpCode, Outbound, Outgoing, Queued, Reply, SendError};
use ws_net::WriteHalf;

use crate::error::{Error, Op, Result};
use crate::frame::Frame;
use crate::logging::Preview;

/// The smallest write buffer used, whatever the option says.
pub(crate) const MIN_WRITE_BUFFER: usize = 4096;

/// The state of the write half, behind the connection's mutex.
#[derive(Debug)]
pub(crate) struct Writer {
    out: WriteHalf,
    engine: Outbound,
    /// Queued bytes are written once this many are pending (batching by `write`).
    max_buffer: usize,
    /// A write failed part-way: the stream may hold half a frame, so nothing more is sent.
    broken: bool,
}

impl Writer {
    pub(crate) fn new(out: WriteHalf, engine: Outbound, max_buffer: usize) -> Self {
        Self {
            out,
            engine,
            max_buffer: max_buffer.max(MIN_WRITE_BUFFER),
            broken: false,
        }
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.engine.close_sent()
    }

    /// Queues a message in the engine, writing out as it goes for large payloads and
    /// whenever the buffer is full.
    fn queue(&mut self, message: Outgoing<'_>) -> Result<()> {
        if self.broken {
            return Err(broken());
        }
        let payload = payload_of(&message);
        log_send(&message);
        let mut queued = self.engine.send(message).map_err(send_error)?;
        let mut offset = 0;
        while let Queued::Partial { taken } = queued {
            offset += taken;
            self.write_pending(Op::Write)?;
            let rest = payload.get(offset..).unwrap_or_default();
            queued = self.engine.send_rest(rest).map_err(send_error)?;
        }
        if self.engine.pending() >= self.max_buffer {
            self.write_pending(Op::Write)?;
        }
        Ok(())
    }

    /// Writes the pending bytes to the socket (no flush of the socket itself).
    #[inline]
    fn write_pending(&mut self, op: Op) -> Result<()> {
        let bytes = self.engine.poll_transmit();
        if bytes.is_empty() {
            return Ok(());
        }
        let n = bytes.len();
        let result = self.out.write_all(bytes);
        self.engine.advance(n);
        result.map_err(|e| {
            self.broken = true;
            self.failed(op, e)
        })
    }

    /// Writes everything pending and flushes the stream.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.broken {
            return Err(broken());
        }
        self.write_pending(Op::Flush)?;
        self.out.flush().map_err(|e| {
            self.broken = true;
            self.failed(Op::Flush, e)
        })
    }

    /// A write error, naming the peer and the write timeout in force.
    fn failed(&self, op: Op, e: std::io::Error) -> Error {
        let peer = self.out.peer_addr().ok();
        Error::io_on(op, e, peer, self.out.write_timeout().ok().flatten())
    }

    /// Carries out what the receive half asked for (a pong, the close echo, the failing
    /// close) and writes it out; nothing is sent once a write failed.
    pub(crate) fn reply(&mut self, reply: Reply) -> Result<()> {
        if self.broken {
            return Ok(());
        }
        log_reply(&reply);
        self.engine.handle_reply(reply);
        self.flush()
    }

    /// Queues our close frame; see [`Sender::send_close`].
    pub(crate) fn queue_close(&mut self, code: CloseCode, reason: &str) -> Result<()> {
        self.queue(Outgoing::Close(Some((code, reason))))
    }

    /// Gives back the write buffer when nothing is pending in it.
    pub(crate) fn release_buffers(&mut self) {
        self.engine.release_buffers();
    }

    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.out
            .set_write_timeout(timeout)
            .map_err(|e| Error::io(Op::Configure, e))
    }

    pub(crate) fn shutdown(&mut self) -> Result<()> {
        self.broken = true;
        self.out.shutdown().map_err(|e| Error::io(Op::Shutdown, e))
    }
}

/// Logs a send (the frame at trace level, our close frame at debug level).
#[inline]
pub(crate) fn log_send(message: &Outgoing<'_>) {
    // Inlined: most sends log nothing.
    if matches!(message, Outgoing::Close(_))
        || log::log_enabled!(target: "ws_client::frame", log::Level::Trace)
    {
        log_sending(message);
    }
}

#[inline(never)]
fn log_sending(message: &Outgoing<'_>) {
    if log::log_enabled!(target: "ws_client::frame", log::Level::Trace) {
        let payload = payload_of(message);
        log::trace!(
            target: "ws_client::frame",
            "send {} len={} {}",
            opcode_of(message).name(),
            payload.len(),
            Preview(payload)
        );
    }
    if let Outgoing::Close(close) = message {
        log::debug!(
            target: "ws_client",
            "sending close {}",
            close.map_or_else(|| "without code".to_owned(), |(c, _)| c.to_string())
        );
    }
}

/// Logs a reply that closes (the close echo, the failing close).
pub(crate) fn log_reply(reply: &Reply) {
    if let Reply::Fail(code)
    | Reply::CloseEcho {
        code: Some(code), ..
    } = reply
    {
        log::debug!(target: "ws_client", "answering with close {code}");
    }
}

pub(crate) fn broken() -> Error {
    Error::closed(None, "an earlier write failed part-way".to_owned())
}

/// The engine's refusal as the client's error: after our close frame it is
/// [`Error::ConnectionClosed`] (Python raises `WebSocketConnectionClosedException`).
pub(crate) fn send_error(e: SendError) -> Error {
    match e {
        SendError::CloseSent => Error::closed(None, "a close frame was already sent".to_owned()),
        // The system random source gave no mask key: nothing was sent.
        SendError::MaskKey(e) => Error::Random {
            op: Op::Write,
            source: std::io::Error::other(e.to_string()),
        },
        other => Error::InvalidFrame(other),
    }
}

pub(crate) fn payload_of<'a>(message: &Outgoing<'a>) -> &'a [u8] {
    match *message {
        Outgoing::Text(text) => text.as_bytes(),
        Outgoing::Binary(data) | Outgoing::Ping(data) | Outgoing::Pong(data) => data,
        Outgoing::Fragment { payload, .. } | Outgoing::Frame { payload, .. } => payload,
        Outgoing::Close(close) => close.map_or(&[], |(_, reason)| reason.as_bytes()),
        _ => &[],
    }
}

pub(crate) fn opcode_of(message: &Outgoing<'_>) -> OpCode {
    match *message {
        Outgoing::Text(_) => OpCode::Text,
        Outgoing::Ping(_) => OpCode::Ping,
        Outgoing::Pong(_) => OpCode::Pong,
        Outgoing::Close(_) => OpCode::Close,
        Outgoing::Fragment { opcode, .. } | Outgoing::Frame { opcode, .. } => opcode,
        _ => OpCode::Binary,
    }
}

/// What the read and write halves share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) writer: Mutex<Writer>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock cannot leave a half-written frame unnoticed: the
        // writer marks itself broken before any partial write returns, so the state stays
        // consistent and the poison flag can be ignored.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A cloneable handle that sends on the connection from any thread, also while another
/// thread blocks in [`WebSocket::recv`](crate::WebSocket::recv) or
/// [`Reader::recv`](crate::Reader::recv).
///
/// Get one with [`WebSocket::sender`](crate::WebSocket::sender) or
/// [`WebSocket::split`](crate::WebSocket::split). Each frame is written under a lock, so
/// frames from concurrent senders never interleave on the wire. `Sender` is
/// `Send + Sync + Clone`.
///
/// Methods named `send_*` write the frame and flush; [`write`](Self::write) only queues it
/// in the write buffer (batching many small messages into one system call) until
/// [`flush`](Self::flush) or until the buffer is full.
#[derive(Debug, Clone)]
pub struct Sender {
    pub(crate) shared: Arc<Shared>,
}

/// The send surface of [`Sender`], forwarded once for each type that sends through one
/// (`WebSocket`, `AppHandle`): every method calls `self.$get()?` (a `Result` of a
/// `Sender` or `&Sender`) and the `Sender` method of the same name, whose docs say what it
/// does.
macro_rules! send_surface {
    ($get:ident, $no_connection:literal) => {
        /// Sends a text message; see [`Sender::send_text`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::send_text`].
        pub fn send_text(&self, text: &str) -> $crate::Result<()> {
            self.$get()?.send_text(text)
        }

        /// Sends a binary message; see [`Sender::send_binary`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::send_binary`].
        pub fn send_binary(&self, data: &[u8]) -> $crate::Result<()> {
            self.$get()?.send_binary(data)
        }

        /// Sends a message of any kind; see [`Sender::send`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::send`].
        pub fn send(&self, message: &$crate::Message) -> $crate::Result<()> {
            self.$get()?.send(message)
        }

        /// Queues a message without flushing (batching); see [`Sender::write`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::write`].
        pub fn write(&self, message: &$crate::Message) -> $crate::Result<()> {
            self.$get()?.write(message)
        }

        /// Sends messages in order under one lock, flushing once; see
        /// [`Sender::send_batch`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::send_batch`].
        pub fn send_batch<'m, I>(&self, messages: I) -> $crate::Result<()>
        where
            I: IntoIterator<Item = &'m $crate::Message>,
        {
            self.$get()?.send_batch(messages)
        }

        /// Writes out everything queued by `write`; see [`Sender::flush`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::flush`].
        pub fn flush(&self) -> $crate::Result<()> {
            self.$get()?.flush()
        }

        /// Sends a ping (at most 125 bytes); see [`Sender::ping`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::ping`].
        pub fn ping(&self, payload: &[u8]) -> $crate::Result<()> {
            self.$get()?.ping(payload)
        }

        /// Sends a pong (at most 125 bytes); see [`Sender::pong`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::pong`].
        pub fn pong(&self, payload: &[u8]) -> $crate::Result<()> {
            self.$get()?.pong(payload)
        }

        /// Sends one frame after checking it against RFC 6455; see
        /// [`Sender::send_frame`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::send_frame`].
        pub fn send_frame(&self, frame: &$crate::Frame) -> $crate::Result<()> {
            self.$get()?.send_frame(frame)
        }

        /// Sends one fragment of a message; see [`Sender::send_fragment`].
        ///
        /// # Errors
        ///
        #[doc = $no_connection]
        /// else as [`Sender::send_fragment`].
        pub fn send_fragment(
            &self,
            opcode: $crate::OpCode,
            payload: &[u8],
            fin: ::ws_frame::Fin,
        ) -> $crate::Result<()> {
            self.$get()?.send_fragment(opcode, payload, fin)
        }
    };
}
pub(crate) use send_surface;

impl Sender {
    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] after a close frame was sent or a write failed,
    /// [`Error::Timeout`] when the write timeout passes (the connection is then unusable),
    /// [`Error::Io`].
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.send_now(Outgoing::Text(text))
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.send_now(Outgoing::Binary(data))
    }

    /// Sends a message: text, binary, ping, pong or close (`Message::Close` sends the
    /// close frame only; see [`WebSocket::close`](crate::WebSocket::close) for the whole
    /// closing handshake).
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text), plus [`Error::InvalidFrame`] for a ping or pong
    /// over 125 bytes or an unsendable close code.
    pub fn send(&self, message: &Message) -> Result<()> {
        self.send_now(outgoing(message))
    }

    /// Queues a message in the write buffer without flushing (batching). The buffer is
    /// written when full, by [`flush`](Self::flush), or by any `send_*` call.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub fn write(&self, message: &Message) -> Result<()> {
        self.shared.lock().queue(outgoing(message))
    }

    /// Writes everything queued by [`write`](Self::write) and flushes the stream.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn flush(&self) -> Result<()> {
        self.shared.lock().flush()
    }

    /// Sends `messages` in order under one lock, then flushes once: no other sender's
    /// frame goes between them, and a batch of small messages costs one lock and
    /// usually one system call (what [`write`](Self::write) for each and then
    /// [`flush`](Self::flush) do, without the lock per message). The iterator runs with
    /// the connection's write lock held, so it must not send on this connection itself.
    ///
    /// ```no_run
    /// use ws_client::Message;
    ///
    /// # fn main() -> ws_client::Result<()> {
    /// let ws = ws_client::connect("ws://127.0.0.1:9001/")?;
    /// let ticks: Vec<Message> = (0..100).map(|i| Message::Text(format!("tick {i}"))).collect();
    /// ws.send_batch(&ticks)?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), for the first message refused: the messages before it are
    /// flushed, it and the ones after it are not sent.
    pub fn send_batch<'m, I>(&self, messages: I) -> Result<()>
    where
        I: IntoIterator<Item = &'m Message>,
    {
        let mut w = self.shared.lock();
        for message in messages {
            if let Err(e) = w.queue(outgoing(message)) {
                // What was queued before the refused message still goes out.
                let _ = w.flush();
                return Err(e);
            }
        }
        w.flush()
    }

    /// Sends a ping with `payload` (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for more than 125 bytes, else as
    /// [`send_text`](Self::send_text).
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.send_now(Outgoing::Ping(payload))
    }

    /// Sends a pong with `payload` (at most 125 bytes); an unsolicited pong is a
    /// heartbeat.
    ///
    /// # Errors
    ///
    /// As [`ping`](Self::ping).
    pub fn pong(&self, payload: &[u8]) -> Result<()> {
        self.send_now(Outgoing::Pong(payload))
    }

    /// Sends one frame as given, after checking it against RFC 6455: control frames must
    /// be final and carry at most 125 bytes, reserved bits need a negotiated extension
    /// (none is), a close payload needs a sendable code and a UTF-8 reason, continuation
    /// frames need an open fragmented message, and a text or binary frame cannot start
    /// while one is open. A rejected frame writes nothing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for the rules above, else as
    /// [`send_text`](Self::send_text).
    pub fn send_frame(&self, frame: &Frame) -> Result<()> {
        self.send_now(Outgoing::Frame {
            fin: frame.fin,
            rsv: frame.rsv,
            opcode: frame.opcode,
            payload: &frame.payload,
        })
    }

    /// Sends one fragment of a message: the first with `OpCode::Text` or
    /// `OpCode::Binary`, the following ones with `OpCode::Continuation`, the last with
    /// [`Fin::Final`](ws_frame::Fin::Final), the others [`Fin::More`](ws_frame::Fin::More).
    /// Pings and pongs may go between fragments. A text message's UTF-8 is checked by the
    /// receiver across fragments.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for a continuation without a started message, a new message
    /// while one is open, or a control opcode; else as [`send_text`](Self::send_text).
    pub fn send_fragment(&self, opcode: OpCode, payload: &[u8], fin: ws_frame::Fin) -> Result<()> {
        self.send_now(Outgoing::Fragment {
            opcode,
            payload,
            fin,
        })
    }

    /// Sends a close frame with `code` and `reason` (at most 123 bytes) without waiting
    /// for the peer's answer; the reading side then receives the peer's close. For the
    /// whole handshake use [`WebSocket::close`](crate::WebSocket::close).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for an unsendable code (1005, 1006, 1015, undefined) or a
    /// reason over 123 bytes; [`Error::ConnectionClosed`] when a close was already sent;
    /// else as [`send_text`](Self::send_text).
    pub fn send_close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.send_now(Outgoing::Close(Some((code, reason))))
    }

    /// Shuts the TCP connection down in both directions at once, without a closing
    /// handshake, waking a thread blocked in `recv` (which then returns
    /// [`Error::ConnectionClosed`]). Python's `abort()`.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the socket cannot be shut down (for example it already was).
    pub fn abort(&self) -> Result<()> {
        self.shared.lock().shutdown()
    }

    /// Sets the write timeout of the connection (`None` blocks).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the socket refuses the option.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.shared.lock().set_write_timeout(timeout)
    }

    fn send_now(&self, message: Outgoing<'_>) -> Result<()> {
        let mut w = self.shared.lock();
        w.queue(message)?;
        w.flush()
    }
}

pub(crate) fn outgoing(message: &Message) -> Outgoing<'_> {
    match message {
        Message::Text(text) => Outgoing::Text(text),
        Message::Binary(data) => Outgoing::Binary(data),
        Message::Ping(data) => Outgoing::Ping(data),
        Message::Pong(data) => Outgoing::Pong(data),
        Message::Close(close) => Outgoing::Close(close.as_ref().map(|(c, r)| (*c, r.as_str()))),
    }
}
