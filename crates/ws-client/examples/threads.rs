//! Full duplex: one thread receives while another sends, over one connection.
//!
//! ```sh
//! cargo run -p wsdump -- --echo-server &
//! cargo run -p ws-client --example threads -- ws://127.0.0.1:8765
//! ```
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::thread;

use ws_client::{CloseCode, Message};

const COUNT: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:8765".into());
    let (mut reader, sender) = ws_client::connect(&url)?.split();

    // The sending side is cheap to clone and can be used from any number of threads.
    let writer = sender.clone();
    let sending = thread::spawn(move || -> Result<(), ws_client::Error> {
        for i in 0..COUNT {
            writer.send_text(&format!("message {i}"))?;
        }
        Ok(())
    });

    // Meanwhile this thread receives the echoes, in order.
    let mut received = 0;
    while received < COUNT {
        if let Message::Text(text) = reader.recv()? {
            assert_eq!(text, format!("message {received}"));
            received += 1;
        }
    }
    sending
        .join()
        .map_err(|_| "the sending thread panicked")??;
    println!("sent and received {received} messages concurrently");

    sender.send_close(CloseCode::NORMAL, "done")?;
    let reply = reader.recv()?; // the server's close frame
    println!("server answered {reply:?}");
    Ok(())
}
