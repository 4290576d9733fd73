//! permessage-deflate (RFC 7692) payload codec: streamed, limit-checked inflation and
//! compression with the `00 00 ff ff` tail handled, over `miniz_oxide` (`no_std` + `alloc`).
//!
//! The negotiation (which parameters apply) happens in the handshake; this module only
//! transforms payloads. A compressed message has RSV1 set on its first frame (let the
//! [`Decoder`](crate::Decoder) accept it with `with_reserved_bits(0b100)`).

use alloc::boxed::Box;
use alloc::vec::Vec;

use miniz_oxide::deflate::core::{CompressorOxide, create_comp_flags_from_zip_params};
use miniz_oxide::inflate::stream::InflateState;
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

use crate::{Error, PayloadError, ProtocolError};

/// The four bytes a sender strips from the end of each compressed message and a receiver
/// appends before inflating its end (RFC 7692 section 7.2.1): an empty stored block's
/// `LEN`/`NLEN`.
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// Decompresses the messages of one permessage-deflate connection, frame by frame.
///
/// Feed each piece of a compressed message's payload to [`inflate`](Self::inflate) as it
/// arrives (no need to hold the compressed message), then call
/// [`finish`](Self::finish) at the message's end. The decompressed size is checked against
/// `limit` while inflating, so a small message that inflates hugely (a "zip bomb") fails
/// with [`ProtocolError::MessageTooLarge`] (close code 1009) after at most `limit + 1`
/// bytes of output. The window is 32 KiB, which reads any `server_max_window_bits`.
///
/// Text is not validated here: run the output through a
/// [`Utf8Validator`](crate::Utf8Validator).
///
/// ```
/// use ws_frame::deflate::Inflater;
///
/// // RFC 7692 section 7.2.3.2: "Hello" twice, the second one using the first as context.
/// let mut inflater = Inflater::new(false);
/// let mut out = Vec::new();
/// inflater.inflate(&[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], &mut out, Some(1024))?;
/// inflater.finish(&mut out, Some(1024))?;
/// assert_eq!(out, b"Hello");
/// out.clear();
/// inflater.inflate(&[0xf2, 0x00, 0x11, 0x00, 0x00], &mut out, Some(1024))?;
/// inflater.finish(&mut out, Some(1024))?;
/// assert_eq!(out, b"Hello");
/// # Ok::<(), ws_frame::Error>(())
/// ```
pub struct Inflater {
    state: Box<InflateState>,
    no_context_takeover: bool,
    /// Bytes produced for the current message.
    produced: u64,
    /// Whether the current message had any compressed input.
    started: bool,
    /// The peer ended the DEFLATE stream (a block with BFINAL set) in this message.
    ended: bool,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("no_context_takeover", &self.no_context_takeover)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// An inflater. With `no_context_takeover` (the peer's `*_no_context_takeover` was
    /// negotiated) the window is dropped after each message; otherwise it carries over, as
    /// the peer's compressor does.
    #[must_use]
    pub fn new(no_context_takeover: bool) -> Self {
        Self {
            state: InflateState::new_boxed(DataFormat::Raw),
            no_context_takeover,
            produced: 0,
            started: false,
            ended: false,
        }
    }

    /// Bytes of output produced so far for the current message.
    #[must_use]
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// Inflates the next piece of a compressed message's payload, appending the output to
    /// `out`. Nothing is buffered between calls except the DEFLATE state itself.
    ///
    /// # Errors
    ///
    /// [`ProtocolError::MessageTooLarge`] as soon as the message's output passes `limit`
    /// (`None` = unlimited), [`PayloadError::InvalidCompressedData`] when `data` is not
    /// DEFLATE.
    pub fn inflate(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
        limit: Option<u64>,
    ) -> Result<(), Error> {
        if data.is_empty() {
            return Ok(());
        }
        self.started = true;
        self.run(data, out, limit)
    }

    /// Ends the current message: inflates the [`TAIL`] the sender stripped, appending the
    /// last output to `out`, and resets the window when context takeover is off.
    ///
    /// # Errors
    ///
    /// As [`inflate`](Self::inflate).
    pub fn finish(&mut self, out: &mut Vec<u8>, limit: Option<u64>) -> Result<(), Error> {
        // An empty compressed payload carries no block at all: nothing to complete.
        let result = if self.started {
            self.run(&TAIL, out, limit)
        } else {
            Ok(())
        };
        if self.no_context_takeover || self.ended || result.is_err() {
            self.state.reset(DataFormat::Raw);
        }
        self.produced = 0;
        self.started = false;
        self.ended = false;
        result
    }

    /// Forgets the current message and the window (for a new connection or after an error).
    pub fn reset(&mut self) {
        self.state.reset(DataFormat::Raw);
        self.produced = 0;
        self.started = false;
        self.ended = false;
    }

