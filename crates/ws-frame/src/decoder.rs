//! The streaming, zero-copy frame decoder: bytes in, events out.

use crate::header::Parsed;
use crate::utf8::{Utf8Validator, validate_whole};
use crate::{
    CloseFrame, Error, FrameHeader, Limits, OpCode, PayloadError, ProtocolError, Role, apply_mask,
    apply_mask_offset,
};

/// What one call to [`Decoder::decode`] produced.
#[derive(Debug, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "a plain result record; fields are the API"
)]
pub struct Decoded<'a> {
    /// How many input bytes were used. Drop them before the next call.
    pub consumed: usize,
    /// The event, or `None` when more input is needed.
    pub event: Option<Event<'a>>,
    /// When `event` is `None`: at least how many more bytes are needed. Otherwise 0.
    pub needed: usize,
}

impl Decoded<'_> {
    fn need(needed: usize) -> Self {
        Self {
            consumed: 0,
            event: None,
            needed,
        }
    }
}

/// A decoder output. Payloads are slices of the caller's buffer, already unmasked.
#[derive(Debug, PartialEq, Eq)]
#[allow(clippy::exhaustive_enums, reason = "callers match on all three shapes")]
pub enum Event<'a> {
    /// A whole frame (header and unmasked payload) was in the input. Control frames always
    /// arrive this way: the decoder waits for the whole (at most 125-byte) control frame.
    Frame {
        /// The frame header.
        header: FrameHeader,
        /// The unmasked payload.
        payload: &'a [u8],
    },
    /// The header of a data frame whose payload is not all in the input yet;
    /// [`Event::Payload`] events follow (control frames may not interleave inside a frame,
    /// only between frames).
    Header(FrameHeader),
    /// The next piece of the current data frame's payload, unmasked.
    Payload {
        /// The bytes.
        data: &'a [u8],
        /// `true` on the frame's final piece.
        last: bool,
    },
}

/// The data frame whose payload is being streamed.
#[derive(Debug, Clone, Copy)]
struct Streaming {
    mask: Option<[u8; 4]>,
    /// Payload bytes already delivered (for the mask phase).
    done: u64,
    remaining: u64,
    fin: bool,
    text: bool,
}

/// The streaming, zero-copy frame decoder.
///
/// Feed it the bytes read so far; it parses and checks headers against every RFC 6455 rule
/// (role, reserved bits and opcodes, control frames, fragmentation order, limits), unmasks
/// payloads in place (server role), validates text as UTF-8 across frames as it streams,
/// and validates close payloads. After an error the connection must be failed with
/// [`Error::close_code`]; the decoder state is then unspecified.
///
/// ```
/// use ws_frame::{Decoder, Event, OpCode, Role};
///
/// let mut input = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o'];
/// let mut decoder = Decoder::new(Role::Client);
/// let decoded = decoder.decode(&mut input)?;
/// assert_eq!(decoded.consumed, 7);
/// match decoded.event {
///     Some(Event::Frame { header, payload }) => {
///         assert_eq!(header.opcode, OpCode::Text);
///         assert_eq!(payload, b"Hello");
///     }
///     other => panic!("unexpected {other:?}"),
/// }
/// # Ok::<(), ws_frame::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decoder {
    role: Role,
    limits: Limits,
    validate_utf8: bool,
    reserved_bits: u8,
    /// Opcode (text or binary) of the open fragmented message.
    message: Option<OpCode>,
    /// Whether the open message has RSV1 set (compressed: its payload is not UTF-8 yet).
    compressed: bool,
    message_len: u64,
    frame: Option<Streaming>,
    utf8: Utf8Validator,
}

impl Decoder {
    /// A decoder for `role` with default [`Limits`], UTF-8 validation on and no reserved
    /// bits allowed.
    #[must_use]
    pub fn new(role: Role) -> Self {
        Self {
            role,
            limits: Limits::default(),
            validate_utf8: true,
            reserved_bits: 0,
            message: None,
            compressed: false,
            message_len: 0,
            frame: None,
            utf8: Utf8Validator::new(),
        }
    }

    /// Sets the size limits (default [`Limits::default`]).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Turns UTF-8 validation of text messages on or off (default on). Close reasons are
    /// always validated.
    #[must_use]
    pub fn with_utf8_validation(mut self, on: bool) -> Self {
        self.validate_utf8 = on;
        self
    }

