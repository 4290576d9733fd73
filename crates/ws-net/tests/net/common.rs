//! Shared fixtures: certificates, a TLS echo server, proxy processes, temp dirs, a log
//! capture.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use ws_net::rustls;
use ws_net::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_net::rustls::server::WebPkiClientVerifier;
use ws_net::rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};

/// Every socket in the tests uses this timeout, so a bug fails instead of hanging.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A directory removed on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "ws-net-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub(crate) fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A certificate authority made for one test.
pub(crate) struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A leaf certificate and its key.
pub(crate) struct Leaf {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
    pub(crate) cert: CertificateDer<'static>,
    pub(crate) key: PrivateKeyDer<'static>,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        Self { issuer }
    }

    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub(crate) fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A leaf for `names` (DNS names or IP addresses).
    pub(crate) fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with(names, |_| {})
    }

    pub(crate) fn leaf_with(
        &self,
        names: &[&str],
        edit: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        edit(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

impl Leaf {
    /// A self-signed certificate made the way `openssl req -x509 -newkey rsa:2048 -nodes
    /// -subj /CN=localhost -addext subjectAltName=DNS:localhost` makes it: the subject
    /// is `CN=localhost`, the SAN lists the names, and OpenSSL's default `v3_ca` section
    /// marks it `basicConstraints = critical, CA:TRUE`. `edit` may change the dates.
    pub(crate) fn self_signed_ca(
        names: &[&str],
        edit: impl FnOnce(&mut CertificateParams),
    ) -> Self {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        edit(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// The certificate and key in PEM files (as `openssl req` writes them).
    pub(crate) fn from_pem_files(cert: &Path, key: &Path) -> Self {
        use ws_net::rustls::pki_types::pem::PemObject;
        let cert_pem = std::fs::read_to_string(cert).unwrap();
        let key_pem = std::fs::read_to_string(key).unwrap();
        Self {
            cert: CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap(),
            key: PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap(),
            cert_pem,
            key_pem,
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A server config presenting `leaf`, optionally requiring a client certificate from `client_ca`.
pub(crate) fn server_config(
    leaf: &Leaf,
    client_ca: Option<&Ca>,
    alpn: &[&str],
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            roots.add(ca.der()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(vec![leaf.cert.clone()], leaf.key.clone_key())
        .unwrap();
    config.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(config)
}

/// How the echo server answers.
#[derive(Clone, Copy)]
pub(crate) enum Echo {
    /// Echo every chunk as it arrives.
    Chunks,
    /// Collect until the bytes `END` arrive, then send everything back at once.
    AfterEnd,
    /// Finish the handshake, then neither read nor write for `IO_TIMEOUT`.
    Hold,
}

/// A TLS echo server on 127.0.0.1 running in background threads.
pub(crate) struct TlsEchoServer {
    pub(crate) addr: SocketAddr,
    /// How each connection ended: `Ok` after a clean TLS close, else the server's error.
    pub(crate) ends: mpsc::Receiver<Result<(), String>>,
}

impl TlsEchoServer {
    /// Listens on both `::1` and `127.0.0.1` (a dual-stack socket) when IPv6 is
    /// available, since some proxies resolve `localhost` to `::1`; `addr` is the IPv4 one.
    pub(crate) fn start(config: Arc<ServerConfig>, mode: Echo) -> Self {
        let listener = TcpListener::bind("[::]:0")
            .or_else(|_| TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = SocketAddr::from(([127, 0, 0, 1], listener.local_addr().unwrap().port()));
        let (tx, ends) = mpsc::channel();
        thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { return };
                let config = config.clone();
                let tx = tx.clone();
                thread::spawn(move || {
                    let _ = tx.send(serve(tcp, config, mode).map_err(|e| e.to_string()));
                });
            }
        });
        Self { addr, ends }
    }
}

fn serve(tcp: TcpStream, config: Arc<ServerConfig>, mode: Echo) -> io::Result<()> {
    tcp.set_read_timeout(Some(IO_TIMEOUT))?;
    tcp.set_write_timeout(Some(IO_TIMEOUT))?;
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    if let Echo::Hold = mode {
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        let start = Instant::now();
        while start.elapsed() < IO_TIMEOUT {
            thread::park_timeout(IO_TIMEOUT);
        }
        return Ok(());
    }
    let mut buf = vec![0u8; 64 * 1024];
    let mut collected = Vec::new();
    loop {
        let n = tls.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        match mode {
            Echo::Chunks => tls.write_all(&buf[..n])?,
            Echo::Hold => {}
            Echo::AfterEnd => {
                collected.extend_from_slice(&buf[..n]);
                if collected.ends_with(b"END") {
                    tls.write_all(&collected)?;
                    collected.clear();
                }
            }
        }
        tls.flush()?;
    }
}

/// A plain TCP echo server on 127.0.0.1.
pub(crate) fn tcp_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { return };
            thread::spawn(move || {
                tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = tcp.read(&mut buf) {
                    if tcp.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub(crate) fn dead_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback address whose connects time out instead of being refused: a listener that
/// never accepts, with its accept queue filled, makes Linux drop further SYNs. Returns the
/// listener and the sockets that fill its queue, to keep alive while the address is used.
pub(crate) fn blackhole() -> (socket2::Socket, Vec<TcpStream>, SocketAddr) {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let mut filling = Vec::new();
    for _ in 0..16 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => filling.push(stream),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return (listener, filling, addr),
            Err(e) => panic!("unexpected error while filling the accept queue: {e}"),
        }
    }
    panic!("the accept queue of {addr} never filled up");
}

/// A listener that accepts connections and never sends a byte; connections stay open
/// for the listener's lifetime.
pub(crate) struct SilentServer {
    pub(crate) addr: SocketAddr,
    _keep: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let keep = Arc::new(Mutex::new(Vec::new()));
        let k = keep.clone();
        thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                k.lock().unwrap().push(tcp);
            }
        });
        Self { addr, _keep: keep }
    }
}

/// One step of a scripted peer: read bytes, then write a reply.
pub(crate) enum Step {
    /// Read exactly this many bytes.
    Read(usize),
    /// Read until a blank line (`\r\n\r\n`).
    ReadHead,
    /// Write these bytes.
    Write(Vec<u8>),
    /// Write these bytes one at a time, pausing between them (a slow peer).
    Drip(Vec<u8>, Duration),
    /// Close the connection.
    Close,
}

/// A listener that runs `steps` on its first connection and reports what it read.
pub(crate) fn scripted(steps: Vec<Step>) -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut seen = Vec::new();
        for step in steps {
            match step {
                Step::Read(n) => {
                    let mut buf = vec![0u8; n];
                    if tcp.read_exact(&mut buf).is_err() {
                        break;
                    }
                    seen.extend_from_slice(&buf);
                }
                Step::ReadHead => {
                    let mut byte = [0u8; 1];
                    while !seen.ends_with(b"\r\n\r\n") {
                        if tcp.read_exact(&mut byte).is_err() {
                            break;
                        }
                        seen.push(byte[0]);
                    }
                }
                Step::Write(bytes) => {
                    let _ = tcp.write_all(&bytes);
                }
                Step::Drip(bytes, pause) => {
                    for byte in bytes {
                        if tcp.write_all(&[byte]).is_err() {
                            break;
                        }
                        // The pause is the behaviour under test, not synchronisation.
                        thread::sleep(pause);
                    }
                }
                Step::Close => {
                    drop(tcp);
                    let _ = tx.send(seen);
                    return;
                }
            }
        }
        let _ = tx.send(seen);
        // Keep the socket open until the client is done with it.
        let mut rest = [0u8; 64];
        let _ = tcp.read(&mut rest);
    });
    (addr, rx)
}

