//! Fuzzes `resolve_location`, the redirect `Location` resolver: a peer-controlled header
//! resolved against the request URL.
//!
//! Input layout: the bytes up to the first newline are the base URL (`ws://` is put in
//! front when it has no `ws://` or `wss://` scheme; bases with whitespace, control
//! characters or `#` are skipped, as the client never makes one), the rest is the location. Checks: no
//! panic; a resolved location is a `ws://` or `wss://` URL without whitespace, control
//! characters or fragment, and resolving it against itself gives it back.
use ws_handshake::resolve_location;

/// Runs the checks on one input; panics on a finding.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (base, location) = text
        .split_once('\n')
        .unwrap_or(("ws://example.com/a/b", text));
    // The base is the client's own request URL, never peer data: keep it plausible.
    if base.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'#') {
        return;
    }
    let base = if base.starts_with("ws://") || base.starts_with("wss://") {
        base.to_owned()
    } else {
        format!("ws://{base}")
    };
    let Ok(resolved) = resolve_location(&base, location) else {
        return;
    };
    assert!(
        resolved.starts_with("ws://") || resolved.starts_with("wss://"),
        "{resolved:?}"
    );
    assert!(
        !resolved
            .bytes()
            .any(|b| b <= b' ' || b == 0x7f || b == b'#'),
        "{resolved:?}"
    );
    let again = resolve_location(&resolved, &resolved);
    assert_eq!(again.as_deref(), Ok(resolved.as_str()), "not idempotent");
}
