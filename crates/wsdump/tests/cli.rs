//! End-to-end tests of the `wsdump` binary: it runs as a child process against the
//! built-in echo server, small servers written here (a 403, a late sender, a binary
//! sender) and a real proxy (`pproxy` from `PyPI`). Every child is killed after a timeout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed step fails the test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ws_frame::{Decoder, Fin, Message, MessageDecoder, OpCode, Role, encode_frame};
use ws_handshake::ServerHandshake;

const WSDUMP: &str = env!("CARGO_BIN_EXE_wsdump");

/// The most any child may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(30);

/// Socket timeout of the test servers.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// What a finished `wsdump` run produced.
#[derive(Debug)]
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `wsdump args` with `stdin` as input; kills it after [`CHILD_TIMEOUT`].
fn wsdump(args: &[&str], stdin: &str) -> Run {
    let started = Instant::now();
    let mut child = Command::new(WSDUMP)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wsdump starts");
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(output) = rx.recv_timeout(CHILD_TIMEOUT) else {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        panic!("wsdump {args:?} did not finish within {CHILD_TIMEOUT:?}");
    };
    let output = output.unwrap();
    Run {
        status: output.status,
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        took: started.elapsed(),
    }
}

/// A background process killed when dropped.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `wsdump --echo-server 127.0.0.1:0 [--tls]`: the process, its URL and, with TLS, the
/// certificate file.
fn echo_server(tls: bool) -> (Background, String, Option<PathBuf>) {
    let mut command = Command::new(WSDUMP);
    command.args(["--echo-server", "127.0.0.1:0"]);
    if tls {
        command.arg("--tls");
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the echo server starts");
    let stdout = child.stdout.take().unwrap();
    let server = Background(child);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    let first = rx
        .recv_timeout(IO_TIMEOUT)
        .expect("the echo server prints its URL");
    let url = first
        .strip_prefix("echo server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    let cert = tls.then(|| {
        let line = rx.recv_timeout(IO_TIMEOUT).expect("the certificate line");
        let path = line
            .strip_prefix("certificate: ")
            .and_then(|rest| rest.split(" (").next())
            .unwrap_or_else(|| panic!("unexpected certificate line {line:?}"));
        PathBuf::from(path)
    });
    (server, url, cert)
}

/// A one-connection server on loopback running `serve` on its own thread; returns the
/// `ws://` URL and what `serve` reports.
fn one_shot<T: Send + 'static>(
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (String, mpsc::Receiver<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        let _ = tx.send(serve(tcp));
    });
    (url, rx)
}

/// Completes the server side of the opening handshake; returns bytes read past it.
fn accept(tcp: &mut TcpStream) -> Vec<u8> {
    let mut handshake = ServerHandshake::new();
    let mut buf = [0; 4096];
    loop {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "client left during the handshake");
        if let Some(accepted) = handshake.feed(&buf[..n]).unwrap() {
            tcp.write_all(&accepted.response).unwrap();
            return accepted.rest;
        }
    }
}

/// Reads the client's next message (or `None` on a read timeout or EOF).
fn next_message(tcp: &mut TcpStream, decoder: &mut MessageDecoder) -> Option<Message> {
    let mut buf = [0; 4096];
    loop {
        if let Some(message) = decoder.next_message().unwrap() {
            return Some(message);
        }
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => decoder.feed(&buf[..n]),
        }
    }
}

fn server_decoder(rest: &[u8]) -> MessageDecoder {
    let mut decoder = MessageDecoder::new(Decoder::new(Role::Server));
    decoder.feed(rest);
    decoder
}

fn close_frame(code: u16) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(
        &mut out,
        Fin::Final,
        OpCode::Close,
        None,
        &code.to_be_bytes(),
    );
    out
}

