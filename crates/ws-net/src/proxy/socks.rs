//! SOCKS4, SOCKS4a (no RFC; the 1990s NEC papers) and SOCKS5 (RFC 1928, RFC 1929) tunnels.

use std::io::{Read, Write};
use std::net::{IpAddr, TcpStream};

use super::{Proxy, ProxyKind, Target, Timer, io_err};
use crate::endpoint::authority;
use crate::error::ProxyError;

/// Runs the SOCKS4 or SOCKS4a CONNECT exchange.
pub(super) fn connect_v4(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    target: &Target,
    port: u16,
    timer: &Timer<'_>,
) -> Result<(), ProxyError> {
    let mut request = vec![4, 1];
    request.extend_from_slice(&port.to_be_bytes());
    let user = proxy.auth.as_ref().map_or("", |(u, _)| u.as_str());
    if user.contains('\0') {
        return Err(config("socks4 user id contains a NUL byte"));
    }
    match target {
        Target::Addr(IpAddr::V4(ip)) => {
            request.extend_from_slice(&ip.octets());
            request.extend_from_slice(user.as_bytes());
            request.push(0);
        }
        Target::Addr(IpAddr::V6(ip)) => {
            return Err(config(&format!(
                "socks4 cannot reach the IPv6 address {ip} (use socks5)"
            )));
        }
        Target::Name(name) => {
            if proxy.kind == ProxyKind::Socks4 {
                return Err(config("socks4 needs a resolved IPv4 address"));
            }
            if name.contains('\0') {
                return Err(config("host name contains a NUL byte"));
            }
            // SOCKS4a: 0.0.0.x with x != 0 means "the name follows".
            request.extend_from_slice(&[0, 0, 0, 1]);
            request.extend_from_slice(user.as_bytes());
            request.push(0);
            request.extend_from_slice(name.as_bytes());
            request.push(0);
        }
    }
    timer
        .arm(tcp)
        .and_then(|()| tcp.write_all(&request))
        .map_err(io_err(proxy, "send socks4 request"))?;
    let mut reply = [0u8; 8];
    read_reply(tcp, proxy, timer, "socks4", &mut reply)?;
    let [version, code, ..] = reply;
    if version != 0 {
        return Err(malformed(
            proxy,
            "socks4",
            format!("reply version is {version}, expected 0"),
        ));
    }
    let reason = match code {
        0x5a => return Ok(()),
        0x5b => "request rejected or failed",
        0x5c => "the proxy cannot reach the client's identd",
        0x5d => "identd reported a different user id",
        _ => "unknown reply code",
    };
    Err(ProxyError::Socks4Rejected {
        proxy: proxy.target(),
        target: target_text(target, port),
        code,
        reason,
    })
}

