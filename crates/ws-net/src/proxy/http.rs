//! The HTTP `CONNECT` handshake as a sans-IO machine: the request bytes, then the proxy's
//! response head fed in any split, never consuming a byte past the blank line that ends it.

use base64::Engine as _;

use super::Proxy;
use super::handshake::Progress;
use crate::endpoint::authority;
use crate::error::ProxyError;

/// The largest response head accepted from a proxy.
pub(crate) const MAX_HEAD: usize = 16 * 1024;

/// The bytes that end a response head.
const END: &[u8] = b"\r\n\r\n";

/// Waits for the proxy's answer to a `CONNECT` request.
pub(super) struct HttpConnect {
    proxy: String,
    target: String,
    with_auth: bool,
    head: Vec<u8>,
    /// The status code, once the status line is complete and valid.
    status: Option<(u16, String)>,
}

impl HttpConnect {
    /// The machine and the request to send, asking `proxy` for a tunnel to `host:port`.
    pub(super) fn new(proxy: &Proxy, host: &str, port: u16) -> (Self, Vec<u8>) {
        let target = authority(host, port);
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some((user, password)) = &proxy.auth {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            request.push_str("Proxy-Authorization: Basic ");
            request.push_str(&token);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        let machine = Self {
            proxy: proxy.target(),
            target,
            with_auth: proxy.auth.is_some(),
            head: Vec::new(),
            status: None,
        };
        (machine, request.into_bytes())
    }

    pub(super) fn proxy(&self) -> &str {
        &self.proxy
    }

    /// Takes response bytes up to the end of the head.
    pub(super) fn receive(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        for (i, &byte) in data.iter().enumerate() {
            if self.head.len() >= MAX_HEAD {
                return Err(ProxyError::HeadTooLarge {
                    proxy: self.proxy.clone(),
                    limit: MAX_HEAD,
                });
            }
            self.head.push(byte);
            if self.status.is_none() && self.head.ends_with(b"\r\n") {
                self.status = Some(self.status_line()?);
            }
            if self.head.ends_with(END) {
                self.finish()?;
                return Ok(Progress::Complete { consumed: i + 1 });
            }
        }
        Ok(Progress::Partial {
            consumed: data.len(),
            needed: self.needed(),
        })
    }

    /// The most bytes that can follow without passing the end of the head.
    fn needed(&self) -> usize {
        (1..END.len())
            .rev()
            .find(|&k| self.head.ends_with(END.get(..k).unwrap_or_default()))
            .map_or(END.len(), |k| END.len() - k)
    }

    /// Parses the status line (the head up to its first CRLF).
    fn status_line(&self) -> Result<(u16, String), ProxyError> {
        let line = self
            .head
            .get(..self.head.len().saturating_sub(2))
            .unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let status_line: String = line.chars().filter(|c| !c.is_control()).take(200).collect();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(self.malformed(format!("status line {status_line:?} is not HTTP/1.x")));
        }
        let status: u16 = parts
            .next()
            .filter(|s| s.len() == 3)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                self.malformed(format!("status line {status_line:?} has no status code"))
            })?;
        Ok((status, status_line))
    }

    /// Turns a complete head into the tunnel or a refusal.
    fn finish(&mut self) -> Result<(), ProxyError> {
        let Some((status, status_line)) = self.status.take() else {
            // Unreachable: the status line ends at the first CRLF, before the blank line.
            return Err(self.malformed("response has no status line".to_owned()));
        };
        match status {
            200..=299 => Ok(()),
            407 => Err(ProxyError::AuthenticationFailed {
                proxy: self.proxy.clone(),
                status_line: if self.with_auth {
                    format!("{status_line} (the proxy rejected the credentials)")
                } else {
                    format!("{status_line} (no credentials were configured)")
                },
            }),
            _ => Err(ProxyError::HttpStatus {
                proxy: self.proxy.clone(),
                target: self.target.clone(),
                status,
                status_line,
            }),
        }
    }

    fn malformed(&self, reason: String) -> ProxyError {
        ProxyError::Malformed {
            proxy: self.proxy.clone(),
            protocol: "http",
            reason,
        }
    }
}
