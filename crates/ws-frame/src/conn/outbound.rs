//! [`Outbound`]: the send half of the engine. Every rule of what may be sent when, frame
//! encoding with masking, batching, large payloads in bounded pieces, and the replies the
//! receive half asks for (pongs, the close echo, the failing close).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use super::Config;
use super::error::{MaskKeyError, SendError};
use crate::{CloseCode, CloseFrame, Fin, FrameHeader, OpCode, Role, apply_mask, copy_masked};

/// Where a client's mask keys come from (RFC 6455 section 5.3: unpredictable, so a CSPRNG).
///
/// `ws-frame` has no random number generator: the driver gives the engine one. Any
/// `FnMut() -> [u8; 4] + Send` closure is a source (handy for tests with fixed keys).
pub trait MaskKeys: Send {
    /// The key for the next frame.
    ///
    /// # Errors
    ///
    /// [`MaskKeyError`] when no key can be had; the send fails with
    /// [`SendError::MaskKey`] and queues nothing.
    fn next_key(&mut self) -> Result<[u8; 4], MaskKeyError>;
}

impl<F: FnMut() -> [u8; 4] + Send> MaskKeys for F {
    fn next_key(&mut self) -> Result<[u8; 4], MaskKeyError> {
        Ok(self())
    }
}

/// A message or frame to send, borrowed from the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outgoing<'a> {
    /// A whole text message.
    Text(&'a str),
    /// A whole binary message.
    Binary(&'a [u8]),
    /// A ping (at most 125 bytes).
    Ping(&'a [u8]),
    /// A pong (at most 125 bytes); unsolicited pongs are heartbeats.
    Pong(&'a [u8]),
    /// Our close frame: `None` for an empty one, else a sendable code and a reason of at
    /// most 123 bytes.
    Close(Option<(CloseCode, &'a str)>),
    /// One fragment of a message: the first with [`OpCode::Text`] or [`OpCode::Binary`],
    /// the next ones with [`OpCode::Continuation`], the last with `fin`. A fragment that
    /// is both first and last is a whole message (and is checked and compressed as one).
    Fragment {
        /// Text or Binary for the first fragment, Continuation after.
        opcode: OpCode,
        /// The fragment's payload.
        payload: &'a [u8],
        /// Whether this fragment ends the message.
        fin: Fin,
    },
    /// One frame as given, checked against RFC 6455 first: control frames final and at
    /// most 125 bytes, no reserved bits, a valid close payload, continuation only inside
    /// a message, a whole text frame UTF-8.
    Frame {
        /// Whether the frame ends its message (the FIN bit).
        fin: Fin,
        /// The reserved bits, as `0bRSV1_RSV2_RSV3`: must be 0.
        rsv: u8,
        /// The opcode.
        opcode: OpCode,
        /// The payload.
        payload: &'a [u8],
    },
}

/// How much of a send was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Queued {
    /// All of it.
    Done,
    /// The frame's header and the first `taken` payload bytes: the payload is larger than
    /// [`Config::send_chunk`]. Write out [`Outbound::poll_transmit`], then give the rest
    /// of the payload to [`Outbound::send_rest`] until it answers [`Queued::Done`].
    /// Meanwhile control frames (pongs, a close) wait behind the frame, and other data
    /// sends fail with [`SendError::FrameInProgress`].
    Partial {
        /// Payload bytes taken by this call.
        taken: usize,
    },
}

/// A control payload of at most 125 bytes, held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ControlPayload {
    len: u8,
    bytes: [u8; 125],
}

impl ControlPayload {
    /// The first 125 bytes of `payload` (all of a valid control payload).
    #[must_use]
    pub fn new(payload: &[u8]) -> Self {
        let mut bytes = [0; 125];
        let data = payload.get(..125).unwrap_or(payload);
        if let Some(slot) = bytes.get_mut(..data.len()) {
            slot.copy_from_slice(data);
        }
        #[allow(clippy::cast_possible_truncation, reason = "at most 125")]
        Self {
            len: data.len() as u8,
            bytes,
        }
    }

    /// The payload.
    #[must_use]
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

impl fmt::Debug for ControlPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ControlPayload({} bytes)", self.len)
    }
}

/// What the receive half asks the send half to do; see [`Inbound::poll_reply`](crate::Inbound::poll_reply).
/// A driver that uses the halves apart passes each one to [`Outbound::handle_reply`]; a
/// [`Connection`](crate::Connection) does it itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// Answer a ping (dropped once our close frame is out).
    Pong(ControlPayload),
    /// The peer's close frame arrived: echo its code (1000 for an empty close) and, with
    /// [`CloseEcho::CodeAndReason`](crate::CloseEcho::CodeAndReason), its reason, unless
    /// our close frame was already sent.
    CloseEcho {
        /// The peer's code.
        code: Option<CloseCode>,
        /// The reason to send back (empty unless configured).
        reason: ControlPayload,
    },
    /// The peer broke the protocol: send this close code (1002, 1007 or 1009) unless a
    /// close frame was already sent (RFC 6455 section 7.1.7).
    Fail(CloseCode),
}

/// A data frame whose payload is still being queued.
#[derive(Debug, Clone, Copy)]
struct Large {
    key: Option<[u8; 4]>,
    done: u64,
    remaining: u64,
}

#[cfg(feature = "deflate")]
struct Deflate {
    compression: super::Compression,
    scratch: Vec<u8>,
}

/// The send half of the engine.
///
/// Sends are checked against the RFC and the state, encoded (masked with a key from the
/// [`MaskKeys`] source as a client), compressed when permessage-deflate is on, and queued
/// in one buffer, so many small messages leave in one write. Take the bytes with
/// [`poll_transmit`](Self::poll_transmit) and report what was written with
/// [`advance`](Self::advance).
pub struct Outbound {
    role: Role,
    keys: Option<Box<dyn MaskKeys>>,
    /// Initialised bytes; `buf[head..tail]` waits to be written.
    buf: Vec<u8>,
    head: usize,
    tail: usize,
    chunk: usize,
    close_sent: bool,
    fragment: Option<OpCode>,
    large: Option<Large>,
    /// Whole control frames waiting behind a large frame.
    deferred: Vec<u8>,
    #[cfg(feature = "deflate")]
    deflate: Option<Deflate>,
}

impl fmt::Debug for Outbound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbound")
            .field("role", &self.role)
            .field("pending", &(self.tail - self.head))
            .field("close_sent", &self.close_sent)
            .field("fragment", &self.fragment)
            .field("large", &self.large)
            .finish_non_exhaustive()
    }
}

