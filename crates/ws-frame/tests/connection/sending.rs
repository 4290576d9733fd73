//! What may be sent when: every refusal, large payloads in pieces, batching.

use ws_frame::{
    CloseCode, CloseEncodeError, Config, Connection, Fin, MaskKeyError, Message, OpCode, Outbound,
    Outgoing, Queued, SendError,
};

use super::{Pair, take_transmit};

fn client() -> Connection {
    Connection::client(Config::new(), super::keys())
}

#[test]
fn control_frames_over_125_bytes_are_refused() {
    let mut c = client();
    let big = [0; 126];
    assert_eq!(
        c.send(Outgoing::Ping(&big)),
        Err(SendError::ControlFrameTooLong {
            opcode: OpCode::Ping,
            len: 126
        })
    );
    assert_eq!(
        c.send(Outgoing::Pong(&big)),
        Err(SendError::ControlFrameTooLong {
            opcode: OpCode::Pong,
            len: 126
        })
    );
    assert!(
        c.poll_transmit().is_empty(),
        "a refused send queues nothing"
    );
}

#[test]
fn unsendable_close_codes_and_long_reasons_are_refused() {
    let mut c = client();
    for code in [1005u16, 1006, 1015, 999] {
        assert_eq!(
            c.send(Outgoing::Close(Some((CloseCode::from_raw(code), "")))),
            Err(SendError::Close(CloseEncodeError::UnsendableCode(
                CloseCode::from_raw(code)
            ))),
            "code {code}"
        );
    }
    let reason = "r".repeat(124);
    assert_eq!(
        c.send(Outgoing::Close(Some((CloseCode::NORMAL, &reason)))),
        Err(SendError::Close(CloseEncodeError::ReasonTooLong {
            len: 124
        }))
    );
    assert!(c.poll_transmit().is_empty());
}

#[test]
fn nothing_but_nothing_is_sent_after_our_close() {
    let mut c = client();
    c.send(Outgoing::Close(None)).unwrap();
    for message in [
        Outgoing::Text("x"),
        Outgoing::Binary(b"x"),
        Outgoing::Ping(b"x"),
        Outgoing::Pong(b"x"),
        Outgoing::Close(None),
    ] {
        assert_eq!(c.send(message), Err(SendError::CloseSent), "{message:?}");
    }
}

#[test]
fn raw_frames_are_checked_against_rfc_6455() {
    let mut c = client();
    let frame = |fin, rsv, opcode, payload| Outgoing::Frame {
        fin,
        rsv,
        opcode,
        payload,
    };
    assert_eq!(
        c.send(frame(Fin::Final, 0b100, OpCode::Binary, b"x")),
        Err(SendError::ReservedBits { bits: 0b100 })
    );
    assert_eq!(
        c.send(frame(Fin::More, 0, OpCode::Ping, b"x")),
        Err(SendError::FragmentedControlFrame {
            opcode: OpCode::Ping
        })
    );
    assert_eq!(
        c.send(frame(Fin::Final, 0, OpCode::Continuation, b"x")),
        Err(SendError::ContinuationWithoutMessage)
    );
    assert_eq!(
        c.send(frame(Fin::Final, 0, OpCode::Text, &[0xff])),
        Err(SendError::InvalidUtf8 { offset: 0 })
    );
    assert_eq!(
        c.send(frame(Fin::Final, 0, OpCode::Close, &[3])),
        Err(SendError::InvalidClosePayload)
    );
    assert_eq!(
        c.send(frame(Fin::Final, 0, OpCode::Close, &[0x03, 0xe8, 0xff])),
        Err(SendError::InvalidClosePayload)
    );
    let no_status = 1005u16.to_be_bytes();
    assert_eq!(
        c.send(frame(Fin::Final, 0, OpCode::Close, &no_status)),
        Err(SendError::Close(CloseEncodeError::UnsendableCode(
            CloseCode::NO_STATUS
        )))
    );
    assert!(c.poll_transmit().is_empty());
    c.send(frame(Fin::More, 0, OpCode::Text, b"a")).unwrap();
    assert_eq!(
        c.send(frame(Fin::Final, 0, OpCode::Binary, b"b")),
        Err(SendError::MessageInProgress { open: OpCode::Text })
    );
    c.send(frame(Fin::Final, 0, OpCode::Continuation, b"b"))
        .unwrap();
    let normal = 1000u16.to_be_bytes();
    c.send(frame(Fin::Final, 0, OpCode::Close, &normal))
        .unwrap();
}

