//! Fuzzes the sans-IO proxy handshakes (`ws_net::ProxyHandshake`: HTTP CONNECT, SOCKS4,
//! SOCKS4a, SOCKS5, SOCKS5h): arbitrary reply bytes from a hostile proxy, in arbitrary
//! chunks.
//!
//! Input layout: byte 0 picks the proxy kind (low 3 bits) and credentials (bit 3), byte 1
//! is the chunk size; the rest is what the proxy sends. Checks: no panic; `receive` never
//! claims more bytes than it was given, asks for at least one more byte when partial, and
//! leaves bytes unconsumed only when it has a request to send first; a complete reply ends
//! at the same byte, and a failure is the same error, whether the bytes come whole or in
//! pieces (so no tunnel byte is ever taken as part of the reply).
use ws_net::{Progress, Proxy, ProxyHandshake};

/// How a drive ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The tunnel opened after this many reply bytes.
    Open(usize),
    /// The reply was refused or malformed: the error's variant.
    Refused(String),
    /// The bytes ran out first.
    Partial,
}

/// Runs the checks on one input; panics on a finding.
pub fn run(data: &[u8]) {
    let Some((&[ctl, chunk], wire)) = data.split_first_chunk::<2>() else {
        return;
    };
    let mut proxy = match ctl & 7 {
        0 => Proxy::http("proxy.test", 3128),
        1 => Proxy::socks4("proxy.test", 1080),
        2 => Proxy::socks4a("proxy.test", 1080),
        3 => Proxy::socks5("proxy.test", 1080),
        _ => Proxy::socks5h("proxy.test", 1080),
    };
    if ctl & 8 != 0 {
        proxy = proxy.with_auth("user", "secret");
    }
    // SOCKS4 carries an IPv4 address; the others a name.
    let host = if ctl & 7 == 1 {
        "192.0.2.7"
    } else {
        "example.com"
    };
    let whole = drive(&proxy, host, wire, usize::MAX);
    let pieces = drive(&proxy, host, wire, usize::from(chunk).max(1));
    assert_eq!(whole, pieces, "chunking changed the outcome");
}

fn drive(proxy: &Proxy, host: &str, wire: &[u8], chunk: usize) -> Outcome {
    let Ok(mut handshake) = ProxyHandshake::new(proxy, host, 443) else {
        return Outcome::Refused("new".to_owned());
    };
    let mut at = 0;
    loop {
        while let Some(bytes) = handshake.poll_transmit() {
            let n = bytes.len();
            handshake.transmitted(n);
        }
        if handshake.is_complete() {
            return Outcome::Open(at);
        }
        if at >= wire.len() {
            return Outcome::Partial;
        }
        let end = at.saturating_add(chunk).min(wire.len());
        let given = end - at;
        match handshake.receive(&wire[at..end]) {
            Ok(Progress::Complete { consumed }) => {
                assert!(consumed <= given, "consumed {consumed} of {given} bytes");
                return Outcome::Open(at + consumed);
            }
            Ok(Progress::Partial { consumed, needed }) => {
                assert!(consumed <= given, "consumed {consumed} of {given} bytes");
                assert!(needed >= 1, "a partial reply needs at least one more byte");
                if consumed < given {
                    assert!(
                        handshake.poll_transmit().is_some(),
                        "bytes left unconsumed without a request to send first"
                    );
                }
                at += consumed;
            }
            Ok(_) => return Outcome::Partial,
            Err(e) => {
                let debug = format!("{e:?}");
                let variant = debug
                    .split(|c: char| !c.is_alphanumeric())
                    .next()
                    .unwrap_or_default();
                return Outcome::Refused(variant.to_owned());
            }
        }
    }
}
