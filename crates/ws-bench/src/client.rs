//! The two clients under test, driven by the same loop: ours (`ws-client`) and
//! tungstenite's blocking client, both over a plain `TcpStream` with `TCP_NODELAY`.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tungstenite::Bytes;

/// Which client to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Impl {
    Ours,
    /// Ours receiving with `recv_ref`: messages lent, not allocated.
    OursRef,
    Tungstenite,
    /// The ceiling: pre-masked frame bytes written as they are, echoes read into one
    /// reused buffer; no masking, allocation, parsing or UTF-8 check per message.
    Raw,
}

/// Send one message and wait for its echo, or send a batch, flush, then read the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    RoundTrip,
    Pipelined,
}

/// Binary or text (UTF-8 validated on receipt) messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Binary,
    Text,
}

/// One benchmark cell: what to send and for how long.
#[derive(Debug, Clone)]
pub(crate) struct Cell {
    /// The clients to run, each on its own connection, interleaved.
    pub(crate) clients: Vec<Impl>,
    /// Each client's timed work is cut into this many slices, run in rotating order.
    pub(crate) slices: u32,
    pub(crate) mode: Mode,
    pub(crate) kind: Kind,
    pub(crate) size: usize,
    pub(crate) warmup: Duration,
    pub(crate) time: Duration,
}

/// What a timed run measured.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) messages: u64,
    pub(crate) elapsed: Duration,
    /// CPU time this (single-threaded) client spent during the run, user and system.
    pub(crate) cpu: Option<Duration>,
}

/// A connected client, ours or tungstenite's, behind one interface.
trait Echo {
    /// Sends one message and flushes.
    fn send(&mut self) -> io::Result<()>;
    /// Queues one message without flushing.
    fn write(&mut self) -> io::Result<()>;
    fn flush(&mut self) -> io::Result<()>;
    /// Sends `n` messages and flushes once: queued one by one unless the client has a
    /// batch call.
    fn send_batch(&mut self, n: usize) -> io::Result<()> {
        for _ in 0..n {
            self.write()?;
        }
        self.flush()
    }
    /// Receives one message and returns its length.
    fn recv(&mut self) -> io::Result<usize>;
}

struct Ours {
    ws: ws_client::WebSocket,
    message: ws_client::Message,
}

impl Echo for Ours {
    fn send(&mut self) -> io::Result<()> {
        match &self.message {
            ws_client::Message::Text(text) => self.ws.send_text(text),
            ws_client::Message::Binary(data) => self.ws.send_binary(data),
            other => self.ws.send(other),
        }
        .map_err(io::Error::other)
    }

    fn write(&mut self) -> io::Result<()> {
        self.ws.write(&self.message).map_err(io::Error::other)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().map_err(io::Error::other)
    }

    /// One lock for the batch (`send_batch`), where `write` takes it per message.
    fn send_batch(&mut self, n: usize) -> io::Result<()> {
        self.ws
            .send_batch(std::iter::repeat_n(&self.message, n))
            .map_err(io::Error::other)
    }

    fn recv(&mut self) -> io::Result<usize> {
        match self.ws.recv().map_err(io::Error::other)? {
            ws_client::Message::Binary(data) => Ok(data.len()),
            ws_client::Message::Text(text) => Ok(text.len()),
            other => Err(io::Error::other(format!("unexpected {other:?}"))),
        }
    }
}

/// Ours, receiving borrowed messages (`recv_ref`); sends as [`Ours`].
struct OursRef(Ours);

impl Echo for OursRef {
    fn send(&mut self) -> io::Result<()> {
        self.0.send()
    }

    fn write(&mut self) -> io::Result<()> {
        self.0.write()
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }

    fn send_batch(&mut self, n: usize) -> io::Result<()> {
        self.0.send_batch(n)
    }

    fn recv(&mut self) -> io::Result<usize> {
        match self.0.ws.recv_ref().map_err(io::Error::other)? {
            ws_client::MessageRef::Binary(data) => Ok(data.len()),
            ws_client::MessageRef::Text(text) => Ok(text.len()),
            other => Err(io::Error::other(format!("unexpected {other:?}"))),
        }
    }
}

struct Tungstenite {
    ws: tungstenite::WebSocket<TcpStream>,
    message: tungstenite::Message,
}

impl Echo for Tungstenite {
    fn send(&mut self) -> io::Result<()> {
        self.ws.send(self.message.clone()).map_err(io::Error::other)
    }

