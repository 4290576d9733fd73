//! Fuzzes the permessage-deflate `Inflater`: arbitrary compressed bytes in arbitrary
//! chunks, split into messages.
//!
//! Input layout: byte 0 is the chunk size, byte 1 bit 0 turns context takeover off; the
//! rest is the payload, split into messages at each `0xff 0xfe` pair. Checks: no panic,
//! the output of a message never passes the limit by more than one byte, and whether a
//! message inflates, and to what, does not depend on the chunking. Which error a corrupt
//! message gets may: `miniz_oxide` notices some invalid back-references only on its fast
//! path (taken with enough input at hand), so the same corrupt message can fail as
//! invalid data when whole and pass the size limit first in small pieces
//! (`fuzz/regressions/inflate/error-depends-on-chunking`).
use ws_frame::deflate::Inflater;

const LIMIT: u64 = 1 << 16;

/// Runs the checks on one input; panics on a finding.
pub fn run(data: &[u8]) {
    let Some((&[chunk, flags], wire)) = data.split_first_chunk::<2>() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let reset = flags & 1 == 1;
    let whole = inflate_all(wire, usize::MAX, reset);
    let pieces = inflate_all(wire, chunk, reset);
    let ok = |results: Vec<Result<Vec<u8>, ws_frame::Error>>| -> Vec<Option<Vec<u8>>> {
        results.into_iter().map(Result::ok).collect()
    };
    assert_eq!(ok(whole), ok(pieces), "chunking changed the outcome");
}

/// Inflates each message of `wire` fed `chunk` bytes at a time; returns each message's
/// output or error.
fn inflate_all(wire: &[u8], chunk: usize, reset: bool) -> Vec<Result<Vec<u8>, ws_frame::Error>> {
    let mut inflater = Inflater::new(reset);
    let mut results = Vec::new();
    for message in split(wire) {
        let mut out = Vec::new();
        let mut result = Ok(());
        for piece in message.chunks(chunk) {
            result = inflater.inflate(piece, &mut out, Some(LIMIT));
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = inflater.finish(&mut out, Some(LIMIT));
        } else {
            inflater.reset();
        }
        assert!(out.len() as u64 <= LIMIT + 1, "output passed the limit");
        results.push(result.map(|()| out));
    }
    results
}

fn split(wire: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 1 < wire.len() {
        if wire[i] == 0xff && wire[i + 1] == 0xfe {
            parts.push(&wire[start..i]);
            start = i + 2;
            i += 2;
        } else {
            i += 1;
        }
    }
    parts.push(&wire[start..]);
    parts
}
