//! TLS against real rustls servers with certificates made by rcgen in each test. Run for
//! the blocking and the tokio path (`super::connect`).

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use ws_net::{Endpoint, Error, Limit, Phase, ProxyConfig, TlsError, TlsOptions, rustls};

use super::connect;

use crate::common::{
    Ca, Echo, IO_TIMEOUT, Leaf, Opts, SilentServer, Step, TempDir, TlsEchoServer,
    assert_cut_by_deadline, scripted, server_config,
};

pub(crate) fn options(tls: TlsOptions) -> Opts {
    Opts::default()
        .proxy(ProxyConfig::None)
        .read_timeout(Some(IO_TIMEOUT))
        .write_timeout(Some(IO_TIMEOUT))
        .tls(tls.ignore_env_ca_bundle())
}

pub(crate) fn wss(host: &str, server: &TlsEchoServer) -> Endpoint {
    Endpoint::parse(&format!("wss://{host}:{}/echo", server.addr.port())).unwrap()
}

pub(crate) fn echo_roundtrip(stream: &mut (impl Read + Write)) {
    stream.write_all(b"hello over tls").unwrap();
    let mut buf = [0u8; 14];
    stream.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello over tls");
}

/// A check that an error is one specific variant.
type IsVariant = fn(&TlsError) -> bool;

fn tls_error<S: std::fmt::Debug>(result: ws_net::Result<S>) -> TlsError {
    match result {
        Err(Error::Tls(err)) => err,
        other => panic!("expected a tls error, got {other:?}"),
    }
}

#[test]
fn verifies_a_valid_certificate_from_a_ca_file() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let ca_file = dir.write("ca.pem", &ca.pem());
    let mut stream = connect(
        &wss("localhost", &server),
        &options(TlsOptions::default().ca_file(&ca_file)),
    )
    .unwrap();
    assert!(stream.is_tls());
    echo_roundtrip(&mut stream);
    stream.shutdown().unwrap();
    // The server saw a close_notify, not a truncated stream.
    assert_eq!(server.ends.recv_timeout(IO_TIMEOUT).unwrap(), Ok(()));
}

#[test]
fn trusts_a_ca_directory() {
    let dir = TempDir::new();
    let ca = Ca::new("dir ca");
    dir.write("README", "not a certificate");
    dir.write("ca.crt", &ca.pem());
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default()
        .without_default_roots()
        .ca_dir(dir.path());
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
}

#[test]
fn rejects_a_certificate_for_another_name_listing_its_names() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let leaf = ca.leaf(&["example.test", "www.example.test"]);
    let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let err = tls_error(connect(&wss("localhost", &server), &options(tls)));
    let TlsError::NameMismatch { host, presented } = &err else {
        panic!("expected a name mismatch, got {err:?}");
    };
    assert_eq!(host, "localhost");
    assert!(
        presented.iter().any(|n| n.contains("www.example.test")),
        "{presented:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("not valid for the name localhost") && text.contains("example.test"),
        "{text}"
    );
}

#[test]
fn server_name_override_verifies_against_the_given_name() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["example.test"]), None, &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default()
        .ca_file(dir.write("ca.pem", &ca.pem()))
        .server_name("example.test");
    let mut stream = connect(&wss("127.0.0.1", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
}

#[test]
fn rejects_a_certificate_from_an_unknown_ca() {
    let dir = TempDir::new();
    let trusted = Ca::new("trusted");
    let other = Ca::new("other");
    let server = TlsEchoServer::start(
        server_config(&other.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &trusted.pem()));
    let err = tls_error(connect(&wss("localhost", &server), &options(tls)));
    assert!(
        matches!(&err, TlsError::UnknownIssuer { host } if host == "localhost"),
        "{err:?}"
    );
    assert!(err.to_string().contains("unknown issuer"), "{err}");
    // Nothing trusted at all: the webpki roots don't know the test CA either.
    let err = tls_error(connect(
        &wss("localhost", &server),
        &options(TlsOptions::default()),
    ));
    assert!(matches!(err, TlsError::UnknownIssuer { .. }), "{err:?}");
}

#[test]
fn rejects_an_expired_certificate() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let leaf = ca.leaf_with(&["localhost"], |p| {
        p.not_before = rcgen::date_time_ymd(2019, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 1, 1);
    });
    let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let err = tls_error(connect(&wss("localhost", &server), &options(tls)));
    assert!(
        matches!(&err, TlsError::Expired { host, .. } if host == "localhost"),
        "{err:?}"
    );
    assert!(err.to_string().contains("expired"), "{err}");
}

#[test]
fn presents_a_client_certificate_when_the_server_requires_one() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let client_ca = Ca::new("client ca");
    let client = client_ca.leaf(&["client.test"]);
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), Some(&client_ca), &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default()
        .ca_file(dir.write("ca.pem", &ca.pem()))
        .client_cert(
            dir.write("client.pem", &client.cert_pem),
            dir.write("client.key", &client.key_pem),
        );
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
}

