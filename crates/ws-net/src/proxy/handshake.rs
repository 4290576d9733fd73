//! [`ProxyHandshake`]: every proxy protocol as one sans-IO machine that any transport
//! (blocking, async, or the caller's own) can drive.

use std::fmt;

use super::http::HttpConnect;
use super::socks::{Socks4, Socks5};
use super::{Proxy, ProxyKind, Target};
use crate::error::ProxyError;

/// What [`ProxyHandshake::receive`] made of the bytes it was given.
///
/// Like `httparse::Status::Partial`, a short reply is not an error.
#[must_use = "the consumed count says which bytes belong to the proxy"]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// The reply is not complete yet. The first `consumed` bytes were used (all of them,
    /// unless the machine now has a request to send first: send what
    /// [`ProxyHandshake::poll_transmit`] gives, then feed the rest). `needed` is how many
    /// more bytes can be read without reading past the reply (at least 1).
    Partial {
        /// How many bytes of the input belong to the reply.
        consumed: usize,
        /// How many more bytes may be read without passing the end of the reply.
        needed: usize,
    },
    /// The tunnel is open. The first `consumed` bytes ended the reply; whatever follows
    /// them is the tunnel's first data and belongs to the caller.
    Complete {
        /// How many bytes of the input belong to the reply.
        consumed: usize,
    },
}

impl Progress {
    /// How many bytes of the input belong to the reply.
    #[must_use]
    pub fn consumed(self) -> usize {
        match self {
            Self::Partial { consumed, .. } | Self::Complete { consumed } => consumed,
        }
    }
}

/// The handshake with a proxy (HTTP `CONNECT`, SOCKS4, SOCKS4a, SOCKS5, SOCKS5h) without
/// any I/O, clock or randomness: request bytes out, reply bytes in.
///
/// A driver loops:
///
/// 1. while [`poll_transmit`](Self::poll_transmit) gives bytes, write them and report the
///    count with [`transmitted`](Self::transmitted);
/// 2. stop when [`is_complete`](Self::is_complete);
/// 3. read (or peek) reply bytes and hand them to [`receive`](Self::receive), which says
///    how many it consumed; bytes past the reply are never consumed, so a driver that
///    peeks discards exactly `consumed` bytes and leaves the tunnel's data in the socket;
/// 4. at end of stream, [`receive_eof`](Self::receive_eof) gives the error to return.
///
/// Timeouts are the driver's: the machine never waits. `Debug` never shows credentials.
///
/// ```
/// use ws_net::{Progress, Proxy, ProxyHandshake};
///
/// let proxy = Proxy::socks5h("proxy.example", 1080);
/// let mut hs = ProxyHandshake::new(&proxy, "example.com", 443)?;
/// assert_eq!(hs.poll_transmit(), Some(&[5, 1, 0][..]));
/// hs.transmitted(3);
/// // The method choice arrives in two pieces.
/// assert!(matches!(hs.receive(&[5])?, Progress::Partial { consumed: 1, needed: 1 }));
/// let _ = hs.receive(&[0])?;
/// let request = hs.poll_transmit().unwrap().to_vec();
/// assert_eq!(&request[..5], &[5, 1, 0, 3, 11]);
/// hs.transmitted(request.len());
/// // The reply, then the tunnel's first byte, which is not consumed.
/// let progress = hs.receive(&[5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90, b'H'])?;
/// assert_eq!(progress, Progress::Complete { consumed: 10 });
/// assert!(hs.is_complete());
/// # Ok::<(), ws_net::ProxyError>(())
/// ```
pub struct ProxyHandshake {
    machine: Machine,
    /// Bytes to send; `out[sent..]` is still pending. May hold credentials.
    out: Vec<u8>,
    sent: usize,
    state: Phase,
}

enum Machine {
    Http(HttpConnect),
    Socks4(Socks4),
    Socks5(Socks5),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Complete,
    Failed,
}

