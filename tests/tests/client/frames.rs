//! Frames: fragmentation both ways, pings and pongs, raw frames, exact bytes on the wire
//! with a fixed mask key, and the checks that keep invalid frames off the wire.

use std::io::Write;

use ws_client::{CloseCode, Error, Fin, Frame, Message, OpCode};
use ws_frame::{CloseEncodeError, SendError};
use ws_tests::{
    Tls, accept_raw, read_client_frame, server_frame, tcp_server, tungstenite, ws_server,
};

use crate::client;

#[test]
fn sent_fragments_are_reassembled_by_the_server() {
    let peer = ws_server(1, Tls::Off, &[], ws_tests::echo);
    let mut ws = client().connect(&peer.url("/")).unwrap();
    // "héllo" split inside the two-byte "é".
    ws.send_fragment(OpCode::Text, b"h\xc3", Fin::More).unwrap();
    ws.ping(b"between fragments").unwrap();
    ws.send_fragment(OpCode::Continuation, b"\xa9l", Fin::More)
        .unwrap();
    ws.send_fragment(OpCode::Continuation, b"lo", Fin::Final)
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("héllo".into()));
    ws.send_fragment(OpCode::Binary, &[1, 2], Fin::More)
        .unwrap();
    ws.send_fragment(OpCode::Continuation, &[3], Fin::Final)
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![1, 2, 3]));
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn received_fragments_are_reassembled_with_control_frames_between() {
    let peer = tcp_server(1, |mut tcp| {
        let mut frames = server_frame(false, 1, b"frag");
        frames.extend(server_frame(true, 9, b"are you there"));
        frames.extend(server_frame(false, 0, b"mented "));
        frames.extend(server_frame(true, 0, "mässage".as_bytes()));
        accept_raw(&mut tcp, &frames);
        // The automatic pong, with the ping's payload.
        let pong = read_client_frame(&mut tcp);
        assert_eq!(
            (pong.opcode, pong.payload.as_slice()),
            (10, &b"are you there"[..])
        );
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("fragmented mässage".into())
    );
    peer.join();
}

#[test]
fn bytes_sent_right_behind_the_handshake_are_the_first_frames() {
    let peer = tcp_server(1, |mut tcp| {
        let mut frames = server_frame(true, 1, b"early");
        frames.extend(server_frame(true, 2, &[9; 300]));
        accept_raw(&mut tcp, &frames);
        let _ = read_client_frame(&mut tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("early".into()));
    assert_eq!(ws.recv().unwrap(), Message::Binary(vec![9; 300]));
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();
    peer.join();
}

#[test]
fn pings_are_answered_and_pongs_returned_on_request() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = ws_server(1, Tls::Off, &[], move |ws| {
        ws.send(tungstenite::Message::Ping(b"server ping".to_vec().into()))
            .unwrap();
        ws.send(tungstenite::Message::text("after ping")).unwrap();
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Pong(p)) => tx.send(p.to_vec()).unwrap(),
                Ok(_) => {}
                Err(_) => return,
            }
        }
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    // recv skips the ping (answering it) and returns the text.
    assert_eq!(ws.recv().unwrap(), Message::Text("after ping".into()));
    assert_eq!(
        rx.recv_timeout(ws_tests::TIMEOUT).unwrap(),
        b"server ping".to_vec()
    );
    // Our ping gets tungstenite's pong, which recv_with_control returns.
    ws.ping(b"client ping").unwrap();
    assert_eq!(
        ws.recv_with_control().unwrap(),
        Message::Pong(b"client ping".to_vec())
    );
    ws.ping(b"again").unwrap();
    assert_eq!(
        ws.recv_data(ws_client::Controls::Return).unwrap(),
        (OpCode::Pong, b"again".to_vec())
    );
    // An unsolicited pong reaches the server as is.
    ws.pong(b"heartbeat").unwrap();
    assert_eq!(
        rx.recv_timeout(ws_tests::TIMEOUT).unwrap(),
        b"heartbeat".to_vec()
    );
    ws.close(CloseCode::NORMAL, "", None).unwrap();
    peer.join();
}

#[test]
fn auto_pong_can_be_turned_off() {
    let peer = tcp_server(1, |mut tcp| {
        let mut frames = server_frame(true, 9, b"p1");
        frames.extend(server_frame(true, 1, b"t"));
        accept_raw(&mut tcp, &frames);
        // The first frame from the client is its close, not a pong.
        let frame = read_client_frame(&mut tcp);
        assert_eq!(frame.opcode, 8);
    });
    let mut ws = client()
        .connection(ws_frame::Config::new().ping_reply(ws_frame::PingReply::Manual))
        .connect(&peer.url("/"))
        .unwrap();
    assert_eq!(
        ws.recv_with_control().unwrap(),
        Message::Ping(b"p1".to_vec())
    );
    assert_eq!(ws.recv().unwrap(), Message::Text("t".into()));
    ws.close(
        CloseCode::NORMAL,
        "",
        Some(std::time::Duration::from_millis(200)),
    )
    .unwrap();
    peer.join();
}

#[test]
fn recv_frame_returns_raw_frames_without_reassembly() {
    let peer = tcp_server(1, |mut tcp| {
        let mut frames = server_frame(false, 2, b"ab");
        frames.extend(server_frame(true, 9, b"p"));
        frames.extend(server_frame(true, 0, b"c"));
        accept_raw(&mut tcp, &frames);
        let _ = read_client_frame(&mut tcp);
    });
    let mut ws = client().connect(&peer.url("/")).unwrap();
    let first = ws.recv_frame().unwrap();
    assert_eq!(
        (first.fin, first.opcode, first.payload.as_slice()),
        (Fin::More, OpCode::Binary, &b"ab"[..])
    );
    let ping = ws.recv_frame().unwrap();
    assert_eq!(
        (ping.opcode, ping.payload.as_slice()),
        (OpCode::Ping, &b"p"[..])
    );
    let last = ws.recv_frame().unwrap();
    assert_eq!(
        (last.fin, last.opcode, last.payload.as_slice()),
        (Fin::Final, OpCode::Continuation, &b"c"[..])
    );
    ws.close(
        CloseCode::NORMAL,
        "",
        Some(std::time::Duration::from_millis(200)),
    )
    .unwrap();
    peer.join();
}

#[test]
fn a_fixed_mask_key_gives_the_rfc_example_bytes() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        let mut raw = [0; 11];
        std::io::Read::read_exact(&mut tcp, &mut raw).unwrap();
        // RFC 6455 section 5.7: a masked "Hello".
        assert_eq!(
            raw,
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        tcp.flush().unwrap();
    });
    let ws = client()
        .mask_key_fn(|| [0x37, 0xfa, 0x21, 0x3d])
        .connect(&peer.url("/"))
        .unwrap();
    ws.send_text("Hello").unwrap();
    peer.join();
}