/// A proxy server process on 127.0.0.1, killed on drop.
pub(crate) struct ProxyProcess {
    pub(crate) port: u16,
    child: Child,
}

impl ProxyProcess {
    /// `pproxy` listening with the given scheme list, e.g. `"http"` or `"socks5"`, and
    /// optional `user:password`.
    pub(crate) fn pproxy(schemes: &str, auth: Option<&str>) -> Self {
        let port = dead_port();
        let mut listen = format!("{schemes}://127.0.0.1:{port}");
        if let Some(auth) = auth {
            listen.push('#');
            listen.push_str(auth);
        }
        Self::spawn(port, &["-m", "pproxy", "-l", &listen])
    }

    /// `gera2ld.socks` serving SOCKS4, SOCKS4a and SOCKS5. Its command line cannot turn on
    /// version 4, so the server is started from a short script, which also points its
    /// name lookups at the system resolver: its own DNS client asks DNS servers only and
    /// cannot resolve `localhost` without network.
    pub(crate) fn gera2ld(auth: Option<(&str, &str)>) -> Self {
        let port = dead_port();
        let auth = auth.map_or(String::new(), |(u, p)| {
            format!("c.set_user({u:?}, {p:?})\n")
        });
        let script = format!(
            "import asyncio, socket\n\
             import gera2ld.socks.server.base as base\n\
             from gera2ld.pyserve import run_forever\n\
             from gera2ld.socks.server import SOCKSServer, Config\n\
             async def system_lookup(host):\n\
             \x20   infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)\n\
             \x20   return infos[0][4][0]\n\
             base.get_host = system_lookup\n\
             c = Config('127.0.0.1:{port}', True)\n\
             c.versions = {{4, 5}}\n\
             {auth}\
             run_forever(SOCKSServer(c).start_server())\n"
        );
        Self::spawn(port, &["-c", &script])
    }

