//! Messages both ways: reassembly, interleaved control frames, automatic pongs, EOF.

use ws_frame::{
    Config, Connection, Fin, Message, OpCode, Outgoing, PayloadError, PingReply, ProtocolError,
    RecvError, State,
};

use super::{Pair, drain, take_transmit};

#[test]
fn text_and_binary_cross_both_ways() {
    let mut pair = Pair::new();
    pair.client.send(Outgoing::Text("héllo")).unwrap();
    pair.client.send(Outgoing::Binary(&[0, 1, 2, 255])).unwrap();
    pair.server.send(Outgoing::Text("wörld")).unwrap();
    pair.drive();
    assert_eq!(
        pair.server_got,
        [
            Message::Text("héllo".into()),
            Message::Binary(vec![0, 1, 2, 255])
        ]
    );
    assert_eq!(pair.client_got, [Message::Text("wörld".into())]);
    assert_eq!(pair.client.state(), State::Open);
}

#[test]
fn client_frames_are_masked_and_server_frames_are_not() {
    let mut pair = Pair::new();
    pair.client.send(Outgoing::Binary(b"abc")).unwrap();
    pair.server.send(Outgoing::Binary(b"abc")).unwrap();
    pair.drive();
    assert_eq!(pair.client_wire[1] & 0x80, 0x80, "client sets the mask bit");
    assert_ne!(&pair.client_wire[6..9], b"abc", "client payload is masked");
    assert_eq!(pair.server_wire, [0x82, 0x03, b'a', b'b', b'c']);
}

#[test]
fn fragments_interleaved_with_pings_reassemble_and_pings_are_answered() {
    let mut pair = Pair::new();
    let c = &mut pair.client;
    c.send(Outgoing::Fragment {
        opcode: OpCode::Text,
        payload: "Frag".as_bytes(),
        fin: Fin::More,
    })
    .unwrap();
    c.send(Outgoing::Ping(b"p1")).unwrap();
    c.send(Outgoing::Fragment {
        opcode: OpCode::Continuation,
        payload: "mented ".as_bytes(),
        fin: Fin::More,
    })
    .unwrap();
    c.send(Outgoing::Ping(b"p2")).unwrap();
    c.send(Outgoing::Fragment {
        opcode: OpCode::Continuation,
        payload: "message".as_bytes(),
        fin: Fin::Final,
    })
    .unwrap();
    pair.drive();
    assert_eq!(
        pair.server_got,
        [
            Message::Ping(b"p1".to_vec()),
            Message::Ping(b"p2".to_vec()),
            Message::Text("Fragmented message".into()),
        ]
    );
    assert_eq!(
        pair.client_got,
        [Message::Pong(b"p1".to_vec()), Message::Pong(b"p2".to_vec())]
    );
}

#[test]
fn manual_ping_reply_sends_no_pong() {
    let mut pair = Pair::with(Config::new(), Config::new().ping_reply(PingReply::Manual));
    pair.client.send(Outgoing::Ping(b"x")).unwrap();
    pair.drive();
    assert_eq!(pair.server_got, [Message::Ping(b"x".to_vec())]);
    assert!(pair.server_wire.is_empty());
}

#[test]
fn text_split_inside_a_code_point_across_fragments_reassembles() {
    let mut pair = Pair::new();
    let bytes = "€uro".as_bytes();
    pair.client
        .send(Outgoing::Fragment {
            opcode: OpCode::Text,
            payload: &bytes[..1],
            fin: Fin::More,
        })
        .unwrap();
    pair.client
        .send(Outgoing::Fragment {
            opcode: OpCode::Continuation,
            payload: &bytes[1..],
            fin: Fin::Final,
        })
        .unwrap();
    pair.drive();
    assert_eq!(pair.server_got, [Message::Text("€uro".into())]);
}

#[test]
fn invalid_utf8_fails_at_the_first_bad_fragment_with_1007() {
    let mut client = Connection::client(Config::new(), super::keys());
    // A fragmented text message whose first fragment is already invalid; the message
    // never ends, yet the failure comes at once.
    client.receive(&[0x01, 0x02, 0xff, 0xfe]);
    assert_eq!(
        client.poll_message(),
        Err(RecvError::Frame(ws_frame::Error::Payload(
            PayloadError::InvalidUtf8 { offset: 0 }
        )))
    );
    let wire = take_transmit(&mut client);
    assert_eq!(&wire[..2], [0x88, 0x82], "a masked 2-byte close frame");
    let code = [wire[6] ^ wire[2], wire[7] ^ wire[3]];
    assert_eq!(u16::from_be_bytes(code), 1007);
    assert_eq!(client.state(), State::Closed);
    assert!(client.should_shut());
}

