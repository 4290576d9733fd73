//! [`Inbound`]: the receive half of the engine. Bytes in (into a buffer it lends, or
//! straight into the message being assembled), whole messages or raw frames out, with
//! reassembly, fail-fast UTF-8, limits, inflation, and the replies the send half owes.

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::Config;
use super::config::{CloseEcho, PingReply, Utf8Check};
use super::error::RecvError;
use super::outbound::{ControlPayload, Reply};
use crate::utf8::validate_whole;
use crate::{
    CloseCode, CloseFrame, Decoded, Decoder, Error, Event, Fin, FrameHeader, Limits, Message,
    MessageRef, OpCode, Parsed, PayloadError, Role, Utf8Validator,
};

/// Payloads with at least this many bytes still to come may be read straight into the
/// message ([`Inbound::direct_buffer`]).
const DIRECT_MIN: u64 = 4096;

/// The largest read buffer lent while a large frame streams through it.
const LARGE_READ: usize = 256 * 1024;

/// The largest the read buffer grows to while reads keep filling it (bursts of small
/// messages), until [`Inbound::release_buffers`].
const BURST_READ: usize = 128 * 1024;

/// Reads into an empty read buffer start on a multiple of this many bytes.
const LINE: usize = 64;

/// How far into `buf`'s allocation the first cache line boundary lies. On the AMD EPYC
/// VMs this project is measured on, the kernel's copy into user memory (`rep movsb`) ran
/// 3-4 times slower when the destination sat 8 to 24 bytes past a page boundary, which
/// is where a large allocation begins (after the allocator's 16-byte header): every
/// large text message, read through this buffer, paid it (`docs/PERFORMANCE.md`, "Reads
/// that start on a cache line").
#[inline]
fn line_pad(buf: &[u8]) -> usize {
    let addr = buf.as_ptr() as usize;
    (LINE - addr % LINE) % LINE
}

/// The most lent for one direct read (bounds what a declared length reserves).
const DIRECT_MAX: u64 = 16 << 20;

/// Replies kept for the send half at most; a peer pinging faster than the driver passes
/// replies on loses the oldest pongs (RFC 6455 section 5.5.3 allows answering only the
/// latest ping).
const MAX_REPLIES: usize = 256;

/// The peer's close frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CloseInfo {
    /// The close code; `None` when the close frame was empty.
    pub code: Option<CloseCode>,
    /// The reason (empty when none).
    pub reason: String,
}

/// One frame as it arrived (see [`Inbound::poll_frame`]): header (unmasked) and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame {
    /// The header; `mask` is `None` (the payload is already unmasked).
    pub header: FrameHeader,
    /// The payload: inflated when the frame belongs to a compressed message.
    pub payload: Vec<u8>,
}

#[derive(Debug, Clone)]
enum State {
    Open,
    /// The peer's close frame was delivered.
    CloseReceived(CloseInfo),
    /// Receiving failed or the transport ended.
    Ended(CloseInfo),
}

/// Lent read space; `buf[start..end]` holds bytes not yet decoded.
#[derive(Debug, Default)]
struct ReadBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// The data message being reassembled.
#[derive(Debug, Default)]
struct Assembly {
    kind: Option<OpCode>,
    /// FIN of the frame being streamed.
    fin: bool,
    compressed: bool,
    /// A binary message, text checked at its end, or the inflated bytes of streamed text
    /// on their way into `text`.
    bytes: Vec<u8>,
    /// A text message checked as it streams: validated and copied in one pass, so the
    /// whole message is never validated a second time to become a `String`.
    text: String,
    /// With fragments reported: the current frame's payload.
    frag: Vec<u8>,
    utf8: Utf8Validator,
}

/// Where [`Assembly::push`] puts payload bytes.
enum Target<'a> {
    /// The message being reassembled (and the fragment, when reported).
    Message { fragments: bool },
    /// A raw frame's payload (`poll_frame`).
    Frame(&'a mut Vec<u8>),
}

/// Where payload bytes go: the message (reassembly) or the raw frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Message,
    Frame,
}

/// What one decoding step gave.
enum Step {
    NeedMore,
    Again,
    /// A whole single-frame data message or a control frame (its replies queued), still
    /// in the read buffer at `start..end`: copied out (or lent) by the caller, so no
    /// message moves through this enum.
    Whole {
        opcode: OpCode,
        start: usize,
        end: usize,
    },
    Frame(Frame),
    /// A data frame of a message ended (its payload is in the assembly).
    FrameDone(FrameHeader),
}

/// Where the message [`Inbound::poll_message_ref`] lent lies.
#[derive(Debug, Clone, Copy)]
enum Lent {
    /// Binary, ping or pong payload in the read buffer at `start..end`.
    Read {
        opcode: OpCode,
        start: usize,
        end: usize,
    },
    /// `held`: an assembled message, or text copied out of the read buffer.
    Held,
    /// The peer's close frame (`state`).
    Close,
}

/// What [`Inbound::poll_incoming`] gives: messages, and with
/// [`Inbound::report_fragments`] each frame of a fragmented message as it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Incoming {
    /// A whole message, or a control frame.
    Message(Message),
    /// One frame of a fragmented data message (inflated if compressed), before the whole
    /// [`Message`] that follows the last one. Its text may end inside a code point.
    Fragment {
        /// Text or Binary for the first frame, Continuation after.
        opcode: OpCode,
        /// The frame's payload.
        payload: Vec<u8>,
        /// Whether this frame ends the message.
        fin: Fin,
    },
}

