//! The echo server both clients talk to: one thread per connection, frames echoed as they
//! are (opcode, fin, payload), unmasked, with no UTF-8 checks and no size limits.
//!
//! Two paths, picked by the request path:
//! - `/rt` (round trips) echoes inline: a frame is written back once it has fully
//!   arrived, everything decoded from one read goes out in one `write`.
//! - `/pipe` (pipelined) decodes on one thread and writes on another, so the server keeps
//!   reading while its echoes wait for the client to read them: a client may send any
//!   number of messages before reading, without the two blocking each other.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

use ws_frame::{Decoder, Event, FrameHeader, Limits, Role};
use ws_handshake::ServerHandshake;

/// Bytes asked for per `read`.
const READ_BUFFER: usize = 256 * 1024;

/// Serves on `listener` forever, one thread per connection.
///
/// # Errors
///
/// When accepting fails.
pub(crate) fn serve(listener: &TcpListener) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept()?;
        stream.set_nodelay(true)?;
        thread::spawn(move || {
            if let Err(e) = connection(stream) {
                // The clients close without a closing handshake once timed: not an error.
                if e.kind() != io::ErrorKind::UnexpectedEof
                    && e.kind() != io::ErrorKind::ConnectionReset
                {
                    eprintln!("ws-bench server: {e}");
                }
            }
        });
    }
}

fn connection(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0; READ_BUFFER];
    let mut handshake = ServerHandshake::new();
    let mut have = 0;
    let accepted = loop {
        let n = stream.read(&mut buf[have..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        have += n;
        match handshake.feed(&buf[have - n..have]) {
            Ok(Some(accepted)) => break accepted,
            Ok(None) => {}
            Err(e) => {
                stream.write_all(&e.response())?;
                return Err(io::Error::other(e.to_string()));
            }
        }
    };
    stream.write_all(&accepted.response)?;
    let pipelined = accepted.resource.starts_with("/pipe");
    // Frames sent right behind the request head (none from these clients, but be exact).
    buf[..accepted.rest.len()].copy_from_slice(&accepted.rest);
    let buf = Input {
        buf,
        end: accepted.rest.len(),
    };
    let decoder = Decoder::new(Role::Server)
        .with_limits(Limits::unlimited())
        .with_utf8_validation(false);
    if pipelined {
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let mut out = stream.try_clone()?;
        let writer = thread::spawn(move || -> io::Result<()> {
            for chunk in rx {
                out.write_all(&chunk)?;
            }
            Ok(())
        });
        let result = echo(&mut stream, buf, decoder, |bytes, _| {
            tx.send(std::mem::take(bytes))
                .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))
        });
        drop(tx);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("writer thread panicked")));
        result.and(written)
    } else {
        let mut out = stream.try_clone()?;
        echo(&mut stream, buf, decoder, |bytes, in_frame| {
            // Write only whole frames: a client still sending the rest of a large frame
            // is not reading yet, so echoing part of it could block both sides.
            if !in_frame {
                out.write_all(bytes)?;
                bytes.clear();
            }
            Ok(())
        })
    }
}

/// Reads frames and hands their echo to `emit` after each read, with whether a frame is
/// still incomplete.
fn echo(
    stream: &mut TcpStream,
    input: Input,
    mut decoder: Decoder,
    mut emit: impl FnMut(&mut Vec<u8>, bool) -> io::Result<()>,
) -> io::Result<()> {
    let Input { mut buf, mut end } = input;
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        while start < end {
            let decoded = decoder
                .decode(&mut buf[start..end])
                .map_err(|e| io::Error::other(e.to_string()))?;
            start += decoded.consumed;
            match decoded.event {
                Some(Event::Frame { header, payload }) => {
                    push_header(&mut out, header);
                    out.extend_from_slice(payload);
                }
                Some(Event::Header(header)) => {
                    out.reserve(usize::try_from(header.payload_len).unwrap_or(0) + 14);
                    push_header(&mut out, header);
                }
                Some(Event::Payload { data, .. }) => out.extend_from_slice(data),
                None => break,
            }
        }
        if !out.is_empty() {
            emit(&mut out, decoder.is_in_frame())?;
        }
        if start == end {
            start = 0;
            end = 0;
        } else if end == buf.len() {
            buf.copy_within(start..end, 0);
            end -= start;
            start = 0;
        }
        let n = stream.read(&mut buf[end..])?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        end += n;
    }
}

/// The read buffer and how many bytes of it are filled.
struct Input {
    buf: Vec<u8>,
    end: usize,
}

pub(crate) fn push_header(out: &mut Vec<u8>, mut header: FrameHeader) {
    header.mask = None;
    let mut head = [0; FrameHeader::MAX_LEN];
    let len = header.encode(&mut head);
    out.extend_from_slice(&head[..len]);
}
