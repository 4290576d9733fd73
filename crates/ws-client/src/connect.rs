//! Opening a connection: `ws-net` for the byte stream, `ws-handshake` for the upgrade,
//! redirects up to the limit, and the bytes read past the response kept as the first
//! frames.
//!
//! [`Upgrade`] holds every decision of a connect (the request of each hop with the
//! credential rules, the deadline left, the redirect policy and limit, the logging); the
//! blocking [`connect`] and the async one (feature `tokio`) only move its bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ws_handshake::{Accepted, ClientRequest, Handshake, Outcome, Scheme};
use ws_net::{Budget, Endpoint, Limit, Stream};

use crate::config::ClientBuilder;
use crate::error::{Error, Op, Result};
use crate::logging::{SafeHeaders, redact_head, safe_url};
use crate::mask::fill_random;
use crate::redirect::{Credentials, Policy};
use crate::websocket::WebSocket;

/// The decisions of one connect, hop by hop: a driver asks for the next [`Hop`], opens
/// the transport within the [`budget`](Self::budget), writes its request, feeds the
/// response to its handshake (bounding every read by
/// [`read_timeout`](Self::read_timeout)), and hands the outcome to
/// [`finish`](Self::finish).
pub(crate) struct Upgrade<'a> {
    builder: &'a ClientBuilder,
    budget: Budget,
    url: String,
    redirects: u32,
    policy: Policy,
    first: Endpoint,
    previous: Option<Endpoint>,
}

/// The limit of one handshake read: how long it may wait, and the limit to name when it
/// times out (the read timeout, or the whole deadline).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadLimit {
    pub(crate) wait: Option<Duration>,
    pub(crate) ran_out: Option<Duration>,
}

/// One connection attempt of a connect: where to and with which request.
pub(crate) struct Hop {
    pub(crate) endpoint: Endpoint,
    pub(crate) handshake: Handshake,
}

impl<'a> Upgrade<'a> {
    pub(crate) fn new(builder: &'a ClientBuilder, url: &str) -> Result<Self> {
        Ok(Self {
            builder,
            budget: Budget::start(builder.timeouts),
            url: url.to_owned(),
            redirects: 0,
            policy: Policy::new(builder.redirect_credentials, builder.redirect_downgrade),
            first: Endpoint::parse(url)?,
            previous: None,
        })
    }

    /// The next hop: checks the redirect policy and every option before anything is sent
    /// anywhere.
    pub(crate) fn hop(&mut self) -> Result<Hop> {
        let endpoint = Endpoint::parse(&self.url)?;
        let credentials = self
            .policy
            .hop(&self.first, self.previous.as_ref(), &endpoint)?;
        log::debug!(target: "ws_client", "connecting to {}", safe_url(&self.url));
        if credentials == Credentials::Withhold {
            log::debug!(
                target: "ws_client",
                "{endpoint} is another origin than {}: credentials withheld",
                self.first
            );
        }
        if self.budget.is_spent() {
            return Err(Error::timeout(Op::Connect, self.builder.timeouts.deadline));
        }
        let handshake = request(self.builder, &self.first, &endpoint, credentials)?.build()?;
        log::debug!(
            target: "ws_client",
            "handshake request {}",
            redact_head(&String::from_utf8_lossy(handshake.request_bytes()))
        );
        Ok(Hop {
            endpoint,
            handshake,
        })
    }

    /// The time budget of the whole connect, every hop and phase.
    pub(crate) fn budget(&self) -> &Budget {
        &self.budget
    }

    /// How long the next handshake read may take: the read timeout, shortened to what is
    /// left of the overall deadline, which is re-checked before every read so a server
    /// dripping bytes just inside the read timeout cannot stretch it.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] once the deadline has passed.
    pub(crate) fn read_timeout(&self) -> Result<ReadLimit> {
        let limit = self.budget.limit(self.builder.timeouts.read);
        let ran_out = limit.map(|l| match l {
            Limit::Deadline { total, .. } => total,
            // ws_net::Limit is non-exhaustive; what is left is the operation's own.
            l => l.wait(),
        });
        if limit.is_some_and(Limit::is_spent) {
            return Err(Error::timeout(Op::Handshake, ran_out));
        }
        Ok(ReadLimit {
            wait: limit.map(Limit::wait),
            ran_out,
        })
    }

