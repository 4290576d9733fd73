//! Close codes (RFC 6455 section 7.4 and the IANA registry) and close frame payloads.

use core::fmt;

use crate::error::{CloseEncodeError, Error, PayloadError, ProtocolError};

/// A close status code.
///
/// [`TryFrom<u16>`] accepts only codes valid on the wire: 1000-1003, 1007-1014 and
/// 3000-4999. 1005, 1006 and 1015 exist for reporting (see [`CloseCode::from_raw`]) and are
/// never sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: normal closure.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: received a data type it cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present (reporting only, never sent).
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: closed without a close frame (reporting only, never sent).
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: payload inconsistent with the message type (e.g. invalid UTF-8 text).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: policy violation.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: message too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server hit an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting (IANA).
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later (IANA).
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway received an invalid response (IANA).
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed (reporting only, never sent).
    pub const TLS_HANDSHAKE: Self = Self(1015);

    /// Wraps any number without checking it, for reporting what a peer or the library saw
    /// (e.g. [`CloseCode::ABNORMAL`]). Use [`TryFrom<u16>`] for codes about to be sent.
    #[must_use]
    pub const fn from_raw(code: u16) -> Self {
        Self(code)
    }

    /// The numeric value.
    #[must_use]
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// `true` if this code may appear in a close frame: 1000-1003, 1007-1014, 3000-4999.
    #[must_use]
    pub const fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl TryFrom<u16> for CloseCode {
    type Error = ProtocolError;

    /// # Errors
    ///
    /// [`ProtocolError::InvalidCloseCode`] for codes that must not appear on the wire.
    fn try_from(code: u16) -> Result<Self, ProtocolError> {
        let code = Self(code);
        if code.is_sendable() {
            Ok(code)
        } else {
            Err(ProtocolError::InvalidCloseCode(code.0))
        }
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

/// The payload of a close frame: a status code and a UTF-8 reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(
    clippy::exhaustive_structs,
    reason = "RFC 6455 section 5.5.1 fixes the layout"
)]
pub struct CloseFrame<'a> {
    /// The status code.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: &'a str,
}

impl<'a> CloseFrame<'a> {
    /// Largest reason that fits in a control frame after the 2-byte code.
    pub const MAX_REASON_LEN: usize = 123;

    /// Parses a close frame payload. An empty payload gives `Ok(None)` (no status).
    ///
    /// # Errors
    ///
    /// - [`ProtocolError::CloseFrameTooShort`] for a 1-byte payload,
    /// - [`ProtocolError::ControlFrameTooLong`] for more than 125 bytes,
    /// - [`ProtocolError::InvalidCloseCode`] for a code not valid on the wire,
    /// - [`PayloadError::InvalidCloseReason`] if the reason is not UTF-8.
    pub fn parse(payload: &'a [u8]) -> Result<Option<Self>, Error> {
        let Some((code, reason)) = payload.split_first_chunk::<2>() else {
            return if payload.is_empty() {
                Ok(None)
            } else {
                Err(ProtocolError::CloseFrameTooShort.into())
            };
        };
        if payload.len() > 125 {
            return Err(ProtocolError::ControlFrameTooLong {
                opcode: crate::OpCode::Close,
                len: payload.len() as u64,
            }
            .into());
        }
        let code = CloseCode::try_from(u16::from_be_bytes(*code))?;
        let reason =
            simdutf8::compat::from_utf8(reason).map_err(|e| PayloadError::InvalidCloseReason {
                offset: e.valid_up_to(),
            })?;
        Ok(Some(Self { code, reason }))
    }

    /// Writes a close payload (`code` big-endian, then `reason`) into `out` and returns its
    /// length.
    ///
    /// # Errors
    ///
    /// - [`CloseEncodeError::UnsendableCode`] if `code` is not [sendable](CloseCode::is_sendable),
    /// - [`CloseEncodeError::ReasonTooLong`] if `reason` exceeds 123 bytes.
    pub fn encode(
        code: CloseCode,
        reason: &str,
        out: &mut [u8; 125],
    ) -> Result<usize, CloseEncodeError> {
        if !code.is_sendable() {
            return Err(CloseEncodeError::UnsendableCode(code));
        }
        let len = reason.len();
        let (head, rest) = out.split_at_mut(2);
        let dst = rest
            .get_mut(..len)
            .ok_or(CloseEncodeError::ReasonTooLong { len })?;
        head.copy_from_slice(&code.0.to_be_bytes());
        dst.copy_from_slice(reason.as_bytes());
        Ok(2 + len)
    }
}