    /// Allows the reserved bits a negotiated extension claims, as `0bRSV1_RSV2_RSV3`
    /// (permessage-deflate claims RSV1: `0b100`). Default none.
    ///
    /// RSV1 follows permessage-deflate's rules (RFC 7692 section 6): it may only be set on
    /// the first frame of a data message ([`ProtocolError::MisplacedRsv1`] on a control or
    /// continuation frame), and a message with RSV1 set is compressed, so its text is not
    /// UTF-8 validated here: validate it after inflating (the `deflate` feature's
    /// `Inflater` does not; [`Utf8Validator`](crate::Utf8Validator) does).
    #[must_use]
    pub fn with_reserved_bits(mut self, rsv_mask: u8) -> Self {
        self.reserved_bits = rsv_mask & 0b111;
        self
    }

    /// The role this decoder was made for.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The reserved bits allowed, as `0bRSV1_RSV2_RSV3`.
    #[must_use]
    pub fn reserved_bits(&self) -> u8 {
        self.reserved_bits
    }

    /// The configured limits.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether text messages are validated as UTF-8.
    #[must_use]
    pub fn validates_utf8(&self) -> bool {
        self.validate_utf8
    }

    /// `true` while a fragmented data message is open (its final frame not yet complete).
    #[must_use]
    pub fn is_in_message(&self) -> bool {
        self.message.is_some()
    }

    /// `true` while the open data message has RSV1 set (it is compressed).
    #[must_use]
    pub fn is_compressed(&self) -> bool {
        self.message.is_some() && self.compressed
    }

    /// `true` while a data frame's payload is being streamed as [`Event::Payload`]s.
    #[must_use]
    pub fn is_in_frame(&self) -> bool {
        self.frame.is_some()
    }