    fn write(&mut self) -> io::Result<()> {
        self.ws
            .write(self.message.clone())
            .map_err(io::Error::other)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.ws.flush().map_err(io::Error::other)
    }

    fn recv(&mut self) -> io::Result<usize> {
        match self.ws.read().map_err(io::Error::other)? {
            tungstenite::Message::Binary(data) => Ok(data.len()),
            tungstenite::Message::Text(text) => Ok(text.len()),
            other => Err(io::Error::other(format!("unexpected {other:?}"))),
        }
    }
}

struct Raw {
    tcp: TcpStream,
    /// One masked frame as it goes on the wire.
    frame: Vec<u8>,
    /// `queued` frames back to back, built once.
    batch: Vec<u8>,
    queued: usize,
    /// Received bytes not yet consumed, `input[start..have]`; reads ask for as much as fits.
    input: Vec<u8>,
    /// Where reads into an empty `input` start: its first 64-byte boundary (the kernel's
    /// copy to user memory is 3-4 times slower a few bytes past a page boundary on the
    /// AMD machines measured, where a large allocation begins; see PERFORMANCE.md).
    origin: usize,
    start: usize,
    have: usize,
    /// The length of one echoed (unmasked) frame.
    echo_len: usize,
    size: usize,
}

impl Echo for Raw {
    fn send(&mut self) -> io::Result<()> {
        self.tcp.write_all(&self.frame)
    }

    fn write(&mut self) -> io::Result<()> {
        self.queued += 1;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        let n = std::mem::take(&mut self.queued);
        if self.batch.len() != n * self.frame.len() {
            self.batch = self.frame.repeat(n);
        }
        self.tcp.write_all(&self.batch)
    }

    fn recv(&mut self) -> io::Result<usize> {
        if self.start + self.echo_len > self.input.len() {
            self.input.copy_within(self.start..self.have, self.origin);
            self.have -= self.start - self.origin;
            self.start = self.origin;
        }
        while self.have - self.start < self.echo_len {
            let n = self.tcp.read(&mut self.input[self.have..])?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.have += n;
        }
        // Same first byte (fin and opcode) as sent: at least the framing lines up.
        if self.input.get(self.start) != self.frame.first() {
            return Err(io::Error::other("raw echo lost the frame boundary"));
        }
        self.start += self.echo_len;
        if self.start == self.have {
            self.start = self.origin;
            self.have = self.origin;
        }
        Ok(self.size)
    }
}

/// A frame as the client sends it (masked with a fixed key) and the length of its echo.
fn raw_frame(kind: Kind, payload: &[u8]) -> (Vec<u8>, usize) {
    let opcode = match kind {
        Kind::Binary => ws_frame::OpCode::Binary,
        Kind::Text => ws_frame::OpCode::Text,
    };
    let mut frame = Vec::with_capacity(payload.len() + 14);
    ws_frame::encode_frame(
        &mut frame,
        ws_frame::Fin::Final,
        opcode,
        Some([1, 2, 3, 4]),
        payload,
    );
    let header = ws_frame::FrameHeader::new(opcode, payload.len() as u64);
    let mut head = [0; ws_frame::FrameHeader::MAX_LEN];
    let echo_len = header.encode(&mut head) + payload.len();
    (frame, echo_len)
}

/// How many messages a pipelined batch holds: up to 8 MiB in flight, 2 to 1000 messages.
/// Larger bursts (4 x 16 MiB) made the kernel prune loopback receive queues
/// (`TcpExtRcvPruned`), and the retransmission timeouts that followed stalled a run for
/// a minute.
pub(crate) fn batch_len(size: usize) -> usize {
    ((8 << 20) / size.max(1)).clamp(2, 1000)
}

