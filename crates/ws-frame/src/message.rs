//! Whole messages: reassembly over [`Decoder`] and frame encoding into a `Vec`.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::utf8::{Utf8Validator, validate_whole};
use crate::{
    CloseCode, CloseFrame, Decoded, Decoder, Error, Event, Fin, FrameHeader, OpCode, apply_mask,
};

/// A whole message, or a control frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_enums,
    reason = "RFC 6455 has exactly these message kinds"
)]
pub enum Message {
    /// A text message, validated UTF-8.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping with its payload (at most 125 bytes).
    Ping(Vec<u8>),
    /// A pong with its payload (at most 125 bytes).
    Pong(Vec<u8>),
    /// A close frame: `None` when it carried no status code.
    Close(Option<(CloseCode, String)>),
}

impl Message {
    /// The opcode of the (first) frame that carries this message.
    #[must_use]
    pub fn opcode(&self) -> OpCode {
        self.as_message_ref().opcode()
    }

    /// This message, borrowed.
    #[must_use]
    pub fn as_message_ref(&self) -> MessageRef<'_> {
        match self {
            Self::Text(text) => MessageRef::Text(text),
            Self::Binary(data) => MessageRef::Binary(data),
            Self::Ping(data) => MessageRef::Ping(data),
            Self::Pong(data) => MessageRef::Pong(data),
            Self::Close(close) => MessageRef::Close(
                close
                    .as_ref()
                    .map(|(code, reason)| (*code, reason.as_str())),
            ),
        }
    }
}

