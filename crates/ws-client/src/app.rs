//! [`App`]: the callback-driven client, Python's `WebSocketApp`, with keepalive pings, a
//! ping timeout, reconnection with backoff, a thread-safe [`AppHandle`] and panic-safe
//! callbacks.

mod handle;
pub(crate) mod reconnect;
mod run;

use std::fmt;
use std::io;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use ws_frame::{CloseCode, Fin, Message, OpCode};

use crate::config::{ClientBuilder, DEFAULT_CLOSE_TIMEOUT};
use crate::error::{Error, OptionError, Result};

pub use self::handle::AppHandle;
pub use self::reconnect::Reconnect;

/// The callbacks of an [`App`]; every method has a default that does nothing, so
/// implement only those you need. Each gets an [`AppHandle`] to send and close.
///
/// Callbacks run on the thread that called [`App::run_forever`], one at a time, in the
/// order the events happen: for each connection `on_open` (or `on_reconnect`), then
/// `on_message`/`on_data`/`on_cont_message`/`on_ping`/`on_pong` as frames arrive, then
/// `on_error` if the connection failed, then exactly one `on_close`. A failed connect
/// calls only `on_error`. A slow callback delays everything else, keepalive pings
/// included.
///
/// A panic in a callback is caught (with `panic = "unwind"`, the default): it is reported
/// to `on_error` as [`Error::Callback`] (a panic in `on_error` itself is only logged), the
/// connection is closed with code 1011, `on_close` follows, and `run_forever` returns
/// [`Ended::Failed`].
///
/// ```no_run
/// use ws_client::{App, AppHandle, CloseCode, Handler, Message, RunOptions};
///
/// struct Echo {
///     seen: usize,
/// }
///
/// impl Handler for Echo {
///     fn on_open(&mut self, app: &AppHandle) {
///         let _ = app.send_text("hello");
///     }
///
///     fn on_message(&mut self, app: &AppHandle, message: Message) {
///         self.seen += 1;
///         if self.seen == 3 {
///             let _ = app.close(CloseCode::NORMAL, "done");
///         }
///     }
/// }
///
/// let mut app = App::with_handler("ws://127.0.0.1:9001/echo", Echo { seen: 0 });
/// let ended = app.run_forever(&RunOptions::new())?;
/// println!("{ended:?} after {} messages", app.handler().seen);
/// # Ok::<(), ws_client::Error>(())
/// ```
pub trait Handler {
    /// A connection is open (the first one, or each one if
    /// [`on_reconnect`](Self::on_reconnect) is not overridden).
    fn on_open(&mut self, app: &AppHandle) {
        let _ = app;
    }

    /// A connection is open again after a reconnect wait. By default calls
    /// [`on_open`](Self::on_open), as Python does when no `on_reconnect` is given.
    fn on_reconnect(&mut self, app: &AppHandle) {
        self.on_open(app);
    }

    /// A whole text or binary message arrived (fragments reassembled).
    fn on_message(&mut self, app: &AppHandle, message: Message) {
        let _ = (app, message);
    }

    /// The bytes of a whole message, called just before [`on_message`](Self::on_message)
    /// with the message's opcode (`Text` or `Binary`, also for a message that arrived in
    /// fragments) and `fin` [`Fin::Final`] (kept for Python's signature; pieces of
    /// fragmented messages go to [`on_cont_message`](Self::on_cont_message)).
    fn on_data(&mut self, app: &AppHandle, data: &[u8], opcode: OpCode, fin: Fin) {
        let _ = (app, data, opcode, fin);
    }

    /// One fragment of a fragmented message, as it arrives: every fragment, the first
    /// included, with `fin` [`Fin::Final`] on the last ([`Fin::More`] before). The whole
    /// message then still goes to [`on_data`](Self::on_data) and
    /// [`on_message`](Self::on_message).
    fn on_cont_message(&mut self, app: &AppHandle, data: &[u8], fin: Fin) {
        let _ = (app, data, fin);
    }

