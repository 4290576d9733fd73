//! The scale cells of `cargo xtask bench`: many idle connections in one process (client
//! heap bytes per connection) and the connection setup rate (connects and handshakes per
//! second), ours against tungstenite's, against one event-driven server that holds any
//! number of connections on one thread and echoes what they send (for the load cells).
//!
//! Client sockets close with `SO_LINGER` 0 (a reset, no `TIME_WAIT`), so runs of tens of
//! thousands of connections do not run out of loopback ports.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use ws_frame::{Decoder, Event, Limits, Role};
use ws_handshake::ServerHandshake;

use crate::client::{Impl, status_kib};
use crate::server::push_header;

/// The listener's token; connections count up from 1.
const LISTENER: Token = Token(0);

/// One server-side connection: handshaking, then held open, echoing every frame it gets
/// (unmasked, as the loopback server does).
struct Conn {
    stream: mio::net::TcpStream,
    handshake: Option<ServerHandshake>,
    /// Response and echo bytes not yet written.
    out: Vec<u8>,
    /// Received bytes not decoded yet (empty, and unallocated, between frames).
    input: Vec<u8>,
    decoder: Decoder,
}

/// Serves `listener` forever on one thread: answers each upgrade, then holds the
/// connection, discarding whatever arrives, until the client goes.
///
/// # Errors
///
/// When polling fails.
pub(crate) fn serve(listener: std::net::TcpListener) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut conns: HashMap<usize, Conn> = HashMap::new();
    let mut next = 1;
    let mut scratch = vec![0; 64 * 1024];
    loop {
        poll.poll(&mut events, None)?;
        for event in &events {
            if event.token() == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let token = Token(next);
                            next += 1;
                            poll.registry().register(
                                &mut stream,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            conns.insert(
                                token.0,
                                Conn {
                                    stream,
                                    handshake: Some(ServerHandshake::new()),
                                    out: Vec::new(),
                                    input: Vec::new(),
                                    decoder: Decoder::new(Role::Server)
                                        .with_limits(Limits::unlimited())
                                        .with_utf8_validation(false),
                                },
                            );
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        // Out of descriptors or a connection reset before accept: go on.
                        Err(e) => {
                            eprintln!("ws-bench scale server: accept: {e}");
                            break;
                        }
                    }
                }
                continue;
            }
            let key = event.token().0;
            let done = conns
                .get_mut(&key)
                .is_none_or(|conn| !conn.ready(&mut scratch));
            if done && let Some(mut conn) = conns.remove(&key) {
                let _ = poll.registry().deregister(&mut conn.stream);
            }
        }
    }
}

impl Conn {
    /// Decodes `bytes` (after what is left over) and queues the echo of every frame; false
    /// on a protocol error.
    fn echo(&mut self, bytes: &[u8]) -> bool {
        self.input.extend_from_slice(bytes);
        let mut start = 0;
        while start < self.input.len() {
            let Ok(decoded) = self.decoder.decode(&mut self.input[start..]) else {
                return false;
            };
            start += decoded.consumed;
            match decoded.event {
                Some(Event::Frame { header, payload }) => {
                    push_header(&mut self.out, header);
                    self.out.extend_from_slice(payload);
                }
                Some(Event::Header(header)) => push_header(&mut self.out, header),
                Some(Event::Payload { data, .. }) => self.out.extend_from_slice(data),
                None => break,
            }
        }
        self.input.drain(..start);
        if self.input.is_empty() {
            self.input = Vec::new();
        }
        true
    }

    /// Reads and writes what the socket allows; false once the connection is over.
    fn ready(&mut self, scratch: &mut [u8]) -> bool {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return false,
                Ok(n) => {
                    if let Some(handshake) = &mut self.handshake {
                        match handshake.feed(&scratch[..n]) {
                            Ok(Some(accepted)) => {
                                self.out = accepted.response;
                                self.handshake = None;
                                if !self.echo(&accepted.rest) {
                                    return false;
                                }
                            }
                            Ok(None) => {}
                            Err(e) => {
                                let _ = self.stream.write_all(&e.response());
                                return false;
                            }
                        }
                    } else if !self.echo(&scratch[..n]) {
                        return false;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        while !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        true
    }
}

/// A connected client held open, ours or tungstenite's, each on the heap (its size is
/// part of what a connection costs either way).
enum Held {
    Ours(Box<ws_client::WebSocket>),
    Tungstenite(Box<tungstenite::WebSocket<TcpStream>>),
}

/// A TCP connection to `addr` that closes with a reset (`SO_LINGER` 0), no `TIME_WAIT`.
fn tcp(addr: &str) -> io::Result<TcpStream> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO))?;
    Ok(tcp)
}

