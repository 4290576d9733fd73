//! The callback `App` (Python's `WebSocketApp`): keepalive pings, a ping timeout,
//! reconnection with backoff, and callbacks that send and close.
//!
//! ```sh
//! cargo run -p wsdump -- --echo-server &           # a local echo server on port 8765
//! cargo run -p ws-client --example app -- ws://127.0.0.1:8765
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::time::Duration;

use ws_client::{App, CloseCode, Message, Reconnect, RunOptions};

fn main() -> Result<(), ws_client::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8765".into());
    let mut received = 0;
    let mut app = App::new(url)
        .on_open(|app| {
            println!("open");
            for i in 1..=3 {
                let _ = app.send_text(&format!("message {i}"));
            }
        })
        .on_message(move |app, message| {
            if let Message::Text(text) = message {
                println!("echo: {text}");
            }
            received += 1;
            if received == 3 {
                let _ = app.close(CloseCode::NORMAL, "done");
            }
        })
        .on_error(|_app, error| println!("error: {error}"))
        .on_close(|_app, code, reason| println!("close: {code:?} {reason:?}"));
    let options = RunOptions::new()
        .ping_interval(Some(Duration::from_secs(20)))
        .ping_timeout(Some(Duration::from_secs(10)))
        .reconnect(Some(Reconnect::new().max_attempts(Some(3))));
    let ended = app.run_forever(&options)?;
    println!("ended: {ended:?}");
    if ended.is_error() {
        std::process::exit(1);
    }
    Ok(())
}
