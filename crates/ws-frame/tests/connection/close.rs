//! Every close path: either side first, both at once, timeouts, after errors, pings after
//! our close, invalid close payloads.

use ws_frame::{
    CloseCode, CloseInfo, Config, Connection, Message, Outgoing, ProtocolError, RecvError,
    SendError, State,
};

use super::{Pair, secs, take_transmit};

/// The close frames (opcode 8) in a server's unmasked wire bytes, as their payloads.
fn server_closes(wire: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= wire.len() {
        let len = usize::from(wire[at + 1] & 0x7f);
        if wire[at] & 0x0f == 8 {
            out.push(wire[at + 2..at + 2 + len].to_vec());
        }
        at += 2 + len;
    }
    out
}

#[test]
fn client_closes_first_and_the_server_echoes() {
    let mut pair = Pair::new();
    pair.client
        .send(Outgoing::Close(Some((CloseCode::NORMAL, "bye"))))
        .unwrap();
    assert_eq!(pair.client.state(), State::Closing);
    pair.drive();
    assert_eq!(
        pair.server_got,
        [Message::Close(Some((CloseCode::NORMAL, "bye".into())))]
    );
    assert_eq!(
        pair.client_got,
        [Message::Close(Some((CloseCode::NORMAL, String::new())))]
    );
    assert_eq!(
        server_closes(&pair.server_wire),
        [1000u16.to_be_bytes().to_vec()]
    );
    assert_eq!(pair.server.state(), State::Closed);
    assert!(
        pair.server.should_shut(),
        "the server closes the TCP connection first"
    );
    assert_eq!(pair.client.state(), State::Closed);
    assert!(
        !pair.client.should_shut(),
        "the client waits for the server's FIN"
    );
    pair.client.receive_eof();
    assert!(pair.client.should_shut());
    assert_eq!(
        pair.client.poll_message(),
        Err(RecvError::Closed {
            code: Some(CloseCode::NORMAL),
            reason: String::new()
        })
    );
}

#[test]
fn server_closes_first_and_the_client_echoes_then_waits_for_the_fin() {
    let mut pair = Pair::new();
    pair.server
        .send(Outgoing::Close(Some((CloseCode::GOING_AWAY, "restart"))))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_got,
        [Message::Close(Some((
            CloseCode::GOING_AWAY,
            "restart".into()
        )))]
    );
    let info: &CloseInfo = pair.client.close_frame().unwrap();
    assert_eq!(
        (info.code, info.reason.as_str()),
        (Some(CloseCode::GOING_AWAY), "restart")
    );
    assert_eq!(
        pair.server_got,
        [Message::Close(Some((CloseCode::GOING_AWAY, String::new())))]
    );
    assert!(pair.server.should_shut());
    assert!(!pair.client.should_shut());
    // The server never closes TCP: the close timeout ends the wait.
    assert_eq!(
        pair.client.poll_timeout(),
        Some(secs(0)),
        "asks for the time"
    );
    pair.client.handle_timeout(secs(100));
    assert_eq!(pair.client.poll_timeout(), Some(secs(103)));
    pair.client.handle_timeout(secs(102));
    assert!(!pair.client.should_shut());
    pair.client.handle_timeout(secs(103));
    assert!(pair.client.should_shut());
}

#[test]
fn both_close_at_once_and_neither_echoes() {
    let mut pair = Pair::new();
    pair.client
        .send(Outgoing::Close(Some((CloseCode::NORMAL, "c"))))
        .unwrap();
    pair.server
        .send(Outgoing::Close(Some((CloseCode::NORMAL, "s"))))
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_got,
        [Message::Close(Some((CloseCode::NORMAL, "s".into())))]
    );
    assert_eq!(
        pair.server_got,
        [Message::Close(Some((CloseCode::NORMAL, "c".into())))]
    );
    assert_eq!(
        server_closes(&pair.server_wire).len(),
        1,
        "one close frame each way"
    );
    assert_eq!(pair.client.state(), State::Closed);
    assert_eq!(pair.server.state(), State::Closed);
}

#[test]
fn close_timeout_ends_a_close_the_peer_never_answers() {
    let mut client = Connection::client(Config::new(), super::keys());
    client.set_close_timeout(Some(secs(3)));
    client.handle_timeout(secs(50));
    client
        .send(Outgoing::Close(Some((CloseCode::NORMAL, ""))))
        .unwrap();
    let _ = take_transmit(&mut client);
    assert_eq!(client.poll_timeout(), Some(secs(0)));
    client.handle_timeout(secs(50));
    assert_eq!(client.poll_timeout(), Some(secs(53)));
    client.handle_timeout(secs(53));
    assert!(client.should_shut());
    assert_eq!(client.state(), State::Closed);
    assert_eq!(
        client.poll_message(),
        Err(RecvError::CloseTimeout { timeout: secs(3) })
    );
    assert!(matches!(
        client.poll_message(),
        Err(RecvError::Closed { code: None, .. })
    ));
}

