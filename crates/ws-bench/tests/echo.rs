//! The benchmark's echo server, driven by our client: every payload size around the write
//! chunk boundaries comes back byte for byte, binary and text, one at a time and batched.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns fail loudly on purpose"
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ws_client::{ClientBuilder, Message};

/// The echo server as a child process, killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ws-bench"))
            .arg("server")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("port=").unwrap().parse().unwrap();
        Self { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn connect(server: &Server, path: &str, write_buffer: usize) -> ws_client::WebSocket {
    ClientBuilder::new()
        .timeout(Some(Duration::from_secs(20)))
        .write_buffer_size(write_buffer)
        .connect(&format!("ws://127.0.0.1:{}/{path}", server.port))
        .unwrap()
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251).to_le_bytes()[0].wrapping_add(seed))
        .collect()
}

#[test]
fn payloads_around_chunk_boundaries_echo_intact() {
    let server = Server::start();
    for write_buffer in [4096, 128 << 10] {
        let mut ws = connect(&server, "rt", write_buffer);
        let sizes = [
            0,
            1,
            125,
            126,
            65_535,
            65_536,
            write_buffer - 14,
            write_buffer,
            write_buffer + 1,
            (1 << 20) - 1,
            1 << 20,
            (1 << 20) + 15,
            (3 << 20) + 5,
        ];
        for (i, size) in sizes.into_iter().enumerate() {
            let data = pattern(size, u8::try_from(i).unwrap());
            ws.send_binary(&data).unwrap();
            match ws.recv().unwrap() {
                Message::Binary(echo) => {
                    assert!(echo == data, "size {size}, buffer {write_buffer}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn batched_messages_and_large_text_echo_intact() {
    let server = Server::start();
    let mut ws = connect(&server, "pipe", 128 << 10);
    let messages: Vec<Message> = (0..40)
        .map(|i: usize| {
            if i % 3 == 0 {
                Message::Text("grüße 水 🍌 ".repeat(i * 997))
            } else {
                Message::Binary(pattern(i * 40_000, u8::try_from(i).unwrap()))
            }
        })
        .collect();
    for message in &messages {
        ws.write(message).unwrap();
    }
    ws.flush().unwrap();
    for message in &messages {
        assert!(ws.recv().unwrap() == *message);
    }
}