#[test]
fn without_a_client_certificate_the_servers_alert_is_reported() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let client_ca = Ca::new("client ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), Some(&client_ca), &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    // TLS 1.3: the client finishes its side first; the server's alert arrives on read.
    let result = connect(&wss("localhost", &server), &options(tls)).and_then(|mut s| {
        let _ = s.write_all(b"x");
        let mut buf = [0u8; 1];
        s.read(&mut buf).map_err(|source| Error::Io {
            op: "read",
            target: "test".into(),
            source,
        })
    });
    let text = match result {
        Err(Error::Tls(err)) => err.to_string(),
        Err(Error::Io { source, .. }) => {
            let inner = source.get_ref().and_then(|e| e.downcast_ref::<TlsError>());
            assert!(
                matches!(inner, Some(TlsError::Alert { alert, .. }) if alert == "CertificateRequired"),
                "{source:?}"
            );
            source.to_string()
        }
        other => panic!("expected the server to refuse, got {other:?}"),
    };
    assert!(text.contains("CertificateRequired"), "{text}");
}

#[test]
fn refuses_an_encrypted_client_key_clearly() {
    let dir = TempDir::new();
    let ca = Ca::new("client ca");
    let client = ca.leaf(&["client.test"]);
    let key = dir.write(
        "enc.key",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n",
    );
    let tls = TlsOptions::default().client_cert(dir.write("c.pem", &client.cert_pem), &key);
    let err = tls.build_config().unwrap_err();
    assert!(
        matches!(&err, TlsError::ClientCertificate { path, .. } if *path == key),
        "{err:?}"
    );
    assert!(err.to_string().contains("encrypted"), "{err}");
    let missing = TlsOptions::default().ca_file(dir.path().join("missing.pem"));
    assert!(matches!(
        missing.build_config(),
        Err(TlsError::CaCertificates { .. })
    ));
    let not_pem = TlsOptions::default().ca_file(dir.write("x.pem", "hello"));
    let err = not_pem.build_config().unwrap_err();
    assert!(err.to_string().contains("no PEM certificates"), "{err}");
}

#[test]
fn accept_any_certificate_connects_to_an_untrusted_server() {
    let ca = Ca::new("nobody trusts me");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["elsewhere.test"]), None, &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default().dangerous().accept_any_certificate();
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
}

#[test]
fn offers_alpn_and_reports_the_choice() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &["x-second", "x-first"]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default()
        .ca_file(dir.write("ca.pem", &ca.pem()))
        .alpn(["x-first", "x-second"]);
    let stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    assert_eq!(stream.alpn_protocol().as_deref(), Some(&b"x-second"[..]));
}

#[test]
fn uses_a_callers_rustls_config_as_is() {
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tls = TlsOptions::from_rustls_config(Arc::new(config));
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
}

/// A server that answers the `ClientHello` with the header of a 16 KiB record and then one
/// byte of it every 100 ms, each well inside the 2 s read timeout: the connect's deadline
/// still ends the TLS handshake.
#[test]
fn a_tls_server_dripping_inside_the_read_timeout_is_cut_by_the_deadline() {
    let mut record = vec![0x16, 0x03, 0x03, 0x40, 0x00];
    record.extend(std::iter::repeat_n(0u8, 200));
    let (addr, _seen) = scripted(vec![Step::Drip(record, Duration::from_millis(100))]);
    let endpoint = Endpoint::parse(&format!("wss://127.0.0.1:{}/", addr.port())).unwrap();
    let opts = Opts::default()
        .proxy(ProxyConfig::None)
        .read_timeout(Some(Duration::from_secs(2)))
        .write_timeout(Some(Duration::from_secs(2)))
        .deadline(Some(Duration::from_millis(700)));
    let start = std::time::Instant::now();
    let err = connect(&endpoint, &opts).unwrap_err();
    assert_cut_by_deadline(&err, Phase::TlsHandshake, Duration::from_millis(700), start);
}

#[test]
fn a_silent_tls_peer_ends_in_a_timeout_naming_the_handshake() {
    let silent = SilentServer::start();
    let endpoint = Endpoint::parse(&format!("wss://127.0.0.1:{}/", silent.addr.port())).unwrap();
    let opts = Opts::default()
        .proxy(ProxyConfig::None)
        .deadline(Some(Duration::from_millis(300)));
    let start = std::time::Instant::now();
    let err = connect(&endpoint, &opts).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::TlsHandshake,
                limit: Some(Limit::Deadline { .. }),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("tls handshake"), "{err}");
    // A per-operation read timeout also bounds the handshake when there is no deadline.
    let opts = opts
        .deadline(None)
        .read_timeout(Some(Duration::from_millis(200)));
    let err = connect(&endpoint, &opts).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: Phase::TlsHandshake,
                limit: Some(Limit::Timeout(_)),
                ..
            }
        ),
        "{err:?}"
    );
}

