//! The read side: one reusable read buffer, zero-copy decoding with `ws-frame`'s
//! [`Decoder`], message reassembly, automatic pongs and close replies, and [`Reader`], the
//! receiving half of a split connection.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use ws_frame::{CloseCode, CloseFrame, Decoder, Event, FrameHeader, Message, OpCode, PayloadError};
use ws_net::ReadHalf;

use crate::deflate::Decompressor;
use crate::error::{Error, Op, Result};
use crate::frame::Frame;
use crate::logging::Preview;
use crate::sender::{Sender, Shared};

/// Size of the read buffer. It never grows: large payloads are read straight into the
/// message being assembled.
pub(crate) const READ_BUFFER: usize = 16 * 1024;

/// Payloads with at least this many bytes still to come are read directly into the
/// message buffer (large reads, no copy through the read buffer).
const DIRECT_MIN: u64 = 4096;

/// The most read directly in one go, bounding what a peer's declared length reserves
/// (the default frame limit, so a default-sized frame is read into one allocation
/// without growing it half-way).
const DIRECT_MAX: u64 = 16 << 20;

/// The peer's close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseInfo {
    /// The close code; `None` when the close frame was empty.
    pub code: Option<CloseCode>,
    /// The reason (empty when none).
    pub reason: String,
}

/// What one call to [`Input::next_frame`] produced.
#[derive(Debug)]
enum Got {
    /// A data frame ended; its payload was appended to the caller's buffer.
    Data(FrameHeader),
    /// A control frame with its payload.
    Control(FrameHeader, Vec<u8>),
}

/// Whether the reading side can still deliver frames.
#[derive(Debug, Clone)]
enum State {
    Open,
    /// The peer's close frame arrived.
    CloseReceived(CloseInfo),
    /// The connection ended or failed; further reads report this.
    Ended {
        code: Option<CloseCode>,
        reason: String,
    },
}

/// The byte source and frame decoder.
#[derive(Debug)]
struct Input {
    half: ReadHalf,
    /// Initialised read buffer; `buf[start..end]` holds unread bytes.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    decoder: Decoder,
    /// The data frame whose payload is arriving, and how many bytes are left.
    streaming: Option<(FrameHeader, u64)>,
    /// The permessage-deflate decompressor, when negotiated.
    deflate: Option<Decompressor>,
}

impl Input {
    /// Reads until one frame is complete. Data payloads are appended to `out`.
    fn next_frame(&mut self, out: &mut Vec<u8>) -> Result<Got> {
        loop {
            if self.start < self.end {
                let decoded = self.decoder.decode(&mut self.buf[self.start..self.end])?;
                self.start += decoded.consumed;
                if self.start == self.end {
                    self.start = 0;
                    self.end = 0;
                }
                match decoded.event {
                    Some(Event::Frame { header, payload }) => {
                        log::trace!(
                            target: "ws_client::frame",
                            "recv {} fin={} len={} {}",
                            header.opcode.name(),
                            header.fin,
                            payload.len(),
                            Preview(payload)
                        );
                        if header.opcode.is_control() {
                            return Ok(Got::Control(header, payload.to_vec()));
                        }
                        if let Some(deflate) = &mut self.deflate {
                            deflate.on_header(&header);
                        }
                        take_data(&mut self.deflate, payload, out)?;
                        end_frame(&mut self.deflate, &header, out)?;
                        return Ok(Got::Data(header));
                    }
                    Some(Event::Header(header)) => {
                        log::trace!(
                            target: "ws_client::frame",
                            "recv {} fin={} len={} (streaming)",
                            header.opcode.name(),
                            header.fin,
                            header.payload_len
                        );
                        self.streaming = Some((header, header.payload_len));
                        if let Some(deflate) = &mut self.deflate {
                            deflate.on_header(&header);
                        }
                        continue;
                    }
                    Some(Event::Payload { data, last }) => {
                        take_data(&mut self.deflate, data, out)?;
                        let n = data.len();
                        if let Some(done) = self.advance(n, last) {
                            end_frame(&mut self.deflate, &done, out)?;
                            return Ok(Got::Data(done));
                        }
                        continue;
                    }
                    None => {}
                }
            }
            match self.streaming {
                // Compressed payloads go through the decompressor instead.
                Some((_, remaining))
                    if self.start == self.end
                        && remaining >= DIRECT_MIN
                        && !self.deflate.as_ref().is_some_and(Decompressor::active) =>
                {
                    if let Some(done) = self.read_direct(out, remaining)? {
                        return Ok(Got::Data(done));
                    }
                }
                _ => self.fill()?,
            }
        }
    }

