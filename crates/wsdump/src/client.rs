//! The interactive client: connect with the command line's options, print what arrives
//! from a receiving thread, send what is typed, close cleanly at end of input.

use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender as Channel};
use std::thread;
use std::time::{Duration, Instant};

use ws_client::{
    ClientBuilder, CloseCode, DEFAULT_CLOSE_TIMEOUT, Error, Message, NetOptions, Origin, Proxy,
    ProxyConfig, Reader, RequestOptions, Sender, TlsOptions,
};

use crate::cli::{Args, parse_headers};
use crate::display::{error_line, message_text};

/// What the main loop waits for.
enum Event {
    /// A line typed (without its line ending).
    Line(String),
    /// End of input.
    Eof,
    /// Reading the input failed.
    InputError(io::Error),
    /// The receiving thread ended: the peer's close frame, or the error that ended it.
    Closed(Result<Option<(CloseCode, String)>, Error>),
}

/// The builder for the command line's options.
///
/// # Errors
///
/// A one-line message for an unusable `--proxy` or `--headers`.
pub(crate) fn builder(args: &Args) -> Result<ClientBuilder, String> {
    let mut request = RequestOptions::new().subprotocols(args.subprotocols.iter().cloned());
    if let Some(origin) = &args.origin {
        request = request.origin(Origin::Custom(origin.clone()));
    }
    if let Some(headers) = &args.headers {
        request = request.headers(parse_headers(headers)?);
    }
    let mut tls = TlsOptions::default();
    if let Some(path) = &args.ca_file {
        tls = tls.ca_file(path);
    }
    if args.nocert {
        tls = tls.dangerous().accept_any_certificate();
    }
    let mut net = NetOptions::new().tls(tls);
    if let Some(proxy) = &args.proxy {
        let proxy = Proxy::parse(proxy).map_err(|e| format!("--proxy: {e}"))?;
        net = net.proxy(ProxyConfig::Explicit(proxy));
    }
    let mut builder = ClientBuilder::new()
        .connect_timeout(Some(args.timeout))
        .deadline(Some(args.timeout))
        .write_timeout(Some(args.timeout))
        .request(request)
        .net(net);
    if args.deflate {
        builder = builder.deflate(Some(ws_client::DeflateOptions::new()));
    }
    Ok(builder)
}

/// Prints received messages so they never garble the prompt.
#[derive(Debug)]
struct Console {
    raw: bool,
    /// Whether stdout is a terminal (colours, line clearing and the prompt).
    terminal: bool,
    verbose: bool,
    started: Option<Instant>,
}

impl Console {
    fn new(args: &Args, started: Instant) -> Self {
        Self {
            raw: args.raw,
            terminal: !args.raw && io::stdout().is_terminal() && io::stdin().is_terminal(),
            verbose: args.verbose > 0,
            started: args.timings.then_some(started),
        }
    }

    /// Prints one received message (if it is shown at all).
    fn message(&self, message: &Message) {
        let Some(text) = message_text(message, self.verbose) else {
            return;
        };
        let text = match self.started {
            Some(started) => format!("{:.6}: {text}", started.elapsed().as_secs_f64()),
            None => text,
        };
        // One locked write: the prompt line is cleared, the message printed, the prompt
        // redrawn, so typing continues on a clean line.
        let mut out = io::stdout().lock();
        let _ = if self.raw {
            writeln!(out, "{text}")
        } else if self.terminal {
            write!(out, "\r\x1b[2K\x1b[34m< {text}\x1b[39m\n> ")
        } else {
            writeln!(out, "< {text}")
        };
        let _ = out.flush();
    }

    /// Shows the prompt (only on a terminal). It redraws the current line, so it does no
    /// harm when the receiving thread has just drawn the prompt itself.
    fn prompt(&self) {
        self.draw("\r\x1b[2K> ");
    }

    /// Clears the prompt line before exiting.
    fn finish(&self) {
        self.draw("\r\x1b[2K");
    }

    fn draw(&self, text: &str) {
        if self.terminal {
            let mut out = io::stdout().lock();
            let _ = write!(out, "{text}");
            let _ = out.flush();
        }
    }

    /// A note for the user (not in raw mode, and on stderr so stdout stays data).
    fn note(&self, text: &str) {
        if !self.raw {
            if self.terminal {
                let mut out = io::stdout().lock();
                let _ = write!(out, "\r\x1b[2K");
                let _ = out.flush();
            }
            #[allow(clippy::print_stderr, reason = "the tool's user interface")]
            {
                eprintln!("{text}");
            }
        }
    }
}

/// Runs the session; `Ok` on a clean close.
///
/// # Errors
///
/// The one-line description of what failed.
pub(crate) fn run(args: &Args, url: &str) -> Result<(), String> {
    let started = Instant::now();
    let builder = builder(args)?;
    if args.verbose > 1 {
        ws_client::enable_trace();
    }
    let console = Console::new(args, started);
    let ws = builder.connect(url).map_err(|e| error_line(&e))?;
    if !args.raw {
        let subprotocol = ws
            .subprotocol()
            .map(|p| format!(", subprotocol {p}"))
            .unwrap_or_default();
        console.note(&format!(
            "connected to {url}{subprotocol}; type lines to send, Ctrl+D to close, Ctrl+C to quit"
        ));
    }
    let (reader, sender) = ws.split();
    let (events, inbox) = mpsc::channel();
    spawn_receiver(reader, console, events.clone())?;
    spawn_stdin(events)?;
    if !args.ping_interval.is_zero() {
        spawn_pinger(sender.clone(), args.ping_interval)?;
    }
    let console = Console::new(args, started);
    if let Some(text) = &args.text {
        sender.send_text(text).map_err(|e| error_line(&e))?;
    }
    console.prompt();
    let result = main_loop(args, &sender, &inbox, &console);
    let _ = sender.abort();
    console.finish();
    result
}