/// The receive half of the engine.
///
/// Give it bytes one of three ways: write into [`spare_mut`](Self::spare_mut) and
/// [`commit`](Self::commit) (no copy), [`receive`](Self::receive) a slice (one copy), or,
/// while a large payload arrives, append to [`direct_buffer`](Self::direct_buffer) and
/// [`commit_direct`](Self::commit_direct) (read straight into the message). Then take
/// [`poll_message`](Self::poll_message) until it gives `None`, and pass every
/// [`poll_reply`](Self::poll_reply) to the send half.
///
/// It enforces every receive rule of RFC 6455 and RFC 7692: frame rules and limits (via
/// [`Decoder`]), reassembly, UTF-8 failing at the first bad byte, close payloads, and
/// inflation bounded by the message limit. An error fails the connection: the error is
/// returned once, a [`Reply::Fail`] with its close code is queued, and every later poll
/// returns [`RecvError::Closed`]. Messages completed before an error or the end of the
/// input are all delivered first.
#[derive(Debug)]
pub struct Inbound {
    decoder: Decoder,
    limits: Limits,
    utf8: Utf8Check,
    ping_reply: PingReply,
    close_echo: CloseEcho,
    read_size: usize,
    /// The read size now: `read_size`, doubled (up to `BURST_READ`) each time a read
    /// filled all the space lent, so a burst takes fewer system calls.
    read_now: usize,
    /// The payload length of the last frame decoded (`u64::MAX` before the first): only
    /// small frames grow the buffer (large ones are best read straight into the message).
    last_len: u64,
    /// How much [`spare_mut`](Self::spare_mut) lent last (`usize::MAX` when sized for
    /// a large frame).
    spare_len: usize,
    rb: ReadBuf,
    asm: Assembly,
    /// The payload of a frame [`poll_frame`](Self::poll_frame) is collecting.
    frame_buf: Vec<u8>,
    /// The data frame whose payload is arriving, and how much is left.
    streaming: Option<(FrameHeader, u64)>,
    /// Results ready to hand out, oldest first.
    ready: VecDeque<Incoming>,
    /// Whether each frame of a fragmented message is reported too.
    fragments: bool,

    /// Where [`direct_buffer`](Self::direct_buffer) lent from.
    direct_from: Option<usize>,
    /// The last poll was [`poll_frame`](Self::poll_frame): payloads go to the frame, not
    /// the message, so nothing is lent for direct reads.
    frame_mode: bool,
    replies: VecDeque<Reply>,
    state: State,
    eof: bool,
    /// What [`poll_message_ref`](Self::poll_message_ref) lent last, until the next call
    /// that may move the bytes.
    lent: Option<Lent>,
    /// The last message lent whole; its buffer is reused for the next message.
    held: Option<Message>,
    #[cfg(feature = "deflate")]
    inflater: Option<crate::deflate::Inflater>,
}

impl Inbound {
    /// The receive half of a connection in `role` (a client expects unmasked frames).
    pub fn new(role: Role, config: &Config) -> Self {
        Self {
            decoder: Decoder::new(role)
                .with_limits(config.limits)
                .with_utf8_validation(false),
            limits: config.limits,
            utf8: config.utf8,
            ping_reply: config.ping_reply,
            close_echo: config.close_echo,
            read_size: config.read_buffer,
            read_now: config.read_buffer,
            spare_len: 0,
            last_len: u64::MAX,
            rb: ReadBuf::default(),
            asm: Assembly::default(),
            frame_buf: Vec::new(),
            streaming: None,
            ready: VecDeque::new(),
            fragments: false,
            direct_from: None,
            frame_mode: false,
            replies: VecDeque::new(),
            state: State::Open,
            eof: false,
            lent: None,
            held: None,
            #[cfg(feature = "deflate")]
            inflater: None,
        }
    }

    /// Inflates compressed messages (RSV1 on their first frame) from now on:
    /// permessage-deflate was negotiated. `peer_context_takeover` is `false` when the
    /// peer's `*_no_context_takeover` was agreed.
    #[cfg(feature = "deflate")]
    pub fn set_inflate(&mut self, peer_context_takeover: bool) {
        let bits = self.decoder.reserved_bits() | 0b100;
        self.decoder = self.decoder.clone().with_reserved_bits(bits);
        self.inflater = Some(crate::deflate::Inflater::new(!peer_context_takeover));
    }

    /// The role this half receives as.
    pub fn role(&self) -> Role {
        self.decoder.role()
    }

    /// Space to read bytes into, then report how many with [`commit`](Self::commit). The
    /// read buffer is allocated here when first needed, grows while a large frame streams
    /// through it (up to 256 KiB, kept while large frames follow) and during bursts of
    /// small frames (see [`Config::read_buffer`](crate::Config::read_buffer)).
    #[inline]
    pub fn spare_mut(&mut self) -> &mut [u8] {
        self.lent = None;
        // The usual case, inlined into the driver, and what the general way also gives:
        // nothing buffered, no large frame streaming, and the buffer allocated at the
        // read size now in force.
        let pad = line_pad(&self.rb.buf);
        if self.rb.start == self.rb.end
            && self.streaming.is_none()
            && self.rb.buf.len() == pad + self.read_now
            && self.rb.buf.capacity() >= self.read_now + LINE
        {
            self.rb.start = pad;
            self.rb.end = pad;
            self.spare_len = self.read_now;
            return self.rb.buf.get_mut(pad..).unwrap_or_default();
        }
        self.spare_general()
    }

    /// [`spare_mut`](Self::spare_mut) in every other case.
    #[inline(never)]
    fn spare_general(&mut self) -> &mut [u8] {
        let rb = &mut self.rb;
        let empty = rb.start == rb.end;
        // While a large frame's payload streams, read in larger pieces (fewer system
        // calls); back to the normal size once the buffer is empty after a small frame.
        // Large frames in a row keep the larger buffer: allocating and zeroing it again
        // for each (fresh pages from the system, every page faulted in) cost more than
        // a second copy of the payload.
        let want = match self.streaming {
            #[allow(clippy::cast_possible_truncation, reason = "clamped to LARGE_READ")]
            Some((_, remaining)) if remaining > self.read_now as u64 => {
                (remaining.min(LARGE_READ as u64) as usize).max(self.read_now)
            }
            _ => self.read_now,
        };
        // The buffer holds `want` bytes after the first cache line boundary of its
        // allocation (see `line_pad`); an empty buffer is read into from there.
        if empty
            && rb.buf.len() > want + LINE
            && want == self.read_now
            && self.last_len < DIRECT_MIN
        {
            rb.buf = Vec::new();
        }
        if rb.buf.capacity() < want + LINE {
            rb.buf.reserve_exact(want + LINE - rb.buf.len());
        }
        let pad = line_pad(&rb.buf);
        if rb.buf.len() < pad + want {
            rb.buf.resize(pad + want, 0);
        }
        if empty {
            rb.start = pad;
            rb.end = pad;
        }
        if rb.end == rb.buf.len() {
            if rb.start > pad {
                rb.buf.copy_within(rb.start..rb.end, pad);
                rb.end -= rb.start - pad;
                rb.start = pad;
            } else {
                // Only for a caller that kept feeding without polling.
                let len = rb.buf.len() * 2;
                rb.buf.resize(len, 0);
            }
        }
        // Only a read of the normal size says a burst is on (not one sized for a frame).
        self.spare_len = if want == self.read_now {
            rb.buf.len() - rb.end
        } else {
            usize::MAX
        };
        rb.buf.get_mut(rb.end..).unwrap_or_default()
    }

