//! The rustls side of [`TlsOptions`]: building the client configuration (roots, CA files,
//! the bundle variable, client certificates) and running the handshake.

use std::ffi::OsString;
use std::io;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use rustls::ClientConnection;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::budget::{Budget, Limit, arm, timed_out};
use crate::endpoint::authority;
use crate::error::{Error, Phase, Result, TlsError};
use crate::stream::Stream;
use crate::tls::verify::ExplicitTrust;
use crate::tls::{CA_BUNDLE_ENV, Mode, TlsOptions};

/// The error of a TLS record the connection could not process.
pub(crate) fn from_engine_error(host: &str, err: &rustls::Error) -> TlsError {
    TlsError::from_rustls(host, err)
}

impl TlsOptions {
    /// Builds the rustls configuration these options describe.
    ///
    /// # Errors
    ///
    /// [`TlsError::CaCertificates`] and [`TlsError::ClientCertificate`] when a file cannot
    /// be read or holds no usable certificate or key, [`TlsError::Config`] otherwise.
    pub fn build_config(&self) -> Result<Arc<ClientConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config {
                reason: e.to_string(),
            })?;
        let builder = match &self.mode {
            Mode::Config(config) => return Ok(config.clone()),
            Mode::AcceptAny => {
                log::warn!("tls certificate verification is DISABLED (accept_any_certificate)");
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            }
            Mode::Verify => {
                let (roots, explicit) = self.root_store()?;
                if explicit.is_empty() {
                    builder.with_root_certificates(roots)
                } else {
                    let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                        Arc::new(roots),
                        provider.clone(),
                    )
                    .build()
                    .map_err(|e| TlsError::Config {
                        reason: e.to_string(),
                    })?;
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(ExplicitTrust::new(
                            webpki, explicit,
                        )))
                }
            }
        };
        let mut config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert_path, key_path)) => {
                let (certs, key) = load_client_cert(cert_path, key_path)?;
                builder.with_client_auth_cert(certs, key).map_err(|e| {
                    TlsError::ClientCertificate {
                        path: cert_path.clone(),
                        reason: e.to_string(),
                    }
                })?
            }
        };
        config.alpn_protocols.clone_from(&self.alpn);
        config.key_log = Arc::new(rustls::KeyLogFile::new());
        Ok(Arc::new(config))
    }

    /// The roots, and the certificates among them the caller listed explicitly.
    fn root_store(&self) -> Result<(RootCertStore, Vec<CertificateDer<'static>>), TlsError> {
        let mut roots = RootCertStore::empty();
        if !self.no_default_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            #[cfg(feature = "platform-roots")]
            {
                let native = rustls_native_certs::load_native_certs();
                for err in &native.errors {
                    log::debug!("platform root store: {err}");
                }
                let (added, ignored) = roots.add_parsable_certificates(native.certs);
                log::debug!("platform roots: {added} added, {ignored} ignored");
            }
        }
        let mut explicit = Vec::new();
        for file in &self.ca_files {
            add_ca_file(&mut explicit, file)?;
        }
        for dir in &self.ca_dirs {
            add_ca_dir(&mut explicit, dir)?;
        }
        if !self.ignore_env_bundle {
            add_env_bundle(&mut explicit, std::env::var_os(CA_BUNDLE_ENV))?;
        }
        for (cert, path) in &explicit {
            roots
                .add(cert.clone())
                .map_err(|e| TlsError::CaCertificates {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
        }
        if roots.is_empty() {
            return Err(TlsError::Config {
                reason: "no trusted root certificates".to_owned(),
            });
        }
        Ok((roots, explicit.into_iter().map(|(cert, _)| cert).collect()))
    }
}

/// Runs the TLS handshake over `tcp` and returns the encrypted stream.
///
/// Each read and write is limited by `per_op` and what `budget` has left, asked again
/// before each; the socket's previous timeouts are restored afterwards.
pub(crate) fn handshake(
    tcp: TcpStream,
    host: &str,
    port: u16,
    options: &TlsOptions,
    budget: &Budget,
    per_op: Option<Duration>,
) -> Result<Stream> {
    let config = options.build_config()?;
    let name = options.effective_server_name(host).to_owned();
    let server_name = ServerName::try_from(name.clone())
        .map_err(|_| TlsError::InvalidServerName { name: name.clone() })?;
    let mut conn = ClientConnection::new(config, server_name).map_err(|e| TlsError::Config {
        reason: e.to_string(),
    })?;
    log::debug!("tls handshake with {} as {name:?}", authority(host, port));
    let target = authority(host, port);
    let io_error = |source: io::Error, limit: Option<Limit>| {
        if matches!(
            source.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            timed_out(Phase::TlsHandshake, target.clone(), limit)
        } else {
            Error::Io {
                op: "tls handshake",
                target: target.clone(),
                source,
            }
        }
    };
    let saved = (tcp.read_timeout(), tcp.write_timeout());
    let mut sock = &tcp;
    loop {
        let limit = budget.limit(per_op);
        if limit.is_some() {
            arm(&tcp, budget, per_op).map_err(|e| io_error(e, limit))?;
        }
        while conn.wants_write() {
            conn.write_tls(&mut sock).map_err(|e| io_error(e, limit))?;
        }
        if !conn.is_handshaking() {
            break;
        }
        let n = conn.read_tls(&mut sock).map_err(|e| io_error(e, limit))?;
        if n == 0 {
            return Err(TlsError::Handshake {
                host: name,
                reason: "the server closed the connection during the handshake".to_owned(),
            }
            .into());
        }
        if let Err(err) = conn.process_new_packets() {
            // Tell the server why (the alert), best effort.
            let _ = conn.write_tls(&mut sock);
            let err = TlsError::from_rustls(&name, &err);
            log::debug!("{err}");
            return Err(err.into());
        }
    }
    if let (Ok(read), Ok(write)) = saved {
        tcp.set_read_timeout(read)
            .and_then(|()| tcp.set_write_timeout(write))
            .map_err(|e| io_error(e, None))?;
    }
    log::debug!(
        "tls established with {target}: {:?}, alpn {:?}",
        conn.negotiated_cipher_suite().map(|s| s.suite()),
        conn.alpn_protocol().map(String::from_utf8_lossy)
    );
    Ok(Stream::from_tls_parts(tcp, conn, name))
}

