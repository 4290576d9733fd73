//! permessage-deflate in a build without the `deflate` feature: nothing is offered, so
//! nothing is ever negotiated. [`DeflateOptions`] is uninhabited (the builder's option is
//! always `None`), so [`enable`] can never be called and the driver needs no `cfg`.

#![allow(
    clippy::trivially_copy_pass_by_ref,
    clippy::unused_self,
    reason = "the same signatures as deflate.rs's, which the driver calls"
)]

use ws_frame::{Inbound, Outbound};
use ws_handshake::{DeflateOffer, DeflateParams};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum DeflateOptions {}

impl DeflateOptions {
    pub(crate) fn offers(&self) -> Vec<DeflateOffer> {
        match *self {}
    }
}

/// Never called: without the feature there are no options to negotiate with.
pub(crate) fn enable(
    _inbound: &mut Inbound,
    _outbound: &mut Outbound,
    _params: DeflateParams,
    options: &DeflateOptions,
) {
    match *options {}
}
