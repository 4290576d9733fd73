//! [`NetOptions`], [`SocketOptions`] and the overall [`Deadline`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::proxy::ProxyConfig;
use crate::tls::TlsOptions;

/// A host name resolver: `(host, port)` to the addresses to try. They are tried in this
/// order within each address family, the families interleaved as
/// [`NetOptions::preferred_family`] says.
pub type Resolver = Arc<dyn Fn(&str, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync>;

/// A hook run on each new socket before it connects (to the server or to a proxy), to set
/// options this crate has no setter for. It gets the socket as a borrowed descriptor.
#[cfg(unix)]
pub type SocketHook = Arc<dyn Fn(std::os::fd::BorrowedFd<'_>) -> io::Result<()> + Send + Sync>;
/// A hook run on each new socket before it connects (to the server or to a proxy), to set
/// options this crate has no setter for. It gets the socket as a borrowed handle.
#[cfg(windows)]
pub type SocketHook =
    Arc<dyn Fn(std::os::windows::io::BorrowedSocket<'_>) -> io::Result<()> + Send + Sync>;

/// Everything [`connect`](crate::connect) needs besides the endpoint.
///
/// Defaults: connect timeout 30 s per address, Happy Eyeballs with IPv6 first and 250 ms
/// between attempts, no read or write timeout, an overall deadline of 60 s for TCP
/// connect + proxy + TLS (+ the caller's handshake), default [`SocketOptions`], proxies
/// from the environment, verifying TLS with webpki roots.
#[derive(Clone)]
#[non_exhaustive]
pub struct NetOptions {
    /// Timeout of each TCP connect attempt (per address). Default 30 s.
    pub connect_timeout: Option<Duration>,
    /// Read timeout set on the stream. Default none.
    pub read_timeout: Option<Duration>,
    /// Write timeout set on the stream. Default none.
    pub write_timeout: Option<Duration>,
    /// Overall time for connect + proxy + TLS (+ handshake, see [`Deadline`]). Default 60 s.
    pub deadline: Option<Duration>,
    /// Socket options. Default [`SocketOptions::default`].
    pub socket: SocketOptions,
    /// Proxy selection. Default [`ProxyConfig::FromEnv`].
    pub proxy: ProxyConfig,
    /// TLS settings for `wss://`. Default [`TlsOptions::default`].
    pub tls: TlsOptions,
    /// Resolver override; `None` uses the system resolver.
    pub resolver: Option<Resolver>,
    /// Happy Eyeballs (RFC 8305): how long an attempt may stay pending before the next
    /// address is tried alongside it. The first to connect wins and the others are
    /// closed; an attempt that fails starts the next one at once. `Duration::ZERO`
    /// tries one address at a time. Default 250 ms (RFC 8305 section 5).
    pub attempt_delay: Duration,
    /// Which address family is tried first; the resolved addresses are then interleaved
    /// by family (RFC 8305 section 4). Default [`AddressFamily::Ipv6`].
    pub preferred_family: AddressFamily,
}

/// An IP address family, for [`NetOptions::preferred_family`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressFamily {
    /// IPv6 first, as RFC 8305 and RFC 6724 recommend. The default.
    #[default]
    Ipv6,
    /// IPv4 first.
    Ipv4,
}

impl Default for NetOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: None,
            write_timeout: None,
            deadline: Some(Duration::from_secs(60)),
            socket: SocketOptions::default(),
            proxy: ProxyConfig::default(),
            tls: TlsOptions::default(),
            resolver: None,
            attempt_delay: Duration::from_millis(250),
            preferred_family: AddressFamily::Ipv6,
        }
    }
}

impl fmt::Debug for NetOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("deadline", &self.deadline)
            .field("socket", &self.socket)
            .field("proxy", &self.proxy)
            .field("tls", &self.tls)
            .field("resolver", &self.resolver.as_ref().map(|_| "<custom>"))
            .field("attempt_delay", &self.attempt_delay)
            .field("preferred_family", &self.preferred_family)
            .finish()
    }
}

