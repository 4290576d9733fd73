//! [`WebSocket`]: a connected client, Python's `WebSocket` object.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ws_frame::{CloseCode, Inbound, Message, MessageRef, OpCode, Outbound, Role};
use ws_handshake::{Accepted, DeflateParams};
use ws_net::Stream;

use crate::config::ClientBuilder;
use crate::deflate;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::mask::MaskSource;
use crate::reader::{CloseInfo, Controls, Messages, READ_BUFFER, Reader};
use crate::sender::{Sender, Shared, Writer};

/// The engine's two halves for a connection `builder` opened and `accepted` upgraded,
/// with the bytes read past the response already received, and the permessage-deflate
/// parameters in force. Shared by the blocking and the async client.
pub(crate) fn engine(
    builder: &ClientBuilder,
    accepted: &Accepted,
) -> (Inbound, Outbound, Option<DeflateParams>) {
    let deflate = accepted.deflate.zip(builder.deflate);
    let config = builder
        .connection
        .send_chunk(
            builder
                .write_buffer_size
                .max(ws_frame::Config::DEFAULT_SEND_CHUNK),
        )
        .read_buffer(READ_BUFFER);
    let mut inbound = Inbound::new(Role::Client, &config);
    let mut outbound =
        Outbound::client(&config, Box::new(MaskSource::new(builder.mask_key.clone())));
    if let Some((params, options)) = deflate {
        deflate::enable(&mut inbound, &mut outbound, params, &options);
    }
    // Bytes read past the handshake response are the first frames.
    inbound.receive(&accepted.rest);
    (inbound, outbound, deflate.map(|(params, _)| params))
}

/// The accessors of what the handshake established (status, headers, subprotocol,
/// compression, URL, TLS, peer) and of the peer's close frame, for a socket type with the
/// fields `status`, `headers`, `subprotocol`, `deflate`, `url`, `is_tls`, `peer_addr` and
/// a `reader` with `close_frame()`: the blocking and the async socket share them.
macro_rules! handshake_facts {
    () => {
        /// The handshake status, 101.
        pub fn status(&self) -> u16 {
            self.status
        }

        /// The handshake response headers, in order.
        pub fn headers(&self) -> &[(String, String)] {
            &self.headers
        }

        /// The value of the first response header called `name` (case-insensitive).
        pub fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }

        /// The subprotocol the server chose, if any.
        pub fn subprotocol(&self) -> Option<&str> {
            self.subprotocol.as_deref()
        }

        /// Whether permessage-deflate was negotiated (see
        /// [`ClientBuilder::deflate`](crate::ClientBuilder::deflate)).
        pub fn is_compressed(&self) -> bool {
            self.deflate.is_some()
        }

        /// The permessage-deflate parameters in force, when negotiated.
        pub fn deflate_params(&self) -> Option<DeflateParams> {
            self.deflate
        }

        /// The URL finally connected to (after redirects).
        pub fn url(&self) -> &str {
            &self.url
        }

        /// The peer's close frame, once received.
        pub fn close_frame(&self) -> Option<&CloseInfo> {
            self.reader.close_frame()
        }

        /// Whether the connection is encrypted (`wss://`).
        pub fn is_tls(&self) -> bool {
            self.is_tls
        }

        /// The address of the peer (or of the proxy).
        pub fn peer_addr(&self) -> Option<SocketAddr> {
            self.peer_addr
        }
    };
}
#[cfg(feature = "tokio")]
pub(crate) use handshake_facts;

