//! From a `ws://` or `wss://` URL to a connected, configured, proxied, TLS-wrapped stream.
//!
//! This is the only crate of the workspace that opens sockets. It is filled in by the
//! networking work.
