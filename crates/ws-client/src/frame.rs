//! [`Frame`]: one raw frame, as [`WebSocket::recv_frame`](crate::WebSocket::recv_frame)
//! returns it and [`WebSocket::send_frame`](crate::WebSocket::send_frame) takes it.

use ws_frame::{Fin, OpCode};

/// One WebSocket frame without its mask: fin, reserved bits, opcode and payload.
///
/// What a caller sends and receives as a frame; the engine's
/// [`ws_frame::Frame`] (a decoded [`FrameHeader`](ws_frame::FrameHeader), with its mask
/// and length, and the payload) converts into it with `From`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Frame {
    /// Whether this is the final frame of its message.
    pub fin: Fin,
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
            fin: Fin::Final,
            rsv: 0,
            opcode,
            payload: payload.into(),
        }
    }

    /// Sets the fin bit: [`Fin::More`] for a fragment that does not end its message.
    #[must_use]
    pub fn with_fin(mut self, fin: Fin) -> Self {
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

impl From<ws_frame::Frame> for Frame {
    fn from(frame: ws_frame::Frame) -> Self {
        Self {
            fin: Fin::from(frame.header.fin),
            rsv: frame.header.rsv_bits(),
            opcode: frame.header.opcode,
            payload: frame.payload,
        }
    }
}
