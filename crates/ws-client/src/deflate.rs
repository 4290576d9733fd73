//! permessage-deflate (RFC 7692) in the client: [`DeflateOptions`], the compressor of the
//! send path (zlib-rs through `flate2`, any window size) and the streamed, limit-checked
//! decompressor of the receive path (`ws-frame`'s `Inflater`).

use flate2::{Compress, Compression, FlushCompress, Status};
use ws_frame::deflate::{Inflater, TAIL};
use ws_frame::{FrameHeader, OpCode, Utf8Validator};
use ws_handshake::{DeflateOffer, DeflateParams};

use crate::error::{Error, Result};

/// permessage-deflate settings for [`ClientBuilder::deflate`](crate::ClientBuilder::deflate).
///
/// Compression is off unless the builder is given these options; see the builder for why.
/// The defaults: level 6, messages under 32 bytes sent as they are, a 32 KiB window and
/// context takeover on both sides, the server allowed to shrink our window.
///
/// ```
/// use ws_client::DeflateOptions;
///
/// // Less memory per connection: 4 KiB windows, no state kept between messages.
/// let lean = DeflateOptions::new()
///     .level(1)
///     .server_max_window_bits(Some(12))
///     .client_max_window_bits(Some(12))
///     .client_no_context_takeover(true)
///     .server_no_context_takeover(true);
/// assert_eq!(lean.get_level(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct DeflateOptions {
    level: u32,
    threshold: usize,
    client_max_window_bits: Option<u8>,
    server_max_window_bits: Option<u8>,
    client_no_context_takeover: bool,
    server_no_context_takeover: bool,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        Self {
            level: 6,
            threshold: 32,
            client_max_window_bits: None,
            server_max_window_bits: None,
            client_no_context_takeover: false,
            server_no_context_takeover: false,
        }
    }
}

impl DeflateOptions {
    /// The defaults listed on the type.
    pub fn new() -> Self {
        Self::default()
    }

    /// The compression level, 0 (store) to 9 (smallest, slowest); larger values mean 9.
    /// Default: 6.
    pub fn level(mut self, level: u32) -> Self {
        self.level = level.min(9);
        self
    }

    /// Text and binary messages shorter than this many bytes are sent uncompressed
    /// (compressing a few bytes costs more than it saves). Default: 32.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// The largest window (2^`bits` bytes, 8..=15) we compress with. `None` lets the server
    /// choose any; `Some(bits)` is offered as a promise. Default: `None` (32 KiB unless the
    /// server asks for less).
    pub fn client_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.client_max_window_bits = bits;
        self
    }

    /// Asks the server to compress with a window of at most 2^`bits` bytes (8..=15);
    /// `None` does not ask. Default: `None`.
    pub fn server_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.server_max_window_bits = bits;
        self
    }

    /// Compresses every message on its own: less memory kept, larger output. Default: off.
    pub fn client_no_context_takeover(mut self, on: bool) -> Self {
        self.client_no_context_takeover = on;
        self
    }

    /// Asks the server to compress every message on its own. Default: off.
    pub fn server_no_context_takeover(mut self, on: bool) -> Self {
        self.server_no_context_takeover = on;
        self
    }

    /// The compression level.
    pub fn get_level(&self) -> u32 {
        self.level
    }

    /// The size under which messages are sent uncompressed.
    pub fn get_threshold(&self) -> usize {
        self.threshold
    }

    /// The offers for the handshake, in preference order: everything asked for, then
    /// (when anything was asked of the server) the same without the requests to the
    /// server, which a server may refuse.
    pub(crate) fn offers(&self) -> Vec<DeflateOffer> {
        let ours = DeflateOffer::new()
            .client_max_window_bits(self.client_max_window_bits)
            .client_no_context_takeover(self.client_no_context_takeover);
        let mut full = ours.server_no_context_takeover(self.server_no_context_takeover);
        if let Some(bits) = self.server_max_window_bits {
            full = full.server_max_window_bits(bits);
        }
        if full == ours {
            vec![ours]
        } else {
            vec![full, ours]
        }
    }
}