/// Sends typed lines until end of input or the end of the connection.
fn main_loop(
    args: &Args,
    sender: &Sender,
    inbox: &Receiver<Event>,
    console: &Console,
) -> Result<(), String> {
    loop {
        let Ok(event) = inbox.recv() else {
            return Err("internal error: every thread ended".to_owned());
        };
        match event {
            Event::Line(line) => {
                let sent = if args.binary {
                    sender.send_binary(line.as_bytes())
                } else {
                    sender.send_text(&line)
                };
                if let Err(e) = sent {
                    // The receiving thread usually knows why; prefer its account.
                    return match wait_closed(inbox, Duration::from_secs(1)) {
                        Some(closed) => finished(closed, console),
                        None => Err(error_line(&e)),
                    };
                }
                console.prompt();
            }
            Event::Eof => return close_after_eof(args.eof_wait, sender, inbox, console),
            Event::InputError(e) => return Err(format!("reading standard input failed: {e}")),
            Event::Closed(closed) => return finished(closed, console),
        }
    }
}

/// After end of input: keep receiving for `wait`, then run the closing handshake.
fn close_after_eof(
    wait: Duration,
    sender: &Sender,
    inbox: &Receiver<Event>,
    console: &Console,
) -> Result<(), String> {
    let until = Instant::now() + wait;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        match inbox.recv_timeout(left) {
            Ok(Event::Closed(closed)) => return finished(closed, console),
            Ok(_) => {}
            Err(RecvTimeoutError::Timeout) => break,
            Err(RecvTimeoutError::Disconnected) => {
                return Err("internal error: the receiving thread vanished".to_owned());
            }
        }
    }
    if let Err(e) = sender.send_close(CloseCode::NORMAL, "") {
        // The server may have closed first: the receiving thread then knows the outcome.
        return match wait_closed(inbox, Duration::from_secs(1)) {
            Some(closed) => finished(closed, console),
            None => Err(error_line(&e)),
        };
    }
    match wait_closed(inbox, DEFAULT_CLOSE_TIMEOUT) {
        Some(Ok(_)) => Ok(()),
        Some(Err(e)) => Err(error_line(&e)),
        None => Err(format!(
            "the server did not answer the close within {} s",
            DEFAULT_CLOSE_TIMEOUT.as_secs()
        )),
    }
}

/// The end of the receiving thread, if it comes within `timeout`.
fn wait_closed(
    inbox: &Receiver<Event>,
    timeout: Duration,
) -> Option<Result<Option<(CloseCode, String)>, Error>> {
    let until = Instant::now() + timeout;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match inbox.recv_timeout(left) {
            Ok(Event::Closed(closed)) => return Some(closed),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// The exit of a session the receiving side ended.
fn finished(
    closed: Result<Option<(CloseCode, String)>, Error>,
    console: &Console,
) -> Result<(), String> {
    match closed {
        Ok(close) => {
            let how = match close {
                Some((code, reason)) if reason.is_empty() => format!(" (code {})", u16::from(code)),
                Some((code, reason)) => format!(" (code {}: {reason})", u16::from(code)),
                None => String::new(),
            };
            console.note(&format!("the server closed the connection{how}"));
            Ok(())
        }
        Err(e) => Err(error_line(&e)),
    }
}

/// Receives and prints until the connection ends.
fn spawn_receiver(
    mut reader: Reader,
    console: Console,
    events: Channel<Event>,
) -> Result<(), String> {
    let receive = move || {
        loop {
            match reader.recv_with_control() {
                Ok(Message::Close(close)) => {
                    console.message(&Message::Close(close.clone()));
                    let _ = events.send(Event::Closed(Ok(close)));
                    return;
                }
                Ok(message) => console.message(&message),
                Err(e) => {
                    let _ = events.send(Event::Closed(Err(e)));
                    return;
                }
            }
        }
    };
    spawn("receiver", receive)
}

/// Reads standard input line by line.
fn spawn_stdin(events: Channel<Event>) -> Result<(), String> {
    spawn("stdin", move || {
        let stdin = io::stdin();
        let mut lines = stdin.lock();
        let mut line = String::new();
        loop {
            line.clear();
            let event = match lines.read_line(&mut line) {
                Ok(0) => Event::Eof,
                Ok(_) => Event::Line(line.trim_end_matches(['\r', '\n']).to_owned()),
                Err(e) => Event::InputError(e),
            };
            let last = !matches!(event, Event::Line(_));
            if events.send(event).is_err() || last {
                return;
            }
        }
    })
}

/// Sends a ping every `interval` until sending fails.
fn spawn_pinger(sender: Sender, interval: Duration) -> Result<(), String> {
    spawn("pinger", move || {
        loop {
            thread::sleep(interval);
            if sender.ping(b"").is_err() {
                return;
            }
        }
    })
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), String> {
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
        .map_err(|e| format!("cannot start the {name} thread: {e}"))
}
