//! The blocking client in ten lines: connect, send, receive, close.
//!
//! ```sh
//! cargo run -p wsdump -- --echo-server &           # a local echo server on port 8765
//! cargo run -p ws-client --example echo -- ws://127.0.0.1:8765
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use ws_client::{CloseCode, DEFAULT_CLOSE_TIMEOUT, Message};

fn main() -> Result<(), ws_client::Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8765".into());
    let mut ws = ws_client::connect(&url)?;
    ws.send_text("hello")?;
    ws.send_binary(&[1, 2, 3])?;
    for _ in 0..2 {
        match ws.recv()? {
            Message::Text(text) => println!("text: {text}"),
            Message::Binary(data) => println!("binary: {data:?}"),
            other => println!("other: {other:?}"),
        }
    }
    ws.close(CloseCode::NORMAL, "bye", Some(DEFAULT_CLOSE_TIMEOUT))?;
    println!("closed: {:?}", ws.close_frame());
    Ok(())
}