#[test]
fn messages_complete_before_eof_are_delivered_then_eof() {
    let mut client = Connection::client(Config::new(), super::keys());
    let mut input = super::server_frame(0x81, b"one");
    input.extend_from_slice(&super::server_frame(0x81, b"two"));
    input.extend_from_slice(&[0x81, 0x05, b't', b'h']); // cut mid-frame
    client.receive(&input);
    client.receive_eof();
    let mut got = Vec::new();
    let mut err = None;
    drain(&mut client, &mut got, &mut err);
    assert_eq!(
        got,
        [Message::Text("one".into()), Message::Text("two".into())]
    );
    assert_eq!(err, Some(RecvError::Eof));
    assert!(client.should_shut());
    assert_eq!(
        client.poll_message(),
        Err(RecvError::Closed {
            code: Some(ws_frame::CloseCode::ABNORMAL),
            reason: "the connection ended without a close frame".into()
        })
    );
}

#[test]
fn any_byte_by_byte_feed_gives_the_same_messages() {
    let mut client = Connection::client(Config::new(), super::keys());
    let mut input = super::server_frame(0x01, b"ab");
    input.extend_from_slice(&super::server_frame(0x89, b"ping"));
    input.extend_from_slice(&super::server_frame(0x80, b"cd"));
    let mut got = Vec::new();
    for byte in &input {
        client.receive(std::slice::from_ref(byte));
        while let Some(m) = client.poll_message().unwrap() {
            got.push(m);
        }
    }
    assert_eq!(
        got,
        [
            Message::Ping(b"ping".to_vec()),
            Message::Text("abcd".into())
        ]
    );
}

#[test]
fn oversized_message_fails_with_1009() {
    let config = Config::new().limits(ws_frame::Limits::default().max_message_size(Some(4)));
    let mut client = Connection::client(config, super::keys());
    client.receive(&super::server_frame(0x02, b"abc"));
    client.receive(&super::server_frame(0x80, b"de"));
    assert_eq!(
        client.poll_message(),
        Err(RecvError::Frame(ws_frame::Error::Protocol(
            ProtocolError::MessageTooLarge { len: 5, limit: 4 }
        )))
    );
    let wire = take_transmit(&mut client);
    let code = [wire[6] ^ wire[2], wire[7] ^ wire[3]];
    assert_eq!(u16::from_be_bytes(code), 1009);
}

#[test]
fn large_payload_read_directly_into_the_message() {
    let mut server = Connection::server(Config::new());
    let payload: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    server.send(Outgoing::Binary(&payload)).unwrap();
    let wire = take_transmit(&mut server);

    let mut client = Connection::client(Config::new(), super::keys());
    // The header and a few payload bytes arrive first.
    client.receive(&wire[..100]);
    assert_eq!(client.poll_message(), Ok(None));
    let mut fed = 100;
    let mut direct_reads = 0;
    while fed < wire.len() {
        if let Some((buf, max)) = client.direct_buffer() {
            let n = max.min(30_000).min(wire.len() - fed);
            buf.extend_from_slice(&wire[fed..fed + n]);
            fed += n;
            direct_reads += 1;
            client.commit_direct().unwrap();
        } else {
            let n = 1000.min(wire.len() - fed);
            client.receive(&wire[fed..fed + n]);
            fed += n;
        }
        if let Some(message) = client.poll_message().unwrap() {
            assert_eq!(message, Message::Binary(payload.clone()));
            assert!(direct_reads >= 3, "most of it was read directly");
            return;
        }
    }
    panic!("message never completed");
}

#[test]
fn direct_reads_into_a_masked_client_frame_are_unmasked() {
    let mut client = Connection::client(Config::new(), super::keys());
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 241) as u8).collect();
    client.send(Outgoing::Binary(&data)).unwrap();
    let wire = take_transmit(&mut client);
    let mut server = Connection::server(Config::new());
    server.receive(&wire[..8]);
    assert_eq!(server.poll_message(), Ok(None));
    let (buf, max) = server.direct_buffer().unwrap();
    assert_eq!(max, 20_000);
    buf.extend_from_slice(&wire[8..]);
    server.commit_direct().unwrap();
    assert_eq!(server.poll_message(), Ok(Some(Message::Binary(data))));
}

