//! What only the blocking [`Stream`] has: socket timeouts, splitting into halves used from
//! two threads, wrapping a socket the caller connected. Blocking path only.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ws_net::rustls::pki_types::UnixTime;
use ws_net::{Endpoint, Stream, TlsError, TlsOptions, rustls};

use crate::common::{Ca, Echo, IO_TIMEOUT, TempDir, TlsEchoServer, server_config, tcp_echo_server};
use crate::connect::{direct, roundtrip};
use crate::tls::{echo_roundtrip, options, wss};

#[test]
fn connects_over_plain_tcp_with_the_configured_timeouts() {
    let addr = tcp_echo_server();
    let endpoint = Endpoint::parse(&format!("ws://127.0.0.1:{}/", addr.port())).unwrap();
    let mut stream = crate::connect(&endpoint, &direct()).unwrap();
    assert!(!stream.is_tls());
    assert_eq!(stream.peer_addr().unwrap(), addr);
    assert_eq!(stream.read_timeout().unwrap(), Some(IO_TIMEOUT));
    assert_eq!(stream.write_timeout().unwrap(), Some(IO_TIMEOUT));
    roundtrip(&mut stream);
    stream.shutdown().unwrap();
}

#[test]
fn split_plain_stream_works_from_two_threads() {
    let live = tcp_echo_server();
    let tcp = TcpStream::connect(live).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let (mut reader, mut writer) = Stream::from_tcp(tcp).split();
    let t = thread::spawn(move || {
        let mut buf = [0u8; 5];
        reader.read_exact(&mut buf).map(|()| buf)
    });
    writer.write_all(b"hello").unwrap();
    assert_eq!(&t.join().unwrap().unwrap(), b"hello");
    writer.shutdown().unwrap();
}

#[test]
fn socket_options_apply_to_a_socket_the_caller_connected() {
    let live = tcp_echo_server();
    let tcp = TcpStream::connect(live).unwrap();
    tcp.set_nodelay(false).unwrap();
    ws_net::SocketOptions::default().apply_to(&tcp).unwrap();
    assert!(tcp.nodelay().unwrap());
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let mut stream = Stream::from_tcp(tcp);
    roundtrip(&mut stream);
}

#[test]
fn a_peer_that_stops_reading_makes_tls_writes_time_out() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Hold,
    );
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let opts = options(tls).write_timeout(Some(Duration::from_millis(200)));
    let stream = crate::connect(&wss("localhost", &server), &opts).unwrap();
    let (_reader, mut writer) = stream.split();
    let chunk = vec![7u8; 64 * 1024];
    // Loopback buffers hold a few megabytes at most; 256 MiB cannot all fit.
    let err = (0..4096)
        .find_map(|_| writer.write_all(&chunk).and_then(|()| writer.flush()).err())
        .expect("writes to a peer that never reads must time out");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{err:?}"
    );
}

#[test]
fn wraps_a_socket_the_caller_connected() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let tcp = TcpStream::connect(server.addr).unwrap();
    tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let mut stream = Stream::wrap_tls(tcp, "localhost", &tls).unwrap();
    assert_eq!(stream.read_timeout().unwrap(), Some(IO_TIMEOUT));
    echo_roundtrip(&mut stream);
}

