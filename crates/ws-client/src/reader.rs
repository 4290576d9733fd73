//! The read side: [`Reader`], the receiving half of a connection, over the receive half
//! of `ws-frame`'s engine ([`Inbound`]) and the socket's read half.
//!
//! The engine decodes, checks, reassembles, inflates and decides what to answer; this file
//! only reads bytes into the space it lends (large payloads straight into the message),
//! passes its replies to the write side, and turns its errors into the client's.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use ws_frame::{Inbound, Incoming, Message, MessageRef, OpCode, RecvError};
use ws_net::ReadHalf;

pub use ws_frame::CloseInfo;

use crate::error::{Error, Op, Result};
use crate::frame::Frame;
use crate::logging::Preview;
use crate::sender::{Sender, Shared};

/// Size of the read buffer. Large payloads are read straight into the message being
/// assembled instead.
pub(crate) const READ_BUFFER: usize = 16 * 1024;

/// Whether [`Reader::recv_data`] returns pings and pongs or skips them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_enums,
    reason = "returned or not: there is no third way"
)]
pub enum Controls {
    /// Skip pings and pongs (answering pings as configured): Python's default.
    Skip,
    /// Return pings and pongs too: Python's `control_frame=True`.
    Return,
}

/// The largest rest of a frame read straight into the message with reads of all that is
/// left; larger ones go through `read_to_end`.
const ONE_READ: usize = 256 * 1024;

/// The receiving half of a connection: everything that reads.
///
/// A [`WebSocket`](crate::WebSocket) holds one; [`WebSocket::split`](crate::WebSocket::split)
/// hands it out so one thread receives while others send with the [`Sender`]. It still
/// answers pings and the peer's close through the shared write side.
#[derive(Debug)]
pub struct Reader {
    half: ReadHalf,
    engine: Inbound,
    shared: Arc<Shared>,
}

impl Reader {
    pub(crate) fn new(half: ReadHalf, engine: Inbound, shared: Arc<Shared>) -> Self {
        Self {
            half,
            engine,
            shared,
        }
    }

    /// A [`Sender`] for this connection.
    pub fn sender(&self) -> Sender {
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Receives the next text or binary message, reassembling fragments. Pings are
    /// answered (unless turned off with
    /// [`Config::ping_reply`](ws_frame::Config::ping_reply) in [`ClientBuilder::connection`](crate::ClientBuilder::connection)) and skipped, as are
    /// pongs. The peer's close frame is answered with the same code and returned once as
    /// [`Message::Close`]; after it every call fails with [`Error::ConnectionClosed`].
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] / [`Error::Payload`] when the peer breaks RFC 6455 (the close
    /// code 1002, 1007 or 1009 has been sent), [`Error::ConnectionClosed`] when the
    /// connection ended (code 1006 if without a close frame), [`Error::Timeout`] when the
    /// read timeout passed (nothing is lost: call again), [`Error::Io`].
    pub fn recv(&mut self) -> Result<Message> {
        loop {
            match self.engine.poll_message() {
                // Only a control frame or an error leaves a reply to pass on.
                Ok(Some(Message::Ping(_) | Message::Pong(_))) => self.send_replies(),
                Ok(Some(message @ Message::Close(_))) => {
                    self.send_replies();
                    return Ok(message);
                }
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {
                    self.send_replies();
                    self.fill()?;
                }
                Err(e) => {
                    self.send_replies();
                    return Err(recv_error(e));
                }
            }
        }
    }

    /// As [`recv`](Self::recv), but the message is lent instead of allocated
    /// ([`MessageRef`]): binary payloads straight from the read buffer, text validated
    /// while copied into a buffer reused from message to message, and a reassembled or
    /// large message from a buffer the next one reuses. No allocation per message once
    /// the buffers have grown; the borrow lasts until the next call on this reader.
    /// [`Message::from`] makes an owned copy.
    ///
    /// ```no_run
    /// use ws_client::MessageRef;
    ///
    /// # fn main() -> ws_client::Result<()> {
    /// let mut ws = ws_client::connect("ws://127.0.0.1:9001/")?;
    /// let mut total = 0;
    /// loop {
    ///     match ws.recv_ref()? {
    ///         MessageRef::Binary(data) => total += data.len(),
    ///         MessageRef::Text(text) => println!("{text}"),
    ///         MessageRef::Close(_) => break,
    ///         _ => {}
    ///     }
    /// }
    /// println!("{total} bytes");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn recv_ref(&mut self) -> Result<MessageRef<'_>> {
        loop {
            let polled = self
                .engine
                .poll_message_ref()
                .map(|m| m.map(|m| m.opcode()));
            match polled {
                Ok(Some(OpCode::Ping | OpCode::Pong)) => self.send_replies(),
                Ok(Some(opcode)) => {
                    if opcode == OpCode::Close {
                        self.send_replies();
                    }
                    break;
                }
                Ok(None) => {
                    self.send_replies();
                    self.fill()?;
                }
                Err(e) => {
                    self.send_replies();
                    return Err(recv_error(e));
                }
            }
        }
        // Passing replies on leaves the lent message in place, so this is always `Some`.
        self.engine
            .lent()
            .ok_or_else(|| Error::closed(None, "the lent message was lost".to_owned()))
    }