    fn run(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        limit: Option<u64>,
    ) -> Result<(), Error> {
        while !self.ended {
            // Room for the output: at most one byte past the limit, so a bomb is caught
            // without allocating more than the limit allows.
            let mut room = input.len().saturating_mul(4).clamp(1024, 64 * 1024);
            if let Some(limit) = limit {
                let left = limit.saturating_sub(self.produced).saturating_add(1);
                room = usize::try_from(left).map_or(room, |left| room.min(left));
            }
            let start = out.len();
            out.resize(start + room, 0);
            let spare = out.get_mut(start..).unwrap_or_default();
            let result =
                miniz_oxide::inflate::stream::inflate(&mut self.state, input, spare, MZFlush::None);
            out.truncate(start + result.bytes_written);
            input = input.get(result.bytes_consumed..).unwrap_or_default();
            self.produced = self.produced.saturating_add(result.bytes_written as u64);
            if let Some(limit) = limit {
                if self.produced > limit {
                    return Err(ProtocolError::MessageTooLarge {
                        len: self.produced,
                        limit,
                    }
                    .into());
                }
            }
            match result.status {
                Ok(MZStatus::StreamEnd) => self.ended = true,
                Ok(_) => {}
                // No progress possible: every byte is in and all output is out.
                Err(MZError::Buf) => return Ok(()),
                Err(_) => return Err(PayloadError::InvalidCompressedData.into()),
            }
            if input.is_empty() && result.bytes_written < room {
                return Ok(());
            }
        }
        // After a final block the rest of the message (and the tail) is ignored.
        Ok(())
    }
}

/// Compresses messages for one permessage-deflate connection, with `miniz_oxide`.
///
/// Each message is compressed with a sync flush and its [`TAIL`] stripped, ready to be
/// sent with RSV1 set on its first frame. The window is always 32 KiB (15 bits):
/// `miniz_oxide` cannot use a smaller one, so only use this `Deflater` when the peer did
/// not ask for `client_max_window_bits` (or `server_max_window_bits` as a server) below
/// 15; `ws-client` compresses with zlib-rs instead, which honours any window.
///
/// ```
/// use ws_frame::deflate::{Deflater, Inflater};
///
/// let mut deflater = Deflater::new(6, false);
/// let mut wire = Vec::new();
/// deflater.compress(b"Hello", &mut wire);
/// assert_eq!(wire, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
///
/// let mut inflater = Inflater::new(false);
/// let mut out = Vec::new();
/// inflater.inflate(&wire, &mut out, None)?;
/// inflater.finish(&mut out, None)?;
/// assert_eq!(out, b"Hello");
/// # Ok::<(), ws_frame::Error>(())
/// ```
pub struct Deflater {
    compressor: Box<CompressorOxide>,
    no_context_takeover: bool,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater")
            .field("no_context_takeover", &self.no_context_takeover)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// A compressor at `level` (0 = store … 9 = best, clamped to 9). With
    /// `no_context_takeover` each message is compressed on its own; otherwise messages
    /// may refer back to earlier ones (smaller output, 32 KiB of state kept).
    #[must_use]
    pub fn new(level: u8, no_context_takeover: bool) -> Self {
        let flags = create_comp_flags_from_zip_params(i32::from(level.min(9)), -15, 0);
        Self {
            compressor: Box::new(CompressorOxide::new(flags)),
            no_context_takeover,
        }
    }