impl Outbound {
    /// The send half of a client: frames are masked with keys from `keys`.
    pub fn client(config: &Config, keys: Box<dyn MaskKeys>) -> Self {
        Self::new(Role::Client, config, Some(keys))
    }

    /// The send half of a server: frames are not masked.
    pub fn server(config: &Config) -> Self {
        Self::new(Role::Server, config, None)
    }

    fn new(role: Role, config: &Config, keys: Option<Box<dyn MaskKeys>>) -> Self {
        Self {
            role,
            keys,
            buf: Vec::new(),
            head: 0,
            tail: 0,
            chunk: config.send_chunk,
            close_sent: false,
            fragment: None,
            large: None,
            deferred: Vec::new(),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// Compresses whole text and binary messages from now on (permessage-deflate was
    /// negotiated); see [`Compression`](crate::Compression).
    #[cfg(feature = "deflate")]
    pub fn set_compression(&mut self, compression: super::Compression) {
        self.deflate = Some(Deflate {
            compression,
            scratch: Vec::new(),
        });
    }

    /// The role this half sends as.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether our close frame (or the echo, or the failing close) was queued.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Whether a large frame's payload is still being queued (see [`Queued::Partial`]).
    pub fn is_sending_large(&self) -> bool {
        self.large.is_some()
    }

    /// The opcode of the fragmented message being sent, if one is open.
    pub fn open_fragment(&self) -> Option<OpCode> {
        self.fragment
    }

    /// Queues a message or frame.
    ///
    /// # Errors
    ///
    /// [`SendError::CloseSent`] once a close frame is out; for pings, pongs and closes
    /// [`SendError::ControlFrameTooLong`]; for fragments and raw frames
    /// [`SendError::FragmentedControlFrame`], [`SendError::ReservedBits`],
    /// [`SendError::ContinuationWithoutMessage`], [`SendError::InvalidClosePayload`];
    /// [`SendError::MessageInProgress`] for a new message while a fragmented one is open,
    /// [`SendError::FrameInProgress`] for data while a large frame is being queued,
    /// [`SendError::InvalidUtf8`] for a whole text frame or fragment that is not UTF-8,
    /// [`SendError::Close`] for an unsendable close code or a long reason,
    /// [`SendError::MaskKey`] and [`SendError::Compress`] when those fail. A refused send
    /// queues nothing.
    pub fn send(&mut self, message: Outgoing<'_>) -> Result<Queued, SendError> {
        match message {
            Outgoing::Text(text) => self.whole(OpCode::Text, text.as_bytes()),
            Outgoing::Binary(data) => self.whole(OpCode::Binary, data),
            Outgoing::Ping(data) => self.control(OpCode::Ping, data),
            Outgoing::Pong(data) => self.control(OpCode::Pong, data),
            Outgoing::Close(close) => self.close(close),
            Outgoing::Fragment {
                opcode,
                payload,
                fin,
            } => self.fragment(opcode, payload, fin.is_final()),
            Outgoing::Frame {
                fin,
                rsv,
                opcode,
                payload,
            } => self.raw(fin.is_final(), rsv, opcode, payload),
        }
    }

    /// Queues the next piece of a large frame's payload (see [`Queued::Partial`]): give it
    /// the payload from where the last call stopped.
    ///
    /// # Errors
    ///
    /// [`SendError::NoFrameInProgress`] when no large frame is in progress or `rest` is
    /// longer than what the frame has left.
    pub fn send_rest(&mut self, rest: &[u8]) -> Result<Queued, SendError> {
        let Some(large) = self.large else {
            return Err(SendError::NoFrameInProgress {
                given: rest.len(),
                remaining: 0,
            });
        };
        if rest.len() as u64 > large.remaining {
            return Err(SendError::NoFrameInProgress {
                given: rest.len(),
                remaining: large.remaining,
            });
        }
        let take = rest.len().min(self.chunk);
        let data = rest.get(..take).unwrap_or_default();
        let dst = self.reserve(take);
        match large.key {
            Some(mut key) => {
                #[allow(clippy::cast_possible_truncation, reason = "below 4")]
                key.rotate_left((large.done % 4) as usize);
                copy_masked(dst, data, key);
            }
            None => dst.copy_from_slice(data),
        }
        let remaining = large.remaining - take as u64;
        if remaining == 0 {
            self.large = None;
            let deferred = core::mem::take(&mut self.deferred);
            self.reserve(deferred.len()).copy_from_slice(&deferred);
            self.deferred = deferred;
            self.deferred.clear();
            Ok(Queued::Done)
        } else {
            self.large = Some(Large {
                key: large.key,
                done: large.done + take as u64,
                remaining,
            });
            Ok(Queued::Partial { taken: take })
        }
    }

    /// Carries out what the receive half asked for; see [`Reply`].
    pub fn handle_reply(&mut self, reply: Reply) {
        if self.close_sent {
            return;
        }
        // A refused reply (only a failing mask key source can refuse) is dropped: the
        // connection is being torn down or the peer will time out.
        let _ = match reply {
            Reply::Pong(payload) => self.put_control(OpCode::Pong, payload.as_slice()),
            Reply::CloseEcho { code, reason } => {
                let reason = core::str::from_utf8(reason.as_slice()).unwrap_or_default();
                self.put_close(code.unwrap_or(CloseCode::NORMAL), reason)
            }
            Reply::Fail(code) => self.put_close(code, ""),
        };
    }

    /// The bytes waiting to be written (empty when none).
    pub fn poll_transmit(&self) -> &[u8] {
        self.buf.get(self.head..self.tail).unwrap_or_default()
    }

    /// How many bytes wait to be written.
    pub fn pending(&self) -> usize {
        self.tail - self.head
    }

    /// Reports that the first `n` bytes of [`poll_transmit`](Self::poll_transmit) were
    /// written (more than are pending counts as all).
    pub fn advance(&mut self, n: usize) {
        self.head = self.head.saturating_add(n).min(self.tail);
        if self.head == self.tail {
            self.head = 0;
            self.tail = 0;
        }
    }

    /// Gives back the write buffers when nothing is pending (an idle connection then holds
    /// no send buffer; the next send allocates again).
    pub fn release_buffers(&mut self) {
        if self.head == self.tail && self.large.is_none() {
            self.buf = Vec::new();
            self.head = 0;
            self.tail = 0;
            self.deferred = Vec::new();
            #[cfg(feature = "deflate")]
            if let Some(deflate) = &mut self.deflate {
                deflate.scratch = Vec::new();
            }
        }
    }

    /// The heap bytes this half holds in its buffers (not the compressor's state).
    pub fn buffered_capacity(&self) -> usize {
        let scratch = {
            #[cfg(feature = "deflate")]
            {
                self.deflate.as_ref().map_or(0, |d| d.scratch.capacity())
            }
            #[cfg(not(feature = "deflate"))]
            {
                0
            }
        };
        self.buf.capacity() + self.deferred.capacity() + scratch
    }

    fn check_data(&self) -> Result<(), SendError> {
        if self.close_sent {
            return Err(SendError::CloseSent);
        }
        if self.large.is_some() {
            return Err(SendError::FrameInProgress);
        }
        Ok(())
    }

    /// A whole text or binary message (compressed when on).
    #[inline]
    fn whole(&mut self, opcode: OpCode, payload: &[u8]) -> Result<Queued, SendError> {
        self.check_data()?;
        if let Some(open) = self.fragment {
            return Err(SendError::MessageInProgress { open });
        }
        #[cfg(feature = "deflate")]
        if let Some(mut deflate) = self.deflate.take() {
            let result = if payload.len() >= deflate.compression.threshold {
                deflate.scratch.clear();
                match deflate.compression.compress(payload, &mut deflate.scratch) {
                    Ok(()) => self.put(true, true, opcode, &deflate.scratch, false),
                    Err(e) => Err(e.into()),
                }
            } else {
                self.put(true, false, opcode, payload, true)
            };
            self.deflate = Some(deflate);
            return result;
        }
        self.put(true, false, opcode, payload, true)
    }

    fn control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<Queued, SendError> {
        if payload.len() > 125 {
            return Err(SendError::ControlFrameTooLong {
                opcode,
                len: payload.len(),
            });
        }
        if self.close_sent {
            return Err(SendError::CloseSent);
        }
        self.put_control(opcode, payload)?;
        Ok(Queued::Done)
    }

    fn close(&mut self, close: Option<(CloseCode, &str)>) -> Result<Queued, SendError> {
        let mut payload = [0; 125];
        let len = match close {
            Some((code, reason)) => CloseFrame::encode(code, reason, &mut payload)?,
            None => 0,
        };
        if self.close_sent {
            return Err(SendError::CloseSent);
        }
        self.put_control(OpCode::Close, payload.get(..len).unwrap_or_default())?;
        self.close_sent = true;
        Ok(Queued::Done)
    }

    fn put_close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        let mut payload = [0; 125];
        let len = CloseFrame::encode(code, reason, &mut payload)?;
        self.put_control(OpCode::Close, payload.get(..len).unwrap_or_default())?;
        self.close_sent = true;
        Ok(())
    }

    fn fragment(&mut self, opcode: OpCode, payload: &[u8], fin: bool) -> Result<Queued, SendError> {
        if opcode.is_control() {
            return Err(SendError::FragmentedControlFrame { opcode });
        }
        if fin && opcode != OpCode::Continuation && self.fragment.is_none() && !self.close_sent {
            if opcode == OpCode::Text {
                check_utf8(payload)?;
            }
            return self.whole(opcode, payload);
        }
        self.data_frame(fin, opcode, payload, false)
    }

    fn raw(
        &mut self,
        fin: bool,
        rsv: u8,
        opcode: OpCode,
        payload: &[u8],
    ) -> Result<Queued, SendError> {
        if rsv & 0b111 != 0 {
            return Err(SendError::ReservedBits { bits: rsv & 0b111 });
        }
        if opcode.is_control() {
            if !fin {
                return Err(SendError::FragmentedControlFrame { opcode });
            }
            if payload.len() > 125 {
                return Err(SendError::ControlFrameTooLong {
                    opcode,
                    len: payload.len(),
                });
            }
            if opcode == OpCode::Close {
                check_close_payload(payload)?;
                if self.close_sent {
                    return Err(SendError::CloseSent);
                }
                self.put_control(opcode, payload)?;
                self.close_sent = true;
                return Ok(Queued::Done);
            }
            return self.control(opcode, payload);
        }
        self.data_frame(fin, opcode, payload, true)
    }

    /// A data frame of a fragmented message, or a raw data frame.
    fn data_frame(
        &mut self,
        fin: bool,
        opcode: OpCode,
        payload: &[u8],
        check_whole_text: bool,
    ) -> Result<Queued, SendError> {
        self.check_data()?;
        match (opcode, self.fragment) {
            (OpCode::Continuation, None) => return Err(SendError::ContinuationWithoutMessage),
            (OpCode::Text | OpCode::Binary, Some(open)) => {
                return Err(SendError::MessageInProgress { open });
            }
            _ => {}
        }
        if opcode == OpCode::Text && fin && check_whole_text {
            check_utf8(payload)?;
        }
        if fin && opcode != OpCode::Continuation {
            return self.whole(opcode, payload);
        }
        let queued = self.put(fin, false, opcode, payload, true)?;
        self.fragment = if fin {
            None
        } else if opcode == OpCode::Continuation {
            self.fragment
        } else {
            Some(opcode)
        };
        Ok(queued)
    }

    fn next_key(&mut self) -> Result<Option<[u8; 4]>, SendError> {
        match (self.role, &mut self.keys) {
            (Role::Client, Some(keys)) => Ok(Some(keys.next_key()?)),
            (Role::Client, None) => Err(SendError::MaskKey(MaskKeyError::new())),
            (Role::Server, _) => Ok(None),
        }
    }

    /// A whole control frame: into the queue, or behind a large frame in progress.
    fn put_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if self.large.is_none() {
            return self.put(true, false, opcode, payload, false).map(|_| ());
        }
        let key = self.next_key()?;
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        header.mask = key;
        let mut head = [0; FrameHeader::MAX_LEN];
        let n = header.encode(&mut head);
        self.deferred
            .extend_from_slice(head.get(..n).unwrap_or_default());
        let start = self.deferred.len();
        self.deferred.extend_from_slice(payload);
        if let (Some(key), Some(tail)) = (key, self.deferred.get_mut(start..)) {
            apply_mask(tail, key);
        }
        Ok(())
    }

