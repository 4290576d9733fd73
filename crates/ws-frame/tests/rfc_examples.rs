//! The examples of RFC 6455 section 5.7, byte for byte, encoded and decoded.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns fail loudly on purpose"
)]

use ws_frame::{
    Decoder, Event, Fin, FrameHeader, Message, MessageDecoder, OpCode, Role, encode_frame,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn decode_all(role: Role, wire: &[u8]) -> Vec<Message> {
    let mut decoder = MessageDecoder::new(Decoder::new(role));
    decoder.feed(wire);
    let mut out = Vec::new();
    while let Some(message) = decoder.next_message().unwrap() {
        out.push(message);
    }
    assert_eq!(decoder.buffered(), 0);
    out
}

#[test]
fn single_frame_unmasked_text() {
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::Final, OpCode::Text, None, b"Hello");
    assert_eq!(out, wire);
    assert_eq!(
        decode_all(Role::Client, &wire),
        [Message::Text("Hello".into())]
    );
}

#[test]
fn single_frame_masked_text() {
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::Final, OpCode::Text, Some(KEY), b"Hello");
    assert_eq!(out, wire);
    assert_eq!(
        decode_all(Role::Server, &wire),
        [Message::Text("Hello".into())]
    );
    // The raw decoder unmasks in place and reports the key.
    let mut buf = wire;
    let decoded = Decoder::new(Role::Server).decode(&mut buf).unwrap();
    let Some(Event::Frame { header, payload }) = decoded.event else {
        panic!("expected a whole frame, got {:?}", decoded.event);
    };
    assert_eq!(header.mask, Some(KEY));
    assert_eq!(payload, b"Hello");
}

#[test]
fn fragmented_unmasked_text() {
    let wire = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::More, OpCode::Text, None, b"Hel");
    encode_frame(&mut out, Fin::Final, OpCode::Continuation, None, b"lo");
    assert_eq!(out, wire);
    assert_eq!(
        decode_all(Role::Client, &wire),
        [Message::Text("Hello".into())]
    );
}

#[test]
fn unmasked_ping_and_masked_pong() {
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::Final, OpCode::Ping, None, b"Hello");
    assert_eq!(out, ping);
    out.clear();
    encode_frame(&mut out, Fin::Final, OpCode::Pong, Some(KEY), b"Hello");
    assert_eq!(out, pong);
    assert_eq!(
        decode_all(Role::Client, &ping),
        [Message::Ping(b"Hello".to_vec())]
    );
    assert_eq!(
        decode_all(Role::Server, &pong),
        [Message::Pong(b"Hello".to_vec())]
    );
}

#[test]
fn binary_256_bytes_uses_16_bit_length() {
    let payload: Vec<u8> = (0..=255).collect();
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::Final, OpCode::Binary, None, &payload);
    assert_eq!(out[..4], [0x82, 0x7E, 0x01, 0x00]);
    assert_eq!(&out[4..], &payload[..]);
    assert_eq!(decode_all(Role::Client, &out), [Message::Binary(payload)]);
}

#[test]
fn binary_64_kib_uses_64_bit_length() {
    let payload = vec![0xA5; 65536];
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::Final, OpCode::Binary, None, &payload);
    assert_eq!(out[..10], [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00]);
    assert_eq!(out.len(), 10 + 65536);
    let header = FrameHeader::new(OpCode::Binary, 65536);
    assert_eq!(header.encoded_len(), 10);
    assert_eq!(decode_all(Role::Client, &out), [Message::Binary(payload)]);
}
