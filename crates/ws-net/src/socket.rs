//! Resolving host names and opening configured TCP sockets with Happy Eyeballs (RFC 8305).

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};

use crate::budget::{Budget, Limit};
use crate::endpoint::authority;
use crate::error::{Error, Phase, Result};
use crate::options::{AddressFamily, NetOptions, Resolver, SocketOptions};

/// Resolves `host` (an IP literal is used as is) with the configured resolver.
pub(crate) fn resolve(host: &str, port: u16, options: &NetOptions) -> Result<Vec<SocketAddr>> {
    resolve_with(host, port, options.resolver.as_ref())
}

/// Resolves `host` with `resolver`, or the system resolver when it is `None`.
pub(crate) fn resolve_with(
    host: &str,
    port: u16,
    resolver: Option<&Resolver>,
) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let resolved = match resolver {
        Some(resolver) => resolver(host, port),
        None => (host, port).to_socket_addrs().map(Iterator::collect),
    };
    let addrs = resolved.map_err(|source| Error::Resolve {
        host: host.to_owned(),
        port,
        source,
    })?;
    if addrs.is_empty() {
        return Err(Error::NoAddresses {
            host: host.to_owned(),
            port,
        });
    }
    Ok(addrs)
}

/// Resolves `host` and connects with Happy Eyeballs (RFC 8305): the addresses interleaved
/// by family, the next attempt started when the previous one fails or has been pending
/// for [`NetOptions::attempt_delay`], the first connection kept and the others closed.
///
/// Each attempt is limited by `timeout` and all of them by the deadline; every failure is
/// kept, in the order the attempts started.
pub(crate) fn connect_host(
    peer: &'static str,
    host: &str,
    port: u16,
    timeout: Option<Duration>,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TcpStream> {
    let addrs = interleave(resolve(host, port, options)?, options.preferred_family);
    let io = |op: &'static str| {
        move |source| Error::Io {
            op,
            target: authority(host, port),
            source,
        }
    };
    let mut poll = Poll::new().map_err(io("create connect poller"))?;
    let mut events = Events::with_capacity(addrs.len());
    let mut race = Race {
        pending: Vec::new(),
        failed: Vec::new(),
    };
    let mut next = addrs.iter().copied().enumerate();
    let mut next_start = Some(Instant::now());
    loop {
        let now = Instant::now();
        if budget.is_spent() {
            return Err(budget.spent(Phase::TcpConnect, authority(host, port)));
        }
        race.expire(now);
        while next_start.is_some_and(|at| at <= now) || race.pending.is_empty() {
            let Some((index, addr)) = next.next() else {
                next_start = None;
                break;
            };
            log::debug!("connecting to {peer} {host}:{port} at {addr}");
            let limit = budget.limit(timeout).map(Limit::wait);
            match start(addr, &options.socket) {
                Ok(Started::Connected(tcp)) => return Ok(tcp),
                Ok(Started::Pending(tcp)) => {
                    let mut stream = mio::net::TcpStream::from_std(tcp);
                    poll.registry()
                        .register(&mut stream, Token(index), Interest::WRITABLE)
                        .map_err(io("register connect attempt"))?;
                    race.pending.push(Attempt {
                        index,
                        addr,
                        stream,
                        expires: limit.and_then(|l| now.checked_add(l)),
                        timeout: limit,
                    });
                    next_start = now.checked_add(options.attempt_delay);
                    if !options.attempt_delay.is_zero() {
                        break;
                    }
                    // Zero delay: one attempt at a time.
                    next_start = None;
                }
                Err(ConnectFailure::Option(err)) => return Err(err),
                Err(ConnectFailure::Connect(err)) => race.fail(index, addr, err),
            }
        }
        if race.pending.is_empty() {
            race.failed.sort_by_key(|(index, ..)| *index);
            return Err(Error::Connect {
                peer,
                host: host.to_owned(),
                port,
                attempts: race.failed.into_iter().map(|(_, a, e)| (a, e)).collect(),
            });
        }
        let wait = race
            .pending
            .iter()
            .filter_map(|a| a.expires)
            .chain(next_start)
            .chain(budget.ends())
            .min()
            .map(|at| at.saturating_duration_since(now));
        match poll.poll(&mut events, wait) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("wait for connect")(e)),
        }
        let (winner, any_failed) = race.on_events(&events);
        if let Some(mut winner) = winner {
            // The losers are closed when `race` drops.
            let _ = poll.registry().deregister(&mut winner.stream);
            let tcp = TcpStream::from(winner.stream);
            tcp.set_nonblocking(false)
                .map_err(io("make the socket blocking"))?;
            log::debug!("connected to {peer} {host}:{port} at {}", winner.addr);
            return Ok(tcp);
        }
        if any_failed {
            // A failure starts the next attempt at once.
            next_start = Some(now);
        }
    }
}