    /// Reports that `n` bytes were written at the start of [`spare_mut`](Self::spare_mut)
    /// (more than it lent counts as all of it). A read that filled all the space lent
    /// means more was waiting: if the last frame decoded was small (under 4 KiB; larger
    /// payloads are read straight into their message), the next reads get twice the
    /// space, up to 128 KiB, until [`release_buffers`](Self::release_buffers).
    #[inline]
    pub fn commit(&mut self, n: usize) {
        if n >= self.spare_len && self.last_len < DIRECT_MIN {
            self.read_now = (self.read_now * 2).min(BURST_READ).max(self.read_size);
        }
        self.rb.end = (self.rb.end + n).min(self.rb.buf.len());
    }

    /// Copies received bytes in (as [`spare_mut`](Self::spare_mut) and
    /// [`commit`](Self::commit) would).
    pub fn receive(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let spare = self.spare_mut();
            let n = spare.len().min(data.len());
            let (now, rest) = data.split_at(n);
            if let Some(slot) = spare.get_mut(..n) {
                slot.copy_from_slice(now);
            }
            // Copied bytes say nothing about a burst: the read size stays.
            self.rb.end = (self.rb.end + n).min(self.rb.buf.len());
            data = rest;
        }
    }

    /// The transport ended (a read returned 0 bytes). Messages already complete are still
    /// delivered; then [`poll_message`](Self::poll_message) returns [`RecvError::Eof`]
    /// unless the peer's close frame came first.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// Whether [`receive_eof`](Self::receive_eof) was called.
    pub fn is_eof(&self) -> bool {
        self.eof
    }

    /// Bytes received but not decoded yet.
    pub fn buffered(&self) -> usize {
        self.rb.end - self.rb.start
    }

    /// While a large uncompressed data payload arrives and nothing else is buffered, the
    /// message buffer to append up to the returned number of bytes to, read straight from
    /// the transport (for example `(&mut reader).take(max).read_to_end(buf)`); then call
    /// [`commit_direct`](Self::commit_direct). `None` when bytes should go through
    /// [`spare_mut`](Self::spare_mut).
    #[inline]
    pub fn direct_buffer(&mut self) -> Option<(&mut Vec<u8>, usize)> {
        // Inlined: most reads are not of a large payload.
        self.streaming.as_ref()?;
        self.direct_streaming()
    }

    #[inline(never)]
    fn direct_streaming(&mut self) -> Option<(&mut Vec<u8>, usize)> {
        let (_, remaining) = self.streaming?;
        self.lent = None;
        if remaining < DIRECT_MIN
            || self.frame_mode
            || self.rb.start != self.rb.end
            || !self.asm.reads_directly(self.utf8)
            || !matches!(self.state, State::Open)
        {
            return None;
        }
        self.direct_from = Some(self.asm.bytes.len());
        #[allow(clippy::cast_possible_truncation, reason = "at most DIRECT_MAX")]
        let max = remaining.min(DIRECT_MAX) as usize;
        // Room for all of it up front: a reader filling spare capacity (`read_to_end`)
        // then reads in as few system calls as the transport allows. The length was
        // checked against the frame limit before the frame was accepted.
        self.asm.bytes.reserve(max);
        Some((&mut self.asm.bytes, max))
    }

    /// Checks the bytes appended to [`direct_buffer`](Self::direct_buffer) in place
    /// (unmasking them as a server, validating text). Bytes past the frame's end, if a
    /// caller appended more than it was lent, move to the read buffer.
    ///
    /// # Errors
    ///
    /// As [`poll_message`](Self::poll_message): invalid UTF-8 fails here.
    pub fn commit_direct(&mut self) -> Result<(), RecvError> {
        let Some(from) = self.direct_from.take() else {
            return Ok(());
        };
        let Some((_, remaining)) = self.streaming else {
            return Ok(());
        };
        let appended = self.asm.bytes.len().saturating_sub(from) as u64;
        if appended > remaining {
            // The caller appended past the frame: those bytes are the next frames.
            #[allow(clippy::cast_possible_truncation, reason = "below the appended length")]
            let extra = self.asm.bytes.split_off(from + remaining as usize);
            self.receive(&extra);
        }
        let mut pos = from;
        let mut done = None;
        while pos < self.asm.bytes.len() {
            let piece = self.asm.bytes.get_mut(pos..).unwrap_or_default();
            let decoded = match self.decoder.decode(piece) {
                Ok(decoded) => decoded,
                Err(e) => return Err(self.fail(e)),
            };
            let Some(Event::Payload { data, last }) = decoded.event else {
                // Mid-frame, the decoder only ever answers with payload.
                return Err(self.fail(ProtocolFault::lost()));
            };
            if self.fragments {
                self.asm.frag.extend_from_slice(data);
            }
            let n = data.len();
            pos += decoded.consumed;
            if let Some((_, left)) = &mut self.streaming {
                *left = left.saturating_sub(n as u64);
            }
            if last {
                done = self.streaming.take().map(|(header, _)| header);
            }
        }
        if let Some(header) = done {
            if let Err(e) = self.frame_done(header) {
                return Err(self.fail(e));
            }
        }
        Ok(())
    }

    /// The next whole message: text, binary, or a ping, pong or close frame as it comes
    /// (control frames may arrive between the fragments of a message). `None` when more
    /// bytes are needed.
    ///
    /// The peer's close frame is returned once as [`Message::Close`] and a
    /// [`Reply::CloseEcho`] is queued; a ping queues a [`Reply::Pong`] with
    /// [`PingReply::Auto`].
    ///
    /// # Errors
    ///
    /// [`RecvError::Frame`] when the peer broke RFC 6455 or sent invalid data (a
    /// [`Reply::Fail`] is queued), [`RecvError::Eof`] when the input ended without a close
    /// frame, [`RecvError::Closed`] on every call after the close frame or an error.
    #[inline]
    pub fn poll_message(&mut self) -> Result<Option<Message>, RecvError> {
        // Inlined into the driver: the poll before each read, which finds nothing, then
        // costs no call.
        if self.starved() && !self.eof {
            self.frame_mode = false;
            self.lent = None;
            return Ok(None);
        }
        self.poll_message_fed()
    }

    /// [`poll_message`](Self::poll_message) past its quick answer.
    #[inline(never)]
    fn poll_message_fed(&mut self) -> Result<Option<Message>, RecvError> {
        self.poll_data(|incoming| match incoming {
            Incoming::Message(message) => Some(message),
            Incoming::Fragment { .. } => None,
        })
    }

    /// Reports each frame of a fragmented data message as an [`Incoming::Fragment`] from
    /// [`poll_incoming`](Self::poll_incoming) (Python's `on_cont_message`). Default off.
    pub fn report_fragments(&mut self, on: bool) {
        self.fragments = on;
    }

    /// As [`poll_message`](Self::poll_message), and with
    /// [`report_fragments`](Self::report_fragments) also each fragment as it ends.
    ///
    /// # Errors
    ///
    /// As [`poll_message`](Self::poll_message).
    pub fn poll_incoming(&mut self) -> Result<Option<Incoming>, RecvError> {
        self.poll_data(Some)
    }

    /// The way of [`poll_message`](Self::poll_message) and
    /// [`poll_incoming`](Self::poll_incoming): a whole frame at the start of the buffer
    /// here, inlined into each, anything else in the general loop, out of line so the
    /// common case stays a small function. `keep` picks what the caller wants of each
    /// result (a message, or fragments too).
    #[inline]
    fn poll_data<T>(
        &mut self,
        keep: impl Fn(Incoming) -> Option<T>,
    ) -> Result<Option<T>, RecvError> {
        self.frame_mode = false;
        self.lent = None;
        // With nothing buffered this finds nothing, and the loop asks for more.
        if let Some((opcode, start, end)) = self.whole_next()? {
            let message = self.owned(opcode, start, end)?;
            if let Some(item) = keep(Incoming::Message(message)) {
                return Ok(Some(item));
            }
        }
        self.poll_loop(keep)
    }

    /// The general loop of [`poll_data`](Self::poll_data): what is ready first, then the
    /// next step of the decoder, until `keep` takes something or more bytes are needed.
    #[inline(never)]
    fn poll_loop<T>(
        &mut self,
        keep: impl Fn(Incoming) -> Option<T>,
    ) -> Result<Option<T>, RecvError> {
        if self.starved() {
            return self.need_more().map(|()| None);
        }
        loop {
            if let Some(incoming) = self.ready.pop_front() {
                if let Some(item) = keep(incoming) {
                    return Ok(Some(item));
                }
                continue;
            }
            self.check_open()?;
            match self.step(Mode::Message)? {
                Step::NeedMore => return self.need_more().map(|()| None),
                Step::Whole { opcode, start, end } => {
                    let message = self.owned(opcode, start, end)?;
                    if let Some(item) = keep(Incoming::Message(message)) {
                        return Ok(Some(item));
                    }
                }
                Step::FrameDone(header) => {
                    if let Err(e) = self.frame_done(header) {
                        return Err(self.fail(e));
                    }
                }
                Step::Again | Step::Frame(_) => {}
            }
        }
    }

    /// A whole message decoded in the read buffer at `start..end`, as an owned
    /// [`Message`] (text validated here).
    fn owned(&mut self, opcode: OpCode, start: usize, end: usize) -> Result<Message, RecvError> {
        let payload = self.rb.buf.get(start..end).unwrap_or_default();
        Ok(match opcode {
            OpCode::Text => match validate_whole(payload) {
                Ok(text) => Message::Text(text.to_string()),
                Err(e) => return Err(self.fail(e.into())),
            },
            OpCode::Ping => Message::Ping(payload.to_vec()),
            OpCode::Pong => Message::Pong(payload.to_vec()),
            OpCode::Close => Message::Close(
                self.close_frame()
                    .and_then(|info| info.code.map(|c| (c, info.reason.clone()))),
            ),
            _ => Message::Binary(payload.to_vec()),
        })
    }

    /// As [`poll_message`](Self::poll_message), but the message is lent instead of
    /// allocated: binary, ping and pong payloads straight from the read buffer, text
    /// validated while copied into a buffer reused from message to message, and a
    /// reassembled or large message from its own buffer, which the next message reuses.
    /// The borrow lasts until the next call that takes `&mut self`; [`lent`](Self::lent)
    /// gives the same message again meanwhile.
    ///
    /// # Errors
    ///
    /// As [`poll_message`](Self::poll_message).
    pub fn poll_message_ref(&mut self) -> Result<Option<MessageRef<'_>>, RecvError> {
        if self.lend_next()? {
            Ok(self.lent())
        } else {
            Ok(None)
        }
    }

    /// The message the last [`poll_message_ref`](Self::poll_message_ref) lent, while its
    /// bytes are still in place: `None` once any call that may move them
    /// ([`spare_mut`](Self::spare_mut), [`receive`](Self::receive), another poll,
    /// [`release_buffers`](Self::release_buffers)) came in between. For a driver that
    /// must first pass the replies on ([`poll_reply`](Self::poll_reply) keeps the lent
    /// message).
    pub fn lent(&self) -> Option<MessageRef<'_>> {
        match self.lent? {
            Lent::Read { opcode, start, end } => {
                let payload = self.rb.buf.get(start..end)?;
                Some(match opcode {
                    OpCode::Ping => MessageRef::Ping(payload),
                    OpCode::Pong => MessageRef::Pong(payload),
                    _ => MessageRef::Binary(payload),
                })
            }
            Lent::Held => self.held.as_ref().map(Message::as_message_ref),
            Lent::Close => {
                Some(MessageRef::Close(self.close_frame().and_then(|info| {
                    info.code.map(|c| (c, info.reason.as_str()))
                })))
            }
        }
    }

    /// Decodes up to the next message and records where it lies for
    /// [`lent`](Self::lent); `false` when more bytes are needed.
    fn lend_next(&mut self) -> Result<bool, RecvError> {
        self.frame_mode = false;
        self.lent = None;
        if self.held.is_some() {
            self.give_back();
        }
        if self.starved() {
            return self.need_more().map(|()| false);
        }
        if let Some((opcode, start, end)) = self.whole_next()? {
            return self.lend_whole(opcode, start, end).map(|()| true);
        }
        loop {
            if let Some(incoming) = self.ready.pop_front() {
                if let Incoming::Message(message) = incoming {
                    self.held = Some(message);
                    self.lent = Some(Lent::Held);
                    return Ok(true);
                }
                continue;
            }
            self.check_open()?;
            match self.step(Mode::Message)? {
                Step::NeedMore => return self.need_more().map(|()| false),
                Step::Whole { opcode, start, end } => {
                    return self.lend_whole(opcode, start, end).map(|()| true);
                }
                Step::FrameDone(header) => {
                    if let Err(e) = self.frame_done(header) {
                        return Err(self.fail(e));
                    }
                }
                Step::Again | Step::Frame(_) => {}
            }
        }
    }

    /// Lends the whole message or control frame decoded at `start..end` of the read
    /// buffer: text is validated into the reused text buffer.
    fn lend_whole(&mut self, opcode: OpCode, start: usize, end: usize) -> Result<(), RecvError> {
        self.lent = Some(match opcode {
            OpCode::Text => {
                let payload = self.rb.buf.get(start..end).unwrap_or_default();
                // A data frame never arrives inside a message: the assembly's text
                // buffer (given back by the last lent text) is free.
                let mut text = core::mem::take(&mut self.asm.text);
                text.clear();
                match validate_whole(payload) {
                    Ok(valid) => text.push_str(valid),
                    Err(e) => return Err(self.fail(e.into())),
                }
                self.held = Some(Message::Text(text));
                Lent::Held
            }
            OpCode::Close => Lent::Close,
            opcode => Lent::Read { opcode, start, end },
        });
        Ok(())
    }

    /// The common case, without the general loop: nothing waits to be handed out, no
    /// message or frame is in progress, and the read buffer starts with a whole
    /// unfragmented, uncompressed data frame. Decodes it (the decoder checks it as any
    /// other) and returns where its payload lies; `None` (nothing consumed) for anything
    /// else, which takes the general way.
    #[inline]
    fn whole_next(&mut self) -> Result<Option<(OpCode, usize, usize)>, RecvError> {
        if self.streaming.is_some()
            || !self.ready.is_empty()
            || self.decoder.is_in_message()
            || !matches!(self.state, State::Open)
        {
            return Ok(None);
        }
        let start = self.rb.start;
        let input = self.rb.buf.get_mut(start..self.rb.end).unwrap_or_default();
        let (header, header_len) = match FrameHeader::parse(input) {
            Ok(Parsed::Complete { value, consumed })
                if value.fin
                    && value.opcode.is_data()
                    && value.opcode != OpCode::Continuation
                    && !value.rsv1
                    && value.payload_len <= (input.len() - consumed) as u64 =>
            {
                (value, consumed)
            }
            _ => return Ok(None),
        };
        match self.decoder.decode_parsed(input, header, header_len) {
            Ok(Decoded {
                consumed,
                event: Some(Event::Frame { header, payload }),
                ..
            }) => {
                let end = start + consumed;
                let payload_start = end - payload.len();
                self.last_len = payload.len() as u64;
                self.rb.start = end;
                if end == self.rb.end {
                    self.rb.start = 0;
                    self.rb.end = 0;
                }
                Ok(Some((header.opcode, payload_start, end)))
            }
            // The header said the whole frame is here.
            Ok(_) => Err(self.fail(ProtocolFault::lost())),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Hands the buffer of the message lent last to the next message's assembly (when
    /// none has begun), so messages lent one after another reuse one buffer.
    fn give_back(&mut self) {
        if self.asm.kind.is_some() || self.streaming.is_some() {
            return;
        }
        match self.held.take() {
            Some(Message::Binary(mut bytes)) if self.asm.bytes.capacity() < bytes.capacity() => {
                bytes.clear();
                self.asm.bytes = bytes;
            }
            Some(Message::Text(mut text)) if self.asm.text.capacity() < text.capacity() => {
                text.clear();
                self.asm.text = text;
            }
            _ => {}
        }
    }

    /// The next frame as it arrived, without reassembly and without replies (no automatic
    /// pong, no close echo): Python's `recv_frame`. Frames are still checked against RFC
    /// 6455 and the limits, text is validated, and the payloads of a compressed message
    /// are inflated. The peer's close frame is remembered (see
    /// [`close_frame`](Self::close_frame)). Do not mix with
    /// [`poll_message`](Self::poll_message) inside one message.
    ///
    /// # Errors
    ///
    /// As [`poll_message`](Self::poll_message).
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, RecvError> {
        self.frame_mode = true;
        self.lent = None;
        self.check_open()?;
        loop {
            match self.step(Mode::Frame)? {
                Step::NeedMore => return self.need_more().map(|()| None),
                Step::Again | Step::Whole { .. } | Step::FrameDone(_) => {}
                Step::Frame(frame) => return Ok(Some(frame)),
            }
        }
    }

    /// The next reply the send half owes (pong, close echo, failing close), oldest first.
    pub fn poll_reply(&mut self) -> Option<Reply> {
        self.replies.pop_front()
    }

    /// Whether a reply waits for [`poll_reply`](Self::poll_reply), without taking it: a
    /// driver that must first get hold of the send half (an async lock) leaves the replies
    /// here meanwhile, where the oldest pongs give way to new ones, until it can pass them
    /// all on.
    pub fn has_reply(&self) -> bool {
        !self.replies.is_empty()
    }

    /// The peer's close frame, once received.
    pub fn close_frame(&self) -> Option<&CloseInfo> {
        match &self.state {
            State::CloseReceived(info) => Some(info),
            _ => None,
        }
    }

    /// Whether receiving ended: the peer's close frame arrived, or it failed, or the input
    /// ended.
    pub fn is_done(&self) -> bool {
        !matches!(self.state, State::Open)
    }

    /// Whether a fragmented data message is open.
    pub fn is_in_message(&self) -> bool {
        self.asm.kind.is_some()
    }

    /// Gives back the read buffer and an empty message buffer (an idle connection then
    /// holds no receive buffer; the next read allocates again).
    pub fn release_buffers(&mut self) {
        self.lent = None;
        self.held = None;
        self.read_now = self.read_size;
        if self.rb.start == self.rb.end {
            self.rb = ReadBuf::default();
        }
        if self.asm.kind.is_none() {
            self.asm.bytes = Vec::new();
            self.asm.text = String::new();
            self.asm.frag = Vec::new();
        }
        if self.streaming.is_none() {
            self.frame_buf = Vec::new();
        }
    }

    /// The heap bytes this half holds in its buffers (not the inflater's window).
    pub fn buffered_capacity(&self) -> usize {
        self.rb.buf.capacity()
            + self.asm.bytes.capacity()
            + self.asm.text.capacity()
            + self.asm.frag.capacity()
            + self.frame_buf.capacity()
            + match &self.held {
                Some(Message::Text(text)) => text.capacity(),
                Some(Message::Binary(bytes)) => bytes.capacity(),
                _ => 0,
            }
    }

    /// Ends receiving with `info` (the driver failed or shut the connection).
    pub fn end(&mut self, code: Option<CloseCode>, reason: &str) {
        if matches!(self.state, State::Open) {
            self.state = State::Ended(CloseInfo {
                code,
                reason: reason.to_string(),
            });
        }
    }

    /// Nothing buffered, nothing decoded waiting and still open: the decoder cannot say
    /// more without input (the common case after each message of a round trip), so a poll
    /// goes straight to [`need_more`](Self::need_more).
    #[inline]
    fn starved(&self) -> bool {
        self.rb.start == self.rb.end && self.ready.is_empty() && matches!(self.state, State::Open)
    }

    fn check_open(&self) -> Result<(), RecvError> {
        match &self.state {
            State::Open => Ok(()),
            State::CloseReceived(info) | State::Ended(info) => Err(RecvError::Closed {
                code: info.code,
                reason: info.reason.clone(),
            }),
        }
    }

    fn need_more(&mut self) -> Result<(), RecvError> {
        if self.eof {
            self.end(
                Some(CloseCode::ABNORMAL),
                "the connection ended without a close frame",
            );
            return Err(RecvError::Eof);
        }
        Ok(())
    }

    /// Records a receive error: queues the failing close and ends receiving.
    fn fail(&mut self, e: Error) -> RecvError {
        let code = e.close_code();
        self.push_reply(Reply::Fail(code));
        self.end(Some(code), &e.to_string());
        self.asm = Assembly::default();
        self.streaming = None;
        RecvError::Frame(e)
    }

    fn push_reply(&mut self, reply: Reply) {
        if self.replies.len() >= MAX_REPLIES {
            if let Some(i) = self
                .replies
                .iter()
                .position(|r| matches!(r, Reply::Pong(_)))
            {
                self.replies.remove(i);
            }
        }
        self.replies.push_back(reply);
    }

    /// Decodes one event from the read buffer.
    fn step(&mut self, mode: Mode) -> Result<Step, RecvError> {
        let input = self
            .rb
            .buf
            .get_mut(self.rb.start..self.rb.end)
            .unwrap_or_default();
        let decoded = match self.decoder.decode(input) {
            Ok(decoded) => decoded,
            Err(e) => return Err(self.fail(e)),
        };
        self.rb.start += decoded.consumed;
        let Some(event) = decoded.event else {
            return Ok(Step::NeedMore);
        };
        let result = match event {
            Event::Frame { header, payload } => {
                let end = self.rb.start;
                let start = end - payload.len();
                self.last_len = payload.len() as u64;
                if header.opcode.is_control() {
                    Ok(control(
                        header,
                        payload,
                        (mode, start),
                        (self.ping_reply, self.close_echo),
                        &mut self.replies,
                        &mut self.state,
                    ))
                } else if mode == Mode::Message
                    && header.fin
                    && header.opcode != OpCode::Continuation
                    && !header.rsv1
                {
                    Ok(Step::Whole {
                        opcode: header.opcode,
                        start,
                        end,
                    })
                } else {
                    whole_data(
                        &mut self.asm,
                        &mut self.frame_buf,
                        self.fragments,
                        self.limits,
                        self.utf8,
                        mode,
                        header,
                        payload,
                        #[cfg(feature = "deflate")]
                        self.inflater.as_mut(),
                    )
                }
            }
            Event::Header(header) => {
                self.begin_streamed(mode, header);
                Ok(Step::Again)
            }
            Event::Payload { data, last } => {
                let n = data.len() as u64;
                let target = match mode {
                    Mode::Message => Target::Message {
                        fragments: self.fragments,
                    },
                    Mode::Frame => Target::Frame(&mut self.frame_buf),
                };
                let pushed = self.asm.push(
                    data,
                    target,
                    self.limits,
                    self.utf8,
                    #[cfg(feature = "deflate")]
                    self.inflater.as_mut(),
                );
                if let Some((_, left)) = &mut self.streaming {
                    *left = left.saturating_sub(n);
                }
                match pushed {
                    Err(e) => Err(e),
                    Ok(()) if last => {
                        let header = self.streaming.take().map(|(h, _)| h);
                        self.end_streamed(mode, header)
                    }
                    Ok(()) => Ok(Step::Again),
                }
            }
        };
        if self.rb.start == self.rb.end {
            self.rb.start = 0;
            self.rb.end = 0;
        }
        match result {
            Ok(step) => Ok(step),
            Err(e) => Err(self.fail(e)),
        }
    }

    /// A data frame's header arrived without all of its payload: the frame streams.
    fn begin_streamed(&mut self, mode: Mode, header: FrameHeader) {
        self.last_len = header.payload_len;
        if mode == Mode::Frame {
            self.frame_buf.clear();
        }
        self.asm.start(&header, self.inflater_present());
        if mode == Mode::Message
            && header.payload_len >= DIRECT_MIN
            && self.asm.reads_directly(self.utf8)
        {
            // Room for the whole payload before its first bytes are copied in, so the
            // direct reads that follow (`direct_buffer`) do not move them again. The
            // length was checked against the frame limit by the decoder.
            #[allow(clippy::cast_possible_truncation, reason = "at most DIRECT_MAX")]
            self.asm
                .bytes
                .reserve(header.payload_len.min(DIRECT_MAX) as usize);
        }
        self.streaming = Some((header, header.payload_len));
    }

    #[cfg_attr(not(feature = "deflate"), allow(clippy::unused_self))]
    fn inflater_present(&self) -> bool {
        #[cfg(feature = "deflate")]
        {
            self.inflater.is_some()
        }
        #[cfg(not(feature = "deflate"))]
        {
            false
        }
    }

    /// A streamed data frame ended.
    fn end_streamed(&mut self, mode: Mode, header: Option<FrameHeader>) -> Result<Step, Error> {
        let fin = self.asm.fin;
        match mode {
            Mode::Message => Ok(header.map_or(Step::Again, Step::FrameDone)),
            Mode::Frame => {
                if fin {
                    self.finish_frame()?;
                }
                let mut header = header.unwrap_or_else(|| FrameHeader::new(OpCode::Binary, 0));
                header.mask = None;
                Ok(Step::Frame(Frame {
                    header,
                    payload: core::mem::take(&mut self.frame_buf),
                }))
            }
        }
    }

    /// A data frame of a message ended: reports it as a fragment when asked, and hands
    /// out the message after its last frame.
    fn frame_done(&mut self, header: FrameHeader) -> Result<(), Error> {
        #[cfg(feature = "deflate")]
        if header.fin && self.asm.compressed {
            if let Some(inflater) = self.inflater.as_mut() {
                let before = self.asm.bytes.len();
                inflater.finish(&mut self.asm.bytes, self.limits.message_size())?;
                self.asm.absorb(before, self.utf8, self.fragments)?;
            }
        }
        if self.fragments && (header.opcode == OpCode::Continuation || !header.fin) {
            self.ready.push_back(Incoming::Fragment {
                opcode: header.opcode,
                payload: core::mem::take(&mut self.asm.frag),
                fin: Fin::from(header.fin),
            });
        }
        if header.fin {
            let message = core::mem::take(&mut self.asm).into_message(self.utf8)?;
            self.ready.push_back(Incoming::Message(message));
        }
        Ok(())
    }

    /// Ends a message in frame mode: inflates the tail of a compressed one into the frame
    /// and checks its text.
    fn finish_frame(&mut self) -> Result<(), Error> {
        self.asm.end_raw_message(
            &mut self.frame_buf,
            self.limits,
            self.utf8,
            #[cfg(feature = "deflate")]
            self.inflater.as_mut(),
        )
    }
}

/// A mid-frame decoder answer that is not payload: a broken invariant, reported as a
/// protocol error rather than a panic.
struct ProtocolFault;

impl ProtocolFault {
    fn lost() -> Error {
        Error::Protocol(crate::ProtocolError::ContinuationWithoutMessage)
    }
}

impl Assembly {
    fn start(&mut self, header: &FrameHeader, inflate: bool) {
        if header.opcode != OpCode::Continuation {
            self.kind = Some(header.opcode);
            self.compressed = inflate && header.rsv1;
            self.bytes.clear();
            self.text.clear();
            self.utf8.reset();
        }
        self.frag.clear();
        self.fin = header.fin;
    }

    /// Whether a large payload of this message may be read straight into `bytes`
    /// ([`Inbound::direct_buffer`]): a message has begun, uncompressed, and not text
    /// validated as it streams (that comes through the read buffer, which grows for a
    /// large frame; see `spare_mut`).
    fn reads_directly(&self, check: Utf8Check) -> bool {
        self.kind.is_some() && !self.compressed && !self.streams_text(check)
    }

    /// Whether text goes straight into `text`, validated as it streams.
    fn streams_text(&self, check: Utf8Check) -> bool {
        self.kind == Some(OpCode::Text) && check == Utf8Check::Streaming
    }

    /// Appends payload bytes (to the message, or to a raw frame), inflating a compressed
    /// message and validating text as it goes.
    fn push(
        &mut self,
        data: &[u8],
        target: Target<'_>,
        limits: Limits,
        check: Utf8Check,
        #[cfg(feature = "deflate")] inflater: Option<&mut crate::deflate::Inflater>,
    ) -> Result<(), Error> {
        let _ = limits;
        let fragments = match target {
            Target::Frame(out) => {
                // A raw frame keeps its bytes; text is still checked as it streams.
                let text = self.streams_text(check);
                #[cfg(feature = "deflate")]
                if self.compressed {
                    if let Some(inflater) = inflater {
                        let before = out.len();
                        inflater.inflate(data, out, limits.message_size())?;
                        if text {
                            self.utf8.feed(out.get(before..).unwrap_or_default())?;
                        }
                        return Ok(());
                    }
                }
                if text {
                    self.utf8.feed(data)?;
                }
                out.extend_from_slice(data);
                return Ok(());
            }
            Target::Message { fragments } => fragments,
        };
        #[cfg(feature = "deflate")]
        if self.compressed {
            if let Some(inflater) = inflater {
                let before = self.bytes.len();
                inflater.inflate(data, &mut self.bytes, limits.message_size())?;
                return self.absorb(before, check, fragments);
            }
        }
        if fragments {
            self.frag.extend_from_slice(data);
        }
        if self.streams_text(check) {
            self.utf8.feed_into(data, &mut self.text)?;
        } else {
            self.bytes.extend_from_slice(data);
        }
        Ok(())
    }

    /// Takes the bytes inflated at `bytes[before..]`: into the fragment when reported,
    /// and for streamed text validated into `text`.
    #[cfg(feature = "deflate")]
    fn absorb(&mut self, before: usize, check: Utf8Check, fragments: bool) -> Result<(), Error> {
        let new = self.bytes.get(before..).unwrap_or_default();
        if fragments {
            self.frag.extend_from_slice(new);
        }
        if self.streams_text(check) {
            self.utf8.feed_into(new, &mut self.text)?;
            self.bytes.truncate(before);
        }
        Ok(())
    }

    /// The last frame of a message in frame mode ended: inflates the stripped tail of a
    /// compressed message into `out`, finishes the text check, and forgets the message.
    #[cfg_attr(
        not(feature = "deflate"),
        allow(
            unused_variables,
            clippy::ptr_arg,
            reason = "only inflating appends to `out`"
        )
    )]
    fn end_raw_message(
        &mut self,
        out: &mut Vec<u8>,
        limits: Limits,
        check: Utf8Check,
        #[cfg(feature = "deflate")] inflater: Option<&mut crate::deflate::Inflater>,
    ) -> Result<(), Error> {
        #[cfg(feature = "deflate")]
        if self.compressed {
            if let Some(inflater) = inflater {
                let before = out.len();
                inflater.finish(out, limits.message_size())?;
                if self.streams_text(check) {
                    self.utf8.feed(out.get(before..).unwrap_or_default())?;
                }
            }
        }
        if self.streams_text(check) {
            self.utf8.finish()?;
        }
        self.kind = None;
        self.compressed = false;
        self.utf8.reset();
        Ok(())
    }

    fn into_message(mut self, check: Utf8Check) -> Result<Message, Error> {
        if self.streams_text(check) {
            self.utf8.finish()?;
            return Ok(Message::Text(self.text));
        }
        if self.kind == Some(OpCode::Text) {
            return String::from_utf8(self.bytes)
                .map(Message::Text)
                .map_err(|e| {
                    PayloadError::InvalidUtf8 {
                        offset: e.utf8_error().valid_up_to() as u64,
                    }
                    .into()
                });
        }
        Ok(Message::Binary(self.bytes))
    }
}

