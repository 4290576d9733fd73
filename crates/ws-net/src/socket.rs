//! Resolving host names and opening configured TCP sockets, trying every address in order.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, SockAddr, Socket, TcpKeepalive, Type};

use crate::endpoint::authority;
use crate::error::{Error, Result};
use crate::options::{Deadline, NetOptions, SocketOptions};

/// Resolves `host` (an IP literal is used as is) with the configured resolver.
pub(crate) fn resolve(host: &str, port: u16, options: &NetOptions) -> Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let resolved = match &options.resolver {
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

/// Resolves `host` and connects to each address in turn until one accepts.
///
/// Each attempt is limited by `timeout` and by the deadline; every failure is kept.
pub(crate) fn connect_host(
    peer: &'static str,
    host: &str,
    port: u16,
    timeout: Option<Duration>,
    options: &NetOptions,
    deadline: &Deadline,
) -> Result<TcpStream> {
    let addrs = resolve(host, port, options)?;
    let mut attempts = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let (limit, by_deadline) = deadline.clamp(timeout);
        if limit == Some(Duration::ZERO) {
            return Err(deadline_timeout("tcp connect", host, port, deadline));
        }
        log::debug!("connecting to {peer} {host}:{port} at {addr}");
        match connect_addr(addr, limit, &options.socket) {
            Ok(tcp) => return Ok(tcp),
            Err(ConnectFailure::Option(err)) => return Err(err),
            Err(ConnectFailure::Connect(err)) => {
                log::debug!("connect to {addr} failed: {err}");
                if by_deadline && err.kind() == io::ErrorKind::TimedOut {
                    return Err(deadline_timeout("tcp connect", host, port, deadline));
                }
                attempts.push((addr, err));
            }
        }
    }
    Err(Error::Connect {
        peer,
        host: host.to_owned(),
        port,
        attempts,
    })
}

/// The error for an operation stopped by the overall deadline.
pub(crate) fn deadline_timeout(
    op: &'static str,
    host: &str,
    port: u16,
    deadline: &Deadline,
) -> Error {
    Error::Timeout {
        op,
        target: authority(host, port),
        after: deadline.total().unwrap_or_default(),
        overall_deadline: true,
    }
}

enum ConnectFailure {
    Option(Error),
    Connect(io::Error),
}

fn connect_addr(
    addr: SocketAddr,
    timeout: Option<Duration>,
    options: &SocketOptions,
) -> Result<TcpStream, ConnectFailure> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
        .map_err(ConnectFailure::Connect)?;
    apply(&socket, options).map_err(ConnectFailure::Option)?;
    let target = SockAddr::from(addr);
    match timeout {
        Some(t) => socket.connect_timeout(&target, t.max(Duration::from_millis(1))),
        None => socket.connect(&target),
    }
    .map_err(ConnectFailure::Connect)?;
    Ok(socket.into())
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
