//! [`Reconnecting`]: a stream of events over successive async connections, reconnecting
//! as a [`Reconnect`] policy says (the policy and backoff of
//! [`App::run_forever`](crate::App::run_forever)).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use futures_core::Stream;
use ws_frame::{CloseCode, Message};

use super::reader::AsyncReader;
use super::rt::{Instant, Timer};
use super::socket::AsyncWebSocket;
use super::writer::AsyncSender;
use crate::app::Reconnect;
use crate::app::reconnect::{Backoff, unit_random};
use crate::config::ClientBuilder;
use crate::error::{Error, Result};

/// What a [`Reconnecting`] stream yields.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReconnectEvent {
    /// A connection is open (the first, or again after a reconnect); send on it with the
    /// sender (its sends fail once that connection ended).
    Open(AsyncSender),
    /// A text or binary message of the open connection.
    Message(Message),
    /// The open connection ended: the server closed it (`code` and `reason` of its close
    /// frame; a close without a code is `None`) ...
    Closed {
        /// The server's close code.
        code: Option<CloseCode>,
        /// The server's reason.
        reason: String,
    },
    /// ... or it failed, or a connect failed.
    Error(Error),
    /// The policy reconnects after this delay (attempt `attempt` since the last reset).
    Reconnecting {
        /// The wait before the attempt.
        delay: Duration,
        /// The attempt number, from 1.
        attempt: u32,
    },
}

type Connecting = Pin<Box<dyn Future<Output = Result<AsyncWebSocket>> + Send>>;

enum State {
    Connecting(Connecting),
    Open {
        reader: Box<AsyncReader>,
        opened: Instant,
    },
    /// The connection ended: decide whether and when to reconnect.
    Ended {
        again: bool,
        stayed_up: Option<Duration>,
    },
    Waiting(Timer),
    Done,
}

/// A stream of [`ReconnectEvent`]s over successive connections to one URL (feature `tokio`): it
/// connects, yields [`ReconnectEvent::Open`] with a sender and then the messages, and when the
/// connection ends (or a connect fails) yields how, then reconnects after the policy's
/// delay, until the policy says stop (the stream then ends). Made by
/// [`ClientBuilder::reconnecting`].
///
/// The policy is [`Reconnect`]'s: exponential backoff with jitter, an attempt limit, the
/// reset after a connection that stayed up, and which endings reconnect (errors, abnormal
/// closes, normal closes). An invalid URL or option ends the stream after its error.
///
/// Dropping the stream closes the current connection without a closing handshake; for
/// one, send a close frame with the sender and keep polling until [`ReconnectEvent::Closed`].
///
/// ```no_run
/// use futures_util::StreamExt;
/// use ws_client::{ClientBuilder, Reconnect, ReconnectEvent};
///
/// # async fn run() -> ws_client::Result<()> {
/// let mut events = ClientBuilder::new().reconnecting("wss://example.com/feed", Reconnect::new())?;
/// while let Some(event) = events.next().await {
///     match event {
///         ReconnectEvent::Open(sender) => sender.send_text("subscribe").await?,
///         ReconnectEvent::Message(message) => println!("{message:?}"),
///         other => eprintln!("{other:?}"),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct Reconnecting {
    builder: ClientBuilder,
    url: String,
    policy: Reconnect,
    backoff: Backoff,
    state: State,
}

impl fmt::Debug for Reconnecting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reconnecting")
            .field("url", &crate::logging::safe_url(&self.url))
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Reconnecting {
    pub(crate) fn new(builder: &ClientBuilder, url: &str, policy: Reconnect) -> Result<Self> {
        policy.validate()?;
        let mut this = Self {
            builder: builder.clone(),
            url: url.to_owned(),
            backoff: Backoff::new(policy.clone()),
            policy,
            state: State::Done,
        };
        this.state = State::Connecting(this.connect());
        Ok(this)
    }

    fn connect(&self) -> Connecting {
        let builder = self.builder.clone();
        let url = self.url.clone();
        Box::pin(async move { builder.connect_async(&url).await })
    }
}

impl Stream for Reconnecting {
    type Item = ReconnectEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ReconnectEvent>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Done => return Poll::Ready(None),
                State::Connecting(connecting) => match ready!(connecting.as_mut().poll(cx)) {
                    Ok(ws) => {
                        let (reader, sender) = ws.split();
                        let event = ReconnectEvent::Open(sender);
                        this.state = State::Open {
                            reader: Box::new(reader),
                            opened: Instant::now(),
                        };
                        return Poll::Ready(Some(event));
                    }
                    Err(e) => {
                        // A bad URL or option fails the same way every time: no retry.
                        let fixable = !matches!(e, Error::Url(_) | Error::InvalidOption(_));
                        let again = fixable && this.policy.after_error();
                        this.state = State::Ended {
                            again,
                            stayed_up: None,
                        };
                        return Poll::Ready(Some(ReconnectEvent::Error(e)));
                    }
                },
                State::Open { reader, opened, .. } => {
                    let item = ready!(Pin::new(&mut **reader).poll_next(cx));
                    let stayed_up = Some(opened.elapsed());
                    let (event, again) = match item {
                        Some(Ok(Message::Close(close))) => {
                            let (code, reason) =
                                close.map_or((None, String::new()), |(c, r)| (Some(c), r));
                            let again = this.policy.after_close(code);
                            (ReconnectEvent::Closed { code, reason }, again)
                        }
                        Some(Ok(message)) => {
                            return Poll::Ready(Some(ReconnectEvent::Message(message)));
                        }
                        Some(Err(e)) => (ReconnectEvent::Error(e), this.policy.after_error()),
                        None => (
                            ReconnectEvent::Error(Error::abnormal_close()),
                            this.policy.after_error(),
                        ),
                    };
                    this.state = State::Ended { again, stayed_up };
                    return Poll::Ready(Some(event));
                }
                State::Ended { again, stayed_up } => {
                    if !*again {
                        this.state = State::Done;
                        continue;
                    }
                    if stayed_up.is_some_and(|up| up >= this.policy.reset_after_duration()) {
                        this.backoff.reset();
                    }
                    let Some(delay) = this.backoff.next_delay(unit_random()) else {
                        this.state = State::Done;
                        continue;
                    };
                    log::info!(
                        target: "ws_client",
                        "reconnecting in {delay:?} (attempt {})",
                        this.backoff.attempts()
                    );
                    this.state = State::Waiting(Timer::after(delay));
                    return Poll::Ready(Some(ReconnectEvent::Reconnecting {
                        delay,
                        attempt: this.backoff.attempts(),
                    }));
                }
                State::Waiting(sleep) => {
                    ready!(sleep.poll(cx));
                    this.state = State::Connecting(this.connect());
                }
            }
        }
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connecting(_) => "Connecting",
            Self::Open { .. } => "Open",
            Self::Ended { .. } => "Ended",
            Self::Waiting(_) => "Waiting",
            Self::Done => "Done",
        })
    }
}
