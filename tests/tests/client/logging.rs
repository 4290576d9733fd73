//! Trace logging shows the handshake and frames but never a credential.

use std::sync::{Mutex, OnceLock};

use ws_client::{CloseCode, Message, RequestOptions};
use ws_tests::{Tls, echo, ws_server};

use crate::client;

/// Collects every record of the process (tests run in parallel; each checks its own
/// unique strings).
struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap().push(line);
    }

    fn flush(&self) {}
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).unwrap();
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

#[test]
fn credentials_never_reach_the_log() {
    let logs = capture();
    let peer = ws_server(2, Tls::Off, &[], echo);
    let url = format!("ws://someone:Pa55word-url@{}/userinfo", peer.addr);
    let mut ws = client().connect(&url).unwrap();
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    let mut ws = client()
        .request(
            RequestOptions::new()
                .header("Authorization", "Bearer Sekr1t-header")
                .header("X-Api-Key", "Sekr1t-apikey")
                .cookie("sid=Sekr1t-cookie"),
        )
        .header_fn(|| vec![("X-Session".to_owned(), "Sekr1t-fn".to_owned())])
        .connect(&peer.url("/logged"))
        .unwrap();
    ws.send_text("visible payload").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("visible payload".into()));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();

    let lines = logs.0.lock().unwrap().clone();
    let all = lines.join("\n");
    assert!(
        all.contains("GET /logged HTTP/1.1"),
        "handshake logged:\n{all}"
    );
    assert!(all.contains("visible payload"), "frames logged:\n{all}");
    for secret in [
        "Pa55word-url",
        "Sekr1t-header",
        "Sekr1t-apikey",
        "Sekr1t-fn",
        "Sekr1t-cookie",
        // base64 of "someone:Pa55word-url", the Authorization value from the URL
        "c29tZW9uZTpQYTU1d29yZC11cmw",
    ] {
        assert!(
            !all.contains(secret),
            "{secret} leaked into the log:\n{all}"
        );
    }
}