    /// Decodes the next event from the start of `input`, unmasking in place.
    ///
    /// Returns how many bytes were consumed and the event, or no event when more input is
    /// needed (then nothing is consumed: keep the bytes and call again with more).
    ///
    /// # Errors
    ///
    /// Every [`ProtocolError`] a header can break (see [`FrameHeader::parse`]), plus
    /// [`ProtocolError::MaskedFrameFromServer`], [`ProtocolError::UnmaskedFrameFromClient`],
    /// [`ProtocolError::ReservedBits`], [`ProtocolError::MisplacedRsv1`],
    /// [`ProtocolError::ContinuationWithoutMessage`],
    /// [`ProtocolError::DataFrameInsideMessage`], [`ProtocolError::FrameTooLarge`],
    /// [`ProtocolError::MessageTooLarge`], the close payload errors of
    /// [`CloseFrame::parse`], and [`PayloadError::InvalidUtf8`] /
    /// [`PayloadError::IncompleteUtf8`] for text.
    pub fn decode<'a>(&mut self, input: &'a mut [u8]) -> Result<Decoded<'a>, Error> {
        if self.frame.is_some() {
            return self.payload(input);
        }
        let (header, header_len) = match FrameHeader::parse(input)? {
            Parsed::Incomplete { needed } => return Ok(Decoded::need(needed)),
            Parsed::Complete { value, consumed } => (value, consumed),
        };
        self.decode_parsed(input, header, header_len)
    }

    /// The rest of [`decode`](Self::decode) once the header at the start of `input` has
    /// been parsed (`header_len` bytes), outside a frame: for the engine's whole-frame path,
    /// which parses the header first to see whether the whole frame is there, so it is
    /// not parsed twice.
    #[inline]
    pub(crate) fn decode_parsed<'a>(
        &mut self,
        input: &'a mut [u8],
        header: FrameHeader,
        header_len: usize,
    ) -> Result<Decoded<'a>, Error> {
        debug_assert!(self.frame.is_none(), "decode_parsed inside a frame");
        self.check(&header)?;
        let (_, rest) = input.split_at_mut(header_len);
        let available = rest.len();
        let len = header.payload_len;
        let whole = usize::try_from(len).ok().filter(|&len| len <= available);
        let Some(len) = whole else {
            if header.opcode.is_control() {
                // At most 125 bytes: wait for all of it.
                let missing = usize::try_from(len).unwrap_or(usize::MAX) - available;
                return Ok(Decoded::need(missing));
            }
            self.start_data(&header);
            self.frame = Some(Streaming {
                mask: header.mask,
                done: 0,
                remaining: len,
                fin: header.fin,
                text: self.message == Some(OpCode::Text) && self.validate_utf8 && !self.compressed,
            });
            return Ok(Decoded {
                consumed: header_len,
                event: Some(Event::Header(header)),
                needed: 0,
            });
        };
        let (payload, _) = rest.split_at_mut(len);
        if let Some(key) = header.mask {
            apply_mask(payload, key);
        }
        if header.opcode == OpCode::Close {
            CloseFrame::parse(payload)?;
        } else if header.opcode.is_data() {
            self.whole_data(&header, payload)?;
        }
        Ok(Decoded {
            consumed: header_len + len,
            event: Some(Event::Frame { header, payload }),
            needed: 0,
        })
    }

    /// Checks a parsed header against role, extension, fragmentation and limit rules.
    fn check(&self, header: &FrameHeader) -> Result<(), ProtocolError> {
        match (self.role, header.mask.is_some()) {
            (Role::Client, true) => return Err(ProtocolError::MaskedFrameFromServer),
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrameFromClient),
            _ => {}
        }
        let bits = header.rsv_bits() & !self.reserved_bits;
        if bits != 0 {
            return Err(ProtocolError::ReservedBits { bits });
        }
        if header.rsv1 && (header.opcode == OpCode::Continuation || header.opcode.is_control()) {
            return Err(ProtocolError::MisplacedRsv1 {
                opcode: header.opcode,
            });
        }
        let len = header.payload_len;
        if header.opcode.is_control() {
            return Ok(());
        }
        match (header.opcode, self.message) {
            (OpCode::Continuation, None) => return Err(ProtocolError::ContinuationWithoutMessage),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::DataFrameInsideMessage {
                    opcode: header.opcode,
                });
            }
            _ => {}
        }
        if let Some(limit) = self.limits.frame_size() {
            if len > limit {
                return Err(ProtocolError::FrameTooLarge { len, limit });
            }
        }
        if let Some(limit) = self.limits.message_size() {
            let before = if header.opcode == OpCode::Continuation {
                self.message_len
            } else {
                0
            };
            let total = before.saturating_add(len);
            if total > limit {
                return Err(ProtocolError::MessageTooLarge { len: total, limit });
            }
        }
        Ok(())
    }

    /// Updates message state for an accepted data frame header.
    fn start_data(&mut self, header: &FrameHeader) {
        if header.opcode != OpCode::Continuation {
            self.message = Some(header.opcode);
            self.compressed = header.rsv1;
            self.message_len = 0;
            self.utf8.reset();
        }
        self.message_len = self.message_len.saturating_add(header.payload_len);
    }

    /// Handles a data frame whose payload is entirely present.
    fn whole_data(&mut self, header: &FrameHeader, payload: &[u8]) -> Result<(), PayloadError> {
        let single = header.fin && header.opcode != OpCode::Continuation;
        if single {
            if header.opcode == OpCode::Text && self.validate_utf8 && !header.rsv1 {
                validate_whole(payload)?;
            }
            self.message = None;
            self.message_len = 0;
            return Ok(());
        }
        self.start_data(header);
        if self.message == Some(OpCode::Text) && self.validate_utf8 && !self.compressed {
            self.utf8.feed(payload)?;
            if header.fin {
                self.utf8.finish()?;
            }
        }
        if header.fin {
            self.message = None;
            self.message_len = 0;
        }
        Ok(())
    }

    /// Streams the next piece of the current data frame.
    fn payload<'a>(&mut self, input: &'a mut [u8]) -> Result<Decoded<'a>, Error> {
        let Some(frame) = &mut self.frame else {
            return Ok(Decoded::need(1));
        };
        if input.is_empty() {
            let needed = usize::try_from(frame.remaining).map_or(usize::MAX, |r| r.min(1));
            return Ok(Decoded::need(needed));
        }
        let n = usize::try_from(frame.remaining).map_or(input.len(), |r| r.min(input.len()));
        let (data, _) = input.split_at_mut(n);
        if let Some(key) = frame.mask {
            // The mask phase only depends on done % 4.
            #[allow(clippy::cast_possible_truncation, reason = "value is below 4")]
            apply_mask_offset(data, key, (frame.done % 4) as usize);
        }
        frame.done += n as u64;
        frame.remaining -= n as u64;
        let last = frame.remaining == 0;
        let end_of_message = last && frame.fin;
        if frame.text {
            self.utf8.feed(data)?;
            if end_of_message {
                self.utf8.finish()?;
            }
        }
        if last {
            self.frame = None;
            if end_of_message {
                self.message = None;
                self.message_len = 0;
            }
        }
        Ok(Decoded {
            consumed: n,
            event: Some(Event::Payload { data, last }),
            needed: 0,
        })
    }
}
