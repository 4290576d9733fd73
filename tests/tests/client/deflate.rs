//! permessage-deflate (RFC 7692): interoperability with Python `websockets` in both
//! context-takeover modes, compressed bytes on the wire, and a peer that misbehaves
//! (a zip bomb, RSV1 where it does not belong, a broken negotiation answer).

use std::io::{Read, Write};
use std::net::TcpStream;

use ws_client::{CloseCode, DeflateOffer, DeflateOptions, Error, Message, OpCode};
use ws_frame::deflate::{Deflater, Inflater};
use ws_frame::{Limits, ProtocolError};
use ws_tests::{
    PythonPeer, header_value, read_request_head, server_frame, tcp_server, tungstenite,
};

use crate::client;

/// Varied, compressible messages of 100 bytes to 20 KiB.
fn messages() -> Vec<String> {
    (0..60)
        .map(|i| {
            let item = format!(
                "{{\"id\":{i},\"name\":\"item {}\",\"tags\":[\"a\",\"b\"]}},",
                i * 7
            );
            item.repeat(1 + (i * 37) % 300)
        })
        .collect()
}

fn echo_all(ws: &mut ws_client::WebSocket) {
    for (i, text) in messages().iter().enumerate() {
        if i % 2 == 0 {
            ws.send_text(text).unwrap();
            assert_eq!(ws.recv().unwrap(), Message::Text(text.clone()));
        } else {
            ws.send_binary(text.as_bytes()).unwrap();
            assert_eq!(
                ws.recv().unwrap(),
                Message::Binary(text.clone().into_bytes())
            );
        }
    }
    // Large, and under the threshold.
    let big = "all work and no play makes jack a dull boy. ".repeat(20_000);
    ws.send_text(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text(big));
    ws.send_text("hi").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("hi".into()));
}

#[test]
fn python_websockets_with_context_takeover() {
    let peer = PythonPeer::start_script("ws_deflate_server.py");
    let mut ws = client()
        .deflate(Some(DeflateOptions::new()))
        .connect(&peer.url("/extensions"))
        .unwrap();
    // websockets answers with 12-bit windows both ways, context takeover kept.
    let Message::Text(answer) = ws.recv().unwrap() else {
        panic!("expected the extension header")
    };
    assert_eq!(
        answer,
        "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
    );
    let params = ws.deflate_params().unwrap();
    assert_eq!(
        (params.client_max_window_bits, params.server_max_window_bits),
        (12, 12)
    );
    assert!(!params.client_no_context_takeover && !params.server_no_context_takeover);
    echo_all(&mut ws);
    // The server's frames really are compressed (RSV1 on the first frame).
    ws.send_text(&"x".repeat(100)).unwrap();
    let frame = ws.recv_frame().unwrap();
    assert_eq!((frame.rsv, frame.opcode), (0b100, OpCode::Text));
    assert_eq!(frame.payload, "x".repeat(100).into_bytes());
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();
}

#[test]
fn python_websockets_without_context_takeover() {
    let peer = PythonPeer::start_script("ws_deflate_server.py");
    let mut ws = client()
        .deflate(Some(
            DeflateOptions::new().level(9).offer(
                DeflateOffer::new()
                    .client_no_context_takeover()
                    .server_no_context_takeover()
                    .server_max_window_bits(10)
                    .client_max_window_bits(Some(9)),
            ),
        ))
        .connect(&peer.url("/extensions"))
        .unwrap();
    let Message::Text(answer) = ws.recv().unwrap() else {
        panic!("expected the extension header")
    };
    assert_eq!(
        answer,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=9"
    );
    let params = ws.deflate_params().unwrap();
    assert_eq!(
        (params.client_max_window_bits, params.server_max_window_bits),
        (9, 10)
    );
    assert!(params.client_no_context_takeover && params.server_no_context_takeover);
    echo_all(&mut ws);
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();
}

#[test]
fn compression_is_off_unless_asked_for() {
    let peer = PythonPeer::start_script("ws_deflate_server.py");
    let mut ws = client().connect(&peer.url("/extensions")).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text(String::new()));
    assert!(!ws.is_compressed());
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();
}

/// Answers the upgrade by hand with `extensions` as `Sec-WebSocket-Extensions`, then
/// writes `frames`; returns the request head.
fn accept_with(stream: &mut TcpStream, extensions: &str, frames: &[u8]) -> String {
    let head = read_request_head(stream);
    let key = header_value(&head, "Sec-WebSocket-Key").unwrap();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
    )
    .into_bytes();
    response.extend_from_slice(frames);
    stream.write_all(&response).unwrap();
    head
}

/// Reads one client frame: its first byte (FIN, RSV, opcode) and unmasked payload.
fn read_raw_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0; 2];
    stream.read_exact(&mut head).unwrap();
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0; 2];
            stream.read_exact(&mut b).unwrap();
            usize::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0; 8];
            stream.read_exact(&mut b).unwrap();
            usize::try_from(u64::from_be_bytes(b)).unwrap()
        }
        n => usize::from(n),
    };
    let mut key = [0; 4];
    stream.read_exact(&mut key).unwrap();
    let mut payload = vec![0; len];
    stream.read_exact(&mut payload).unwrap();
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    (head[0], payload)
}

