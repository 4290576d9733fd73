//! The write side: frame encoding into one reusable buffer with fused copy+mask, batching,
//! and [`Sender`], the cloneable handle that sends from any thread.

use std::io::Write;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ws_frame::{CloseCode, CloseFrame, FrameHeader, Message, OpCode, copy_masked};
use ws_net::WriteHalf;

use crate::deflate::Compressor;
use crate::error::{Error, Op, Result};
use crate::frame::Frame;
use crate::logging::Preview;
use crate::mask::MaskSource;

/// The smallest write buffer used, whatever the option says.
const MIN_WRITE_BUFFER: usize = 4096;

/// The chunk in which payloads larger than the write buffer are masked and written (or
/// the write buffer size, if larger). Measured on loopback: 128 KiB chunks cost a 1 MiB
/// message 1.6 times the CPU time of one 1 MiB write; 4 MiB chunks no longer fit the
/// cache next to the payload and get slower again.
const LARGE_CHUNK: usize = 1 << 20;

/// The state of the write half, behind the connection's mutex.
#[derive(Debug)]
pub(crate) struct Writer {
    out: WriteHalf,
    /// Initialised bytes; `buf[..pending]` waits to be written. It only grows (zero-filled
    /// once), up to `max_buffer` for batched frames and up to about
    /// `max(max_buffer, LARGE_CHUNK)` for the chunks of a large payload.
    buf: Vec<u8>,
    pending: usize,
    max_buffer: usize,
    mask: MaskSource,
    /// A close frame was sent: only the closing handshake remains.
    close_sent: bool,
    /// The opcode of the fragmented message being sent, if one is open.
    fragment: Option<OpCode>,
    /// A write failed part-way: the stream may hold half a frame, so nothing more is sent.
    broken: bool,
    /// The permessage-deflate compressor, when negotiated.
    deflate: Option<Compressor>,
}

impl Writer {
    pub(crate) fn new(out: WriteHalf, max_buffer: usize, mask: MaskSource) -> Self {
        Self {
            out,
            buf: Vec::new(),
            pending: 0,
            max_buffer: max_buffer.max(MIN_WRITE_BUFFER),
            mask,
            close_sent: false,
            fragment: None,
            broken: false,
            deflate: None,
        }
    }

    /// Compresses whole text and binary messages from now on (permessage-deflate).
    pub(crate) fn with_deflate(mut self, deflate: Option<Compressor>) -> Self {
        self.deflate = deflate;
        self
    }

    /// Queues a data frame; a whole message is compressed (RSV1 set) when
    /// permessage-deflate is on and the message is not under the threshold. Fragmented
    /// messages go uncompressed.
    fn queue_data(&mut self, fin: bool, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if fin && opcode != OpCode::Continuation && self.fragment.is_none() {
            if let Some(mut deflate) = self.deflate.take() {
                let result = match deflate.compress(payload) {
                    Ok(Some(compressed)) => self.queue(true, 0b100, opcode, compressed),
                    Ok(None) => self.queue(true, 0, opcode, payload),
                    Err(e) => Err(e),
                };
                self.deflate = Some(deflate);
                return result;
            }
        }
        self.queue(fin, 0, opcode, payload)
    }

