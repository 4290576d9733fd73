//! A blocking WebSocket client: connect, send, receive, keepalive and reconnect.
//!
//! The facade over `ws-frame`, `ws-handshake` and `ws-net`. It is filled in by the client
//! work.
