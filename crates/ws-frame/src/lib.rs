//! RFC 6455 framing without I/O: parse and encode headers, mask, validate, reassemble.
#![no_std]
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;
