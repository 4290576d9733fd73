//! The async client on tokio (feature `tokio`): the same [`ClientBuilder`], the same
//! handshake decisions ([`Upgrade`]) and the same engine as the blocking client, over
//! `ws_net::tokio`'s connect.
//!
//! Only three things are tokio's here: the stream (`ws_net::tokio::TokioStream` and
//! `tokio::io::split`), the writer's async mutex, and the timers (`tokio::time`). Another
//! runtime would add a module like this one over its own stream and timers; no protocol
//! rule lives here.

mod reader;
mod reconnect;
mod socket;
mod writer;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ws_handshake::{Handshake, Outcome};
use ws_net::tokio::TokioStream;

pub use self::reader::AsyncReader;
pub use self::reconnect::{ReconnectEvent, Reconnecting};
pub use self::socket::AsyncWebSocket;
pub use self::writer::AsyncSender;
use crate::config::ClientBuilder;
use crate::connect::{Upgrade, feed};
use crate::error::{Error, Op, Result};

/// Connects to `url` (following redirects) on tokio, over `pre` for the first hop if
/// given.
pub(crate) async fn connect(
    builder: &ClientBuilder,
    url: &str,
    mut pre: Option<tokio::net::TcpStream>,
) -> Result<AsyncWebSocket> {
    let mut upgrade = Upgrade::new(builder, url)?;
    loop {
        let mut hop = upgrade.hop()?;
        let (net, budget) = (&builder.net, upgrade.budget());
        let mut stream = match pre.take() {
            Some(tcp) => ws_net::tokio::connect_on(tcp, &hop.endpoint, net, budget).await?,
            None => ws_net::tokio::connect(&hop.endpoint, net, budget).await?,
        };
        let outcome = exchange(&mut stream, &mut hop.handshake, &upgrade).await?;
        if let Some(accepted) = upgrade.finish(hop, outcome)? {
            return Ok(AsyncWebSocket::new(
                stream,
                accepted,
                builder,
                upgrade.into_url(),
            ));
        }
        // A redirect: this connection is done with (dropping it closes it).
    }
}

/// Writes the request and reads the response until the handshake decides, every read
/// bounded by the read timeout and the deadline left.
async fn exchange(
    stream: &mut TokioStream,
    handshake: &mut Handshake,
    upgrade: &Upgrade<'_>,
) -> Result<Outcome> {
    let request = handshake.request_bytes();
    let peer = stream.peer_addr().ok();
    let write_limit = upgrade.write_timeout();
    within(write_limit, async {
        stream.write_all(request).await?;
        stream.flush().await
    })
    .await
    .map_err(|e| Error::io_on(Op::Handshake, e, peer, write_limit))?;
    let mut buf = [0; 4096];
    loop {
        let limit = upgrade.read_timeout()?;
        let n = within(limit.wait, stream.read(&mut buf))
            .await
            .map_err(|e| Error::io_on(Op::Handshake, e, peer, limit.ran_out))?;
        if let Some(outcome) = feed(handshake, buf.get(..n).unwrap_or_default())? {
            return Ok(outcome);
        }
    }
}

/// `io` within `limit` (none: no limit); running out is an `io::ErrorKind::TimedOut`.
async fn within<T>(
    limit: Option<Duration>,
    io: impl Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    match limit {
        None => io.await,
        Some(limit) => tokio::time::timeout(limit, io)
            .await
            .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into())),
    }
}