/// A control frame at `start` in the read buffer: the reply it calls for, and the frame
/// (in frame mode) or where its payload lies.
fn control(
    header: FrameHeader,
    payload: &[u8],
    (mode, start): (Mode, usize),
    (ping_reply, close_echo): (PingReply, CloseEcho),
    replies: &mut VecDeque<Reply>,
    state: &mut State,
) -> Step {
    match header.opcode {
        OpCode::Ping => {
            if mode == Mode::Message && ping_reply == PingReply::Auto {
                if replies.len() >= MAX_REPLIES {
                    replies.pop_front();
                }
                replies.push_back(Reply::Pong(ControlPayload::new(payload)));
            }
        }
        OpCode::Pong => {}
        _ => {
            // The decoder validated the close payload already.
            let info = match CloseFrame::parse(payload) {
                Ok(Some(frame)) => CloseInfo {
                    code: Some(frame.code),
                    reason: frame.reason.to_string(),
                },
                _ => CloseInfo {
                    code: None,
                    reason: String::new(),
                },
            };
            if mode == Mode::Message {
                let reason = match close_echo {
                    CloseEcho::CodeAndReason => ControlPayload::new(info.reason.as_bytes()),
                    _ => ControlPayload::new(&[]),
                };
                replies.push_back(Reply::CloseEcho {
                    code: info.code,
                    reason,
                });
            }
            *state = State::CloseReceived(info);
        }
    }
    match mode {
        Mode::Message => Step::Whole {
            opcode: header.opcode,
            start,
            end: start + payload.len(),
        },
        Mode::Frame => {
            let mut header = header;
            header.mask = None;
            Step::Frame(Frame {
                header,
                payload: payload.to_vec(),
            })
        }
    }
}

