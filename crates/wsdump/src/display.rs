//! How received messages and errors are shown: binary as `[gzip]`/`[zlib]` text when it
//! decompresses to UTF-8 (as Python's wsdump does), else as hex; errors as one line.

use std::fmt::Write as _;
use std::io::Read;

use flate2::{Decompress, FlushDecompress, Status};
use ws_client::{CloseCode, Error, Message};

/// The most decompressed bytes shown for one message (a bound against zip bombs).
const MAX_INFLATED: usize = 1 << 20;

/// The most bytes shown as hex; longer payloads end with their total length.
const MAX_HEX: usize = 1024;

/// The text printed for `message`: data messages always, control frames only when
/// `verbose` (which also prefixes each line with the opcode name, as Python does).
pub(crate) fn message_text(message: &Message, verbose: bool) -> Option<String> {
    let body = match message {
        Message::Text(text) => text.clone(),
        Message::Binary(data) => binary_text(data),
        Message::Ping(data) | Message::Pong(data) if verbose => control_text(data),
        Message::Close(close) if verbose => match close {
            Some((code, reason)) if reason.is_empty() => u16::from(*code).to_string(),
            Some((code, reason)) => format!("{} {reason}", u16::from(*code)),
            None => String::new(),
        },
        _ => return None,
    };
    Some(if verbose {
        format!("{}: {body}", message.opcode().name())
    } else {
        body
    })
}

/// A ping or pong payload: text if UTF-8, else hex.
fn control_text(data: &[u8]) -> String {
    match std::str::from_utf8(data) {
        Ok(text) => text.to_owned(),
        Err(_) => hex(data),
    }
}

/// `[gzip] text`, `[zlib] text`, or the bytes in hex.
pub(crate) fn binary_text(data: &[u8]) -> String {
    if data.is_empty() {
        return String::new();
    }
    if data.starts_with(&[0x1f, 0x8b])
        && let Some(text) = gunzip(data)
    {
        return format!("[gzip] {text}");
    }
    if let Some(text) = inflate(data, false).or_else(|| inflate(data, true)) {
        return format!("[zlib] {text}");
    }
    hex(data)
}

/// Lower-case hex pairs separated by spaces, at most [`MAX_HEX`] bytes of them.
pub(crate) fn hex(data: &[u8]) -> String {
    let shown = data.get(..MAX_HEX).unwrap_or(data);
    let mut out = String::with_capacity(shown.len() * 3 + 24);
    for (i, byte) in shown.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}");
    }
    if shown.len() < data.len() {
        let _ = write!(out, " ... ({} bytes)", data.len());
    }
    out
}

/// The gunzipped UTF-8 text, if `data` is one whole gzip member holding UTF-8.
fn gunzip(data: &[u8]) -> Option<String> {
    let mut out = Vec::new();
    let limit = u64::try_from(MAX_INFLATED).unwrap_or(u64::MAX) + 1;
    flate2::read::GzDecoder::new(data)
        .take(limit)
        .read_to_end(&mut out)
        .ok()?;
    if out.len() > MAX_INFLATED {
        return None;
    }
    String::from_utf8(out).ok()
}

/// The inflated UTF-8 text, if `data` is exactly one complete deflate stream (raw, or
/// with the zlib header when `zlib`) holding UTF-8.
fn inflate(data: &[u8], zlib: bool) -> Option<String> {
    let mut inflater = Decompress::new(zlib);
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).clamp(64, MAX_INFLATED));
    loop {
        let consumed = usize::try_from(inflater.total_in()).ok()?;
        let produced = out.len();
        let status = inflater
            .decompress_vec(data.get(consumed..)?, &mut out, FlushDecompress::Finish)
            .ok()?;
        if status == Status::StreamEnd {
            let whole = usize::try_from(inflater.total_in()).ok()? == data.len();
            return if whole {
                String::from_utf8(out).ok()
            } else {
                None
            };
        }
        if out.len() == out.capacity() {
            if out.len() >= MAX_INFLATED {
                return None;
            }
            out.reserve(out.len());
        } else if out.len() == produced && usize::try_from(inflater.total_in()).ok()? == consumed {
            // No progress with room to spare: the stream is truncated.
            return None;
        }
    }
}

/// One line for an error: what failed and why, every cause, no debug dump.
pub(crate) fn error_line(error: &Error) -> String {
    let line = match error {
        Error::BadStatus {
            status,
            reason,
            body,
            ..
        } => {
            let body = String::from_utf8_lossy(body);
            let body = body.trim();
            if body.is_empty() {
                format!("handshake failed: {status} {reason}")
            } else {
                let shown: String = body.chars().take(200).collect();
                let more = if shown.len() < body.len() { "..." } else { "" };
                format!("handshake failed: {status} {reason} (body: {shown}{more})")
            }
        }
        Error::ConnectionClosed {
            code: Some(code), ..
        } if *code == CloseCode::ABNORMAL => {
            "connection lost: the server ended it without a close frame".to_owned()
        }
        _ => chain(error),
    };
    one_line(&line)
}

/// The error's text followed by each source's text not already contained in it.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// Newlines and tabs become spaces, so the message stays on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;

    use super::*;

    #[test]
    fn gzip_and_deflate_payloads_show_their_text() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        gz.write_all("héllo gzip".as_bytes()).unwrap();
        assert_eq!(binary_text(&gz.finish().unwrap()), "[gzip] héllo gzip");

        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(b"raw deflate").unwrap();
        assert_eq!(binary_text(&raw.finish().unwrap()), "[zlib] raw deflate");

        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        zlib.write_all(b"with header").unwrap();
        assert_eq!(binary_text(&zlib.finish().unwrap()), "[zlib] with header");
    }

    #[test]
    fn other_binary_is_hex_and_truncated_streams_are_not_text() {
        assert_eq!(binary_text(&[0x00, 0x01, 0xfe, 0xff]), "00 01 fe ff");
        let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        raw.write_all(b"a longer message that compresses").unwrap();
        let whole = raw.finish().unwrap();
        let cut = &whole[..whole.len() - 3];
        assert_eq!(binary_text(cut), hex(cut));
        let long = vec![7; MAX_HEX + 5];
        assert!(hex(&long).ends_with(&format!(" ... ({} bytes)", MAX_HEX + 5)));
    }

    #[test]
    fn control_frames_show_only_when_verbose() {
        let ping = Message::Ping(b"hi".to_vec());
        assert_eq!(message_text(&ping, false), None);
        assert_eq!(message_text(&ping, true).as_deref(), Some("ping: hi"));
        let text = Message::Text("x".into());
        assert_eq!(message_text(&text, false).as_deref(), Some("x"));
        assert_eq!(message_text(&text, true).as_deref(), Some("text: x"));
        let close = Message::Close(Some((CloseCode::NORMAL, "bye".into())));
        assert_eq!(
            message_text(&close, true).as_deref(),
            Some("close: 1000 bye")
        );
    }

    #[test]
    fn bad_status_is_one_line_with_the_body() {
        let error = Error::BadStatus {
            status: 403,
            reason: "Forbidden".into(),
            headers: Vec::new(),
            body: b"no entry\nfor you\n".to_vec(),
        };
        assert_eq!(
            error_line(&error),
            "handshake failed: 403 Forbidden (body: no entry for you)"
        );
    }
}
