//! The error types of `ws-net`: one enum per concern, each message naming host, port and cause.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::SystemTime;

use crate::budget::Limit;

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
    /// A phase of the connect ran past its timeout, or past the overall deadline.
    #[error("{phase} with {target} timed out{}", RanOut(*limit))]
    Timeout {
        /// The phase that was running.
        phase: Phase,
        /// `host:port` of the peer involved.
        target: String,
        /// The limit that ran out: the operation's own timeout, or the overall deadline
        /// ([`Limit::Deadline`], its `left` zero or what was left when the operation
        /// began); `None` when the operating system timed out by itself.
        limit: Option<Limit>,
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

/// The phase of a connect that an [`Error::Timeout`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// Resolving the host name.
    Resolve,
    /// Connecting TCP, to the server or the proxy.
    TcpConnect,
    /// The proxy's handshake (HTTP `CONNECT`, SOCKS).
    ProxyHandshake,
    /// The TLS handshake.
    TlsHandshake,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Resolve => "resolving",
            Self::TcpConnect => "tcp connect",
            Self::ProxyHandshake => "proxy handshake",
            Self::TlsHandshake => "tls handshake",
        })
    }
}

/// Formats the limit of a timeout as ` after 1s` or ` after 60s (overall deadline)`.
struct RanOut(Option<Limit>);

impl fmt::Display for RanOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(limit @ Limit::Deadline { .. }) => {
                write!(f, " after {:?} (overall deadline)", limit.allowed())
            }
            Some(limit) => write!(f, " after {:?}", limit.allowed()),
            None => Ok(()),
        }
    }
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
///
/// Each message says which certificate is wrong, how, and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The server's certificate chain does not lead to a trusted root.
    #[error(
        "tls: certificate of {host} is signed by an unknown issuer (not among the trusted \
         roots); trust its CA, or a self-signed server's own certificate, with \
         TlsOptions::ca_file (wsdump --ca-file), or skip verification for a test server \
         (wsdump --nocert)"
    )]
    UnknownIssuer {
        /// The server name that was verified.
        host: String,
    },
    /// The certificate is valid, but not for the name that was asked for.
    #[error("{}", name_mismatch(host, presented))]
    NameMismatch {
        /// The server name that was verified.
        host: String,
        /// The names the certificate holds, as OpenSSL writes them: `DNS:localhost`,
        /// `IP:127.0.0.1`.
        presented: Vec<String>,
    },
    /// The certificate has expired.
    #[error(
        "tls: certificate of {host} expired{}; renew it on the server, or check this \
         machine's clock",
        at(" on ", *.not_after)
    )]
    Expired {
        /// The server name that was verified.
        host: String,
        /// The certificate's `notAfter`, when known.
        not_after: Option<SystemTime>,
    },
    /// The certificate is not valid yet.
    #[error(
        "tls: certificate of {host} is not valid yet{}; check this machine's clock, or \
         reissue the certificate with an earlier start",
        at(", only from ", *.not_before)
    )]
    NotValidYet {
        /// The server name that was verified.
        host: String,
        /// The certificate's `notBefore`, when known.
        not_before: Option<SystemTime>,
    },
    /// The server's certificate is a CA certificate (`basicConstraints CA:TRUE`, as
    /// `openssl req -x509` makes them) that is not among the certificates trusted
    /// explicitly, so it cannot be the server's own.
    #[error(
        "tls: certificate of {host} is a CA certificate (basicConstraints CA:TRUE), which \
         cannot be a server's own unless trusted by itself; if this is your server's \
         self-signed certificate, pass that file with TlsOptions::ca_file (wsdump \
         --ca-file), or issue the server a certificate signed by this CA"
    )]
    CaUsedAsEndEntity {
        /// The server name that was verified.
        host: String,
    },
    /// The certificate is not meant for TLS servers (its extended key usage lacks
    /// `serverAuth`).
    #[error(
        "tls: certificate of {host} is not for TLS servers (its extended key usage lacks \
         serverAuth); reissue it with extendedKeyUsage=serverAuth"
    )]
    NotForServers {
        /// The server name that was verified.
        host: String,
    },
    /// The certificate was rejected for another reason.
    #[error("tls: certificate of {host} rejected: {reason}")]
    BadCertificate {
        /// The server name that was verified.
        host: String,
        /// What is wrong with it, as a sentence.
        reason: String,
    },
    /// The server sent a TLS alert.
    #[error(
        "tls: {host} ended the handshake with alert {alert}{}",
        alert_hint(alert)
    )]
    Alert {
        /// The server name.
        host: String,
        /// The alert's rustls name, e.g. `CertificateRequired`.
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
    /// A `wss://` URL in a build without TLS.
    #[error(
        "tls: {host} needs TLS (wss://), which this build leaves out; enable the `tls` \
         feature of ws-client (or ws-net), or connect with ws://"
    )]
    FeatureDisabled {
        /// The server name.
        host: String,
    },
    /// The TLS configuration could not be built.
    #[error("tls: invalid configuration: {reason}")]
    Config {
        /// What went wrong.
        reason: String,
    },
}

