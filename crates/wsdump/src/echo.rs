//! The built-in echo server: `ws-handshake`'s server side and `ws-frame`'s connection
//! engine in the server role, over a thread per connection, plain or TLS with a freshly generated self-signed certificate.
//!
//! It echoes text and binary messages (fragmented ones come back whole), answers pings,
//! and answers a close with the same code. It exists for demos and tests, so it only
//! binds where it is told (loopback by default) and every connection has timeouts.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ws_client::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use ws_client::rustls::{self, ServerConfig, ServerConnection, StreamOwned};
use ws_frame::{CloseEcho, Config, Connection, Limits, Message, Outgoing, Queued, RecvError};
use ws_handshake::ServerHandshake;

/// The address `--echo-server` binds without one.
pub(crate) const DEFAULT_ADDR: &str = "127.0.0.1:8765";

/// Subprotocols the echo server accepts (the first one the client offers wins).
const SUBPROTOCOLS: [&str; 2] = ["chat", "echo"];

/// Time allowed for the client's upgrade request.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection that sends nothing for this long is dropped.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);

/// The largest message echoed (the demo sends 16 MiB).
const MAX_MESSAGE: u64 = 64 << 20;

/// A bound, not yet serving, echo server.
pub(crate) struct EchoServer {
    listener: TcpListener,
    tls: Option<Tls>,
    log: bool,
}

/// The TLS side: the server configuration and the certificate clients must trust.
struct Tls {
    config: Arc<ServerConfig>,
    cert_pem: String,
    cert_der: CertificateDer<'static>,
}

impl fmt::Debug for EchoServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EchoServer")
            .field("addr", &self.listener.local_addr().ok())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

impl EchoServer {
    /// Binds `addr`; with `tls`, generates a self-signed certificate for `localhost`,
    /// `127.0.0.1` and `::1`. With `log`, each connection's problems go to stderr.
    pub(crate) fn bind(addr: &str, tls: bool, log: bool) -> Result<Self, String> {
        let listener =
            TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let tls = if tls { Some(self_signed()?) } else { None };
        Ok(Self { listener, tls, log })
    }

    /// The bound address.
    pub(crate) fn local_addr(&self) -> Result<SocketAddr, String> {
        self.listener
            .local_addr()
            .map_err(|e| format!("cannot read the listening address: {e}"))
    }

    /// `ws://addr` or `wss://localhost:port` (the certificate names `localhost`).
    pub(crate) fn url(&self) -> Result<String, String> {
        let addr = self.local_addr()?;
        Ok(match self.tls {
            Some(_) if addr.ip().is_loopback() => format!("wss://localhost:{}", addr.port()),
            Some(_) => format!("wss://{addr}"),
            None => format!("ws://{addr}"),
        })
    }

    /// The PEM of the self-signed certificate (TLS only).
    pub(crate) fn cert_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    /// The DER of the self-signed certificate (TLS only).
    pub(crate) fn cert_der(&self) -> Option<&CertificateDer<'static>> {
        self.tls.as_ref().map(|t| &t.cert_der)
    }

    /// Writes the certificate PEM to a file in the temporary directory, for `--ca-file`.
    pub(crate) fn write_cert(&self) -> Result<Option<PathBuf>, String> {
        let Some(pem) = self.cert_pem() else {
            return Ok(None);
        };
        let port = self.local_addr()?.port();
        let path = std::env::temp_dir().join(format!("wsdump-echo-{port}.pem"));
        std::fs::write(&path, pem)
            .map_err(|e| format!("cannot write the certificate to {}: {e}", path.display()))?;
        Ok(Some(path))
    }

    /// Serves connections on background threads until the process ends.
    pub(crate) fn spawn(self) -> Result<(), String> {
        thread::Builder::new()
            .name("echo-server".into())
            .spawn(move || self.serve())
            .map(drop)
            .map_err(|e| format!("cannot start the echo server thread: {e}"))
    }

    /// Serves connections, one thread each; returns only if accepting fails.
    pub(crate) fn serve(self) -> String {
        let tls = self.tls.map(|t| t.config);
        for tcp in self.listener.incoming() {
            let tcp = match tcp {
                Ok(tcp) => tcp,
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => continue,
                Err(e) => return format!("accepting a connection failed: {e}"),
            };
            let tls = tls.clone();
            let log = self.log;
            let peer = tcp.peer_addr().ok();
            let spawned = thread::Builder::new()
                .name("echo-connection".into())
                .spawn(move || {
                    if let Err(e) = connection(tcp, tls)
                        && log
                    {
                        #[allow(clippy::print_stderr, reason = "the server's log")]
                        {
                            eprintln!("echo server: connection from {peer:?}: {e}");
                        }
                    }
                });
            if let Err(e) = spawned {
                return format!("cannot start a connection thread: {e}");
            }
        }
        "the listener stopped".to_owned()
    }
}