/// Adds the file or directory named by `WEBSOCKET_CLIENT_CA_BUNDLE` (`value`); a path
/// that does not exist is ignored, as Python's client does.
fn add_env_bundle(trusted: &mut Trusted, value: Option<OsString>) -> Result<(), TlsError> {
    let Some(path) = value.filter(|v| !v.is_empty()).map(PathBuf::from) else {
        return Ok(());
    };
    if path.is_dir() {
        add_ca_dir(trusted, &path)
    } else if path.is_file() {
        add_ca_file(trusted, &path).map(drop)
    } else {
        log::debug!("{CA_BUNDLE_ENV} names a missing path, ignored");
        Ok(())
    }
}

/// Certificates the caller trusts, each with the file it came from.
type Trusted = Vec<(CertificateDer<'static>, PathBuf)>;

/// Adds the certificates of a PEM file; each must be usable as a trust anchor.
fn add_ca_file(trusted: &mut Trusted, path: &Path) -> Result<usize, TlsError> {
    let err = |reason: String| TlsError::CaCertificates {
        path: path.to_owned(),
        reason,
    };
    let mut added = 0;
    for cert in CertificateDer::pem_file_iter(path).map_err(|e| err(e.to_string()))? {
        let cert = cert.map_err(|e| err(e.to_string()))?;
        RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| err(e.to_string()))?;
        trusted.push((cert, path.to_owned()));
        added += 1;
    }
    if added == 0 {
        return Err(err("no PEM certificates found".to_owned()));
    }
    Ok(added)
}

fn add_ca_dir(trusted: &mut Trusted, dir: &Path) -> Result<(), TlsError> {
    let err = |reason: String| TlsError::CaCertificates {
        path: dir.to_owned(),
        reason,
    };
    let mut added = 0;
    for entry in std::fs::read_dir(dir).map_err(|e| err(e.to_string()))? {
        let path = entry.map_err(|e| err(e.to_string()))?.path();
        if path.is_file() {
            match add_ca_file(trusted, &path) {
                Ok(n) => added += n,
                Err(e) => log::debug!("skipping {}: {e}", path.display()),
            }
        }
    }
    if added == 0 {
        return Err(err(
            "no file in the directory holds a PEM certificate".to_owned()
        ));
    }
    Ok(())
}

fn load_client_cert(
    cert_path: &Path,
    key_path: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let cert_err = |reason: String| TlsError::ClientCertificate {
        path: cert_path.to_owned(),
        reason,
    };
    let key_err = |reason: String| TlsError::ClientCertificate {
        path: key_path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| cert_err(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_err(e.to_string()))?;
    if certs.is_empty() {
        return Err(cert_err("no PEM certificates found".to_owned()));
    }
    let key_pem = std::fs::read(key_path).map_err(|e| key_err(e.to_string()))?;
    if key_pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(key_err(
            "the private key is encrypted, which is not supported; decrypt it first \
             (for example `openssl pkey -in key.pem -out plain-key.pem`)"
                .to_owned(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            key_err("no PEM private key found".to_owned())
        }
        other => key_err(other.to_string()),
    })?;
    Ok((certs, key))
}

/// The verifier behind [`DangerousTlsOptions::accept_any_certificate`].
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem() -> String {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn the_ca_bundle_variable_adds_a_file_or_a_directory() {
        let dir = std::env::temp_dir().join(format!("ws-net-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bundle.pem");
        std::fs::write(&file, ca_pem()).unwrap();

        let mut roots = Trusted::new();
        add_env_bundle(&mut roots, Some(file.clone().into())).unwrap();
        assert_eq!(roots.len(), 1);
        add_env_bundle(&mut roots, Some(dir.clone().into())).unwrap();
        assert_eq!(roots.len(), 2);
        add_env_bundle(&mut roots, Some(dir.join("missing").into())).unwrap();
        add_env_bundle(&mut roots, Some(OsString::new())).unwrap();
        add_env_bundle(&mut roots, None).unwrap();
        assert_eq!(roots.len(), 2);

        std::fs::write(&file, "not pem").unwrap();
        let err = add_env_bundle(&mut roots, Some(file.clone().into())).unwrap_err();
        assert!(
            matches!(&err, TlsError::CaCertificates { path, .. } if *path == file),
            "{err:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn default_options_verify_with_webpki_roots_and_offer_no_alpn() {
        let config = TlsOptions::default()
            .ignore_env_ca_bundle()
            .build_config()
            .unwrap();
        assert!(config.alpn_protocols.is_empty());
        assert_eq!(TlsOptions::default().effective_server_name("h"), "h");
        assert_eq!(
            TlsOptions::default()
                .server_name("x")
                .effective_server_name("h"),
            "x"
        );
        let err = TlsOptions::default()
            .without_default_roots()
            .ignore_env_ca_bundle()
            .build_config()
            .unwrap_err();
        assert!(matches!(err, TlsError::Config { .. }), "{err:?}");
    }

    #[test]
    fn dangerous_mode_is_visible_in_debug_output() {
        let tls = TlsOptions::default().dangerous().accept_any_certificate();
        assert!(format!("{tls:?}").contains("DANGEROUS"));
    }
}
