//! Proxy selection ([`ProxyConfig`], [`Proxy`], [`NoProxy`]) and tunnelling through
//! HTTP CONNECT, SOCKS4, SOCKS4a, SOCKS5 and SOCKS5h proxies.

mod env;
mod handshake;
mod http;
mod no_proxy;
mod socks;

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

pub use self::handshake::{Progress, ProxyHandshake};
pub use self::no_proxy::NoProxy;
use crate::budget::{Budget, arm, timed_out};
use crate::endpoint::{Endpoint, authority, percent_decode};
use crate::error::{Error, Phase, ProxyError, Result};
use crate::options::NetOptions;
use crate::socket::{connect_host, resolve};

/// Which proxy, if any, to use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyConfig {
    /// Read `http_proxy`/`HTTP_PROXY` (for `ws://`), `https_proxy`/`HTTPS_PROXY` (for
    /// `wss://`), then `all_proxy`/`ALL_PROXY`, skipping hosts matched by
    /// `no_proxy`/`NO_PROXY`. Lower case wins. The default.
    #[default]
    FromEnv,
    /// Connect directly, whatever the environment says.
    None,
    /// Use this proxy (unless its own no-proxy list matches the host).
    Explicit(Proxy),
}

impl ProxyConfig {
    /// The proxy to use for `endpoint`, reading the process environment.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] when an environment variable holds an unusable proxy URL.
    pub fn select(&self, endpoint: &Endpoint) -> Result<Option<Proxy>, ProxyError> {
        self.select_with(endpoint, |name| std::env::var(name).ok())
    }

    /// The proxy to use for `endpoint`, reading variables through `env` (for tests and
    /// for callers with their own environment).
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] when a variable holds an unusable proxy URL.
    pub fn select_with(
        &self,
        endpoint: &Endpoint,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, ProxyError> {
        match self {
            Self::None => Ok(None),
            Self::Explicit(proxy) => {
                let skip = proxy
                    .no_proxy
                    .as_ref()
                    .is_some_and(|np| np.matches(endpoint.host(), endpoint.port()));
                Ok((!skip).then(|| proxy.clone()))
            }
            Self::FromEnv => env::from_env(endpoint, &env),
        }
    }
}

/// The proxy protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyKind {
    /// HTTP `CONNECT` tunnel.
    Http,
    /// SOCKS4: the target is resolved locally, IPv4 only.
    Socks4,
    /// SOCKS4a: the proxy resolves the target's name.
    Socks4a,
    /// SOCKS5 (RFC 1928): the target is resolved locally.
    Socks5,
    /// SOCKS5 with the target's name resolved by the proxy.
    Socks5h,
}

impl ProxyKind {
    /// The URL scheme: `http`, `socks4`, `socks4a`, `socks5` or `socks5h`.
    pub fn scheme(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Socks4 => "socks4",
            Self::Socks4a => "socks4a",
            Self::Socks5 => "socks5",
            Self::Socks5h => "socks5h",
        }
    }

    /// The default port: 80 for HTTP, 1080 for SOCKS.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            _ => 1080,
        }
    }

    fn from_scheme(scheme: &str) -> Option<Self> {
        Some(match scheme.to_ascii_lowercase().as_str() {
            "http" => Self::Http,
            "socks4" => Self::Socks4,
            "socks4a" => Self::Socks4a,
            "socks5" | "socks" => Self::Socks5,
            "socks5h" => Self::Socks5h,
            _ => return None,
        })
    }
}

/// One proxy server: protocol, address, optional credentials and timeout.
///
/// `Display` and `Debug` show `scheme://host:port` only; credentials are never printed.
#[derive(Clone, PartialEq, Eq)]
#[allow(
    clippy::struct_field_names,
    reason = "no_proxy is the established name"
)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    auth: Option<(String, String)>,
    timeout: Option<Duration>,
    no_proxy: Option<NoProxy>,
}

impl Proxy {
    /// A proxy of `kind` at `host:port`, without credentials.
    pub fn new(kind: ProxyKind, host: &str, port: u16) -> Self {
        Self {
            kind,
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port,
            auth: None,
            timeout: None,
            no_proxy: None,
        }
    }

    /// An HTTP CONNECT proxy.
    pub fn http(host: &str, port: u16) -> Self {
        Self::new(ProxyKind::Http, host, port)
    }

