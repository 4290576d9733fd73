//! The run loop of [`App::run_forever`](crate::App::run_forever): connect, drive one
//! connection (frames to callbacks, keepalive deadlines as read timeouts), close with a
//! bounded wait, and reconnect after a backoff delay.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::{Duration, Instant};

use ws_frame::{CloseCode, Fin, Incoming, Keepalive, KeepaliveAction, Message, OpCode};

use super::handle::CloseRequest;
use super::reconnect::{Backoff, Reconnect, unit_random};
use super::{AppHandle, ClosedBy, Ended, Handler, RunOptions};
use crate::config::ClientBuilder;
use crate::error::{Error, Op};
use crate::websocket::WebSocket;

/// The shortest read timeout set (zero would mean "block forever" to the OS).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// How a connection ended.
#[derive(Debug)]
enum Kind {
    /// We closed it ([`AppHandle::close`]).
    Local,
    /// The server closed it.
    Peer,
    /// It failed.
    Failed(Error),
    /// A callback panicked (already reported to `on_error`).
    Panicked(Error),
}

#[derive(Debug)]
struct ConnEnd {
    kind: Kind,
    code: Option<CloseCode>,
    reason: String,
}

impl ConnEnd {
    fn abnormal(kind: Kind) -> Self {
        Self {
            kind,
            code: Some(CloseCode::ABNORMAL),
            reason: String::new(),
        }
    }
}

/// Calls the handler's callbacks, catching panics.
struct Calls<'a, H> {
    handler: &'a mut H,
    app: &'a AppHandle,
}

impl<H: Handler> Calls<'_, H> {
    /// Runs one callback; a panic is logged, reported to `on_error` (unless it came from
    /// `on_error`) and returned as [`Error::Callback`].
    fn call(
        &mut self,
        name: &'static str,
        f: impl FnOnce(&mut H, &AppHandle),
    ) -> Result<(), Error> {
        let handler = &mut *self.handler;
        let app = self.app;
        let Err(payload) = catch_unwind(AssertUnwindSafe(|| f(handler, app))) else {
            return Ok(());
        };
        let error = Error::Callback {
            callback: name,
            message: panic_message(payload.as_ref()),
        };
        log::error!(target: "ws_client", "{error}");
        // Dropping a panic payload can panic in turn; keep that from unwinding here.
        let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
        if name != "on_error" {
            // A panic in on_error is logged by the nested call and goes no further.
            let _ = self.error(&error);
        }
        Err(error)
    }

    fn error(&mut self, error: &Error) -> Result<(), Error> {
        self.call("on_error", |h, a| h.on_error(a, error))
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}

/// How each connection is opened.
pub(super) struct Connector<'a> {
    pub(super) url: &'a str,
    pub(super) client: &'a ClientBuilder,
    pub(super) socket_fn: Option<&'a mut super::SocketFn>,
}

impl Connector<'_> {
    fn connect(&mut self) -> Result<WebSocket, Error> {
        match &mut self.socket_fn {
            None => self.client.connect(self.url),
            Some(f) => {
                let tcp = f().map_err(|e| Error::Io {
                    op: Op::Connect,
                    peer: None,
                    source: e,
                })?;
                self.client.connect_on(self.url, tcp)
            }
        }
    }
}

/// The whole run: connections and reconnect waits until something ends it.
pub(super) fn run<H: Handler>(
    mut connector: Connector<'_>,
    handler: &mut H,
    app: &AppHandle,
    options: &RunOptions,
) -> Ended {
    let shared = &*app.shared;
    shared.start(options.close_timeout);
    let ended = thread::scope(|scope| {
        let watchdog = thread::Builder::new()
            .name("ws-client-app-watchdog".to_owned())
            .spawn_scoped(scope, || shared.watchdog());
        if let Err(e) = &watchdog {
            // Only a close from another thread against a dead peer needs it; the run
            // still works, with that close bounded only by the peer.
            log::warn!(target: "ws_client", "cannot start the close watchdog: {e}");
        }
        // Ends the watchdog however the run ends, so the scope can join it.
        let _finish = Finish(shared);
        let mut calls = Calls { handler, app };
        connections(&mut connector, &mut calls, options)
    });
    log::debug!(target: "ws_client", "run_forever ended: {ended:?}");
    ended
}

/// Marks the run finished when dropped.
struct Finish<'a>(&'a super::handle::Shared);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

