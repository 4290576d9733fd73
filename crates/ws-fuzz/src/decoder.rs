//! Fuzzes the frame decoder: arbitrary bytes, arbitrary chunking, both roles.
//!
//! Input layout: byte 0 picks the role (bit 0), the reserved bits a fake extension claims
//! (bits 1-3) and whether text is validated in the raw decoder (bit 4); bytes 1-3 are chunk
//! sizes used in turn; the rest is the wire. Checks: no panic, bounded buffering (small
//! limits), and chunking invariance: the messages and the error are the same whether the
//! wire arrives whole or in pieces.
use ws_frame::{Decoded, Decoder, Error, Event, Limits, Message, MessageDecoder, Role};

/// Runs the checks on one input; panics on a finding.
pub fn run(data: &[u8]) {
    let Some((&[ctl, c1, c2, c3], wire)) = data.split_first_chunk::<4>() else {
        return;
    };
    let role = if ctl & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let rsv = (ctl >> 1) & 0b111;
    let limits = Limits::default()
        .max_frame_size(Some(1 << 12))
        .max_message_size(Some(1 << 14));
    let decoder = Decoder::new(role)
        .with_limits(limits)
        .with_reserved_bits(rsv);
    let chunks = [
        usize::from(c1).max(1),
        usize::from(c2).max(1),
        usize::from(c3).max(1),
    ];

    let whole = messages(decoder.clone(), wire, &[usize::MAX]);
    let chunked = messages(decoder.clone(), wire, &chunks);
    assert_eq!(whole, chunked, "chunking changed the outcome");
    let bytewise = messages(decoder.clone(), wire, &[1]);
    assert_eq!(whole, bytewise, "byte-at-a-time changed the outcome");

    raw(decoder.with_utf8_validation(ctl & 0x10 == 0), wire, &chunks);
}

/// All messages, then the error if any.
fn messages(decoder: Decoder, wire: &[u8], chunks: &[usize]) -> (Vec<Message>, Option<Error>) {
    let mut md = MessageDecoder::new(decoder);
    let mut out = Vec::new();
    let mut rest = wire;
    let mut sizes = chunks.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().copied().unwrap_or(1).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        md.feed(piece);
        loop {
            match md.next_message() {
                Ok(Some(message)) => {
                    if let Message::Ping(p) | Message::Pong(p) = &message {
                        assert!(p.len() <= 125);
                    }
                    out.push(message);
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(matches!(u16::from(e.close_code()), 1002 | 1007 | 1009));
                    return (out, Some(e));
                }
            }
        }
    }
    (out, None)
}

/// Drives the raw decoder over a sliding buffer and checks its bookkeeping.
fn raw(mut decoder: Decoder, wire: &[u8], chunks: &[usize]) {
    let mut buf = Vec::new();
    let mut rest = wire;
    let mut sizes = chunks.iter().cycle();
    let mut remaining: Option<u64> = None;
    while !rest.is_empty() {
        let n = sizes.next().copied().unwrap_or(1).clamp(1, rest.len());
        buf.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
        let mut pos = 0;
        loop {
            let available = buf.len() - pos;
            let Ok(Decoded {
                consumed,
                event,
                needed,
            }) = decoder.decode(&mut buf[pos..])
            else {
                return;
            };
            assert!(consumed <= available);
            pos += consumed;
            match event {
                None => {
                    assert!(needed > 0);
                    break;
                }
                Some(Event::Frame { header, payload }) => {
                    assert!(remaining.is_none());
                    assert_eq!(payload.len() as u64, header.payload_len);
                    if header.opcode.is_control() {
                        assert!(header.fin && payload.len() <= 125);
                    }
                }
                Some(Event::Header(header)) => {
                    assert!(remaining.is_none() && header.payload_len > 0);
                    assert!(header.opcode.is_data(), "control frames arrive whole");
                    remaining = Some(header.payload_len);
                }
                Some(Event::Payload { data, last }) => {
                    let left =
                        remaining.take().expect("payload without header") - data.len() as u64;
                    assert!(!data.is_empty());
                    assert_eq!(last, left == 0);
                    if !last {
                        remaining = Some(left);
                    }
                }
            }
        }
        buf.drain(..pos);
    }
}