    /// The write timeout of the handshake request.
    #[cfg(feature = "tokio")]
    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        self.builder.timeouts.write
    }

    /// What the hop's handshake decided: the accepted upgrade (`Some`), or `None` when a
    /// redirect is to be followed (ask for the next [`hop`](Self::hop) after closing this
    /// transport).
    ///
    /// # Errors
    ///
    /// [`Error::RedirectLimit`] past the limit.
    pub(crate) fn finish(&mut self, hop: Hop, outcome: Outcome) -> Result<Option<Accepted>> {
        if let Some(headers) = hop.handshake.response_headers() {
            log::debug!(target: "ws_client", "handshake response {}", SafeHeaders(headers));
        }
        match outcome {
            Outcome::Accepted(accepted) => {
                log::info!(
                    target: "ws_client",
                    "connected to {} (status {}, subprotocol {:?})",
                    safe_url(&self.url),
                    accepted.status,
                    accepted.subprotocol
                );
                Ok(Some(accepted))
            }
            Outcome::Redirect { status, location } => {
                let limit = self.builder.redirect_limit;
                if self.redirects >= limit {
                    return Err(Error::RedirectLimit { limit, location });
                }
                self.redirects += 1;
                log::debug!(
                    target: "ws_client",
                    "redirect {status} to {} ({} of at most {limit})",
                    safe_url(&location),
                    self.redirects,
                );
                self.previous = Some(hop.endpoint);
                self.url = location;
                Ok(None)
            }
            _ => Err(Error::Internal(
                "the handshake decided on an outcome ws-client does not know",
            )),
        }
    }

    /// The URL of the last hop (after redirects).
    pub(crate) fn into_url(self) -> String {
        self.url
    }
}

/// Connects to `url` (following redirects), over `pre` for the first hop if given.
pub(crate) fn connect(
    builder: &ClientBuilder,
    url: &str,
    mut pre: Option<TcpStream>,
) -> Result<WebSocket> {
    let mut upgrade = Upgrade::new(builder, url)?;
    loop {
        let mut hop = upgrade.hop()?;
        let mut stream = match pre.take() {
            Some(tcp) => ws_net::connect_on(tcp, &hop.endpoint, &builder.net, upgrade.budget())?,
            None => ws_net::connect(&hop.endpoint, &builder.net, upgrade.budget())?,
        };
        let outcome = exchange(&mut stream, &mut hop.handshake, &upgrade)?;
        if let Some(accepted) = upgrade.finish(hop, outcome)? {
            // The handshake timeouts were the builder's; keep them for the session.
            return Ok(WebSocket::new(
                stream,
                accepted,
                builder,
                upgrade.into_url(),
            ));
        }
        let _ = stream.shutdown();
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
    fill_random(&mut key, Op::Handshake)?;
    let scheme = if endpoint.is_secure() {
        Scheme::Wss
    } else {
        Scheme::Ws
    };
    let mut options = builder.request.clone();
    if let Some(f) = &builder.header_fn {
        options = options.headers(f());
    }
    if credentials == Credentials::Withhold {
        options = options
            .retain_headers(|name| credentials.allows_header(name))
            .without_cookie();
    }
    let mut request = ClientRequest::new(
        endpoint.host(),
        endpoint.port(),
        scheme,
        endpoint.resource(),
    )
    .options(options)
    .key(key);
    if let Some(options) = &builder.deflate {
        request = request.deflate(options.offers());
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

/// Feeds the handshake the bytes of one read; an empty read is the end of the input.
pub(crate) fn feed(handshake: &mut Handshake, data: &[u8]) -> Result<Option<Outcome>> {
    if data.is_empty() {
        return Ok(Some(handshake.finish_eof()?));
    }
    Ok(handshake.feed(data)?)
}

/// Writes the request and reads the response until the handshake decides.
fn exchange(
    stream: &mut Stream,
    handshake: &mut Handshake,
    upgrade: &Upgrade<'_>,
) -> Result<Outcome> {
    let peer = stream.peer_addr().ok();
    let write_limit = upgrade.builder.timeouts.write;
    stream
        .write_all(handshake.request_bytes())
        .and_then(|()| stream.flush())
        .map_err(|e| Error::io_on(Op::Handshake, e, peer, write_limit))?;
    let mut buf = [0; 4096];
    let outcome = loop {
        let limit = upgrade.read_timeout()?;
        stream
            .set_read_timeout(limit.wait)
            .map_err(|e| Error::io_on(Op::Configure, e, peer, None))?;
        let n = stream
            .read(&mut buf)
            .map_err(|e| Error::io_on(Op::Handshake, e, peer, limit.ran_out))?;
        if let Some(outcome) = feed(handshake, buf.get(..n).unwrap_or_default())? {
            break outcome;
        }
    };
    stream
        .set_read_timeout(upgrade.builder.timeouts.read)
        .map_err(|e| Error::io(Op::Configure, e))?;
    Ok(outcome)
}
