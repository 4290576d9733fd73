//! The async client on tokio (feature `tokio`): the same [`ClientBuilder`], the same
//! handshake decisions ([`Upgrade`]) and the same engine as the blocking client, over
//! `ws_net::tokio`'s connect.
//!
//! Only three things are tokio's here: the stream and its halves, the writer's async
//! mutex, and the timers, all behind the private `rt` module (nothing else here names a
//! tokio item). Another runtime would give `rt`'s items over its own stream and timers; no
//! protocol rule lives here.

mod reader;
mod reconnect;
mod rt;
mod socket;
mod writer;

use std::time::Duration;

use ws_handshake::{Handshake, Outcome};

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
    mut pre: Option<rt::Tcp>,
) -> Result<AsyncWebSocket> {
    let mut upgrade = Upgrade::new(builder, url)?;
    loop {
        let mut hop = upgrade.hop()?;
        let (net, budget) = (&builder.net, upgrade.budget());
        let mut stream = rt::connect(pre.take(), &hop.endpoint, net, budget).await?;
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
    stream: &mut rt::Stream,
    handshake: &mut Handshake,
    upgrade: &Upgrade<'_>,
) -> Result<Outcome> {
    let request = handshake.request_bytes();
    let peer = stream.peer_addr().ok();
    let write_limit = upgrade.write_timeout();
    within(write_limit, async {
        rt::write_all(stream, request).await?;
        rt::flush(stream).await
    })
    .await
    .map_err(|e| Error::io_on(Op::Handshake, e, peer, write_limit))?;
    let mut buf = [0; 4096];
    loop {
        let limit = upgrade.read_timeout()?;
        let n = within(limit.wait, rt::read(stream, &mut buf))
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
        Some(limit) => rt::timeout(limit, io)
            .await
            .unwrap_or_else(|| Err(std::io::ErrorKind::TimedOut.into())),
    }
}