/// A connected WebSocket client.
///
/// Made by [`connect`](crate::connect) or [`ClientBuilder::connect`]. Receiving
/// ([`recv`](Self::recv), [`recv_frame`](Self::recv_frame), [`messages`](Self::messages))
/// needs `&mut self`; sending only `&self`. To send from other threads while one thread
/// receives:
///
/// - [`sender`](Self::sender) gives a cloneable [`Sender`] (`Send + Sync + Clone`); keep
///   the `WebSocket` in the receiving thread. Use this when one thread owns the
///   connection and others occasionally send (keepalive pings, a UI thread).
/// - [`split`](Self::split) consumes the `WebSocket` into a [`Reader`] and a [`Sender`]
///   that move to different threads. Use this for a dedicated reader thread and a
///   dedicated writer thread.
///
/// Both work for `ws://` and `wss://`; each frame is written under one lock, so frames
/// never interleave. [`Sender::abort`] wakes a thread blocked in `recv`.
///
/// ```no_run
/// use ws_client::Message;
///
/// let mut ws = ws_client::connect("ws://127.0.0.1:9001/echo")?;
/// ws.send_text("hello")?;
/// if let Message::Text(reply) = ws.recv()? {
///     println!("{reply}");
/// }
/// ws.close(ws_client::CloseCode::NORMAL, "done", None)?;
/// # Ok::<(), ws_client::Error>(())
/// ```
#[derive(Debug)]
pub struct WebSocket {
    reader: Reader,
    sender: Sender,
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    subprotocol: Option<String>,
    deflate: Option<DeflateParams>,
    is_tls: bool,
    peer_addr: Option<SocketAddr>,
    shut: bool,
}

impl WebSocket {
    pub(crate) fn new(
        stream: Stream,
        accepted: Accepted,
        builder: &ClientBuilder,
        url: String,
    ) -> Self {
        let is_tls = stream.is_tls();
        let peer_addr = stream.peer_addr().ok();
        let (read, write) = stream.split();
        let (inbound, outbound, deflate) = engine(builder, &accepted);
        let writer = Writer::new(write, outbound, builder.write_buffer_size);
        let shared = Arc::new(Shared {
            writer: Mutex::new(writer),
        });
        let reader = Reader::new(read, inbound, Arc::clone(&shared));
        Self {
            reader,
            sender: Sender { shared },
            url,
            status: accepted.status,
            headers: accepted.headers,
            subprotocol: accepted.subprotocol,
            deflate,
            is_tls,
            peer_addr,
            shut: false,
        }
    }

    crate::sender::send_surface!(
        send_handle,
        "[`Error::ConnectionClosed`] after the close or a failed write,"
    );

