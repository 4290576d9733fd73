//! The async clients under test, each on a tokio current-thread runtime, driven by the same
//! loop as the blocking ones: ours (`ws-client` with the `tokio` feature),
//! tokio-tungstenite, fastwebsockets and tokio-websockets, each with its default options.

use std::io;
use std::time::{Duration, Instant};

use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::client::{Cell, Kind, Mode, Outcome, batch_len, check, cpu_time, payload, status_kib};
use crate::scale::Idle;

/// Which async client to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AsyncImpl {
    Ours,
    TokioTungstenite,
    Fastwebsockets,
    TokioWebsockets,
}

impl AsyncImpl {
    /// The client's name on the command line and in reports.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        match name {
            "ours-async" => Some(Self::Ours),
            "tokio-tungstenite" => Some(Self::TokioTungstenite),
            "fastwebsockets" => Some(Self::Fastwebsockets),
            "tokio-websockets" => Some(Self::TokioWebsockets),
            _ => None,
        }
    }
}

/// A connected async client with the message it sends.
pub(crate) enum Client {
    Ours(Box<ws_client::AsyncWebSocket>, ws_client::Message),
    TokioTungstenite(
        Box<tokio_tungstenite::WebSocketStream<TcpStream>>,
        tungstenite::Message,
    ),
    Fastwebsockets(Box<fastwebsockets::WebSocket<TcpStream>>, Vec<u8>),
    TokioWebsockets(
        Box<tokio_websockets::WebSocketStream<TcpStream>>,
        tokio_websockets::Message,
    ),
}

/// A benchmark error from any of the libraries.
fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

impl Client {
    /// Connects `which` to `url` (at `addr`) with a `size`-byte binary message to send.
    ///
    /// # Errors
    ///
    /// Any connection or handshake failure.
    pub(crate) async fn connect(
        which: AsyncImpl,
        url: &str,
        addr: &str,
        size: usize,
    ) -> io::Result<Self> {
        let data = payload(Kind::Binary, size);
        if which == AsyncImpl::Ours {
            let ws = ws_client::ClientBuilder::new()
                .connect_async(url)
                .await
                .map_err(other)?;
            return Ok(Self::Ours(Box::new(ws), ws_client::Message::Binary(data)));
        }
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(match which {
            AsyncImpl::TokioTungstenite => {
                let (ws, _) = tokio_tungstenite::client_async(url, tcp)
                    .await
                    .map_err(other)?;
                Self::TokioTungstenite(Box::new(ws), tungstenite::Message::Binary(data.into()))
            }
            AsyncImpl::Fastwebsockets => {
                let tcp = upgrade_by_hand(tcp, url, addr).await?;
                let ws =
                    fastwebsockets::WebSocket::after_handshake(tcp, fastwebsockets::Role::Client);
                Self::Fastwebsockets(Box::new(ws), data)
            }
            AsyncImpl::TokioWebsockets | AsyncImpl::Ours => {
                let (ws, _) = tokio_websockets::ClientBuilder::new()
                    .uri(url)
                    .map_err(other)?
                    .connect_on(tcp)
                    .await
                    .map_err(other)?;
                Self::TokioWebsockets(Box::new(ws), tokio_websockets::Message::binary(data))
            }
        })
    }

    /// Queues one message (fastwebsockets writes each frame at once: it has no queue).
    async fn write(&mut self) -> io::Result<()> {
        match self {
            Self::Ours(ws, message) => ws.write(message).await.map_err(other),
            Self::TokioTungstenite(ws, message) => ws.feed(message.clone()).await.map_err(other),
            Self::Fastwebsockets(ws, data) => ws
                .write_frame(fastwebsockets::Frame::binary(
                    fastwebsockets::Payload::Borrowed(data),
                ))
                .await
                .map_err(other),
            Self::TokioWebsockets(ws, message) => ws.feed(message.clone()).await.map_err(other),
        }
    }