    /// Like [`recv`](Self::recv), but pings and pongs are returned too (after the
    /// automatic pong), as Python's `recv_data(control_frame=True)` does.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn recv_with_control(&mut self) -> Result<Message> {
        self.next(Inbound::poll_message)
    }

    /// Python's `recv_data`: the opcode and payload bytes of the next message (text is not
    /// converted to a `String`); pings and pongs are returned only with
    /// [`Controls::Return`] (Python's `control_frame=True`). A close frame gives
    /// `OpCode::Close` and its raw payload.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn recv_data(&mut self, controls: Controls) -> Result<(OpCode, Vec<u8>)> {
        let returned = controls == Controls::Return;
        loop {
            let message = self.recv_with_control()?;
            let data = match message {
                Message::Ping(p) if returned => (OpCode::Ping, p),
                Message::Pong(p) if returned => (OpCode::Pong, p),
                Message::Ping(_) | Message::Pong(_) => continue,
                Message::Close(close) => (OpCode::Close, close_payload(close)),
                Message::Text(t) => (OpCode::Text, t.into_bytes()),
                Message::Binary(b) => (OpCode::Binary, b),
            };
            return Ok(data);
        }
    }

    /// Receives one frame as it arrived: no reassembly, no automatic pong, no close reply
    /// (Python's `recv_frame`). Frames are still checked against RFC 6455 and the limits;
    /// a close frame is remembered (see [`close_frame`](Self::close_frame)).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn recv_frame(&mut self) -> Result<Frame> {
        self.next(Inbound::poll_frame).map(Frame::from)
    }

    /// The next message, and each frame of a fragmented one as it ends: what
    /// [`App`](crate::App) hands to `on_cont_message` and `on_message`.
    pub(crate) fn recv_incoming(&mut self) -> Result<Incoming> {
        self.engine.report_fragments(true);
        self.next(Inbound::poll_incoming)
    }

    /// An iterator over received messages ([`recv`](Self::recv) in a loop). It ends after
    /// the peer's close frame (which it yields) or after yielding an error other than a
    /// timeout.
    pub fn messages(&mut self) -> Messages<'_> {
        Messages {
            reader: self,
            done: false,
        }
    }

    /// The peer's close frame, once received.
    pub fn close_frame(&self) -> Option<&CloseInfo> {
        self.engine.close_frame()
    }

    /// Sets the read timeout (`None` blocks). After a read timeout the connection is
    /// intact: partial frames stay buffered.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the socket refuses the option.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.half
            .set_read_timeout(timeout)
            .map_err(|e| Error::io(Op::Configure, e))
    }

    /// Whether the peer's close frame arrived or the connection ended.
    pub fn is_closed(&self) -> bool {
        self.engine.is_done()
    }

    /// Polls the engine until it gives something, reading whenever it needs bytes, and
    /// passes its replies on to the write side.
    fn next<T>(
        &mut self,
        mut poll: impl FnMut(&mut Inbound) -> std::result::Result<Option<T>, RecvError>,
    ) -> Result<T> {
        loop {
            let polled = poll(&mut self.engine);
            self.send_replies();
            match polled {
                Ok(Some(item)) => return Ok(item),
                Ok(None) => self.fill()?,
                Err(e) => return Err(recv_error(e)),
            }
        }
    }

    /// Hands the engine's replies (pongs, the close echo, the failing close) to the write
    /// side; a write failure there shows up on the next send. Inlined: most calls find
    /// none.
    #[inline]
    fn send_replies(&mut self) {
        if self.engine.has_reply() {
            self.pass_replies();
        }
    }

    #[inline(never)]
    fn pass_replies(&mut self) {
        let mut w = self.shared.lock();
        while let Some(r) = self.engine.poll_reply() {
            if let Err(e) = w.reply(r) {
                log::debug!(target: "ws_client", "reply not sent: {e}");
            }
        }
    }

    /// Reads more bytes into the engine: straight into the message for a large payload,
    /// else into its read buffer.
    fn fill(&mut self) -> Result<()> {
        if let Some((buf, max)) = self.engine.direct_buffer() {
            let before = buf.len();
            let result = if max <= ONE_READ {
                // Reads of as much as the socket has into space zeroed once (safe code
                // cannot read into spare capacity), until the frame's end: `read_to_end`
                // starts at 8 KiB and doubles, 3 system calls for a 48 KiB rest.
                buf.resize(before + max, 0);
                let mut got = 0;
                let result = loop {
                    match self
                        .half
                        .read(buf.get_mut(before + got..).unwrap_or_default())
                    {
                        Ok(0) => break Ok(()),
                        Ok(n) => {
                            got += n;
                            if got >= max {
                                break Ok(());
                            }
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => break Err(e),
                    }
                };
                buf.truncate(before + got);
                result
            } else {
                // Larger rests: `read_to_end` zeroes each byte once however the reads
                // split, and its reads soon grow large.
                (&mut self.half)
                    .take(max as u64)
                    .read_to_end(buf)
                    .map(|_| ())
            };
            let got = buf.len() - before;
            // Whatever arrived before an error or a timeout is kept.
            let committed = self.engine.commit_direct();
            self.send_replies();
            committed.map_err(recv_error)?;
            return match result {
                Err(e) => Err(self.read_failed(e)),
                // The input ended before the frame did.
                Ok(()) if got < max => {
                    self.engine.receive_eof();
                    Ok(())
                }
                Ok(()) => Ok(()),
            };
        }
        let spare = self.engine.spare_mut();
        match self.half.read(spare) {
            Ok(0) => {
                self.engine.receive_eof();
                Ok(())
            }
            Ok(n) => {
                if log::log_enabled!(target: "ws_client::frame", log::Level::Trace) {
                    log::trace!(
                        target: "ws_client::frame",
                        "read {n} bytes {}",
                        Preview(spare.get(..n).unwrap_or_default())
                    );
                }
                self.engine.commit(n);
                Ok(())
            }
            Err(e) => Err(self.read_failed(e)),
        }
    }

    /// A read error: a timeout leaves the connection intact, anything else ends it.
    ///
    /// A timeout means the connection sat idle for the whole read timeout: the buffers
    /// both halves hold with nothing in them go back to the allocator then (and are
    /// taken again when bytes next arrive or leave), so an idle connection costs almost
    /// no memory, while a busy one never pays for it.
    fn read_failed(&mut self, e: std::io::Error) -> Error {
        let peer = self.half.peer_addr().ok();
        let limit = self.half.read_timeout().ok().flatten();
        let error = Error::io_on(Op::Read, e, peer, limit);
        if error.is_timeout() {
            self.engine.release_buffers();
            // A sender busy writing keeps its buffer: never wait for it here.
            if let Ok(mut writer) = self.shared.writer.try_lock() {
                writer.release_buffers();
            }
        } else {
            log::debug!(target: "ws_client", "read failed: {error}");
            self.engine
                .end(Some(ws_frame::CloseCode::ABNORMAL), &error.to_string());
        }
        error
    }

    /// Reads until the peer closes the TCP connection or `timeout` passes, discarding
    /// anything received (the closing handshake is over).
    pub(crate) fn drain_until_eof(&mut self, timeout: Option<Duration>) {
        if self.half.set_read_timeout(timeout).is_err() {
            return;
        }
        let mut scratch = [0; 1024];
        while let Ok(n) = self.half.read(&mut scratch) {
            if n == 0 {
                break;
            }
        }
    }

    pub(crate) fn mark_ended(&mut self) {
        self.engine.end(None, "the connection was closed locally");
    }
}