/// Set in the environment of the child process started by
/// `writes_session_keys_to_the_sslkeylogfile`.
const KEYLOG_CHILD: &str = "WS_NET_TEST_KEYLOG_CHILD";

/// `SSLKEYLOGFILE` is read from the process environment, so the connection runs in a
/// child process (this test binary, running `keylog_child_connects` with the variable
/// set) instead of changing this process's environment.
#[test]
fn writes_session_keys_to_the_sslkeylogfile() {
    let dir = TempDir::new();
    let keylog = dir.path().join("keys.log");
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            &format!("{}::keylog_child_connects", test_path()),
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(KEYLOG_CHILD, "1")
        .env("SSLKEYLOGFILE", &keylog)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let keys = std::fs::read_to_string(&keylog).unwrap();
    assert!(keys.contains("CLIENT_TRAFFIC_SECRET_0 "), "{keys}");
}

/// This module's path as the test harness names it (`tls` or `on_tokio::tls`).
fn test_path() -> &'static str {
    module_path!()
        .split_once("::")
        .map_or(module_path!(), |(_, rest)| rest)
}

/// The child half of `writes_session_keys_to_the_sslkeylogfile`; does nothing otherwise.
#[test]
fn keylog_child_connects() {
    if std::env::var_os(KEYLOG_CHILD).is_none() {
        return;
    }
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
}

/// The self-signed `CA:TRUE` certificate of the usual openssl one-liner, trusted as the CA
/// file, is accepted as the server's own (OpenSSL does the same); untrusted, it is refused
/// with a sentence saying how to trust it.
#[test]
fn trusts_a_self_signed_ca_certificate_given_as_the_ca_file() {
    let dir = TempDir::new();
    let leaf = Leaf::self_signed_ca(&["localhost"], |_| {});
    let cert_file = dir.write("cert.pem", &leaf.cert_pem);
    let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
    let tls = TlsOptions::default().ca_file(&cert_file);
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);

    // The same through a CA directory, and with only that certificate trusted.
    let tls = TlsOptions::default()
        .without_default_roots()
        .ca_dir(dir.path());
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);

    let err = tls_error(connect(
        &wss("localhost", &server),
        &options(TlsOptions::default()),
    ));
    assert!(
        matches!(&err, TlsError::CaUsedAsEndEntity { host } if host == "localhost"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "tls: certificate of localhost is a CA certificate (basicConstraints CA:TRUE), which \
         cannot be a server's own unless trusted by itself; if this is your server's \
         self-signed certificate, pass that file with TlsOptions::ca_file (wsdump \
         --ca-file), or issue the server a certificate signed by this CA"
    );
}

/// A trusted self-signed certificate still has to carry the name connected to.
#[test]
fn a_trusted_self_signed_certificate_must_match_the_name() {
    let dir = TempDir::new();
    let leaf = Leaf::self_signed_ca(&["localhost"], |_| {});
    let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
    let tls = TlsOptions::default().ca_file(dir.write("cert.pem", &leaf.cert_pem));
    let err = tls_error(connect(&wss("127.0.0.1", &server), &options(tls)));
    let TlsError::NameMismatch { host, presented } = &err else {
        panic!("expected a name mismatch, got {err:?}");
    };
    assert_eq!(host, "127.0.0.1");
    assert_eq!(presented, &["DNS:localhost"]);
    assert_eq!(
        err.to_string(),
        "tls: certificate of localhost is not valid for the name 127.0.0.1: it covers \
         DNS:localhost; connect with that name (or set TlsOptions::server_name), or skip \
         verification for a test server (wsdump --nocert)"
    );
}

/// A trusted self-signed certificate still has to be within its validity dates.
#[test]
fn a_trusted_self_signed_certificate_must_be_current() {
    let dir = TempDir::new();
    for (not_before, not_after, expected) in [
        (
            (2019, 1, 1),
            (2020, 1, 1),
            "tls: certificate of localhost expired on 2020-01-01 00:00:00 UTC; renew it on \
             the server, or check this machine's clock",
        ),
        (
            (2090, 1, 1),
            (2091, 1, 1),
            "tls: certificate of localhost is not valid yet, only from 2090-01-01 00:00:00 \
             UTC; check this machine's clock, or reissue the certificate with an earlier start",
        ),
    ] {
        let leaf = Leaf::self_signed_ca(&["localhost"], |p| {
            p.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
            p.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        });
        let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
        let tls = TlsOptions::default().ca_file(dir.write("cert.pem", &leaf.cert_pem));
        let err = tls_error(connect(&wss("localhost", &server), &options(tls)));
        if not_before.0 < 2025 {
            assert!(
                matches!(
                    &err,
                    TlsError::Expired {
                        not_after: Some(_),
                        ..
                    }
                ),
                "{err:?}"
            );
        } else {
            assert!(
                matches!(
                    &err,
                    TlsError::NotValidYet {
                        not_before: Some(_),
                        ..
                    }
                ),
                "{err:?}"
            );
        }
        assert_eq!(err.to_string(), expected);
    }
}