    /// Sends `n` messages and flushes once (ours with one lock for the batch).
    async fn send_batch(&mut self, n: usize) -> io::Result<()> {
        if let Self::Ours(ws, message) = self {
            return ws
                .send_batch(std::iter::repeat_n(&*message, n))
                .await
                .map_err(other);
        }
        for _ in 0..n {
            self.write().await?;
        }
        self.flush().await
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Ours(ws, _) => ws.flush().await.map_err(other),
            Self::TokioTungstenite(ws, _) => ws.flush().await.map_err(other),
            Self::Fastwebsockets(ws, _) => ws.flush().await.map_err(other),
            Self::TokioWebsockets(ws, _) => ws.flush().await.map_err(other),
        }
    }

    /// Receives one message and returns its length.
    async fn recv(&mut self) -> io::Result<usize> {
        match self {
            Self::Ours(ws, _) => match ws.recv().await.map_err(other)? {
                ws_client::Message::Binary(data) => Ok(data.len()),
                got => Err(other(format!("unexpected {got:?}"))),
            },
            Self::TokioTungstenite(ws, _) => match ws.next().await {
                Some(Ok(tungstenite::Message::Binary(data))) => Ok(data.len()),
                got => Err(other(format!("unexpected {got:?}"))),
            },
            Self::Fastwebsockets(ws, _) => {
                let frame = ws.read_frame().await.map_err(other)?;
                if frame.opcode == fastwebsockets::OpCode::Binary && frame.fin {
                    Ok(frame.payload.len())
                } else {
                    Err(other(format!("unexpected {:?} frame", frame.opcode)))
                }
            }
            Self::TokioWebsockets(ws, _) => match ws.next().await {
                Some(Ok(message)) if message.is_binary() => Ok(message.as_payload().len()),
                got => Err(other(format!("unexpected {got:?}"))),
            },
        }
    }

    /// One round trip: sends the message and waits for its echo of `size` bytes.
    pub(crate) async fn round_trip(&mut self, size: usize) -> io::Result<()> {
        self.write().await?;
        self.flush().await?;
        check(self.recv().await?, size)
    }

    /// Whether the connection is still usable (for the idle cells).
    pub(crate) fn is_open(&self) -> bool {
        match self {
            Self::Ours(ws, _) => ws.is_open(),
            Self::Fastwebsockets(ws, _) => !ws.is_closed(),
            Self::TokioTungstenite(..) | Self::TokioWebsockets(..) => true,
        }
    }
}

/// The upgrade request written by hand (fastwebsockets leaves the handshake to hyper):
/// reads the response head and checks its status; the server sends nothing after it until
/// a frame arrives, so the read cannot take frame bytes.
async fn upgrade_by_hand(mut tcp: TcpStream, url: &str, addr: &str) -> io::Result<TcpStream> {
    let path = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        .unwrap_or("/");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    if head.starts_with(b"HTTP/1.1 101") {
        Ok(tcp)
    } else {
        Err(other("the server refused the upgrade"))
    }
}

/// A current-thread tokio runtime: every client runs on the calling thread, so its CPU
/// time is that thread's.
///
/// # Errors
///
/// When tokio cannot build it.
pub(crate) fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Like [`crate::client::run`] for async clients: connects each, warms each up, then runs
/// them interleaved slice by slice; one outcome per client, in order.
///
/// # Errors
///
/// Any connection, send or receive error, or an echo of the wrong length.
pub(crate) fn run(
    url: &str,
    addr: &str,
    clients: &[AsyncImpl],
    cell: &Cell,
) -> io::Result<Vec<Outcome>> {
    runtime()?.block_on(async {
        let mut connected = Vec::new();
        for &which in clients {
            connected.push(Client::connect(which, url, addr, cell.size).await?);
        }
        let batch = match cell.mode {
            Mode::RoundTrip => 1,
            Mode::Pipelined => batch_len(cell.size),
        };
        for client in &mut connected {
            timed(client, cell, batch, cell.warmup).await?;
        }
        let mut outcomes: Vec<Outcome> = connected
            .iter()
            .map(|_| Outcome {
                messages: 0,
                elapsed: Duration::ZERO,
                cpu: Some(Duration::ZERO),
            })
            .collect();
        let slices = cell.slices.max(1);
        let n = connected.len();
        for round in 0..slices as usize {
            for turn in 0..n {
                let index = (round + turn) % n;
                let got = timed(&mut connected[index], cell, batch, cell.time / slices).await?;
                let total = &mut outcomes[index];
                total.messages += got.messages;
                total.elapsed += got.elapsed;
                total.cpu = total.cpu.zip(got.cpu).map(|(a, b)| a + b);
            }
        }
        Ok(outcomes)
    })
}

