//! Integration tests of `ws_client::App` (Python's `WebSocketApp`) against real peers on
//! loopback: callback order, fragments, keepalive and ping timeouts, reconnect with
//! backoff, closing from any thread, panicking callbacks, and an idle loop that does not
//! spin. One test binary, one module per area.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests: a failed expectation is a test failure"
)]

mod callbacks;
mod closing;
mod keepalive;
mod reconnect;
mod soak;

use std::io::Write;
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::Frame as TFrame;
use tungstenite::protocol::frame::coding::{Data, OpCode as TOpCode};
use ws_client::{
    App, AppHandle, Callbacks, ClientBuilder, CloseCode, ClosedBy, Ended, Error, Handler, Message,
    NetOptions, Op, OptionError, ProxyConfig, Reconnect, RunOptions, TlsOptions,
};
use ws_tests::{Peer, TIMEOUT, Tls, Ws, ws_server};

const MS: Duration = Duration::from_millis(1);

/// A client with test timeouts, ignoring proxy environment variables.
fn client() -> ClientBuilder {
    ClientBuilder::new().timeout(Some(TIMEOUT)).net(net())
}

/// Network options ignoring proxy environment variables.
fn net() -> NetOptions {
    NetOptions::new().proxy(ProxyConfig::None)
}

/// A plain tungstenite server for `connections` connections, one after the other; the
/// handler gets the connection's index.
fn serve(connections: usize, handler: impl Fn(usize, &mut Ws) + Send + Sync + 'static) -> Peer {
    let count = AtomicUsize::new(0);
    ws_server(connections, Tls::Off, &[], move |ws| {
        handler(count.fetch_add(1, Ordering::SeqCst), ws);
    })
}

/// Ends the TCP connection without a close frame.
fn drop_tcp(ws: &mut Ws) {
    let _ = ws.get_ref().tcp().shutdown(Shutdown::Both);
}

/// Reads until the connection ends (answering pings and the client's close).
fn drain(ws: &mut Ws) {
    while ws.read().is_ok() {}
}

/// Closes with `code` and `reason`, then reads until the client's answer ends it.
fn close(ws: &mut Ws, code: u16, reason: &str) {
    ws.close(Some(tungstenite::protocol::CloseFrame {
        code: code.into(),
        reason: reason.into(),
    }))
    .unwrap();
    drain(ws);
}

/// A URL where nothing listens.
fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("ws://{addr}/")
}

/// Callback events with the moment they happened.
type Events = Receiver<(Instant, String)>;

/// An app whose every callback records an event line.
fn recording_app(url: &str) -> (App<Callbacks>, Sender<(Instant, String)>, Events) {
    let (tx, rx) = mpsc::channel();
    let t = tx.clone();
    let app = App::new(url)
        .client(client())
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
                    format!(
                        "data {} {:?} {}",
                        opcode.name(),
                        lossy(data),
                        fin.is_final()
                    ),
                );
            }
        })
        .on_cont_message({
            let tx = t.clone();
            move |_, data, fin| rec(&tx, format!("cont {:?} {}", lossy(data), fin.is_final()))
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

fn rec(tx: &Sender<(Instant, String)>, event: String) {
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
fn names(events: &Events) -> Vec<String> {
    events.try_iter().map(|(_, e)| e).collect()
}

/// Waits for the next event (at most [`TIMEOUT`]).
fn next_event(events: &Events) -> (Instant, String) {
    events.recv_timeout(TIMEOUT).expect("no event in time")
}

/// Waits for an event starting with `prefix`, skipping others.
fn wait_for(events: &Events, prefix: &str) -> (Instant, String) {
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

/// Runs the app in a thread; the receiver gets the result and when it came.
fn spawn_run<H: Handler + Send + 'static>(
    mut app: App<H>,
    options: RunOptions,
) -> Receiver<(Instant, ws_client::Result<Ended>)> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let ended = app.run_forever(&options);
        let _ = tx.send((Instant::now(), ended));
    });
    rx
}

#[allow(clippy::panic, reason = "a test helper: the panic is the test failure")]
fn assert_closed(ended: &Ended, by: ClosedBy, code: Option<u16>, reason: &str) {
    match ended {
        Ended::Closed {
            by: b,
            code: c,
            reason: r,
        } => {
            assert_eq!((*b, c.map(u16::from), r.as_str()), (by, code, reason));
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

/// Counts opens and closes; `on_reconnect` is not overridden.
#[derive(Default)]
struct Counter {
    opens: usize,
    closes: Vec<Option<u16>>,
}

impl Handler for Counter {
    fn on_open(&mut self, _: &AppHandle) {
        self.opens += 1;
    }

    fn on_close(&mut self, _: &AppHandle, code: Option<CloseCode>, _: &str) {
        self.closes.push(code.map(u16::from));
    }
}

/// CPU time (user + system, in clock ticks) of the calling thread, where Linux tells.
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}
