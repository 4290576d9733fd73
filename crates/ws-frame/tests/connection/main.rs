//! The connection engine in memory: a client `Connection` wired to a server-role one, no
//! sockets, time from a fake clock.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    missing_docs,
    clippy::exhaustive_structs,
    clippy::new_without_default,
    clippy::missing_panics_doc,
    reason = "test helpers outside #[test] fns fail loudly on purpose; fields say it all"
)]

mod close;
#[cfg(feature = "deflate")]
mod compression;
mod keepalive;
mod lending;
mod messages;
mod properties;
mod sending;

use std::time::Duration;

use ws_frame::{Config, Connection, Message, RecvError};

/// A fixed sequence of mask keys, so the wire bytes are reproducible.
pub fn keys() -> Box<dyn ws_frame::MaskKeys> {
    let mut n: u8 = 0;
    Box::new(move || {
        n = n.wrapping_add(1);
        [n, 0x5a, n.wrapping_mul(3), 0xa5]
    })
}

/// Two engines and the bytes between them.
#[derive(Debug)]
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    /// Everything the client wrote, in order.
    pub client_wire: Vec<u8>,
    /// Everything the server wrote, in order.
    pub server_wire: Vec<u8>,
    /// Messages each side received, in order.
    pub client_got: Vec<Message>,
    pub server_got: Vec<Message>,
    /// The first receive error of each side.
    pub client_err: Option<RecvError>,
    pub server_err: Option<RecvError>,
}

impl Pair {
    pub fn new() -> Self {
        Self::with(Config::new(), Config::new())
    }

    pub fn with(client: Config, server: Config) -> Self {
        Self {
            client: Connection::client(client, keys()),
            server: Connection::server(server),
            client_wire: Vec::new(),
            server_wire: Vec::new(),
            client_got: Vec::new(),
            server_got: Vec::new(),
            client_err: None,
            server_err: None,
        }
    }

    /// Moves bytes both ways and takes every message until nothing changes.
    pub fn drive(&mut self) {
        loop {
            let moved = self.step();
            if !moved {
                return;
            }
        }
    }

    /// Client to server only.
    pub fn client_to_server(&mut self) -> bool {
        let bytes = take_transmit(&mut self.client);
        self.client_wire.extend_from_slice(&bytes);
        self.server.receive(&bytes);
        drain(&mut self.server, &mut self.server_got, &mut self.server_err);
        !bytes.is_empty()
    }

    /// Server to client only.
    pub fn server_to_client(&mut self) -> bool {
        let bytes = take_transmit(&mut self.server);
        self.server_wire.extend_from_slice(&bytes);
        self.client.receive(&bytes);
        drain(&mut self.client, &mut self.client_got, &mut self.client_err);
        !bytes.is_empty()
    }

    fn step(&mut self) -> bool {
        let a = self.client_to_server();
        let b = self.server_to_client();
        a || b
    }
}

/// Takes every pending byte of `conn`.
pub fn take_transmit(conn: &mut Connection) -> Vec<u8> {
    let bytes = conn.poll_transmit().to_vec();
    conn.advance(bytes.len());
    bytes
}

/// Takes every message of `conn` until it needs bytes, recording the first error.
pub fn drain(conn: &mut Connection, got: &mut Vec<Message>, err: &mut Option<RecvError>) {
    loop {
        match conn.poll_message() {
            Ok(Some(message)) => got.push(message),
            Ok(None) => return,
            Err(e) => {
                if err.is_none() {
                    *err = Some(e);
                }
                return;
            }
        }
    }
}

/// Seconds on the fake clock.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Encodes one server frame (unmasked) from raw parts.
pub fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 125);
    let mut out = vec![first, u8::try_from(payload.len()).unwrap()];
    out.extend_from_slice(payload);
    out
}
