//! Every frame rule the decoder enforces, one test each, matching the exact error.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] fns fail loudly on purpose"
)]

use ws_frame::{
    CloseCode, Decoded, Decoder, Error, Event, Fin, Limits, Message, MessageDecoder, OpCode,
    PayloadError, ProtocolError, Role, encode_frame,
};

fn frame(fin: bool, opcode: OpCode, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&mut out, Fin::from(fin), opcode, mask, payload);
    out
}

/// Feeds `wire` whole to a fresh decoder, collecting owned events until input runs out.
fn events(decoder: &mut Decoder, wire: &mut [u8]) -> Result<Vec<String>, Error> {
    let mut pos = 0;
    let mut out = Vec::new();
    loop {
        let Decoded {
            consumed, event, ..
        } = decoder.decode(&mut wire[pos..])?;
        pos += consumed;
        match event {
            None => return Ok(out),
            Some(Event::Frame { header, payload }) => out.push(format!(
                "frame {} fin={} {:?}",
                header.opcode,
                header.fin,
                String::from_utf8_lossy(payload)
            )),
            Some(Event::Header(h)) => {
                out.push(format!("header {} len={}", h.opcode, h.payload_len));
            }
            Some(Event::Payload { data, last }) => {
                out.push(format!(
                    "payload {:?} last={last}",
                    String::from_utf8_lossy(data)
                ));
            }
        }
    }
}

fn first_error(role: Role, wire: &[u8]) -> Error {
    events(&mut Decoder::new(role), &mut wire.to_vec()).unwrap_err()
}

#[test]
fn rejects_masked_frame_from_server() {
    let err = first_error(
        Role::Client,
        &frame(true, OpCode::Text, Some([1, 2, 3, 4]), b"hi"),
    );
    assert_eq!(err, Error::Protocol(ProtocolError::MaskedFrameFromServer));
    assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
}

#[test]
fn rejects_unmasked_frame_from_client() {
    let err = first_error(Role::Server, &frame(true, OpCode::Text, None, b"hi"));
    assert_eq!(err, Error::Protocol(ProtocolError::UnmaskedFrameFromClient));
}

#[test]
fn rejects_reserved_bits_without_extension() {
    for (bit, byte) in [(0b100, 0xC1), (0b010, 0xA1), (0b001, 0x91)] {
        let err = first_error(Role::Client, &[byte, 0x00]);
        assert_eq!(
            err,
            Error::Protocol(ProtocolError::ReservedBits { bits: bit })
        );
    }
}

#[test]
fn accepts_reserved_bit_claimed_by_extension_only() {
    let mut decoder = Decoder::new(Role::Client).with_reserved_bits(0b100);
    let got = events(&mut decoder, &mut [0xC2, 0x01, 0xAA]).unwrap();
    assert_eq!(got.len(), 1);
    let mut decoder = Decoder::new(Role::Client).with_reserved_bits(0b100);
    assert_eq!(
        events(&mut decoder, &mut [0xE2, 0x00]).unwrap_err(),
        Error::Protocol(ProtocolError::ReservedBits { bits: 0b010 })
    );
}

