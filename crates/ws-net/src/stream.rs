//! [`Stream`]: a plain or TLS byte stream that can be split into a reader and a writer
//! used from two threads at once.
//!
//! For TLS the halves share the rustls connection behind a mutex. The reader does its
//! blocking socket read outside the lock and only locks to hand the bytes to rustls and
//! take the plaintext out; the writer locks to encrypt, then writes the records while
//! holding only a separate write lock, so a reader blocked waiting for data never stops
//! the writer and the other way round.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::budget::{Budget, Timeouts};
use crate::error::Result;
use crate::tls::{self, ClientConnection, TlsOptions, from_engine_error};

/// Size of the reader's ciphertext buffer: one maximal TLS record plus overhead.
const READ_BUF: usize = 16 * 1024 + 2048;

/// A connected byte stream, plain TCP or TLS over TCP. `Read + Write + Send`.
pub struct Stream {
    read: ReadHalf,
    write: WriteHalf,
}

/// The reading half of a [`Stream`], from [`Stream::split`].
pub struct ReadHalf {
    sock: Arc<TcpStream>,
    tls: Option<Arc<Shared>>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// The writing half of a [`Stream`], from [`Stream::split`].
pub struct WriteHalf {
    sock: Arc<TcpStream>,
    tls: Option<Arc<Shared>>,
}

/// TLS state shared by both halves. Lock order: `out` before `conn`.
struct Shared {
    conn: Mutex<ClientConnection>,
    /// Encrypted bytes not yet written to the socket; holding it serialises socket writes.
    out: Mutex<Vec<u8>>,
    /// The verified server name, for error messages.
    name: String,
}

impl Stream {
    /// Uses a TCP connection the caller opened, as is (no TLS, options untouched).
    pub fn from_tcp(tcp: TcpStream) -> Self {
        let sock = Arc::new(tcp);
        Self {
            read: ReadHalf::new(sock.clone(), None),
            write: WriteHalf { sock, tls: None },
        }
    }

    /// Runs a TLS handshake over a TCP connection the caller opened, verifying the server
    /// as `server_name` (unless `tls` overrides the name). The socket's timeouts bound
    /// each handshake read and write.
    ///
    /// # Errors
    ///
    /// [`Error::Tls`](crate::Error::Tls) when the configuration is unusable or the server is not trusted,
    /// [`Error::Timeout`](crate::Error::Timeout) when the socket's timeout passes, [`Error::Io`](crate::Error::Io) otherwise.
    pub fn wrap_tls(tcp: TcpStream, server_name: &str, tls: &TlsOptions) -> Result<Self> {
        let port = tcp.peer_addr().map_or(0, |a| a.port());
        let per_op = tcp.read_timeout().ok().flatten();
        let unlimited = Timeouts {
            deadline: None,
            ..Timeouts::default()
        };
        tls::handshake(
            tcp,
            server_name,
            port,
            tls,
            &Budget::start(unlimited),
            per_op,
        )
    }

    #[cfg(feature = "tls")]
    pub(crate) fn from_tls_parts(tcp: TcpStream, conn: ClientConnection, name: String) -> Self {
        let sock = Arc::new(tcp);
        let shared = Arc::new(Shared {
            conn: Mutex::new(conn),
            out: Mutex::new(Vec::new()),
            name,
        });
        Self {
            read: ReadHalf::new(sock.clone(), Some(shared.clone())),
            write: WriteHalf {
                sock,
                tls: Some(shared),
            },
        }
    }

    /// Sets the read timeout; `None` blocks forever. A read past it fails with
    /// `WouldBlock` or `TimedOut`, depending on the platform.
    ///
    /// # Errors
    ///
    /// When the OS refuses the value (e.g. a zero duration).
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.read.set_read_timeout(timeout)
    }

