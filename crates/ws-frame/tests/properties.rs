//! Property tests: encode then decode is the identity, whatever the chunking.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns fail loudly on purpose"
)]

use proptest::prelude::*;
use ws_frame::{
    CloseCode, Decoded, Decoder, Event, Fin, FrameHeader, Message, MessageDecoder, OpCode, Parsed,
    Role, encode_frame,
};

fn opcode() -> impl Strategy<Value = OpCode> {
    prop_oneof![
        Just(OpCode::Continuation),
        Just(OpCode::Text),
        Just(OpCode::Binary),
        Just(OpCode::Close),
        Just(OpCode::Ping),
        Just(OpCode::Pong),
    ]
}

fn header() -> impl Strategy<Value = FrameHeader> {
    let len = prop_oneof![0u64..=125, 126u64..=0xFFFF, 0x1_0000u64..=(u64::MAX >> 1)];
    (opcode(), any::<[bool; 4]>(), any::<Option<[u8; 4]>>(), len).prop_map(
        |(opcode, [fin, rsv1, rsv2, rsv3], mask, len)| FrameHeader {
            fin: fin || opcode.is_control(),
            rsv1,
            rsv2,
            rsv3,
            opcode,
            mask,
            payload_len: if opcode.is_control() { len % 126 } else { len },
        },
    )
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        any::<String>().prop_map(Message::Text),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Message::Binary),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Message::Ping),
        proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Message::Pong),
        (1000u16..=1003, "[a-z☃]{0,20}")
            .prop_map(|(c, r)| Message::Close(Some((CloseCode::try_from(c).unwrap(), r)))),
        Just(Message::Close(None)),
    ]
}

/// A message with its data fragmentation (byte lengths of the fragments).
fn messages() -> impl Strategy<Value = Vec<(Message, Vec<usize>)>> {
    proptest::collection::vec(
        (message(), proptest::collection::vec(0usize..64, 0..4)),
        0..8,
    )
}

/// Encodes messages; data messages are split into fragments with `pings` interleaved.
fn encode(messages: &[(Message, Vec<usize>)], mask: Option<[u8; 4]>) -> (Vec<u8>, Vec<Message>) {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for (message, cuts) in messages {
        let (opcode, payload): (OpCode, Vec<u8>) = match message {
            Message::Text(t) => (OpCode::Text, t.clone().into_bytes()),
            Message::Binary(b) => (OpCode::Binary, b.clone()),
            Message::Ping(p) => (OpCode::Ping, p.clone()),
            Message::Pong(p) => (OpCode::Pong, p.clone()),
            Message::Close(None) => (OpCode::Close, Vec::new()),
            Message::Close(Some((code, reason))) => {
                let mut p = u16::from(*code).to_be_bytes().to_vec();
                p.extend(reason.as_bytes());
                (OpCode::Close, p)
            }
        };
        if opcode.is_control() {
            encode_frame(&mut wire, Fin::Final, opcode, mask, &payload);
            expected.push(message.clone());
            continue;
        }
        let mut rest = &payload[..];
        let mut op = opcode;
        for (i, &cut) in cuts.iter().enumerate() {
            let (piece, tail) = rest.split_at(cut.min(rest.len()));
            encode_frame(&mut wire, Fin::More, op, mask, piece);
            op = OpCode::Continuation;
            rest = tail;
            if i % 2 == 0 {
                let tag = u8::try_from(i).unwrap_or(u8::MAX);
                encode_frame(&mut wire, Fin::Final, OpCode::Ping, mask, &[tag]);
                expected.push(Message::Ping(vec![tag]));
            }
        }
        encode_frame(&mut wire, Fin::Final, op, mask, rest);
        expected.push(message.clone());
    }
    (wire, expected)
}