/// The message of [`TlsError::NameMismatch`].
fn name_mismatch(host: &str, presented: &[String]) -> String {
    let Some(first) = presented.first() else {
        return format!(
            "tls: certificate of {host} names no host (it has no subject alternative \
             names); reissue it with subjectAltName=DNS:{host}, or skip verification for a \
             test server (wsdump --nocert)"
        );
    };
    let owner = first
        .split_once(':')
        .map_or(first.as_str(), |(_, name)| name);
    format!(
        "tls: certificate of {owner} is not valid for the name {host}: it covers {}; \
         connect with {} (or set TlsOptions::server_name), or skip verification for a test \
         server (wsdump --nocert)",
        presented.join(", "),
        if presented.len() == 1 {
            "that name"
        } else {
            "one of those names"
        }
    )
}

/// `prefix` and the UTC date of `time`, or nothing when unknown.
fn at(prefix: &str, time: Option<SystemTime>) -> String {
    time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|since| format!("{prefix}{}", format_utc(since.as_secs())))
        .unwrap_or_default()
}

/// What a server's alert usually means for the client.
fn alert_hint(alert: &str) -> &'static str {
    match alert {
        "CertificateRequired" => {
            "; the server wants a client certificate: pass one with TlsOptions::client_cert"
        }
        "UnknownCA" | "BadCertificate" | "CertificateUnknown" | "AccessDenied" => {
            "; the server did not accept our client certificate"
        }
        "HandshakeFailure" | "ProtocolVersion" | "InsufficientSecurity" => {
            "; the server and this client share no TLS version or cipher suite"
        }
        "UnrecognisedName" => "; the server does not serve this name: check the host name",
        "NoApplicationProtocol" => "; the server accepts none of the offered ALPN protocols",
        _ => "",
    }
}

#[cfg(feature = "tls")]
/// A certificate name from webpki's `DnsName("a")`/`IpAddress(1.2.3.4)` form in
/// OpenSSL's (`DNS:a`, `IP:1.2.3.4`).
fn openssl_name(name: &str) -> String {
    for (from, to) in [
        ("DnsName(", "DNS:"),
        ("IpAddress(", "IP:"),
        ("UniformResourceIdentifier(", "URI:"),
    ] {
        if let Some(inner) = name.strip_prefix(from).and_then(|n| n.strip_suffix(')')) {
            return format!("{to}{}", inner.trim_matches('"'));
        }
    }
    name.to_owned()
}