    /// Sets the write timeout; `None` blocks forever.
    ///
    /// # Errors
    ///
    /// When the OS refuses the value (e.g. a zero duration).
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.write.set_write_timeout(timeout)
    }

    /// The read timeout.
    ///
    /// # Errors
    ///
    /// When the OS cannot report it.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.read.sock.read_timeout()
    }

    /// The write timeout.
    ///
    /// # Errors
    ///
    /// When the OS cannot report it.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.write.sock.write_timeout()
    }

    /// Shuts down both directions, sending a TLS `close_notify` first when TLS is used.
    ///
    /// # Errors
    ///
    /// When the `close_notify` cannot be written or the OS reports an error (a socket the
    /// peer already closed is not an error).
    pub fn shutdown(&self) -> io::Result<()> {
        self.write.shutdown()
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        self.write.tls.is_some()
    }

    /// The address of the peer (the proxy's, when tunnelled).
    ///
    /// # Errors
    ///
    /// When the socket is no longer connected.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.write.sock.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// When the OS cannot report it.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.write.sock.local_addr()
    }

    /// The ALPN protocol the server chose, if any.
    pub fn alpn_protocol(&self) -> Option<Vec<u8>> {
        let tls = self.write.tls.as_ref()?;
        lock(&tls.conn).ok()?.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// Splits the stream into a reader and a writer that can be used from two threads at
    /// once, also for TLS.
    pub fn split(self) -> (ReadHalf, WriteHalf) {
        (self.read, self.write)
    }

    /// Puts halves of the same stream back together.
    ///
    /// # Errors
    ///
    /// Gives the halves back when they come from different streams.
    pub fn reunite(read: ReadHalf, write: WriteHalf) -> Result<Self, (ReadHalf, WriteHalf)> {
        if Arc::ptr_eq(&read.sock, &write.sock) {
            Ok(Self { read, write })
        } else {
            Err((read, write))
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read.read(buf)
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.write.flush()
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("peer", &self.write.sock.peer_addr().ok())
            .field("tls", &self.write.tls.as_ref().map(|t| &t.name))
            .finish_non_exhaustive()
    }
}

impl ReadHalf {
    fn new(sock: Arc<TcpStream>, tls: Option<Arc<Shared>>) -> Self {
        let buf = if tls.is_some() {
            vec![0; READ_BUF]
        } else {
            Vec::new()
        };
        Self {
            sock,
            tls,
            buf,
            start: 0,
            end: 0,
        }
    }

    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (the socket is no longer connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// The read timeout in force; see [`Stream::read_timeout`].
    ///
    /// # Errors
    ///
    /// When the OS cannot tell.
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        self.sock.read_timeout()
    }

    /// Sets the read timeout; see [`Stream::set_read_timeout`].
    ///
    /// # Errors
    ///
    /// When the OS refuses the value.
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }

    /// Shuts down both directions of the stream; see [`Stream::shutdown`].
    ///
    /// # Errors
    ///
    /// See [`Stream::shutdown`].
    pub fn shutdown(&self) -> io::Result<()> {
        shutdown(&self.sock, self.tls.as_deref())
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    fn read_tls(&mut self, tls: &Shared, out: &mut [u8]) -> io::Result<usize> {
        loop {
            let needs_flush;
            {
                let mut conn = lock(&tls.conn)?;
                while self.start < self.end {
                    let mut pending = self.buf.get(self.start..self.end).unwrap_or_default();
                    match conn.read_tls(&mut pending) {
                        Ok(0) => break,
                        Ok(n) => self.start += n,
                        // rustls' plaintext buffer is full: hand out plaintext first.
                        Err(e) if e.kind() == io::ErrorKind::Other => break,
                        Err(e) => return Err(e),
                    }
                    if let Err(err) = conn.process_new_packets() {
                        drop(conn);
                        let _ = flush_tls(&self.sock, tls);
                        return Err(from_engine_error(&tls.name, &err).into());
                    }
                }
                needs_flush = conn.wants_write();
                match conn.reader().read(out) {
                    Ok(n) => {
                        drop(conn);
                        if needs_flush {
                            flush_tls(&self.sock, tls)?;
                        }
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.start < self.end {
                    return Err(io::Error::other(
                        "tls: ciphertext is buffered but yields no plaintext",
                    ));
                }
            }
            if needs_flush {
                flush_tls(&self.sock, tls)?;
            }
            // The blocking read happens without any lock held.
            let n = (&*self.sock).read(&mut self.buf)?;
            if n == 0 {
                let mut conn = lock(&tls.conn)?;
                conn.read_tls(&mut io::empty())?;
                if let Err(err) = conn.process_new_packets() {
                    return Err(from_engine_error(&tls.name, &err).into());
                }
                return match conn.reader().read(out) {
                    Ok(n) => Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "tls: peer closed the connection without close_notify",
                    )),
                    Err(e) => Err(e),
                };
            }
            self.start = 0;
            self.end = n;
        }
    }
}

impl Read for ReadHalf {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        match self.tls.clone() {
            None => (&*self.sock).read(out),
            Some(tls) => self.read_tls(&tls, out),
        }
    }
}

