//! The examples of RFC 7692 section 7.2.3, byte for byte, through `MessageDecoder` with an
//! `Inflater`, fed whole and one byte at a time; and a zip bomb held to the message limit.
#![cfg(feature = "deflate")]
#![allow(clippy::unwrap_used, reason = "tests")]

use ws_frame::deflate::{Deflater, Inflater};
use ws_frame::{
    Decoder, Error, Fin, Limits, Message, MessageDecoder, OpCode, PayloadError, ProtocolError,
    Role, encode_frame,
};

fn decoder(no_context_takeover: bool) -> MessageDecoder {
    MessageDecoder::new(Decoder::new(Role::Client))
        .with_inflater(Inflater::new(no_context_takeover))
}

/// Every message of `wire`, fed whole and byte by byte (both must agree).
fn messages(no_context_takeover: bool, wire: &[u8]) -> Result<Vec<Message>, Error> {
    let mut whole = decoder(no_context_takeover);
    whole.feed(wire);
    let mut out = Vec::new();
    while let Some(m) = whole.next_message()? {
        out.push(m);
    }
    let mut bytewise = decoder(no_context_takeover);
    let mut out2 = Vec::new();
    for b in wire {
        bytewise.feed(core::slice::from_ref(b));
        while let Some(m) = bytewise.next_message()? {
            out2.push(m);
        }
    }
    assert_eq!(out, out2, "byte-by-byte feeding changed the messages");
    Ok(out)
}

fn hello(n: usize) -> Vec<Message> {
    vec![Message::Text("Hello".into()); n]
}

#[test]
fn section_7_2_3_1_one_frame_and_fragments() {
    let one = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    assert_eq!(messages(false, &one).unwrap(), hello(1));
    let two = [
        0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(messages(false, &two).unwrap(), hello(1));
}

#[test]
fn section_7_2_3_2_shared_window() {
    let wire = [
        0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, // "Hello"
        0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00, // "Hello" again, from the window
    ];
    assert_eq!(messages(false, &wire).unwrap(), hello(2));
    // Without context takeover the second message cannot be "Hello".
    assert_ne!(messages(true, &wire).ok(), Some(hello(2)));
}

#[test]
fn sections_7_2_3_3_to_7_2_3_6_other_block_shapes() {
    let stored = [
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(messages(false, &stored).unwrap(), hello(1));
    let bfinal = [0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(messages(false, &bfinal).unwrap(), hello(1));
    let two_blocks = [
        0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(messages(false, &two_blocks).unwrap(), hello(1));
    let empty = [0xc1, 0x01, 0x00];
    assert_eq!(
        messages(false, &empty).unwrap(),
        vec![Message::Text(String::new())]
    );
}

#[test]
fn uncompressed_messages_pass_through() {
    let mut wire = Vec::new();
    encode_frame(&mut wire, Fin::Final, OpCode::Binary, None, &[1, 2, 3]);
    wire.extend_from_slice(&[0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert_eq!(
        messages(false, &wire).unwrap(),
        vec![
            Message::Binary(vec![1, 2, 3]),
            Message::Text("Hello".into())
        ]
    );
}

#[test]
fn inflated_text_must_be_utf8() {
    let mut compressed = Vec::new();
    Deflater::new(6, false).compress(b"ok \xff", &mut compressed);
    let mut wire = vec![0xc1, u8::try_from(compressed.len()).unwrap()];
    wire.extend_from_slice(&compressed);
    assert_eq!(
        messages(false, &wire).unwrap_err(),
        Error::Payload(PayloadError::InvalidUtf8 { offset: 3 })
    );
}

#[test]
fn a_zip_bomb_stops_at_the_message_limit() {
    let mut compressed = Vec::new();
    Deflater::new(9, false).compress(&vec![0; 8 << 20], &mut compressed);
    let mut wire = Vec::new();
    encode_frame(&mut wire, Fin::Final, OpCode::Binary, None, &compressed);
    wire[0] |= 0x40;
    let limits = Limits::default().max_message_size(Some(64 << 10));
    let mut decoder = MessageDecoder::new(Decoder::new(Role::Client).with_limits(limits))
        .with_inflater(Inflater::new(false));
    decoder.feed(&wire);
    assert_eq!(
        decoder.next_message().unwrap_err(),
        Error::Protocol(ProtocolError::MessageTooLarge {
            len: (64 << 10) + 1,
            limit: 64 << 10
        })
    );
}
