//! The connection engine: RFC 6455 (and RFC 7692) for a whole connection, without I/O.
//!
//! [`Connection`] is one object a driver moves bytes and time through; [`Inbound`] and
//! [`Outbound`] are its two halves, for drivers that receive on one thread or task and
//! send on others.

#[cfg(feature = "deflate")]
mod compress;
mod config;
mod error;
mod inbound;
mod keepalive;
mod outbound;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::time::Duration;

#[cfg(feature = "deflate")]
pub use self::compress::{Compress, Compression};
pub use self::config::{CloseEcho, Config, PingReply, Utf8Check};
pub use self::error::{CompressError, MaskKeyError, RecvError, SendError};
pub use self::inbound::{CloseInfo, Frame, Inbound, Incoming};
pub use self::keepalive::{Keepalive, KeepaliveAction};
pub use self::outbound::{ControlPayload, MaskKeys, Outbound, Outgoing, Queued, Reply};
use crate::{Message, MessageRef, OpCode, Role};

/// Where a [`Connection`] is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// One close frame went one way: ours is out, or the peer's arrived.
    Closing,
    /// The closing handshake is complete, or the connection failed, timed out or lost its
    /// transport (the end of input was received).
    Closed,
}

/// A WebSocket connection without I/O: bytes, sends and time in; messages, bytes to
/// write, deadlines and the shut-down signal out. Both roles.
///
/// It holds every rule of RFC 6455 and RFC 7692 for a connection: frame rules and limits,
/// reassembly, UTF-8 failing at the first bad byte, inflation and compression (when
/// [`set_compression`](Self::set_compression) was called), automatic pongs, the close
/// echo, the failing close code for each error, what may be sent when, the close timeout
/// and the keepalive schedule. It never reads a clock or a socket and has no random
/// number generator: mask keys come from the [`MaskKeys`] source a client is given.
///
/// Its methods, by kind:
/// - inputs: [`spare_mut`](Self::spare_mut) + [`commit`](Self::commit) (or
///   [`receive`](Self::receive), or [`direct_buffer`](Self::direct_buffer) +
///   [`commit_direct`](Self::commit_direct) for large payloads),
///   [`receive_eof`](Self::receive_eof), [`send`](Self::send) and
///   [`send_rest`](Self::send_rest), [`handle_timeout`](Self::handle_timeout);
/// - outputs: [`poll_message`](Self::poll_message) (or [`poll_frame`](Self::poll_frame)),
///   [`poll_transmit`](Self::poll_transmit) + [`advance`](Self::advance),
///   [`poll_timeout`](Self::poll_timeout), [`should_shut`](Self::should_shut);
/// - state: [`state`](Self::state), [`close_frame`](Self::close_frame);
/// - timers: [`set_close_timeout`](Self::set_close_timeout),
///   [`set_keepalive`](Self::set_keepalive).
///
/// A driver loops: write out `poll_transmit`; take every `poll_message`; if
/// `should_shut`, shut the transport and stop; else wait for bytes until `poll_timeout`
/// (a deadline that is not in the future means: call `handle_timeout` now) and feed what
/// arrives, `receive_eof` at the end of the input, `handle_timeout(now)` when the
/// deadline passes. Time is a [`Duration`] since an origin the driver chooses.
///
/// ```
/// use ws_frame::{Config, Connection, Message, Outgoing};
///
/// let mut client = Connection::client(Config::new(), Box::new(|| [1, 2, 3, 4]));
/// let mut server = Connection::server(Config::new());
///
/// client.send(Outgoing::Text("hello"))?;
/// let wire = client.poll_transmit().to_vec();
/// client.advance(wire.len());
///
/// server.receive(&wire);
/// assert_eq!(server.poll_message()?, Some(Message::Text("hello".into())));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Connection {
    inbound: Inbound,
    outbound: Outbound,
    keepalive: Keepalive,
    ping_payload: Vec<u8>,
    close_timeout: Option<Duration>,
    /// Set when a close frame went out or the handshake completed, until a time arms the
    /// close deadline.
    arm_close: bool,
    close_deadline: Option<Duration>,
    /// An error found by `handle_timeout`, returned by the next poll.
    timed_out: Option<RecvError>,
    shut: bool,
}

