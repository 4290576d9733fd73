//! [`AsyncWebSocket`]: a connected async client, both halves and the handshake's facts.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::reader::AsyncReader;
use super::rt;
use super::writer::{AsyncSender, Shared, Writer};
use crate::config::ClientBuilder;
use crate::error::{Error, Result};
use crate::frame::Frame;
use crate::reader::CloseInfo;
use futures_core::Stream;
use futures_sink::Sink;
use ws_frame::{CloseCode, Message, OpCode};
use ws_handshake::{Accepted, DeflateParams};

/// A connected async WebSocket client (feature `tokio`).
///
/// Made by [`connect_async`](crate::connect_async) or
/// [`ClientBuilder::connect_async`]. It is a [`Stream`] of `Result<Message>` and a
/// [`Sink`] of [`Message`] (as tokio-tungstenite's `WebSocketStream`), and has plain
/// `async fn`s: [`send_text`](Self::send_text), [`recv`](Self::recv),
/// [`close`](Self::close) and the rest. To receive in one task and send from others:
///
/// - [`sender`](Self::sender) gives a cloneable [`AsyncSender`] (`Send + Sync + Clone`)
///   for any number of tasks; keep the socket in the receiving task;
/// - [`split`](Self::split) consumes it into an [`AsyncReader`] and an [`AsyncSender`].
///
/// Both work for `ws://` and `wss://`; frames never interleave. Receiving is cancel-safe
/// (see [`AsyncReader`]); sending is bounded and cancel-safe (see [`AsyncSender`]).
///
/// ```no_run
/// use ws_client::Message;
///
/// # async fn run() -> ws_client::Result<()> {
/// let mut ws = ws_client::connect_async("ws://127.0.0.1:9001/echo").await?;
/// ws.send_text("hello").await?;
/// if let Message::Text(reply) = ws.recv().await? {
///     println!("{reply}");
/// }
/// ws.close(ws_client::CloseCode::NORMAL, "done", Some(std::time::Duration::from_secs(3)))
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct AsyncWebSocket {
    reader: AsyncReader,
    sender: AsyncSender,
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    subprotocol: Option<String>,
    deflate: Option<DeflateParams>,
    is_tls: bool,
    peer_addr: Option<SocketAddr>,
    shut: bool,
}

impl AsyncWebSocket {
    pub(crate) fn new(
        stream: rt::Stream,
        accepted: Accepted,
        builder: &ClientBuilder,
        url: String,
    ) -> Self {
        let is_tls = stream.is_tls();
        let peer_addr = stream.peer_addr().ok();
        let (inbound, outbound, deflate) = crate::websocket::engine(builder, &accepted);
        let (read, write) = rt::split(stream);
        let shared = Arc::new(Shared::new(Writer::new(
            write,
            outbound,
            builder.write_buffer_size,
        )));
        Self {
            reader: AsyncReader::new(read, inbound, Arc::clone(&shared)),
            sender: AsyncSender::new(shared),
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

    /// Sends a text message (and flushes); see [`AsyncSender`] for backpressure and
    /// cancellation.
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send_text`].
    pub async fn send_text(&self, text: &str) -> Result<()> {
        self.sender.send_text(text).await
    }

    /// Sends a binary message (and flushes).
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send_text`].
    pub async fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.sender.send_binary(data).await
    }

