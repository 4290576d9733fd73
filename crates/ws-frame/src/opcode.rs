//! Frame opcodes (RFC 6455 section 5.2) and the endpoint role.

use core::fmt;

use crate::ProtocolError;

/// Which side of the connection we are. A client masks what it sends and expects unmasked
/// frames; a server expects masked frames and sends unmasked ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_enums,
    reason = "a connection has exactly two sides"
)]
pub enum Role {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

/// Whether a frame ends its message (the FIN bit of RFC 6455 section 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(clippy::exhaustive_enums, reason = "the FIN bit has two values")]
pub enum Fin {
    /// The last (or only) frame of its message: FIN set.
    Final,
    /// More fragments of the message follow: FIN clear.
    More,
}

impl Fin {
    /// `true` for [`Fin::Final`], the value of the FIN bit.
    pub fn is_final(self) -> bool {
        self == Self::Final
    }
}

impl From<bool> for Fin {
    /// The FIN bit as read from a header: `true` is [`Fin::Final`].
    fn from(fin: bool) -> Self {
        if fin { Self::Final } else { Self::More }
    }
}

/// A frame opcode. Reserved opcodes are a parse error ([`ProtocolError::ReservedOpCode`]),
/// not a variant, so they can't be sent by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_enums,
    reason = "RFC 6455 defines these six; new ones would need an extension and a new major"
)]
pub enum OpCode {
    /// 0x0: continues a fragmented data message.
    Continuation,
    /// 0x1: starts a text message.
    Text,
    /// 0x2: starts a binary message.
    Binary,
    /// 0x8: close.
    Close,
    /// 0x9: ping.
    Ping,
    /// 0xA: pong.
    Pong,
}

impl OpCode {
    /// `true` for close, ping and pong.
    #[must_use]
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }

    /// `true` for continuation, text and binary.
    #[must_use]
    pub fn is_data(self) -> bool {
        !self.is_control()
    }

    /// Short lower-case name: `"cont"`, `"text"`, `"binary"`, `"close"`, `"ping"`, `"pong"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Continuation => "cont",
            Self::Text => "text",
            Self::Binary => "binary",
            Self::Close => "close",
            Self::Ping => "ping",
            Self::Pong => "pong",
        }
    }
}

impl fmt::Display for OpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<u8> for OpCode {
    type Error = ProtocolError;

    /// # Errors
    ///
    /// [`ProtocolError::ReservedOpCode`] for any value other than 0x0-0x2 and 0x8-0xA.
    #[inline]
    fn try_from(value: u8) -> Result<Self, ProtocolError> {
        Ok(match value {
            0x0 => Self::Continuation,
            0x1 => Self::Text,
            0x2 => Self::Binary,
            0x8 => Self::Close,
            0x9 => Self::Ping,
            0xA => Self::Pong,
            other => return Err(ProtocolError::ReservedOpCode(other)),
        })
    }
}

impl From<OpCode> for u8 {
    fn from(op: OpCode) -> Self {
        match op {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_round_trips_through_u8() {
        for op in [
            OpCode::Continuation,
            OpCode::Text,
            OpCode::Binary,
            OpCode::Close,
            OpCode::Ping,
            OpCode::Pong,
        ] {
            assert_eq!(OpCode::try_from(u8::from(op)), Ok(op));
        }
    }

    #[test]
    fn rejects_reserved_opcodes() {
        for raw in (0x3..=0x7).chain(0xB..=0xF) {
            assert_eq!(
                OpCode::try_from(raw),
                Err(ProtocolError::ReservedOpCode(raw))
            );
        }
    }

    #[test]
    fn classifies_control_and_data_opcodes() {
        assert!(OpCode::Ping.is_control() && !OpCode::Ping.is_data());
        assert!(OpCode::Continuation.is_data() && !OpCode::Text.is_control());
        assert_eq!(OpCode::Continuation.name(), "cont");
    }
}
