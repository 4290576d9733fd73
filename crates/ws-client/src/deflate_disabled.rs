//! permessage-deflate in a build without the `deflate` feature: nothing is offered, so
//! nothing is ever negotiated. The types keep the send and receive paths compiling:
//! [`DeflateOptions`] is uninhabited (the builder's option is always `None`), so no
//! [`Compressor`] is built, and a [`Decompressor`] is never active.

#![allow(
    clippy::trivially_copy_pass_by_ref,
    clippy::unused_self,
    clippy::unnecessary_wraps,
    reason = "the same signatures as deflate.rs's, which the send and receive paths call"
)]

use ws_frame::FrameHeader;
use ws_handshake::{DeflateOffer, DeflateParams};

use crate::error::Result;

/// Cannot be constructed without the `deflate` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DeflateOptions {}

impl DeflateOptions {
    pub(crate) fn offers(&self) -> Vec<DeflateOffer> {
        match *self {}
    }
}

/// Never built: it needs a [`DeflateOptions`].
#[derive(Debug)]
pub(crate) enum Compressor {}

impl Compressor {
    pub(crate) fn new(_params: DeflateParams, options: &DeflateOptions) -> Self {
        match *options {}
    }

    pub(crate) fn compress(&mut self, _payload: &[u8]) -> Result<Option<&[u8]>> {
        match *self {}
    }
}

/// Never active, so the reader never hands it data.
#[derive(Debug)]
pub(crate) struct Decompressor;

impl Decompressor {
    pub(crate) fn new(_params: DeflateParams, _limit: Option<u64>, _validate_utf8: bool) -> Self {
        Self
    }

    pub(crate) fn on_header(&mut self, _header: &FrameHeader) {}

    pub(crate) fn active(&self) -> bool {
        false
    }

    /// Takes compressed data; never called, because [`active`](Self::active) is false.
    pub(crate) fn push(&mut self, _data: &[u8], _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }

    /// Ends a compressed message; never called, as [`push`](Self::push).
    pub(crate) fn finish(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
}