#[cfg(feature = "tls")]
impl TlsError {
    /// Maps a rustls error seen while talking to `host` to a specific variant.
    pub fn from_rustls(host: &str, err: &rustls::Error) -> Self {
        use rustls::CertificateError as C;
        let host = host.to_owned();
        let time = |t: &rustls::pki_types::UnixTime| {
            SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(t.as_secs()))
        };
        let cert = match err {
            rustls::Error::InvalidCertificate(cert) => cert,
            rustls::Error::AlertReceived(alert) => {
                return Self::Alert {
                    host,
                    alert: format!("{alert:?}"),
                };
            }
            other => {
                return Self::Handshake {
                    host,
                    reason: other.to_string(),
                };
            }
        };
        let reason = match cert {
            C::UnknownIssuer => return Self::UnknownIssuer { host },
            C::NotValidForNameContext { presented, .. } => {
                return Self::NameMismatch {
                    host,
                    presented: presented.iter().map(|n| openssl_name(n)).collect(),
                };
            }
            C::NotValidForName => {
                return Self::NameMismatch {
                    host,
                    presented: Vec::new(),
                };
            }
            C::Expired => {
                return Self::Expired {
                    host,
                    not_after: None,
                };
            }
            C::ExpiredContext { not_after, .. } => {
                return Self::Expired {
                    host,
                    not_after: time(not_after),
                };
            }
            C::NotValidYet => {
                return Self::NotValidYet {
                    host,
                    not_before: None,
                };
            }
            C::NotValidYetContext { not_before, .. } => {
                return Self::NotValidYet {
                    host,
                    not_before: time(not_before),
                };
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                return Self::NotForServers { host };
            }
            other if crate::tls::verify::is_ca_used_as_end_entity(other) => {
                return Self::CaUsedAsEndEntity { host };
            }
            other => certificate_reason(other),
        };
        Self::BadCertificate { host, reason }
    }
}

/// The UTC date and time of `secs` since 1970 as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn format_utc(secs: u64) -> String {
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// What is wrong with a certificate, as a sentence, for the causes without a variant.
#[cfg(feature = "tls")]
fn certificate_reason(cert: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match cert {
        C::BadEncoding => "it is not a well-formed X.509 certificate".to_owned(),
        C::BadSignature => {
            "a signature does not verify: its issuer did not sign it, or the server does \
             not hold its private key; the server is misconfigured or an impostor"
                .to_owned()
        }
        C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "it is signed with an algorithm this client does not support; reissue it \
             with ECDSA P-256, Ed25519 or RSA-SHA256"
                .to_owned()
        }
        C::Revoked => "it has been revoked by its issuer".to_owned(),
        C::UnknownRevocationStatus
        | C::ExpiredRevocationList
        | C::ExpiredRevocationListContext { .. } => {
            "its revocation status cannot be established from the revocation lists \
             given; supply current lists"
                .to_owned()
        }
        C::InvalidOcspResponse => {
            "the server stapled an OCSP response that does not verify".to_owned()
        }
        C::ApplicationVerificationFailure => {
            "the caller's own certificate verifier refused it".to_owned()
        }
        C::UnhandledCriticalExtension => {
            "it has a critical extension this client does not understand".to_owned()
        }
        other => match crate::tls::verify::webpki_error(other) {
            Some(webpki::Error::EndEntityUsedAsCa) => {
                "the chain uses a non-CA certificate as an issuer; send the right \
                 intermediate certificates"
                    .to_owned()
            }
            Some(webpki::Error::PathLenConstraintViolated) => {
                "the chain is longer than an issuer's path length constraint allows".to_owned()
            }
            Some(webpki::Error::NameConstraintViolation) => {
                "an issuer's name constraints forbid its names".to_owned()
            }
            Some(webpki::Error::UnsupportedCertVersion) => {
                "it is not an X.509 version 3 certificate; reissue it as version 3".to_owned()
            }
            Some(code) => format!("it failed the certificate check {code}"),
            None => format!("it failed the certificate check {other:?}"),
        },
    }
}

impl From<TlsError> for io::Error {
    fn from(err: TlsError) -> Self {
        Self::new(io::ErrorKind::InvalidData, err)
    }
}