    pub(crate) fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Queues one frame (header and masked payload) in the buffer, writing the buffer out
    /// whenever it is full. The payload is copied exactly once, masked on the way.
    fn queue(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed {
                code: None,
                reason: "an earlier write failed part-way".to_owned(),
            });
        }
        let key = self.mask.next_key()?;
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        header.fin = fin;
        header.rsv1 = rsv & 0b100 != 0;
        header.rsv2 = rsv & 0b010 != 0;
        header.rsv3 = rsv & 0b001 != 0;
        header.mask = Some(key);
        let mut head = [0; FrameHeader::MAX_LEN];
        let head_len = header.encode(&mut head);
        log::trace!(
            target: "ws_client::frame",
            "send {} fin={fin} len={} {}",
            opcode.name(),
            payload.len(),
            Preview(payload)
        );

        self.make_room(head_len + payload.len())?;
        self.buf[self.pending..self.pending + head_len].copy_from_slice(&head[..head_len]);
        self.pending += head_len;
        let mut done = 0;
        while done < payload.len() {
            if self.pending == self.buf.len() {
                self.make_room(payload.len() - done)?;
            }
            let n = (self.buf.len() - self.pending).min(payload.len() - done);
            let mut phase = key;
            phase.rotate_left(done % 4);
            copy_masked(
                &mut self.buf[self.pending..self.pending + n],
                &payload[done..done + n],
                phase,
            );
            self.pending += n;
            done += n;
        }
        Ok(())
    }

    /// Makes room for up to `wanted` more bytes: grows the buffer or writes out what is
    /// pending. Afterwards at least `min(wanted, 14)` bytes are free.
    ///
    /// Frames batch up to `max_buffer` bytes. A payload larger than that is masked in
    /// chunks of up to `max(max_buffer, LARGE_CHUNK)` bytes plus a header, so a payload of
    /// exactly that size still leaves in one `write`: each extra write of a large message
    /// costs a system call and a wake-up of the receiver.
    fn make_room(&mut self, wanted: usize) -> Result<()> {
        let large = wanted > self.max_buffer;
        let cap = if large {
            self.max_buffer.max(LARGE_CHUNK)
        } else {
            self.max_buffer
        } + FrameHeader::MAX_LEN;
        if self.pending + wanted <= self.buf.len().min(cap) {
            return Ok(());
        }
        let target = (self.pending + wanted)
            .next_power_of_two()
            .clamp(MIN_WRITE_BUFFER, cap);
        if target > self.buf.len() {
            self.buf.resize(target, 0);
        }
        let room = self.buf.len().min(cap).saturating_sub(self.pending);
        if room >= wanted.min(FrameHeader::MAX_LEN) {
            return Ok(());
        }
        self.write_pending(Op::Write)
    }

    /// Writes the pending bytes to the socket (no flush of the socket itself).
    fn write_pending(&mut self, op: Op) -> Result<()> {
        if self.pending == 0 {
            return Ok(());
        }
        let result = self.out.write_all(&self.buf[..self.pending]);
        self.pending = 0;
        result.map_err(|e| {
            self.broken = true;
            Error::io(op, e)
        })
    }

    /// Writes everything pending and flushes the stream.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if self.broken {
            return Err(Error::ConnectionClosed {
                code: None,
                reason: "an earlier write failed part-way".to_owned(),
            });
        }
        self.write_pending(Op::Flush)?;
        self.out.flush().map_err(|e| {
            self.broken = true;
            Error::io(Op::Flush, e)
        })
    }

    /// Validates and queues a frame the caller built; see [`Sender::send_frame`].
    fn queue_checked(
        &mut self,
        fin: bool,
        rsv: u8,
        opcode: OpCode,
        payload: &[u8],
        check_utf8: bool,
    ) -> Result<()> {
        if rsv != 0 {
            return Err(Error::InvalidFrame(format!(
                "reserved bits {rsv:#05b} set but no extension was negotiated"
            )));
        }
        if opcode.is_control() {
            if !fin {
                return Err(Error::InvalidFrame(format!(
                    "{} frames cannot be fragmented",
                    opcode.name()
                )));
            }
            if payload.len() > 125 {
                return Err(Error::InvalidFrame(format!(
                    "{} payload is {} bytes, at most 125 allowed",
                    opcode.name(),
                    payload.len()
                )));
            }
        }
        if self.close_sent {
            return Err(Error::ConnectionClosed {
                code: None,
                reason: "a close frame was already sent".to_owned(),
            });
        }
        match opcode {
            OpCode::Close => {
                check_close_payload(payload)?;
                self.queue(true, 0, opcode, payload)?;
                self.close_sent = true;
            }
            OpCode::Ping | OpCode::Pong => self.queue(true, 0, opcode, payload)?,
            OpCode::Continuation => {
                if self.fragment.is_none() {
                    return Err(Error::InvalidFrame(
                        "continuation frame without a started fragmented message".to_owned(),
                    ));
                }
                self.queue(fin, 0, opcode, payload)?;
                if fin {
                    self.fragment = None;
                }
            }
            OpCode::Text | OpCode::Binary => {
                if let Some(open) = self.fragment {
                    return Err(Error::InvalidFrame(format!(
                        "a fragmented {} message is still open: send continuation frames",
                        open.name()
                    )));
                }
                if opcode == OpCode::Text && fin && check_utf8 {
                    // A whole text frame from raw bytes must still be text.
                    if let Err(e) = std::str::from_utf8(payload) {
                        return Err(Error::InvalidFrame(format!(
                            "text payload is not UTF-8 at byte {}",
                            e.valid_up_to()
                        )));
                    }
                }
                self.queue_data(fin, opcode, payload)?;
                if !fin {
                    self.fragment = Some(opcode);
                }
            }
        }
        Ok(())
    }

    /// Queues a close frame with `code` and `reason`.
    pub(crate) fn queue_close(&mut self, code: Option<CloseCode>, reason: &str) -> Result<()> {
        let mut payload = [0; 125];
        let len = match code {
            Some(code) => CloseFrame::encode(code, reason, &mut payload)
                .map_err(|e| Error::InvalidFrame(e.to_string()))?,
            None if reason.is_empty() => 0,
            None => {
                return Err(Error::InvalidFrame(
                    "a close reason needs a close code".to_owned(),
                ));
            }
        };
        if self.close_sent {
            return Err(Error::ConnectionClosed {
                code: None,
                reason: "a close frame was already sent".to_owned(),
            });
        }
        log::debug!(
            target: "ws_client",
            "sending close {}",
            code.map_or_else(|| "without code".to_owned(), |c| c.to_string())
        );
        self.queue(true, 0, OpCode::Close, &payload[..len])?;
        self.close_sent = true;
        Ok(())
    }

    /// Sends a pong answering a ping, unless the closing handshake started.
    pub(crate) fn auto_pong(&mut self, payload: &[u8]) -> Result<()> {
        if self.close_sent || self.broken {
            return Ok(());
        }
        self.queue(true, 0, OpCode::Pong, payload)?;
        self.flush()
    }

    /// Fails the connection: sends `code` if no close was sent yet, ignoring errors.
    pub(crate) fn fail(&mut self, code: CloseCode) {
        if !self.close_sent && !self.broken && self.queue_close(Some(code), "").is_ok() {
            let _ = self.flush();
        }
    }

    pub(crate) fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.out
            .set_write_timeout(timeout)
            .map_err(|e| Error::io(Op::Configure, e))
    }

    pub(crate) fn shutdown(&mut self) -> Result<()> {
        self.close_sent = true;
        self.out.shutdown().map_err(|e| Error::io(Op::Shutdown, e))
    }
}

