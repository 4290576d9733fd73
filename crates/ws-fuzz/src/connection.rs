//! Fuzzes the connection engine in both roles: arbitrary received bytes interleaved with
//! arbitrary sends, timeouts and the end of input.
//!
//! Input layout: byte 0 picks the role (bit 0), compression (bit 1), frame mode (bit 2)
//! and lent messages (bit 3); then a script of operations, each one opcode byte and an
//! argument byte. Checks: no panic; every byte the engine writes decodes cleanly in a peer
//! engine of the other role (the engine never emits an invalid frame); with lent messages
//! (`poll_message_ref`), a twin engine fed the same script and polled for owned messages
//! gives the same messages, errors and bytes; after the end of input, receiving ends and
//! the engine asks to shut the transport; after a close frame and its timeout it does too.

use std::time::Duration;

use ws_frame::deflate::Deflater;
use ws_frame::{
    Compression, Config, Connection, Fin, Limits, Message, OpCode, Outgoing, RecvError, State,
};

fn engine(client: bool, config: Config) -> Connection {
    if client {
        let mut n = 0u8;
        Connection::client(
            config,
            Box::new(move || {
                n = n.wrapping_add(7);
                [n, 1, 2, 3]
            }),
        )
    } else {
        Connection::server(config)
    }
}

/// The keepalive of the engine under test.
const PING_INTERVAL: Duration = Duration::from_secs(5);
const PONG_TIMEOUT: Duration = Duration::from_secs(2);

fn config() -> Config {
    Config::new()
        .limits(
            Limits::default()
                .max_frame_size(Some(1 << 12))
                .max_message_size(Some(1 << 14)),
        )
        .send_chunk(4096)
}

/// Runs the checks on one input; panics on a finding.
pub fn run(data: &[u8]) {
    let Some((&ctl, script)) = data.split_first() else {
        return;
    };
    let client = ctl & 1 == 0;
    let compressed = ctl & 2 != 0;
    let frames = ctl & 4 != 0;
    let lent = ctl & 8 != 0;
    let mut conn = engine(client, config());
    conn.set_keepalive(Some(PING_INTERVAL), Some(PONG_TIMEOUT), b"ka");
    // A peer of the other role checks every byte we write.
    let mut peer = engine(!client, Config::new().limits(Limits::unlimited()));
    if compressed {
        conn.set_compression(Compression::new(Box::new(Deflater::new(1, false))));
        peer.set_compression(Compression::new(Box::new(Deflater::new(1, false))));
    }
    let mut twin = lent.then(|| {
        let mut twin = engine(client, config());
        twin.set_keepalive(Some(PING_INTERVAL), Some(PONG_TIMEOUT), b"ka");
        if compressed {
            twin.set_compression(Compression::new(Box::new(Deflater::new(1, false))));
        }
        twin
    });
    let mut now = Duration::ZERO;
    let mut twin_now = Duration::ZERO;
    let mut at = 0;
    let payload: Vec<u8> = (0..=255u8).cycle().take(9000).collect();
    while let Some(&[op, arg]) = script.get(at..at + 2).and_then(|s| s.first_chunk::<2>()) {
        at += 2;
        let next = step(&mut conn, op, arg, script, at, &mut now, &payload);
        if let Some(twin) = twin.as_mut() {
            // The twin takes the same step on its own clock, which stays equal to ours.
            step(twin, op, arg, script, at, &mut twin_now, &payload);
            let ours = poll_lent(&mut conn);
            let theirs = poll_owned(twin);
            assert_eq!(ours, theirs, "lent and owned messages differ");
            assert_eq!(
                conn.poll_transmit(),
                twin.poll_transmit(),
                "lent and owned receiving wrote different bytes"
            );
            let n = twin.poll_transmit().len();
            twin.advance(n);
        } else {
            poll(&mut conn, frames);
        }
        at = next;
        let out = conn.poll_transmit().to_vec();
        conn.advance(out.len());
        peer.receive(&out);
        loop {
            match peer.poll_message() {
                Ok(Some(_)) => {}
                Ok(None) | Err(RecvError::Closed { .. }) => break,
                Err(e) => panic!("the engine wrote bytes its peer rejects: {e}"),
            }
        }
    }
    // The end of input always ends receiving and asks for the transport to be shut.
    conn.receive_eof();
    poll(&mut conn, frames);
    assert!(conn.should_shut(), "eof must end the connection");
    assert_eq!(conn.state(), State::Closed);
}

