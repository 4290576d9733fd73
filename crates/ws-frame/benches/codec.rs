//! Codec benchmarks: header parse, masking against memcpy, UTF-8 against `core`, encode.
//!
//! Run with `cargo bench -p ws-frame --bench codec`. Each group puts our function next to
//! its baseline in the same run, so the ratio is what matters, not the absolute numbers.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ws_frame::{
    Config, Decoded, Decoder, Fin, FrameHeader, Inbound, OpCode, Parsed, Role, Utf8Validator,
    apply_mask, copy_masked, encode_frame,
};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const SIZES: [(usize, &str); 3] = [(4 << 10, "4KiB"), (64 << 10, "64KiB"), (1 << 20, "1MiB")];

/// 1024 back-to-back unmasked binary frames of 16 bytes (2-byte header, 14-byte payload).
fn small_frames() -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 0..1024u32 {
        encode_frame(
            &mut wire,
            Fin::Final,
            OpCode::Binary,
            None,
            &[i.to_le_bytes()[0]; 14],
        );
    }
    wire
}

fn header_parse(c: &mut Criterion) {
    let wire = small_frames();
    let mut group = c.benchmark_group("header_parse");
    group.throughput(Throughput::Elements(1024));
    group.bench_function("16B_frames", |b| {
        b.iter(|| {
            let mut pos = 0;
            for _ in 0..1024 {
                if let Ok(Parsed::Complete { value, consumed }) =
                    FrameHeader::parse(black_box(&wire[pos..]))
                {
                    pos += consumed + usize::try_from(value.payload_len).unwrap_or(0);
                }
            }
            pos
        });
    });
    let mut buf = wire.clone();
    group.bench_function("decoder_16B_frames", |b| {
        b.iter(|| {
            let mut decoder = Decoder::new(Role::Client);
            let mut pos = 0;
            let mut total = 0usize;
            while let Ok(Decoded {
                consumed,
                event: Some(_),
                ..
            }) = decoder.decode(&mut buf[pos..])
            {
                pos += consumed;
                total += consumed;
            }
            total
        });
    });
    group.finish();
}

fn mask(c: &mut Criterion) {
    let mut group = c.benchmark_group("mask");
    for (size, name) in SIZES {
        let src = vec![0x5Au8; size];
        let mut dst = vec![0u8; size];
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("memcpy", name), &size, |b, _| {
            b.iter(|| dst.copy_from_slice(black_box(&src)));
        });
        group.bench_with_input(BenchmarkId::new("apply_mask", name), &size, |b, _| {
            b.iter(|| apply_mask(black_box(&mut dst), KEY));
        });
        group.bench_with_input(BenchmarkId::new("copy_masked", name), &size, |b, _| {
            b.iter(|| copy_masked(black_box(&mut dst), black_box(&src), KEY));
        });
    }
    group.finish();
}

fn utf8(c: &mut Criterion) {
    let ascii: String = "The quick brown fox jumps over the lazy dog. ".repeat(1500);
    let mixed: String = "Grüße 🌍 水 Привет, мир! αβγ δ English text here. ".repeat(1000);
    let mut group = c.benchmark_group("utf8");
    for (name, text) in [("ascii", &ascii), ("mixed", &mixed)] {
        let bytes = text.as_bytes();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(BenchmarkId::new("core_from_utf8", name), |b| {
            b.iter(|| core::str::from_utf8(black_box(bytes)).is_ok());
        });
        group.bench_function(BenchmarkId::new("validator_whole", name), |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                v.feed(black_box(bytes)).is_ok() && v.finish().is_ok()
            });
        });
        group.bench_function(BenchmarkId::new("validator_4KiB_pieces", name), |b| {
            b.iter(|| {
                let mut v = Utf8Validator::new();
                bytes
                    .chunks(4096)
                    .all(|piece| v.feed(black_box(piece)).is_ok())
                    && v.finish().is_ok()
            });
        });
    }
    group.finish();
}

fn encode(c: &mut Criterion) {
    let payload = [0x42u8; 16];
    let mut out = Vec::with_capacity(64);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("16B_masked", |b| {
        b.iter(|| {
            out.clear();
            encode_frame(
                &mut out,
                Fin::Final,
                OpCode::Binary,
                Some(KEY),
                black_box(&payload),
            );
            out.len()
        });
    });
    group.bench_function("16B_header_only", |b| {
        let header = FrameHeader::new(OpCode::Binary, 16);
        let mut buf = [0u8; FrameHeader::MAX_LEN];
        b.iter(|| black_box(&header).encode(&mut buf));
    });
    group.finish();
}

/// The engine's receive half on 1024 small frames fed at once: owned messages against
/// lent ones (the bytes are copied in each iteration, the same for both).
fn inbound(c: &mut Criterion) {
    let wire = small_frames();
    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Elements(1024));
    let mut engine = Inbound::new(Role::Client, &Config::new());
    group.bench_function("poll_message_16B", |b| {
        b.iter(|| {
            engine.receive(black_box(&wire));
            let mut total = 0usize;
            while let Ok(Some(message)) = engine.poll_message() {
                total += usize::from(black_box(message) != ws_frame::Message::Close(None));
            }
            total
        });
    });
    let mut engine = Inbound::new(Role::Client, &Config::new());
    group.bench_function("poll_message_ref_16B", |b| {
        b.iter(|| {
            engine.receive(black_box(&wire));
            let mut total = 0usize;
            while let Ok(Some(message)) = engine.poll_message_ref() {
                total += black_box(message).as_bytes().len();
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, header_parse, mask, utf8, encode, inbound);
criterion_main!(benches);