impl Connection {
    /// How long to wait for the peer's answer to our close frame (and, as a client, for
    /// the server to end the transport afterwards): 3 s, as Python's websocket-client.
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(3);

    /// A client connection: sent frames are masked with keys from `keys` (a CSPRNG).
    pub fn client(config: Config, keys: Box<dyn MaskKeys>) -> Self {
        let outbound = Outbound::client(&config, keys);
        Self::new(Role::Client, &config, outbound)
    }

    /// A server connection: received frames must be masked, sent ones are not.
    pub fn server(config: Config) -> Self {
        let outbound = Outbound::server(&config);
        Self::new(Role::Server, &config, outbound)
    }

    fn new(role: Role, config: &Config, outbound: Outbound) -> Self {
        Self {
            inbound: Inbound::new(role, config),
            outbound,
            keepalive: Keepalive::new(None, None),
            ping_payload: Vec::new(),
            close_timeout: Some(Self::DEFAULT_CLOSE_TIMEOUT),
            arm_close: false,
            close_deadline: None,
            timed_out: None,
            shut: false,
        }
    }

    /// How long to wait for the peer's close frame after sending ours, and as a client
    /// for the end of the transport after the closing handshake; `None` waits without
    /// limit. Set it before the close starts. Default:
    /// [`DEFAULT_CLOSE_TIMEOUT`](Self::DEFAULT_CLOSE_TIMEOUT).
    pub fn set_close_timeout(&mut self, timeout: Option<Duration>) {
        self.close_timeout = timeout;
    }

    /// Keepalive: send a ping with `payload` (at most 125 bytes are used) every
    /// `interval`, and fail the connection with [`RecvError::PongTimeout`] when no pong
    /// arrives within `timeout` of a ping. `None` (or a zero interval) turns either off;
    /// the schedule starts again at the next [`handle_timeout`](Self::handle_timeout).
    /// Default: both off.
    pub fn set_keepalive(
        &mut self,
        interval: Option<Duration>,
        timeout: Option<Duration>,
        payload: &[u8],
    ) {
        self.keepalive = Keepalive::new(interval, timeout);
        self.ping_payload = payload.get(..125).unwrap_or(payload).to_vec();
    }

    /// Turns permessage-deflate on (the handshake negotiated it): whole messages are
    /// compressed as `compression` says and compressed messages are inflated.
    #[cfg(feature = "deflate")]
    pub fn set_compression(&mut self, compression: Compression) {
        self.inbound.set_inflate(compression.peer_takeover);
        self.outbound.set_compression(compression);
    }

    /// The role of this end.
    pub fn role(&self) -> Role {
        self.outbound.role()
    }

    /// See [`Inbound::spare_mut`].
    pub fn spare_mut(&mut self) -> &mut [u8] {
        self.inbound.spare_mut()
    }

    /// See [`Inbound::commit`].
    pub fn commit(&mut self, n: usize) {
        self.inbound.commit(n);
    }

    /// See [`Inbound::receive`].
    pub fn receive(&mut self, data: &[u8]) {
        self.inbound.receive(data);
    }

    /// See [`Inbound::direct_buffer`].
    pub fn direct_buffer(&mut self) -> Option<(&mut Vec<u8>, usize)> {
        self.inbound.direct_buffer()
    }

    /// See [`Inbound::commit_direct`].
    ///
    /// # Errors
    ///
    /// As [`Inbound::commit_direct`].
    pub fn commit_direct(&mut self) -> Result<(), RecvError> {
        let result = self.inbound.commit_direct();
        self.forward_replies();
        result
    }

    /// The transport ended; see [`Inbound::receive_eof`].
    pub fn receive_eof(&mut self) {
        self.inbound.receive_eof();
    }