/// Runs batches until `time` has passed (at least one batch).
async fn timed(
    client: &mut Client,
    cell: &Cell,
    batch: usize,
    time: Duration,
) -> io::Result<Outcome> {
    let cpu_start = cpu_time();
    let start = Instant::now();
    let mut messages = 0u64;
    loop {
        if cell.mode == Mode::RoundTrip {
            client.round_trip(cell.size).await?;
        } else {
            client.send_batch(batch).await?;
            for _ in 0..batch {
                check(client.recv().await?, cell.size)?;
            }
        }
        messages += batch as u64;
        let elapsed = start.elapsed();
        if elapsed >= time {
            let cpu = cpu_time()
                .zip(cpu_start)
                .and_then(|(end, start)| end.checked_sub(start));
            return Ok(Outcome {
                messages,
                elapsed,
                cpu,
            });
        }
    }
}

/// [`crate::scale::idle`] for an async client: opens `n` connections on one
/// current-thread runtime and keeps them, reading the growth of `RssAnon`.
///
/// # Errors
///
/// Any connection or handshake failure, or a connection that did not stay open.
pub(crate) fn idle(which: AsyncImpl, url: &str, addr: &str, n: usize) -> io::Result<Idle> {
    runtime()?.block_on(async {
        drop(Client::connect(which, url, addr, 16).await?);
        let mut held = Vec::with_capacity(n);
        let before_kib = status_kib("RssAnon").unwrap_or(0);
        let start = Instant::now();
        for _ in 0..n {
            held.push(Client::connect(which, url, addr, 0).await?);
        }
        let elapsed = start.elapsed();
        let after_kib = status_kib("RssAnon").unwrap_or(0);
        let open = held.iter().filter(|c| c.is_open()).count();
        if open != n {
            return Err(other(format!("only {open} of {n} connections stayed open")));
        }
        Ok(Idle {
            connections: n,
            before_kib,
            after_kib,
            elapsed,
        })
    })
}

/// What a load run measured: every connection's round trips, all connections at once.
#[derive(Debug)]
pub(crate) struct Load {
    pub(crate) messages: u64,
    pub(crate) elapsed: Duration,
    pub(crate) cpu: Option<Duration>,
    /// How long opening the connections took.
    pub(crate) open: Duration,
}

/// Echo load like uWebSockets' `load_test`: opens `n` connections, then each sends a
/// `size`-byte message and sends the next once its echo is back, `m` times, all `n`
/// concurrently on one current-thread runtime. Every echo's length is checked, and the
/// run fails unless all `n` x `m` came back.
///
/// # Errors
///
/// Any connection, send or receive error, or an echo of the wrong length.
pub(crate) fn load(
    which: AsyncImpl,
    url: &str,
    addr: &str,
    n: usize,
    m: u64,
    size: usize,
) -> io::Result<Load> {
    runtime()?.block_on(async {
        let opening = Instant::now();
        let mut clients = Vec::with_capacity(n);
        for _ in 0..n {
            clients.push(Client::connect(which, url, addr, size).await?);
        }
        let open = opening.elapsed();
        let cpu_start = cpu_time();
        let start = Instant::now();
        let mut running: FuturesUnordered<_> = clients
            .iter_mut()
            .map(|client| async move {
                for _ in 0..m {
                    client.round_trip(size).await?;
                }
                Ok::<u64, io::Error>(m)
            })
            .collect();
        let mut messages = 0;
        while let Some(done) = running.next().await {
            messages += done?;
        }
        let elapsed = start.elapsed();
        let cpu = cpu_time()
            .zip(cpu_start)
            .and_then(|(end, start)| end.checked_sub(start));
        if messages != n as u64 * m {
            return Err(other(format!(
                "{messages} echoes of {} came back",
                n as u64 * m
            )));
        }
        Ok(Load {
            messages,
            elapsed,
            cpu,
            open,
        })
    })
}