    /// A SOCKS4 proxy.
    pub fn socks4(host: &str, port: u16) -> Self {
        Self::new(ProxyKind::Socks4, host, port)
    }

    /// A SOCKS4a proxy.
    pub fn socks4a(host: &str, port: u16) -> Self {
        Self::new(ProxyKind::Socks4a, host, port)
    }

    /// A SOCKS5 proxy (target resolved locally).
    pub fn socks5(host: &str, port: u16) -> Self {
        Self::new(ProxyKind::Socks5, host, port)
    }

    /// A SOCKS5 proxy that resolves the target's name itself.
    pub fn socks5h(host: &str, port: u16) -> Self {
        Self::new(ProxyKind::Socks5h, host, port)
    }

    /// Parses `scheme://[user:password@]host[:port]`, with scheme `http`, `socks4`,
    /// `socks4a`, `socks5` (or `socks`) or `socks5h`. Without a scheme, `http` is assumed.
    /// A missing port is 80 for `http` and 1080 for SOCKS. User and password are
    /// percent-decoded.
    ///
    /// # Errors
    ///
    /// [`ProxyError::Config`] naming the problem (never the credentials).
    pub fn parse(text: &str) -> Result<Self, ProxyError> {
        let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let with_scheme = if text.contains("://") {
            text
        } else {
            format!("http://{text}")
        };
        let bad = |reason: &str| ProxyError::Config {
            reason: reason.to_owned(),
        };
        let url = url::Url::parse(&with_scheme)
            .map_err(|e| bad(&format!("proxy url does not parse: {e}")))?;
        let kind = ProxyKind::from_scheme(url.scheme()).ok_or_else(|| {
            bad(&format!(
                "proxy scheme {:?} is not http, socks4, socks4a, socks5 or socks5h",
                url.scheme()
            ))
        })?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(bad("proxy url has no host")),
        };
        let port = url.port().unwrap_or_else(|| kind.default_port());
        if port == 0 {
            return Err(bad("proxy port 0"));
        }
        let mut proxy = Self::new(kind, &host, port);
        if !url.username().is_empty() || url.password().is_some() {
            proxy.auth = Some((
                percent_decode(url.username()),
                percent_decode(url.password().unwrap_or("")),
            ));
        }
        Ok(proxy)
    }

    /// Sets the credentials: `Proxy-Authorization: Basic` for HTTP, RFC 1929 for SOCKS5,
    /// the user id for SOCKS4.
    #[must_use]
    pub fn with_auth(mut self, user: &str, password: &str) -> Self {
        self.auth = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// Sets the timeout of connecting to the proxy and of each read and write of its
    /// handshake. Either way the overall deadline of the connect
    /// ([`Timeouts::deadline`](crate::Timeouts::deadline)) is re-checked before each of
    /// them and ends the handshake when it comes first. Default: none of its own: the
    /// connect to the proxy gets [`Timeouts::connect`](crate::Timeouts::connect), and
    /// each read and write of the handshake the shorter of
    /// [`Timeouts::read`](crate::Timeouts::read) and [`Timeouts::write`](crate::Timeouts::write)
    /// (so `ClientBuilder::timeout` bounds it, as Python's `timeout` does).
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Hosts that bypass this proxy, in `no_proxy` syntax (see [`NoProxy`]).
    #[must_use]
    pub fn no_proxy(mut self, list: &str) -> Self {
        self.no_proxy = Some(NoProxy::parse(list));
        self
    }

    /// The protocol.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// The proxy's host, without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether credentials are set.
    pub fn has_auth(&self) -> bool {
        self.auth.is_some()
    }

    fn target(&self) -> String {
        authority(&self.host, self.port)
    }

    /// The timeout of connecting to the proxy.
    pub(crate) fn connect_timeout(&self, budget: &Budget) -> Option<Duration> {
        self.timeout.or(budget.timeouts().connect)
    }

    /// The timeout of each handshake read and write: the proxy's own, else the
    /// shorter of the read and write timeouts (as for TLS), if any.
    pub(crate) fn handshake_timeout(&self, budget: &Budget) -> Option<Duration> {
        self.timeout.or(budget.timeouts().tls_handshake())
    }

    /// The port 0 check `connect` makes before anything else.
    pub(crate) fn check_port(&self) -> Result<(), ProxyError> {
        if self.port == 0 {
            return Err(ProxyError::Config {
                reason: format!("proxy {} has port 0", self.host),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.kind.scheme(), self.target())
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &format_args!("{self}"))
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("no_proxy", &self.no_proxy)
            .finish_non_exhaustive()
    }
}

/// Connects to `proxy` and asks it for a tunnel to `host:port`.
pub(crate) fn tunnel(
    proxy: &Proxy,
    host: &str,
    port: u16,
    options: &NetOptions,
    budget: &Budget,
) -> Result<TcpStream> {
    log::debug!("tunnelling to {} through {proxy}", authority(host, port));
    proxy.check_port()?;
    let target = socks_target(proxy.kind, host, port, options)?;
    let mut handshake = ProxyHandshake::for_target(proxy, &target, port)?;
    let mut tcp = connect_host(
        "proxy",
        &proxy.host,
        proxy.port,
        proxy.connect_timeout(budget),
        options,
        budget,
    )?;
    let result = drive(&mut tcp, &mut handshake, proxy, budget);
    handshake_result(result, proxy, budget)?;
    tcp.set_read_timeout(None)
        .and_then(|()| tcp.set_write_timeout(None))
        .map_err(|source| Error::Io {
            op: "reset proxy timeouts",
            target: proxy.target(),
            source,
        })?;
    log::debug!("proxy {proxy} tunnel to {} is open", authority(host, port));
    Ok(tcp)
}

/// Turns the driver's outcome into the error `connect` reports: a timed-out read or write
/// becomes [`Error::Timeout`] naming the proxy handshake and which limit ran out.
pub(crate) fn handshake_result(
    result: Result<(), ProxyError>,
    proxy: &Proxy,
    budget: &Budget,
) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(ProxyError::Io { source, .. })
            if matches!(
                source.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            // The limit that is shorter now is the one that ran out.
            let limit = budget.limit(proxy.handshake_timeout(budget));
            Err(timed_out(Phase::ProxyHandshake, proxy.target(), limit))
        }
        Err(err) => Err(err.into()),
    }
}