/// Orders addresses as RFC 8305 section 4 says: the preferred family first, then the
/// families alternating, each family keeping the resolver's order.
pub(crate) fn interleave(addrs: Vec<SocketAddr>, preferred: AddressFamily) -> Vec<SocketAddr> {
    let prefer_v6 = preferred == AddressFamily::Ipv6;
    let (mut first, mut second): (Vec<_>, Vec<_>) =
        addrs.into_iter().partition(|a| a.is_ipv6() == prefer_v6);
    if first.is_empty() {
        return second;
    }
    let mut out = Vec::with_capacity(first.len() + second.len());
    let mut second_iter = second.drain(..);
    for addr in first.drain(..) {
        out.push(addr);
        out.extend(second_iter.next());
    }
    out.extend(second_iter);
    out
}

/// The attempts of one connect: those in flight and those that failed.
struct Race {
    pending: Vec<Attempt>,
    /// `(start order, address, error)`.
    failed: Vec<(usize, SocketAddr, io::Error)>,
}

impl Race {
    fn fail(&mut self, index: usize, addr: SocketAddr, err: io::Error) {
        log::debug!("connect to {addr} failed: {err}");
        self.failed.push((index, addr, err));
    }

    /// Acts on readiness events: returns the first attempt that connected, if any, and
    /// whether any attempt failed.
    fn on_events(&mut self, events: &Events) -> (Option<Attempt>, bool) {
        let mut any_failed = false;
        for event in events {
            let Some(at) = self
                .pending
                .iter()
                .position(|a| Token(a.index) == event.token())
            else {
                continue;
            };
            match self.pending.get(at).map(Attempt::outcome) {
                Some(Outcome::Connected) => {
                    return (Some(self.pending.swap_remove(at)), any_failed);
                }
                Some(Outcome::Failed(err)) => {
                    let lost = self.pending.swap_remove(at);
                    self.fail(lost.index, lost.addr, err);
                    any_failed = true;
                }
                Some(Outcome::Pending) | None => {}
            }
        }
        (None, any_failed)
    }

    /// Fails the attempts whose connect timeout has passed.
    fn expire(&mut self, now: Instant) {
        let (expired, pending) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|a| a.expires.is_some_and(|at| at <= now));
        self.pending = pending;
        for attempt in expired {
            let Attempt {
                index,
                addr,
                timeout,
                ..
            } = attempt;
            self.fail(index, addr, timed_out(timeout.unwrap_or_default()));
        }
    }
}

/// One connect in flight on a non-blocking socket.
struct Attempt {
    index: usize,
    addr: SocketAddr,
    stream: mio::net::TcpStream,
    expires: Option<Instant>,
    timeout: Option<Duration>,
}

enum Outcome {
    Connected,
    Failed(io::Error),
    Pending,
}

impl Attempt {
    /// What a writable event on the socket means.
    fn outcome(&self) -> Outcome {
        match self.stream.take_error() {
            Ok(Some(err)) | Err(err) => return Outcome::Failed(err),
            Ok(None) => {}
        }
        match self.stream.peer_addr() {
            Ok(_) => Outcome::Connected,
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Outcome::Pending,
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// A connect just started: done at once (blocking again), or under way (non-blocking).
pub(crate) enum Started {
    Connected(TcpStream),
    Pending(TcpStream),
}

/// Opens a socket with the options applied and starts a non-blocking connect.
pub(crate) fn start(addr: SocketAddr, options: &SocketOptions) -> Result<Started, ConnectFailure> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(ConnectFailure::Connect)?;
    apply(&socket, options).map_err(ConnectFailure::Option)?;
    socket
        .set_nonblocking(true)
        .map_err(ConnectFailure::Connect)?;
    match socket.connect(&SockAddr::from(addr)) {
        Ok(()) => {
            socket
                .set_nonblocking(false)
                .map_err(ConnectFailure::Connect)?;
            Ok(Started::Connected(socket.into()))
        }
        Err(e) if in_progress(&e) => Ok(Started::Pending(socket.into())),
        Err(e) => Err(ConnectFailure::Connect(e)),
    }
}

/// The failure of an attempt that got no answer within its connect timeout.
pub(crate) fn timed_out(after: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("connect timed out after {after:?}"),
    )
}

/// Whether a non-blocking connect is under way rather than failed.
fn in_progress(err: &io::Error) -> bool {
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::EINPROGRESS) {
        return true;
    }
    err.kind() == io::ErrorKind::WouldBlock
}