fn connections<H: Handler>(
    connector: &mut Connector<'_>,
    calls: &mut Calls<'_, H>,
    options: &RunOptions,
) -> Ended {
    let shared = &*calls.app.shared;
    let mut backoff = options.reconnect.clone().map(Backoff::new);
    let mut opened_before = false;
    loop {
        if shared.close_request().is_some() {
            return Ended::Stopped;
        }
        let ended = match connector.connect() {
            Err(e) => {
                log::debug!(target: "ws_client", "connect failed: {e}");
                if let Err(panic) = calls.error(&e) {
                    return Ended::Failed(panic);
                }
                // A bad URL or option fails the same way every time: no retry.
                let fixable = !matches!(e, Error::Url(_) | Error::InvalidOption(_));
                if !(fixable
                    && options
                        .reconnect
                        .as_ref()
                        .is_some_and(Reconnect::after_error))
                {
                    return Ended::Failed(e);
                }
                Ended::Failed(e)
            }
            Ok(mut ws) => {
                if !shared.attach(ws.sender()) {
                    // Closed while connecting: leave politely, without callbacks.
                    if let Some(req) = shared.close_request() {
                        close_with(&mut ws, &req, options.close_timeout);
                    }
                    return Ended::Stopped;
                }
                let opened = Instant::now();
                let end = connection(&mut ws, calls, options, opened_before);
                shared.detach();
                opened_before = true;
                let stayed_up = opened.elapsed();
                log::debug!(
                    target: "ws_client",
                    "connection ended after {:?}: {:?} {:?} {:?}",
                    stayed_up,
                    end.kind,
                    end.code,
                    end.reason
                );
                let closed = calls.call("on_close", |h, a| h.on_close(a, end.code, &end.reason));
                let (ended, again) = match (end.kind, closed) {
                    (Kind::Panicked(e), _) | (_, Err(e)) => (Ended::Failed(e), false),
                    (Kind::Local, Ok(())) => {
                        (closed_end(ClosedBy::Local, end.code, end.reason), false)
                    }
                    (Kind::Peer, Ok(())) => {
                        let again = options
                            .reconnect
                            .as_ref()
                            .is_some_and(|p| p.after_close(end.code));
                        (closed_end(ClosedBy::Peer, end.code, end.reason), again)
                    }
                    (Kind::Failed(e), Ok(())) => {
                        let again = options
                            .reconnect
                            .as_ref()
                            .is_some_and(Reconnect::after_error);
                        (Ended::Failed(e), again)
                    }
                };
                if !again {
                    return ended;
                }
                if let (Some(b), Some(p)) = (&mut backoff, &options.reconnect) {
                    if stayed_up >= p.reset_after_duration() {
                        b.reset();
                    }
                }
                ended
            }
        };
        // Reconnect after a delay, if the policy still allows.
        let Some(delay) = backoff.as_mut().and_then(|b| b.next_delay(unit_random())) else {
            return ended;
        };
        log::info!(
            target: "ws_client",
            "reconnecting in {delay:?} (attempt {})",
            backoff.as_ref().map_or(0, Backoff::attempts)
        );
        if shared.wait_for_close(delay) {
            return Ended::Stopped;
        }
    }
}

fn closed_end(by: ClosedBy, code: Option<CloseCode>, reason: String) -> Ended {
    Ended::Closed { by, code, reason }
}

/// Drives one open connection until it ends; calls every callback but `on_close`.
fn connection<H: Handler>(
    ws: &mut WebSocket,
    calls: &mut Calls<'_, H>,
    options: &RunOptions,
    reconnected: bool,
) -> ConnEnd {
    let shared = &*calls.app.shared;
    let sender = ws.sender();
    let opened = if reconnected {
        calls.call("on_reconnect", H::on_reconnect)
    } else {
        calls.call("on_open", H::on_open)
    };
    if let Err(e) = opened {
        return fail_by_panic(ws, e, options);
    }
    // The keepalive schedule, fresh for every connection, on a clock starting now.
    let origin = Instant::now();
    let mut keepalive = Keepalive::new(options.active_interval(), options.ping_timeout);
    let _ = keepalive.handle_timeout(Duration::ZERO);
    // Whether a read timeout is set on the socket (the connection starts without one).
    let mut timeout_set = true;
    loop {
        if let Some(req) = shared.close_request() {
            return close_with(ws, &req, options.close_timeout);
        }
        while let Some(action) = keepalive.handle_timeout(origin.elapsed()) {
            match action {
                KeepaliveAction::SendPing => {
                    if let Err(e) = sender.ping(&options.ping_payload) {
                        log::debug!(target: "ws_client", "keepalive ping failed: {e}");
                    }
                }
                KeepaliveAction::TimedOut { timeout } => {
                    let error = Error::timeout(Op::Keepalive, Some(timeout));
                    log::debug!(target: "ws_client", "no pong within {timeout:?}");
                    // The peer is taken for dead: a courtesy close frame, no wait for an answer.
                    let _ = sender.send_close(CloseCode::GOING_AWAY, "");
                    ws.shutdown();
                    if let Err(panic) = calls.error(&error) {
                        return ConnEnd::abnormal(Kind::Panicked(panic));
                    }
                    return ConnEnd::abnormal(Kind::Failed(error));
                }
                _ => {}
            }
        }
        let wait = keepalive
            .poll_timeout()
            .map(|at| at.saturating_sub(origin.elapsed()).max(MIN_WAIT));
        // Without keepalive the timeout stays "none": no system call per frame.
        let configured = if wait.is_none() && !timeout_set {
            Ok(())
        } else {
            timeout_set = wait.is_some();
            ws.set_read_timeout(wait)
        };
        let received = configured.and_then(|()| ws.recv_incoming());
        let incoming = match received {
            Ok(incoming) => incoming,
            Err(e) if e.is_timeout() => continue,
            Err(e) => {
                if let Some(req) = shared.close_request() {
                    // Our close was under way (maybe the watchdog aborted the socket).
                    return close_with(ws, &req, options.close_timeout);
                }
                log::debug!(target: "ws_client", "connection failed: {e}");
                ws.shutdown();
                if let Err(panic) = calls.error(&e) {
                    return ConnEnd::abnormal(Kind::Panicked(panic));
                }
                return ConnEnd::abnormal(Kind::Failed(e));
            }
        };
        if let Incoming::Message(Message::Close(_)) = incoming {
            return peer_closed(ws, shared.close_request().is_some(), options);
        }
        if let Err(panic) = dispatch(calls, incoming, &mut keepalive) {
            return fail_by_panic(ws, panic, options);
        }
    }
}

