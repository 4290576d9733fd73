//! The WebSocket opening handshake (RFC 6455 section 4) as a sans-IO state machine, both
//! sides.
//!
//! This crate turns connection options into HTTP/1.1 request bytes and response bytes into
//! a verdict, without touching a socket, a clock or a random number generator. The caller
//! moves bytes between the socket and the [`Handshake`]; the nonce of `Sec-WebSocket-Key`
//! is passed in (draw it from a CSPRNG), so every test is an exact byte comparison.
//!
//! Client side: [`ClientRequest`] builds and validates the request (header injection is
//! impossible: CR, LF, NUL and non-token names are refused before anything is sent).
//! [`Handshake::feed`] parses the response in pieces and ends in an [`Outcome`]:
//! [`Outcome::Accepted`] for a valid 101 (headers, subprotocol, extensions and the bytes
//! read past the head, and the validated [`DeflateParams`] when permessage-deflate was
//! offered with [`ClientRequest::deflate`]), [`Outcome::Redirect`] for 301/302/303/307/308 with the `Location`
//! resolved against the request URL, or a specific [`Error`] (for any other status,
//! [`Error::BadStatus`] with the headers and body). Every read is bounded by
//! [`ResponseLimits`].
//!
//! Server side: [`ServerHandshake`] checks a client's request and gives the 101 response
//! to send, or a [`RequestError`] with a 4xx response naming the problem.
//!
//! # Public items
//!
//! | for | items |
//! |---|---|
//! | client | [`ClientRequest`] ([`Scheme`]), [`RequestOptions`] ([`Origin`], [`HostHeader`]), [`ResponseLimits`], [`Handshake`], [`Outcome`], [`Accepted`], [`resolve_location`] |
//! | permessage-deflate | [`DeflateOffer`], [`DeflateParams`], [`DeflateError`], [`PERMESSAGE_DEFLATE`] |
//! | server | [`ServerHandshake`], [`AcceptedRequest`], [`RequestLimits`], [`RequestError`], [`accept_request`] |
//! | keys | [`encode_key`], [`accept_key`], [`WEBSOCKET_GUID`] |
//! | errors | [`Error`] |
//!
//! ```
//! use ws_handshake::{ClientRequest, Outcome, RequestOptions, Scheme, ServerHandshake};
//!
//! // Client: build the request (the key comes from a CSPRNG in real use).
//! let mut client = ClientRequest::new("example.com", 8080, Scheme::Ws, "/chat?room=1")
//!     .options(
//!         RequestOptions::new()
//!             .subprotocols(["chat.v2", "chat.v1"])
//!             .header("X-Trace", "abc"),
//!     )
//!     .key(*b"the sample nonce")
//!     .build()?;
//! let request = client.request_bytes().to_vec();
//! assert!(request.starts_with(b"GET /chat?room=1 HTTP/1.1\r\nUpgrade: websocket\r\n"));
//!
//! // Server: accept it, preferring chat.v1.
//! let accepted = ServerHandshake::new()
//!     .subprotocols(["chat.v1"])
//!     .feed(&request)
//!     .expect("a valid request")
//!     .expect("the request is complete");
//!
//! // Client: feed the answer in two pieces, with a frame right behind the head.
//! let mut answer = accepted.response.clone();
//! answer.extend_from_slice(b"\x81\x02hi");
//! let (first, second) = answer.split_at(10);
//! assert_eq!(client.feed(first)?, None);
//! let Some(Outcome::Accepted(done)) = client.feed(second)? else { panic!("not accepted") };
//! assert_eq!(done.subprotocol.as_deref(), Some("chat.v1"));
//! assert_eq!(done.rest, b"\x81\x02hi");
//! # Ok::<(), ws_handshake::Error>(())
//! ```
#![forbid(unsafe_code)]
#![warn(clippy::indexing_slicing)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod accept;
mod deflate;
mod error;
mod http;
mod location;
mod negotiate;
mod options;
mod request;
mod response;
mod server;

pub use accept::{WEBSOCKET_GUID, accept_key, encode_key};
pub use deflate::{DeflateError, DeflateOffer, DeflateParams, PERMESSAGE_DEFLATE};
pub use error::Error;
pub use location::resolve_location;
pub use options::RequestOptions;
pub use request::{ClientRequest, HostHeader, Origin, Scheme};
pub use response::{Accepted, Handshake, Outcome, ResponseLimits};
pub use server::{AcceptedRequest, RequestError, RequestLimits, ServerHandshake, accept_request};