fn decode_chunked(role: Role, wire: &[u8], chunks: &[usize]) -> Vec<Message> {
    let mut decoder = MessageDecoder::new(Decoder::new(role));
    let mut out = Vec::new();
    let mut rest = wire;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes
            .next()
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        decoder.feed(piece);
        while let Some(m) = decoder.next_message().unwrap() {
            out.push(m);
        }
    }
    assert_eq!(decoder.buffered(), 0);
    out
}

/// Decodes with the raw decoder over a sliding buffer, rebuilding each frame's payload.
fn raw_frames(role: Role, wire: &[u8], chunks: &[usize]) -> Vec<(FrameHeader, Vec<u8>)> {
    let mut decoder = Decoder::new(role);
    let mut buf: Vec<u8> = Vec::new();
    let mut frames = Vec::new();
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    let mut rest = wire;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes
            .next()
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        let mut pos = 0;
        loop {
            let Decoded {
                consumed, event, ..
            } = decoder.decode(&mut buf[pos..]).unwrap();
            pos += consumed;
            match event {
                None => break,
                Some(Event::Frame { header, payload }) => frames.push((header, payload.to_vec())),
                Some(Event::Header(h)) => current = Some((h, Vec::new())),
                Some(Event::Payload { data, last }) => {
                    let (_, acc) = current.as_mut().unwrap();
                    acc.extend_from_slice(data);
                    if last {
                        frames.push(current.take().unwrap());
                    }
                }
            }
        }
        buf.drain(..pos);
    }
    frames
}

proptest! {
    #[test]
    fn header_encode_then_parse_is_identity(h in header()) {
        let mut out = [0; FrameHeader::MAX_LEN];
        let n = h.encode(&mut out);
        prop_assert_eq!(n, h.encoded_len());
        prop_assert_eq!(FrameHeader::parse(&out[..n]), Ok(Parsed::Complete { value: h, consumed: n }));
        for short in 0..n {
            let is_incomplete = matches!(FrameHeader::parse(&out[..short]), Ok(Parsed::Incomplete { needed }) if needed >= 1 && needed <= n - short);
            prop_assert!(is_incomplete);
        }
    }

    #[test]
    fn messages_round_trip_for_any_chunking(
        msgs in messages(),
        chunks in proptest::collection::vec(1usize..40, 1..6),
        key in any::<[u8; 4]>(),
        server in any::<bool>(),
    ) {
        let (role, mask) = if server { (Role::Server, Some(key)) } else { (Role::Client, None) };
        let (wire, expected) = encode(&msgs, mask);
        prop_assert_eq!(&decode_chunked(role, &wire, &[usize::MAX]), &expected);
        prop_assert_eq!(&decode_chunked(role, &wire, &[1]), &expected);
        prop_assert_eq!(&decode_chunked(role, &wire, &chunks), &expected);
    }

    #[test]
    fn raw_decoder_gives_same_frames_for_any_chunking(
        msgs in messages(),
        chunks in proptest::collection::vec(1usize..40, 1..6),
        key in any::<[u8; 4]>(),
        server in any::<bool>(),
    ) {
        let (role, mask) = if server { (Role::Server, Some(key)) } else { (Role::Client, None) };
        let (wire, _) = encode(&msgs, mask);
        let whole = raw_frames(role, &wire, &[usize::MAX]);
        prop_assert_eq!(&raw_frames(role, &wire, &[1]), &whole);
        prop_assert_eq!(&raw_frames(role, &wire, &chunks), &whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
        chunks in proptest::collection::vec(1usize..16, 1..4),
        server in any::<bool>(),
    ) {
        let role = if server { Role::Server } else { Role::Client };
        let mut decoder = MessageDecoder::new(Decoder::new(role));
        for piece in bytes.chunks(chunks[0]) {
            decoder.feed(piece);
            loop {
                match decoder.next_message() {
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => {
                        let code = u16::from(e.close_code());
                        prop_assert!(matches!(code, 1002 | 1007 | 1009));
                        return Ok(());
                    }
                }
            }
        }
    }
}