impl NetOptions {
    /// Sets the timeout of each TCP connect attempt; `None` leaves it to the OS.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the read timeout of the stream.
    #[must_use]
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Sets the write timeout of the stream.
    #[must_use]
    pub fn write_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Sets the overall deadline for connect + proxy + TLS; `None` means no deadline.
    #[must_use]
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the socket options.
    #[must_use]
    pub fn socket(mut self, socket: SocketOptions) -> Self {
        self.socket = socket;
        self
    }

    /// Sets the proxy selection.
    #[must_use]
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// Sets the TLS options.
    #[must_use]
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the Happy Eyeballs delay between connection attempts; `Duration::ZERO` tries
    /// one address at a time.
    #[must_use]
    pub fn attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = delay;
        self
    }

    /// Sets the address family tried first.
    #[must_use]
    pub fn preferred_family(mut self, family: AddressFamily) -> Self {
        self.preferred_family = family;
        self
    }

    /// The bound of each TLS handshake read and write: the shorter of the read and write
    /// timeouts.
    pub(crate) fn tls_handshake_timeout(&self) -> Option<Duration> {
        match (self.read_timeout, self.write_timeout) {
            (Some(r), Some(w)) => Some(r.min(w)),
            (r, w) => r.or(w),
        }
    }

    /// Replaces the system resolver (also used for proxy host names).
    #[must_use]
    pub fn resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }
}

/// TCP keepalive timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Keepalive {
    /// Idle time before the first probe. Default 30 s.
    pub idle: Duration,
    /// Time between probes, where the OS supports it. Default 10 s.
    pub interval: Duration,
    /// Number of probes, where the OS supports it. Default 3.
    pub count: u32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30),
            interval: Duration::from_secs(10),
            count: 3,
        }
    }
}

impl Keepalive {
    /// Keepalive with the given idle time, interval and probe count.
    pub fn new(idle: Duration, interval: Duration, count: u32) -> Self {
        Self {
            idle,
            interval,
            count,
        }
    }
}

/// Options applied to every socket this crate opens (to the server or to a proxy),
/// before it connects.
///
/// Defaults: `TCP_NODELAY` on, keepalive on (idle 30 s, interval 10 s, 3 probes), OS buffer
/// sizes, no hooks.
#[derive(Clone)]
#[non_exhaustive]
pub struct SocketOptions {
    /// `TCP_NODELAY`. Default `true`.
    pub nodelay: bool,
    /// TCP keepalive, `None` to turn it off. Default [`Keepalive::default`].
    pub keepalive: Option<Keepalive>,
    /// `SO_SNDBUF` in bytes. Default: the OS's.
    pub send_buffer_size: Option<usize>,
    /// `SO_RCVBUF` in bytes. Default: the OS's.
    pub recv_buffer_size: Option<usize>,
    /// Hooks run in order after the options above, before connect. Default none.
    #[cfg(any(unix, windows))]
    pub hooks: Vec<SocketHook>,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            nodelay: true,
            keepalive: Some(Keepalive::default()),
            send_buffer_size: None,
            recv_buffer_size: None,
            #[cfg(any(unix, windows))]
            hooks: Vec::new(),
        }
    }
}

impl fmt::Debug for SocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("SocketOptions");
        d.field("nodelay", &self.nodelay)
            .field("keepalive", &self.keepalive)
            .field("send_buffer_size", &self.send_buffer_size)
            .field("recv_buffer_size", &self.recv_buffer_size);
        #[cfg(any(unix, windows))]
        d.field("hooks", &self.hooks.len());
        d.finish()
    }
}

impl SocketOptions {
    /// Sets `TCP_NODELAY`.
    #[must_use]
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// Sets TCP keepalive; `None` turns it off.
    #[must_use]
    pub fn keepalive(mut self, keepalive: Option<Keepalive>) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Sets `SO_SNDBUF`.
    #[must_use]
    pub fn send_buffer_size(mut self, bytes: Option<usize>) -> Self {
        self.send_buffer_size = bytes;
        self
    }

    /// Sets `SO_RCVBUF`.
    #[must_use]
    pub fn recv_buffer_size(mut self, bytes: Option<usize>) -> Self {
        self.recv_buffer_size = bytes;
        self
    }

