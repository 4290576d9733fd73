//! The error types of `ws-net`: one enum per concern, each message naming host, port and cause.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong between a URL and a connected stream.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not a usable `ws://` or `wss://` URL.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The host name could not be resolved.
    #[error("cannot resolve {host}:{port}")]
    Resolve {
        /// The host that was looked up.
        host: String,
        /// The port that was looked up.
        port: u16,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },
    /// The host name resolved to no address at all.
    #[error("{host}:{port} resolved to no address")]
    NoAddresses {
        /// The host that was looked up.
        host: String,
        /// The port that was looked up.
        port: u16,
    },
    /// Every address of the host was tried and none accepted a connection.
    #[error("cannot connect to {peer} {host}:{port}: {}", Attempts(attempts))]
    Connect {
        /// `"server"` or `"proxy"`: which peer could not be reached.
        peer: &'static str,
        /// The host name (or address) that was resolved.
        host: String,
        /// The port.
        port: u16,
        /// Each address tried, in order, with its own failure.
        attempts: Vec<(SocketAddr, io::Error)>,
    },
    /// An operation ran past its timeout, or past the overall connect deadline.
    #[error("{op} with {target} timed out after {after:?}{}", if *.overall_deadline { " (overall deadline)" } else { "" })]
    Timeout {
        /// The operation: `"tcp connect"`, `"proxy handshake"`, `"tls handshake"`, ...
        op: &'static str,
        /// `host:port` of the peer involved.
        target: String,
        /// The time allowed for the operation.
        after: Duration,
        /// Whether the overall deadline (rather than a per-operation timeout) ran out.
        overall_deadline: bool,
    },
    /// The proxy refused or failed.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The TLS configuration or handshake failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A socket option could not be applied.
    #[error("cannot set socket option {option}")]
    SocketOption {
        /// The option's name, e.g. `"TCP_NODELAY"`.
        option: &'static str,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Some other I/O operation failed.
    #[error("{op} with {target} failed")]
    Io {
        /// The operation that failed.
        op: &'static str,
        /// `host:port` of the peer involved.
        target: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Formats connection attempts as `addr (error), addr (error)`.
struct Attempts<'a>(&'a [(SocketAddr, io::Error)]);

impl fmt::Display for Attempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no address tried");
        }
        for (i, (addr, err)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{addr} ({err})")?;
        }
        Ok(())
    }
}

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The text does not parse as a URL.
    #[error("invalid url: {reason}")]
    Parse {
        /// What the URL parser said.
        reason: String,
    },
    /// The scheme is not `ws`, `wss`, `http` or `https`.
    #[error("invalid url: scheme {scheme:?} is not ws, wss, http or https")]
    Scheme {
        /// The scheme found.
        scheme: String,
    },
    /// The URL names no host.
    #[error("invalid url: no host")]
    MissingHost,
    /// The URL has a `#fragment`, which RFC 6455 section 3 forbids in WebSocket URIs.
    #[error("invalid url: fragments are not allowed in websocket urls (RFC 6455 section 3)")]
    Fragment,
    /// The port is 0.
    #[error("invalid url: port 0")]
    PortZero,
}