#[test]
fn whole_messages_go_out_compressed_with_rsv1_short_ones_as_they_are() {
    let peer = tcp_server(1, |mut tcp| {
        let head = accept_with(
            &mut tcp,
            "permessage-deflate; client_no_context_takeover",
            b"",
        );
        assert_eq!(
            header_value(&head, "Sec-WebSocket-Extensions"),
            Some("permessage-deflate; client_max_window_bits")
        );
        let mut inflater = Inflater::new(true);
        let (first, payload) = read_raw_frame(&mut tcp);
        assert_eq!(first, 0xC1, "FIN + RSV1 + text");
        let mut out = Vec::new();
        inflater.inflate(&payload, &mut out, None).unwrap();
        inflater.finish(&mut out, None).unwrap();
        assert_eq!(out, "Hello, Hello, Hello, Hello, Hello, Hello!".as_bytes());
        assert!(payload.len() < out.len());
        let (first, payload) = read_raw_frame(&mut tcp);
        assert_eq!((first, payload.as_slice()), (0x81, &b"short"[..]));
        // Fragments the caller sends stay as they are.
        let (first, payload) = read_raw_frame(&mut tcp);
        assert_eq!((first, payload.len()), (0x02, 40));
        let (first, _) = read_raw_frame(&mut tcp);
        assert_eq!(first, 0x80);
    });
    let ws = client()
        .deflate(Some(DeflateOptions::new()))
        .connect(&peer.url("/"))
        .unwrap();
    assert!(ws.deflate_params().unwrap().client_no_context_takeover);
    ws.send_text("Hello, Hello, Hello, Hello, Hello, Hello!")
        .unwrap();
    ws.send_text("short").unwrap();
    ws.send_fragment(OpCode::Binary, &[7; 40], ws_frame::Fin::More)
        .unwrap();
    ws.send_fragment(OpCode::Continuation, &[7; 40], ws_frame::Fin::Final)
        .unwrap();
    peer.join();
}

/// A compressed frame with RSV1 set, as a server sends it.
fn compressed_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut wire = Vec::new();
    Deflater::new(9, false).compress(payload, &mut wire);
    let mut frame = server_frame(true, opcode, &wire);
    frame[0] |= 0x40;
    frame
}

#[test]
fn a_zip_bomb_fails_with_1009_before_it_is_inflated() {
    // 32 MiB of zeros is about 32 KiB compressed: far under the frame limit, far over
    // the message limit once inflated.
    let zeros = vec![0u8; 32 << 20];
    let bomb = compressed_frame(2, &zeros);
    drop(zeros);
    assert!(bomb.len() < 64 << 10, "{}", bomb.len());
    let peer = tcp_server(1, move |mut tcp| {
        accept_with(&mut tcp, "permessage-deflate", &bomb);
        let (first, payload) = read_raw_frame(&mut tcp);
        assert_eq!(first, 0x88, "a close frame");
        assert_eq!(payload[..2], 1009u16.to_be_bytes());
    });
    let mut ws = client()
        .deflate(Some(DeflateOptions::new()))
        .connection(
            ws_frame::Config::new().limits(Limits::default().max_message_size(Some(1 << 20))),
        )
        .connect(&peer.url("/"))
        .unwrap();
    match ws.recv() {
        Err(Error::Protocol(ProtocolError::MessageTooLarge { len, limit })) => {
            assert_eq!((len, limit), ((1 << 20) + 1, 1 << 20));
        }
        other => panic!("expected MessageTooLarge, got {other:?}"),
    }
    peer.join();
}

#[test]
fn rsv1_on_a_continuation_frame_fails_with_1002() {
    let mut frames = compressed_frame(1, b"Hello there, compressed");
    frames[0] &= 0x7f; // not final
    let mut cont = server_frame(true, 0, &[0x00]);
    cont[0] |= 0x40;
    frames.extend(cont);
    let peer = tcp_server(1, move |mut tcp| {
        accept_with(&mut tcp, "permessage-deflate", &frames);
        let (first, payload) = read_raw_frame(&mut tcp);
        assert_eq!(first, 0x88);
        assert_eq!(payload[..2], 1002u16.to_be_bytes());
    });
    let mut ws = client()
        .deflate(Some(DeflateOptions::new()))
        .connect(&peer.url("/"))
        .unwrap();
    assert_eq!(
        ws.recv().unwrap_err().to_string(),
        Error::Protocol(ProtocolError::MisplacedRsv1 {
            opcode: OpCode::Continuation
        })
        .to_string()
    );
    peer.join();
}

#[test]
fn compressed_messages_are_inflated_across_fragments_and_pings() {
    let text = "fragmented and compressed, fragmented and compressed".repeat(20);
    let mut wire = Vec::new();
    Deflater::new(6, false).compress(text.as_bytes(), &mut wire);
    let (a, b) = wire.split_at(wire.len() / 2);
    let mut frames = server_frame(false, 1, a);
    frames[0] |= 0x40;
    frames.extend(server_frame(true, 9, b"ping"));
    frames.extend(server_frame(true, 0, b));
    let peer = tcp_server(1, move |mut tcp| {
        accept_with(&mut tcp, "permessage-deflate", &frames);
        let (first, payload) = read_raw_frame(&mut tcp);
        assert_eq!((first, payload.as_slice()), (0x8A, &b"ping"[..]));
    });
    let mut ws = client()
        .deflate(Some(DeflateOptions::new()))
        .connect(&peer.url("/"))
        .unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text(text));
    peer.join();
}

#[test]
fn a_deflate_answer_breaking_rfc_7692_fails_the_handshake() {
    let peer = tcp_server(1, |mut tcp| {
        accept_with(
            &mut tcp,
            "permessage-deflate; server_max_window_bits=16",
            b"",
        );
    });
    let err = client()
        .deflate(Some(DeflateOptions::new()))
        .connect(&peer.url("/"))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "permessage-deflate negotiation failed: parameter server_max_window_bits has value \
         \"16\", expected 8 to 15 (RFC 7692 section 7.1.2)"
    );
    peer.join();
}