impl fmt::Debug for ReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf")
            .field("peer", &self.sock.peer_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl WriteHalf {
    /// The address of the peer.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell (the socket is no longer connected).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.sock.peer_addr()
    }

    /// The write timeout in force; see [`Stream::write_timeout`].
    ///
    /// # Errors
    ///
    /// When the OS cannot tell.
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        self.sock.write_timeout()
    }

    /// Sets the write timeout; see [`Stream::set_write_timeout`].
    ///
    /// # Errors
    ///
    /// When the OS refuses the value.
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }

    /// Shuts down both directions of the stream, sending a TLS `close_notify` first.
    ///
    /// # Errors
    ///
    /// See [`Stream::shutdown`].
    pub fn shutdown(&self) -> io::Result<()> {
        shutdown(&self.sock, self.tls.as_deref())
    }

    /// Whether the stream is encrypted.
    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }
}

impl Write for WriteHalf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let Some(tls) = &self.tls else {
            return (&*self.sock).write(data);
        };
        let mut out = lock(&tls.out)?;
        // Earlier records first; an error here means nothing of `data` was taken.
        drain(&self.sock, &mut out)?;
        let n = {
            let mut conn = lock(&tls.conn)?;
            let n = conn.writer().write(data)?;
            while conn.wants_write() {
                conn.write_tls(&mut *out)?;
            }
            n
        };
        match drain(&self.sock, &mut out) {
            Ok(()) => Ok(n),
            // The data is encrypted and queued; the next write or flush retries.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(n)
            }
            Err(e) => Err(e),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(tls) = &self.tls {
            drain(&self.sock, &mut *lock(&tls.out)?)?;
        }
        (&*self.sock).flush()
    }
}

impl fmt::Debug for WriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf")
            .field("peer", &self.sock.peer_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> io::Result<MutexGuard<'_, T>> {
    mutex.lock().map_err(|_| {
        io::Error::other("tls state is unusable: another thread panicked while using it")
    })
}

/// Writes queued records until the queue is empty, keeping what could not be written.
fn drain(sock: &TcpStream, out: &mut Vec<u8>) -> io::Result<()> {
    let mut written = 0;
    let result = loop {
        let Some(rest) = out.get(written..).filter(|r| !r.is_empty()) else {
            break Ok(());
        };
        match (&*sock).write(rest) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    out.drain(..written);
    result
}

/// Encrypts whatever rustls wants to send (alerts, key updates) and writes it.
fn flush_tls(sock: &TcpStream, tls: &Shared) -> io::Result<()> {
    let mut out = lock(&tls.out)?;
    {
        let mut conn = lock(&tls.conn)?;
        while conn.wants_write() {
            conn.write_tls(&mut *out)?;
        }
    }
    drain(sock, &mut out)
}

fn shutdown(sock: &TcpStream, tls: Option<&Shared>) -> io::Result<()> {
    if let Some(tls) = tls {
        lock(&tls.conn)?.send_close_notify();
        if let Err(e) = flush_tls(sock, tls) {
            log::debug!("cannot send tls close_notify: {e}");
        }
    }
    match sock.shutdown(Shutdown::Both) {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        other => other,
    }
}
