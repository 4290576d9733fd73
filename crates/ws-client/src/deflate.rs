//! permessage-deflate (RFC 7692) in the client: [`DeflateOptions`] and the compressor the
//! engine uses on the send path (zlib-rs through `flate2`, any window size). The receive
//! path inflates inside the engine (`ws-frame`'s `Inflater`).

use flate2::{Compress, Compression, FlushCompress, Status};
use ws_frame::CompressError;
use ws_frame::deflate::TAIL;
use ws_handshake::{DeflateOffer, DeflateParams};

/// permessage-deflate settings for [`ClientBuilder::deflate`](crate::ClientBuilder::deflate):
/// what this client does (the compression level, the size threshold) and the
/// [`DeflateOffer`] it sends, ws-handshake's type, set whole with [`offer`](Self::offer).
///
/// Compression is off unless the builder is given these options; see the builder for why.
/// The defaults: level 6, messages under 32 bytes sent as they are, and the offer
/// `permessage-deflate; client_max_window_bits` (a 32 KiB window and context takeover on
/// both sides, the server allowed to shrink our window).
///
/// ```
/// use ws_client::{DeflateOffer, DeflateOptions};
///
/// // Less memory per connection: 4 KiB windows, no state kept between messages.
/// let lean = DeflateOptions::new().level(1).offer(
///     DeflateOffer::new()
///         .server_max_window_bits(12)
///         .client_max_window_bits(Some(12))
///         .client_no_context_takeover()
///         .server_no_context_takeover(),
/// );
/// assert_ne!(lean, DeflateOptions::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct DeflateOptions {
    level: u32,
    threshold: usize,
    offer: DeflateOffer,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        Self {
            level: 6,
            threshold: 32,
            offer: DeflateOffer::new().client_max_window_bits(None),
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

    /// The offer sent in the handshake: window sizes and context takeover, ours promised
    /// and the server's asked for (see [`DeflateOffer`]; the compressor honours any
    /// window). When it asks anything of the server, the same offer without those
    /// requests follows as a fallback, for servers that refuse them. Default:
    /// `DeflateOffer::new().client_max_window_bits(None)`.
    pub fn offer(mut self, offer: DeflateOffer) -> Self {
        self.offer = offer;
        self
    }

    /// The offers for the handshake, in preference order: everything asked for, then
    /// (when anything was asked of the server) the same without the requests to the
    /// server, which a server may refuse.
    pub(crate) fn offers(&self) -> Vec<DeflateOffer> {
        let ours = self.offer.without_server_requests();
        if self.offer == ours {
            vec![ours]
        } else {
            vec![self.offer, ours]
        }
    }
}

/// The send side's compressor: zlib-rs through `flate2`, with any window size (which
/// `ws-frame`'s own miniz compressor cannot do). The engine does the RFC 7692 part.
pub(crate) struct Compressor {
    compress: Compress,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").finish_non_exhaustive()
    }
}

impl Compressor {
    pub(crate) fn new(params: DeflateParams, options: &DeflateOptions) -> Self {
        // zlib never uses the last 262 bytes of its window for matches, so a 9-bit window
        // (the smallest it has) keeps every distance within the 256 bytes of an 8-bit one.
        let bits = params.client_max_window_bits.clamp(9, 15);
        Self {
            compress: Compress::new_with_window_bits(Compression::new(options.level), false, bits),
        }
    }
}

impl ws_frame::Compress for Compressor {
    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), CompressError> {
        out.reserve(payload.len() / 2 + 64);
        let mut input = payload;
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            let before_in = self.compress.total_in();
            let before_out = out.len();
            let status = self
                .compress
                .compress_vec(input, out, FlushCompress::Sync)
                .map_err(|e| CompressError::new(e.to_string()))?;
            let used = usize::try_from(self.compress.total_in() - before_in).unwrap_or(input.len());
            input = input.get(used..).unwrap_or_default();
            let full = out.len() == out.capacity();
            // Done when all input is in and the flush fit (zlib's sync flush ends in TAIL).
            if input.is_empty() && !full && out.ends_with(&TAIL) {
                return Ok(());
            }
            if matches!(status, Status::BufError) && out.len() == before_out && used == 0 {
                return Ok(());
            }
        }
    }

    fn reset(&mut self) {
        self.compress.reset();
    }
}

/// Turns permessage-deflate on in both halves of the engine, with the parameters the
/// server agreed to.
pub(crate) fn enable(
    inbound: &mut ws_frame::Inbound,
    outbound: &mut ws_frame::Outbound,
    params: DeflateParams,
    options: &DeflateOptions,
) {
    outbound.set_compression(compression(params, options));
    inbound.set_inflate(!params.server_no_context_takeover);
}