#[test]
fn rsv1_is_allowed_only_on_the_first_frame_of_a_data_message() {
    let deflate = || Decoder::new(Role::Client).with_reserved_bits(0b100);
    // Text with RSV1, then a continuation without it: fine.
    let mut wire = vec![0x41, 0x01, 0xAA, 0x80, 0x01, 0xBB];
    assert_eq!(events(&mut deflate(), &mut wire).unwrap().len(), 2);
    // RSV1 on the continuation frame.
    let mut wire = vec![0x41, 0x01, 0xAA, 0xC0, 0x01, 0xBB];
    assert_eq!(
        events(&mut deflate(), &mut wire).unwrap_err(),
        Error::Protocol(ProtocolError::MisplacedRsv1 {
            opcode: OpCode::Continuation
        })
    );
    // RSV1 on control frames.
    for (byte, opcode) in [
        (0xC9, OpCode::Ping),
        (0xCA, OpCode::Pong),
        (0xC8, OpCode::Close),
    ] {
        let err = events(&mut deflate(), &mut [byte, 0x00]).unwrap_err();
        assert_eq!(
            err,
            Error::Protocol(ProtocolError::MisplacedRsv1 { opcode })
        );
        assert_eq!(err.close_code(), CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn compressed_text_is_not_utf8_checked_before_inflating() {
    // 0xf2 0x48 ... is "Hello" compressed: not UTF-8 on the wire.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let mut decoder = Decoder::new(Role::Client).with_reserved_bits(0b100);
    let mut wire = vec![0xC1, 0x07];
    wire.extend_from_slice(&hello);
    assert_eq!(events(&mut decoder, &mut wire).unwrap().len(), 1);
    // Streamed in pieces and fragmented too.
    let mut wire = vec![
        0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    let mut decoder = Decoder::new(Role::Client).with_reserved_bits(0b100);
    let got = events(&mut decoder, &mut wire.clone()).unwrap();
    assert_eq!(got.len(), 2);
    assert!(!decoder.is_compressed(), "message over");
    let mut decoder = Decoder::new(Role::Client).with_reserved_bits(0b100);
    let mut head = wire[..4].to_vec();
    let Decoded { event, .. } = decoder.decode(&mut head).unwrap();
    assert!(matches!(event, Some(Event::Header(h)) if h.rsv1));
    assert!(decoder.is_compressed());
    // The same bytes without RSV1 are invalid text.
    wire[0] = 0x01;
    assert!(matches!(
        events(&mut Decoder::new(Role::Client), &mut wire).unwrap_err(),
        Error::Payload(PayloadError::InvalidUtf8 { .. })
    ));
}

#[test]
fn rejects_reserved_opcodes() {
    for op in [0x3, 0x7, 0xB, 0xF] {
        let err = first_error(Role::Client, &[0x80 | op, 0x00]);
        assert_eq!(err, Error::Protocol(ProtocolError::ReservedOpCode(op)));
    }
}

#[test]
fn rejects_continuation_without_started_message() {
    let err = first_error(Role::Client, &frame(true, OpCode::Continuation, None, b"x"));
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::ContinuationWithoutMessage)
    );
}

#[test]
fn rejects_new_data_frame_inside_unfinished_message() {
    let mut wire = frame(false, OpCode::Text, None, b"a");
    wire.extend(frame(true, OpCode::Binary, None, b"b"));
    let err = first_error(Role::Client, &wire);
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::DataFrameInsideMessage {
            opcode: OpCode::Binary
        })
    );
}

#[test]
fn rejects_fragmented_control_frames_and_long_control_frames() {
    assert_eq!(
        first_error(Role::Client, &[0x09, 0x00]),
        Error::Protocol(ProtocolError::FragmentedControlFrame {
            opcode: OpCode::Ping
        })
    );
    let long = [0x89, 0x7E, 0x00, 0x7E];
    assert_eq!(
        first_error(Role::Client, &long),
        Error::Protocol(ProtocolError::ControlFrameTooLong {
            opcode: OpCode::Ping,
            len: 126
        })
    );
}

