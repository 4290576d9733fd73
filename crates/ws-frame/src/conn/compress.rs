//! permessage-deflate (RFC 7692) wiring of the engine: the [`Compress`] seam a driver fills
//! with its compressor, and [`Compression`], the negotiated settings.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use super::error::CompressError;
use crate::deflate::{Deflater, TAIL};

/// A raw DEFLATE compressor for permessage-deflate.
///
/// The engine hands it each whole message to compress and does the RFC 7692 part itself
/// (stripping the `00 00 ff ff` tail, the empty-message block, resetting the window when
/// context takeover is off). `ws-frame`'s own [`Deflater`] (`miniz_oxide`, `no_std`, 32 KiB
/// window only) implements it; a driver with zlib can bring one that honours a smaller
/// `client_max_window_bits`.
pub trait Compress: Send {
    /// Appends `payload` compressed as raw DEFLATE and ended with a sync flush (so the
    /// output ends in an empty stored block, `00 00 ff ff`, unless there was nothing to
    /// flush) to `out`.
    ///
    /// # Errors
    ///
    /// [`CompressError`] when the compressor fails; the message is not sent.
    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), CompressError>;

    /// Forgets the window, so the next message does not refer to earlier ones.
    fn reset(&mut self);
}

impl Compress for Deflater {
    fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), CompressError> {
        self.compress_sync(payload, out);
        Ok(())
    }

    fn reset(&mut self) {
        self.reset_window();
    }
}

/// The negotiated permessage-deflate settings and the compressor of one connection.
///
/// ```
/// use ws_frame::Compression;
/// use ws_frame::deflate::Deflater;
///
/// // The server agreed to permessage-deflate with `client_no_context_takeover`.
/// let compression = Compression::new(Box::new(Deflater::new(6, false)))
///     .local_context_takeover(false)
///     .threshold(64);
/// # let _ = compression;
/// ```
#[must_use]
pub struct Compression {
    compressor: Box<dyn Compress>,
    pub(crate) threshold: usize,
    local_takeover: bool,
    pub(crate) peer_takeover: bool,
}

impl fmt::Debug for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compression")
            .field("threshold", &self.threshold)
            .field("local_takeover", &self.local_takeover)
            .field("peer_takeover", &self.peer_takeover)
            .finish_non_exhaustive()
    }
}

impl Compression {
    /// The smallest message compressed by default: 32 bytes (smaller ones cost more to
    /// compress than they save).
    pub const DEFAULT_THRESHOLD: usize = 32;

    /// Compression with `compressor`, context takeover on both sides, and the default
    /// threshold.
    pub fn new(compressor: Box<dyn Compress>) -> Self {
        Self {
            compressor,
            threshold: Self::DEFAULT_THRESHOLD,
            local_takeover: true,
            peer_takeover: true,
        }
    }

    /// Messages shorter than `bytes` are sent uncompressed. Default:
    /// [`DEFAULT_THRESHOLD`](Self::DEFAULT_THRESHOLD).
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Whether our compressor keeps its window between messages: `false` when our side's
    /// `*_no_context_takeover` was negotiated. Default: `true`.
    pub fn local_context_takeover(mut self, keep: bool) -> Self {
        self.local_takeover = keep;
        self
    }

    /// Whether the peer keeps its window between messages (so our inflater must too):
    /// `false` when the peer's `*_no_context_takeover` was negotiated. Default: `true`.
    pub fn peer_context_takeover(mut self, keep: bool) -> Self {
        self.peer_takeover = keep;
        self
    }

    /// Compresses one whole message into `out` (cleared first), as RFC 7692 section 7.2.1
    /// sends it: the sync flush's tail stripped, an empty message as one `00` byte.
    pub(crate) fn compress(
        &mut self,
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), CompressError> {
        out.clear();
        let result = self.compressor.compress(payload, out);
        if result.is_ok() {
            if out.ends_with(&TAIL) {
                out.truncate(out.len() - TAIL.len());
            }
            if out.is_empty() {
                out.push(0x00);
            }
        }
        if !self.local_takeover || result.is_err() {
            self.compressor.reset();
        }
        result
    }
}