#[test]
fn raw_text_round_trip_through_the_echo_server_is_exact() {
    let (_server, url, _) = echo_server(false);
    let run = wsdump(&["-r", &url], "hello\nwörld 👋\n\nlast line\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "hello\nwörld 👋\n\nlast line\n");
    assert_eq!(run.stderr, "");
}

#[test]
fn binary_lines_come_back_as_hex() {
    let (_server, url, _) = echo_server(false);
    let run = wsdump(&["-r", "--binary", &url], "hi\n\u{1}\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "68 69\n01\n");
}

#[test]
fn compressed_binary_is_shown_as_text_and_other_binary_as_hex() {
    use flate2::Compression;
    let gzip = {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(b"zipped text").unwrap();
        e.finish().unwrap()
    };
    let deflate = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        e.write_all("déflated text".as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let (url, done) = one_shot(move |mut tcp| {
        let rest = accept(&mut tcp);
        let mut out = Vec::new();
        for payload in [&gzip[..], &deflate[..], &[0x00, 0x9f, 0xff][..]] {
            encode_frame(&mut out, Fin::Final, OpCode::Binary, None, payload);
        }
        out.extend(close_frame(1000));
        tcp.write_all(&out).unwrap();
        next_message(&mut tcp, &mut server_decoder(&rest))
    });
    let run = wsdump(&["-r", &url], "");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(
        run.stdout,
        "[gzip] zipped text\n[zlib] déflated text\n00 9f ff\n"
    );
    assert!(matches!(
        done.recv_timeout(IO_TIMEOUT).unwrap(),
        Some(Message::Close(_))
    ));
}

#[test]
fn text_flag_sends_once_and_verbose_names_opcodes() {
    let (_server, url, _) = echo_server(false);
    let run = wsdump(&["-r", "-t", "first", &url], "");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "first\n");

    let run = wsdump(&["-r", "-v", "--text", "first", &url], "second\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "text: first\ntext: second\nclose: 1000\n");
}

#[test]
fn timings_prefix_each_message_with_seconds() {
    let (_server, url, _) = echo_server(false);
    let run = wsdump(&["-r", "--timings", &url], "x\n");
    assert!(run.status.success(), "{run:?}");
    let (secs, text) = run.stdout.trim_end().split_once(": ").unwrap();
    assert_eq!(text, "x");
    assert!(secs.parse::<f64>().unwrap() >= 0.0, "{secs}");
}

#[test]
fn interactive_mode_without_a_terminal_marks_received_lines() {
    let (_server, url, _) = echo_server(false);
    let run = wsdump(&[&url], "hello\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "< hello\n");
    assert!(run.stderr.starts_with("connected to "), "{}", run.stderr);
}

#[test]
fn a_403_answer_is_one_error_line_with_the_body_and_exit_status_1() {
    let (url, _done) = one_shot(|mut tcp| {
        let mut head = Vec::new();
        let mut buf = [0; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0);
            head.extend_from_slice(&buf[..n]);
        }
        let body = "no entry\nfor you\n";
        let response = format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(response.as_bytes()).unwrap();
    });
    let run = wsdump(&[&url], "");
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert_eq!(
        run.stderr,
        "error: handshake failed: 403 Forbidden (body: no entry for you)\n"
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn connection_failures_are_one_line_and_never_a_panic() {
    // A port nobody listens on: bind, read the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (args, expected) in [
        (vec![format!("ws://127.0.0.1:{port}/")], "127.0.0.1"),
        (vec!["ftp://example.com/".to_owned()], "ftp"),
        (
            vec![
                "--headers".to_owned(),
                "no colon".to_owned(),
                "ws://127.0.0.1:1/".to_owned(),
            ],
            "--headers",
        ),
        (
            vec![
                "-p".to_owned(),
                "gopher://proxy".to_owned(),
                "ws://127.0.0.1:1/".to_owned(),
            ],
            "gopher",
        ),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = wsdump(&args, "");
        assert_eq!(run.status.code(), Some(1), "{run:?}");
        assert!(run.stderr.starts_with("error: "), "{run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
        assert!(run.stderr.contains(expected), "{run:?}");
        assert!(!run.stderr.contains("panicked"), "{run:?}");
    }
}

#[test]
fn eof_wait_keeps_listening_before_closing() {
    let (_server, url, _) = echo_server(false);
    let run = wsdump(&["-r", "--eof-wait", "1", &url], "");
    assert!(run.status.success(), "{run:?}");
    assert!(run.took >= Duration::from_secs(1), "{:?}", run.took);

    // A server that stays silent for a second, then sends and closes: with --eof-wait the
    // message arrives although input ended at once, and the server's close ends the wait.
    let (url, done) = one_shot(|mut tcp| {
        let rest = accept(&mut tcp);
        let mut decoder = server_decoder(&rest);
        tcp.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let early = next_message(&mut tcp, &mut decoder);
        tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut out = Vec::new();
        encode_frame(&mut out, Fin::Final, OpCode::Text, None, b"late");
        out.extend(close_frame(1000));
        tcp.write_all(&out).unwrap();
        (early, next_message(&mut tcp, &mut decoder))
    });
    let run = wsdump(&["-r", "--eof-wait", "20", &url], "");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "late\n");
    assert!(run.took < Duration::from_secs(15), "{:?}", run.took);
    let (early, reply) = done.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!(
        early, None,
        "the client sent something before the wait ended"
    );
    assert!(matches!(reply, Some(Message::Close(_))), "{reply:?}");
}

#[test]
fn tls_echo_server_needs_its_certificate_or_nocert() {
    let (_server, url, cert) = echo_server(true);
    let cert = cert.unwrap();
    let run = wsdump(
        &["-r", "--ca-file", cert.to_str().unwrap(), &url],
        "secure\n",
    );
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "secure\n");

    let run = wsdump(&["-r", "-n", &url], "anyway\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "anyway\n");

    let run = wsdump(&["-r", &url], "refused\n");
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("unknown issuer"), "{run:?}");
}

/// `pproxy` (tests/requirements.txt) listening on a free loopback port with `scheme`.
fn pproxy(scheme: &str) -> (Background, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("pproxy")
        .args(["-l", &format!("{scheme}://127.0.0.1:{port}#user:pa55")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pproxy runs (python3 -m pip install -r tests/requirements.txt)");
    let proxy = Background(child);
    let deadline = Instant::now() + IO_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "pproxy did not listen on {port}");
        thread::sleep(Duration::from_millis(50));
    }
    (proxy, port)
}

#[test]
fn proxies_with_credentials_carry_the_connection() {
    let (_server, url, _) = echo_server(false);
    let (_http, http_port) = pproxy("http");
    let (_socks, socks_port) = pproxy("socks5");

    // Wrong credentials first: pproxy remembers a client address once it authenticated.
    let via = format!("http://user:wrong@127.0.0.1:{http_port}");
    let run = wsdump(&["-r", "-p", &via, &url], "x\n");
    assert_eq!(run.status.code(), Some(1), "{run:?}");
    assert_eq!(run.stderr.lines().count(), 1, "{run:?}");
    assert!(run.stderr.contains("407"), "{run:?}");
    assert!(
        !run.stderr.contains("wrong"),
        "the password leaked: {run:?}"
    );

    let via = format!("http://user:pa55@127.0.0.1:{http_port}");
    let run = wsdump(&["-r", "-p", &via, &url], "via http\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "via http\n");

    let via = format!("socks5h://user:pa55@127.0.0.1:{socks_port}");
    let local = url.replace("127.0.0.1", "localhost");
    let run = wsdump(&["-r", "--proxy", &via, &local], "via socks5h\n");
    assert!(run.status.success(), "{run:?}");
    assert_eq!(run.stdout, "via socks5h\n");
}

#[test]
fn help_lists_every_flag() {
    let run = wsdump(&["--help"], "");
    assert!(run.status.success(), "{run:?}");
    for flag in [
        "-p, --proxy",
        "-v, --verbose",
        "-n, --nocert",
        "-r, --raw",
        "-s, --subprotocols",
        "-o, --origin",
        "--eof-wait",
        "-t, --text",
        "--timings",
        "--headers",
        "--ca-file",
        "--timeout",
        "--ping-interval",
        "--deflate",
        "--echo-server",
        "--tls",
        "demo",
    ] {
        assert!(
            run.stdout.contains(flag),
            "--help lacks {flag}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn usage_errors_exit_with_status_2() {
    let run = wsdump(&[], "");
    assert_eq!(run.status.code(), Some(2), "{run:?}");
    assert!(run.stderr.contains("a URL is required"), "{run:?}");
    let run = wsdump(&["--no-such-flag", "ws://h/"], "");
    assert_eq!(run.status.code(), Some(2), "{run:?}");
}

#[test]
fn demo_runs_offline_and_reports_every_exchange() {
    let run = wsdump(&["demo"], "");
    assert!(run.status.success(), "{run:?}");
    for step in [
        "connect",
        "text",
        "binary",
        "fragmented",
        "ping",
        "16 MiB",
        "close",
        "tls",
        "done",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(step)),
            "no {step} line in:\n{}",
            run.stdout
        );
    }
}

#[test]
fn subprotocols_and_origin_reach_the_server() {
    let (url, done) = one_shot(|mut tcp| {
        let mut handshake = ServerHandshake::new().subprotocols(["b"]);
        let mut buf = [0; 4096];
        let accepted = loop {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0);
            if let Some(accepted) = handshake.feed(&buf[..n]).unwrap() {
                break accepted;
            }
        };
        tcp.write_all(&accepted.response).unwrap();
        tcp.write_all(&close_frame(1000)).unwrap();
        let _ = next_message(&mut tcp, &mut server_decoder(&accepted.rest));
        accepted
    });
    let run = wsdump(
        &[
            "-r",
            "-s",
            "a,b",
            "-o",
            "https://me.example",
            "--headers",
            "X-One: 1, X-Two: 2",
            &url,
        ],
        "",
    );
    assert!(run.status.success(), "{run:?}");
    let accepted = done.recv_timeout(IO_TIMEOUT).unwrap();
    assert_eq!(accepted.subprotocol.as_deref(), Some("b"));
    assert_eq!(accepted.header("Origin"), Some("https://me.example"));
    assert_eq!(accepted.header("X-One"), Some("1"));
    assert_eq!(accepted.header("X-Two"), Some("2"));
}

/// `--deflate` offers permessage-deflate: the Python `websockets` peer (compression on by
/// default there) answers with the extension it accepted, and echoes through it.
#[test]
fn deflate_flag_negotiates_compression_with_a_real_server() {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers/ws_deflate_server.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 starts the websockets peer (pip install -r tests/requirements.txt)");
    let stdout = child.stdout.take().unwrap();
    let _peer = Background(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .expect("the peer prints its port");
    let url = format!("ws://127.0.0.1:{port}/extensions");

    let run = wsdump(
        &["-r", "--deflate", "--eof-wait", "1", &url],
        "compressed both ways\n",
    );
    assert!(run.status.success(), "{run:?}");
    let mut lines = run.stdout.lines();
    let offer = lines.next().unwrap_or_default();
    assert!(offer.starts_with("permessage-deflate"), "{run:?}");
    assert_eq!(lines.next(), Some("compressed both ways"), "{run:?}");

    let plain = wsdump(&["-r", "--eof-wait", "1", &url], "plain\n");
    assert!(plain.status.success(), "{plain:?}");
    assert_eq!(
        plain.stdout, "\nplain\n",
        "without --deflate nothing is negotiated"
    );
}

/// What a [`recording_server`] saw of one client.
#[derive(Debug)]
struct Seen {
    /// `Sec-WebSocket-Protocol` values offered, in order, split on commas.
    subprotocols: Vec<String>,
    origin: Option<String>,
    x_id: Option<String>,
    /// Text messages received before the close.
    texts: Vec<String>,
}

/// A one-connection server that accepts `superchat`, greets with the text `hi`, records
/// what the client offered and sent, and answers the client's close.
fn recording_server() -> (String, mpsc::Receiver<Seen>) {
    one_shot(|mut tcp| {
        let mut handshake = ServerHandshake::new().subprotocols(["superchat"]);
        let mut buf = [0; 4096];
        let accepted = loop {
            let n = tcp.read(&mut buf).unwrap();
            assert!(n > 0, "client left during the handshake");
            if let Some(accepted) = handshake.feed(&buf[..n]).unwrap() {
                break accepted;
            }
        };
        tcp.write_all(&accepted.response).unwrap();
        let mut hi = Vec::new();
        encode_frame(&mut hi, Fin::Final, OpCode::Text, None, b"hi");
        tcp.write_all(&hi).unwrap();
        let mut decoder = server_decoder(&accepted.rest);
        let mut texts = Vec::new();
        while let Some(message) = next_message(&mut tcp, &mut decoder) {
            match message {
                Message::Text(text) => texts.push(text.clone()),
                Message::Close(_) => {
                    tcp.write_all(&close_frame(1000)).unwrap();
                    break;
                }
                _ => {}
            }
        }
        let subprotocols = accepted
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Sec-WebSocket-Protocol"))
            .flat_map(|(_, value)| value.split(',').map(|p| p.trim().to_owned()))
            .collect();
        Seen {
            subprotocols,
            origin: accepted.header("Origin").map(str::to_owned),
            x_id: accepted.header("X-Id").map(str::to_owned),
            texts,
        }
    })
}

/// Each command line of Python's `wsdump` (`{url}` stands for the server's URL) runs
/// against a real server, which checks what it was offered and sent; the last column is
/// wsdump's output. The lines marked "argparse refuses" are ones where Python swallows
/// the URL into `-s`/`-v`; we take the URL-looking value as the URL.
#[test]
fn python_wsdump_command_lines_mean_the_same() {
    struct Row {
        line: &'static str,
        stdin: &'static str,
        subprotocols: &'static [&'static str],
        origin: Option<&'static str>,
        x_id: Option<&'static str>,
        texts: &'static [&'static str],
        stdout: &'static str,
    }
    const fn row(line: &'static str, stdout: &'static str) -> Row {
        Row {
            line,
            stdin: "",
            subprotocols: &[],
            origin: None,
            x_id: None,
            texts: &[],
            stdout,
        }
    }
    let rows = [
        Row {
            subprotocols: &["chat", "superchat"],
            ..row("-r {url} -s chat superchat", "hi\n")
        },
        Row {
            subprotocols: &["chat", "superchat"],
            ..row("-s chat superchat -r {url}", "hi\n")
        },
        // argparse refuses: the URL is swallowed by -s.
        Row {
            subprotocols: &["chat", "superchat"],
            ..row("-r -s chat superchat {url}", "hi\n")
        },
        Row {
            subprotocols: &["superchat"],
            ..row("-r --subprotocols=superchat {url}", "hi\n")
        },
        row("-r {url} -s", "hi\n"),
        row("-r -v {url}", "text: hi\nclose: 1000\n"),
        row("-r {url} -v", "text: hi\nclose: 1000\n"),
        row("-r -v 1 {url}", "text: hi\nclose: 1000\n"),
        row("-r {url} -v 0", "hi\n"),
        row("-r -vv {url}", "text: hi\nclose: 1000\n"),
        row("-r -v 2 {url}", "text: hi\nclose: 1000\n"),
        row("-r --verbose=2 {url}", "text: hi\nclose: 1000\n"),
        Row {
            origin: Some("http://me.example"),
            ..row("-r -o http://me.example {url}", "hi\n")
        },
        Row {
            x_id: Some("7"),
            ..row("{url} -r --headers X-Id:7,X-Other:8", "hi\n")
        },
        Row {
            texts: &["first", "typed"],
            stdin: "typed\n",
            ..row("-r -t first {url}", "hi\n")
        },
        Row {
            texts: &["typed"],
            stdin: "typed\n",
            ..row("--raw --eof-wait 1 {url}", "hi\n")
        },
        row("-r --eof-wait=1 --timings {url}", "*: hi\n"),
        row("-n -r {url}", "hi\n"),
    ];
    for row in rows {
        let (url, seen) = recording_server();
        let line = row.line.replace("{url}", &url);
        let args: Vec<&str> = line.split(' ').collect();
        let run = wsdump(&args, row.stdin);
        assert!(run.status.success(), "{line}: {run:?}");
        match row.stdout.strip_prefix("*") {
            Some(tail) => assert!(run.stdout.ends_with(tail), "{line}: {run:?}"),
            None => assert_eq!(run.stdout, row.stdout, "{line}"),
        }
        if line.contains("eof-wait") {
            assert!(run.took >= Duration::from_secs(1), "{line}: {:?}", run.took);
        }
        // -vv (level 2) turns on the protocol trace on stderr.
        let level_two = ["-vv", "-v 2", "=2"].iter().any(|f| line.contains(f));
        assert_eq!(!run.stderr.is_empty(), level_two, "{line}: {run:?}");
        let seen = seen.recv_timeout(IO_TIMEOUT).unwrap();
        assert_eq!(seen.subprotocols, row.subprotocols, "{line}");
        assert_eq!(
            seen.origin.as_deref(),
            row.origin.or(Some(&*origin_of(&url))),
            "{line}"
        );
        assert_eq!(seen.x_id.as_deref(), row.x_id, "{line}");
        assert_eq!(seen.texts, row.texts, "{line}");
    }
}

/// The Origin wsdump derives from a `ws://host:port/` URL when `-o` is absent.
fn origin_of(url: &str) -> String {
    let host = url.trim_start_matches("ws://").trim_end_matches('/');
    format!("http://{host}")
}

/// A `wss://` server on 127.0.0.1 presenting `cert_pem`/`key_pem` to each connection in
/// turn: it echoes the first text message, then closes. Returns the port.
fn tls_echo(cert_pem: &str, key_pem: &str) -> u16 {
    use std::sync::Arc;
    use ws_client::rustls::pki_types::pem::PemObject;
    use ws_client::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use ws_client::rustls::{ServerConfig, ServerConnection, StreamOwned, crypto};

    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let config = Arc::new(
        ServerConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { return };
            tcp.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
            tcp.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
            let conn = ServerConnection::new(config.clone()).unwrap();
            let mut tls = StreamOwned::new(conn, tcp);
            // A refused certificate ends the connection here; wait for the next one.
            let _ = echo_one_text(&mut tls);
        }
    });
    port
}

