//! Encodes a few WebSocket frames, shows their bytes, then decodes them back.
//!
//! Run with `cargo run --release -p ws-frame --example frames`.
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::fmt::Write as _;

use ws_frame::{
    CloseCode, CloseFrame, Decoded, Decoder, Event, Fin, Message, MessageDecoder, OpCode, Role,
    encode_frame,
};

/// The client's masking key; a real client draws a fresh random one per frame.
const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut close = [0; 125];
    let close_len = CloseFrame::encode(CloseCode::NORMAL, "done", &mut close)?;

    // (description, fin, opcode, masked, payload)
    let frames: [(&str, bool, OpCode, bool, &[u8]); 6] = [
        (
            "text, unmasked (server to client)",
            true,
            OpCode::Text,
            false,
            b"Hello",
        ),
        (
            "binary, masked (client to server)",
            true,
            OpCode::Binary,
            true,
            &[0xDE, 0xAD, 0xBE, 0xEF],
        ),
        (
            "text fragment 1/2",
            false,
            OpCode::Text,
            false,
            "Grüße, ".as_bytes(),
        ),
        (
            "ping inside the fragmented message",
            true,
            OpCode::Ping,
            false,
            b"are you there?",
        ),
        (
            "text fragment 2/2",
            true,
            OpCode::Continuation,
            false,
            "Welt 🌍".as_bytes(),
        ),
        (
            "close 1000 \"done\"",
            true,
            OpCode::Close,
            false,
            &close[..close_len],
        ),
    ];

    println!("== encoding ==");
    let mut server_wire = Vec::new(); // what a server sends: unmasked
    let mut client_wire = Vec::new(); // what a client sends: masked
    for (what, fin, opcode, masked, payload) in frames {
        let mut frame = Vec::new();
        encode_frame(
            &mut frame,
            Fin::from(fin),
            opcode,
            masked.then_some(KEY),
            payload,
        );
        println!("{what:<36} {}", hex(&frame));
        if masked {
            client_wire.extend_from_slice(&frame);
        } else {
            server_wire.extend_from_slice(&frame);
        }
    }

    println!("\n== decoding as a server (unmasks in place) ==");
    let mut decoder = Decoder::new(Role::Server);
    let Decoded { event, .. } = decoder.decode(&mut client_wire)?;
    if let Some(Event::Frame { header, payload }) = event {
        println!(
            "{} fin={} mask={:02x?} len={} payload={}",
            header.opcode,
            header.fin,
            header.mask.unwrap_or_default(),
            header.payload_len,
            hex(payload)
        );
    }

    println!("\n== decoding as a client, fed 3 bytes at a time ==");
    let mut messages = MessageDecoder::new(Decoder::new(Role::Client));
    for piece in server_wire.chunks(3) {
        messages.feed(piece);
        while let Some(message) = messages.next_message()? {
            println!("{}", describe(&message));
        }
    }

    println!("\n== a protocol error: a server must not mask ==");
    let mut bad = Vec::new();
    encode_frame(&mut bad, Fin::Final, OpCode::Text, Some(KEY), b"oops");
    match Decoder::new(Role::Client).decode(&mut bad) {
        Err(e) => println!("error: {e} -> reply with close code {}", e.close_code()),
        Ok(d) => println!("unexpectedly accepted: {d:?}"),
    }
    Ok(())
}

fn describe(message: &Message) -> String {
    match message {
        Message::Text(text) => format!("text    {text:?}"),
        Message::Binary(data) => format!("binary  {}", hex(data)),
        Message::Ping(data) => format!("ping    {:?}", String::from_utf8_lossy(data)),
        Message::Pong(data) => format!("pong    {:?}", String::from_utf8_lossy(data)),
        Message::Close(Some((code, reason))) => format!("close   {code} {reason:?}"),
        Message::Close(None) => "close   (no status)".to_owned(),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02x}");
    }
    out
}
