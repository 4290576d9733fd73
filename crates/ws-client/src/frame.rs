//! [`Frame`]: one raw frame, as [`WebSocket::recv_frame`](crate::WebSocket::recv_frame)
//! returns it and [`WebSocket::send_frame`](crate::WebSocket::send_frame) takes it.

use ws_frame::OpCode;

/// One WebSocket frame without its mask: fin, reserved bits, opcode and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame {
    /// Whether this is the final frame of its message.
    pub fin: bool,
    /// The reserved bits, RSV1 = `0b100`, RSV2 = `0b010`, RSV3 = `0b001`.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The (unmasked) payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A final frame with no reserved bits.
    pub fn new(opcode: OpCode, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            fin: true,
            rsv: 0,
            opcode,
            payload: payload.into(),
        }
    }

    /// Sets the fin bit.
    #[must_use]
    pub fn with_fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }

    /// Sets the reserved bits (`0b100` = RSV1 ...). Sending a frame with reserved bits
    /// fails unless an extension claims them.
    #[must_use]
    pub fn with_rsv(mut self, rsv: u8) -> Self {
        self.rsv = rsv & 0b111;
        self
    }
}