    /// Accounts for `n` streamed payload bytes; returns the header when the frame ended.
    fn advance(&mut self, n: usize, last: bool) -> Option<FrameHeader> {
        let (header, remaining) = self.streaming.as_mut()?;
        *remaining = remaining.saturating_sub(n as u64);
        if last {
            let header = *header;
            self.streaming = None;
            Some(header)
        } else {
            None
        }
    }

    /// Reads more bytes into the read buffer.
    fn fill(&mut self) -> Result<()> {
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                // Only reachable with a frame head larger than the buffer, which the
                // decoder never asks for (control frames are at most 139 bytes).
                let len = self.buf.len() * 2;
                self.buf.resize(len, 0);
            }
        }
        let n = self
            .half
            .read(&mut self.buf[self.end..])
            .map_err(|e| Error::io(Op::Read, e))?;
        if n == 0 {
            return Err(Error::abnormal_close());
        }
        self.end += n;
        Ok(())
    }

    /// Reads up to `remaining` payload bytes straight into `out`, then lets the decoder
    /// check them in place (UTF-8 for text). Returns the header when the frame ended.
    fn read_direct(&mut self, out: &mut Vec<u8>, remaining: u64) -> Result<Option<FrameHeader>> {
        let want = remaining.min(DIRECT_MAX);
        let before = out.len();
        #[allow(
            clippy::cast_possible_truncation,
            reason = "want is at most DIRECT_MAX (8 MiB)"
        )]
        out.reserve(want as usize);
        let result = (&mut self.half).take(want).read_to_end(out);
        let got = out.len() - before;
        let mut done = None;
        let mut pos = before;
        while pos < out.len() {
            let decoded = self.decoder.decode(&mut out[pos..])?;
            match decoded.event {
                Some(Event::Payload { data, last }) => {
                    // Server frames are not masked: `data` is `out[pos..pos + n]` in place.
                    let n = data.len();
                    pos += decoded.consumed;
                    done = self.advance(n, last);
                }
                _ => {
                    // The decoder is mid-frame and only gets this frame's bytes, so it
                    // always answers with payload; anything else means a decoder change.
                    return Err(Error::Io {
                        op: Op::Read,
                        source: std::io::Error::other("decoder lost the frame boundary"),
                    });
                }
            }
        }
        match result {
            Err(e) => Err(Error::io(Op::Read, e)),
            Ok(_) if (got as u64) < want && done.is_none() => Err(Error::abnormal_close()),
            Ok(_) => Ok(done),
        }
    }
}

/// The receiving half of a connection: everything that reads.
///
/// A [`WebSocket`](crate::WebSocket) holds one; [`WebSocket::split`](crate::WebSocket::split)
/// hands it out so one thread receives while others send with the [`Sender`]. It still
/// answers pings and the peer's close through the shared write side.
#[derive(Debug)]
pub struct Reader {
    input: Input,
    /// The message being reassembled and its opcode.
    msg: Vec<u8>,
    msg_opcode: Option<OpCode>,
    /// The payload of the frame [`recv_frame`](Self::recv_frame) is receiving, kept across
    /// read timeouts.
    frame: Vec<u8>,
    auto_pong: bool,
    state: State,
    shared: Arc<Shared>,
}

impl Reader {
    pub(crate) fn new(
        half: ReadHalf,
        rest: &[u8],
        decoder: Decoder,
        auto_pong: bool,
        shared: Arc<Shared>,
    ) -> Self {
        let mut buf = vec![0; READ_BUFFER.max(rest.len())];
        buf[..rest.len()].copy_from_slice(rest);
        Self {
            input: Input {
                half,
                buf,
                start: 0,
                end: rest.len(),
                decoder,
                streaming: None,
                deflate: None,
            },
            msg: Vec::new(),
            msg_opcode: None,
            frame: Vec::new(),
            auto_pong,
            state: State::Open,
            shared,
        }
    }

    /// Inflates compressed messages from now on (permessage-deflate).
    pub(crate) fn with_deflate(mut self, deflate: Option<Decompressor>) -> Self {
        self.input.deflate = deflate;
        self
    }

    /// A [`Sender`] for this connection.
    pub fn sender(&self) -> Sender {
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Receives the next text or binary message, reassembling fragments. Pings are
    /// answered (unless turned off with
    /// [`ClientBuilder::auto_pong`](crate::ClientBuilder::auto_pong)) and skipped, as are
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
        self.recv_inner(false)
    }