#[test]
fn rejects_64_bit_length_with_msb_set() {
    let err = first_error(Role::Client, &[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(err, Error::Protocol(ProtocolError::LengthOverflow));
}

#[test]
fn control_frames_inside_a_fragmented_message_are_delivered_in_order() {
    let mut wire = frame(false, OpCode::Text, None, b"Hel");
    wire.extend(frame(true, OpCode::Ping, None, b"p"));
    wire.extend(frame(true, OpCode::Continuation, None, b"lo"));
    let got = events(&mut Decoder::new(Role::Client), &mut wire).unwrap();
    assert_eq!(
        got,
        [
            "frame text fin=false \"Hel\"",
            "frame ping fin=true \"p\"",
            "frame cont fin=true \"lo\""
        ]
    );
}

#[test]
fn control_frame_waits_until_whole() {
    let mut wire = frame(true, OpCode::Ping, None, b"hello");
    let mut decoder = Decoder::new(Role::Client);
    let decoded = decoder.decode(&mut wire[..4]).unwrap();
    assert_eq!(
        (decoded.consumed, decoded.event, decoded.needed),
        (0, None, 3)
    );
    let decoded = decoder.decode(&mut wire).unwrap();
    assert_eq!(decoded.consumed, 7);
    assert!(matches!(
        decoded.event,
        Some(Event::Frame {
            payload: b"hello",
            ..
        })
    ));
}

#[test]
fn streams_partial_data_frame_as_header_then_unmasked_payload_pieces() {
    let key = [9, 8, 7, 6];
    let mut wire = frame(true, OpCode::Binary, Some(key), b"abcdefghij");
    let mut decoder = Decoder::new(Role::Server);
    // Header (6 bytes) plus 3 payload bytes.
    let d = decoder.decode(&mut wire[..9]).unwrap();
    assert_eq!(d.consumed, 6);
    assert!(
        matches!(d.event, Some(Event::Header(h)) if h.payload_len == 10 && h.mask == Some(key))
    );
    assert!(decoder.is_in_frame());
    let d = decoder.decode(&mut wire[6..9]).unwrap();
    assert_eq!(
        d.event,
        Some(Event::Payload {
            data: b"abc",
            last: false
        })
    );
    let d = decoder.decode(&mut wire[9..10]).unwrap();
    assert_eq!(
        d.event,
        Some(Event::Payload {
            data: b"d",
            last: false
        })
    );
    let d = decoder.decode(&mut []).unwrap();
    assert_eq!((d.consumed, d.event, d.needed), (0, None, 1));
    let d = decoder.decode(&mut wire[10..]).unwrap();
    assert_eq!(
        d.event,
        Some(Event::Payload {
            data: b"efghij",
            last: true
        })
    );
    assert!(!decoder.is_in_frame() && !decoder.is_in_message());
}

#[test]
fn rejects_frame_over_limit_before_payload_arrives() {
    let limits = Limits::default().max_frame_size(Some(100));
    let mut decoder = Decoder::new(Role::Client).with_limits(limits);
    // Only the header of a 101-byte frame: the limit fires without any payload.
    let err = decoder.decode(&mut [0x82, 0x65]).unwrap_err();
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::FrameTooLarge {
            len: 101,
            limit: 100
        })
    );
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
    // Default limit: a declared 16 MiB + 1 frame.
    let mut header = [0x82, 0x7F, 0, 0, 0, 0, 0x01, 0, 0, 1];
    let err = Decoder::new(Role::Client).decode(&mut header).unwrap_err();
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::FrameTooLarge {
            len: (16 << 20) + 1,
            limit: 16 << 20
        })
    );
}

#[test]
fn rejects_message_over_limit_across_fragments() {
    let limits = Limits::default().max_message_size(Some(5));
    let mut decoder = Decoder::new(Role::Client).with_limits(limits);
    let mut wire = frame(false, OpCode::Binary, None, b"abc");
    wire.extend(frame(false, OpCode::Continuation, None, b"de"));
    wire.extend(frame(true, OpCode::Continuation, None, b"f"));
    let err = events(&mut decoder, &mut wire).unwrap_err();
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::MessageTooLarge { len: 6, limit: 5 })
    );
    assert_eq!(err.close_code(), CloseCode::MESSAGE_TOO_BIG);
}

#[test]
fn control_frames_do_not_count_toward_message_limit() {
    let limits = Limits::default().max_message_size(Some(4));
    let mut decoder = Decoder::new(Role::Client).with_limits(limits);
    let mut wire = frame(false, OpCode::Binary, None, b"ab");
    wire.extend(frame(true, OpCode::Ping, None, b"0123456789"));
    wire.extend(frame(true, OpCode::Continuation, None, b"cd"));
    assert_eq!(events(&mut decoder, &mut wire).unwrap().len(), 3);
}

#[test]
fn unlimited_limits_accept_huge_declared_lengths() {
    let mut decoder = Decoder::new(Role::Client).with_limits(Limits::unlimited());
    let mut header = [
        0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00,
    ];
    let d = decoder.decode(&mut header).unwrap();
    assert!(matches!(d.event, Some(Event::Header(h)) if h.payload_len == u64::MAX >> 1));
    let d = decoder.decode(&mut header[10..]).unwrap();
    assert_eq!(
        d.event,
        Some(Event::Payload {
            data: &[0],
            last: false
        })
    );
}

#[test]
fn fails_on_invalid_utf8_inside_continuation_before_frame_ends() {
    let mut wire = frame(false, OpCode::Text, None, b"ok ");
    // A continuation frame of 10 bytes whose third byte is invalid; only 4 bytes arrive.
    wire.extend([0x80, 0x0A, b'a', b'b', 0xFF, b'c']);
    let err = events(&mut Decoder::new(Role::Client), &mut wire).unwrap_err();
    assert_eq!(err, Error::Payload(PayloadError::InvalidUtf8 { offset: 5 }));
    assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
}