/// Connects and completes the handshake.
fn open(which: Impl, url: &str, addr: &str) -> io::Result<Held> {
    let tcp = tcp(addr)?;
    Ok(match which {
        Impl::Ours | Impl::OursRef => Held::Ours(Box::new(
            ws_client::ClientBuilder::new()
                .connect_on(url, tcp)
                .map_err(io::Error::other)?,
        )),
        Impl::Tungstenite | Impl::Raw => Held::Tungstenite(Box::new(
            tungstenite::client::client(url, tcp)
                .map_err(io::Error::other)?
                .0,
        )),
    })
}

/// What the idle cell measured in this process.
#[derive(Debug)]
pub(crate) struct Idle {
    pub(crate) connections: usize,
    /// `RssAnon` before the connections were opened and with all of them open, KiB.
    pub(crate) before_kib: u64,
    pub(crate) after_kib: u64,
    /// How long opening them took.
    pub(crate) elapsed: Duration,
}

/// Opens `n` connections with `which` and keeps them all open, reading the growth of
/// the process's resident heap (`RssAnon`). One connection is opened and closed first, so
/// what the first connect initialises once is not counted.
///
/// # Errors
///
/// Any connection or handshake failure.
pub(crate) fn idle(which: Impl, url: &str, addr: &str, n: usize) -> io::Result<Idle> {
    drop(open(which, url, addr)?);
    let mut held = Vec::with_capacity(n);
    let before_kib = status_kib("RssAnon").unwrap_or(0);
    let start = Instant::now();
    for _ in 0..n {
        held.push(open(which, url, addr)?);
    }
    let elapsed = start.elapsed();
    let after_kib = status_kib("RssAnon").unwrap_or(0);
    // Still open: every connection was held while measuring.
    let open = held
        .iter()
        .filter(|h| match h {
            Held::Ours(ws) => ws.is_open(),
            Held::Tungstenite(ws) => ws.can_read(),
        })
        .count();
    if open != n {
        return Err(io::Error::other(format!(
            "only {open} of {n} connections stayed open"
        )));
    }
    drop(held);
    Ok(Idle {
        connections: n,
        before_kib,
        after_kib,
        elapsed,
    })
}

/// Connection setup rate: each client in turn connects, completes the handshake and
/// drops the connection for `slice`, `slices` times; returns per client the connections
/// made and the time taken.
///
/// # Errors
///
/// Any connection or handshake failure.
pub(crate) fn setup(
    clients: &[Impl],
    url: &str,
    addr: &str,
    warmup: Duration,
    time: Duration,
    slices: u32,
) -> io::Result<Vec<(u64, Duration)>> {
    for &which in clients {
        connect_for(which, url, addr, warmup)?;
    }
    let mut totals = vec![(0, Duration::ZERO); clients.len()];
    let slices = slices.max(1);
    let n = clients.len();
    for round in 0..slices as usize {
        for turn in 0..n {
            let index = (round + turn) % n;
            let (count, elapsed) = connect_for(clients[index], url, addr, time / slices)?;
            totals[index].0 += count;
            totals[index].1 += elapsed;
        }
    }
    Ok(totals)
}

/// Connects and drops connections until `time` has passed (at least one).
fn connect_for(which: Impl, url: &str, addr: &str, time: Duration) -> io::Result<(u64, Duration)> {
    let start = Instant::now();
    let mut count = 0;
    loop {
        drop(open(which, url, addr)?);
        count += 1;
        let elapsed = start.elapsed();
        if elapsed >= time {
            return Ok((count, elapsed));
        }
    }
}

/// Raises the soft limit on open files to at least `want` (up to the hard limit), for
/// tens of thousands of sockets in one process; returns the limit now in force.
///
/// # Errors
///
/// When the limit cannot be read or set.
pub(crate) fn raise_fd_limit(want: u64) -> io::Result<u64> {
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE)?;
    if soft >= want {
        return Ok(soft);
    }
    let new = want.min(hard);
    rlimit::setrlimit(rlimit::Resource::NOFILE, new, hard)?;
    Ok(new)
}
