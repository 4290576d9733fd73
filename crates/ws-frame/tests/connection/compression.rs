//! permessage-deflate through the engine, with and without context takeover.

use ws_frame::deflate::Deflater;
use ws_frame::{Compression, Config, Message, Outgoing};

use super::Pair;

fn compressed_pair(client_takeover: bool, server_takeover: bool) -> Pair {
    let mut pair = Pair::new();
    pair.client.set_compression(
        Compression::new(Box::new(Deflater::new(6, false)))
            .local_context_takeover(client_takeover)
            .peer_context_takeover(server_takeover),
    );
    pair.server.set_compression(
        Compression::new(Box::new(Deflater::new(6, false)))
            .local_context_takeover(server_takeover)
            .peer_context_takeover(client_takeover),
    );
    pair
}

/// The payload lengths of the server's frames.
fn frame_lengths(wire: &[u8]) -> Vec<(u8, usize)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 2 <= wire.len() {
        let len = usize::from(wire[at + 1] & 0x7f);
        assert!(len < 126, "short frames only in this test");
        out.push((wire[at], len));
        at += 2 + len;
    }
    out
}

#[test]
fn messages_round_trip_compressed_with_context_takeover() {
    let mut pair = compressed_pair(true, true);
    let text = "a fairly compressible sentence, a fairly compressible sentence";
    for _ in 0..3 {
        pair.server.send(Outgoing::Text(text)).unwrap();
        pair.client.send(Outgoing::Text(text)).unwrap();
    }
    pair.drive();
    assert_eq!(pair.client_got, vec![Message::Text(text.into()); 3]);
    assert_eq!(pair.server_got, vec![Message::Text(text.into()); 3]);
    let frames = frame_lengths(&pair.server_wire);
    assert!(
        frames.iter().all(|(b0, _)| *b0 == 0xc1),
        "FIN + RSV1 + text"
    );
    assert!(
        frames[1].1 < frames[0].1,
        "the second message refers to the first: {frames:?}"
    );
}

#[test]
fn no_context_takeover_compresses_each_message_alone() {
    let mut pair = compressed_pair(false, false);
    let text = "a fairly compressible sentence, a fairly compressible sentence";
    for _ in 0..3 {
        pair.server.send(Outgoing::Text(text)).unwrap();
        pair.client.send(Outgoing::Binary(text.as_bytes())).unwrap();
    }
    pair.drive();
    assert_eq!(pair.client_got, vec![Message::Text(text.into()); 3]);
    assert_eq!(
        pair.server_got,
        vec![Message::Binary(text.as_bytes().to_vec()); 3]
    );
    let frames = frame_lengths(&pair.server_wire);
    assert_eq!(frames[0], frames[1]);
    assert_eq!(frames[1], frames[2]);
}

#[test]
fn messages_under_the_threshold_go_uncompressed() {
    let mut pair = compressed_pair(true, true);
    pair.server.send(Outgoing::Text("tiny")).unwrap();
    pair.drive();
    assert_eq!(pair.server_wire, [0x81, 0x04, b't', b'i', b'n', b'y']);
    assert_eq!(pair.client_got, [Message::Text("tiny".into())]);
}

#[test]
fn a_zip_bomb_fails_with_1009() {
    let mut pair = compressed_pair(true, true);
    let mut client = ws_frame::Connection::client(
        Config::new().limits(ws_frame::Limits::default().max_message_size(Some(1000))),
        super::keys(),
    );
    client.set_compression(Compression::new(Box::new(Deflater::new(6, false))));
    pair.server
        .send(Outgoing::Binary(&vec![0; 100_000]))
        .unwrap();
    let wire = super::take_transmit(&mut pair.server);
    client.receive(&wire);
    assert!(matches!(
        client.poll_message(),
        Err(ws_frame::RecvError::Frame(ws_frame::Error::Protocol(
            ws_frame::ProtocolError::MessageTooLarge { limit: 1000, .. }
        )))
    ));
}