/// Checks a raw close payload the caller wants to send.
fn check_close_payload(payload: &[u8]) -> Result<()> {
    match payload {
        [] => Ok(()),
        [_] => Err(Error::InvalidFrame(
            "a close payload must be empty or start with a 2-byte code".to_owned(),
        )),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !CloseCode::from_raw(code).is_sendable() {
                return Err(Error::InvalidFrame(format!(
                    "close code {code} must not be sent (RFC 6455 section 7.4)"
                )));
            }
            std::str::from_utf8(reason).map_err(|e| {
                Error::InvalidFrame(format!(
                    "close reason is not UTF-8 at byte {}",
                    e.valid_up_to()
                ))
            })?;
            Ok(())
        }
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

impl Sender {
    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectionClosed`] after a close frame was sent or a write failed,
    /// [`Error::Timeout`] when the write timeout passes (the connection is then unusable),
    /// [`Error::Io`].
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.send_raw(OpCode::Text, text.as_bytes())
    }

    /// Sends a binary message.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.send_raw(OpCode::Binary, data)
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
        let mut w = self.shared.lock();
        queue_message(&mut w, message)?;
        w.flush()
    }

    /// Queues a message in the write buffer without flushing (batching). The buffer is
    /// written when full, by [`flush`](Self::flush), or by any `send_*` call.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    pub fn write(&self, message: &Message) -> Result<()> {
        queue_message(&mut self.shared.lock(), message)
    }

    /// Writes everything queued by [`write`](Self::write) and flushes the stream.
    ///
    /// # Errors
    ///
    /// As [`send_text`](Self::send_text).
    pub fn flush(&self) -> Result<()> {
        self.shared.lock().flush()
    }

    /// Sends a ping with `payload` (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for more than 125 bytes, else as
    /// [`send_text`](Self::send_text).
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.send_raw(OpCode::Ping, payload)
    }

    /// Sends a pong with `payload` (at most 125 bytes); an unsolicited pong is a
    /// heartbeat.
    ///
    /// # Errors
    ///
    /// As [`ping`](Self::ping).
    pub fn pong(&self, payload: &[u8]) -> Result<()> {
        self.send_raw(OpCode::Pong, payload)
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
        let mut w = self.shared.lock();
        w.queue_checked(frame.fin, frame.rsv, frame.opcode, &frame.payload, true)?;
        w.flush()
    }

    /// Sends one fragment of a message: the first with `OpCode::Text` or
    /// `OpCode::Binary`, the following ones with `OpCode::Continuation`, the last with
    /// `fin = true`. Pings and pongs may go between fragments. A text message's UTF-8 is
    /// checked by the receiver across fragments.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for a continuation without a started message, a new message
    /// while one is open, or a control opcode; else as [`send_text`](Self::send_text).
    pub fn send_fragment(&self, opcode: OpCode, payload: &[u8], fin: bool) -> Result<()> {
        if opcode.is_control() {
            return Err(Error::InvalidFrame(format!(
                "{} frames cannot be fragmented",
                opcode.name()
            )));
        }
        let mut w = self.shared.lock();
        if opcode == OpCode::Text && fin && w.fragment.is_none() {
            // A single-frame text message: same check as send_text would need.
            std::str::from_utf8(payload).map_err(|e| {
                Error::InvalidFrame(format!(
                    "text payload is not UTF-8 at byte {}",
                    e.valid_up_to()
                ))
            })?;
        }
        queue_fragment(&mut w, opcode, payload, fin)?;
        w.flush()
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
        let mut w = self.shared.lock();
        w.queue_close(Some(code), reason)?;
        w.flush()
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

    fn send_raw(&self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        let mut w = self.shared.lock();
        w.queue_checked(true, 0, opcode, payload, false)?;
        w.flush()
    }
}

fn queue_message(w: &mut Writer, message: &Message) -> Result<()> {
    match message {
        Message::Text(text) => w.queue_checked(true, 0, OpCode::Text, text.as_bytes(), false),
        Message::Binary(data) => w.queue_checked(true, 0, OpCode::Binary, data, false),
        Message::Ping(data) => w.queue_checked(true, 0, OpCode::Ping, data, false),
        Message::Pong(data) => w.queue_checked(true, 0, OpCode::Pong, data, false),
        Message::Close(None) => w.queue_close(None, ""),
        Message::Close(Some((code, reason))) => w.queue_close(Some(*code), reason),
    }
}

fn queue_fragment(w: &mut Writer, opcode: OpCode, payload: &[u8], fin: bool) -> Result<()> {
    if opcode == OpCode::Text && fin && w.fragment.is_none() {
        return w.queue_checked(true, 0, opcode, payload, false);
    }
    // Partial text fragments may split a code point; the receiver validates the whole.
    match opcode {
        OpCode::Text | OpCode::Binary => {
            if let Some(open) = w.fragment {
                return Err(Error::InvalidFrame(format!(
                    "a fragmented {} message is still open: send continuation frames",
                    open.name()
                )));
            }
            if w.close_sent {
                return Err(Error::ConnectionClosed {
                    code: None,
                    reason: "a close frame was already sent".to_owned(),
                });
            }
            w.queue(fin, 0, opcode, payload)?;
            if !fin {
                w.fragment = Some(opcode);
            }
            Ok(())
        }
        _ => w.queue_checked(fin, 0, opcode, payload, false),
    }
}