/// Generates the self-signed certificate and the rustls server configuration.
fn self_signed() -> Result<Tls, String> {
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot generate a certificate: {e}"))?;
    let cert_der = certified.cert.der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| {
            b.with_no_client_auth()
                .with_single_cert(vec![cert_der.clone()], key)
        })
        .map_err(|e| format!("cannot build the TLS configuration: {e}"))?;
    Ok(Tls {
        config: Arc::new(config),
        cert_pem: certified.cert.pem(),
        cert_der,
    })
}

/// One connection: TLS if configured, then the WebSocket session.
fn connection(tcp: TcpStream, tls: Option<Arc<ServerConfig>>) -> Result<(), String> {
    tcp.set_nodelay(true)
        .and_then(|()| tcp.set_read_timeout(Some(HANDSHAKE_TIMEOUT)))
        .and_then(|()| tcp.set_write_timeout(Some(HANDSHAKE_TIMEOUT)))
        .map_err(|e| format!("socket options: {e}"))?;
    let control = tcp.try_clone().map_err(|e| format!("socket clone: {e}"))?;
    let result = match tls {
        Some(config) => {
            let conn = ServerConnection::new(config).map_err(|e| format!("tls: {e}"))?;
            session(StreamOwned::new(conn, tcp), &control)
        }
        None => session(tcp, &control),
    };
    let _ = control.shutdown(Shutdown::Both);
    result
}

/// The opening handshake, then echo until a close frame, an error or the idle timeout.
fn session<S: Read + Write>(mut stream: S, control: &TcpStream) -> Result<(), String> {
    let mut buf = vec![0; 256 * 1024];
    let mut handshake = ServerHandshake::new().subprotocols(SUBPROTOCOLS);
    let accepted = loop {
        let n = stream
            .read(&mut buf)
            .map_err(|e| format!("reading the request: {e}"))?;
        let fed = if n == 0 {
            handshake.finish_eof().map(Some)
        } else {
            handshake.feed(buf.get(..n).unwrap_or_default())
        };
        match fed {
            Ok(Some(accepted)) => break accepted,
            Ok(None) => {}
            Err(refused) => {
                let _ = stream.write_all(&refused.response());
                let _ = stream.flush();
                return Err(format!("refused the handshake: {refused}"));
            }
        }
    };
    stream
        .write_all(&accepted.response)
        .and_then(|()| stream.flush())
        .map_err(|e| format!("writing the response: {e}"))?;
    control
        .set_read_timeout(Some(IDLE_TIMEOUT))
        .map_err(|e| format!("socket options: {e}"))?;

    let limits = Limits::default()
        .max_frame_size(Some(MAX_MESSAGE))
        .max_message_size(Some(MAX_MESSAGE));
    // The engine answers pings and the close, and fails the connection on bad input.
    let config = Config::new()
        .limits(limits)
        .close_echo(CloseEcho::CodeAndReason);
    let mut conn = Connection::server(config);
    conn.receive(&accepted.rest);
    loop {
        loop {
            match conn.poll_message() {
                Ok(Some(Message::Text(text))) => {
                    echo(
                        &mut conn,
                        &mut stream,
                        Outgoing::Text(&text),
                        text.as_bytes(),
                    )?;
                }
                Ok(Some(Message::Binary(data))) => {
                    echo(&mut conn, &mut stream, Outgoing::Binary(&data), &data)?;
                }
                Ok(Some(_)) => {}
                // Receiving ended after the close: the loop below shuts the connection.
                Ok(None) | Err(RecvError::Closed { .. }) => break,
                Err(RecvError::Frame(e)) => {
                    let _ = write_out(&mut conn, &mut stream);
                    return Err(format!("client broke the protocol: {e}"));
                }
                Err(e) => return Err(format!("the connection ended: {e}")),
            }
        }
        write_out(&mut conn, &mut stream)?;
        if conn.should_shut() {
            return Ok(());
        }
        let n = stream
            .read(conn.spare_mut())
            .map_err(|e| format!("reading: {e}"))?;
        if n == 0 {
            conn.receive_eof();
        } else {
            conn.commit(n);
        }
    }
}

/// Sends a message back, writing out the pieces of a large one as they are queued.
fn echo<S: Write>(
    conn: &mut Connection,
    stream: &mut S,
    message: Outgoing<'_>,
    payload: &[u8],
) -> Result<(), String> {
    let mut queued = conn.send(message).map_err(|e| format!("echoing: {e}"))?;
    let mut offset = 0;
    while let Queued::Partial { taken } = queued {
        offset += taken;
        write_out(conn, stream)?;
        let rest = payload.get(offset..).unwrap_or_default();
        queued = conn.send_rest(rest).map_err(|e| format!("echoing: {e}"))?;
    }
    Ok(())
}

/// Writes out everything the engine queued.
fn write_out<S: Write>(conn: &mut Connection, stream: &mut S) -> Result<(), String> {
    let bytes = conn.poll_transmit();
    if bytes.is_empty() {
        return Ok(());
    }
    let n = bytes.len();
    let written = stream.write_all(bytes).and_then(|()| stream.flush());
    conn.advance(n);
    written.map_err(|e| format!("writing: {e}"))
}