    /// Compresses one whole message, appending the payload to send (tail stripped) to `out`.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let begin = out.len();
        self.compress_sync(payload, out);
        if out.ends_with(&TAIL) && out.len() - begin >= TAIL.len() {
            out.truncate(out.len() - TAIL.len());
        }
        if out.len() == begin {
            // An empty message still needs a block header byte (RFC 7692 section 7.2.3.6).
            out.push(0x00);
        }
        if self.no_context_takeover {
            self.compressor.reset();
        }
    }

    /// Compresses `payload` as raw DEFLATE ended by a sync flush (the output ends in
    /// [`TAIL`]), appending to `out`; the window is kept. The
    /// [`Compress`](crate::Compress) seam of the engine uses this.
    pub fn compress_sync(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        let mut input = payload;
        loop {
            let room = input.len() + input.len() / 8 + 64;
            let start = out.len();
            out.resize(start + room, 0);
            let spare = out.get_mut(start..).unwrap_or_default();
            let result = miniz_oxide::deflate::stream::deflate(
                &mut self.compressor,
                input,
                spare,
                MZFlush::Sync,
            );
            out.truncate(start + result.bytes_written);
            input = input.get(result.bytes_consumed..).unwrap_or_default();
            if result.status.is_err() || (input.is_empty() && result.bytes_written < room) {
                break;
            }
        }
    }

    /// Forgets the window: the next message is compressed on its own.
    pub fn reset_window(&mut self) {
        self.compressor.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn inflate_all(
        inflater: &mut Inflater,
        pieces: &[&[u8]],
        limit: Option<u64>,
    ) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        for piece in pieces {
            inflater.inflate(piece, &mut out, limit)?;
        }
        inflater.finish(&mut out, limit)?;
        Ok(out)
    }

    #[test]
    fn inflates_rfc_7692_examples() {
        let mut inflater = Inflater::new(false);
        // 7.2.3.1: a message compressed in one frame.
        let hello: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(
            inflate_all(&mut inflater, &[hello], None).unwrap(),
            b"Hello"
        );
        // 7.2.3.1: the same, split in two frames.
        assert_eq!(
            inflate_all(&mut Inflater::new(false), &[&hello[..3], &hello[3..]], None).unwrap(),
            b"Hello"
        );
        // 7.2.3.3: a stored (uncompressed) block.
        let stored: &[u8] = &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(
            inflate_all(&mut Inflater::new(false), &[stored], None).unwrap(),
            b"Hello"
        );
        // 7.2.3.4: a block with BFINAL set.
        let fin: &[u8] = &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        let mut inflater = Inflater::new(false);
        assert_eq!(inflate_all(&mut inflater, &[fin], None).unwrap(), b"Hello");
        // ...after which the next message starts a fresh stream.
        assert_eq!(
            inflate_all(&mut inflater, &[hello], None).unwrap(),
            b"Hello"
        );
        // 7.2.3.5: two DEFLATE blocks in one message.
        let two: &[u8] = &[
            0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(
            inflate_all(&mut Inflater::new(false), &[two], None).unwrap(),
            b"Hello"
        );
        // 7.2.3.6: an empty message.
        assert_eq!(
            inflate_all(&mut Inflater::new(false), &[&[0x00]], None).unwrap(),
            b""
        );
        assert_eq!(
            inflate_all(&mut Inflater::new(false), &[], None).unwrap(),
            b""
        );
    }

    #[test]
    fn shares_the_window_across_messages_unless_told_not_to() {
        // 7.2.3.2: the second "Hello" refers back into the first message.
        let first: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let second: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x00];
        let mut inflater = Inflater::new(false);
        assert_eq!(
            inflate_all(&mut inflater, &[first], None).unwrap(),
            b"Hello"
        );
        assert_eq!(
            inflate_all(&mut inflater, &[second], None).unwrap(),
            b"Hello"
        );
        // Without context takeover the window is gone: the back reference finds nothing.
        let mut inflater = Inflater::new(true);
        assert_eq!(
            inflate_all(&mut inflater, &[first], None).unwrap(),
            b"Hello"
        );
        let second = inflate_all(&mut inflater, &[second], None);
        assert_ne!(second.as_deref(), Ok(&b"Hello"[..]));
    }

    #[test]
    fn compresses_rfc_7692_examples_byte_for_byte() {
        let mut deflater = Deflater::new(6, false);
        let mut out = Vec::new();
        deflater.compress(b"Hello", &mut out);
        assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        out.clear();
        deflater.compress(b"Hello", &mut out);
        assert_eq!(out, [0xf2, 0x00, 0x11, 0x00, 0x00]);

        let mut deflater = Deflater::new(6, true);
        for _ in 0..2 {
            out.clear();
            deflater.compress(b"Hello", &mut out);
            assert_eq!(out, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
        }
        // 7.2.3.6: an empty message is one empty stored block's header byte.
        out.clear();
        deflater.compress(b"", &mut out);
        assert_eq!(out, [0x00]);
        let mut inflater = Inflater::new(false);
        assert_eq!(inflate_all(&mut inflater, &[&out], None).unwrap(), b"");
    }

    #[test]
    fn round_trips_large_and_incompressible_messages() {
        let text: Vec<u8> = (0..200_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut noise = vec![0u8; 100_000];
        let mut x = 0x1234_5678u32;
        for b in &mut noise {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x.to_le_bytes()[0];
        }
        for takeover_off in [false, true] {
            let mut deflater = Deflater::new(6, takeover_off);
            let mut inflater = Inflater::new(takeover_off);
            for message in [&text[..], &noise[..], b"", &text[..10]] {
                let mut wire = Vec::new();
                deflater.compress(message, &mut wire);
                let pieces: Vec<&[u8]> = wire.chunks(777).collect();
                let out = inflate_all(&mut inflater, &pieces, Some(1 << 20)).unwrap();
                assert_eq!(out, message);
            }
        }
    }

    #[test]
    fn stops_a_zip_bomb_at_the_limit() {
        let zeros = vec![0u8; 10 << 20];
        let mut wire = Vec::new();
        Deflater::new(9, false).compress(&zeros, &mut wire);
        assert!(wire.len() < 20_000, "{}", wire.len());
        let mut inflater = Inflater::new(false);
        let mut out = Vec::new();
        let err = inflater
            .inflate(&wire, &mut out, Some(1 << 20))
            .unwrap_err();
        assert_eq!(
            err,
            Error::Protocol(ProtocolError::MessageTooLarge {
                len: (1 << 20) + 1,
                limit: 1 << 20
            })
        );
        assert_eq!(err.close_code(), crate::CloseCode::MESSAGE_TOO_BIG);
        assert!(out.capacity() <= (2 << 20), "{}", out.capacity());
    }

    #[test]
    fn rejects_data_that_is_not_deflate() {
        // BTYPE 11 is reserved.
        let err = inflate_all(&mut Inflater::new(false), &[&[0xff, 0xff]], None).unwrap_err();
        assert_eq!(err, Error::Payload(PayloadError::InvalidCompressedData));
        assert_eq!(err.close_code(), crate::CloseCode::INVALID_PAYLOAD);
    }
}
