//! The WebSocket opening handshake (RFC 6455 section 4) as a sans-IO state machine.
//!
//! This crate turns connection options into HTTP/1.1 request bytes and response bytes
//! into a verdict, without touching a socket. It is filled in by the handshake work.
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]