    fn spawn(port: u16, args: &[&str]) -> Self {
        let child = Command::new("python3")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 must be installed with tests/requirements.txt");
        let mut proxy = Self { port, child };
        proxy.wait_listening();
        proxy
    }

    /// Polls until the port accepts connections (bounded: 15 s).
    fn wait_listening(&mut self) {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let start = Instant::now();
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "proxy process exited with {status} before listening; \
                     run `python3 -m pip install -r tests/requirements.txt`"
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "proxy did not listen on {addr} within 15 s"
            );
            // Polling a foreign process: there is no event to wait on.
            thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Captures every log line of the test binary.
pub(crate) fn captured_logs() -> &'static Mutex<Vec<String>> {
    struct Capture;
    static LINES: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    impl log::Log for Capture {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, record: &log::Record<'_>) {
            let line = format!("{} {}", record.level(), record.args());
            LINES.get_or_init(Mutex::default).lock().unwrap().push(line);
        }
        fn flush(&self) {}
    }
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        log::set_logger(&Capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
    });
    LINES.get_or_init(Mutex::default)
}

/// What a test connects with: the network options and the timeouts of its budget, set
/// through one chain as the tests read best.
#[derive(Clone, Default)]
pub(crate) struct Opts {
    pub(crate) net: ws_net::NetOptions,
    pub(crate) timeouts: ws_net::Timeouts,
}

impl Opts {
    pub(crate) fn connect_timeout(mut self, t: Option<Duration>) -> Self {
        self.timeouts.connect = t;
        self
    }
    pub(crate) fn read_timeout(mut self, t: Option<Duration>) -> Self {
        self.timeouts.read = t;
        self
    }
    pub(crate) fn write_timeout(mut self, t: Option<Duration>) -> Self {
        self.timeouts.write = t;
        self
    }
    pub(crate) fn deadline(mut self, t: Option<Duration>) -> Self {
        self.timeouts.deadline = t;
        self
    }
    pub(crate) fn socket(mut self, socket: ws_net::SocketOptions) -> Self {
        self.net = self.net.socket(socket);
        self
    }
    pub(crate) fn proxy(mut self, proxy: ws_net::ProxyConfig) -> Self {
        self.net = self.net.proxy(proxy);
        self
    }
    pub(crate) fn tls(mut self, tls: ws_net::TlsOptions) -> Self {
        self.net = self.net.tls(tls);
        self
    }
    pub(crate) fn resolver(mut self, resolver: ws_net::Resolver) -> Self {
        self.net = self.net.resolver(resolver);
        self
    }
    pub(crate) fn attempt_delay(mut self, delay: Duration) -> Self {
        self.net = self.net.attempt_delay(delay);
        self
    }
    /// A fresh budget of these timeouts.
    pub(crate) fn budget(&self) -> ws_net::Budget {
        ws_net::Budget::start(self.timeouts)
    }
}

/// Asserts that `err` is the overall deadline of `deadline` ending `phase`, within 5 s of
/// `start` (generous: the machine may be loaded).
pub(crate) fn assert_cut_by_deadline(
    err: &ws_net::Error,
    phase: ws_net::Phase,
    deadline: Duration,
    start: Instant,
) {
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    assert!(
        matches!(
            err,
            ws_net::Error::Timeout { phase: p, limit: Some(ws_net::Limit::Deadline { total, .. }), .. }
                if *p == phase && *total == deadline
        ),
        "{err:?}"
    );
}
