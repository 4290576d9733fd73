//! Opening a connection: `ws-net` for the byte stream, `ws-handshake` for the upgrade,
//! redirects up to the limit, and the bytes read past the response kept as the first
//! frames.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ws_handshake::{ClientRequest, Handshake, Outcome};
use ws_net::{Endpoint, Stream};

use crate::config::ClientBuilder;
use crate::error::{Error, Op, Result};
use crate::logging::{SafeHeaders, redact_head, safe_url};
use crate::mask::fill_random;
use crate::redirect::{Credentials, Policy};
use crate::websocket::WebSocket;

/// Connects to `url` (following redirects), over `pre` for the first hop if given.
pub(crate) fn connect(
    builder: &ClientBuilder,
    url: &str,
    mut pre: Option<TcpStream>,
) -> Result<WebSocket> {
    let started = Instant::now();
    let mut url = url.to_owned();
    let mut redirects = 0;
    let policy = Policy::new(builder.redirect_credentials, builder.redirect_downgrade);
    let first = Endpoint::parse(&url)?;
    let mut previous: Option<Endpoint> = None;
    loop {
        let endpoint = Endpoint::parse(&url)?;
        let credentials = policy.hop(&first, previous.as_ref(), &endpoint)?;
        log::debug!(target: "ws_client", "connecting to {}", safe_url(&url));
        if credentials == Credentials::Withhold {
            log::debug!(
                target: "ws_client",
                "{endpoint} is another origin than {first}: credentials withheld"
            );
        }
        // Options are checked before anything is sent anywhere.
        let mut handshake = request(builder, &first, &endpoint, credentials)?.build()?;
        let mut net = builder.net.clone();
        net.deadline = remaining(builder.net.deadline, started, Op::Connect)?;
        let mut stream = match pre.take() {
            Some(tcp) => {
                tcp.set_read_timeout(net.read_timeout)
                    .and_then(|()| tcp.set_write_timeout(net.write_timeout))
                    .map_err(|e| Error::io(Op::Configure, e))?;
                if endpoint.is_secure() {
                    Stream::wrap_tls(tcp, endpoint.host(), &net.tls)?
                } else {
                    Stream::from_tcp(tcp)
                }
            }
            None => ws_net::connect(&endpoint, &net)?,
        };
        let outcome = exchange(&mut stream, &mut handshake, builder, started)?;
        match outcome {
            Outcome::Accepted(accepted) => {
                log::info!(
                    target: "ws_client",
                    "connected to {} (status {}, subprotocol {:?})",
                    safe_url(&url),
                    accepted.status,
                    accepted.subprotocol
                );
                log::debug!(
                    target: "ws_client",
                    "handshake response headers {}",
                    SafeHeaders(&accepted.headers)
                );
                // The handshake timeouts were the builder's; keep them for the session.
                return Ok(WebSocket::new(stream, accepted, builder, url));
            }
            Outcome::Redirect { status, location } => {
                if redirects >= builder.redirect_limit {
                    return Err(Error::RedirectLimit {
                        limit: builder.redirect_limit,
                        location,
                    });
                }
                redirects += 1;
                log::debug!(
                    target: "ws_client",
                    "redirect {status} to {} ({redirects} of at most {})",
                    safe_url(&location),
                    builder.redirect_limit
                );
                let _ = stream.shutdown();
                previous = Some(endpoint);
                url = location;
            }
            _ => {
                return Err(Error::Io {
                    op: Op::Handshake,
                    source: std::io::Error::other("unknown handshake outcome"),
                });
            }
        }
    }
}

/// The part of the overall deadline still left; [`Error::Timeout`] for `op` once it has
/// run out.
fn remaining(deadline: Option<Duration>, started: Instant, op: Op) -> Result<Option<Duration>> {
    match deadline {
        None => Ok(None),
        Some(total) => match total.checked_sub(started.elapsed()) {
            Some(left) if !left.is_zero() => Ok(Some(left)),
            _ => Err(Error::Timeout { op, detail: None }),
        },
    }
}

/// The upgrade request for `endpoint` with every option of the builder; `first` is the
/// endpoint of the URL given to `connect`, whose user information is the basic auth of
/// every hop that carries credentials (unless the hop's own URL has some).
fn request(
    builder: &ClientBuilder,
    first: &Endpoint,
    endpoint: &Endpoint,
    credentials: Credentials,
) -> Result<ClientRequest> {
    let mut key = [0; 16];
    fill_random(&mut key)?;
    let mut request = ClientRequest::new(
        endpoint.host(),
        endpoint.port(),
        endpoint.is_secure(),
        endpoint.resource(),
    )
    .origin(builder.origin.clone())
    .host_header(builder.host.clone())
    .subprotocols(builder.subprotocols.iter().cloned())
    .key(key);
    if let Some(options) = &builder.deflate {
        request = request.deflate(options.offers());
    }
    if let Some(cookie) = builder
        .cookie
        .as_ref()
        .filter(|_| credentials == Credentials::Send)
    {
        request = request.cookie(cookie);
    }
    for (name, value) in &builder.headers {
        if credentials.allows_header(name) {
            request = request.header(name, value);
        }
    }
    if let Some(f) = &builder.header_fn {
        for (name, value) in f() {
            if credentials.allows_header(&name) {
                request = request.header(&name, &value);
            }
        }
    }
    // A redirect target's own user information came from the server that named it.
    let userinfo = endpoint.userinfo().or_else(|| {
        first
            .userinfo()
            .filter(|_| credentials == Credentials::Send)
    });
    if let Some((user, password)) = userinfo {
        request = request.basic_auth(user, password);
    }
    Ok(request)
}

/// Writes the request and reads the response until the handshake decides.
fn exchange(
    stream: &mut Stream,
    handshake: &mut Handshake,
    builder: &ClientBuilder,
    started: Instant,
) -> Result<Outcome> {
    log::debug!(
        target: "ws_client",
        "handshake request {}",
        redact_head(&String::from_utf8_lossy(handshake.request_bytes()))
    );
    stream
        .write_all(handshake.request_bytes())
        .and_then(|()| stream.flush())
        .map_err(|e| Error::io(Op::Handshake, e))?;
    let mut buf = [0; 4096];
    let outcome = loop {
        // The overall deadline also bounds the handshake: re-checked before every read,
        // so a server dripping bytes just inside the read timeout cannot stretch it.
        let limit = remaining(builder.net.deadline, started, Op::Handshake)?;
        let read_timeout = match (builder.net.read_timeout, limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        stream
            .set_read_timeout(read_timeout)
            .map_err(|e| Error::io(Op::Configure, e))?;
        let n = stream
            .read(&mut buf)
            .map_err(|e| Error::io(Op::Handshake, e))?;
        if n == 0 {
            break handshake.finish_eof()?;
        }
        if let Some(outcome) = handshake.feed(&buf[..n])? {
            break outcome;
        }
    };
    if let Some(head) = handshake.redacted_response() {
        log::debug!(target: "ws_client", "handshake response {}", redact_head(&head));
    }
    stream
        .set_read_timeout(builder.net.read_timeout)
        .map_err(|e| Error::io(Op::Configure, e))?;
    Ok(outcome)
}