/// The certificate the openssl one-liner makes, when `openssl` is installed.
#[test]
fn trusts_the_certificate_of_the_openssl_one_liner() {
    let dir = TempDir::new();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    match made {
        Ok(status) if status.success() => {}
        other => {
            println!("note: openssl is not usable ({other:?}); skipping the openssl-made case");
            return;
        }
    }
    let leaf = Leaf::from_pem_files(&cert, &key);
    let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
    let tls = TlsOptions::default().ca_file(&cert);
    let mut stream = connect(&wss("localhost", &server), &options(tls)).unwrap();
    echo_roundtrip(&mut stream);
    let err = tls_error(connect(
        &wss("localhost", &server),
        &options(TlsOptions::default()),
    ));
    assert!(matches!(err, TlsError::CaUsedAsEndEntity { .. }), "{err:?}");
}

/// The remaining certificate failures each read as a sentence with a fix.
#[test]
fn certificate_failures_are_sentences_with_a_fix() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let ca_file = dir.write("ca.pem", &ca.pem());
    let cases: [(Leaf, &str, IsVariant, &str); 3] = [
        (
            Ca::new("other").leaf(&["localhost"]),
            "localhost",
            |e| matches!(e, TlsError::UnknownIssuer { .. }),
            "tls: certificate of localhost is signed by an unknown issuer (not among the \
             trusted roots); trust its CA, or a self-signed server's own certificate, with \
             TlsOptions::ca_file (wsdump --ca-file), or skip verification for a test server \
             (wsdump --nocert)",
        ),
        (
            ca.leaf(&["a.test", "b.test"]),
            "localhost",
            |e| matches!(e, TlsError::NameMismatch { .. }),
            "tls: certificate of a.test is not valid for the name localhost: it covers \
             DNS:a.test, DNS:b.test; connect with one of those names (or set \
             TlsOptions::server_name), or skip verification for a test server (wsdump \
             --nocert)",
        ),
        (
            ca.leaf_with(&["localhost"], |p| {
                p.not_before = rcgen::date_time_ymd(2019, 1, 1);
                p.not_after = rcgen::date_time_ymd(2020, 6, 30);
            }),
            "localhost",
            |e| {
                matches!(
                    e,
                    TlsError::Expired {
                        not_after: Some(_),
                        ..
                    }
                )
            },
            "tls: certificate of localhost expired on 2020-06-30 00:00:00 UTC; renew it on \
             the server, or check this machine's clock",
        ),
    ];
    for (leaf, host, is_variant, expected) in cases {
        let server = TlsEchoServer::start(server_config(&leaf, None, &[]), Echo::Chunks);
        let tls = TlsOptions::default().ca_file(&ca_file);
        let err = tls_error(connect(&wss(host, &server), &options(tls)));
        assert!(is_variant(&err), "{err:?}");
        assert_eq!(err.to_string(), expected);
        assert!(!err.to_string().contains("Other("), "{err}");
    }
}

/// A server presenting the trusted self-signed certificate without holding its key: the
/// byte-for-byte match does not skip the handshake signature check.
#[test]
fn a_trusted_certificate_without_its_key_is_refused() {
    use rustls::server::{ClientHello, ResolvesServerCert};
    use rustls::sign::CertifiedKey;

    #[derive(Debug)]
    struct Impostor(Arc<CertifiedKey>);
    impl ResolvesServerCert for Impostor {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            Some(self.0.clone())
        }
    }

    let dir = TempDir::new();
    let trusted = Leaf::self_signed_ca(&["localhost"], |_| {});
    let other = Leaf::self_signed_ca(&["localhost"], |_| {});
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let wrong_key = provider.key_provider.load_private_key(other.key).unwrap();
    let certified = CertifiedKey::new(vec![trusted.cert.clone()], wrong_key);
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(Impostor(Arc::new(certified))));
    let server = TlsEchoServer::start(Arc::new(config), Echo::Chunks);
    let tls = TlsOptions::default().ca_file(dir.write("cert.pem", &trusted.cert_pem));
    let err = tls_error(connect(&wss("localhost", &server), &options(tls)));
    assert!(
        matches!(&err, TlsError::BadCertificate { reason, .. } if reason.contains("private key")),
        "{err:?}"
    );
}