/// The server side of one connection over any stream: upgrade, echo a text, close.
fn echo_one_text(stream: &mut (impl Read + Write)) -> std::io::Result<()> {
    let mut handshake = ServerHandshake::new();
    let mut buf = [0; 4096];
    let accepted = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if let Some(accepted) = handshake.feed(&buf[..n]).map_err(std::io::Error::other)? {
            break accepted;
        }
    };
    stream.write_all(&accepted.response)?;
    let mut decoder = server_decoder(&accepted.rest);
    loop {
        if let Some(message) = decoder.next_message().map_err(std::io::Error::other)? {
            if let Message::Text(text) = message {
                let mut out = Vec::new();
                encode_frame(&mut out, Fin::Final, OpCode::Text, None, text.as_bytes());
                out.extend(close_frame(1000));
                stream.write_all(&out)?;
                return stream.flush();
            }
            continue;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        decoder.feed(&buf[..n]);
    }
}

/// The dev certificate of `openssl req -x509 ... -subj /CN=localhost -addext
/// subjectAltName=DNS:localhost` (`CA:TRUE`), made by openssl when it is installed and by
/// rcgen the same way: trusted with --ca-file it connects; otherwise each failure is one
/// line saying what to do.
#[test]
fn a_self_signed_dev_certificate_works_with_ca_file() {
    let dir = std::env::temp_dir().join(format!("wsdump-devcert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut certs = Vec::new();
    {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        certs.push(("rcgen", cert.pem(), key.serialize_pem()));
    }
    let (cert_file, key_file) = (dir.join("openssl-cert.pem"), dir.join("openssl-key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout"])
        .arg(&key_file)
        .arg("-out")
        .arg(&cert_file)
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if made.is_ok_and(|s| s.success()) {
        let cert = std::fs::read_to_string(&cert_file).unwrap();
        let key = std::fs::read_to_string(&key_file).unwrap();
        certs.push(("openssl", cert, key));
    } else {
        println!("note: openssl is not usable; testing the rcgen-made certificate only");
    }
    for (maker, cert_pem, key_pem) in certs {
        let port = tls_echo(&cert_pem, &key_pem);
        let cert = dir.join(format!("{maker}.pem"));
        std::fs::write(&cert, &cert_pem).unwrap();
        let cert = cert.to_str().unwrap();
        let url = format!("wss://localhost:{port}/");

        let run = wsdump(&["-r", "--ca-file", cert, &url], "trusted\n");
        assert!(run.status.success(), "{maker}: {run:?}");
        assert_eq!(run.stdout, "trusted\n", "{maker}");

        let run = wsdump(&["-r", &url], "untrusted\n");
        assert_eq!(run.status.code(), Some(1), "{maker}: {run:?}");
        assert_eq!(run.stderr.lines().count(), 1, "{maker}: {run:?}");
        assert!(
            run.stderr
                .contains("certificate of localhost is a CA certificate")
                && run.stderr.contains("--ca-file"),
            "{maker}: {run:?}"
        );

        let by_ip = format!("wss://127.0.0.1:{port}/");
        let run = wsdump(&["-r", "--ca-file", cert, &by_ip], "wrong name\n");
        assert_eq!(run.status.code(), Some(1), "{maker}: {run:?}");
        assert!(
            run.stderr.contains(
                "certificate of localhost is not valid for the name 127.0.0.1: it covers \
                 DNS:localhost; connect with that name"
            ),
            "{maker}: {run:?}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
