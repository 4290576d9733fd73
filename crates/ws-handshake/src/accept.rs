//! The `Sec-WebSocket-Key` / `Sec-WebSocket-Accept` computation (RFC 6455 section 4.2.2).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest as _, Sha1};

/// The GUID RFC 6455 appends to the key before hashing.
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`: `base64(sha1(key + GUID))`.
///
/// ```
/// // The example of RFC 6455 section 1.3.
/// assert_eq!(
///     ws_handshake::accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
#[must_use]
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}

/// The `Sec-WebSocket-Key` header value for 16 nonce bytes (base64, 24 characters).
///
/// ```
/// assert_eq!(ws_handshake::encode_key(*b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
/// ```
#[must_use]
pub fn encode_key(nonce: [u8; 16]) -> String {
    STANDARD.encode(nonce)
}

/// Whether `key` is the base64 encoding of exactly 16 bytes, as RFC 6455 section 4.2.1
/// requires of a client's `Sec-WebSocket-Key`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    key.len() == 24 && STANDARD.decode(key).is_ok_and(|bytes| bytes.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_the_rfc_6455_section_1_3_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn validates_keys() {
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25jZSE="));
        assert!(!is_valid_key("!!!!!!!!!!!!!!!!!!!!!!=="));
        assert!(!is_valid_key(""));
    }
}