/// The engine's permessage-deflate settings for the parameters the server agreed to.
pub(crate) fn compression(
    params: DeflateParams,
    options: &DeflateOptions,
) -> ws_frame::Compression {
    ws_frame::Compression::new(Box::new(Compressor::new(params, options)))
        .threshold(options.threshold)
        .local_context_takeover(!params.client_no_context_takeover)
        .peer_context_takeover(!params.server_no_context_takeover)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ws_frame::{
        Compress as _, Config, Connection, Message, OpCode, Outgoing, PayloadError, ProtocolError,
        RecvError,
    };

    /// Compresses as the engine sends: the tail stripped, an empty message as `00`.
    fn wire(c: &mut Compressor, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        c.compress(payload, &mut out).unwrap();
        // A flush with nothing new to flush writes nothing at all.
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            out.push(0);
        }
        out
    }

    fn params(client_bits: u8, reset: bool) -> DeflateParams {
        let mut offer = DeflateOffer::new().client_max_window_bits(None);
        if reset {
            offer = offer.client_no_context_takeover();
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
            wire(&mut c, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        // Context takeover: the second one refers back to the first.
        assert_eq!(wire(&mut c, b"Hello"), [0xf2, 0x00, 0x11, 0x00, 0x00]);
        c.reset();
        assert_eq!(
            wire(&mut c, b"Hello"),
            [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        assert_eq!(wire(&mut c, b""), [0x00]);
    }

    #[test]
    fn no_context_takeover_compresses_each_message_alone_through_the_engine() {
        let options = DeflateOptions::new().threshold(0);
        let mut client = Connection::client(Config::new(), Box::new(|| [1, 2, 3, 4]));
        client.set_compression(compression(params(15, true), &options));
        let mut server = Connection::server(Config::new());
        server.set_compression(
            ws_frame::Compression::new(Box::new(ws_frame::deflate::Deflater::new(6, false)))
                .peer_context_takeover(false),
        );
        let mut sizes = Vec::new();
        for _ in 0..2 {
            client.send(Outgoing::Text("Hello")).unwrap();
            let bytes = client.poll_transmit().to_vec();
            client.advance(bytes.len());
            sizes.push(bytes.len());
            server.receive(&bytes);
            assert_eq!(
                server.poll_message(),
                Ok(Some(Message::Text("Hello".into())))
            );
        }
        assert_eq!(sizes[0], sizes[1]);
    }

    #[test]
    fn leaves_short_messages_alone() {
        let options = DeflateOptions::new().threshold(10);
        let mut client = Connection::client(Config::new(), Box::new(|| [0; 4]));
        client.set_compression(compression(params(15, false), &options));
        client.send(Outgoing::Binary(b"short")).unwrap();
        assert_eq!(
            client.poll_transmit()[0],
            0x82,
            "no RSV1 under the threshold"
        );
        client.advance(usize::MAX);
        client
            .send(Outgoing::Binary(b"long enough to compress"))
            .unwrap();
        assert_eq!(client.poll_transmit()[0], 0xc2, "RSV1 set");
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
                let mut wire = Vec::new();
                c.compress(message, &mut wire).unwrap();
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
            .offer(
                DeflateOffer::new()
                    .server_max_window_bits(10)
                    .server_no_context_takeover()
                    .client_max_window_bits(Some(12)),
            )
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
    fn inflating_checks_text_and_the_limit() {
        let server_side = |limit| {
            let config =
                Config::new().limits(ws_frame::Limits::default().max_message_size(Some(limit)));
            let mut client = Connection::client(config, Box::new(|| [0; 4]));
            client.set_compression(compression(
                DeflateParams::default(),
                &DeflateOptions::new(),
            ));
            client
        };
        let frame = |opcode: OpCode, payload: &[u8]| {
            let mut out = vec![
                0x80 | 0x40 | u8::from(opcode),
                u8::try_from(payload.len()).unwrap(),
            ];
            out.extend_from_slice(payload);
            out
        };
        let mut c = Compressor::new(params(15, false), &DeflateOptions::new().threshold(0));
        // Invalid UTF-8 after inflating fails as a payload error.
        let mut client = server_side(1000);
        client.receive(&frame(OpCode::Text, &wire(&mut c, &[b'a', 0xff, b'b'])));
        assert_eq!(
            client.poll_message(),
            Err(RecvError::Frame(ws_frame::Error::Payload(
                PayloadError::InvalidUtf8 { offset: 1 }
            )))
        );
        // A message inflating past the limit fails with 1009 on the way.
        let mut c = Compressor::new(params(15, false), &DeflateOptions::new());
        let mut client = server_side(1000);
        client.receive(&frame(OpCode::Binary, &wire(&mut c, &[b'x'; 5000])));
        assert!(matches!(
            client.poll_message(),
            Err(RecvError::Frame(ws_frame::Error::Protocol(
                ProtocolError::MessageTooLarge { limit: 1000, .. }
            )))
        ));
    }
}
