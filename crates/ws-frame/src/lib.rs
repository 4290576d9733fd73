//! RFC 6455 framing without I/O: parse and encode headers, mask, validate, reassemble.
//!
//! `ws-frame` is the codec under the `ws-client` crates, usable alone on any transport. It
//! never touches a socket, a clock or a random number generator: mask keys come from the
//! caller, bytes come in and events or bytes go out. It is `#![no_std]`; the `alloc`
//! feature (default) adds [`Message`], [`MessageDecoder`] and [`encode_frame`], and `std`
//! (default) adds `std::error::Error` impls and runtime SIMD detection for UTF-8.
//!
//! - [`FrameHeader::parse`] / [`FrameHeader::encode`]: allocation-free headers.
//! - [`apply_mask`], [`apply_mask_offset`], [`copy_masked`]: word-at-a-time masking.
//! - [`Utf8Validator`]: streaming UTF-8 that fails at the first bad byte.
//! - [`Decoder`]: zero-copy state machine enforcing every RFC 6455 frame rule and
//!   [`Limits`]; errors carry the [`CloseCode`] to answer with.
//! - [`MessageDecoder`]: whole [`Message`]s from a byte stream.
//! - `deflate` (feature `deflate`, off by default): the permessage-deflate (RFC 7692)
//!   payload codec, streamed and limit-checked, over `miniz_oxide` (`no_std` + `alloc`).
//!
//! # Public items
//!
//! | for | items |
//! |---|---|
//! | frames | [`FrameHeader`] ([`Parsed`]), [`Fin`], [`OpCode`], [`Role`], [`encode_frame`], [`apply_mask`], [`apply_mask_offset`], [`copy_masked`] |
//! | decoding | [`Decoder`] ([`Event`], [`Decoded`]), [`MessageDecoder`], [`Message`], [`MessageRef`], [`Limits`], [`Utf8Validator`] |
//! | closing | [`CloseCode`], [`CloseFrame`], [`CloseInfo`] |
//! | the engine (sans-IO connection) | [`Connection`] ([`State`]), or its halves [`Inbound`] ([`Incoming`], [`Frame`]) and [`Outbound`] ([`Outgoing`], [`Queued`], [`Reply`], [`ControlPayload`]); [`Config`] ([`PingReply`], [`Utf8Check`], [`CloseEcho`]); [`Keepalive`] ([`KeepaliveAction`]); [`MaskKeys`]; [`Compress`], [`Compression`] |
//! | errors | [`Error`] ([`ProtocolError`], [`PayloadError`], [`CloseEncodeError`]), [`RecvError`], [`SendError`], [`MaskKeyError`], [`CompressError`], [`Result`] |
//! | `deflate` (feature) | `deflate::Inflater`, `deflate::Deflater`, `deflate::TAIL` |
//!
//! ```
//! use ws_frame::{Decoder, Fin, Message, MessageDecoder, OpCode, Role, encode_frame};
//!
//! // A client sends a masked text frame...
//! let mut wire = Vec::new();
//! encode_frame(&mut wire, Fin::Final, OpCode::Text, Some([1, 2, 3, 4]), "héllo".as_bytes());
//!
//! // ...and a server decodes it, one byte at a time if need be.
//! let mut server = MessageDecoder::new(Decoder::new(Role::Server));
//! for byte in &wire {
//!     server.feed(core::slice::from_ref(byte));
//!     if let Some(message) = server.next_message()? {
//!         assert_eq!(message, Message::Text("héllo".into()));
//!     }
//! }
//! # Ok::<(), ws_frame::Error>(())
//! ```
#![no_std]
// One module, `mask::wide`, opts in to pick an AVX2 loop at run time; see its SAFETY notes.
#![deny(unsafe_code)]
#![warn(clippy::indexing_slicing)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod close;
#[cfg(feature = "alloc")]
mod conn;
mod decoder;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
mod header;
mod limits;
mod mask;
#[cfg(feature = "alloc")]
mod message;
mod opcode;
mod utf8;

pub use close::{CloseCode, CloseFrame};
#[cfg(feature = "alloc")]
pub use conn::{
    CloseEcho, CloseInfo, CompressError, Config, Connection, ControlPayload, Frame, Inbound,
    Incoming, Keepalive, KeepaliveAction, MaskKeyError, MaskKeys, Outbound, Outgoing, PingReply,
    Queued, RecvError, Reply, SendError, State, Utf8Check,
};
#[cfg(feature = "deflate")]
pub use conn::{Compress, Compression};
pub use decoder::{Decoded, Decoder, Event};
pub use error::{CloseEncodeError, Error, PayloadError, ProtocolError, Result};
pub use header::{FrameHeader, Parsed};
pub use limits::Limits;
pub use mask::{apply_mask, apply_mask_offset, copy_masked};
#[cfg(feature = "alloc")]
pub use message::{Message, MessageDecoder, MessageRef, encode_frame};
pub use opcode::{Fin, OpCode, Role};
pub use utf8::Utf8Validator;