    /// The next message; see [`Inbound::poll_message`]. Replies (pongs, the close echo,
    /// the failing close) are queued for sending here, and pongs meet the keepalive
    /// deadline.
    ///
    /// # Errors
    ///
    /// As [`Inbound::poll_message`], plus [`RecvError::PongTimeout`] and
    /// [`RecvError::CloseTimeout`] once [`handle_timeout`](Self::handle_timeout) found
    /// that deadline passed.
    pub fn poll_message(&mut self) -> Result<Option<Message>, RecvError> {
        if let Some(e) = self.timed_out.take() {
            return Err(e);
        }
        let result = self.inbound.poll_message();
        self.forward_replies();
        self.after_receive(result.as_ref().map(|m| m.as_ref().map(Message::opcode)));
        result
    }

    /// As [`poll_message`](Self::poll_message), but lent instead of allocated; see
    /// [`Inbound::poll_message_ref`].
    ///
    /// # Errors
    ///
    /// As [`poll_message`](Self::poll_message).
    pub fn poll_message_ref(&mut self) -> Result<Option<MessageRef<'_>>, RecvError> {
        if let Some(e) = self.timed_out.take() {
            return Err(e);
        }
        let result = self
            .inbound
            .poll_message_ref()
            .map(|m| m.map(|m| m.opcode()));
        self.forward_replies();
        self.after_receive(result.as_ref().copied());
        match result {
            // Passing the replies on left the lent message in place.
            Ok(Some(_)) => Ok(self.inbound.lent()),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The next frame as it arrived; see [`Inbound::poll_frame`]. No replies are sent.
    ///
    /// # Errors
    ///
    /// As [`poll_message`](Self::poll_message).
    pub fn poll_frame(&mut self) -> Result<Option<Frame>, RecvError> {
        if let Some(e) = self.timed_out.take() {
            return Err(e);
        }
        let result = self.inbound.poll_frame();
        // Only a failure queues a reply in frame mode.
        self.forward_replies();
        let opcode = result.as_ref().map(|frame| {
            frame
                .as_ref()
                .map(|f| f.header.opcode)
                .filter(|&op| matches!(op, OpCode::Pong | OpCode::Close))
        });
        self.after_receive(opcode);
        result
    }

    /// Queues a message or frame; see [`Outbound::send`]. Sending our close frame starts
    /// the close timeout and stops the keepalive.
    ///
    /// # Errors
    ///
    /// As [`Outbound::send`].
    pub fn send(&mut self, message: Outgoing<'_>) -> Result<Queued, SendError> {
        let closing = self.outbound.close_sent();
        let queued = self.outbound.send(message)?;
        if !closing && self.outbound.close_sent() {
            self.on_close_sent();
        }
        Ok(queued)
    }

    /// See [`Outbound::send_rest`].
    ///
    /// # Errors
    ///
    /// As [`Outbound::send_rest`].
    pub fn send_rest(&mut self, rest: &[u8]) -> Result<Queued, SendError> {
        self.outbound.send_rest(rest)
    }

    /// Advances time to `now`: sends a keepalive ping when due, arms the close deadline,
    /// and ends the connection when the pong or close deadline passed (the next poll
    /// returns [`RecvError::PongTimeout`] or [`RecvError::CloseTimeout`]).
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.arm_close {
            self.arm_close = false;
            self.close_deadline = self.close_timeout.and_then(|t| now.checked_add(t));
        }
        if let Some(deadline) = self.close_deadline {
            if now >= deadline {
                self.close_deadline = None;
                self.shut = true;
                if self.inbound.close_frame().is_none() && !self.inbound.is_done() {
                    let timeout = self.close_timeout.unwrap_or_default();
                    self.inbound
                        .end(None, "the peer did not answer the close frame");
                    self.timed_out = Some(RecvError::CloseTimeout { timeout });
                }
                return;
            }
        }
        match self.keepalive.handle_timeout(now) {
            Some(KeepaliveAction::SendPing) => {
                let payload = core::mem::take(&mut self.ping_payload);
                // A send refused now (a large frame in progress) waits for the next ping.
                let _ = self.outbound.send(Outgoing::Ping(&payload));
                self.ping_payload = payload;
            }
            Some(KeepaliveAction::TimedOut { timeout }) => {
                self.shut = true;
                self.inbound.end(
                    Some(crate::CloseCode::ABNORMAL),
                    "no pong within the keepalive timeout",
                );
                self.timed_out = Some(RecvError::PongTimeout { timeout });
            }
            None => {}
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next, or `None`. A
    /// deadline that is not in the future (for example [`Duration::ZERO`], which asks for
    /// the current time) means: call it now.
    pub fn poll_timeout(&self) -> Option<Duration> {
        if self.shut {
            return None;
        }
        if self.arm_close && self.close_timeout.is_some() {
            return Some(Duration::ZERO);
        }
        match (self.close_deadline, self.keepalive.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The bytes waiting to be written; see [`Outbound::poll_transmit`].
    pub fn poll_transmit(&self) -> &[u8] {
        self.outbound.poll_transmit()
    }

    /// Reports `n` bytes of [`poll_transmit`](Self::poll_transmit) written.
    pub fn advance(&mut self, n: usize) {
        self.outbound.advance(n);
    }

    /// Where the connection is; see [`State`].
    pub fn state(&self) -> State {
        let received = self.inbound.close_frame().is_some();
        let sent = self.outbound.close_sent();
        if self.shut
            || self.inbound.is_eof()
            || (received && sent)
            || (self.inbound.is_done() && !received)
        {
            State::Closed
        } else if received || sent {
            State::Closing
        } else {
            State::Open
        }
    }

    /// Whether the driver should now write out what is pending and shut the transport:
    /// the connection failed, timed out or lost its input; or the closing handshake is
    /// complete (a server at once; a client once the server ended the transport or the
    /// close timeout passed, as RFC 6455 section 7.1.1 has the server close first).
    pub fn should_shut(&self) -> bool {
        if self.shut || self.inbound.is_eof() {
            return true;
        }
        let received = self.inbound.close_frame().is_some();
        if self.inbound.is_done() && !received {
            return true;
        }
        received && self.outbound.close_sent() && self.role() == Role::Server
    }

    /// The peer's close frame, once received.
    pub fn close_frame(&self) -> Option<&CloseInfo> {
        self.inbound.close_frame()
    }

    /// The receive half.
    pub fn inbound(&self) -> &Inbound {
        &self.inbound
    }

    /// The send half.
    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// Gives back idle buffers of both halves; see [`Inbound::release_buffers`] and
    /// [`Outbound::release_buffers`].
    pub fn release_buffers(&mut self) {
        self.inbound.release_buffers();
        self.outbound.release_buffers();
    }

    /// The two halves, for a driver that receives and sends on different threads or tasks.
    /// It then passes every [`Inbound::poll_reply`] to [`Outbound::handle_reply`] and runs
    /// the timers itself (see [`Keepalive`]).
    pub fn into_parts(self) -> (Inbound, Outbound) {
        (self.inbound, self.outbound)
    }

    fn forward_replies(&mut self) {
        let closing = self.outbound.close_sent();
        while let Some(reply) = self.inbound.poll_reply() {
            self.outbound.handle_reply(reply);
        }
        if !closing && self.outbound.close_sent() {
            self.on_close_sent();
        }
    }

    fn on_close_sent(&mut self) {
        self.keepalive.stop();
        if self.close_deadline.is_none() {
            self.arm_close = true;
        }
    }

    /// Updates the timers after a poll that gave a message with this opcode, nothing,
    /// or an error.
    fn after_receive(&mut self, result: Result<Option<OpCode>, &RecvError>) {
        match result {
            Ok(Some(OpCode::Pong)) => self.keepalive.on_pong(),
            Ok(Some(OpCode::Close)) => {
                self.keepalive.stop();
                if self.outbound.close_sent() && self.role() == Role::Client {
                    // Wait for the server to end the transport, within the close timeout.
                    if self.close_deadline.is_none() {
                        self.arm_close = true;
                    }
                } else if self.outbound.close_sent() {
                    self.close_deadline = None;
                    self.arm_close = false;
                }
            }
            // Receiving ended earlier; the timers already know.
            Err(RecvError::Closed { .. }) => {}
            Err(_) => {
                self.keepalive.stop();
                self.close_deadline = None;
                self.arm_close = false;
            }
            _ => {}
        }
    }
}
