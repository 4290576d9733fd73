//! SOCKS4, SOCKS4a (no RFC; the 1990s NEC papers) and SOCKS5 (RFC 1928, RFC 1929)
//! handshakes as sans-IO machines: request bytes out, reply bytes in any split, never a
//! byte past the reply consumed.

use std::net::IpAddr;

use super::handshake::Progress;
use super::{Proxy, ProxyKind, Target};
use crate::endpoint::authority;
use crate::error::ProxyError;

/// Collects a reply part of known length from input of any split.
#[derive(Debug, Default)]
struct Collect {
    buf: Vec<u8>,
    want: usize,
}

impl Collect {
    fn expect(&mut self, want: usize) {
        self.buf.clear();
        self.want = want;
    }

    /// Takes what is missing from `data`; returns how many bytes were taken.
    fn take(&mut self, data: &[u8]) -> usize {
        let n = self.missing().min(data.len());
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        n
    }

    fn missing(&self) -> usize {
        self.want - self.buf.len()
    }
}

/// Waits for the 8-byte SOCKS4 reply.
pub(super) struct Socks4 {
    proxy: String,
    target: String,
    reply: Collect,
}

impl Socks4 {
    /// The machine and its CONNECT request (SOCKS4a when `target` is a name).
    pub(super) fn new(
        proxy: &Proxy,
        target: &Target,
        port: u16,
    ) -> Result<(Self, Vec<u8>), ProxyError> {
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
        let mut reply = Collect::default();
        reply.expect(8);
        let machine = Self {
            proxy: proxy.target(),
            target: target_text(target, port),
            reply,
        };
        Ok((machine, request))
    }

    pub(super) fn proxy(&self) -> &str {
        &self.proxy
    }

    pub(super) fn receive(&mut self, data: &[u8]) -> Result<Progress, ProxyError> {
        let consumed = self.reply.take(data);
        if self.reply.missing() > 0 {
            return Ok(Progress::Partial {
                consumed,
                needed: self.reply.missing(),
            });
        }
        let (version, code) = match self.reply.buf.as_slice() {
            [version, code, ..] => (*version, *code),
            _ => (0, 0),
        };
        if version != 0 {
            return Err(malformed(
                &self.proxy,
                "socks4",
                format!("reply version is {version}, expected 0"),
            ));
        }
        let reason = match code {
            0x5a => return Ok(Progress::Complete { consumed }),
            0x5b => "request rejected or failed",
            0x5c => "the proxy cannot reach the client's identd",
            0x5d => "identd reported a different user id",
            _ => "unknown reply code",
        };
        Err(ProxyError::Socks4Rejected {
            proxy: self.proxy.clone(),
            target: self.target.clone(),
            code,
            reason,
        })
    }
}

/// Where a SOCKS5 exchange stands: which reply is being collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The method choice (2 bytes).
    Greeting,
    /// The RFC 1929 status (2 bytes).
    Auth,
    /// The CONNECT reply up to the bound address type (4 bytes).
    Reply,
    /// The length of a bound domain name (1 byte).
    BoundNameLength,
    /// The bound address and port.
    Bound,
    /// The tunnel is open.
    Done,
}

/// The SOCKS5 greeting, optional username/password sub-negotiation and CONNECT.
pub(super) struct Socks5 {
    proxy: String,
    target: String,
    offered: &'static str,
    /// The RFC 1929 request, when credentials are set. Holds the password.
    auth: Option<Vec<u8>>,
    request: Vec<u8>,
    state: State,
    reply: Collect,
}

impl Socks5 {
    /// The machine and its greeting. Names too long for the protocol are refused here,
    /// before any byte is sent.
    pub(super) fn new(
        proxy: &Proxy,
        target: &Target,
        port: u16,
    ) -> Result<(Self, Vec<u8>), ProxyError> {
        let (greeting, offered) = if proxy.auth.is_some() {
            (vec![5, 2, 0, 2], "no authentication, username/password")
        } else {
            (vec![5, 1, 0], "no authentication")
        };
        let auth = match &proxy.auth {
            None => None,
            Some((user, password)) => {
                let ulen = u8::try_from(user.len())
                    .map_err(|_| config("socks5 user name longer than 255 bytes"))?;
                let plen = u8::try_from(password.len())
                    .map_err(|_| config("socks5 password longer than 255 bytes"))?;
                let mut request = vec![1, ulen];
                request.extend_from_slice(user.as_bytes());
                request.push(plen);
                request.extend_from_slice(password.as_bytes());
                Some(request)
            }
        };
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
        let mut reply = Collect::default();
        reply.expect(2);
        let machine = Self {
            proxy: proxy.target(),
            target: target_text(target, port),
            offered,
            auth,
            request,
            state: State::Greeting,
            reply,
        };
        Ok((machine, greeting))
    }

