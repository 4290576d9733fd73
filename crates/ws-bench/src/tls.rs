//! The TLS connection setup cell: connects, handshakes and drops per second over `wss://`
//! next to `ws://`, our blocking client against one in-process server (rustls, with a
//! self-signed certificate for `localhost` made by rcgen at start): a few threads per
//! listener, each accepting and serving one connection at a time (answering the upgrade,
//! then waiting for the client to go). A thread per connection capped plain setups at
//! about 1,200 a second on the 2-vCPU VM, the thread start dominating.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_handshake::ServerHandshake;

/// Either end of a server connection, plain or TLS.
trait Io: Read + Write {}
impl<T: Read + Write> Io for T {}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Starts the plain and the TLS server; returns their ports and the client config
/// trusting the certificate.
///
/// # Errors
///
/// When the certificate, the configs or the listeners cannot be made.
fn start() -> io::Result<(u16, u16, Arc<rustls::ClientConfig>)> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .map_err(io::Error::other)?;
    let cert: CertificateDer<'static> = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let server = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .map_err(io::Error::other)?;
    let server = Arc::new(server);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert).map_err(io::Error::other)?;
    let client = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let plain = TcpListener::bind("127.0.0.1:0")?;
    let tls = TcpListener::bind("127.0.0.1:0")?;
    let ports = (plain.local_addr()?.port(), tls.local_addr()?.port());
    for _ in 0..WORKERS {
        let plain = plain.try_clone()?;
        let tls = tls.try_clone()?;
        let server = Arc::clone(&server);
        thread::spawn(move || accept(&plain, None));
        thread::spawn(move || accept(&tls, Some(&server)));
    }
    Ok((ports.0, ports.1, Arc::new(client)))
}

/// Server threads per listener (the client connects one at a time).
const WORKERS: usize = 3;

/// Accepts and serves connections one after the other, forever.
fn accept(listener: &TcpListener, tls: Option<&Arc<rustls::ServerConfig>>) {
    for stream in listener.incoming().flatten() {
        let _ = stream.set_nodelay(true);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        let result = match tls {
            None => serve(stream),
            Some(config) => rustls::ServerConnection::new(Arc::clone(config))
                .map_err(io::Error::other)
                .and_then(|conn| serve(rustls::StreamOwned::new(conn, stream))),
        };
        // Clients drop the connection without a closing handshake: that is the end.
        drop(result);
    }
}

/// Answers the upgrade, then reads until the client goes.
fn serve(mut stream: impl Io) -> io::Result<()> {
    let mut handshake = ServerHandshake::new();
    let mut buf = [0; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        match handshake.feed(&buf[..n]) {
            Ok(Some(accepted)) => {
                stream.write_all(&accepted.response)?;
                stream.flush()?;
                break;
            }
            Ok(None) => {}
            Err(e) => return Err(io::Error::other(e.to_string())),
        }
    }
    while stream.read(&mut buf)? > 0 {}
    Ok(())
}

/// Setup rates of ours over `ws://` and `wss://`, interleaved in `slices` turns after a
/// warm-up: `[(connections, seconds) plain, (connections, seconds) tls]`.
///
/// # Errors
///
/// Any connection or handshake failure.
pub(crate) fn setup(
    warmup: Duration,
    time: Duration,
    slices: u32,
) -> io::Result<[(u64, Duration); 2]> {
    let (plain, tls, config) = start()?;
    let plain_url = format!("ws://127.0.0.1:{plain}/setup");
    let tls_url = format!("wss://127.0.0.1:{tls}/setup");
    let secure = ws_client::ClientBuilder::new().net(
        ws_client::NetOptions::new()
            .tls(ws_client::TlsOptions::from_rustls_config(config).server_name("localhost")),
    );
    let builders = [
        (ws_client::ClientBuilder::new(), plain_url, plain),
        (secure, tls_url, tls),
    ];
    for (builder, url, port) in &builders {
        connect_for(builder, url, *port, warmup)?;
    }
    let mut totals = [(0, Duration::ZERO); 2];
    let slices = slices.max(1);
    for round in 0..slices as usize {
        for turn in 0..2 {
            let index = (round + turn) % 2;
            let (builder, url, port) = &builders[index];
            let (count, elapsed) = connect_for(builder, url, *port, time / slices)?;
            totals[index].0 += count;
            totals[index].1 += elapsed;
        }
    }
    Ok(totals)
}

/// Connects and drops connections until `time` has passed (at least one).
fn connect_for(
    builder: &ws_client::ClientBuilder,
    url: &str,
    port: u16,
    time: Duration,
) -> io::Result<(u64, Duration)> {
    let start = Instant::now();
    let mut count = 0;
    loop {
        let tcp = TcpStream::connect(("127.0.0.1", port))?;
        tcp.set_nodelay(true)?;
        socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO))?;
        drop(builder.connect_on(url, tcp).map_err(io::Error::other)?);
        count += 1;
        let elapsed = start.elapsed();
        if elapsed >= time {
            return Ok((count, elapsed));
        }
    }
}
