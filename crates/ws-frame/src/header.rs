//! The frame header (RFC 6455 section 5.2): allocation-free parse and encode.

use crate::{OpCode, ProtocolError};

/// The result of parsing something that may not be all there yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_enums,
    reason = "either more bytes are needed or it is complete"
)]
pub enum Parsed<T> {
    /// At least `needed` more bytes are required; nothing was consumed.
    Incomplete {
        /// How many more bytes to read before trying again (a lower bound).
        needed: usize,
    },
    /// Parsed `value` from the first `consumed` bytes.
    Complete {
        /// The parsed value.
        value: T,
        /// How many input bytes it used.
        consumed: usize,
    },
}

/// A frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(
    clippy::exhaustive_structs,
    reason = "RFC 6455 section 5.2 fixes the header fields"
)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "fin and rsv1-3 are single bits on the wire"
)]
pub struct FrameHeader {
    /// Final fragment of a message.
    pub fin: bool,
    /// Reserved bit 1 (permessage-deflate's "compressed" bit).
    pub rsv1: bool,
    /// Reserved bit 2.
    pub rsv2: bool,
    /// Reserved bit 3.
    pub rsv3: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, present on frames a client sends.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes.
    pub payload_len: u64,
}

impl FrameHeader {
    /// The longest possible header: 2 + 8 (length) + 4 (mask) bytes.
    pub const MAX_LEN: usize = 14;

    /// A final, unmasked frame header with no reserved bits.
    #[must_use]
    pub const fn new(opcode: OpCode, payload_len: u64) -> Self {
        Self {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// The reserved bits as `0bRSV1_RSV2_RSV3`.
    #[must_use]
    pub const fn rsv_bits(&self) -> u8 {
        ((self.rsv1 as u8) << 2) | ((self.rsv2 as u8) << 1) | (self.rsv3 as u8)
    }

    /// The encoded header length.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        let len = match self.payload_len {
            0..=125 => 2,
            126..=0xFFFF => 4,
            _ => 10,
        };
        if self.mask.is_some() { len + 4 } else { len }
    }

    /// Parses a header from the start of `input`. Never allocates, never panics.
    ///
    /// Checks the rules that need no connection state: reserved opcodes, the 64-bit length
    /// MSB, and the control-frame rules (fin set, payload at most 125 bytes). Non-minimal
    /// length encodings are accepted, as RFC 6455 allows. Role, reserved bits, fragmentation
    /// order and limits are checked by [`Decoder`](crate::Decoder).
    ///
    /// # Errors
    ///
    /// [`ProtocolError::ReservedOpCode`], [`ProtocolError::LengthOverflow`],
    /// [`ProtocolError::FragmentedControlFrame`], [`ProtocolError::ControlFrameTooLong`].
    #[inline]
    pub fn parse(input: &[u8]) -> Result<Parsed<Self>, ProtocolError> {
        let Some(&[b0, b1]) = input.first_chunk::<2>() else {
            return Ok(incomplete(input));
        };
        let opcode = OpCode::try_from(b0 & 0x0F)?;
        let fin = b0 & 0x80 != 0;
        let len7 = b1 & 0x7F;
        let (payload_len, mut header_len) = match len7 {
            0..=125 => (u64::from(len7), 2),
            126 => match input.get(2..).and_then(<[u8]>::first_chunk::<2>) {
                Some(b) => (u64::from(u16::from_be_bytes(*b)), 4),
                None => return Ok(incomplete(input)),
            },
            _ => match input.get(2..).and_then(<[u8]>::first_chunk::<8>) {
                Some(b) => (u64::from_be_bytes(*b), 10),
                None => return Ok(incomplete(input)),
            },
        };
        if payload_len >> 63 != 0 {
            return Err(ProtocolError::LengthOverflow);
        }
        if opcode.is_control() && (!fin || payload_len > 125) {
            return Err(control_error(opcode, fin, payload_len));
        }
        let mask = if b1 & 0x80 == 0 {
            None
        } else {
            match input.get(header_len..).and_then(<[u8]>::first_chunk::<4>) {
                Some(key) => {
                    header_len += 4;
                    Some(*key)
                }
                None => return Ok(incomplete(input)),
            }
        };
        Ok(Parsed::Complete {
            value: Self {
                fin,
                rsv1: b0 & 0x40 != 0,
                rsv2: b0 & 0x20 != 0,
                rsv3: b0 & 0x10 != 0,
                opcode,
                mask,
                payload_len,
            },
            consumed: header_len,
        })
    }

    /// Writes the header into `out` with the minimal length encoding and returns how many
    /// bytes it used (2 to 14).
    #[must_use]
    #[inline]
    pub fn encode(&self, out: &mut [u8; Self::MAX_LEN]) -> usize {
        let [b0, b1, rest @ ..] = out;
        *b0 = (u8::from(self.fin) << 7) | (self.rsv_bits() << 4) | u8::from(self.opcode);
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let len = self.payload_len;
        let (ext, rest): (usize, &mut [u8; 12]) = if len <= 125 {
            #[allow(clippy::cast_possible_truncation, reason = "len <= 125")]
            {
                *b1 = mask_bit | len as u8;
            }
            (0, rest)
        } else if let Ok(short) = u16::try_from(len) {
            *b1 = mask_bit | 0x7E;
            let (head, _) = rest.split_at_mut(2);
            head.copy_from_slice(&short.to_be_bytes());
            (2, rest)
        } else {
            *b1 = mask_bit | 0x7F;
            let (head, _) = rest.split_at_mut(8);
            head.copy_from_slice(&len.to_be_bytes());
            (8, rest)
        };
        match self.mask {
            Some(key) => {
                if let Some(dst) = rest.get_mut(ext..ext + 4) {
                    dst.copy_from_slice(&key);
                }
                2 + ext + 4
            }
            None => 2 + ext,
        }
    }
}