/// Runs `handshake` over `tcp`: writes what it asks for, peeks at what the proxy sent,
/// and consumes exactly the bytes the machine took, so the tunnel's first bytes stay in
/// the socket.
fn drive(
    tcp: &mut TcpStream,
    handshake: &mut ProxyHandshake,
    proxy: &Proxy,
    budget: &Budget,
) -> Result<(), ProxyError> {
    let per_op = proxy.handshake_timeout(budget);
    let mut buf = [0u8; 1024];
    loop {
        while let Some(bytes) = handshake.poll_transmit() {
            let op = handshake.operation();
            let n = arm(tcp, budget, per_op)
                .and_then(|()| tcp.write(bytes))
                .map_err(io_err(proxy, op))?;
            if n == 0 {
                return Err(io_err(proxy, op)(io::ErrorKind::WriteZero.into()));
            }
            handshake.transmitted(n);
        }
        if handshake.is_complete() {
            return Ok(());
        }
        let op = handshake.operation();
        let n = arm(tcp, budget, per_op)
            .and_then(|()| tcp.peek(&mut buf))
            .map_err(io_err(proxy, op))?;
        if n == 0 {
            return Err(handshake.receive_eof());
        }
        let consumed = handshake
            .receive(buf.get(..n).unwrap_or_default())?
            .consumed();
        tcp.read_exact(buf.get_mut(..consumed).unwrap_or_default())
            .map_err(io_err(proxy, op))?;
    }
}

/// The SOCKS destination: a name the proxy resolves, or an address resolved here.
#[derive(Debug)]
pub(crate) enum Target {
    Name(String),
    Addr(IpAddr),
}

/// Resolves the target locally for SOCKS4 and SOCKS5; keeps the name for the others.
fn socks_target(kind: ProxyKind, host: &str, port: u16, options: &NetOptions) -> Result<Target> {
    match target_without_lookup(kind, host)? {
        Some(target) => Ok(target),
        None => target_from_addrs(kind, host, port, &resolve(host, port, options)?),
    }
}