/// Applies one operation of the script to `conn`; returns where the next one starts.
fn step(
    conn: &mut Connection,
    op: u8,
    arg: u8,
    script: &[u8],
    mut at: usize,
    now: &mut Duration,
    payload: &[u8],
) -> usize {
    let n = usize::from(arg);
    match op % 10 {
        0 => {
            // Received bytes: the next `arg` bytes of the script.
            let bytes = script
                .get(at..(at + n).min(script.len()))
                .unwrap_or_default();
            at += bytes.len();
            conn.receive(bytes);
        }
        1 => {
            let text = core::str::from_utf8(&payload[..n.min(payload.len())]).unwrap_or("é");
            let _ = conn.send(Outgoing::Text(text));
        }
        2 => {
            let len = n * 40;
            if let Ok(ws_frame::Queued::Partial { mut taken }) =
                conn.send(Outgoing::Binary(&payload[..len.min(payload.len())]))
            {
                while let Ok(q) = conn.send_rest(&payload[taken..len.min(payload.len())]) {
                    match q {
                        ws_frame::Queued::Partial { taken: t } => taken += t,
                        _ => break,
                    }
                }
            }
        }
        3 => {
            let _ = conn.send(Outgoing::Ping(&payload[..n.min(125)]));
        }
        4 => {
            let code = ws_frame::CloseCode::from_raw(1000 + u16::from(arg % 16));
            let _ = conn.send(Outgoing::Close(Some((code, "bye"))));
        }
        5 => {
            *now += Duration::from_millis(u64::from(arg) * 50);
            conn.handle_timeout(*now);
        }
        6 => conn.receive_eof(),
        7 => {
            let opcode = if arg & 1 == 0 {
                OpCode::Text
            } else {
                OpCode::Continuation
            };
            let _ = conn.send(Outgoing::Fragment {
                opcode,
                payload: &payload[..n % 64],
                fin: Fin::from(arg & 2 != 0),
            });
        }
        8 => {
            let _ = conn.send(Outgoing::Frame {
                fin: Fin::from(arg & 1 != 0),
                rsv: (arg >> 1) & 7,
                opcode: OpCode::try_from(arg >> 4).unwrap_or(OpCode::Binary),
                payload: &payload[..usize::from(arg % 130)],
            });
        }
        _ => {
            let pending = conn.poll_transmit().len();
            conn.advance(n.min(pending));
        }
    }
    at
}

/// Everything `conn` delivers now, lent, as owned copies (errors as their text).
fn poll_lent(conn: &mut Connection) -> Vec<Result<Message, String>> {
    let mut got = Vec::new();
    for _ in 0..10_000 {
        match conn.poll_message_ref() {
            Ok(Some(m)) => got.push(Ok(Message::from(m))),
            Ok(None) => break,
            Err(e) => {
                got.push(Err(e.to_string()));
                break;
            }
        }
    }
    got
}

/// Everything `conn` delivers now, owned (errors as their text).
fn poll_owned(conn: &mut Connection) -> Vec<Result<Message, String>> {
    let mut got = Vec::new();
    for _ in 0..10_000 {
        match conn.poll_message() {
            Ok(Some(m)) => got.push(Ok(m)),
            Ok(None) => break,
            Err(e) => {
                got.push(Err(e.to_string()));
                break;
            }
        }
    }
    got
}

fn poll(conn: &mut Connection, frames: bool) {
    for _ in 0..10_000 {
        let more = if frames {
            matches!(conn.poll_frame(), Ok(Some(_)))
        } else {
            matches!(conn.poll_message(), Ok(Some(_)))
        };
        if !more {
            return;
        }
    }
}
