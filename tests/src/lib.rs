//! Support code shared by the integration tests: real peers started on loopback.
//!
//! - [`ws_server`]: a tungstenite WebSocket server, plain or over rustls with an rcgen
//!   certificate ([`Tls`]), running a handler per connection.
//! - [`tcp_server`]: a raw TCP server whose handler speaks hand-written bytes, for
//!   misbehaving peers (garbage frames, bad statuses, redirects, silence); [`accept_raw`]
//!   and [`read_client_frame`] do the little HTTP and framing they need by hand.
//! - [`PythonPeer`]: the Python `websockets` server in `tests/peers/ws_server.py` (or
//!   `ws_deflate_server.py`, with permessage-deflate).
//!
//! Every socket gets [`TIMEOUT`] as read and write timeout, and [`Peer::join`] waits at
//! most that long, so a bug fails a test instead of hanging it.
#![allow(
    clippy::missing_panics_doc,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::match_wild_err_arm,
    clippy::result_large_err,
    clippy::exhaustive_enums,
    clippy::exhaustive_structs,
    reason = "test support: a failed expectation is a test failure; types are not an API"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

pub mod faults;
pub mod soak;

pub use tungstenite;

/// The timeout of every socket operation and wait in the tests.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A server running in background threads.
#[derive(Debug)]
pub struct Peer {
    /// Where it listens.
    pub addr: SocketAddr,
    done: mpsc::Receiver<thread::Result<()>>,
}

impl Peer {
    /// `ws://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// `wss://localhost:port{path}` (the certificate is for `localhost`).
    pub fn wss_url(&self, path: &str) -> String {
        format!("wss://localhost:{}{path}", self.addr.port())
    }

    /// Waits (at most [`TIMEOUT`]) until the server has handled all its connections, and
    /// re-raises a panic of any handler.
    pub fn join(self) {
        match self.done.recv_timeout(TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(_) => panic!("the peer did not finish within {TIMEOUT:?}"),
        }
    }
}

/// Starts a raw TCP server on loopback for `connections` connections, each handled by
/// `handler` on its own thread.
pub fn tcp_server<F>(connections: usize, handler: F) -> Peer
where
    F: Fn(TcpStream) + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = Arc::new(handler);
    let (tx, done) = mpsc::channel();
    thread::spawn(move || {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut threads = Vec::new();
            for _ in 0..connections {
                let (stream, _) = listener.accept().unwrap();
                stream.set_nodelay(true).unwrap();
                stream.set_read_timeout(Some(TIMEOUT)).unwrap();
                stream.set_write_timeout(Some(TIMEOUT)).unwrap();
                let handler = Arc::clone(&handler);
                // Join the handlers that finished: an unjoined thread keeps its stack, so
                // a server for many connections would grow with every one of them.
                let (finished, running): (Vec<_>, Vec<_>) =
                    threads.drain(..).partition(thread::JoinHandle::is_finished);
                threads = running;
                for t in finished {
                    if let Err(panic) = t.join() {
                        std::panic::resume_unwind(panic);
                    }
                }
                threads.push(thread::spawn(move || handler(stream)));
            }
            for t in threads {
                if let Err(panic) = t.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        }));
        let _ = tx.send(result);
    });
    Peer { addr, done }
}

/// Whether a tungstenite server speaks TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Plain `ws://`.
    Off,
    /// `wss://` with the test certificate for `localhost` (see [`ca_file`]).
    On,
}