#[test]
fn large_text_streams_through_a_larger_read_buffer_validated_once() {
    let mut client = Connection::client(Config::new(), super::keys());
    let text = "héllo wörld, ".repeat(20_000);
    client.send(Outgoing::Text(&text)).unwrap();
    let wire = take_transmit(&mut client);
    let mut server = Connection::server(Config::new());
    server.receive(&wire[..8]);
    assert_eq!(server.poll_message(), Ok(None));
    assert!(
        server.direct_buffer().is_none(),
        "text is validated on its way in"
    );
    let mut fed = 8;
    let mut largest = 0;
    let mut got = None;
    while fed < wire.len() {
        let spare = server.spare_mut();
        largest = largest.max(spare.len());
        let n = spare.len().min(wire.len() - fed);
        spare[..n].copy_from_slice(&wire[fed..fed + n]);
        server.commit(n);
        fed += n;
        if let Some(message) = server.poll_message().unwrap() {
            got = Some(message);
        }
    }
    assert!(
        largest > Config::DEFAULT_READ_BUFFER,
        "lent {largest} bytes at most"
    );
    assert_eq!(got, Some(Message::Text(text)));
    // The larger buffer stays for the next large frame; after a small frame it is back
    // to its normal size: a large frame does not count as a burst.
    assert!(server.spare_mut().len() > Config::DEFAULT_READ_BUFFER);
    client.send(Outgoing::Text("x")).unwrap();
    server.receive(&take_transmit(&mut client));
    assert_eq!(
        server.poll_message(),
        Ok(Some(Message::Text("x".to_owned())))
    );
    assert_eq!(server.spare_mut().len(), Config::DEFAULT_READ_BUFFER);
}

#[test]
fn reads_that_fill_the_buffer_double_it_up_to_128_kib_until_released() {
    use ws_frame::{Inbound, Role};
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    // A burst of small frames, every read filling all the space it was lent.
    let mut wire = Vec::new();
    while wire.len() < 1 << 20 {
        wire.extend(super::server_frame(0x82, &[7; 100]));
    }
    let mut fed = 0;
    let mut lent = Vec::new();
    let mut messages = 0;
    while fed + 256 * 1024 < wire.len() {
        let spare = inbound.spare_mut();
        let n = spare.len();
        lent.push(n);
        spare.copy_from_slice(&wire[fed..fed + n]);
        inbound.commit(n);
        fed += n;
        while let Some(message) = inbound.poll_message().unwrap() {
            assert_eq!(message, Message::Binary(vec![7; 100]));
            messages += 1;
        }
    }
    assert!(messages > 5000, "{messages} messages");
    // The first read came before any frame was decoded: it does not count.
    assert_eq!(lent[0], 16 * 1024);
    assert!(lent[1] <= 16 * 1024, "lent {lent:?}");
    assert!(lent[2] >= 32 * 1024, "lent {lent:?}");
    assert!(lent.iter().all(|&n| n <= 128 * 1024), "lent {lent:?}");
    assert!(lent.contains(&(128 * 1024)), "lent {lent:?}");
    // A short read does not shrink it; an idle release does.
    let spare = inbound.spare_mut();
    let room = spare.len();
    spare[..10].copy_from_slice(&wire[fed..fed + 10]);
    inbound.commit(10);
    assert!(inbound.spare_mut().len() + 10 >= room.min(64 * 1024));
    let mut idle = Inbound::new(Role::Client, &Config::new());
    idle.receive(&wire[..300_000]);
    while idle.poll_message().unwrap().is_some() {}
    assert_eq!(
        idle.spare_mut().len(),
        16 * 1024,
        "bytes copied in with receive do not grow it"
    );
    // Up to the end of the frame in progress (every frame is 102 bytes).
    inbound.receive(&wire[fed + 10..(fed + 10).div_ceil(102) * 102]);
    while inbound.poll_message().unwrap().is_some() {}
    inbound.release_buffers();
    assert_eq!(inbound.buffered_capacity(), 0);
    assert_eq!(inbound.spare_mut().len(), 16 * 1024);
}