/// A data frame whose payload was all in the input.
#[allow(
    clippy::too_many_arguments,
    reason = "split borrows of Inbound's fields"
)]
fn whole_data(
    asm: &mut Assembly,
    frame_buf: &mut Vec<u8>,
    fragments: bool,
    limits: Limits,
    check: Utf8Check,
    mode: Mode,
    header: FrameHeader,
    payload: &[u8],
    #[cfg(feature = "deflate")] mut inflater: Option<&mut crate::deflate::Inflater>,
) -> Result<Step, Error> {
    #[cfg(feature = "deflate")]
    let inflate = inflater.is_some();
    #[cfg(not(feature = "deflate"))]
    let inflate = false;
    asm.start(&header, inflate);
    match mode {
        Mode::Message => {
            asm.push(
                payload,
                Target::Message { fragments },
                limits,
                check,
                #[cfg(feature = "deflate")]
                inflater.as_deref_mut(),
            )?;
            Ok(Step::FrameDone(header))
        }
        Mode::Frame => {
            frame_buf.clear();
            asm.push(
                payload,
                Target::Frame(frame_buf),
                limits,
                check,
                #[cfg(feature = "deflate")]
                inflater.as_deref_mut(),
            )?;
            if header.fin {
                asm.end_raw_message(
                    frame_buf,
                    limits,
                    check,
                    #[cfg(feature = "deflate")]
                    inflater,
                )?;
            }
            let mut header = header;
            header.mask = None;
            Ok(Step::Frame(Frame {
                header,
                payload: core::mem::take(frame_buf),
            }))
        }
    }
}
