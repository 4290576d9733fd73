//! [`TlsOptions`]: how `wss://` connections are verified, and the TLS handshake.

//!
//! The options are plain data and exist in every build; the handshake needs the `tls`
//! feature (on by default). Without it, connecting to a `wss://` URL fails with
//! [`TlsError::FeatureDisabled`](crate::TlsError::FeatureDisabled).

#[cfg(not(feature = "tls"))]
mod disabled;
#[cfg(feature = "tls")]
mod engine;
#[cfg(feature = "tls")]
pub(crate) mod verify;

use std::fmt;
use std::path::PathBuf;
#[cfg(feature = "tls")]
use std::sync::Arc;

#[cfg(feature = "tls")]
use rustls::ClientConfig;

#[cfg(not(feature = "tls"))]
pub(crate) use crate::tls::disabled::{ClientConnection, from_engine_error, handshake};
#[cfg(feature = "tls")]
pub(crate) use crate::tls::engine::{ClientConnection, from_engine_error, handshake};

/// The environment variable naming an extra CA bundle (file or directory) to trust.
pub const CA_BUNDLE_ENV: &str = "WEBSOCKET_CLIENT_CA_BUNDLE";

/// TLS settings for `wss://` connections.
///
/// The default verifies the server's certificate chain against the Mozilla roots of
/// `webpki-roots` (plus the platform's store with the `platform-roots` feature, plus the
/// file or directory named by `WEBSOCKET_CLIENT_CA_BUNDLE`), checks that it is valid for
/// the host name, sends that name as SNI, offers no ALPN protocols, and writes session
/// keys to the file named by `SSLKEYLOGFILE` when that variable is set. The crypto
/// provider is always `ring`, chosen explicitly.
///
/// A server certificate that is byte for byte one of the certificates trusted
/// explicitly (CA files, CA directories, the bundle variable) is accepted even when it
/// cannot end a chain, as OpenSSL accepts it: the self-signed certificate of
/// `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -subj
/// /CN=localhost -addext subjectAltName=DNS:localhost` says `CA:TRUE`, and passing it to
/// [`TlsOptions::ca_file`] lets a client connect to the server using it. Its name and
/// validity dates are still checked, and so is the server's proof that it holds the key.
#[derive(Clone, Default)]
pub struct TlsOptions {
    mode: Mode,
    no_default_roots: bool,
    ignore_env_bundle: bool,
    ca_files: Vec<PathBuf>,
    ca_dirs: Vec<PathBuf>,
    client_cert: Option<(PathBuf, PathBuf)>,
    server_name: Option<String>,
    alpn: Vec<Vec<u8>>,
}

#[derive(Clone, Default)]
enum Mode {
    #[default]
    Verify,
    AcceptAny,
    #[cfg(feature = "tls")]
    Config(Arc<ClientConfig>),
}

impl fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = match self.mode {
            Mode::Verify => "verify",
            Mode::AcceptAny => "DANGEROUS: accept any certificate",
            #[cfg(feature = "tls")]
            Mode::Config(_) => "caller's rustls::ClientConfig",
        };
        f.debug_struct("TlsOptions")
            .field("mode", &mode)
            .field("no_default_roots", &self.no_default_roots)
            .field("ca_files", &self.ca_files)
            .field("ca_dirs", &self.ca_dirs)
            .field("client_cert", &self.client_cert.as_ref().map(|(c, _)| c))
            .field("server_name", &self.server_name)
            .field("alpn", &self.alpn)
            .finish_non_exhaustive()
    }
}

impl TlsOptions {
    /// Uses the caller's rustls configuration as is (roots, client certificate, ALPN,
    /// key log); only [`TlsOptions::server_name`] still applies.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn from_rustls_config(config: Arc<ClientConfig>) -> Self {
        Self {
            mode: Mode::Config(config),
            ..Self::default()
        }
    }

    /// Also trusts the CA certificates in this PEM file.
    #[must_use]
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_files.push(path.into());
        self
    }

    /// Also trusts the CA certificates in the PEM files of this directory.
    #[must_use]
    pub fn ca_dir(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_dirs.push(path.into());
        self
    }

    /// Trusts only the CA files and directories given here (and the environment bundle),
    /// not `webpki-roots` or the platform store.
    #[must_use]
    pub fn without_default_roots(mut self) -> Self {
        self.no_default_roots = true;
        self
    }

    /// Ignores `WEBSOCKET_CLIENT_CA_BUNDLE`.
    #[must_use]
    pub fn ignore_env_ca_bundle(mut self) -> Self {
        self.ignore_env_bundle = true;
        self
    }

    /// Presents a client certificate chain and its private key (PEM files; encrypted keys
    /// are refused).
    #[must_use]
    pub fn client_cert(mut self, cert_chain: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.client_cert = Some((cert_chain.into(), key.into()));
        self
    }

    /// Sends this name as SNI and verifies the certificate against it instead of the
    /// URL's host (Python's `server_hostname`).
    #[must_use]
    pub fn server_name(mut self, name: &str) -> Self {
        self.server_name = Some(name.to_owned());
        self
    }

    /// Offers these ALPN protocols, in order of preference.
    #[must_use]
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<Vec<u8>>,
    {
        self.alpn = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Settings that weaken security. Their names say so.
    pub fn dangerous(self) -> DangerousTlsOptions {
        DangerousTlsOptions(self)
    }

    /// The name sent as SNI and verified for a connection to `host`.
    pub fn effective_server_name<'a>(&'a self, host: &'a str) -> &'a str {
        self.server_name.as_deref().unwrap_or(host)
    }
}

/// Settings that weaken TLS security, from [`TlsOptions::dangerous`].
#[derive(Debug, Clone)]
pub struct DangerousTlsOptions(TlsOptions);

impl DangerousTlsOptions {
    /// INSECURE: accepts any certificate for any name, so anyone on the path can read and
    /// change the traffic. For tests against self-signed servers only (Python's
    /// `cert_reqs=CERT_NONE`). Handshake signatures are still checked.
    #[must_use]
    pub fn accept_any_certificate(mut self) -> TlsOptions {
        self.0.mode = Mode::AcceptAny;
        self.0
    }
}