/// How many bytes a header that `input` starts needs beyond `input`.
#[cold]
fn incomplete<T>(input: &[u8]) -> Parsed<T> {
    let full: usize = match input.get(1) {
        None => 2,
        Some(&b1) => {
            let ext = match b1 & 0x7F {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            2 + ext + if b1 & 0x80 == 0 { 0 } else { 4 }
        }
    };
    Parsed::Incomplete {
        needed: full.saturating_sub(input.len()).max(1),
    }
}

#[cold]
fn control_error(opcode: OpCode, fin: bool, len: u64) -> ProtocolError {
    if fin {
        ProtocolError::ControlFrameTooLong { opcode, len }
    } else {
        ProtocolError::FragmentedControlFrame { opcode }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(input: &[u8]) -> (FrameHeader, usize) {
        match FrameHeader::parse(input).unwrap() {
            Parsed::Complete { value, consumed } => (value, consumed),
            Parsed::Incomplete { needed } => panic!("incomplete, needs {needed}"),
        }
    }

    #[test]
    fn parses_rfc_single_frame_unmasked_text_header() {
        let (h, n) = parse_ok(&[0x81, 0x05, 0x48, 0x65]);
        assert_eq!(n, 2);
        assert_eq!(h, FrameHeader::new(OpCode::Text, 5));
    }

    #[test]
    fn reports_how_many_bytes_are_missing() {
        assert_eq!(
            FrameHeader::parse(&[]),
            Ok(Parsed::Incomplete { needed: 2 })
        );
        assert_eq!(
            FrameHeader::parse(&[0x82]),
            Ok(Parsed::Incomplete { needed: 1 })
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x7E, 1]),
            Ok(Parsed::Incomplete { needed: 1 })
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0xFF]),
            Ok(Parsed::Incomplete { needed: 12 })
        );
        assert_eq!(
            FrameHeader::parse(&[0x82, 0x85, 1, 2]),
            Ok(Parsed::Incomplete { needed: 2 })
        );
    }

    #[test]
    fn rejects_reserved_opcode_in_header() {
        assert_eq!(
            FrameHeader::parse(&[0x83, 0x00]),
            Err(ProtocolError::ReservedOpCode(3))
        );
        assert_eq!(
            FrameHeader::parse(&[0x8B, 0x00]),
            Err(ProtocolError::ReservedOpCode(0xB))
        );
    }

    #[test]
    fn rejects_64_bit_length_with_msb_set() {
        let mut input = [0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            FrameHeader::parse(&input),
            Err(ProtocolError::LengthOverflow)
        );
        input[2] = 0x7F;
        assert!(matches!(
            FrameHeader::parse(&input),
            Ok(Parsed::Complete { consumed: 10, .. })
        ));
    }

    #[test]
    fn rejects_fragmented_control_frame() {
        assert_eq!(
            FrameHeader::parse(&[0x09, 0x00]),
            Err(ProtocolError::FragmentedControlFrame {
                opcode: OpCode::Ping
            })
        );
    }

    #[test]
    fn rejects_control_frame_longer_than_125() {
        assert_eq!(
            FrameHeader::parse(&[0x8A, 0x7E, 0x00, 0x7E]),
            Err(ProtocolError::ControlFrameTooLong {
                opcode: OpCode::Pong,
                len: 126
            })
        );
        assert!(matches!(
            FrameHeader::parse(&[0x8A, 0x7D]),
            Ok(Parsed::Complete { .. })
        ));
    }

    #[test]
    fn accepts_non_minimal_length_encodings() {
        let (h, n) = parse_ok(&[0x82, 0x7E, 0x00, 0x05]);
        assert_eq!((h.payload_len, n), (5, 4));
        let (h, n) = parse_ok(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 0x05]);
        assert_eq!((h.payload_len, n), (5, 10));
    }

    #[test]
    fn parses_reserved_bits_and_mask() {
        let (h, n) = parse_ok(&[0xF2, 0x80, 1, 2, 3, 4]);
        assert!(h.rsv1 && h.rsv2 && h.rsv3);
        assert_eq!(h.rsv_bits(), 0b111);
        assert_eq!(h.mask, Some([1, 2, 3, 4]));
        assert_eq!(n, 6);
    }

    #[test]
    fn encodes_lengths_minimally() {
        let mut out = [0; FrameHeader::MAX_LEN];
        for (len, expect) in [(0, 2), (125, 2), (126, 4), (0xFFFF, 4), (0x1_0000, 10)] {
            let h = FrameHeader::new(OpCode::Binary, len);
            assert_eq!(h.encode(&mut out), expect, "len {len}");
            assert_eq!(h.encoded_len(), expect);
            assert_eq!(parse_ok(&out[..expect]), (h, expect));
        }
    }

    #[test]
    fn encodes_rfc_masked_header() {
        let mut h = FrameHeader::new(OpCode::Text, 5);
        h.mask = Some([0x37, 0xfa, 0x21, 0x3d]);
        let mut out = [0; FrameHeader::MAX_LEN];
        let n = h.encode(&mut out);
        assert_eq!(&out[..n], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        let mut h = FrameHeader::new(OpCode::Binary, 65536);
        h.mask = Some([9, 8, 7, 6]);
        let n = h.encode(&mut out);
        assert_eq!(&out[..n], &[0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 9, 8, 7, 6]);
    }
}