/// One thread blocks reading while another writes, over TLS: the reader's blocking socket
/// read holds no lock, so the writer gets through and the server (which answers only
/// after `END`) replies.
#[test]
fn split_tls_stream_reads_and_writes_from_two_threads_at_once() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::AfterEnd,
    );
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let stream = crate::connect(&wss("localhost", &server), &options(tls)).unwrap();
    let (mut reader, mut writer) = stream.split();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let reading = thread::spawn(move || {
        started_tx.send(()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.ends_with(b"END") {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        Ok::<_, io::Error>(got)
    });
    started_rx.recv().unwrap();
    let mut sent = Vec::new();
    for i in 0..50 {
        let chunk = format!("message {i};");
        writer.write_all(chunk.as_bytes()).unwrap();
        sent.extend_from_slice(chunk.as_bytes());
    }
    writer.write_all(b"END").unwrap();
    writer.flush().unwrap();
    sent.extend_from_slice(b"END");
    assert_eq!(reading.join().unwrap().unwrap(), sent);
}

/// Full duplex under load: a megabyte goes out while the echo comes back concurrently,
/// more than the socket buffers hold, so neither side may wait for the other.
#[test]
fn split_tls_stream_streams_a_megabyte_both_ways() {
    let dir = TempDir::new();
    let ca = Ca::new("test ca");
    let server = TlsEchoServer::start(
        server_config(&ca.leaf(&["localhost"]), None, &[]),
        Echo::Chunks,
    );
    let tls = TlsOptions::default().ca_file(dir.write("ca.pem", &ca.pem()));
    let stream = crate::connect(&wss("localhost", &server), &options(tls)).unwrap();
    let (mut reader, mut writer) = stream.split();
    let data: Vec<u8> = (0..1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let expected = data.clone();
    let reading = thread::spawn(move || {
        let mut got = vec![0u8; expected.len()];
        reader.read_exact(&mut got).unwrap();
        assert!(got == expected, "echoed bytes differ");
        reader
    });
    for chunk in data.chunks(10_000) {
        writer.write_all(chunk).unwrap();
    }
    writer.flush().unwrap();
    let reader = reading.join().unwrap();
    let stream = Stream::reunite(reader, writer).unwrap();
    stream.shutdown().unwrap();
}

/// A check that an error is one specific variant.
type IsVariant = fn(&TlsError) -> bool;

#[test]
#[allow(clippy::too_many_lines, reason = "one row per rustls error")]
fn tls_errors_map_rustls_variants() {
    use rustls::CertificateError as C;
    let webpki = |e: webpki::Error| {
        rustls::Error::InvalidCertificate(C::Other(rustls::OtherError(Arc::new(e))))
    };
    let cases: [(rustls::Error, IsVariant, &str); 13] = [
        (
            rustls::Error::InvalidCertificate(C::UnknownIssuer),
            |e| matches!(e, TlsError::UnknownIssuer { .. }),
            "unknown issuer",
        ),
        (
            rustls::Error::InvalidCertificate(C::Expired),
            |e| {
                matches!(
                    e,
                    TlsError::Expired {
                        not_after: None,
                        ..
                    }
                )
            },
            "tls: certificate of h.test expired; renew it",
        ),
        (
            rustls::Error::InvalidCertificate(C::ExpiredContext {
                time: UnixTime::since_unix_epoch(Duration::from_secs(2)),
                not_after: UnixTime::since_unix_epoch(Duration::from_secs(1)),
            }),
            |e| {
                matches!(
                    e,
                    TlsError::Expired {
                        not_after: Some(_),
                        ..
                    }
                )
            },
            "expired on 1970-01-01 00:00:01 UTC",
        ),
        (
            rustls::Error::InvalidCertificate(C::NotValidYet),
            |e| {
                matches!(
                    e,
                    TlsError::NotValidYet {
                        not_before: None,
                        ..
                    }
                )
            },
            "not valid yet; check this machine's clock",
        ),
        (
            rustls::Error::InvalidCertificate(C::InvalidPurpose),
            |e| matches!(e, TlsError::NotForServers { .. }),
            "lacks serverAuth); reissue it with extendedKeyUsage=serverAuth",
        ),
        (
            webpki(webpki::Error::CaUsedAsEndEntity),
            |e| matches!(e, TlsError::CaUsedAsEndEntity { .. }),
            "is a CA certificate (basicConstraints CA:TRUE)",
        ),
        (
            webpki(webpki::Error::EndEntityUsedAsCa),
            |e| matches!(e, TlsError::BadCertificate { .. }),
            "rejected: the chain uses a non-CA certificate as an issuer; send the right \
             intermediate certificates",
        ),
        (
            rustls::Error::InvalidCertificate(C::BadSignature),
            |e| matches!(e, TlsError::BadCertificate { .. }),
            "rejected: a signature does not verify: its issuer did not sign it",
        ),
        (
            rustls::Error::InvalidCertificate(C::UnknownRevocationStatus),
            |e| matches!(e, TlsError::BadCertificate { .. }),
            "rejected: its revocation status cannot be established",
        ),
        (
            rustls::Error::InvalidCertificate(C::ApplicationVerificationFailure),
            |e| matches!(e, TlsError::BadCertificate { .. }),
            "rejected: the caller's own certificate verifier refused it",
        ),
        (
            rustls::Error::InvalidCertificate(C::Revoked),
            |e| matches!(e, TlsError::BadCertificate { .. }),
            "rejected: it has been revoked by its issuer",
        ),
        (
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired),
            |e| matches!(e, TlsError::Alert { alert, .. } if alert == "CertificateRequired"),
            "alert CertificateRequired; the server wants a client certificate: pass one \
             with TlsOptions::client_cert",
        ),
        (
            rustls::Error::DecryptError,
            |e| matches!(e, TlsError::Handshake { .. }),
            "handshake with h.test failed",
        ),
    ];
    for (err, is_variant, needle) in cases {
        let mapped = TlsError::from_rustls("h.test", &err);
        assert!(is_variant(&mapped), "{err:?} gave {mapped:?}");
        let text = mapped.to_string();
        assert!(text.contains(needle) && text.contains("h.test"), "{text}");
        assert!(!text.contains("Other("), "{text}");
    }
}
