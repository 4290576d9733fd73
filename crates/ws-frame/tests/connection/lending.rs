//! Lent messages (`poll_message_ref`): the same messages and replies as the owned API,
//! straight from the read buffer or from a buffer reused from message to message.

use ws_frame::{
    CloseCode, Config, Connection, Error, Inbound, Message, MessageRef, OpCode, Outgoing,
    PayloadError, RecvError, Reply, Role,
};

use super::{keys, server_frame, take_transmit};

/// A server's frames (unmasked): `len` bytes of `fill` as one binary frame, with the
/// 16- or 64-bit length forms as needed.
fn big_frame(opcode: u8, fill: u8, len: usize) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    if len < 126 {
        out.push(u8::try_from(len).unwrap());
    } else if let Ok(len) = u16::try_from(len) {
        out.push(126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.resize(out.len() + len, fill);
    out
}

/// Every kind of message a server sends, as wire bytes, and what each is.
fn mixed_wire() -> (Vec<u8>, Vec<Message>) {
    let mut wire = Vec::new();
    let mut want = Vec::new();
    wire.extend(server_frame(0x82, &[1, 2, 3]));
    want.push(Message::Binary(vec![1, 2, 3]));
    wire.extend(server_frame(0x81, "héllo".as_bytes()));
    want.push(Message::Text("héllo".into()));
    wire.extend(server_frame(0x89, b"p1"));
    want.push(Message::Ping(b"p1".to_vec()));
    // A fragmented text message with a pong and a ping between its frames.
    wire.extend(server_frame(0x01, "Frag".as_bytes()));
    wire.extend(server_frame(0x8a, b"pong"));
    want.push(Message::Pong(b"pong".to_vec()));
    wire.extend(server_frame(0x00, "mënted".as_bytes()));
    wire.extend(server_frame(0x89, b"p2"));
    want.push(Message::Ping(b"p2".to_vec()));
    wire.extend(server_frame(0x80, b"!"));
    want.push(Message::Text("Fragmënted!".into()));
    // Larger than the read buffer: streamed (and read directly when the driver does).
    wire.extend(big_frame(0x2, 7, 100_000));
    want.push(Message::Binary(vec![7; 100_000]));
    wire.extend(big_frame(0x1, b'a', 70_000));
    want.push(Message::Text("a".repeat(70_000)));
    wire.extend(big_frame(0x2, 9, 50_000));
    want.push(Message::Binary(vec![9; 50_000]));
    wire.extend(server_frame(0x82, &[]));
    want.push(Message::Binary(Vec::new()));
    wire.extend(server_frame(0x88, &[0x03, 0xe8, b'b', b'y', b'e']));
    want.push(Message::Close(Some((CloseCode::NORMAL, "bye".into()))));
    (wire, want)
}

/// Feeds `wire` to a client `Inbound` in pieces of `piece` bytes, taking every message
/// lent (as owned copies) and every reply, until the close frame.
fn lend_all(wire: &[u8], piece: usize) -> (Vec<Message>, Vec<Reply>) {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    let mut got = Vec::new();
    let mut replies = Vec::new();
    for chunk in wire.chunks(piece) {
        inbound.receive(chunk);
        while let Some(message) = inbound.poll_message_ref().unwrap() {
            let message = Message::from(message);
            while let Some(reply) = inbound.poll_reply() {
                replies.push(reply);
            }
            let close = matches!(message, Message::Close(_));
            got.push(message);
            if close {
                return (got, replies);
            }
        }
    }
    (got, replies)
}

/// The same through the owned API.
fn own_all(wire: &[u8]) -> (Vec<Message>, Vec<Reply>) {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    inbound.receive(wire);
    let mut got = Vec::new();
    let mut replies = Vec::new();
    while let Some(message) = inbound.poll_message().unwrap() {
        while let Some(reply) = inbound.poll_reply() {
            replies.push(reply);
        }
        let close = matches!(message, Message::Close(_));
        got.push(message);
        if close {
            break;
        }
    }
    (got, replies)
}

#[test]
fn lent_messages_and_replies_match_the_owned_ones_however_the_bytes_come() {
    let (wire, want) = mixed_wire();
    let (owned, owned_replies) = own_all(&wire);
    assert_eq!(owned, want);
    assert!(matches!(
        owned_replies[..],
        [Reply::Pong(_), Reply::Pong(_), Reply::CloseEcho { .. }]
    ));
    for piece in [1, 2, 7, 125, 4096, 16 * 1024 + 3, wire.len()] {
        let (got, replies) = lend_all(&wire, piece);
        assert_eq!(got, want, "pieces of {piece} bytes");
        assert_eq!(replies, owned_replies, "pieces of {piece} bytes");
    }
}

#[test]
fn lent_stays_available_while_replies_are_taken_and_goes_once_bytes_move() {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    inbound.receive(&server_frame(0x89, b"hi"));
    assert_eq!(
        inbound.poll_message_ref().unwrap(),
        Some(MessageRef::Ping(b"hi"))
    );
    assert!(matches!(inbound.poll_reply(), Some(Reply::Pong(_))));
    assert_eq!(inbound.lent(), Some(MessageRef::Ping(b"hi")));
    let _ = inbound.spare_mut();
    assert_eq!(
        inbound.lent(),
        None,
        "the read buffer may be overwritten now"
    );
    assert_eq!(inbound.poll_message_ref().unwrap(), None);
    assert_eq!(inbound.lent(), None);
}

#[test]
fn large_lent_messages_reuse_one_buffer_through_direct_reads() {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    let mut addresses = Vec::new();
    for fill in 1..=3u8 {
        let frame = big_frame(0x2, fill, 64 * 1024);
        // The header and the first bytes come through the read buffer, the rest is
        // appended straight to the message, as a blocking driver does.
        inbound.receive(&frame[..1000]);
        assert_eq!(inbound.poll_message_ref().unwrap(), None);
        let (buf, max) = inbound.direct_buffer().unwrap();
        assert_eq!(max, frame.len() - 1000);
        buf.extend_from_slice(&frame[1000..]);
        inbound.commit_direct().unwrap();
        match inbound.poll_message_ref().unwrap() {
            Some(MessageRef::Binary(data)) => {
                assert_eq!(data.len(), 64 * 1024);
                assert!(data.iter().all(|&b| b == fill));
                addresses.push(data.as_ptr() as usize);
            }
            other => panic!("expected the binary message, got {other:?}"),
        }
    }
    assert_eq!(
        addresses[0], addresses[1],
        "the second message reused the buffer"
    );
    assert_eq!(
        addresses[1], addresses[2],
        "the third message reused the buffer"
    );
}

#[test]
fn small_lent_text_reuses_one_string() {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    let mut addresses = Vec::new();
    for text in ["first text", "second", "third, the longest one of them"] {
        inbound.receive(&server_frame(0x81, text.as_bytes()));
        match inbound.poll_message_ref().unwrap() {
            Some(MessageRef::Text(got)) => {
                assert_eq!(got, text);
                addresses.push(got.as_ptr() as usize);
            }
            other => panic!("expected the text, got {other:?}"),
        }
    }
    assert_eq!(addresses[0], addresses[1]);
}

#[test]
fn invalid_utf8_in_a_lent_text_fails_with_1007() {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    inbound.receive(&server_frame(0x81, &[b'o', b'k', 0xff]));
    let err = inbound.poll_message_ref().unwrap_err();
    assert!(matches!(
        err,
        RecvError::Frame(Error::Payload(PayloadError::InvalidUtf8 { offset: 2 }))
    ));
    assert_eq!(
        inbound.poll_reply(),
        Some(Reply::Fail(CloseCode::INVALID_PAYLOAD))
    );
    assert!(matches!(
        inbound.poll_message_ref(),
        Err(RecvError::Closed {
            code: Some(CloseCode::INVALID_PAYLOAD),
            ..
        })
    ));
}

#[test]
fn a_protocol_error_while_lending_fails_with_1002() {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    // A continuation frame with no message to continue.
    inbound.receive(&server_frame(0x80, b"x"));
    assert!(matches!(
        inbound.poll_message_ref(),
        Err(RecvError::Frame(Error::Protocol(_)))
    ));
    assert_eq!(
        inbound.poll_reply(),
        Some(Reply::Fail(CloseCode::PROTOCOL_ERROR))
    );
}

#[test]
fn eof_while_lending_is_reported_after_the_complete_messages() {
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    inbound.receive(&server_frame(0x82, b"last"));
    inbound.receive_eof();
    assert_eq!(
        inbound.poll_message_ref().unwrap(),
        Some(MessageRef::Binary(b"last"))
    );
    assert!(matches!(inbound.poll_message_ref(), Err(RecvError::Eof)));
}

#[test]
fn a_connection_lends_and_answers_pings_and_the_close() {
    let mut client = Connection::client(Config::new(), keys());
    let mut server = Connection::server(Config::new());
    server.send(Outgoing::Ping(b"are you there")).unwrap();
    server.send(Outgoing::Binary(b"data")).unwrap();
    server
        .send(Outgoing::Close(Some((CloseCode::GOING_AWAY, "going"))))
        .unwrap();
    client.receive(&take_transmit(&mut server));
    assert_eq!(
        client.poll_message_ref().unwrap(),
        Some(MessageRef::Ping(b"are you there"))
    );
    assert_eq!(
        client.poll_message_ref().unwrap(),
        Some(MessageRef::Binary(b"data"))
    );
    let close = client.poll_message_ref().unwrap();
    assert_eq!(
        close,
        Some(MessageRef::Close(Some((CloseCode::GOING_AWAY, "going"))))
    );
    assert_eq!(close.map(|m| m.opcode()), Some(OpCode::Close));
    // The client answered the ping and echoed the close.
    server.receive(&take_transmit(&mut client));
    assert_eq!(
        server.poll_message().unwrap(),
        Some(Message::Pong(b"are you there".to_vec()))
    );
    assert!(matches!(
        server.poll_message().unwrap(),
        Some(Message::Close(Some((CloseCode::GOING_AWAY, _))))
    ));
}

#[test]
fn message_ref_bytes_and_owned_copies() {
    assert_eq!(MessageRef::Text("hé").as_bytes(), "hé".as_bytes());
    assert_eq!(MessageRef::Pong(b"p").as_bytes(), b"p");
    assert_eq!(
        MessageRef::Close(Some((CloseCode::NORMAL, "bye"))).as_bytes(),
        b"bye"
    );
    assert_eq!(MessageRef::Close(None).as_bytes(), b"");
    let owned = Message::Close(Some((CloseCode::NORMAL, "bye".into())));
    assert_eq!(Message::from(owned.as_message_ref()), owned);
    assert_eq!(owned.as_message_ref().opcode(), owned.opcode());
}