    /// Like [`recv`](Self::recv), but pings and pongs are returned too (after the
    /// automatic pong), as Python's `recv_data(control_frame=True)` does.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn recv_with_control(&mut self) -> Result<Message> {
        self.recv_inner(true)
    }

    /// Python's `recv_data`: the opcode and payload bytes of the next message (text is not
    /// converted to a `String`); control frames are returned only if `control_frames`.
    /// A close frame gives `OpCode::Close` and its raw payload.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv).
    pub fn recv_data(&mut self, control_frames: bool) -> Result<(OpCode, Vec<u8>)> {
        self.check_open()?;
        loop {
            match self.next_frame_or_fail()? {
                Got::Data(header) => {
                    if let Some(data) = self.on_data(header) {
                        return Ok(data);
                    }
                }
                Got::Control(header, payload) => {
                    if let Some(message) = self.on_control(header, payload, control_frames)? {
                        return Ok(match message {
                            Message::Ping(p) => (OpCode::Ping, p),
                            Message::Pong(p) => (OpCode::Pong, p),
                            Message::Close(close) => (OpCode::Close, close_payload(close)),
                            Message::Text(t) => (OpCode::Text, t.into_bytes()),
                            Message::Binary(b) => (OpCode::Binary, b),
                        });
                    }
                }
            }
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
        self.check_open()?;
        // Payload bytes of a frame cut by a read timeout stay in `self.frame`.
        let (header, payload) = match self.input.next_frame(&mut self.frame) {
            Ok(Got::Data(header)) => (header, std::mem::take(&mut self.frame)),
            Ok(Got::Control(header, data)) => (header, data),
            Err(e) => return Err(self.fail(e)),
        };
        if header.opcode == OpCode::Close {
            self.state = State::CloseReceived(parse_close(&payload));
        }
        Ok(Frame {
            fin: header.fin,
            rsv: header.rsv_bits(),
            opcode: header.opcode,
            payload,
        })
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
        match &self.state {
            State::CloseReceived(info) => Some(info),
            _ => None,
        }
    }

    /// Sets the read timeout (`None` blocks). After a read timeout the connection is
    /// intact: partial frames stay buffered.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the socket refuses the option.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.input
            .half
            .set_read_timeout(timeout)
            .map_err(|e| Error::io(Op::Configure, e))
    }

    /// Whether the peer's close frame arrived or the connection ended.
    pub fn is_closed(&self) -> bool {
        !matches!(self.state, State::Open)
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        match &self.state {
            State::Open => Ok(()),
            State::CloseReceived(info) => Err(Error::ConnectionClosed {
                code: info.code,
                reason: info.reason.clone(),
            }),
            State::Ended { code, reason } => Err(Error::ConnectionClosed {
                code: *code,
                reason: reason.clone(),
            }),
        }
    }

    fn recv_inner(&mut self, control_frames: bool) -> Result<Message> {
        self.check_open()?;
        loop {
            match self.next_frame_or_fail()? {
                Got::Data(header) => {
                    if let Some((opcode, data)) = self.on_data(header) {
                        return self.finish_message(opcode, data);
                    }
                }
                Got::Control(header, payload) => {
                    if let Some(message) = self.on_control(header, payload, control_frames)? {
                        return Ok(message);
                    }
                }
            }
        }
    }

    fn next_frame_or_fail(&mut self) -> Result<Got> {
        self.input
            .next_frame(&mut self.msg)
            .map_err(|e| self.fail(e))
    }

    /// A data frame ended: returns the whole message when it was the last one.
    fn on_data(&mut self, header: FrameHeader) -> Option<(OpCode, Vec<u8>)> {
        if header.opcode != OpCode::Continuation {
            self.msg_opcode = Some(header.opcode);
        }
        if header.fin {
            let opcode = self.msg_opcode.take().unwrap_or(header.opcode);
            Some((opcode, std::mem::take(&mut self.msg)))
        } else {
            None
        }
    }

    fn on_control(
        &mut self,
        header: FrameHeader,
        payload: Vec<u8>,
        control_frames: bool,
    ) -> Result<Option<Message>> {
        match header.opcode {
            OpCode::Ping => {
                if self.auto_pong {
                    let result = self.shared.lock().auto_pong(&payload);
                    result.map_err(|e| self.fail(e))?;
                }
                Ok(control_frames.then_some(Message::Ping(payload)))
            }
            OpCode::Pong => Ok(control_frames.then_some(Message::Pong(payload))),
            _ => {
                let info = parse_close(&payload);
                log::debug!(
                    target: "ws_client",
                    "peer sent close {}",
                    info.code
                        .map_or_else(|| "without code".to_owned(), |c| format!("{c} {:?}", info.reason))
                );
                {
                    let mut w = self.shared.lock();
                    if !w.close_sent() {
                        // Echo the peer's code (RFC 6455 section 5.5.1); 1000 for none.
                        let code = info.code.unwrap_or(CloseCode::NORMAL);
                        if w.queue_close(Some(code), "").is_ok() {
                            let _ = w.flush();
                        }
                    }
                }
                let message = Message::Close(info.code.map(|c| (c, info.reason.clone())));
                self.state = State::CloseReceived(info);
                self.msg.clear();
                self.msg_opcode = None;
                Ok(Some(message))
            }
        }
    }

    fn finish_message(&mut self, opcode: OpCode, data: Vec<u8>) -> Result<Message> {
        if opcode == OpCode::Text {
            if self.input.decoder.validates_utf8() {
                debug_assert!(
                    std::str::from_utf8(&data).is_ok(),
                    "decoder let bad UTF-8 by"
                );
                // SAFETY: with validation on, the decoder checked every byte of this
                // message as UTF-8 before it reached `data`: whole frames with
                // `validate_whole`, streamed and directly read pieces through its
                // `Utf8Validator`, and `Utf8Validator::finish` at the final frame (a code
                // point cut at the end fails there). A compressed message skips the
                // decoder's check (its payload is deflate data), but then `Decompressor`,
                // built from the same `validate_utf8` option as the decoder (see
                // `WebSocket::new`), feeds every inflated byte of a text message to
                // its own `Utf8Validator` and calls `finish` at the message end before the
                // bytes reach `data`. A message is only finished after its
                // final frame decoded without error, and bytes are only ever appended to
                // `msg` after the decoder returned them. Checking again with
                // `String::from_utf8` would be a second pass over the whole message (for
                // 1 MiB of mixed text, slower than the first, SIMD one).
                #[allow(unsafe_code, reason = "skips a second UTF-8 pass; proof above")]
                return Ok(Message::Text(unsafe { String::from_utf8_unchecked(data) }));
            }
            match String::from_utf8(data) {
                Ok(text) => Ok(Message::Text(text)),
                Err(e) => {
                    // Validation is turned off: still never hand out invalid text.
                    let offset = e.utf8_error().valid_up_to() as u64;
                    Err(self.fail(Error::Payload(PayloadError::InvalidUtf8 { offset })))
                }
            }
        } else {
            Ok(Message::Binary(data))
        }
    }

    /// Records a read error; for protocol and payload errors, first sends the close code
    /// the error calls for (RFC 6455 section 7.1.7: fail the connection).
    fn fail(&mut self, e: Error) -> Error {
        match &e {
            Error::Protocol(p) => {
                log::debug!(target: "ws_client", "failing the connection: {p}");
                self.shared.lock().fail(p.close_code());
                self.end(Some(p.close_code()), p.to_string());
            }
            Error::Payload(p) => {
                log::debug!(target: "ws_client", "failing the connection: {p}");
                self.shared.lock().fail(p.close_code());
                self.end(Some(p.close_code()), p.to_string());
            }
            Error::ConnectionClosed { code, reason } => {
                log::debug!(target: "ws_client", "connection lost without a close frame");
                let (code, reason) = (*code, reason.clone());
                self.end(code, reason);
            }
            Error::Io { .. } => self.end(None, e.to_string()),
            _ => {}
        }
        e
    }

    fn end(&mut self, code: Option<CloseCode>, reason: String) {
        if matches!(self.state, State::Open) {
            self.state = State::Ended { code, reason };
        }
    }

    /// Reads until the peer closes the TCP connection or `deadline` passes, discarding
    /// anything received (the closing handshake is over).
    pub(crate) fn drain_until_eof(&mut self, timeout: Option<Duration>) {
        if self.input.half.set_read_timeout(timeout).is_err() {
            return;
        }
        let mut scratch = [0; 1024];
        while let Ok(n) = self.input.half.read(&mut scratch) {
            if n == 0 {
                break;
            }
        }
    }

    pub(crate) fn mark_ended(&mut self) {
        self.end(None, "the connection was closed locally".to_owned());
    }
}

/// Appends a data payload to `out`, inflating it when the message is compressed.
fn take_data(deflate: &mut Option<Decompressor>, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
    match deflate {
        Some(deflate) if deflate.active() => deflate.push(data, out),
        _ => {
            out.extend_from_slice(data);
            Ok(())
        }
    }
}

/// At the end of a compressed message's last frame, inflates the stripped tail.
fn end_frame(
    deflate: &mut Option<Decompressor>,
    header: &FrameHeader,
    out: &mut Vec<u8>,
) -> Result<()> {
    match deflate {
        Some(deflate) if header.fin && deflate.active() => deflate.finish(out),
        _ => Ok(()),
    }
}

/// The payload of a close frame the decoder already validated.
fn parse_close(payload: &[u8]) -> CloseInfo {
    match CloseFrame::parse(payload) {
        Ok(Some(frame)) => CloseInfo {
            code: Some(frame.code),
            reason: frame.reason.to_owned(),
        },
        _ => CloseInfo {
            code: None,
            reason: String::new(),
        },
    }
}

fn close_payload(close: Option<(CloseCode, String)>) -> Vec<u8> {
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
