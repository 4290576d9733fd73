//! HTTP `CONNECT` tunnels.

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine as _;

use super::{Proxy, Timer, io_err};
use crate::endpoint::authority;
use crate::error::ProxyError;

/// The largest response head accepted from a proxy.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// Asks the proxy for a tunnel to `host:port` and reads its answer, byte-exactly: nothing
/// after the response head is consumed.
pub(super) fn connect(
    tcp: &mut TcpStream,
    proxy: &Proxy,
    host: &str,
    port: u16,
    timer: &Timer<'_>,
) -> Result<(), ProxyError> {
    let target = authority(host, port);
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, password)) = &proxy.auth {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str("Proxy-Authorization: Basic ");
        request.push_str(&token);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    timer
        .arm(tcp)
        .and_then(|()| tcp.write_all(request.as_bytes()))
        .map_err(io_err(proxy, "send CONNECT request"))?;
    let head = read_head(tcp, proxy, timer)?;
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head.len());
    let line = String::from_utf8_lossy(head.get(..line_end).unwrap_or_default());
    let status_line: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
    let malformed = |reason: String| ProxyError::Malformed {
        proxy: proxy.target(),
        protocol: "http",
        reason,
    };
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(malformed(format!(
            "status line {status_line:?} is not HTTP/1.x"
        )));
    }
    let status: u16 = parts
        .next()
        .filter(|s| s.len() == 3)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| malformed(format!("status line {status_line:?} has no status code")))?;
    match status {
        200..=299 => Ok(()),
        407 => Err(ProxyError::AuthenticationFailed {
            proxy: proxy.target(),
            status_line: if proxy.auth.is_some() {
                format!("{status_line} (the proxy rejected the credentials)")
            } else {
                format!("{status_line} (no credentials were configured)")
            },
        }),
        _ => Err(ProxyError::HttpStatus {
            proxy: proxy.target(),
            target,
            status,
            status_line,
        }),
    }
}

/// Reads up to and including the blank line ending the head, never past it.
///
/// Peeks at what arrived, consumes exactly the bytes that belong to the head, and blocks
/// in the next peek only when the end is not there yet.
fn read_head(tcp: &mut TcpStream, proxy: &Proxy, timer: &Timer<'_>) -> Result<Vec<u8>, ProxyError> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        let n = timer
            .arm(tcp)
            .and_then(|()| tcp.peek(&mut buf))
            .map_err(io_err(proxy, "read CONNECT response"))?;
        if n == 0 {
            return Err(ProxyError::Closed {
                proxy: proxy.target(),
                protocol: "http",
            });
        }
        let peeked = buf.get(..n).unwrap_or_default();
        let take = match find_end(&head, peeked) {
            Some(take) => take,
            None => n,
        };
        let mut chunk = vec![0u8; take];
        tcp.read_exact(&mut chunk)
            .map_err(io_err(proxy, "read CONNECT response"))?;
        head.extend_from_slice(&chunk);
        if head.ends_with(b"\r\n\r\n") {
            return Ok(head);
        }
        if head.len() > MAX_HEAD {
            return Err(ProxyError::HeadTooLarge {
                proxy: proxy.target(),
                limit: MAX_HEAD,
            });
        }
    }
}

/// How many bytes of `next` complete the `\r\n\r\n` that ends the head, if it is there.
fn find_end(head: &[u8], next: &[u8]) -> Option<usize> {
    let keep = head.len().min(3);
    let mut window = head.get(head.len() - keep..).unwrap_or_default().to_vec();
    window.extend_from_slice(next);
    window
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|pos| pos + 4 - keep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_the_head_across_reads() {
        assert_eq!(find_end(b"", b"HTTP/1.1 200 OK\r\n\r\nrest"), Some(19));
        assert_eq!(find_end(b"HTTP/1.1 200 OK\r\n", b"\r\nrest"), Some(2));
        assert_eq!(find_end(b"HTTP/1.1 200 OK\r\n\r", b"\nrest"), Some(1));
        assert_eq!(find_end(b"HTTP/1.1 200 OK\r", b"\n\r\n"), Some(3));
        assert_eq!(find_end(b"", b"HTTP/1.1 200 OK\r\n"), None);
    }
}