/// A plain or TLS server-side stream.
#[derive(Debug)]
pub enum PeerStream {
    /// TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl PeerStream {
    /// The TCP socket underneath.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            Self::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for PeerStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for PeerStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// The server side of a tungstenite WebSocket.
pub type Ws = tungstenite::WebSocket<PeerStream>;

/// Starts a tungstenite server for `connections` connections. It picks the first
/// subprotocol the client offers that is in `subprotocols`; size limits are off.
pub fn ws_server<F>(connections: usize, tls: Tls, subprotocols: &[&str], handler: F) -> Peer
where
    F: Fn(&mut Ws) + Send + Sync + 'static,
{
    let protocols: Vec<String> = subprotocols.iter().map(|s| (*s).to_owned()).collect();
    tcp_server(connections, move |tcp| {
        let stream = match tls {
            Tls::Off => PeerStream::Plain(tcp),
            Tls::On => tls_accept(tcp),
        };
        let protocols = protocols.clone();
        let callback =
            move |request: &tungstenite::handshake::server::Request,
                  mut response: tungstenite::handshake::server::Response| {
                let offered = request
                    .headers()
                    .get_all("Sec-WebSocket-Protocol")
                    .iter()
                    .flat_map(|v| v.to_str().unwrap_or("").split(','))
                    .map(|s| s.trim().to_owned())
                    .collect::<Vec<_>>();
                if let Some(chosen) = offered.iter().find(|p| protocols.contains(p)) {
                    response
                        .headers_mut()
                        .insert("Sec-WebSocket-Protocol", chosen.parse().unwrap());
                }
                Ok(response)
            };
        let config = tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(None)
            .max_frame_size(None);
        let Ok(mut ws) = tungstenite::accept_hdr_with_config(stream, callback, Some(config)) else {
            // The client gave up during the handshake (TLS or timeout tests).
            return;
        };
        handler(&mut ws);
    })
}

/// Echoes text and binary messages until the client closes or the connection ends.
pub fn echo(ws: &mut Ws) {
    loop {
        match ws.read() {
            Ok(m @ (tungstenite::Message::Text(_) | tungstenite::Message::Binary(_))) => {
                if ws.send(m).is_err() {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// The test certificate (for `localhost` and 127.0.0.1) and server configuration.
#[derive(Debug)]
pub struct Certs {
    /// The server's TLS configuration.
    pub server: Arc<rustls::ServerConfig>,
    /// A PEM file holding the certificate, to trust it with `TlsOptions::ca_file`.
    pub ca_file: PathBuf,
}

/// The shared test certificate, made once per process.
pub fn certs() -> &'static Certs {
    static CERTS: OnceLock<Certs> = OnceLock::new();
    CERTS.get_or_init(|| {
        let key = rcgen::generate_simple_self_signed(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .unwrap();
        let cert_der = key.cert.der().clone();
        let key_der = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()),
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)
            .unwrap();
        let ca_file = std::env::temp_dir().join(format!("ws-tests-ca-{}.pem", std::process::id()));
        std::fs::write(&ca_file, key.cert.pem()).unwrap();
        Certs {
            server: Arc::new(server),
            ca_file,
        }
    })
}

/// Wraps an accepted TCP connection in server-side TLS with the test certificate; the
/// TLS handshake runs on the first read or write.
pub fn tls_accept(tcp: TcpStream) -> PeerStream {
    let conn = rustls::ServerConnection::new(Arc::clone(&certs().server)).unwrap();
    PeerStream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
}

/// The path to the test certificate, for `TlsOptions::ca_file`.
pub fn ca_file() -> PathBuf {
    certs().ca_file.clone()
}

/// Reads an HTTP request head (up to the blank line) from a raw connection.
pub fn read_request_head(stream: &mut impl Read) -> String {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert!(n > 0, "client closed before the end of the request head");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// The value of header `name` in a request head.
pub fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Completes a WebSocket handshake by hand on a raw connection, writing the 101 response
/// followed by `extra` bytes in the same write; returns the request head.
pub fn accept_raw(stream: &mut (impl Read + Write), extra: &[u8]) -> String {
    let head = read_request_head(stream);
    answer_101(stream, &head, extra);
    head
}

/// Writes the 101 response to the request `head` (already read), followed by `extra`
/// bytes in the same write.
pub fn answer_101(stream: &mut impl Write, head: &str, extra: &[u8]) {
    let key = header_value(head, "Sec-WebSocket-Key").expect("a Sec-WebSocket-Key header");
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes();
    response.extend_from_slice(extra);
    stream.write_all(&response).unwrap();
}

/// An unmasked server frame, written by hand: FIN + `opcode`, 7/16/64-bit length.
pub fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![u8::from(fin) << 7 | opcode];
    let len = payload.len();
    if len < 126 {
        out.push(u8::try_from(len).unwrap());
    } else if let Ok(len) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// One frame a client sent, read and unmasked by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFrame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode (low four bits of the first byte).
    pub opcode: u8,
    /// The mask key (clients must mask).
    pub mask: Option<[u8; 4]>,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

impl ClientFrame {
    /// The close code of a close frame's payload.
    pub fn close_code(&self) -> Option<u16> {
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Reads one client frame from a raw connection.
pub fn read_client_frame(stream: &mut impl Read) -> ClientFrame {
    let mut head = [0; 2];
    stream.read_exact(&mut head).unwrap();
    let fin = head[0] & 0x80 != 0;
    let opcode = head[0] & 0x0f;
    let masked = head[1] & 0x80 != 0;
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0; 2];
            stream.read_exact(&mut b).unwrap();
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0; 8];
            stream.read_exact(&mut b).unwrap();
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mask = masked.then(|| {
        let mut key = [0; 4];
        stream.read_exact(&mut key).unwrap();
        key
    });
    let mut payload = vec![0; usize::try_from(len).unwrap()];
    stream.read_exact(&mut payload).unwrap();
    if let Some(key) = mask {
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    ClientFrame {
        fin,
        opcode,
        mask,
        payload,
    }
}

/// Set in a child started by [`run_alone`]: the name of the test it runs.
const ALONE: &str = "WS_TESTS_ALONE";

/// Whether this process is a child started by [`run_alone`].
pub fn is_alone() -> bool {
    std::env::var_os(ALONE).is_some()
}

/// Runs the test `test` (its full name in this test binary, e.g. `soak::name`) alone in
/// a child process of this binary, with `configure` applied to its command (environment
/// variables), and asserts that it ran and passed; the test sees [`is_alone`] true.
///
/// For tests that count the process's threads and descriptors or need their own
/// environment variables, whatever runs them (`cargo test` runs a binary's tests as
/// threads of one process).
pub fn run_alone(test: &str, configure: impl FnOnce(&mut Command)) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(ALONE, test);
    configure(&mut command);
    let out = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "{test} alone failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A message that carries its sender and sequence number and can be checked whole by
/// [`check_tagged`]: 10 B, 3 KB, 70 KB or 200 KB by `seq`.
pub fn tagged_payload(sender: usize, seq: usize) -> Vec<u8> {
    let len = [10, 3_000, 70_000, 200_000][seq % 4];
    let mut data = format!("{sender}:{seq}:").into_bytes();
    data.resize(len, u8::try_from((sender * 31 + seq) % 200).unwrap());
    data
}

/// Checks that `got`, messages of [`tagged_payload`] from `senders` senders, arrived whole
/// and in order per sender, each once; returns how many arrived from each sender.
pub fn check_tagged(got: &[Vec<u8>], senders: usize) -> Vec<usize> {
    let mut next = vec![0; senders];
    for data in got {
        let text = String::from_utf8_lossy(&data[..data.len().min(16)]).into_owned();
        let mut parts = text.split(':');
        let sender: usize = parts.next().unwrap().parse().unwrap();
        let seq: usize = parts.next().unwrap().parse().unwrap();
        assert_eq!(
            seq, next[sender],
            "messages of sender {sender} stay in order, once"
        );
        assert_eq!(
            *data,
            tagged_payload(sender, seq),
            "message {sender}:{seq} arrived whole"
        );
        next[sender] += 1;
    }
    next
}

/// Checks `got` as [`check_tagged`] does for `senders` senders that each sent `each`
/// messages as one batch, and that no batch was interleaved with another: the sender
/// changes exactly `senders - 1` times along `got`.
pub fn check_batches(got: &[Vec<u8>], senders: usize, each: usize) {
    assert_eq!(check_tagged(got, senders), vec![each; senders]);
    let order: Vec<u8> = got.iter().map(|data| data[0]).collect();
    let changes = order.windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(changes, senders - 1, "batches interleaved: {order:?}");
}

/// A server process of `tests/peers` printing `PORT <n>` (the Python `websockets` server
/// of `ws_server.py` and the other scripts, or the Node `ws` server), killed on drop.
#[derive(Debug)]
pub struct PythonPeer {
    child: Child,
    /// Where it listens.
    pub port: u16,
}

impl PythonPeer {
    /// Starts the server and waits for it to print its port.
    ///
    /// Needs `python3` with the `websockets` package (`pip install -r
    /// tests/requirements.txt`, as `.ci/run` does).
    pub fn start() -> Self {
        Self::start_script("ws_server.py")
    }

    /// Starts another server script of `tests/peers` that prints `PORT <n>` the same way
    /// (`ws_deflate_server.py`: permessage-deflate on).
    pub fn start_script(name: &str) -> Self {
        Self::start_with(name, &[])
    }

    /// Starts a script of `tests/peers` with arguments (`proxy.py <uri>`: a `pproxy`
    /// proxy server).
    pub fn start_with(name: &str, args: &[&str]) -> Self {
        Self::spawn("python3", name, args)
    }

    /// Starts the Node `ws` server of `tests/peers/ws_node_server.js`, or `None` (after
    /// saying why on stderr) where Node or its `ws` package is missing: `.ci/run` installs
    /// it with `npm ci` in `tests/peers`.
    #[allow(
        clippy::print_stderr,
        reason = "a skipped peer says so in the test output"
    )]
    pub fn start_node() -> Option<Self> {
        let peers = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers");
        let node = Command::new("node").arg("--version").output();
        if !node.is_ok_and(|o| o.status.success()) {
            eprintln!("SKIPPED: node is not installed (the Node `ws` interop needs it)");
            return None;
        }
        if !peers.join("node_modules").join("ws").is_dir() {
            eprintln!(
                "SKIPPED: the Node `ws` package is missing; run `npm ci` in tests/peers \
                 (as .ci/run does)"
            );
            return None;
        }
        Some(Self::spawn("node", "ws_node_server.js", &[]))
    }

    fn spawn(program: &str, name: &str, args: &[&str]) -> Self {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("peers")
            .join(name);
        let mut child = Command::new(program)
            .arg(&script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} must be installed: {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let Some(port) = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the Python peer did not start (got {line:?}); \
                 run `python3 -m pip install -r tests/requirements.txt`"
            );
        };
        Self { child, port }
    }

    /// `ws://127.0.0.1:port{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("ws://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for PythonPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
