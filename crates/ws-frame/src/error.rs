//! The two error families of the codec, each naming the broken rule and the close code to
//! send back for it.

use crate::CloseCode;
use crate::OpCode;

/// A frame or message broke a rule of RFC 6455 (or a configured limit).
///
/// The peer should be sent [`close_code`](Self::close_code): 1002 for protocol violations,
/// 1009 for exceeded limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The opcode is one of the reserved values 0x3-0x7 or 0xB-0xF.
    #[error("reserved opcode {0:#x} (RFC 6455 section 5.2)")]
    ReservedOpCode(u8),
    /// RSV1, RSV2 or RSV3 is set but no negotiated extension claims it.
    #[error("reserved bits {bits:#05b} set without a negotiated extension (RFC 6455 section 5.2)")]
    ReservedBits {
        /// The offending bits, RSV1 = `0b100`, RSV2 = `0b010`, RSV3 = `0b001`.
        bits: u8,
    },
    /// A client received a masked frame; servers must not mask.
    #[error("server sent a masked frame (RFC 6455 section 5.1)")]
    MaskedFrameFromServer,
    /// A server received an unmasked frame; clients must mask.
    #[error("client sent an unmasked frame (RFC 6455 section 5.1)")]
    UnmaskedFrameFromClient,
    /// A control frame had FIN cleared.
    #[error(
        "{opcode} frame is fragmented; control frames must have fin set (RFC 6455 section 5.5)"
    )]
    FragmentedControlFrame {
        /// The control opcode.
        opcode: OpCode,
    },
    /// A control frame payload was longer than 125 bytes.
    #[error("{opcode} frame payload is {len} bytes, at most 125 allowed (RFC 6455 section 5.5)")]
    ControlFrameTooLong {
        /// The control opcode.
        opcode: OpCode,
        /// The declared payload length.
        len: u64,
    },
    /// A continuation frame arrived while no fragmented message was open.
    #[error("continuation frame without a started message (RFC 6455 section 5.4)")]
    ContinuationWithoutMessage,
    /// A text or binary frame arrived while a fragmented message was still open.
    #[error("new {opcode} frame inside an unfinished fragmented message (RFC 6455 section 5.4)")]
    DataFrameInsideMessage {
        /// The opcode of the unexpected frame.
        opcode: OpCode,
    },
    /// RSV1 (permessage-deflate's "compressed" bit) was set on a control frame or a
    /// continuation frame; it may only mark the first frame of a data message.
    #[error(
        "rsv1 set on a {opcode} frame; only the first frame of a data message may carry it (RFC 7692 section 6)"
    )]
    MisplacedRsv1 {
        /// The opcode of the offending frame.
        opcode: OpCode,
    },
    /// A 64-bit payload length had its most significant bit set.
    #[error("64-bit payload length has the most significant bit set (RFC 6455 section 5.2)")]
    LengthOverflow,
    /// A close frame carried exactly one payload byte (a code needs two).
    #[error(
        "close frame payload is 1 byte; it must be empty or hold a 2-byte code (RFC 6455 section 5.5.1)"
    )]
    CloseFrameTooShort,
    /// A close frame carried a code that must not appear on the wire.
    #[error("close code {0} is not valid on the wire (RFC 6455 section 7.4)")]
    InvalidCloseCode(u16),
    /// A frame payload exceeded [`Limits::frame_size`](crate::Limits::frame_size).
    #[error("frame payload of {len} bytes exceeds the limit of {limit}")]
    FrameTooLarge {
        /// The declared payload length.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A data message exceeded [`Limits::message_size`](crate::Limits::message_size).
    #[error("message of at least {len} bytes exceeds the limit of {limit}")]
    MessageTooLarge {
        /// The message length so far, including the frame that crossed the limit.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
}

impl ProtocolError {
    /// The close code to send to the peer for this error: 1009 for exceeded limits, else 1002.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::FrameTooLarge { .. } | Self::MessageTooLarge { .. } => CloseCode::MESSAGE_TOO_BIG,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// A payload was not what its frame type promises (text or close reason not UTF-8).
///
/// The peer should be sent [`close_code`](Self::close_code), 1007.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// A text message contains a byte sequence that is not UTF-8.
    #[error("text message is not valid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Offset of the first invalid byte from the start of the message.
        offset: u64,
    },
    /// A text message ended inside a multi-byte code point.
    #[error("text message ends inside a UTF-8 code point")]
    IncompleteUtf8,
    /// A compressed message is not valid DEFLATE data (RFC 7692 section 7.2.2).
    #[error("compressed message is not valid deflate data (RFC 7692 section 7.2.2)")]
    InvalidCompressedData,
    /// A close frame reason is not UTF-8.
    #[error("close reason is not valid UTF-8 at byte {offset}")]
    InvalidCloseReason {
        /// Offset of the first invalid byte from the start of the reason.
        offset: usize,
    },
}

impl PayloadError {
    /// The close code to send to the peer for this error: 1007.
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        CloseCode::INVALID_PAYLOAD
    }
}

/// Any error the decoder reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A protocol rule or limit was broken.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A payload was invalid.
    #[error(transparent)]
    Payload(#[from] PayloadError),
}

impl Error {
    /// The close code to send to the peer for this error (1002, 1007 or 1009).
    #[must_use]
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::Protocol(e) => e.close_code(),
            Self::Payload(e) => e.close_code(),
        }
    }
}

/// An error building a close frame to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseEncodeError {
    /// The code must not be sent (1005, 1006, 1015 or an undefined code).
    #[error("close code {0} must not be sent (RFC 6455 section 7.4)")]
    UnsendableCode(CloseCode),
    /// The reason does not fit in a control frame after the 2-byte code.
    #[error("close reason is {len} bytes, at most 123 allowed")]
    ReasonTooLong {
        /// The reason's length in bytes.
        len: usize,
    },
}

/// Result of the codec, with [`Error`] by default.
pub type Result<T, E = Error> = core::result::Result<T, E>;