/// Hands what arrived (not a close) to the callbacks. The engine already answered a ping.
fn dispatch<H: Handler>(
    calls: &mut Calls<'_, H>,
    incoming: Incoming,
    keepalive: &mut Keepalive,
) -> Result<(), Error> {
    match incoming {
        Incoming::Fragment { payload, fin, .. } => calls.call("on_cont_message", |h, a| {
            h.on_cont_message(a, &payload, fin);
        }),
        Incoming::Message(Message::Ping(payload)) => {
            calls.call("on_ping", |h, a| h.on_ping(a, &payload))
        }
        Incoming::Message(Message::Pong(payload)) => {
            keepalive.on_pong();
            calls.call("on_pong", |h, a| h.on_pong(a, &payload))
        }
        Incoming::Message(message @ (Message::Text(_) | Message::Binary(_))) => {
            deliver(calls, message)
        }
        _ => Ok(()),
    }
}

/// Hands a whole message to `on_data` and `on_message`.
fn deliver<H: Handler>(calls: &mut Calls<'_, H>, message: Message) -> Result<(), Error> {
    let (data, opcode) = match &message {
        Message::Text(text) => (text.as_bytes(), OpCode::Text),
        Message::Binary(data) => (data.as_slice(), OpCode::Binary),
        _ => (&[][..], OpCode::Binary),
    };
    calls.call("on_data", |h, a| h.on_data(a, data, opcode, Fin::Final))?;
    calls.call("on_message", |h, a| h.on_message(a, message))
}

/// The server's close frame arrived: answer it (unless it answers ours), wait for the
/// server to end the TCP connection within the close timeout, and report it.
fn peer_closed(ws: &mut WebSocket, ours: bool, options: &RunOptions) -> ConnEnd {
    let (code, reason) = ws.close_frame().map_or((None, String::new()), |info| {
        (info.code, info.reason.clone())
    });
    // Echo the server's code (RFC 6455 section 5.5.1); nothing is sent if ours went out.
    let echo = code
        .filter(|c| c.is_sendable())
        .unwrap_or(CloseCode::NORMAL);
    if ws.close(echo, "", Some(options.close_timeout)).is_err() {
        ws.shutdown();
    }
    let kind = if ours { Kind::Local } else { Kind::Peer };
    ConnEnd { kind, code, reason }
}

/// Our close: sends the close frame (unless the handle did), waits for the server's
/// answer until `close_timeout` after the request, and shuts the socket down.
fn close_with(ws: &mut WebSocket, req: &CloseRequest, close_timeout: Duration) -> ConnEnd {
    let left = (req.at + close_timeout).saturating_duration_since(Instant::now());
    if ws.close(req.code, &req.reason, Some(left)).is_err() {
        ws.shutdown();
    }
    match ws.close_frame() {
        Some(info) => ConnEnd {
            kind: Kind::Local,
            code: info.code,
            reason: info.reason.clone(),
        },
        None => ConnEnd::abnormal(Kind::Local),
    }
}

/// A callback panicked (already reported): close with 1011 within the close timeout.
fn fail_by_panic(ws: &mut WebSocket, panic: Error, options: &RunOptions) -> ConnEnd {
    if ws
        .close(CloseCode::INTERNAL_ERROR, "", Some(options.close_timeout))
        .is_err()
    {
        ws.shutdown();
    }
    let (code, reason) = ws.close_frame().map_or_else(
        || (Some(CloseCode::ABNORMAL), String::new()),
        |info| (info.code, info.reason.clone()),
    );
    ConnEnd {
        kind: Kind::Panicked(panic),
        code,
        reason,
    }
}