    /// A ping arrived (after the automatic pong was sent, unless turned off with
    /// [`Config::ping_reply`](ws_frame::Config::ping_reply) in [`ClientBuilder::connection`]).
    fn on_ping(&mut self, app: &AppHandle, payload: &[u8]) {
        let _ = (app, payload);
    }

    /// A pong arrived.
    fn on_pong(&mut self, app: &AppHandle, payload: &[u8]) {
        let _ = (app, payload);
    }

    /// Something failed: a connect attempt, the connection (lost without a close frame:
    /// [`Error::ConnectionClosed`] with code 1006; protocol error; ping timeout:
    /// [`Error::Timeout`] with [`Op::Keepalive`](crate::Op::Keepalive)), or another
    /// callback ([`Error::Callback`]). A normal close is not an error.
    fn on_error(&mut self, app: &AppHandle, error: &Error) {
        let _ = (app, error);
    }

    /// The connection ended; called once for each `on_open`/`on_reconnect`. `code` and
    /// `reason` are the server's close frame (`code` `None` if it carried none; for a
    /// close we started, the server's reply), or code 1006 (abnormal) and an empty reason
    /// if no close frame arrived: lost connection, error, ping timeout, or a peer that did
    /// not answer our close in time.
    fn on_close(&mut self, app: &AppHandle, code: Option<CloseCode>, reason: &str) {
        let _ = (app, code, reason);
    }
}

type OpenFn = Box<dyn FnMut(&AppHandle) + Send>;
type MessageFn = Box<dyn FnMut(&AppHandle, Message) + Send>;
type DataFn = Box<dyn FnMut(&AppHandle, &[u8], OpCode, Fin) + Send>;
type ContFn = Box<dyn FnMut(&AppHandle, &[u8], Fin) + Send>;
type BytesFn = Box<dyn FnMut(&AppHandle, &[u8]) + Send>;
type ErrorFn = Box<dyn FnMut(&AppHandle, &Error) + Send>;
type CloseFn = Box<dyn FnMut(&AppHandle, Option<CloseCode>, &str) + Send>;
type SocketFn = Box<dyn FnMut() -> io::Result<TcpStream> + Send>;

/// The [`Handler`] of an [`App`] built from closures ([`App::new`] and its `on_*`
/// methods). Callbacks not set do nothing; without `on_reconnect`, `on_open` is called
/// on reconnections too.
#[derive(Default)]
#[allow(
    clippy::struct_field_names,
    reason = "the fields are the callbacks, named as in Python"
)]
pub struct Callbacks {
    on_open: Option<OpenFn>,
    on_reconnect: Option<OpenFn>,
    on_message: Option<MessageFn>,
    on_data: Option<DataFn>,
    on_cont_message: Option<ContFn>,
    on_ping: Option<BytesFn>,
    on_pong: Option<BytesFn>,
    on_error: Option<ErrorFn>,
    on_close: Option<CloseFn>,
}

impl fmt::Debug for Callbacks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callbacks")
            .field("on_open", &self.on_open.is_some())
            .field("on_reconnect", &self.on_reconnect.is_some())
            .field("on_message", &self.on_message.is_some())
            .field("on_data", &self.on_data.is_some())
            .field("on_cont_message", &self.on_cont_message.is_some())
            .field("on_ping", &self.on_ping.is_some())
            .field("on_pong", &self.on_pong.is_some())
            .field("on_error", &self.on_error.is_some())
            .field("on_close", &self.on_close.is_some())
            .finish()
    }
}

impl Handler for Callbacks {
    fn on_open(&mut self, app: &AppHandle) {
        if let Some(f) = &mut self.on_open {
            f(app);
        }
    }

    fn on_reconnect(&mut self, app: &AppHandle) {
        match &mut self.on_reconnect {
            Some(f) => f(app),
            None => self.on_open(app),
        }
    }

    fn on_message(&mut self, app: &AppHandle, message: Message) {
        if let Some(f) = &mut self.on_message {
            f(app, message);
        }
    }

