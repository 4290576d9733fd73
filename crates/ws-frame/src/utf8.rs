//! Streaming UTF-8 validation for text messages that arrive in pieces.
//!
//! Each piece is split into a body that ends on a code point boundary, validated in one
//! SIMD pass by `simdutf8`, and a tail of at most 3 bytes holding the start of a code point
//! that continues in the next piece. The tail is checked at once as a prefix, so an invalid
//! sequence fails in the piece that contains it, not at the end of the message.

use crate::PayloadError;

/// Validates a text message fed in arbitrary pieces (frames or reads).
///
/// ```
/// use ws_frame::Utf8Validator;
///
/// let text = "zß水🍌".as_bytes();
/// let mut v = Utf8Validator::new();
/// for byte in text {
///     v.feed(core::slice::from_ref(byte))?; // a code point split across pieces is fine
/// }
/// v.finish()?;
/// # Ok::<(), ws_frame::PayloadError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// Start of a code point that continues in the next piece.
    pending: [u8; 4],
    pending_len: usize,
    /// Message bytes fed so far, for error offsets.
    offset: u64,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            pending: [0; 4],
            pending_len: 0,
            offset: 0,
        }
    }

    /// Validates the next piece of the message.
    ///
    /// # Errors
    ///
    /// [`PayloadError::InvalidUtf8`] as soon as the bytes seen so far can't be UTF-8, with
    /// the message offset where the invalid sequence starts.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), PayloadError> {
        self.feed_with(data, |_| ())
    }

    /// Ends the message.
    ///
    /// # Errors
    ///
    /// [`PayloadError::IncompleteUtf8`] if the message ended inside a code point. The
    /// validator is reset either way.
    pub fn finish(&mut self) -> Result<(), PayloadError> {
        let complete = self.pending_len == 0;
        self.reset();
        if complete {
            Ok(())
        } else {
            Err(PayloadError::IncompleteUtf8)
        }
    }

    /// Forgets the current message.
    pub fn reset(&mut self) {
        *self = Self::new();
    }

    /// `true` when the bytes fed so far end on a code point boundary.
    #[must_use]
    pub fn is_at_boundary(&self) -> bool {
        self.pending_len == 0
    }

    /// Validates the next piece like [`feed`](Self::feed) and appends its complete code
    /// points to `out` (a code point split across pieces is appended once complete), so
    /// building a `String` costs one validation pass, not two.
    ///
    /// ```
    /// let mut v = ws_frame::Utf8Validator::new();
    /// let mut text = String::new();
    /// v.feed_into(b"caf\xC3", &mut text)?;
    /// assert_eq!(text, "caf");
    /// v.feed_into(b"\xA9!", &mut text)?;
    /// v.finish()?;
    /// assert_eq!(text, "café!");
    /// # Ok::<(), ws_frame::PayloadError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`feed`](Self::feed); `out` then holds the valid text before the error.
    #[cfg(feature = "alloc")]
    pub fn feed_into(
        &mut self,
        data: &[u8],
        out: &mut alloc::string::String,
    ) -> Result<(), PayloadError> {
        self.feed_with(data, |s| out.push_str(s))
    }

    /// Core: validates `data`, handing each valid, complete part to `sink`.
    fn feed_with(
        &mut self,
        mut data: &[u8],
        mut sink: impl FnMut(&str),
    ) -> Result<(), PayloadError> {
        if self.pending_len > 0 {
            let have = self.pending_len;
            let need = expected_len(self.pending[0]).saturating_sub(have);
            let take = need.min(data.len());
            let (head, rest) = data.split_at(take);
            let Some(slot) = self.pending.get_mut(have..have + take) else {
                return Err(self.error_at(0));
            };
            slot.copy_from_slice(head);
            let code_point = self.pending.get(..have + take).unwrap_or_default();
            match simdutf8::compat::from_utf8(code_point) {
                Ok(s) => {
                    sink(s);
                    self.pending_len = 0;
                    self.offset += (have + take) as u64;
                    data = rest;
                }
                Err(e) if e.error_len().is_none() => {
                    self.pending_len = have + take;
                    return Ok(());
                }
                Err(_) => return Err(self.error_at(0)),
            }
        }
        let (body, tail) = data.split_at(incomplete_tail_start(data));
        if let Ok(s) = simdutf8::basic::from_utf8(body) {
            sink(s);
        } else {
            let at = simdutf8::compat::from_utf8(body).map_or_else(|e| e.valid_up_to(), str::len);
            return Err(self.error_at(at));
        }
        if !tail.is_empty() {
            match simdutf8::compat::from_utf8(tail) {
                Err(e) if e.error_len().is_none() => {}
                _ => return Err(self.error_at(body.len())),
            }
            if let Some(slot) = self.pending.get_mut(..tail.len()) {
                slot.copy_from_slice(tail);
            }
            self.pending_len = tail.len();
        }
        self.offset += body.len() as u64;
        Ok(())
    }

    fn error_at(&self, at: usize) -> PayloadError {
        PayloadError::InvalidUtf8 {
            offset: self.offset + at as u64,
        }
    }
}

/// Validates a whole message in one pass.
pub(crate) fn validate_whole(data: &[u8]) -> Result<&str, PayloadError> {
    simdutf8::basic::from_utf8(data).map_err(|_| match simdutf8::compat::from_utf8(data) {
        Err(e) if e.error_len().is_none() => PayloadError::IncompleteUtf8,
        Err(e) => PayloadError::InvalidUtf8 {
            offset: e.valid_up_to() as u64,
        },
        Ok(_) => PayloadError::InvalidUtf8 { offset: 0 },
    })
}