#[test]
fn no_close_timeout_waits_without_limit() {
    let mut client = Connection::client(Config::new(), super::keys());
    client.set_close_timeout(None);
    client.send(Outgoing::Close(None)).unwrap();
    assert_eq!(client.poll_timeout(), None);
    assert!(!client.should_shut());
}

#[test]
fn a_protocol_error_sends_1002_and_the_peer_sees_it() {
    let mut pair = Pair::new();
    // An unmasked frame from the "client": the server must fail with 1002.
    pair.server.receive(&[0x81, 0x01, b'x']);
    assert_eq!(
        pair.server.poll_message(),
        Err(RecvError::Frame(ws_frame::Error::Protocol(
            ProtocolError::UnmaskedFrameFromClient
        )))
    );
    assert!(pair.server.should_shut());
    pair.drive();
    assert_eq!(
        pair.client_got,
        [Message::Close(Some((
            CloseCode::PROTOCOL_ERROR,
            String::new()
        )))]
    );
    assert_eq!(
        pair.server.send(Outgoing::Text("late")),
        Err(SendError::CloseSent)
    );
}

#[test]
fn a_ping_after_our_close_gets_no_pong() {
    let mut pair = Pair::new();
    pair.client.send(Outgoing::Close(None)).unwrap();
    let _ = take_transmit(&mut pair.client);
    pair.client
        .receive(&super::server_frame(0x89, b"late ping"));
    assert_eq!(
        pair.client.poll_message(),
        Ok(Some(Message::Ping(b"late ping".to_vec())))
    );
    assert!(pair.client.poll_transmit().is_empty());
}

#[test]
fn data_still_arrives_after_our_close_until_the_peer_closes() {
    let mut client = Connection::client(Config::new(), super::keys());
    client.send(Outgoing::Close(None)).unwrap();
    client.receive(&super::server_frame(0x81, b"in flight"));
    client.receive(&super::server_frame(0x88, &1000u16.to_be_bytes()));
    assert_eq!(
        client.poll_message(),
        Ok(Some(Message::Text("in flight".into())))
    );
    assert_eq!(
        client.poll_message(),
        Ok(Some(Message::Close(Some((
            CloseCode::NORMAL,
            String::new()
        )))))
    );
    assert_eq!(client.state(), State::Closed);
}

#[test]
fn invalid_close_codes_fail_the_connection_with_1002() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        let mut client = Connection::client(Config::new(), super::keys());
        client.receive(&super::server_frame(0x88, &code.to_be_bytes()));
        assert_eq!(
            client.poll_message(),
            Err(RecvError::Frame(ws_frame::Error::Protocol(
                ProtocolError::InvalidCloseCode(code)
            ))),
            "code {code}"
        );
        let wire = take_transmit(&mut client);
        let sent = [wire[6] ^ wire[2], wire[7] ^ wire[3]];
        assert_eq!(u16::from_be_bytes(sent), 1002, "code {code}");
    }
}

#[test]
fn a_one_byte_close_payload_fails_with_1002() {
    let mut client = Connection::client(Config::new(), super::keys());
    client.receive(&super::server_frame(0x88, &[3]));
    assert_eq!(
        client.poll_message(),
        Err(RecvError::Frame(ws_frame::Error::Protocol(
            ProtocolError::CloseFrameTooShort
        )))
    );
}

#[test]
fn an_empty_close_is_echoed_with_1000() {
    let mut pair = Pair::new();
    pair.server.send(Outgoing::Close(None)).unwrap();
    pair.drive();
    assert_eq!(pair.client_got, [Message::Close(None)]);
    assert_eq!(
        pair.server_got,
        [Message::Close(Some((CloseCode::NORMAL, String::new())))]
    );
}

#[test]
fn eof_after_the_close_frame_is_a_clean_end() {
    let mut client = Connection::client(Config::new(), super::keys());
    client.receive(&super::server_frame(0x88, &1000u16.to_be_bytes()));
    client.receive_eof();
    assert!(matches!(client.poll_message(), Ok(Some(Message::Close(_)))));
    assert_eq!(
        client.poll_message(),
        Err(RecvError::Closed {
            code: Some(CloseCode::NORMAL),
            reason: String::new()
        })
    );
    assert!(client.should_shut());
}

#[test]
fn eof_closes_even_when_a_raw_close_frame_was_not_answered() {
    // In frame mode the engine does not echo; the end of input still ends everything.
    let mut client = Connection::client(Config::new(), super::keys());
    client.receive(&super::server_frame(0x88, &1000u16.to_be_bytes()));
    let frame = client.poll_frame().unwrap().unwrap();
    assert_eq!(frame.header.opcode, ws_frame::OpCode::Close);
    assert_eq!(client.state(), State::Closing);
    client.receive_eof();
    assert_eq!(client.state(), State::Closed);
    assert!(client.should_shut());
}