#[test]
fn text_fragments_are_reported_with_their_raw_bytes() {
    use ws_frame::{Inbound, Incoming, Role};
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    inbound.report_fragments(true);
    let euro = "€".as_bytes();
    inbound.receive(&super::server_frame(0x01, &euro[..1]));
    inbound.receive(&super::server_frame(0x80, &euro[1..]));
    let mut got = Vec::new();
    while let Some(incoming) = inbound.poll_incoming().unwrap() {
        got.push(incoming);
    }
    assert_eq!(
        got,
        [
            Incoming::Fragment {
                opcode: OpCode::Text,
                payload: euro[..1].to_vec(),
                fin: Fin::More
            },
            Incoming::Fragment {
                opcode: OpCode::Continuation,
                payload: euro[1..].to_vec(),
                fin: Fin::Final
            },
            Incoming::Message(Message::Text("€".into())),
        ]
    );
}

#[test]
fn raw_frames_are_delivered_without_replies() {
    let mut client = Connection::client(Config::new(), super::keys());
    client.receive(&super::server_frame(0x89, b"hi"));
    client.receive(&super::server_frame(0x01, b"ab"));
    client.receive(&super::server_frame(0x80, b"c"));
    let ping = client.poll_frame().unwrap().unwrap();
    assert_eq!(ping.header.opcode, OpCode::Ping);
    assert_eq!(ping.payload, b"hi");
    let first = client.poll_frame().unwrap().unwrap();
    assert_eq!(
        (first.header.opcode, first.header.fin),
        (OpCode::Text, false)
    );
    let last = client.poll_frame().unwrap().unwrap();
    assert_eq!(
        (last.header.opcode, last.header.fin, last.payload.as_slice()),
        (OpCode::Continuation, true, b"c".as_slice())
    );
    assert!(
        client.poll_transmit().is_empty(),
        "no automatic pong in frame mode"
    );
}

#[test]
fn idle_connections_give_their_buffers_back() {
    let mut pair = Pair::new();
    pair.client.send(Outgoing::Binary(&[7; 3000])).unwrap();
    pair.drive();
    assert!(pair.server.inbound().buffered_capacity() > 0);
    pair.server.release_buffers();
    pair.client.release_buffers();
    assert_eq!(pair.server.inbound().buffered_capacity(), 0);
    assert_eq!(pair.client.outbound().buffered_capacity(), 0);
    // And they still work afterwards.
    pair.client.send(Outgoing::Text("again")).unwrap();
    pair.drive();
    assert_eq!(pair.server_got.last(), Some(&Message::Text("again".into())));
}

#[test]
fn fragments_are_reported_before_the_whole_message_when_asked() {
    use ws_frame::{Inbound, Incoming, Role};
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    inbound.report_fragments(true);
    inbound.receive(&super::server_frame(0x81, b"whole"));
    inbound.receive(&super::server_frame(0x02, b"ab"));
    inbound.receive(&super::server_frame(0x80, b"cd"));
    let mut got = Vec::new();
    while let Some(incoming) = inbound.poll_incoming().unwrap() {
        got.push(incoming);
    }
    assert_eq!(
        got,
        [
            Incoming::Message(Message::Text("whole".into())),
            Incoming::Fragment {
                opcode: OpCode::Binary,
                payload: b"ab".to_vec(),
                fin: Fin::More
            },
            Incoming::Fragment {
                opcode: OpCode::Continuation,
                payload: b"cd".to_vec(),
                fin: Fin::Final
            },
            Incoming::Message(Message::Binary(b"abcd".to_vec())),
        ]
    );
}

#[test]
fn large_raw_frames_are_not_read_into_the_message() {
    let mut client = Connection::client(Config::new(), super::keys());
    let mut input = vec![0x82, 126, 0x27, 0x10];
    input.extend_from_slice(&[7; 6000]);
    client.receive(&input);
    assert_eq!(client.poll_frame(), Ok(None));
    assert!(
        client.direct_buffer().is_none(),
        "frame mode collects in the frame"
    );
    client.receive(&[7; 4000]);
    let frame = client.poll_frame().unwrap().unwrap();
    assert_eq!(frame.payload, vec![7; 10_000]);
}