    fn on_data(&mut self, app: &AppHandle, data: &[u8], opcode: OpCode, fin: Fin) {
        if let Some(f) = &mut self.on_data {
            f(app, data, opcode, fin);
        }
    }

    fn on_cont_message(&mut self, app: &AppHandle, data: &[u8], fin: Fin) {
        if let Some(f) = &mut self.on_cont_message {
            f(app, data, fin);
        }
    }

    fn on_ping(&mut self, app: &AppHandle, payload: &[u8]) {
        if let Some(f) = &mut self.on_ping {
            f(app, payload);
        }
    }

    fn on_pong(&mut self, app: &AppHandle, payload: &[u8]) {
        if let Some(f) = &mut self.on_pong {
            f(app, payload);
        }
    }

    fn on_error(&mut self, app: &AppHandle, error: &Error) {
        if let Some(f) = &mut self.on_error {
            f(app, error);
        }
    }

    fn on_close(&mut self, app: &AppHandle, code: Option<CloseCode>, reason: &str) {
        if let Some(f) = &mut self.on_close {
            f(app, code, reason);
        }
    }
}

/// The options of [`App::run_forever`] (Python's `run_forever` parameters that are not
/// connect options; those live in the app's [`ClientBuilder`]).
///
/// Keepalive: with a [`ping_interval`](Self::ping_interval) the app sends a ping that
/// often (the first one interval after connecting). With a
/// [`ping_timeout`](Self::ping_timeout) too, a ping not answered by a pong within the
/// timeout makes the connection count as dead at once: `on_error` gets
/// [`Error::Timeout`] with [`Op::Keepalive`](crate::Op::Keepalive) ("ping/pong timed
/// out"), a close frame (1001) is sent without waiting for an answer, the socket is shut
/// down, and `on_close` follows immediately with code 1006: no close-handshake wait on a
/// peer known to be dead. The run loop sleeps in the socket read until the next ping or
/// pong deadline, so an idle connection uses no CPU.
///
/// The stop signal of a run is [`AppHandle::close`] (get the handle with [`App::handle`]
/// before running): it ends the run from any thread, also during a reconnect wait.
///
/// ```
/// use std::time::Duration;
/// use ws_client::{Reconnect, RunOptions};
///
/// let options = RunOptions::new()
///     .ping_interval(Some(Duration::from_secs(20)))
///     .ping_timeout(Some(Duration::from_secs(10)))
///     .reconnect(Some(Reconnect::new()));
/// # let _ = options;
/// ```
#[derive(Debug, Clone)]
pub struct RunOptions {
    ping_interval: Option<Duration>,
    ping_timeout: Option<Duration>,
    ping_payload: Vec<u8>,
    reconnect: Option<Reconnect>,
    close_timeout: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            ping_interval: None,
            ping_timeout: None,
            ping_payload: Vec::new(),
            reconnect: None,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }
}

impl RunOptions {
    /// No pings, no reconnect, a 3 s close timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sends a ping this often (`None` or zero: never, the default). Python's
    /// `ping_interval`.
    #[must_use]
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// How long a ping may go unanswered before the connection counts as dead (default
    /// `None`: no limit). Must be above zero and below the ping interval; without a ping
    /// interval it has no effect, as in Python. Python's `ping_timeout`.
    #[must_use]
    pub fn ping_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.ping_timeout = timeout;
        self
    }

    /// The payload of keepalive pings, at most 125 bytes (default empty). Python's
    /// `ping_payload`.
    #[must_use]
    pub fn ping_payload(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.ping_payload = payload.into();
        self
    }

    /// Reconnect after the connection ends, following the policy (default `None`: never).
    /// Python's `reconnect`.
    #[must_use]
    pub fn reconnect(mut self, policy: Option<Reconnect>) -> Self {
        self.reconnect = policy;
        self
    }

    /// How long a close waits for the server's close frame (and then for the server to end
    /// the TCP connection), counted from the moment the close was asked for or the
    /// server's close arrived (default 3 s, as Python). This bounds how late `on_close`
    /// comes after [`AppHandle::close`], whichever thread calls it.
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The checks of Python's `run_forever`, in its order, plus the payload size and the
    /// reconnect policy.
    fn validate(&self) -> Result<()> {
        check_keepalive(self.ping_interval, self.ping_timeout, &self.ping_payload)?;
        if let Some(policy) = &self.reconnect {
            policy.validate()?;
        }
        Ok(())
    }

    fn active_interval(&self) -> Option<Duration> {
        active(self.ping_interval)
    }
}