/// The send side: compresses whole messages, RSV1 goes on their (only) frame.
pub(crate) struct Compressor {
    compress: Compress,
    reset_each: bool,
    threshold: usize,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor")
            .field("reset_each", &self.reset_each)
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

impl Compressor {
    pub(crate) fn new(params: DeflateParams, options: &DeflateOptions) -> Self {
        // zlib never uses the last 262 bytes of its window for matches, so a 9-bit window
        // (the smallest it has) keeps every distance within the 256 bytes of an 8-bit one.
        let bits = params.client_max_window_bits.clamp(9, 15);
        Self {
            compress: Compress::new_with_window_bits(Compression::new(options.level), false, bits),
            reset_each: params.client_no_context_takeover,
            threshold: options.threshold,
            buf: Vec::new(),
        }
    }

    /// Compresses `payload` unless it is under the threshold; returns the bytes to send
    /// with RSV1 set, or `None` to send `payload` as it is.
    pub(crate) fn compress(&mut self, payload: &[u8]) -> Result<Option<&[u8]>> {
        if payload.len() < self.threshold {
            return Ok(None);
        }
        self.buf.clear();
        self.buf.reserve(payload.len() / 2 + 64);
        let mut input = payload;
        loop {
            if self.buf.capacity() - self.buf.len() < 64 {
                self.buf.reserve(self.buf.capacity().max(1024));
            }
            let before_in = self.compress.total_in();
            let before_out = self.buf.len();
            let status = self
                .compress
                .compress_vec(input, &mut self.buf, FlushCompress::Sync)
                .map_err(|e| Error::InvalidFrame(format!("compression failed: {e}")))?;
            let used = usize::try_from(self.compress.total_in() - before_in).unwrap_or(input.len());
            input = input.get(used..).unwrap_or_default();
            let full = self.buf.len() == self.buf.capacity();
            // Done when all input is in and the flush fit (zlib's sync flush ends in TAIL).
            if input.is_empty() && !full && self.buf.ends_with(&TAIL) {
                break;
            }
            if matches!(status, Status::BufError) && self.buf.len() == before_out && used == 0 {
                break;
            }
        }
        if self.buf.ends_with(&TAIL) {
            self.buf.truncate(self.buf.len() - TAIL.len());
        }
        if self.buf.is_empty() {
            // An empty stored block's header (RFC 7692 section 7.2.3.6).
            self.buf.push(0x00);
        }
        if self.reset_each {
            self.compress.reset();
        }
        Ok(Some(&self.buf))
    }
}

/// The receive side: inflates compressed messages frame by frame as they arrive.
#[derive(Debug)]
pub(crate) struct Decompressor {
    inflater: Inflater,
    limit: Option<u64>,
    validate_utf8: bool,
    utf8: Utf8Validator,
    /// The current data message is compressed.
    active: bool,
    /// ... and is text.
    text: bool,
}

impl Decompressor {
    pub(crate) fn new(params: DeflateParams, limit: Option<u64>, validate_utf8: bool) -> Self {
        Self {
            inflater: Inflater::new(params.server_no_context_takeover),
            limit,
            validate_utf8,
            utf8: Utf8Validator::new(),
            active: false,
            text: false,
        }
    }

    /// Notes a data frame header: the first frame of a message says whether it is
    /// compressed (RSV1; the decoder allows it on first frames only).
    pub(crate) fn on_header(&mut self, header: &FrameHeader) {
        if header.opcode.is_data() && header.opcode != OpCode::Continuation {
            self.active = header.rsv1;
            self.text = header.opcode == OpCode::Text;
            self.utf8.reset();
        }
    }

    /// Whether the current data message is compressed.
    pub(crate) fn active(&self) -> bool {
        self.active
    }

    /// Inflates a piece of the current message's payload onto `out`.
    pub(crate) fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        self.inflater.inflate(data, out, self.limit)?;
        self.check_text(out, start)
    }