    pub(super) fn proxy(&self) -> &str {
        &self.proxy
    }

    /// What the pending bytes are, for I/O error messages.
    pub(super) fn sending(&self) -> &'static str {
        match self.state {
            State::Greeting => "send socks5 greeting",
            State::Auth => "send socks5 credentials",
            _ => "send socks5 request",
        }
    }

    /// Takes reply bytes; bytes to send next go to `out`.
    pub(super) fn receive(
        &mut self,
        data: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Progress, ProxyError> {
        let mut consumed = 0;
        loop {
            if self.state == State::Done {
                return Ok(Progress::Complete { consumed });
            }
            consumed += self.reply.take(data.get(consumed..).unwrap_or_default());
            if self.reply.missing() > 0 {
                return Ok(Progress::Partial {
                    consumed,
                    needed: self.reply.missing(),
                });
            }
            if let Some(next) = self.step()? {
                out.extend_from_slice(&next);
                // The proxy answers only after these bytes; the driver sends them first.
                return Ok(Progress::Partial {
                    consumed,
                    needed: self.reply.missing(),
                });
            }
        }
    }

    /// Acts on a complete reply part; returns the next request to send, if any.
    fn step(&mut self) -> Result<Option<Vec<u8>>, ProxyError> {
        let reply = std::mem::take(&mut self.reply.buf);
        match (self.state, reply.as_slice()) {
            (State::Greeting, &[version, method]) => self.chosen(version, method),
            (State::Auth, &[version, status]) => {
                if version != 1 {
                    return Err(self.malformed(format!(
                        "authentication reply version is {version}, expected 1"
                    )));
                }
                if status != 0 {
                    return Err(ProxyError::Socks5AuthFailed {
                        proxy: self.proxy.clone(),
                        status,
                    });
                }
                Ok(Some(self.send_request()))
            }
            (State::Reply, &[version, code, _, atyp]) => {
                self.replied(version, code, atyp)?;
                Ok(None)
            }
            (State::BoundNameLength, &[len]) => {
                self.state = State::Bound;
                self.reply.expect(usize::from(len) + 2);
                Ok(None)
            }
            (State::Bound, _) => {
                self.state = State::Done;
                self.reply.expect(0);
                Ok(None)
            }
            // Unreachable: each state collects exactly the bytes matched above.
            (state, _) => Err(self.malformed(format!("reply does not fit state {state:?}"))),
        }
    }

    /// Handles the method the proxy chose from the greeting.
    fn chosen(&mut self, version: u8, method: u8) -> Result<Option<Vec<u8>>, ProxyError> {
        if version != 5 {
            return Err(self.malformed(format!("greeting reply version is {version}, expected 5")));
        }
        match (method, self.auth.take()) {
            (0, _) => Ok(Some(self.send_request())),
            (2, Some(auth)) => {
                self.state = State::Auth;
                self.reply.expect(2);
                Ok(Some(auth))
            }
            (0xff, _) => Err(ProxyError::Socks5NoAcceptableAuth {
                proxy: self.proxy.clone(),
                offered: self.offered,
            }),
            (method, _) => Err(self.malformed(format!(
                "proxy chose authentication method {method:#04x}, which was not offered"
            ))),
        }
    }

    fn send_request(&mut self) -> Vec<u8> {
        self.state = State::Reply;
        self.reply.expect(4);
        std::mem::take(&mut self.request)
    }

    /// Handles the head of the CONNECT reply and sizes the bound address to skip.
    fn replied(&mut self, version: u8, code: u8, atyp: u8) -> Result<(), ProxyError> {
        if version != 5 {
            return Err(self.malformed(format!("reply version is {version}, expected 5")));
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
                proxy: self.proxy.clone(),
                target: self.target.clone(),
                code,
                reason,
            });
        }
        // The bound address and port are skipped so the tunnel starts clean.
        let (state, want) = match atyp {
            1 => (State::Bound, 4 + 2),
            4 => (State::Bound, 16 + 2),
            3 => (State::BoundNameLength, 1),
            other => {
                return Err(self.malformed(format!("unknown bound address type {other}")));
            }
        };
        self.state = state;
        self.reply.expect(want);
        Ok(())
    }

    fn malformed(&self, reason: String) -> ProxyError {
        malformed(&self.proxy, "socks5", reason)
    }
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

fn malformed(proxy: &str, protocol: &'static str, reason: String) -> ProxyError {
    ProxyError::Malformed {
        proxy: proxy.to_owned(),
        protocol,
        reason,
    }
}