/// Runs the SOCKS5 greeting, optional username/password authentication and CONNECT.
#[allow(
    clippy::too_many_lines,
    reason = "one linear protocol exchange reads best in one piece"
)]
pub(super) fn connect_v5(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    target: &Target,
    port: u16,
    timer: &Timer<'_>,
) -> Result<(), ProxyError> {
    let (greeting, offered): (&[u8], _) = if proxy.auth.is_some() {
        (&[5, 2, 0, 2], "no authentication, username/password")
    } else {
        (&[5, 1, 0], "no authentication")
    };
    timer
        .arm(tcp)
        .and_then(|()| tcp.write_all(greeting))
        .map_err(io_err(proxy, "send socks5 greeting"))?;
    let mut choice = [0u8; 2];
    read_reply(tcp, proxy, timer, "socks5", &mut choice)?;
    if choice[0] != 5 {
        return Err(malformed(
            proxy,
            "socks5",
            format!("greeting reply version is {}, expected 5", choice[0]),
        ));
    }
    match (choice[1], &proxy.auth) {
        (0, _) => {}
        (2, Some((user, password))) => authenticate(tcp, proxy, timer, user, password)?,
        (0xff, _) => {
            return Err(ProxyError::Socks5NoAcceptableAuth {
                proxy: proxy.target(),
                offered,
            });
        }
        (method, _) => {
            return Err(malformed(
                proxy,
                "socks5",
                format!("proxy chose authentication method {method:#04x}, which was not offered"),
            ));
        }
    }
    let mut request = vec![5, 1, 0];
    match target {
        Target::Addr(IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Target::Addr(IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Target::Name(name) => {
            let len = u8::try_from(name.len())
                .map_err(|_| config("host name longer than 255 bytes for socks5"))?;
            request.push(3);
            request.push(len);
            request.extend_from_slice(name.as_bytes());
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    timer
        .arm(tcp)
        .and_then(|()| tcp.write_all(&request))
        .map_err(io_err(proxy, "send socks5 request"))?;
    let mut head = [0u8; 4];
    read_reply(tcp, proxy, timer, "socks5", &mut head)?;
    let [version, code, _, atyp] = head;
    if version != 5 {
        return Err(malformed(
            proxy,
            "socks5",
            format!("reply version is {version}, expected 5"),
        ));
    }
    if code != 0 {
        let reason = match code {
            1 => "general socks server failure",
            2 => "connection not allowed by ruleset",
            3 => "network unreachable",
            4 => "host unreachable",
            5 => "connection refused",
            6 => "ttl expired",
            7 => "command not supported",
            8 => "address type not supported",
            _ => "unassigned reply code",
        };
        return Err(ProxyError::Socks5Rejected {
            proxy: proxy.target(),
            target: target_text(target, port),
            code,
            reason,
        });
    }
    // Skip the bound address and port so the tunnel starts clean.
    let rest = match atyp {
        1 => 4 + 2,
        4 => 16 + 2,
        3 => {
            let mut len = [0u8; 1];
            read_reply(tcp, proxy, timer, "socks5", &mut len)?;
            usize::from(len[0]) + 2
        }
        other => {
            return Err(malformed(
                proxy,
                "socks5",
                format!("unknown bound address type {other}"),
            ));
        }
    };
    let mut skip = vec![0u8; rest];
    read_reply(tcp, proxy, timer, "socks5", &mut skip)
}

/// RFC 1929 username/password sub-negotiation.
fn authenticate(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    timer: &Timer<'_>,
    user: &str,
    password: &str,
) -> Result<(), ProxyError> {
    let ulen =
        u8::try_from(user.len()).map_err(|_| config("socks5 user name longer than 255 bytes"))?;
    let plen = u8::try_from(password.len())
        .map_err(|_| config("socks5 password longer than 255 bytes"))?;
    let mut request = vec![1, ulen];
    request.extend_from_slice(user.as_bytes());
    request.push(plen);
    request.extend_from_slice(password.as_bytes());
    timer
        .arm(tcp)
        .and_then(|()| tcp.write_all(&request))
        .map_err(io_err(proxy, "send socks5 credentials"))?;
    let mut reply = [0u8; 2];
    read_reply(tcp, proxy, timer, "socks5", &mut reply)?;
    match reply {
        [1, 0] => Ok(()),
        [1, status] => Err(ProxyError::Socks5AuthFailed {
            proxy: proxy.target(),
            status,
        }),
        [version, _] => Err(malformed(
            proxy,
            "socks5",
            format!("authentication reply version is {version}, expected 1"),
        )),
    }
}

fn read_reply(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    timer: &Timer<'_>,
    protocol: &'static str,
    buf: &mut [u8],
) -> Result<(), ProxyError> {
    timer
        .arm(tcp)
        .and_then(|()| tcp.read_exact(buf))
        .map_err(|source| {
            if source.kind() == std::io::ErrorKind::UnexpectedEof {
                ProxyError::Closed {
                    proxy: proxy.target(),
                    protocol,
                }
            } else {
                io_err(proxy, "read socks reply")(source)
            }
        })
}

fn target_text(target: &Target, port: u16) -> String {
    match target {
        Target::Name(name) => authority(name, port),
        Target::Addr(ip) => authority(&ip.to_string(), port),
    }
}

fn config(reason: &str) -> ProxyError {
    ProxyError::Config {
        reason: reason.to_owned(),
    }
}

fn malformed(proxy: &Proxy, protocol: &'static str, reason: String) -> ProxyError {
    ProxyError::Malformed {
        proxy: proxy.target(),
        protocol,
        reason,
    }
}
