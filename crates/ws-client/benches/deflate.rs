//! permessage-deflate cost and gain: 1 MiB text messages sent and received over loopback,
//! compressed and uncompressed, in one run.
//!
//! Run with `cargo bench -p ws-client --bench deflate`. The peer is a raw TCP thread: for
//! `send` it swallows bytes, for `recv` it writes the same prepared frame (compressed
//! without context takeover, or plain) again and again, so only the client's work and the
//! bytes on the wire differ between the two modes. The printed wire sizes show the gain;
//! on loopback the CPU cost dominates, on a slow link the smaller messages win.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::panic,
    clippy::cast_precision_loss,
    missing_docs,
    reason = "a benchmark program"
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ws_client::{ClientBuilder, DeflateOptions, Message, NetOptions, ProxyConfig, WebSocket};
use ws_frame::deflate::Deflater;

const SIZE: usize = 1 << 20;

/// 1 MiB of JSON-like text (compresses about 10:1, like real API traffic).
fn text() -> String {
    let mut out = String::with_capacity(SIZE + 200);
    let mut i = 0u64;
    while out.len() < SIZE {
        let _ = write!(
            out,
            "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"tags\":[\"t{}\",\"t{}\"]}},",
            i % 977,
            (i * 7919) % 10_000,
            i % 13,
            i % 29
        );
        i += 1;
    }
    out.truncate(SIZE);
    out
}

/// Answers the upgrade, accepting permessage-deflate without context takeover if `deflate`.
fn accept(tcp: &mut TcpStream, deflate: bool) {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        tcp.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let accept = ws_handshake::accept_key(key.trim());
    let ext = if deflate {
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
         client_no_context_takeover\r\n"
    } else {
        ""
    };
    write!(
        tcp,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n{ext}\r\n"
    )
    .unwrap();
}

/// A server frame header for `len` bytes, RSV1 set if `compressed`.
fn frame(payload: &[u8], compressed: bool) -> Vec<u8> {
    let mut out = vec![if compressed { 0xC1 } else { 0x81 }, 127];
    out.extend_from_slice(&(payload.len() as u64).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn connect(
    deflate: Option<DeflateOptions>,
    serve: impl FnOnce(TcpStream) + Send + 'static,
) -> WebSocket {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut tcp, _) = listener.accept().unwrap();
        accept(&mut tcp, deflate.is_some());
        serve(tcp);
    });
    ClientBuilder::new()
        .net(NetOptions::new().proxy(ProxyConfig::None))
        .deflate(deflate)
        .connect(&format!("ws://{addr}/"))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let text = text();
    let mut compressed = Vec::new();
    Deflater::new(6, true).compress(text.as_bytes(), &mut compressed);
    eprintln!(
        "1 MiB text: {} bytes on the wire compressed ({:.1}%)",
        compressed.len(),
        compressed.len() as f64 * 100.0 / SIZE as f64
    );

    let mut group = c.benchmark_group("deflate_1MiB_text");
    group.throughput(Throughput::Bytes(SIZE as u64));
    group.sample_size(20);
    for (name, options) in [
        ("uncompressed", None),
        ("compressed", Some(DeflateOptions::new())),
        ("compressed_level1", Some(DeflateOptions::new().level(1))),
    ] {
        let deflate = options.is_some();
        let ws = connect(options, |mut tcp| {
            let _ = std::io::copy(&mut tcp, &mut std::io::sink());
        });
        assert_eq!(ws.is_compressed(), deflate);
        group.bench_function(format!("send_{name}"), |b| {
            b.iter(|| ws.send_text(black_box(&text)).unwrap());
        });
        if name == "compressed_level1" {
            continue;
        }

        let wire = if deflate {
            frame(&compressed, true)
        } else {
            frame(text.as_bytes(), false)
        };
        let mut ws = connect(
            options,
            move |mut tcp| while tcp.write_all(&wire).is_ok() {},
        );
        group.bench_function(format!("recv_{name}"), |b| {
            b.iter(|| match ws.recv().unwrap() {
                Message::Text(t) => assert_eq!(t.len(), SIZE),
                other => panic!("unexpected {other:?}"),
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