impl ProxyHandshake {
    /// A handshake asking `proxy` for a tunnel to `host:port`.
    ///
    /// `host` is an IP address or a name. HTTP, SOCKS4a and SOCKS5h send names to the
    /// proxy; SOCKS4 needs an IPv4 address and SOCKS5 sends a name as SOCKS5h would, so
    /// resolve first for those (the blocking [`connect`](crate::connect) does).
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] when the target cannot be expressed in the protocol: an IPv6
    /// address or a name for SOCKS4, a NUL byte in a SOCKS4 user id or name, a name, user
    /// name or password longer than 255 bytes for SOCKS5.
    pub fn new(proxy: &Proxy, host: &str, port: u16) -> Result<Self, ProxyError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let target = match host.parse() {
            Ok(ip) => Target::Addr(ip),
            Err(_) => Target::Name(host.to_owned()),
        };
        Self::for_target(proxy, &target, port)
    }

    pub(crate) fn for_target(
        proxy: &Proxy,
        target: &Target,
        port: u16,
    ) -> Result<Self, ProxyError> {
        let (machine, out) = match (proxy.kind, target) {
            (ProxyKind::Http, Target::Name(host)) => {
                let (m, out) = HttpConnect::new(proxy, host, port);
                (Machine::Http(m), out)
            }
            (ProxyKind::Http, Target::Addr(ip)) => {
                let (m, out) = HttpConnect::new(proxy, &ip.to_string(), port);
                (Machine::Http(m), out)
            }
            (ProxyKind::Socks4 | ProxyKind::Socks4a, _) => {
                let (m, out) = Socks4::new(proxy, target, port)?;
                (Machine::Socks4(m), out)
            }
            (ProxyKind::Socks5 | ProxyKind::Socks5h, _) => {
                let (m, out) = Socks5::new(proxy, target, port)?;
                (Machine::Socks5(m), out)
            }
        };
        Ok(Self {
            machine,
            out,
            sent: 0,
            state: Phase::Running,
        })
    }

    /// The bytes to send next, if any. Report what was written with
    /// [`transmitted`](Self::transmitted).
    pub fn poll_transmit(&self) -> Option<&[u8]> {
        self.out.get(self.sent..).filter(|rest| !rest.is_empty())
    }

    /// Records that the first `n` bytes of [`poll_transmit`](Self::poll_transmit) were
    /// written. A count past the pending bytes counts them all.
    pub fn transmitted(&mut self, n: usize) {
        self.sent = self.sent.saturating_add(n).min(self.out.len());
        if self.sent == self.out.len() {
            self.out.clear();
            self.sent = 0;
        }
    }

    /// Feeds reply bytes, in any split.
    ///
    /// # Errors
    ///
    /// The proxy's refusal or a protocol violation:
    /// [`ProxyError::AuthenticationFailed`] (HTTP 407), [`ProxyError::HttpStatus`] (any
    /// other non-2xx), [`ProxyError::HeadTooLarge`] (a response head over 16 KiB),
    /// [`ProxyError::Socks4Rejected`], [`ProxyError::Socks5Rejected`],
    /// [`ProxyError::Socks5NoAcceptableAuth`], [`ProxyError::Socks5AuthFailed`] and
    /// [`ProxyError::Malformed`] (wrong version, unknown address type, not HTTP/1.x, a
    /// method that was not offered, or a call after an earlier error).
    pub fn receive(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        match self.state {
            Phase::Complete => return Ok(Progress::Complete { consumed: 0 }),
            Phase::Failed => {
                return Err(ProxyError::Malformed {
                    proxy: self.proxy().to_owned(),
                    protocol: self.protocol(),
                    reason: "the handshake already failed".to_owned(),
                });
            }
            Phase::Running => {}
        }
        let result = match &mut self.machine {
            Machine::Http(m) => m.receive(data),
            Machine::Socks4(m) => m.receive(data),
            Machine::Socks5(m) => m.receive(data, &mut self.out),
        };
        self.state = match &result {
            Ok(Progress::Complete { .. }) => Phase::Complete,
            Ok(Progress::Partial { .. }) => Phase::Running,
            Err(_) => Phase::Failed,
        };
        result
    }

    /// The error for the proxy closing the connection before its reply was complete.
    pub fn receive_eof(&mut self) -> ProxyError {
        self.state = Phase::Failed;
        ProxyError::Closed {
            proxy: self.proxy().to_owned(),
            protocol: self.protocol(),
        }
    }

    /// Whether the tunnel is open: the reply was complete and accepted.
    pub fn is_complete(&self) -> bool {
        self.state == Phase::Complete
    }

    /// `"http"`, `"socks4"` or `"socks5"`.
    pub fn protocol(&self) -> &'static str {
        match self.machine {
            Machine::Http(_) => "http",
            Machine::Socks4(_) => "socks4",
            Machine::Socks5(_) => "socks5",
        }
    }

    /// The current step, for I/O error messages: what is being sent while
    /// [`poll_transmit`](Self::poll_transmit) has bytes, else what is being read.
    pub fn operation(&self) -> &'static str {
        let sending = self.poll_transmit().is_some();
        match &self.machine {
            Machine::Http(_) if sending => "send CONNECT request",
            Machine::Http(_) => "read CONNECT response",
            Machine::Socks4(_) if sending => "send socks4 request",
            Machine::Socks5(m) if sending => m.sending(),
            Machine::Socks4(_) | Machine::Socks5(_) => "read socks reply",
        }
    }

    fn proxy(&self) -> &str {
        match &self.machine {
            Machine::Http(m) => m.proxy(),
            Machine::Socks4(m) => m.proxy(),
            Machine::Socks5(m) => m.proxy(),
        }
    }
}

impl fmt::Debug for ProxyHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyHandshake")
            .field("protocol", &self.protocol())
            .field("proxy", &self.proxy())
            .field("state", &self.state)
            .field("pending_bytes", &(self.out.len() - self.sent))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