#[test]
fn invalid_frames_are_refused_before_anything_is_written() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        // The first frame to arrive is the valid one sent after all the refusals.
        let frame = read_client_frame(&mut tcp);
        assert_eq!((frame.opcode, frame.payload.as_slice()), (1, &b"valid"[..]));
    });
    let ws = client().connect(&peer.url("/")).unwrap();
    let refused = [
        (
            Frame::new(OpCode::Ping, vec![0; 126]),
            SendError::ControlFrameTooLong {
                opcode: OpCode::Ping,
                len: 126,
            },
        ),
        (
            Frame::new(OpCode::Ping, b"x".to_vec()).with_fin(Fin::More),
            SendError::FragmentedControlFrame {
                opcode: OpCode::Ping,
            },
        ),
        (
            Frame::new(OpCode::Text, b"x".to_vec()).with_rsv(0b100),
            SendError::ReservedBits { bits: 0b100 },
        ),
        (
            Frame::new(OpCode::Close, 1005u16.to_be_bytes().to_vec()),
            SendError::Close(CloseEncodeError::UnsendableCode(CloseCode::NO_STATUS)),
        ),
        (
            Frame::new(OpCode::Close, 999u16.to_be_bytes().to_vec()),
            SendError::Close(CloseEncodeError::UnsendableCode(CloseCode::from_raw(999))),
        ),
        (
            Frame::new(OpCode::Close, vec![3]),
            SendError::InvalidClosePayload,
        ),
        (
            Frame::new(OpCode::Continuation, b"x".to_vec()),
            SendError::ContinuationWithoutMessage,
        ),
        (
            Frame::new(OpCode::Text, b"\xff".to_vec()),
            SendError::InvalidUtf8 { offset: 0 },
        ),
    ];
    for (frame, expected) in &refused {
        match ws.send_frame(frame) {
            Err(Error::InvalidFrame(e)) => assert_eq!(&e, expected, "{frame:?}"),
            other => panic!("{frame:?}: {other:?}"),
        }
    }
    assert!(matches!(
        ws.ping(&[0; 126]),
        Err(Error::InvalidFrame(SendError::ControlFrameTooLong {
            len: 126,
            ..
        }))
    ));
    assert!(matches!(
        ws.send_fragment(OpCode::Ping, b"x", Fin::More),
        Err(Error::InvalidFrame(SendError::FragmentedControlFrame {
            opcode: OpCode::Ping
        }))
    ));
    assert!(matches!(
        ws.sender().send_close(CloseCode::ABNORMAL, ""),
        Err(Error::InvalidFrame(SendError::Close(
            CloseEncodeError::UnsendableCode(CloseCode::ABNORMAL)
        )))
    ));
    ws.send_frame(&Frame::new(OpCode::Text, b"valid".to_vec()))
        .unwrap();
    peer.join();
}