/// The target when no local name lookup is needed: an IP literal, or a name the proxy
/// resolves (HTTP, SOCKS4a, SOCKS5h). `None` when the name must be resolved here.
pub(crate) fn target_without_lookup(kind: ProxyKind, host: &str) -> Result<Option<Target>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        if ip.is_ipv6() && matches!(kind, ProxyKind::Socks4 | ProxyKind::Socks4a) {
            return Err(ProxyError::Config {
                reason: format!("socks4 cannot reach the IPv6 address {ip} (use socks5)"),
            }
            .into());
        }
        return Ok(Some(Target::Addr(ip)));
    }
    Ok(match kind {
        ProxyKind::Http | ProxyKind::Socks4a | ProxyKind::Socks5h => {
            Some(Target::Name(host.to_owned()))
        }
        ProxyKind::Socks4 | ProxyKind::Socks5 => None,
    })
}

/// The target picked from the locally resolved `addrs` (not empty): the first for
/// SOCKS5, the first IPv4 one for SOCKS4.
pub(crate) fn target_from_addrs(
    kind: ProxyKind,
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
) -> Result<Target> {
    let pick = if kind == ProxyKind::Socks4 {
        addrs.iter().find(|a| a.is_ipv4())
    } else {
        addrs.first()
    };
    pick.map(|a| Target::Addr(a.ip())).ok_or_else(|| {
        Error::Proxy(ProxyError::Config {
            reason: format!(
                "socks4 can only reach IPv4 addresses and {} has none (use socks4a or socks5)",
                authority(host, port)
            ),
        })
    })
}

/// Wraps an I/O error with the operation and the proxy's address.
fn io_err<'a>(proxy: &'a Proxy, op: &'static str) -> impl FnOnce(io::Error) -> ProxyError + 'a {
    move |source| ProxyError::Io {
        op,
        proxy: proxy.target(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_urls_of_every_kind() {
        let cases: &[(&str, ProxyKind, &str, u16)] = &[
            ("http://proxy:3128", ProxyKind::Http, "proxy", 3128),
            ("proxy.local:3128", ProxyKind::Http, "proxy.local", 3128),
            ("http://proxy", ProxyKind::Http, "proxy", 80),
            ("socks4://p", ProxyKind::Socks4, "p", 1080),
            ("SOCKS4A://p:1", ProxyKind::Socks4a, "p", 1),
            ("socks5://[::1]:1081", ProxyKind::Socks5, "::1", 1081),
            ("socks://10.0.0.1", ProxyKind::Socks5, "10.0.0.1", 1080),
            ("socks5h://u:p@Proxy:9", ProxyKind::Socks5h, "proxy", 9),
        ];
        for &(text, kind, host, port) in cases {
            let p = Proxy::parse(text).unwrap();
            assert_eq!((p.kind(), p.host(), p.port()), (kind, host, port), "{text}");
        }
        let p = Proxy::parse("socks5h://us%3Aer:pa%40ss@proxy:9").unwrap();
        assert_eq!(p.auth, Some(("us:er".to_owned(), "pa@ss".to_owned())));
    }

    #[test]
    fn refuses_unusable_proxy_urls_without_showing_credentials() {
        for text in [
            "https://u:secret@p:1",
            "ftp://p",
            "http://u:secret@:0",
            "socks5://p:0",
        ] {
            let err = Proxy::parse(text).unwrap_err();
            assert!(matches!(err, ProxyError::Config { .. }), "{text}: {err:?}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[test]
    fn display_and_debug_hide_credentials() {
        let p = Proxy::parse("socks5://alice:s3cret@proxy:1080").unwrap();
        assert_eq!(p.to_string(), "socks5://proxy:1080");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("s3cret") && !debug.contains("alice"),
            "{debug}"
        );
        let config = format!("{:?}", ProxyConfig::Explicit(p));
        assert!(!config.contains("s3cret"), "{config}");
    }

    #[test]
    fn explicit_proxy_honours_its_own_no_proxy_list() {
        let proxy = Proxy::http("p", 1).no_proxy("internal.example");
        let config = ProxyConfig::Explicit(proxy.clone());
        let inside = Endpoint::parse("ws://a.internal.example/").unwrap();
        let outside = Endpoint::parse("ws://example.org/").unwrap();
        assert_eq!(config.select_with(&inside, |_| None).unwrap(), None);
        assert_eq!(config.select_with(&outside, |_| None).unwrap(), Some(proxy));
        let env = |_: &str| Some("http://envproxy:1".to_owned());
        assert_eq!(ProxyConfig::None.select_with(&outside, env).unwrap(), None);
    }
}