/// Why a proxy could not be used or refused the tunnel. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The proxy URL or settings are unusable.
    #[error("invalid proxy setting: {reason}")]
    Config {
        /// What is wrong, without credentials.
        reason: String,
    },
    /// The HTTP proxy answered CONNECT with 407: the credentials were missing or wrong.
    #[error("proxy {proxy} authentication failed: {status_line}")]
    AuthenticationFailed {
        /// `host:port` of the proxy.
        proxy: String,
        /// The status line the proxy sent.
        status_line: String,
    },
    /// The HTTP proxy answered CONNECT with a non-2xx status.
    #[error("proxy {proxy} refused CONNECT to {target}: {status_line}")]
    HttpStatus {
        /// `host:port` of the proxy.
        proxy: String,
        /// `host:port` the tunnel was asked for.
        target: String,
        /// The status code.
        status: u16,
        /// The status line the proxy sent.
        status_line: String,
    },
    /// The HTTP proxy's response head exceeded the size limit.
    #[error("proxy {proxy} response head exceeds {limit} bytes")]
    HeadTooLarge {
        /// `host:port` of the proxy.
        proxy: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The proxy sent bytes that do not follow its protocol.
    #[error("proxy {proxy} sent a malformed {protocol} reply: {reason}")]
    Malformed {
        /// `host:port` of the proxy.
        proxy: String,
        /// `"http"`, `"socks4"` or `"socks5"`.
        protocol: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The proxy closed the connection in the middle of its handshake.
    #[error("proxy {proxy} closed the connection during the {protocol} handshake")]
    Closed {
        /// `host:port` of the proxy.
        proxy: String,
        /// `"http"`, `"socks4"` or `"socks5"`.
        protocol: &'static str,
    },
    /// A SOCKS4 proxy refused the request.
    #[error("socks4 proxy {proxy} refused {target}: {reason} (code {code:#04x})")]
    Socks4Rejected {
        /// `host:port` of the proxy.
        proxy: String,
        /// `host:port` the tunnel was asked for.
        target: String,
        /// The reply code.
        code: u8,
        /// The code's meaning.
        reason: &'static str,
    },
    /// A SOCKS5 proxy refused the request.
    #[error("socks5 proxy {proxy} refused {target}: {reason} (code {code:#04x})")]
    Socks5Rejected {
        /// `host:port` of the proxy.
        proxy: String,
        /// `host:port` the tunnel was asked for.
        target: String,
        /// The reply code.
        code: u8,
        /// The code's meaning.
        reason: &'static str,
    },
    /// The SOCKS5 proxy accepts none of the offered authentication methods.
    #[error("socks5 proxy {proxy} accepts none of the offered authentication methods ({offered})")]
    Socks5NoAcceptableAuth {
        /// `host:port` of the proxy.
        proxy: String,
        /// The methods offered, e.g. `"no authentication"`.
        offered: &'static str,
    },
    /// The SOCKS5 proxy rejected the username and password (RFC 1929).
    #[error("socks5 proxy {proxy} authentication failed (status {status:#04x})")]
    Socks5AuthFailed {
        /// `host:port` of the proxy.
        proxy: String,
        /// The status byte.
        status: u8,
    },
    /// Reading from or writing to the proxy failed.
    #[error("{op} with proxy {proxy} failed")]
    Io {
        /// The operation.
        op: &'static str,
        /// `host:port` of the proxy.
        proxy: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Why TLS could not be set up or the server was not trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate chain does not lead to a trusted root.
    #[error("tls: certificate of {host} is signed by an unknown issuer (not in the trusted roots)")]
    UnknownIssuer {
        /// The server name that was verified.
        host: String,
    },
    /// The certificate is valid, but not for the name that was asked for.
    #[error("tls: certificate is not valid for {host}; it is valid for {}", if presented.is_empty() { "no names".to_owned() } else { presented.join(", ") })]
    NameMismatch {
        /// The server name that was verified.
        host: String,
        /// The names the certificate holds.
        presented: Vec<String>,
    },
    /// The certificate has expired.
    #[error("tls: certificate of {host} has expired")]
    Expired {
        /// The server name that was verified.
        host: String,
    },
    /// The certificate is not valid yet.
    #[error("tls: certificate of {host} is not valid yet")]
    NotValidYet {
        /// The server name that was verified.
        host: String,
    },
    /// The certificate was rejected for another reason.
    #[error("tls: certificate of {host} rejected: {reason}")]
    BadCertificate {
        /// The server name that was verified.
        host: String,
        /// rustls' description.
        reason: String,
    },
    /// The server sent a TLS alert.
    #[error("tls: {host} sent alert {alert}")]
    Alert {
        /// The server name.
        host: String,
        /// The alert, e.g. `CertificateRequired`.
        alert: String,
    },
    /// The handshake failed for another reason.
    #[error("tls handshake with {host} failed: {reason}")]
    Handshake {
        /// The server name.
        host: String,
        /// rustls' description.
        reason: String,
    },
    /// The server name is not a valid DNS name or IP address.
    #[error("tls: invalid server name {name:?}")]
    InvalidServerName {
        /// The name given.
        name: String,
    },
    /// A CA certificate file or directory could not be used.
    #[error("tls: cannot load ca certificates from {}: {reason}", path.display())]
    CaCertificates {
        /// The file or directory.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The client certificate or key could not be used.
    #[error("tls: cannot load client certificate from {}: {reason}", path.display())]
    ClientCertificate {
        /// The certificate or key file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The TLS configuration could not be built.
    #[error("tls: invalid configuration: {reason}")]
    Config {
        /// What went wrong.
        reason: String,
    },
}

impl TlsError {
    /// Maps a rustls error seen while talking to `host` to a specific variant.
    pub fn from_rustls(host: &str, err: &rustls::Error) -> Self {
        use rustls::CertificateError as C;
        let host = host.to_owned();
        match err {
            rustls::Error::InvalidCertificate(cert) => match cert {
                C::UnknownIssuer => Self::UnknownIssuer { host },
                C::NotValidForNameContext { presented, .. } => Self::NameMismatch {
                    host,
                    presented: presented.clone(),
                },
                C::NotValidForName => Self::NameMismatch {
                    host,
                    presented: Vec::new(),
                },
                C::Expired | C::ExpiredContext { .. } => Self::Expired { host },
                C::NotValidYet | C::NotValidYetContext { .. } => Self::NotValidYet { host },
                other => Self::BadCertificate {
                    host,
                    reason: format!("{other:?}"),
                },
            },
            rustls::Error::AlertReceived(alert) => Self::Alert {
                host,
                alert: format!("{alert:?}"),
            },
            other => Self::Handshake {
                host,
                reason: other.to_string(),
            },
        }
    }
}

impl From<TlsError> for io::Error {
    fn from(err: TlsError) -> Self {
        Self::new(io::ErrorKind::InvalidData, err)
    }
}