    /// Applies these options to a socket the caller connected (for [`Stream::from_tcp`]
    /// and [`Stream::wrap_tls`], which leave the socket as it is).
    ///
    /// [`Stream::from_tcp`]: crate::Stream::from_tcp
    /// [`Stream::wrap_tls`]: crate::Stream::wrap_tls
    ///
    /// # Errors
    ///
    /// [`Error::SocketOption`](crate::Error::SocketOption) naming the option the OS refused.
    pub fn apply_to(&self, tcp: &std::net::TcpStream) -> crate::Result<()> {
        crate::socket::apply(&socket2::SockRef::from(tcp), self)
    }

    /// Adds a hook run on each socket before connect (after the options above).
    #[cfg(any(unix, windows))]
    #[must_use]
    pub fn hook(mut self, hook: SocketHook) -> Self {
        self.hooks.push(hook);
        self
    }
}

/// The point in time by which connect + proxy + TLS (+ the WebSocket handshake) must be done.
///
/// [`connect_with_deadline`](crate::connect_with_deadline) takes one so that a caller
/// running the handshake afterwards can use [`Deadline::remaining`] for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Option<Instant>,
    total: Option<Duration>,
}

impl Deadline {
    /// A deadline `after` from now; `None` is no deadline.
    pub fn after(after: Option<Duration>) -> Self {
        Self {
            at: after.and_then(|d| Instant::now().checked_add(d)),
            total: after,
        }
    }

    /// No deadline.
    pub fn none() -> Self {
        Self {
            at: None,
            total: None,
        }
    }

    /// The instant, if any.
    pub fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// The whole duration the deadline was created with, if any.
    pub fn total(&self) -> Option<Duration> {
        self.total
    }

    /// Time left: `None` without a deadline, `Some(ZERO)` once it has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.at
            .map(|at| at.saturating_duration_since(Instant::now()))
    }

    /// Whether the deadline has passed.
    pub fn is_expired(&self) -> bool {
        self.remaining() == Some(Duration::ZERO)
    }

    /// The shorter of `timeout` and the remaining time, and whether the deadline is the
    /// limit. `(None, false)` means wait forever.
    pub fn clamp(&self, timeout: Option<Duration>) -> (Option<Duration>, bool) {
        match (timeout, self.remaining()) {
            (None, None) => (None, false),
            (None, Some(r)) => (Some(r), true),
            (Some(t), Some(r)) if r < t => (Some(r), true),
            (Some(t), _) => (Some(t), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_values() {
        let o = NetOptions::default();
        assert_eq!(o.connect_timeout, Some(Duration::from_secs(30)));
        assert_eq!(o.read_timeout, None);
        assert_eq!(o.write_timeout, None);
        assert_eq!(o.deadline, Some(Duration::from_secs(60)));
        assert!(matches!(o.proxy, ProxyConfig::FromEnv));
        assert_eq!(o.attempt_delay, Duration::from_millis(250));
        assert_eq!(o.preferred_family, AddressFamily::Ipv6);
        let s = SocketOptions::default();
        assert!(s.nodelay);
        assert_eq!(
            s.keepalive,
            Some(Keepalive::new(
                Duration::from_secs(30),
                Duration::from_secs(10),
                3
            ))
        );
        assert_eq!(s.send_buffer_size, None);
        assert_eq!(s.recv_buffer_size, None);
    }

    #[test]
    fn deadline_clamps_timeouts() {
        assert_eq!(Deadline::none().clamp(None), (None, false));
        let t = Some(Duration::from_secs(1));
        assert_eq!(Deadline::none().clamp(t), (t, false));
        let d = Deadline::after(Some(Duration::from_secs(100)));
        assert_eq!(d.clamp(t), (t, false));
        let (left, by_deadline) = d.clamp(None);
        assert!(by_deadline && left.unwrap() <= Duration::from_secs(100));
        let expired = Deadline::after(Some(Duration::ZERO));
        assert!(expired.is_expired());
        assert_eq!(expired.clamp(t), (Some(Duration::ZERO), true));
    }
}