#[test]
fn fragment_rules() {
    let mut c = client();
    assert_eq!(
        c.send(Outgoing::Fragment {
            opcode: OpCode::Close,
            payload: b"",
            fin: Fin::Final
        }),
        Err(SendError::FragmentedControlFrame {
            opcode: OpCode::Close
        })
    );
    assert_eq!(
        c.send(Outgoing::Fragment {
            opcode: OpCode::Continuation,
            payload: b"x",
            fin: Fin::Final
        }),
        Err(SendError::ContinuationWithoutMessage)
    );
    assert_eq!(
        c.send(Outgoing::Fragment {
            opcode: OpCode::Text,
            payload: &[0xc3],
            fin: Fin::Final
        }),
        Err(SendError::InvalidUtf8 { offset: 0 })
    );
    c.send(Outgoing::Fragment {
        opcode: OpCode::Binary,
        payload: b"a",
        fin: Fin::More,
    })
    .unwrap();
    assert_eq!(
        c.send(Outgoing::Text("whole")),
        Err(SendError::MessageInProgress {
            open: OpCode::Binary
        })
    );
    assert_eq!(c.outbound().open_fragment(), Some(OpCode::Binary));
}

#[test]
fn a_failing_mask_key_source_queues_nothing() {
    struct Broken;
    impl ws_frame::MaskKeys for Broken {
        fn next_key(&mut self) -> Result<[u8; 4], MaskKeyError> {
            Err(MaskKeyError::new())
        }
    }
    let mut c = Connection::client(Config::new(), Box::new(Broken));
    assert_eq!(
        c.send(Outgoing::Text("x")),
        Err(SendError::MaskKey(MaskKeyError::new()))
    );
    assert!(c.poll_transmit().is_empty());
}

#[test]
fn large_payloads_go_out_in_bounded_pieces_with_pongs_behind_them() {
    let config = Config::new().send_chunk(4096);
    let mut pair = Pair::with(config, Config::new());
    let payload: Vec<u8> = (0..20_000u32).map(|i| (i % 253) as u8).collect();
    let mut queued = pair.client.send(Outgoing::Binary(&payload)).unwrap();
    assert_eq!(queued, Queued::Partial { taken: 4096 });
    let mut offset = 0;
    let mut pieces = 0;
    // The server pings in the middle; the pong must wait for the frame's end.
    pair.server.send(Outgoing::Ping(b"mid")).unwrap();
    pair.server_to_client();
    loop {
        assert!(pair.client.poll_transmit().len() <= 4096 + 14);
        pair.client_to_server();
        pieces += 1;
        match queued {
            Queued::Done => break,
            Queued::Partial { taken } => offset += taken,
            _ => unreachable!(),
        }
        assert_eq!(
            pair.client.send(Outgoing::Text("no")),
            Err(SendError::FrameInProgress)
        );
        queued = pair.client.send_rest(&payload[offset..]).unwrap();
    }
    assert_eq!(pieces, 5);
    pair.drive();
    assert_eq!(
        pair.server_got,
        [Message::Binary(payload), Message::Pong(b"mid".to_vec())]
    );
}

#[test]
fn send_rest_without_a_frame_in_progress_is_refused() {
    let mut c = client();
    assert_eq!(
        c.send_rest(b"abc"),
        Err(SendError::NoFrameInProgress {
            given: 3,
            remaining: 0
        })
    );
    let mut c = Connection::client(Config::new().send_chunk(4096), super::keys());
    c.send(Outgoing::Binary(&[0; 5000])).unwrap();
    assert_eq!(
        c.send_rest(&[0; 905]),
        Err(SendError::NoFrameInProgress {
            given: 905,
            remaining: 904
        })
    );
}

#[test]
fn small_messages_batch_into_one_write() {
    let mut server = Outbound::server(&Config::new());
    for _ in 0..100 {
        server.send(Outgoing::Binary(&[1; 16])).unwrap();
    }
    assert_eq!(server.pending(), 100 * 18);
    server.advance(1000);
    assert_eq!(server.poll_transmit().len(), 800);
    server.advance(usize::MAX);
    assert_eq!(server.pending(), 0);
}

#[test]
fn rfc_6455_section_5_7_masked_hello() {
    let mut c = Connection::client(Config::new(), Box::new(|| [0x37, 0xfa, 0x21, 0x3d]));
    c.send(Outgoing::Text("Hello")).unwrap();
    assert_eq!(
        take_transmit(&mut c),
        [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
        ]
    );
}