    /// Encodes one frame into the queue: the header and the payload, masked while copied.
    /// With `chunked`, a payload over the chunk size is queued in part ([`Queued::Partial`]).
    fn put(
        &mut self,
        fin: bool,
        rsv1: bool,
        opcode: OpCode,
        payload: &[u8],
        chunked: bool,
    ) -> Result<Queued, SendError> {
        let key = self.next_key()?;
        let mut header = FrameHeader::new(opcode, payload.len() as u64);
        header.fin = fin;
        header.rsv1 = rsv1;
        header.mask = key;
        let mut head = [0; FrameHeader::MAX_LEN];
        let n = header.encode(&mut head);
        let take = if chunked {
            payload.len().min(self.chunk)
        } else {
            payload.len()
        };
        let data = payload.get(..take).unwrap_or_default();
        let dst = self.reserve(n + take);
        let (dst_head, dst_payload) = dst.split_at_mut(n);
        dst_head.copy_from_slice(head.get(..n).unwrap_or_default());
        match key {
            Some(key) => copy_masked(dst_payload, data, key),
            None => dst_payload.copy_from_slice(data),
        }
        if take < payload.len() {
            self.large = Some(Large {
                key,
                done: take as u64,
                remaining: (payload.len() - take) as u64,
            });
            return Ok(Queued::Partial { taken: take });
        }
        Ok(Queued::Done)
    }