/// Connects every client of the cell, warms each up, then runs them for the cell's time
/// each, interleaved: the time is cut into slices and the clients take turns slice by
/// slice (rotating who goes first), so a burst of other load on the machine hits all of
/// them alike. Returns one outcome per client, in the cell's order.
///
/// # Errors
///
/// Any connection, send or receive error, or an echo of the wrong length.
pub(crate) fn run(url: &str, addr: &str, cell: &Cell) -> io::Result<Vec<Outcome>> {
    let mut clients = Vec::new();
    for &which in &cell.clients {
        clients.push(connect(url, addr, which, cell)?);
    }
    let batch = match cell.mode {
        Mode::RoundTrip => 1,
        Mode::Pipelined => batch_len(cell.size),
    };
    for client in &mut clients {
        timed(client.as_mut(), cell, batch, cell.warmup)?;
    }
    let mut outcomes: Vec<Outcome> = clients
        .iter()
        .map(|_| Outcome {
            messages: 0,
            elapsed: Duration::ZERO,
            cpu: Some(Duration::ZERO),
        })
        .collect();
    let slices = cell.slices.max(1);
    let slice = cell.time / slices;
    let n = clients.len();
    for round in 0..slices as usize {
        for turn in 0..n {
            let index = (round + turn) % n;
            let got = timed(clients[index].as_mut(), cell, batch, slice)?;
            let total = &mut outcomes[index];
            total.messages += got.messages;
            total.elapsed += got.elapsed;
            total.cpu = total.cpu.zip(got.cpu).map(|(a, b)| a + b);
        }
    }
    Ok(outcomes)
}

/// Opens one client's connection and prepares its message.
fn connect(url: &str, addr: &str, which: Impl, cell: &Cell) -> io::Result<Box<dyn Echo>> {
    let payload = payload(cell.kind, cell.size);
    let tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    Ok(match which {
        Impl::Ours | Impl::OursRef => {
            let ws = ws_client::ClientBuilder::new()
                .connect_on(url, tcp)
                .map_err(io::Error::other)?;
            let message = match cell.kind {
                Kind::Binary => ws_client::Message::Binary(payload),
                Kind::Text => ws_client::Message::Text(to_string(payload)?),
            };
            let ours = Ours { ws, message };
            if which == Impl::OursRef {
                Box::new(OursRef(ours))
            } else {
                Box::new(ours)
            }
        }
        Impl::Tungstenite => {
            let (ws, _) = tungstenite::client::client(url, tcp).map_err(io::Error::other)?;
            let message = match cell.kind {
                Kind::Binary => tungstenite::Message::Binary(Bytes::from(payload)),
                Kind::Text => tungstenite::Message::Text(to_string(payload)?.into()),
            };
            Box::new(Tungstenite { ws, message })
        }
        Impl::Raw => {
            let (ws, _) = tungstenite::client::client(url, tcp).map_err(io::Error::other)?;
            let (frame, echo_len) = raw_frame(cell.kind, &payload);
            let input = vec![0; echo_len.max(256 << 10) + 64];
            let origin = (64 - input.as_ptr() as usize % 64) % 64;
            Box::new(Raw {
                tcp: ws.into_inner(),
                frame,
                batch: Vec::new(),
                queued: 0,
                input,
                origin,
                start: origin,
                have: origin,
                echo_len,
                size: cell.size,
            })
        }
    })
}

/// Runs batches until `time` has passed (at least one batch).
fn timed(client: &mut dyn Echo, cell: &Cell, batch: usize, time: Duration) -> io::Result<Outcome> {
    let cpu_start = cpu_time();
    let start = Instant::now();
    let mut messages = 0u64;
    loop {
        if cell.mode == Mode::RoundTrip {
            client.send()?;
            check(client.recv()?, cell.size)?;
        } else {
            client.send_batch(batch)?;
            for _ in 0..batch {
                check(client.recv()?, cell.size)?;
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

pub(crate) fn check(got: usize, want: usize) -> io::Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "echo has {got} bytes, sent {want}"
        )))
    }
}

fn to_string(bytes: Vec<u8>) -> io::Result<String> {
    String::from_utf8(bytes).map_err(io::Error::other)
}

/// `size` bytes: pseudo-random for binary, mostly ASCII text with 2-, 3- and 4-byte code
/// points for text (as chat or JSON with names in it would be).
pub(crate) fn payload(kind: Kind, size: usize) -> Vec<u8> {
    match kind {
        Kind::Binary => {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64;
            (0..size)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect()
        }
        Kind::Text => {
            let unit = "{\"user\":\"Zoë\",\"city\":\"東京\",\"msg\":\"ok 👍\",\"n\":12345} ";
            let mut text = String::with_capacity(size);
            while text.len() + unit.len() <= size {
                text.push_str(unit);
            }
            while text.len() < size {
                text.push('x');
            }
            text.into_bytes()
        }
    }
}

/// A `/proc/self/status` value in KiB: `VmHWM` is the peak resident set size, `RssAnon`
/// the resident heap and stack now (the rest is file-backed: code and read-only data).
pub(crate) fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of the calling thread so far (`/proc/thread-self/schedstat`, nanoseconds on
/// the CPU), if the system says.
pub(crate) fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}
