//! The engine's errors: what a send was refused for, and why receiving stopped.

use alloc::string::String;
use core::time::Duration;

use crate::{CloseCode, CloseEncodeError, Error, OpCode};

/// Why [`Inbound::poll_message`](crate::Inbound::poll_message) (or
/// [`Connection::poll_message`](crate::Connection::poll_message)) stopped delivering.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecvError {
    /// The peer broke RFC 6455 or sent an invalid payload. The connection failed: the close
    /// code of [`Error::close_code`] was handed to the send side (RFC 6455 section 7.1.7).
    #[error(transparent)]
    Frame(#[from] Error),
    /// The transport ended without a close frame (close code 1006). Every message that was
    /// complete before the end has been delivered first.
    #[error("the connection ended without a close frame (code 1006)")]
    Eof,
    /// No pong answered a keepalive ping within the timeout.
    #[error("no pong within {timeout:?} of a keepalive ping")]
    PongTimeout {
        /// The pong timeout that ran out.
        timeout: Duration,
    },
    /// The peer did not answer our close frame within the close timeout.
    #[error("the peer did not answer the close frame within {timeout:?}")]
    CloseTimeout {
        /// The close timeout that ran out.
        timeout: Duration,
    },
    /// Receiving already ended (the peer's close frame was delivered, or one of the errors
    /// above was returned); this repeats how it ended.
    #[error("the connection is closed{}", describe(*.code, reason))]
    Closed {
        /// The close code: the peer's, the one we failed the connection with, or 1006.
        code: Option<CloseCode>,
        /// The peer's close reason, or a description of the failure.
        reason: String,
    },
}

fn describe(code: Option<CloseCode>, reason: &str) -> String {
    use alloc::format;
    match (code, reason.is_empty()) {
        (None, _) => String::new(),
        (Some(code), true) => format!(" (code {code})"),
        (Some(code), false) => format!(" (code {code}: {reason})"),
    }
}

impl RecvError {
    /// The close code that describes this end: the failing code sent for
    /// [`RecvError::Frame`], 1006 for [`RecvError::Eof`] and the timeouts, the recorded code
    /// for [`RecvError::Closed`].
    #[must_use]
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Frame(e) => Some(e.close_code()),
            Self::Eof | Self::PongTimeout { .. } | Self::CloseTimeout { .. } => {
                Some(CloseCode::ABNORMAL)
            }
            Self::Closed { code, .. } => *code,
        }
    }
}

/// The mask key source failed (for example the operating system's random number
/// generator could not be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the mask key source failed")]
#[non_exhaustive]
pub struct MaskKeyError;

impl MaskKeyError {
    /// The error.
    #[must_use]
    pub const fn new() -> Self {
        Self
    }
}

impl Default for MaskKeyError {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a send was refused. A refused send queues nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent (by us, as the echo of the peer's close, or to fail
    /// the connection): only the closing handshake remains (RFC 6455 section 5.5.1).
    #[error("a close frame was already sent")]
    CloseSent,
    /// A ping, pong or close payload over 125 bytes (RFC 6455 section 5.5).
    #[error("{opcode} payload is {len} bytes, at most 125 allowed (RFC 6455 section 5.5)")]
    ControlFrameTooLong {
        /// The control opcode.
        opcode: OpCode,
        /// The payload length given.
        len: usize,
    },
    /// A control frame without FIN, or a control opcode given as a fragment.
    #[error("{opcode} frames cannot be fragmented (RFC 6455 section 5.5)")]
    FragmentedControlFrame {
        /// The control opcode.
        opcode: OpCode,
    },
    /// Reserved bits on a raw frame: no extension lets the caller set them.
    #[error("reserved bits {bits:#05b} set on a raw frame (RFC 6455 section 5.2)")]
    ReservedBits {
        /// The bits, as `0bRSV1_RSV2_RSV3`.
        bits: u8,
    },
    /// A continuation frame while no fragmented message is open.
    #[error("continuation frame without a started fragmented message (RFC 6455 section 5.4)")]
    ContinuationWithoutMessage,
    /// A new text or binary message while a fragmented one is still open.
    #[error(
        "a fragmented {open} message is still open: send continuation frames (RFC 6455 section 5.4)"
    )]
    MessageInProgress {
        /// The opcode of the open message.
        open: OpCode,
    },
    /// A data send while a large frame's payload is still being queued
    /// (see [`Queued::Partial`](crate::Queued::Partial)).
    #[error("a large frame is still being sent: finish it with send_rest first")]
    FrameInProgress,
    /// [`Outbound::send_rest`](crate::Outbound::send_rest) with no large frame in progress,
    /// or with more bytes than the frame has left.
    #[error("send_rest got {given} bytes but the frame in progress has {remaining} left")]
    NoFrameInProgress {
        /// Bytes given.
        given: usize,
        /// Bytes the frame still needed (0 when none is in progress).
        remaining: u64,
    },
    /// A whole text frame whose payload is not UTF-8.
    #[error("text payload is not UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// Where the first invalid byte is.
        offset: usize,
    },
    /// A raw close payload of one byte, or a close reason that is not UTF-8.
    #[error("a close payload must be empty or a 2-byte code and a UTF-8 reason")]
    InvalidClosePayload,
    /// A close reason was given without a close code.
    #[error("a close reason needs a close code")]
    ReasonWithoutCode,
    /// An unsendable close code or a reason over 123 bytes.
    #[error(transparent)]
    Close(#[from] CloseEncodeError),
    /// The mask key source failed; nothing was queued.
    #[error(transparent)]
    MaskKey(#[from] MaskKeyError),
    /// The compressor failed.
    #[error("compression failed: {0}")]
    Compress(CompressError),
}

/// A [`Compress`](crate::Compress) implementation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct CompressError {
    /// What went wrong, from the compressor.
    pub message: String,
}

impl CompressError {
    /// An error with `message`.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl From<CompressError> for SendError {
    fn from(e: CompressError) -> Self {
        Self::Compress(e)
    }
}