/// A ping interval of zero is none.
fn active(interval: Option<Duration>) -> Option<Duration> {
    interval.filter(|i| !i.is_zero())
}

/// The keepalive checks of Python's `run_forever`, in its order, plus the payload size;
/// shared by [`RunOptions`] and the async client's keepalive.
pub(crate) fn check_keepalive(
    interval: Option<Duration>,
    timeout: Option<Duration>,
    payload: &[u8],
) -> Result<()> {
    if timeout.is_some_and(|t| t.is_zero()) {
        return Err(Error::InvalidOption(OptionError::OutOfRange {
            option: "ping_timeout",
            reason: "ensure ping_timeout > 0 (ping_timeout is zero)".to_owned(),
        }));
    }
    // Python's "Ensure ping_interval >= 0" cannot fail: a Duration is never negative.
    if let (Some(interval), Some(timeout)) = (active(interval), timeout) {
        if interval <= timeout {
            return Err(Error::InvalidOption(OptionError::OutOfRange {
                option: "ping_interval",
                reason: format!(
                    "ensure ping_interval > ping_timeout (interval {interval:?}, timeout \
                     {timeout:?})"
                ),
            }));
        }
    }
    if payload.len() > 125 {
        return Err(Error::InvalidOption(OptionError::OutOfRange {
            option: "ping_payload",
            reason: format!("{} bytes, at most 125 allowed", payload.len()),
        }));
    }
    Ok(())
}

/// Who started the closing handshake that ended a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClosedBy {
    /// We did, with [`AppHandle::close`].
    Local,
    /// The server did.
    Peer,
}

/// Why [`App::run_forever`] returned (Python returns only a bool:
/// [`is_error`](Self::is_error) gives it).
#[derive(Debug)]
#[non_exhaustive]
pub enum Ended {
    /// The connection was closed and not reconnected. `code` and `reason` are the
    /// server's close frame (for a local close, its reply), or 1006 and empty when a
    /// local close got no reply in time.
    Closed {
        /// Who closed.
        by: ClosedBy,
        /// The server's close code (`None` when its close frame had none).
        code: Option<CloseCode>,
        /// The server's close reason.
        reason: String,
    },
    /// A connect or the connection failed and the reconnect policy did not (or no longer)
    /// reconnect, or a callback panicked ([`Error::Callback`]).
    Failed(Error),
    /// [`AppHandle::close`] was called while no connection was open (during a reconnect
    /// wait, while connecting, or before the run).
    Stopped,
}

impl Ended {
    /// Whether the run ended with an error (what Python's `run_forever` returns).
    pub fn is_error(&self) -> bool {
        matches!(self, Self::Failed(_))
    }
}