pub(crate) enum ConnectFailure {
    Option(Error),
    Connect(io::Error),
}

/// Applies the options to a socket (connected or not).
pub(crate) fn apply(socket: &Socket, options: &SocketOptions) -> Result<()> {
    let opt = |option: &'static str| move |source| Error::SocketOption { option, source };
    socket
        .set_tcp_nodelay(options.nodelay)
        .map_err(opt("TCP_NODELAY"))?;
    if let Some(ka) = options.keepalive {
        let params = TcpKeepalive::new().with_time(ka.idle);
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios",
            target_os = "freebsd",
            target_os = "netbsd",
            windows
        ))]
        let params = params.with_interval(ka.interval);
        #[cfg(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "ios",
            target_os = "freebsd",
            target_os = "netbsd"
        ))]
        let params = params.with_retries(ka.count);
        socket
            .set_tcp_keepalive(&params)
            .map_err(opt("SO_KEEPALIVE"))?;
    }
    if let Some(size) = options.send_buffer_size {
        socket
            .set_send_buffer_size(size)
            .map_err(opt("SO_SNDBUF"))?;
    }
    if let Some(size) = options.recv_buffer_size {
        socket
            .set_recv_buffer_size(size)
            .map_err(opt("SO_RCVBUF"))?;
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        for hook in &options.hooks {
            hook(socket.as_fd()).map_err(opt("custom option hook"))?;
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsSocket;
        for hook in &options.hooks {
            hook(socket.as_socket()).map_err(opt("custom option hook"))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Keepalive;

    #[test]
    fn applies_socket_options_before_connect() {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        let options = SocketOptions::default()
            .keepalive(Some(Keepalive::new(
                Duration::from_secs(31),
                Duration::from_secs(11),
                4,
            )))
            .recv_buffer_size(Some(64 * 1024));
        apply(&socket, &options).unwrap();
        assert!(socket.tcp_nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        #[cfg(target_os = "linux")]
        {
            assert_eq!(
                socket.tcp_keepalive_time().unwrap(),
                Duration::from_secs(31)
            );
            assert_eq!(
                socket.tcp_keepalive_interval().unwrap(),
                Duration::from_secs(11)
            );
            assert_eq!(socket.tcp_keepalive_retries().unwrap(), 4);
        }
        assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
        let off = SocketOptions::default().nodelay(false).keepalive(None);
        let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        apply(&socket, &off).unwrap();
        assert!(!socket.tcp_nodelay().unwrap());
        assert!(!socket.keepalive().unwrap());
    }

    #[test]
    fn addresses_are_interleaved_by_family_preferred_first() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let (v4a, v4b, v4c) = (a("10.0.0.1:1"), a("10.0.0.2:1"), a("10.0.0.3:1"));
        let (v6a, v6b) = (a("[::1]:1"), a("[::2]:1"));
        let resolved = vec![v4a, v4b, v4c, v6a, v6b];
        assert_eq!(
            interleave(resolved.clone(), AddressFamily::Ipv6),
            vec![v6a, v4a, v6b, v4b, v4c]
        );
        assert_eq!(
            interleave(resolved, AddressFamily::Ipv4),
            vec![v4a, v6a, v4b, v6b, v4c]
        );
        assert_eq!(
            interleave(vec![v4b, v4a], AddressFamily::Ipv6),
            vec![v4b, v4a],
            "a single family keeps the resolver's order"
        );
    }

    #[test]
    fn ip_literals_skip_the_resolver() {
        let options = NetOptions::default().resolver(std::sync::Arc::new(|_: &str, _| {
            Err(io::Error::other("resolver must not be called"))
        }));
        assert_eq!(
            resolve("::1", 80, &options).unwrap(),
            vec!["[::1]:80".parse().unwrap()]
        );
        let err = resolve("example.invalid", 80, &options).unwrap_err();
        assert!(
            matches!(err, Error::Resolve { ref host, port: 80, .. } if host == "example.invalid")
        );
    }
}