    /// `n` bytes at the end of the queue, to overwrite.
    fn reserve(&mut self, n: usize) -> &mut [u8] {
        if self.tail + n > self.buf.len() {
            if self.head > 0 {
                self.buf.copy_within(self.head..self.tail, 0);
                self.tail -= self.head;
                self.head = 0;
            }
            let need = self.tail + n;
            if need > self.buf.len() {
                let target = need.checked_next_power_of_two().unwrap_or(need).max(4096);
                let target = if target > self.chunk * 2 {
                    need
                } else {
                    target
                };
                self.buf.resize(target, 0);
            }
        }
        let start = self.tail;
        self.tail += n;
        self.buf.get_mut(start..start + n).unwrap_or_default()
    }
}

fn check_utf8(payload: &[u8]) -> Result<(), SendError> {
    core::str::from_utf8(payload)
        .map(|_| ())
        .map_err(|e| SendError::InvalidUtf8 {
            offset: e.valid_up_to(),
        })
}

/// Checks a raw close payload the caller wants to send.
fn check_close_payload(payload: &[u8]) -> Result<(), SendError> {
    match payload {
        [] => Ok(()),
        [_] => Err(SendError::InvalidClosePayload),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::from_raw(u16::from_be_bytes([*hi, *lo]));
            if !code.is_sendable() {
                return Err(crate::CloseEncodeError::UnsendableCode(code).into());
            }
            core::str::from_utf8(reason).map_err(|_| SendError::InvalidClosePayload)?;
            Ok(())
        }
    }
}
