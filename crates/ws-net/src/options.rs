//! [`NetOptions`] and [`SocketOptions`].

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

/// Everything [`connect`](crate::connect) needs besides the endpoint and the time
/// budget ([`Timeouts`](crate::Timeouts)): the resolver, Happy Eyeballs, socket options,
/// the proxy and TLS. Set them with the chained setters; each documents its default.
#[derive(Clone)]
#[must_use]
pub struct NetOptions {
    pub(crate) socket: SocketOptions,
    pub(crate) proxy: ProxyConfig,
    pub(crate) tls: TlsOptions,
    pub(crate) resolver: Option<Resolver>,
    pub(crate) attempt_delay: Duration,
    pub(crate) preferred_family: AddressFamily,
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
    /// The defaults listed on each setter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Options applied to every socket before it connects (`TCP_NODELAY`, keepalive,
    /// buffer sizes, hooks; Python's `sockopt`). Default: [`SocketOptions::default`].
    pub fn socket(mut self, socket: SocketOptions) -> Self {
        self.socket = socket;
        self
    }

    /// The proxy: from the environment (`http_proxy`, `https_proxy`, `all_proxy`,
    /// `no_proxy`), none, or explicit (HTTP CONNECT, SOCKS4/4a/5/5h).
    /// Default: [`ProxyConfig::FromEnv`].
    pub fn proxy(mut self, proxy: ProxyConfig) -> Self {
        self.proxy = proxy;
        self
    }

    /// TLS for `wss://` (roots, CA file, client certificate, SNI, ...; Python's
    /// `sslopt`). Default: [`TlsOptions::default`] (verify against the webpki roots).
    pub fn tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Replaces the system resolver (also used for proxy host names): `(host, port)` to
    /// the addresses to try. Default: the system resolver.
    pub fn resolver(mut self, resolver: Resolver) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Happy Eyeballs (RFC 8305): how long an attempt may stay pending before the next
    /// address is tried alongside it. The first to connect wins and the others are
    /// closed; an attempt that fails starts the next one at once. `Duration::ZERO` tries
    /// one address at a time. Default: 250 ms (RFC 8305 section 5).
    pub fn attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = delay;
        self
    }

    /// Which address family is tried first; the resolved addresses are then interleaved
    /// by family (RFC 8305 section 4). Default: [`AddressFamily::Ipv6`].
    pub fn preferred_family(mut self, family: AddressFamily) -> Self {
        self.preferred_family = family;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_values() {
        let o = NetOptions::default();
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
}