/// A callback-driven client that connects, dispatches each event to a [`Handler`],
/// keeps the connection alive with pings, and reconnects with backoff: Python's
/// `WebSocketApp`.
///
/// Build one from closures with [`App::new`] and the `on_*` methods, or from a
/// [`Handler`] with [`App::with_handler`]; set connect options with
/// [`client`](Self::client); run it with [`run_forever`](Self::run_forever). Send and
/// close from callbacks or from other threads through an [`AppHandle`].
///
/// ```no_run
/// use std::time::Duration;
/// use ws_client::{App, CloseCode, Message, Reconnect, RunOptions};
///
/// let mut app = App::new("ws://127.0.0.1:9001/feed")
///     .on_open(|app| {
///         let _ = app.send_text("subscribe");
///     })
///     .on_message(|_, message| {
///         if let Message::Text(text) = message {
///             println!("{text}");
///         }
///     })
///     .on_error(|_, error| eprintln!("error: {error}"))
///     .on_close(|_, code, reason| println!("closed: {code:?} {reason}"));
///
/// let handle = app.handle();
/// std::thread::spawn(move || {
///     std::thread::sleep(Duration::from_secs(60));
///     let _ = handle.close(CloseCode::NORMAL, "bye");
/// });
///
/// let ended = app.run_forever(
///     &RunOptions::new()
///         .ping_interval(Some(Duration::from_secs(20)))
///         .ping_timeout(Some(Duration::from_secs(10)))
///         .reconnect(Some(Reconnect::new())),
/// )?;
/// println!("{ended:?}");
/// # Ok::<(), ws_client::Error>(())
/// ```
pub struct App<H = Callbacks> {
    url: String,
    client: ClientBuilder,
    socket_fn: Option<SocketFn>,
    handler: H,
    handle: AppHandle,
}

impl<H: fmt::Debug> fmt::Debug for App<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("App")
            .field("url", &crate::logging::safe_url(&self.url))
            .field("client", &self.client)
            .field("socket_fn", &self.socket_fn.is_some())
            .field("handler", &self.handler)
            .finish_non_exhaustive()
    }
}

impl App<Callbacks> {
    /// An app for `url` with no callbacks yet and default connect options.
    pub fn new(url: impl Into<String>) -> Self {
        Self::with_handler(url, Callbacks::default())
    }

    /// Sets `on_open`; see [`Handler::on_open`].
    #[must_use]
    pub fn on_open(mut self, f: impl FnMut(&AppHandle) + Send + 'static) -> Self {
        self.handler.on_open = Some(Box::new(f));
        self
    }

    /// Sets `on_reconnect`; see [`Handler::on_reconnect`].
    #[must_use]
    pub fn on_reconnect(mut self, f: impl FnMut(&AppHandle) + Send + 'static) -> Self {
        self.handler.on_reconnect = Some(Box::new(f));
        self
    }

    /// Sets `on_message`; see [`Handler::on_message`].
    #[must_use]
    pub fn on_message(mut self, f: impl FnMut(&AppHandle, Message) + Send + 'static) -> Self {
        self.handler.on_message = Some(Box::new(f));
        self
    }

    /// Sets `on_data`; see [`Handler::on_data`].
    #[must_use]
    pub fn on_data(
        mut self,
        f: impl FnMut(&AppHandle, &[u8], OpCode, Fin) + Send + 'static,
    ) -> Self {
        self.handler.on_data = Some(Box::new(f));
        self
    }

    /// Sets `on_cont_message`; see [`Handler::on_cont_message`].
    #[must_use]
    pub fn on_cont_message(
        mut self,
        f: impl FnMut(&AppHandle, &[u8], Fin) + Send + 'static,
    ) -> Self {
        self.handler.on_cont_message = Some(Box::new(f));
        self
    }

    /// Sets `on_ping`; see [`Handler::on_ping`].
    #[must_use]
    pub fn on_ping(mut self, f: impl FnMut(&AppHandle, &[u8]) + Send + 'static) -> Self {
        self.handler.on_ping = Some(Box::new(f));
        self
    }

    /// Sets `on_pong`; see [`Handler::on_pong`].
    #[must_use]
    pub fn on_pong(mut self, f: impl FnMut(&AppHandle, &[u8]) + Send + 'static) -> Self {
        self.handler.on_pong = Some(Box::new(f));
        self
    }

    /// Sets `on_error`; see [`Handler::on_error`].
    #[must_use]
    pub fn on_error(mut self, f: impl FnMut(&AppHandle, &Error) + Send + 'static) -> Self {
        self.handler.on_error = Some(Box::new(f));
        self
    }