#[test]
fn has_reply_reports_waiting_replies_without_taking_them() {
    let (mut inbound, mut outbound) = Connection::server(Config::new()).into_parts();
    let mut client = Connection::client(Config::new(), super::keys());
    assert!(!inbound.has_reply());
    client.send(Outgoing::Ping(b"a")).unwrap();
    client.send(Outgoing::Ping(b"b")).unwrap();
    inbound.receive(&take_transmit(&mut client));
    assert_eq!(
        inbound.poll_message().unwrap(),
        Some(Message::Ping(b"a".to_vec()))
    );
    assert_eq!(
        inbound.poll_message().unwrap(),
        Some(Message::Ping(b"b".to_vec()))
    );
    // Asking twice takes nothing: both pongs are still owed.
    assert!(inbound.has_reply() && inbound.has_reply());
    while let Some(reply) = inbound.poll_reply() {
        outbound.handle_reply(reply);
    }
    assert!(!inbound.has_reply());
    client.receive(outbound.poll_transmit());
    let (mut got, mut err) = (Vec::new(), None);
    drain(&mut client, &mut got, &mut err);
    assert_eq!(
        got,
        [Message::Pong(b"a".to_vec()), Message::Pong(b"b".to_vec())]
    );
}

#[test]
fn large_frames_do_not_grow_the_read_buffer() {
    use ws_frame::{Inbound, Role};
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    let mut frame = vec![0x82, 127];
    frame.extend_from_slice(&(64u64 << 10).to_be_bytes());
    frame.resize(frame.len() + (64 << 10), 3);
    let wire = frame.repeat(20);
    let mut fed = 0;
    let mut messages = 0;
    loop {
        let spare = inbound.spare_mut();
        let n = spare.len();
        if fed + n > wire.len() {
            break;
        }
        spare.copy_from_slice(&wire[fed..fed + n]);
        inbound.commit(n);
        fed += n;
        while let Some(message) = inbound.poll_message().unwrap() {
            assert_eq!(message, Message::Binary(vec![3; 64 << 10]));
            messages += 1;
        }
    }
    inbound.receive(&wire[fed..]);
    while let Some(message) = inbound.poll_message().unwrap() {
        assert_eq!(message, Message::Binary(vec![3; 64 << 10]));
        messages += 1;
    }
    assert_eq!(messages, 20);
    // Not grown as a burst would grow it (to 128 KiB), and back to the normal size after
    // a small frame.
    assert!(inbound.spare_mut().len() <= (64 << 10) + 14);
    inbound.receive(&super::server_frame(0x82, &[1]));
    assert_eq!(inbound.poll_message(), Ok(Some(Message::Binary(vec![1]))));
    assert_eq!(inbound.spare_mut().len(), Config::DEFAULT_READ_BUFFER);
}

/// Reads into an empty read buffer start on a cache line, for the normal buffer, for one
/// grown for a large frame, and after it shrank back (the kernel's copy into user memory
/// is several times slower a few bytes past a page boundary on some CPUs).
#[test]
fn reads_into_an_empty_buffer_start_on_a_cache_line() {
    use ws_frame::{Inbound, Role};
    let aligned = |inbound: &mut Inbound| inbound.spare_mut().as_ptr() as usize % 64 == 0;
    let mut inbound = Inbound::new(Role::Client, &Config::new());
    assert!(aligned(&mut inbound));
    assert_eq!(inbound.spare_mut().len(), Config::DEFAULT_READ_BUFFER);
    // A large text frame streams through a grown buffer: each empty read is aligned.
    let text = "x".repeat(600_000);
    let mut server = Connection::server(Config::new());
    server.send(Outgoing::Text(&text)).unwrap();
    let mut wire = take_transmit(&mut server);
    wire.extend(super::server_frame(0x82, &[5; 10]));
    let mut fed = 0;
    let mut got = Vec::new();
    while fed < wire.len() {
        let empty = inbound.buffered() == 0;
        if empty {
            assert!(aligned(&mut inbound), "after {fed} bytes");
        }
        let spare = inbound.spare_mut();
        let n = spare.len().min(wire.len() - fed);
        spare[..n].copy_from_slice(&wire[fed..fed + n]);
        inbound.commit(n);
        fed += n;
        while let Some(message) = inbound.poll_message().unwrap() {
            got.push(message);
        }
    }
    assert_eq!(got, [Message::Text(text), Message::Binary(vec![5; 10])]);
    assert!(aligned(&mut inbound));
    assert_eq!(inbound.spare_mut().len(), Config::DEFAULT_READ_BUFFER);
}
