//! `wsdump demo`: the echo server in this process, a client talking to it over loopback,
//! and a line for each exchange. Needs no network and no configuration.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ws_client::rustls::{self, ClientConfig, RootCertStore};
use ws_client::{
    ClientBuilder, CloseCode, Message, NetOptions, OpCode, RequestOptions, TlsOptions, WebSocket,
};

use crate::display::{chain, error_line, hex};
use crate::echo::EchoServer;

/// The size of the big message.
const BIG: usize = 16 << 20;

/// Runs the demo, printing each step to stdout.
///
/// # Errors
///
/// A one-line description of the step that failed.
pub(crate) fn run() -> Result<(), String> {
    let server = EchoServer::bind("127.0.0.1:0", false, true)?;
    let url = format!("{}/demo", server.url()?);
    server.spawn()?;
    say(&format!(
        "echo server  listening on {url} (built on ws-handshake and ws-frame)"
    ));

    let started = Instant::now();
    let mut ws = ClientBuilder::new()
        .timeout(Some(Duration::from_secs(10)))
        .request(RequestOptions::new().subprotocols(["chat"]))
        .connect(&url)
        .map_err(|e| step("connect", &e))?;
    say(&format!(
        "connect      {url}: status {}, subprotocol {}, {}",
        ws.status(),
        ws.subprotocol().unwrap_or("none"),
        millis(started.elapsed())
    ));

    let text = "hello, WebSocket! héllo wörld";
    ws.send_text(text).map_err(|e| step("text", &e))?;
    let got = expect_text(&mut ws, "text")?;
    check(got == text, "text", &got)?;
    say(&format!("text         sent {text:?}, echoed back {got:?}"));

    let data = [0x00, 0x01, 0x02, 0xfe, 0xff];
    ws.send_binary(&data).map_err(|e| step("binary", &e))?;
    let got = expect_binary(&mut ws, "binary")?;
    check(got == data, "binary", &hex(&got))?;
    say(&format!(
        "binary       sent [{}], echoed back [{}]",
        hex(&data),
        hex(&got)
    ));

    let parts = ["Frag", "mented ", "message"];
    ws.send_fragment(OpCode::Text, parts[0].as_bytes(), ws_frame::Fin::More)
        .and_then(|()| {
            ws.send_fragment(
                OpCode::Continuation,
                parts[1].as_bytes(),
                ws_frame::Fin::More,
            )
        })
        .and_then(|()| {
            ws.send_fragment(
                OpCode::Continuation,
                parts[2].as_bytes(),
                ws_frame::Fin::Final,
            )
        })
        .map_err(|e| step("fragmented", &e))?;
    let got = expect_text(&mut ws, "fragmented")?;
    check(got == parts.concat(), "fragmented", &got)?;
    say(&format!(
        "fragmented   sent {parts:?} as 3 frames, echoed back as one message {got:?}"
    ));

    let sent = Instant::now();
    ws.ping(b"are you there?").map_err(|e| step("ping", &e))?;
    let pong = loop {
        if let Message::Pong(payload) = ws.recv_with_control().map_err(|e| step("ping", &e))? {
            break payload;
        }
    };
    check(pong == b"are you there?", "ping", &hex(&pong))?;
    say(&format!(
        "ping         sent \"are you there?\", pong with the same payload after {}",
        millis(sent.elapsed())
    ));

    let big: Vec<u8> = (0..=250u8).cycle().take(BIG).collect();
    let sent = Instant::now();
    ws.send_binary(&big).map_err(|e| step("16 MiB", &e))?;
    let got = expect_binary(&mut ws, "16 MiB")?;
    let took = sent.elapsed();
    check(got == big, "16 MiB", &format!("{} bytes", got.len()))?;
    #[allow(clippy::cast_precision_loss, reason = "a rate for display")]
    let rate = (2 * BIG) as f64 / took.as_secs_f64().max(1e-9) / f64::from(1 << 20);
    say(&format!(
        "16 MiB       sent {BIG} bytes, echoed back intact in {} ({rate:.0} MiB/s both ways)",
        millis(took)
    ));

    ws.close(CloseCode::NORMAL, "demo done", Some(Duration::from_secs(3)))
        .map_err(|e| step("close", &e))?;
    let answer = ws.close_frame().map_or_else(
        || "no answer".to_owned(),
        |c| format!("{} {:?}", c.code.map_or(1005, u16::from), c.reason),
    );
    say(&format!(
        "close        sent 1000 \"demo done\", the server answered {answer}"
    ));

    tls_round()?;
    say(
        "done         every exchange matched; try `wsdump --echo-server` and `wsdump ws://127.0.0.1:8765`",
    );
    Ok(())
}

/// The same over `wss://`: a TLS echo server with a generated certificate the client
/// trusts explicitly.
fn tls_round() -> Result<(), String> {
    let server = EchoServer::bind("127.0.0.1:0", true, true)?;
    let url = format!("{}/demo", server.url()?);
    let mut roots = RootCertStore::empty();
    if let Some(cert) = server.cert_der() {
        roots
            .add(cert.clone())
            .map_err(|e| format!("tls: cannot trust the demo certificate: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("tls: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    server.spawn()?;
    let started = Instant::now();
    let mut ws = ClientBuilder::new()
        .timeout(Some(Duration::from_secs(10)))
        .net(NetOptions::new().tls(TlsOptions::from_rustls_config(Arc::new(config))))
        .connect(&url)
        .map_err(|e| step("tls connect", &e))?;
    let connected = started.elapsed();
    ws.send_text("over TLS").map_err(|e| step("tls", &e))?;
    let got = expect_text(&mut ws, "tls")?;
    check(got == "over TLS", "tls", &got)?;
    ws.close(CloseCode::NORMAL, "", Some(Duration::from_secs(3)))
        .map_err(|e| step("tls close", &e))?;
    say(&format!(
        "tls          {url} with a self-signed certificate: connected in {}, echoed {got:?}, closed",
        millis(connected)
    ));
    Ok(())
}

fn expect_text(ws: &mut WebSocket, what: &str) -> Result<String, String> {
    match ws.recv().map_err(|e| step(what, &e))? {
        Message::Text(text) => Ok(text),
        other => Err(format!(
            "{what}: expected a text message, got {:?}",
            other.opcode()
        )),
    }
}

fn expect_binary(ws: &mut WebSocket, what: &str) -> Result<Vec<u8>, String> {
    match ws.recv().map_err(|e| step(what, &e))? {
        Message::Binary(data) => Ok(data),
        other => Err(format!(
            "{what}: expected a binary message, got {:?}",
            other.opcode()
        )),
    }
}

fn check(ok: bool, what: &str, got: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what}: the echo differs from what was sent (got {got})"
        ))
    }
}

fn step(what: &str, error: &ws_client::Error) -> String {
    let line = error_line(error);
    if line.is_empty() {
        format!("{what}: {}", chain(error))
    } else {
        format!("{what}: {line}")
    }
}

fn millis(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
