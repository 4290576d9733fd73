//! Real peers for the `App` tests: a tungstenite server on loopback that runs a handler
//! for each of a fixed number of connections, and a recorder of callback events.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::missing_panics_doc,
    reason = "test support: a failed expectation is a test failure"
)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use ws_client::{App, Callbacks, Message};

/// The timeout of every socket operation and wait in these tests.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// A server-side connection.
pub(crate) type Ws = tungstenite::WebSocket<TcpStream>;

/// A server running in a background thread.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    done: Receiver<thread::Result<()>>,
}

impl Server {
    pub(crate) fn url(&self) -> String {
        format!("ws://{}/app", self.addr)
    }

    /// Waits for the server thread (at most [`TIMEOUT`]) and fails on its panics.
    pub(crate) fn join(self) {
        match self.done.recv_timeout(TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => panic!("server did not finish: {e}"),
        }
    }
}

/// Accepts `conns` WebSocket connections one after the other and runs `handler` with the
/// connection's index on each.
pub(crate) fn serve(conns: usize, handler: impl Fn(usize, Ws) + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, done) = mpsc::channel();
    thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(|| {
            for i in 0..conns {
                let (tcp, _) = listener.accept().unwrap();
                tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
                tcp.set_write_timeout(Some(TIMEOUT)).unwrap();
                let ws = tungstenite::accept(tcp).unwrap();
                handler(i, ws);
            }
        }));
        let _ = tx.send(result);
    });
    Server { addr, done }
}

/// Reads until the connection ends (answering pings and the client's close).
pub(crate) fn drain(ws: &mut Ws) {
    while ws.read().is_ok() {}
}

/// Closes with `code` and `reason`, then reads until the client's answer ends it.
pub(crate) fn close(ws: &mut Ws, code: u16, reason: &str) {
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.into(),
    }))
    .unwrap();
    drain(ws);
}

/// A URL where nothing listens.
pub(crate) fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("ws://{addr}/")
}

/// Callback events with the moment they happened.
pub(crate) type Events = Receiver<(Instant, String)>;

/// An app whose every callback records an event line.
pub(crate) fn recording_app(url: &str) -> (App<Callbacks>, Sender<(Instant, String)>, Events) {
    let (tx, rx) = mpsc::channel();
    let t = tx.clone();
    let app = App::new(url)
        .on_open({
            let tx = t.clone();
            move |_| rec(&tx, "open".to_owned())
        })
        .on_reconnect({
            let tx = t.clone();
            move |_| rec(&tx, "reconnect".to_owned())
        })
        .on_message({
            let tx = t.clone();
            move |_, m| rec(&tx, format!("message {}", show(&m)))
        })
        .on_data({
            let tx = t.clone();
            move |_, data, opcode, fin| {
                rec(
                    &tx,
                    format!("data {} {:?} {fin}", opcode.name(), lossy(data)),
                );
            }
        })
        .on_cont_message({
            let tx = t.clone();
            move |_, data, fin| rec(&tx, format!("cont {:?} {fin}", lossy(data)))
        })
        .on_ping({
            let tx = t.clone();
            move |_, data| rec(&tx, format!("ping {:?}", lossy(data)))
        })
        .on_pong({
            let tx = t.clone();
            move |_, data| rec(&tx, format!("pong {:?}", lossy(data)))
        })
        .on_error({
            let tx = t.clone();
            move |_, e| rec(&tx, format!("error {e}"))
        })
        .on_close({
            let tx = t;
            move |_, code, reason| {
                rec(&tx, format!("close {:?} {reason:?}", code.map(u16::from)));
            }
        });
    (app, tx, rx)
}

pub(crate) fn rec(tx: &Sender<(Instant, String)>, event: String) {
    let _ = tx.send((Instant::now(), event));
}

fn lossy(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn show(m: &Message) -> String {
    match m {
        Message::Text(t) => format!("text {t:?}"),
        Message::Binary(b) => format!("binary {b:?}"),
        other => format!("{other:?}"),
    }
}

/// The events recorded so far, without their times.
pub(crate) fn names(events: &Events) -> Vec<String> {
    events.try_iter().map(|(_, e)| e).collect()
}

/// Waits for the next event (at most [`TIMEOUT`]).
pub(crate) fn next_event(events: &Events) -> (Instant, String) {
    events.recv_timeout(TIMEOUT).expect("no event in time")
}

/// Waits for an event starting with `prefix`, skipping others.
pub(crate) fn wait_for(events: &Events, prefix: &str) -> (Instant, String) {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (at, event) = events
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {prefix:?} event in time"));
        if event.starts_with(prefix) {
            return (at, event);
        }
    }
}