/// Length of the code point a lead byte starts (1 for ASCII and bytes that can't lead).
#[inline]
fn expected_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// Where a code point that `data` ends in the middle of starts, else `data.len()`.
#[inline]
fn incomplete_tail_start(data: &[u8]) -> usize {
    let len = data.len();
    for (back, &byte) in data.iter().rev().take(3).enumerate() {
        if byte & 0xC0 != 0x80 {
            return if expected_len(byte) > back + 1 {
                len - back - 1
            } else {
                len
            };
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use std::prelude::rust_2024::*;

    use proptest::prelude::*;

    use super::*;

    fn check_split(bytes: &[u8], split: usize) -> Result<(), PayloadError> {
        let mut v = Utf8Validator::new();
        v.feed(&bytes[..split])?;
        v.feed(&bytes[split..])?;
        v.finish()
    }

    #[test]
    fn accepts_code_points_split_at_every_position() {
        let text = "aß€𝄞 mixed 水 text 🍌!".as_bytes();
        for split in 0..=text.len() {
            assert_eq!(check_split(text, split), Ok(()), "split {split}");
        }
        let mut v = Utf8Validator::new();
        let mut out = String::new();
        for b in text {
            v.feed_into(std::slice::from_ref(b), &mut out).unwrap();
        }
        v.finish().unwrap();
        assert_eq!(out.as_bytes(), text);
    }

    #[test]
    fn fails_at_first_invalid_byte_before_message_ends() {
        let mut v = Utf8Validator::new();
        v.feed(b"hello ").unwrap();
        // 0xCE 0xBA is a valid start; 0xE1 0x80 can't be followed by 0xC0.
        assert_eq!(
            v.feed(&[0xCE, 0xBA, 0xE1, 0x80]),
            Ok(()),
            "a valid prefix of a code point must be accepted"
        );
        assert_eq!(
            v.feed(&[0xC0]),
            Err(PayloadError::InvalidUtf8 { offset: 8 })
        );
    }

    #[test]
    fn fails_fast_on_invalid_prefix_in_the_tail() {
        // 0xF4 0x90 is already beyond U+10FFFF: fail without waiting for more bytes.
        let mut v = Utf8Validator::new();
        assert_eq!(
            v.feed(b"ab\xF4\x90"),
            Err(PayloadError::InvalidUtf8 { offset: 2 })
        );
        // 0xE0 0x80 is an overlong prefix.
        let mut v = Utf8Validator::new();
        assert_eq!(
            v.feed(b"\xE0\x80"),
            Err(PayloadError::InvalidUtf8 { offset: 0 })
        );
        // Split lead byte completed by an invalid continuation.
        let mut v = Utf8Validator::new();
        v.feed(b"xy\xE2").unwrap();
        assert_eq!(v.feed(b"A"), Err(PayloadError::InvalidUtf8 { offset: 2 }));
    }

    #[test]
    fn rejects_message_ending_inside_a_code_point() {
        let mut v = Utf8Validator::new();
        v.feed(b"ok\xF0\x9F\x8D").unwrap();
        assert!(!v.is_at_boundary());
        assert_eq!(v.finish(), Err(PayloadError::IncompleteUtf8));
        // finish resets: the next message starts clean.
        v.feed(b"fine").unwrap();
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn rejects_invalid_bytes_in_the_body() {
        let mut v = Utf8Validator::new();
        assert_eq!(
            v.feed(b"abc\xFFdef"),
            Err(PayloadError::InvalidUtf8 { offset: 3 })
        );
        assert_eq!(
            validate_whole(b"abc\xFFdef"),
            Err(PayloadError::InvalidUtf8 { offset: 3 })
        );
        assert_eq!(
            validate_whole(b"abc\xE2\x82"),
            Err(PayloadError::IncompleteUtf8)
        );
        assert_eq!(validate_whole("añb".as_bytes()), Ok("añb"));
    }

    fn utf8ish() -> impl Strategy<Value = Vec<u8>> {
        // Mostly valid text with occasional corruption.
        (
            any::<String>(),
            proptest::collection::vec((any::<usize>(), any::<u8>()), 0..2),
        )
            .prop_map(|(s, edits)| {
                let mut bytes = s.into_bytes();
                for (at, byte) in edits {
                    if !bytes.is_empty() {
                        let i = at % bytes.len();
                        bytes[i] = byte;
                    }
                }
                bytes
            })
    }

    proptest! {
        #[test]
        fn agrees_with_core_at_every_split_point(bytes in utf8ish()) {
            let expect = core::str::from_utf8(&bytes).is_ok();
            for split in 0..=bytes.len() {
                prop_assert_eq!(check_split(&bytes, split).is_ok(), expect, "split {}", split);
            }
            // One byte at a time: the error offset is where core says the error starts.
            let mut v = Utf8Validator::new();
            let mut result = Ok(());
            for b in &bytes {
                result = v.feed(core::slice::from_ref(b));
                if result.is_err() { break; }
            }
            if result.is_ok() { result = v.finish(); }
            match core::str::from_utf8(&bytes) {
                Ok(_) => prop_assert_eq!(result, Ok(())),
                Err(e) if e.error_len().is_none() => prop_assert_eq!(result, Err(PayloadError::IncompleteUtf8)),
                Err(e) => prop_assert_eq!(result, Err(PayloadError::InvalidUtf8 { offset: e.valid_up_to() as u64 })),
            }
        }
    }
}