    /// The connection's sender, for the forwarders of the send surface.
    #[allow(
        clippy::unnecessary_wraps,
        reason = "the forwarders take a Result: an AppHandle may have no connection"
    )]
    fn send_handle(&self) -> Result<&Sender> {
        Ok(&self.sender)
    }

    /// Receives the next message; see [`Reader::recv`].
    ///
    /// # Errors
    ///
    /// As [`Reader::recv`].
    pub fn recv(&mut self) -> Result<Message> {
        self.reader.recv()
    }

    /// Receives the next message without allocating it; see [`Reader::recv_ref`].
    ///
    /// # Errors
    ///
    /// As [`Reader::recv`].
    pub fn recv_ref(&mut self) -> Result<MessageRef<'_>> {
        self.reader.recv_ref()
    }

    /// Receives the next message, pings and pongs included; see
    /// [`Reader::recv_with_control`].
    ///
    /// # Errors
    ///
    /// As [`Reader::recv`].
    pub fn recv_with_control(&mut self) -> Result<Message> {
        self.reader.recv_with_control()
    }

    /// Python's `recv_data`; see [`Reader::recv_data`].
    ///
    /// # Errors
    ///
    /// As [`Reader::recv`].
    pub fn recv_data(&mut self, controls: Controls) -> Result<(OpCode, Vec<u8>)> {
        self.reader.recv_data(controls)
    }

    /// Receives one raw frame; see [`Reader::recv_frame`].
    ///
    /// # Errors
    ///
    /// As [`Reader::recv`].
    pub fn recv_frame(&mut self) -> Result<Frame> {
        self.reader.recv_frame()
    }

    /// The next message, and each frame of a fragmented one (for [`App`](crate::App)).
    pub(crate) fn recv_incoming(&mut self) -> Result<ws_frame::Incoming> {
        self.reader.recv_incoming()
    }

    /// An iterator over received messages; see [`Reader::messages`].
    pub fn messages(&mut self) -> Messages<'_> {
        self.reader.messages()
    }

    /// The closing handshake (RFC 6455 section 7): sends a close frame with `code` and
    /// `reason` (unless one was sent already), reads until the peer's close frame arrives
    /// or `timeout` passes (messages arriving meanwhile are dropped), waits for the peer
    /// to end the TCP connection within the same time, then shuts the socket down.
    /// Python waits 3 s by default ([`DEFAULT_CLOSE_TIMEOUT`](crate::DEFAULT_CLOSE_TIMEOUT));
    /// `None` waits without limit.
    ///
    /// It also works after the peer closed first (then only the socket is shut down) and
    /// is a no-op on a connection already shut down.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for an unsendable `code` (1005, 1006, 1015, undefined) or a
    /// reason over 123 bytes (nothing is sent then). A peer that does not answer in time
    /// is not an error; [`close_frame`](Self::close_frame) then stays `None`.
    pub fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
        timeout: Option<Duration>,
    ) -> Result<()> {
        if self.shut {
            return Ok(());
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        {
            let mut w = self.sender.shared.lock();
            if !w.close_sent() {
                match w.queue_close(code, reason) {
                    Ok(()) => {
                        let _ = w.flush();
                    }
                    Err(e @ Error::InvalidFrame(_)) => return Err(e),
                    Err(_) => {}
                }
            }
        }
        while !self.reader.is_closed() {
            let left = match deadline {
                None => None,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => break,
                },
            };
            if self.reader.set_read_timeout(left).is_err() {
                break;
            }
            match self.reader.recv() {
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(other) => log::debug!(
                    target: "ws_client",
                    "dropping a {} message received while closing",
                    other.opcode().name()
                ),
            }
        }
        if self.reader.close_frame().is_some() {
            // The server closes TCP first (RFC 6455 section 7.1.1): give it the time left.
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_none_or(|l| !l.is_zero()) {
                self.reader.drain_until_eof(left);
            }
        }
        self.shutdown();
        Ok(())
    }

    /// Shuts the TCP connection down in both directions at once, waking any thread blocked
    /// in `recv`, without a closing handshake (Python's `abort`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the socket cannot be shut down.
    pub fn abort(&self) -> Result<()> {
        self.sender.abort()
    }

    /// Shuts the connection down at once without a closing handshake (Python's
    /// `shutdown`); errors are ignored and calling it twice is fine.
    pub fn shutdown(&mut self) {
        if !self.shut {
            self.shut = true;
            let _ = self.sender.abort();
            self.reader.mark_ended();
        }
    }

    /// Sets the read and write timeouts at once (Python's `settimeout`); `None` blocks.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the socket refuses the value.
    pub fn set_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.set_read_timeout(timeout)?;
        self.set_write_timeout(timeout)
    }

    /// Sets the read timeout; see [`Reader::set_read_timeout`].
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the socket refuses the value.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.reader.set_read_timeout(timeout)
    }

    /// Sets the write timeout; see [`Sender::set_write_timeout`].
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the socket refuses the value.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> Result<()> {
        self.sender.set_write_timeout(timeout)
    }

    /// A cloneable handle to send from other threads while this one receives.
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }

    /// Splits the connection into a [`Reader`] and a [`Sender`] for two threads. Read
    /// [`status`](Self::status), [`headers`](Self::headers) and
    /// [`subprotocol`](Self::subprotocol) before splitting if you need them.
    pub fn split(self) -> (Reader, Sender) {
        (self.reader, self.sender)
    }

    handshake_facts!();

    /// Whether the connection can still be used for receiving: no close frame received,
    /// not ended, not shut down (Python's `connected`).
    pub fn is_open(&self) -> bool {
        !self.shut && !self.reader.is_closed()
    }
}