/// The engine's receive error as the client's.
pub(crate) fn recv_error(e: RecvError) -> Error {
    match e {
        RecvError::Frame(ws_frame::Error::Protocol(p)) => {
            log::debug!(target: "ws_client", "failing the connection: {p}");
            Error::Protocol(p)
        }
        RecvError::Frame(ws_frame::Error::Payload(p)) => {
            log::debug!(target: "ws_client", "failing the connection: {p}");
            Error::Payload(p)
        }
        RecvError::Eof => {
            log::debug!(target: "ws_client", "connection lost without a close frame");
            Error::abnormal_close()
        }
        RecvError::Closed { code, reason } => Error::closed(code, reason),
        other => Error::closed(other.close_code(), other.to_string()),
    }
}

fn close_payload(close: Option<(ws_frame::CloseCode, String)>) -> Vec<u8> {
    match close {
        None => Vec::new(),
        Some((code, reason)) => {
            let mut out = u16::from(code).to_be_bytes().to_vec();
            out.extend_from_slice(reason.as_bytes());
            out
        }
    }
}

/// Iterator over received messages; see [`Reader::messages`] and
/// [`WebSocket::messages`](crate::WebSocket::messages).
#[derive(Debug)]
pub struct Messages<'a> {
    reader: &'a mut Reader,
    done: bool,
}

impl Iterator for Messages<'_> {
    type Item = Result<Message>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.reader.recv();
        match &item {
            Ok(Message::Close(_)) => self.done = true,
            Err(e) if !e.is_timeout() => self.done = true,
            _ => {}
        }
        Some(item)
    }
}