#[cfg(test)]
mod tests {
    use std::prelude::rust_2024::*;

    use super::*;

    #[test]
    fn rejects_invalid_close_codes_on_the_wire() {
        for code in [
            0,
            999,
            1004,
            1005,
            1006,
            1015,
            1016,
            2000,
            2999,
            5000,
            u16::MAX,
        ] {
            let err = CloseFrame::parse(&code.to_be_bytes()).unwrap_err();
            assert_eq!(
                err,
                Error::Protocol(ProtocolError::InvalidCloseCode(code)),
                "code {code}"
            );
        }
    }

    #[test]
    fn accepts_every_valid_close_code() {
        for code in (1000u16..=1003).chain(1007..=1014).chain(3000..=4999) {
            let bytes = code.to_be_bytes();
            let frame = CloseFrame::parse(&bytes).unwrap().unwrap();
            assert_eq!(u16::from(frame.code), code);
            assert_eq!(frame.reason, "");
        }
    }

    #[test]
    fn reporting_only_codes_are_not_sendable() {
        for code in [
            CloseCode::NO_STATUS,
            CloseCode::ABNORMAL,
            CloseCode::TLS_HANDSHAKE,
        ] {
            assert!(!code.is_sendable());
            assert_eq!(
                CloseCode::try_from(code.as_u16()),
                Err(ProtocolError::InvalidCloseCode(code.as_u16()))
            );
        }
        assert!(CloseCode::NORMAL.is_sendable());
        assert_eq!(CloseCode::from_raw(4000).to_string(), "4000");
    }

    #[test]
    fn empty_close_payload_has_no_status() {
        assert_eq!(CloseFrame::parse(&[]), Ok(None));
    }

    #[test]
    fn rejects_one_byte_close_payload() {
        assert_eq!(
            CloseFrame::parse(&[0x03]),
            Err(Error::Protocol(ProtocolError::CloseFrameTooShort))
        );
    }

    #[test]
    fn rejects_close_reason_that_is_not_utf8() {
        let err = CloseFrame::parse(&[0x03, 0xE8, b'o', b'k', 0xFF]).unwrap_err();
        assert_eq!(
            err,
            Error::Payload(PayloadError::InvalidCloseReason { offset: 2 })
        );
        assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
    }

    #[test]
    fn rejects_close_payload_over_125_bytes() {
        let mut payload = [b'a'; 126];
        payload[..2].copy_from_slice(&1000u16.to_be_bytes());
        assert!(matches!(
            CloseFrame::parse(&payload),
            Err(Error::Protocol(ProtocolError::ControlFrameTooLong {
                len: 126,
                ..
            }))
        ));
    }

    #[test]
    fn close_frame_encodes_and_parses_back() {
        let mut out = [0; 125];
        let n = CloseFrame::encode(CloseCode::GOING_AWAY, "bye ✓", &mut out).unwrap();
        assert_eq!(&out[..4], &[0x03, 0xE9, b'b', b'y']);
        let frame = CloseFrame::parse(&out[..n]).unwrap().unwrap();
        assert_eq!(
            frame,
            CloseFrame {
                code: CloseCode::GOING_AWAY,
                reason: "bye ✓"
            }
        );
    }

    #[test]
    fn close_encode_rejects_long_reason_and_unsendable_code() {
        let mut out = [0; 125];
        let long = "x".repeat(124);
        assert_eq!(
            CloseFrame::encode(CloseCode::NORMAL, &long, &mut out),
            Err(CloseEncodeError::ReasonTooLong { len: 124 })
        );
        assert_eq!(
            CloseFrame::encode(CloseCode::NORMAL, &long[..123], &mut out),
            Ok(125)
        );
        assert_eq!(
            CloseFrame::encode(CloseCode::ABNORMAL, "", &mut out),
            Err(CloseEncodeError::UnsendableCode(CloseCode::ABNORMAL))
        );
    }
}