/// A received message lent by the connection instead of allocated (see
/// [`Inbound::poll_message_ref`](crate::Inbound::poll_message_ref)): the same kinds as
/// [`Message`], borrowing their payload. [`Message::from`] makes an owned copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_enums,
    reason = "RFC 6455 has exactly these message kinds"
)]
pub enum MessageRef<'a> {
    /// A text message, validated UTF-8.
    Text(&'a str),
    /// A binary message.
    Binary(&'a [u8]),
    /// A ping with its payload (at most 125 bytes).
    Ping(&'a [u8]),
    /// A pong with its payload (at most 125 bytes).
    Pong(&'a [u8]),
    /// A close frame: `None` when it carried no status code.
    Close(Option<(CloseCode, &'a str)>),
}

impl MessageRef<'_> {
    /// The opcode of the (first) frame that carried this message.
    #[must_use]
    pub fn opcode(&self) -> OpCode {
        match self {
            Self::Text(_) => OpCode::Text,
            Self::Binary(_) => OpCode::Binary,
            Self::Ping(_) => OpCode::Ping,
            Self::Pong(_) => OpCode::Pong,
            Self::Close(_) => OpCode::Close,
        }
    }

    /// The payload: the text's bytes, the binary data, the ping or pong payload, or the
    /// close reason's bytes (without the code).
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(text) => text.as_bytes(),
            Self::Binary(data) | Self::Ping(data) | Self::Pong(data) => data,
            Self::Close(close) => close.map_or(&[], |(_, reason)| reason.as_bytes()),
        }
    }
}

impl From<MessageRef<'_>> for Message {
    fn from(message: MessageRef<'_>) -> Self {
        match message {
            MessageRef::Text(text) => Self::Text(text.into()),
            MessageRef::Binary(data) => Self::Binary(data.to_vec()),
            MessageRef::Ping(data) => Self::Ping(data.to_vec()),
            MessageRef::Pong(data) => Self::Pong(data.to_vec()),
            MessageRef::Close(close) => {
                Self::Close(close.map(|(code, reason)| (code, reason.into())))
            }
        }
    }
}

/// permessage-deflate state of a [`MessageDecoder`].
#[cfg(feature = "deflate")]
#[derive(Debug)]
struct Inflate {
    inflater: crate::deflate::Inflater,
    /// The message being assembled is compressed.
    active: bool,
    /// The inflated size limit (the decoder's message limit).
    limit: Option<u64>,
    scratch: Vec<u8>,
}

/// A data message being reassembled.
#[derive(Debug, Default)]
struct Assembly {
    /// Text or binary, while a message is open.
    kind: Option<OpCode>,
    /// FIN of the frame being streamed.
    fin: bool,
    text: String,
    binary: Vec<u8>,
    utf8: Utf8Validator,
    #[cfg(feature = "deflate")]
    inflate: Option<Inflate>,
}

impl Assembly {
    fn start(&mut self, header: &FrameHeader) {
        if header.opcode != OpCode::Continuation {
            self.kind = Some(header.opcode);
            self.text.clear();
            self.binary.clear();
            self.utf8.reset();
            #[cfg(feature = "deflate")]
            if let Some(inflate) = &mut self.inflate {
                inflate.active = header.rsv1;
            }
        }
        self.fin = header.fin;
    }

    /// Appends payload bytes, inflating them first when the message is compressed.
    fn push(&mut self, data: &[u8]) -> Result<(), Error> {
        #[cfg(feature = "deflate")]
        if let Some(inflate) = self.inflate.as_mut().filter(|i| i.active) {
            let mut out = core::mem::take(&mut inflate.scratch);
            out.clear();
            let result = inflate.inflater.inflate(data, &mut out, inflate.limit);
            let result = result.and_then(|()| self.push_plain(&out));
            if let Some(inflate) = &mut self.inflate {
                inflate.scratch = out;
            }
            return result;
        }
        self.push_plain(data)
    }

    /// Ends a compressed message's inflation (the stripped tail).
    #[cfg(feature = "deflate")]
    fn end_inflate(&mut self) -> Result<(), Error> {
        if let Some(inflate) = self.inflate.as_mut().filter(|i| i.active) {
            inflate.active = false;
            let mut out = core::mem::take(&mut inflate.scratch);
            out.clear();
            let result = inflate.inflater.finish(&mut out, inflate.limit);
            let result = result.and_then(|()| self.push_plain(&out));
            if let Some(inflate) = &mut self.inflate {
                inflate.scratch = out;
            }
            return result;
        }
        Ok(())
    }

    fn push_plain(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.kind == Some(OpCode::Text) {
            self.utf8.feed_into(data, &mut self.text)?;
        } else {
            self.binary.extend_from_slice(data);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Message, Error> {
        #[cfg(feature = "deflate")]
        self.end_inflate()?;
        Ok(if self.kind.take() == Some(OpCode::Text) {
            self.utf8.finish()?;
            Message::Text(core::mem::take(&mut self.text))
        } else {
            Message::Binary(core::mem::take(&mut self.binary))
        })
    }
}

/// Reassembles whole [`Message`]s from bytes, for custom transports.
///
/// Feed it what you read; take messages out. Control frames that arrive between the
/// fragments of a data message are delivered as they come. Text is validated once, as it
/// streams, and fails at the first invalid byte. The [`Decoder`]'s limits bound how much a
/// message can make it buffer.
///
/// ```
/// use ws_frame::{Decoder, Fin, Message, MessageDecoder, OpCode, Role, encode_frame};
///
/// let mut wire = Vec::new();
/// encode_frame(&mut wire, Fin::More, OpCode::Text, None, b"Hel");
/// encode_frame(&mut wire, Fin::Final, OpCode::Ping, None, b"!");
/// encode_frame(&mut wire, Fin::Final, OpCode::Continuation, None, b"lo");
///
/// let mut decoder = MessageDecoder::new(Decoder::new(Role::Client));
/// decoder.feed(&wire);
/// assert_eq!(decoder.next_message()?, Some(Message::Ping(b"!".to_vec())));
/// assert_eq!(decoder.next_message()?, Some(Message::Text("Hello".into())));
/// assert_eq!(decoder.next_message()?, None);
/// # Ok::<(), ws_frame::Error>(())
/// ```
#[derive(Debug)]
pub struct MessageDecoder {
    decoder: Decoder,
    input: Vec<u8>,
    start: usize,
    assembly: Assembly,
}

impl MessageDecoder {
    /// Wraps `decoder`. Text is always validated (a [`Message::Text`] is a `String`), here
    /// rather than in the decoder, so each byte is validated once.
    #[must_use]
    pub fn new(decoder: Decoder) -> Self {
        Self {
            decoder: decoder.with_utf8_validation(false),
            input: Vec::new(),
            start: 0,
            assembly: Assembly::default(),
        }
    }

    /// Inflates permessage-deflate messages (RSV1 set on their first frame) with
    /// `inflater`, once the handshake negotiated the extension; the decoder then allows
    /// RSV1. The inflated size is held to the decoder's message limit while inflating.
    ///
    /// ```
    /// use ws_frame::deflate::Inflater;
    /// use ws_frame::{Decoder, Message, MessageDecoder, Role};
    ///
    /// // RFC 7692 section 7.2.3.1 and 7.2.3.2: "Hello" in one frame, in two fragments,
    /// // then again using the previous messages as context.
    /// let mut decoder =
    ///     MessageDecoder::new(Decoder::new(Role::Client)).with_inflater(Inflater::new(false));
    /// decoder.feed(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    /// decoder.feed(&[0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00]);
    /// decoder.feed(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    /// for _ in 0..3 {
    ///     assert_eq!(decoder.next_message()?, Some(Message::Text("Hello".into())));
    /// }
    /// # Ok::<(), ws_frame::Error>(())
    /// ```
    #[cfg(feature = "deflate")]
    #[must_use]
    pub fn with_inflater(mut self, inflater: crate::deflate::Inflater) -> Self {
        let bits = self.decoder.reserved_bits() | 0b100;
        self.decoder = self.decoder.with_reserved_bits(bits);
        self.assembly.inflate = Some(Inflate {
            inflater,
            active: false,
            limit: self.decoder.limits().message_size(),
            scratch: Vec::new(),
        });
        self
    }

    /// The inner decoder.
    #[must_use]
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Bytes fed but not yet decoded.
    #[must_use]
    pub fn buffered(&self) -> usize {
        self.input.len() - self.start
    }

    /// Appends bytes read from the transport.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.start == self.input.len() {
            self.input.clear();
            self.start = 0;
        } else if self.start > 0 && self.start >= self.input.len() / 2 {
            self.input.drain(..self.start);
            self.start = 0;
        }
        self.input.extend_from_slice(bytes);
    }

    /// The next whole message or control frame, or `None` when more bytes are needed.
    ///
    /// # Errors
    ///
    /// Every error of [`Decoder::decode`]; text that is not UTF-8 fails with
    /// [`PayloadError::InvalidUtf8`](crate::PayloadError::InvalidUtf8) at the first bad byte
    /// and [`PayloadError::IncompleteUtf8`](crate::PayloadError::IncompleteUtf8) at a
    /// message end inside a code point.
    pub fn next_message(&mut self) -> Result<Option<Message>, Error> {
        loop {
            let input = self.input.get_mut(self.start..).unwrap_or_default();
            let Decoded {
                consumed, event, ..
            } = self.decoder.decode(input)?;
            self.start += consumed;
            let Some(event) = event else {
                return Ok(None);
            };
            match event {
                Event::Frame { header, payload } => match header.opcode {
                    OpCode::Ping => return Ok(Some(Message::Ping(payload.to_vec()))),
                    OpCode::Pong => return Ok(Some(Message::Pong(payload.to_vec()))),
                    OpCode::Close => {
                        let close =
                            CloseFrame::parse(payload)?.map(|c| (c.code, c.reason.to_owned()));
                        return Ok(Some(Message::Close(close)));
                    }
                    OpCode::Text if header.fin && !header.rsv1 => {
                        return Ok(Some(Message::Text(validate_whole(payload)?.to_owned())));
                    }
                    OpCode::Binary if header.fin && !header.rsv1 => {
                        return Ok(Some(Message::Binary(payload.to_vec())));
                    }
                    OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                        self.assembly.start(&header);
                        self.assembly.push(payload)?;
                        if header.fin {
                            return self.assembly.finish().map(Some);
                        }
                    }
                },
                Event::Header(header) => self.assembly.start(&header),
                Event::Payload { data, last } => {
                    self.assembly.push(data)?;
                    if last && self.assembly.fin {
                        return self.assembly.finish().map(Some);
                    }
                }
            }
        }
    }
}

/// Appends one frame (header, then the payload masked with `mask` if given) to `out`,
/// reserving space once. Use `mask: Some(random key)` as a client, `None` as a server.
///
/// The caller keeps the RFC's rules: control frames need [`Fin::Final`] and at most 125
/// bytes.
///
/// ```
/// use ws_frame::{Fin, OpCode, encode_frame};
///
/// let mut out = Vec::new();
/// encode_frame(&mut out, Fin::Final, OpCode::Text, Some([0x37, 0xfa, 0x21, 0x3d]), b"Hello");
/// assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: Fin,
    opcode: OpCode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    let mut header = FrameHeader::new(opcode, payload.len() as u64);
    header.fin = fin.is_final();
    header.mask = mask;
    let mut buf = [0; FrameHeader::MAX_LEN];
    let n = header.encode(&mut buf);
    out.reserve(n + payload.len());
    out.extend_from_slice(buf.get(..n).unwrap_or_default());
    let start = out.len();
    out.extend_from_slice(payload);
    if let (Some(key), Some(tail)) = (mask, out.get_mut(start..)) {
        apply_mask(tail, key);
    }
}