    /// Ends the current compressed message: inflates the tail onto `out`.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        self.active = false;
        self.inflater.finish(out, self.limit)?;
        self.check_text(out, start)?;
        if self.text && self.validate_utf8 {
            self.utf8.finish()?;
        }
        Ok(())
    }

    fn check_text(&mut self, out: &[u8], start: usize) -> Result<()> {
        if self.text && self.validate_utf8 {
            self.utf8.feed(out.get(start..).unwrap_or_default())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(client_bits: u8, reset: bool) -> DeflateParams {
        let mut offer = DeflateOffer::new().client_max_window_bits(None);
        if reset {
            offer = offer.client_no_context_takeover(true);
        }
        DeflateParams::negotiate(
            &[offer],
            &format!("permessage-deflate; client_max_window_bits={client_bits}"),
        )
        .unwrap()
    }

    #[test]
    fn compresses_hello_as_rfc_7692_shows() {
        let options = DeflateOptions::new().threshold(0);
        let mut c = Compressor::new(params(15, false), &options);
        assert_eq!(
            c.compress(b"Hello").unwrap().unwrap(),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        // Context takeover: the second one refers back to the first.
        assert_eq!(
            c.compress(b"Hello").unwrap().unwrap(),
            [0xf2, 0x00, 0x11, 0x00, 0x00]
        );
        let mut c = Compressor::new(params(15, true), &options);
        for _ in 0..2 {
            assert_eq!(
                c.compress(b"Hello").unwrap().unwrap(),
                [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
            );
        }
        assert_eq!(c.compress(b"").unwrap().unwrap(), [0x00]);
    }

    #[test]
    fn leaves_short_messages_alone() {
        let mut c = Compressor::new(params(15, false), &DeflateOptions::new().threshold(10));
        assert_eq!(c.compress(b"short").unwrap(), None);
        assert!(c.compress(b"long enough to compress").unwrap().is_some());
    }

    #[test]
    fn every_window_size_round_trips_and_stays_in_its_window() {
        let text: Vec<u8> = (0..300_000u32)
            .map(|i| b"abcdefghijklmnopqrstuvwxyz"[(i.wrapping_mul(i) / 7 % 26) as usize])
            .collect();
        for bits in 8..=15 {
            let mut c = Compressor::new(params(bits, false), &DeflateOptions::new());
            // zlib-rs inflating with the negotiated window fails on any distance reaching
            // further back (8 bits is checked against 9, zlib's smallest).
            let mut d = flate2::Decompress::new_with_window_bits(false, bits.max(9));
            for message in [&text[..], &text[..1000], &text[5000..90_000]] {
                let mut wire = c.compress(message).unwrap().unwrap().to_vec();
                wire.extend_from_slice(&TAIL);
                let mut out = Vec::with_capacity(message.len() + 1024);
                d.decompress_vec(&wire, &mut out, flate2::FlushDecompress::Sync)
                    .unwrap();
                assert_eq!(out, message, "bits {bits}");
            }
        }
    }

    #[test]
    fn offers_fall_back_without_requests_to_the_server() {
        let offers = DeflateOptions::new().offers();
        assert_eq!(offers.len(), 1);
        assert_eq!(
            offers[0].to_string(),
            "permessage-deflate; client_max_window_bits"
        );
        let offers = DeflateOptions::new()
            .server_max_window_bits(Some(10))
            .server_no_context_takeover(true)
            .client_max_window_bits(Some(12))
            .offers();
        let shown: Vec<String> = offers.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "permessage-deflate; client_max_window_bits=12; server_max_window_bits=10; \
                 server_no_context_takeover",
                "permessage-deflate; client_max_window_bits=12"
            ]
        );
    }

    #[test]
    fn decompressor_checks_text_and_the_limit() {
        let mut c = Compressor::new(params(15, false), &DeflateOptions::new().threshold(0));
        let header = |opcode| {
            let mut h = FrameHeader::new(opcode, 0);
            h.rsv1 = true;
            h
        };
        // Invalid UTF-8 after inflating fails as a payload error.
        let mut d = Decompressor::new(DeflateParams::default(), Some(1000), true);
        let wire = c.compress(&[b'a', 0xff, b'b']).unwrap().unwrap().to_vec();
        d.on_header(&header(OpCode::Text));
        assert!(d.active());
        let mut out = Vec::new();
        assert!(matches!(
            d.push(&wire, &mut out).and_then(|()| d.finish(&mut out)),
            Err(Error::Payload(ws_frame::PayloadError::InvalidUtf8 {
                offset: 1
            }))
        ));
        // A message inflating past the limit fails with 1009 on the way.
        let mut d = Decompressor::new(DeflateParams::default(), Some(1000), true);
        let mut c = Compressor::new(params(15, false), &DeflateOptions::new());
        let wire = c.compress(&[b'x'; 5000]).unwrap().unwrap().to_vec();
        d.on_header(&header(OpCode::Binary));
        let err = d.push(&wire, &mut Vec::new()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Protocol(ws_frame::ProtocolError::MessageTooLarge { limit: 1000, .. })
            ),
            "{err:?}"
        );
    }
}