    /// Sends a message of any kind (and flushes).
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send`].
    pub async fn send(&self, message: &Message) -> Result<()> {
        self.sender.send(message).await
    }

    /// Queues a message without flushing; see [`AsyncSender::write`].
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send`].
    pub async fn write(&self, message: &Message) -> Result<()> {
        self.sender.write(message).await
    }

    /// Sends messages in order under one lock, flushing once; see
    /// [`AsyncSender::send_batch`].
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send_batch`].
    pub async fn send_batch<'m, I>(&self, messages: I) -> Result<()>
    where
        I: IntoIterator<Item = &'m Message>,
    {
        self.sender.send_batch(messages).await
    }

    /// Writes out everything queued.
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send_text`].
    pub async fn flush(&self) -> Result<()> {
        self.sender.flush().await
    }

    /// Sends one frame after checking it; see [`AsyncSender::send_frame`].
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send_frame`].
    pub async fn send_frame(&self, frame: &Frame) -> Result<()> {
        self.sender.send_frame(frame).await
    }

    /// Sends one fragment of a message; see [`AsyncSender::send_fragment`].
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::send_fragment`].
    pub async fn send_fragment(
        &self,
        opcode: OpCode,
        payload: &[u8],
        fin: ws_frame::Fin,
    ) -> Result<()> {
        self.sender.send_fragment(opcode, payload, fin).await
    }

    /// Sends a ping (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::ping`].
    pub async fn ping(&self, payload: &[u8]) -> Result<()> {
        self.sender.ping(payload).await
    }

    /// Sends a pong (at most 125 bytes).
    ///
    /// # Errors
    ///
    /// As [`AsyncSender::pong`].
    pub async fn pong(&self, payload: &[u8]) -> Result<()> {
        self.sender.pong(payload).await
    }

    /// Receives the next message; see [`AsyncReader::recv`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`AsyncReader::recv`].
    pub async fn recv(&mut self) -> Result<Message> {
        self.reader.recv().await
    }

    /// Receives the next message, pings and pongs included. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`AsyncReader::recv`].
    pub async fn recv_with_control(&mut self) -> Result<Message> {
        self.reader.recv_with_control().await
    }

    /// Receives one raw frame; see [`AsyncReader::recv_frame`]. Cancel-safe.
    ///
    /// # Errors
    ///
    /// As [`AsyncReader::recv`].
    pub async fn recv_frame(&mut self) -> Result<Frame> {
        self.reader.recv_frame().await
    }

    /// Keepalive pings and the pong deadline; see [`AsyncReader::set_keepalive`].
    ///
    /// # Errors
    ///
    /// As [`AsyncReader::set_keepalive`].
    pub fn set_keepalive(
        &mut self,
        interval: Option<Duration>,
        timeout: Option<Duration>,
        payload: &[u8],
    ) -> Result<()> {
        self.reader.set_keepalive(interval, timeout, payload)
    }

    /// The closing handshake (RFC 6455 section 7), all of it within `timeout` (`None`:
    /// no limit; Python waits 3 s, [`DEFAULT_CLOSE_TIMEOUT`](crate::DEFAULT_CLOSE_TIMEOUT)):
    /// sends a close frame with `code` and `reason` (unless one was sent already), reads
    /// until the peer's close frame arrives (messages arriving meanwhile are dropped),
    /// waits for the peer to end the TCP connection, then shuts the stream down. It also
    /// works after the peer closed first and is a no-op once the socket is shut down.
    ///
    /// Cancelled, the close frame may be out and the handshake unfinished; calling
    /// `close` again finishes it.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for an unsendable `code` (1005, 1006, 1015, undefined) or a
    /// reason over 123 bytes (nothing is sent then). A peer that does not answer in time
    /// is not an error; [`close_frame`](Self::close_frame) then stays `None`.
    pub async fn close(
        &mut self,
        code: CloseCode,
        reason: &str,
        timeout: Option<Duration>,
    ) -> Result<()> {
        if self.shut {
            return Ok(());
        }
        let handshake = async {
            {
                let mut w = self.sender.shared.lock().await;
                if !w.close_sent() {
                    match w
                        .queue(ws_frame::Outgoing::Close(Some((code, reason))))
                        .await
                    {
                        Ok(()) => {
                            let _ = w.flush().await;
                        }
                        Err(e @ Error::InvalidFrame(_)) => return Err(e),
                        Err(_) => {}
                    }
                }
            }
            while !self.reader.is_closed() {
                match self.reader.recv().await {
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(other) => log::debug!(
                        target: "ws_client",
                        "dropping a {} message received while closing",
                        other.opcode().name()
                    ),
                }
            }
            if self.reader.close_frame().is_some() {
                // The server closes TCP first (RFC 6455 section 7.1.1).
                self.reader.drain_until_eof().await;
            }
            Ok(())
        };
        let started = rt::Instant::now();
        match timeout {
            None => handshake.await?,
            Some(t) => rt::timeout(t, handshake).await.unwrap_or(Ok(()))?,
        }
        // A TLS close_notify may wait for the peer to read: bounded by the time left.
        let left = timeout.map(|t| t.saturating_sub(started.elapsed()));
        let shutdown = self.sender.shutdown();
        let _ = match left {
            None => shutdown.await,
            Some(left) => rt::timeout(left, shutdown).await.unwrap_or(Ok(())),
        };
        self.shut = true;
        self.reader.mark_ended();
        Ok(())
    }

    /// A cloneable handle to send from other tasks while this one receives.
    pub fn sender(&self) -> AsyncSender {
        self.sender.clone()
    }

    /// Splits the connection into an [`AsyncReader`] and an [`AsyncSender`] for different
    /// tasks. Read [`status`](Self::status), [`headers`](Self::headers) and
    /// [`subprotocol`](Self::subprotocol) before splitting if you need them.
    pub fn split(self) -> (AsyncReader, AsyncSender) {
        (self.reader, self.sender)
    }

    crate::websocket::handshake_facts!();

    /// Whether the connection can still be used for receiving: no close frame received,
    /// not ended, not shut down.
    pub fn is_open(&self) -> bool {
        !self.shut && !self.reader.is_closed()
    }
}

impl Stream for AsyncWebSocket {
    type Item = Result<Message>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.reader).poll_next(cx)
    }
}

impl Sink<Message> for AsyncWebSocket {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<()> {
        Pin::new(&mut self.sender).start_send(item)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.sender).poll_close(cx)
    }
}