    /// Sets `on_close`; see [`Handler::on_close`].
    #[must_use]
    pub fn on_close(
        mut self,
        f: impl FnMut(&AppHandle, Option<CloseCode>, &str) + Send + 'static,
    ) -> Self {
        self.handler.on_close = Some(Box::new(f));
        self
    }
}

impl<H: Handler> App<H> {
    /// An app for `url` calling `handler`, with default connect options.
    pub fn with_handler(url: impl Into<String>, handler: H) -> Self {
        Self {
            url: url.into(),
            client: ClientBuilder::new(),
            socket_fn: None,
            handler,
            handle: AppHandle {
                shared: Arc::default(),
            },
        }
    }

    /// Connects with these options (every option of Python's `WebSocketApp` and
    /// `run_forever` that concerns the connection: header, cookie, subprotocols, mask
    /// key, proxy, TLS, socket options, origin, host, UTF-8 validation, ...). Each
    /// (re)connection uses them. The builder's read timeout does not apply while the app
    /// waits for messages (a quiet connection is not an error; use keepalive pings).
    #[must_use]
    pub fn client(mut self, builder: ClientBuilder) -> Self {
        self.client = builder;
        self
    }

    /// Opens the TCP connection of every (re)connection attempt with `f` instead of
    /// resolving and connecting to the URL's host (Python's `socket=`, but called anew for
    /// each attempt, since a socket cannot be reused); the handshake then runs over it
    /// with the socket options applied and, for `wss://`, wrapped in TLS within the
    /// deadline, as [`ClientBuilder::connect_on`] does. An error from
    /// `f` counts as a failed connect ([`Error::Io`] with [`Op::Connect`](crate::Op)).
    #[must_use]
    pub fn socket_fn(mut self, f: impl FnMut() -> io::Result<TcpStream> + Send + 'static) -> Self {
        self.socket_fn = Some(Box::new(f));
        self
    }

    /// A handle to send and close from other threads.
    pub fn handle(&self) -> AppHandle {
        self.handle.clone()
    }

    /// The URL the app connects to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// Takes the handler back.
    pub fn into_handler(self) -> H {
        self.handler
    }

    /// Connects and dispatches events to the handler until the connection ends and is
    /// not reconnected, or [`AppHandle::close`] is called; returns why it ended. The app
    /// can run again afterwards.
    ///
    /// # Errors
    ///
    /// Only [`Error::InvalidOption`] for invalid `options`, before connecting, with
    /// Python's messages: "ensure `ping_timeout` > 0", "ensure `ping_interval` >
    /// `ping_timeout`"; also for a ping payload over 125 bytes and a reconnect factor below
    /// 1 or jitter outside 0..=1. Everything that goes wrong later is reported to
    /// [`Handler::on_error`] and in [`Ended::Failed`].
    pub fn run_forever(&mut self, options: &RunOptions) -> Result<Ended> {
        options.validate()?;
        let connector = run::Connector {
            url: &self.url,
            client: &self.client,
            socket_fn: self.socket_fn.as_mut(),
        };
        Ok(run::run(
            connector,
            &mut self.handler,
            &self.handle,
            options,
        ))
    }
}

/// Compiles the Rust example of the migration guide.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/FROM-PYTHON-APP.md")]
struct GuideDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_shareable_and_apps_can_move_to_a_thread() {
        fn assert_send<T: Send>() {}
        fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
        assert_send_sync_clone::<AppHandle>();
        assert_send::<App>();
        assert_send::<Ended>();
    }

    #[test]
    fn only_failures_count_as_errors() {
        let closed = Ended::Closed {
            by: ClosedBy::Peer,
            code: Some(CloseCode::NORMAL),
            reason: String::new(),
        };
        assert!(!closed.is_error());
        assert!(!Ended::Stopped.is_error());
        assert!(Ended::Failed(Error::InvalidOption(OptionError::Misuse("x"))).is_error());
    }
}