#[test]
fn accepts_code_point_split_across_frames() {
    let snowman = "☃".as_bytes();
    let mut wire = frame(false, OpCode::Text, None, &snowman[..1]);
    wire.extend(frame(false, OpCode::Continuation, None, &snowman[1..2]));
    wire.extend(frame(true, OpCode::Continuation, None, &snowman[2..]));
    assert_eq!(
        events(&mut Decoder::new(Role::Client), &mut wire)
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn rejects_message_ending_inside_a_code_point() {
    let mut wire = frame(false, OpCode::Text, None, b"a");
    wire.extend(frame(
        true,
        OpCode::Continuation,
        None,
        &"€".as_bytes()[..2],
    ));
    let err = events(&mut Decoder::new(Role::Client), &mut wire).unwrap_err();
    assert_eq!(err, Error::Payload(PayloadError::IncompleteUtf8));
    let err = first_error(
        Role::Client,
        &frame(true, OpCode::Text, None, &[b'a', 0xE2, 0x82]),
    );
    assert_eq!(err, Error::Payload(PayloadError::IncompleteUtf8));
}

#[test]
fn rejects_invalid_utf8_in_single_frame_text() {
    let err = first_error(
        Role::Client,
        &frame(true, OpCode::Text, None, b"ab\xC0\xAF"),
    );
    assert_eq!(err, Error::Payload(PayloadError::InvalidUtf8 { offset: 2 }));
}

#[test]
fn utf8_validation_can_be_turned_off() {
    let mut decoder = Decoder::new(Role::Client).with_utf8_validation(false);
    let mut wire = frame(true, OpCode::Text, None, b"\xFF");
    assert_eq!(events(&mut decoder, &mut wire).unwrap().len(), 1);
}

#[test]
fn binary_messages_are_not_utf8_validated() {
    let mut wire = frame(false, OpCode::Binary, None, b"\xFF");
    wire.extend(frame(true, OpCode::Continuation, None, b"\xE2"));
    assert_eq!(
        events(&mut Decoder::new(Role::Client), &mut wire)
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn rejects_close_frame_with_one_byte_payload() {
    let err = first_error(Role::Client, &frame(true, OpCode::Close, None, &[0x03]));
    assert_eq!(err, Error::Protocol(ProtocolError::CloseFrameTooShort));
}

#[test]
fn rejects_close_frame_with_invalid_code() {
    for code in [999u16, 1005, 1006, 1015, 1100, 2000, 5000] {
        let err = first_error(
            Role::Client,
            &frame(true, OpCode::Close, None, &code.to_be_bytes()),
        );
        assert_eq!(
            err,
            Error::Protocol(ProtocolError::InvalidCloseCode(code)),
            "code {code}"
        );
    }
}

#[test]
fn rejects_close_frame_with_invalid_utf8_reason() {
    let err = first_error(
        Role::Client,
        &frame(true, OpCode::Close, None, b"\x03\xe8\xCE"),
    );
    assert_eq!(
        err,
        Error::Payload(PayloadError::InvalidCloseReason { offset: 0 })
    );
    assert_eq!(err.close_code(), CloseCode::INVALID_PAYLOAD);
}

#[test]
fn message_decoder_reports_close_code_and_reason() {
    let mut decoder = MessageDecoder::new(Decoder::new(Role::Client));
    decoder.feed(&frame(true, OpCode::Close, None, b"\x03\xe9bye"));
    decoder.feed(&frame(true, OpCode::Close, None, b""));
    assert_eq!(
        decoder.next_message().unwrap(),
        Some(Message::Close(Some((CloseCode::GOING_AWAY, "bye".into()))))
    );
    assert_eq!(decoder.next_message().unwrap(), Some(Message::Close(None)));
}

#[test]
fn message_decoder_fails_fast_on_invalid_text_in_a_streamed_fragment() {
    let mut decoder = MessageDecoder::new(Decoder::new(Role::Client));
    decoder.feed(&frame(false, OpCode::Text, None, b"fine"));
    decoder.feed(&[0x80, 0x7E, 0x10, 0x00, 0xFF]); // 4096-byte continuation, first byte bad
    assert_eq!(
        decoder.next_message().unwrap_err(),
        Error::Payload(PayloadError::InvalidUtf8 { offset: 4 })
    );
}

#[test]
fn message_decoder_respects_message_limit() {
    let limits = Limits::default().max_message_size(Some(3));
    let mut decoder = MessageDecoder::new(Decoder::new(Role::Client).with_limits(limits));
    decoder.feed(&frame(false, OpCode::Text, None, b"ab"));
    decoder.feed(&frame(true, OpCode::Continuation, None, b"cd"));
    assert_eq!(
        decoder.next_message().unwrap_err(),
        Error::Protocol(ProtocolError::MessageTooLarge { len: 4, limit: 3 })
    );
}

#[test]
fn every_error_maps_to_its_close_code() {
    let cases: [(Error, u16); 5] = [
        (ProtocolError::LengthOverflow.into(), 1002),
        (ProtocolError::ReservedOpCode(3).into(), 1002),
        (PayloadError::IncompleteUtf8.into(), 1007),
        (
            ProtocolError::FrameTooLarge { len: 2, limit: 1 }.into(),
            1009,
        ),
        (
            ProtocolError::MessageTooLarge { len: 2, limit: 1 }.into(),
            1009,
        ),
    ];
    for (err, code) in cases {
        assert_eq!(u16::from(err.close_code()), code, "{err}");
    }
}

#[test]
fn error_messages_name_the_rule() {
    assert_eq!(
        ProtocolError::FrameTooLarge { len: 20, limit: 10 }.to_string(),
        "frame payload of 20 bytes exceeds the limit of 10"
    );
    assert_eq!(
        Error::from(ProtocolError::MaskedFrameFromServer).to_string(),
        "server sent a masked frame (RFC 6455 section 5.1)"
    );
    assert_eq!(
        PayloadError::InvalidUtf8 { offset: 7 }.to_string(),
        "text message is not valid UTF-8 at byte 7"
    );
}

#[test]
fn rejects_invalid_utf8_in_a_whole_continuation_frame() {
    let mut wire = frame(false, OpCode::Text, None, b"abc");
    wire.extend(frame(true, OpCode::Continuation, None, b"d\xFFe"));
    let err = events(&mut Decoder::new(Role::Client), &mut wire).unwrap_err();
    assert_eq!(err, Error::Payload(PayloadError::InvalidUtf8 { offset: 4 }));
}

#[test]
fn message_decoder_rejects_invalid_utf8_text() {
    let mut single = MessageDecoder::new(Decoder::new(Role::Client));
    single.feed(&frame(true, OpCode::Text, None, b"ok\xC3\x28"));
    assert_eq!(
        single.next_message().unwrap_err(),
        Error::Payload(PayloadError::InvalidUtf8 { offset: 2 })
    );
    let mut fragmented = MessageDecoder::new(Decoder::new(Role::Client));
    fragmented.feed(&frame(false, OpCode::Text, None, b"ok"));
    fragmented.feed(&frame(true, OpCode::Continuation, None, b"\xF0\x9F"));
    assert_eq!(
        fragmented.next_message().unwrap_err(),
        Error::Payload(PayloadError::IncompleteUtf8)
    );
}

#[test]
fn message_decoder_reassembles_text_split_inside_a_code_point() {
    let text = "größer 🌍";
    let bytes = text.as_bytes();
    let mut decoder = MessageDecoder::new(Decoder::new(Role::Client));
    decoder.feed(&frame(false, OpCode::Text, None, &bytes[..3]));
    decoder.feed(&frame(false, OpCode::Continuation, None, &bytes[3..9]));
    decoder.feed(&frame(true, OpCode::Continuation, None, &bytes[9..]));
    assert_eq!(
        decoder.next_message().unwrap(),
        Some(Message::Text(text.into()))
    );
    assert_eq!(decoder.next_message().unwrap(), None);
}

#[test]
fn rejects_streamed_final_frame_ending_inside_a_code_point() {
    let mut wire = frame(true, OpCode::Text, None, b"ab\xE2\x82");
    let mut decoder = Decoder::new(Role::Client);
    let d = decoder.decode(&mut wire[..3]).unwrap();
    assert!(matches!(d.event, Some(Event::Header(_))));
    let d = decoder.decode(&mut wire[2..4]).unwrap();
    assert_eq!(
        d.event,
        Some(Event::Payload {
            data: b"ab",
            last: false
        })
    );
    let err = decoder.decode(&mut wire[4..]).unwrap_err();
    assert_eq!(err, Error::Payload(PayloadError::IncompleteUtf8));
}
