//! Fuzz the client handshake response parser: arbitrary server bytes, fed in arbitrary
//! pieces under small limits, must never panic, and everything it keeps stays bounded.
use ws_handshake::{
    ClientRequest, Error, Outcome, RequestOptions, ResponseLimits, Scheme, ServerHandshake,
};

/// Runs the checks on one input; panics on a finding.
pub fn run(data: &[u8]) {
    let Some((&control, input)) = data.split_first() else {
        return;
    };
    // The control byte picks the piece size (1..=16 bytes, or everything at once) and the
    // limits, so both the incremental paths and the limit checks are reached.
    let piece = match control & 0x1f {
        0 => input.len().max(1),
        n => usize::from(n & 0x0f) + 1,
    };
    let limits = if control & 0x20 == 0 {
        ResponseLimits::default()
    } else {
        ResponseLimits::default()
            .max_head_bytes(256)
            .max_headers(8)
            .max_body_bytes(64)
    };
    let mut request = ClientRequest::new(
        "example.com",
        8080,
        if control & 0x40 != 0 {
            Scheme::Wss
        } else {
            Scheme::Ws
        },
        "/chat",
    )
    .key(*b"the sample nonce")
    .options(RequestOptions::new().response_limits(limits));
    if control & 0x80 != 0 {
        request = request
            .options(
                RequestOptions::new()
                    .response_limits(limits)
                    .subprotocols(["chat", "superchat"]),
            )
            .extensions("permessage-deflate");
    }
    let Ok(mut handshake) = request.build() else {
        return;
    };

    let mut result = Ok(None);
    for chunk in input.chunks(piece) {
        result = handshake.feed(chunk);
        if !matches!(result, Ok(None)) {
            break;
        }
    }
    let result = match result {
        Ok(None) => handshake.finish_eof().map(Some),
        other => other,
    };
    match result {
        Ok(Some(Outcome::Accepted(accepted))) => assert!(accepted.rest.len() <= input.len()),
        Ok(Some(Outcome::Redirect { location, .. })) => {
            assert!(location.starts_with("ws://") || location.starts_with("wss://"));
        }
        Err(Error::BadStatus { body, .. }) => assert!(body.len() <= limits.body_bytes()),
        _ => {}
    }
    // The server side reads the same bytes as a request.
    let _ = ServerHandshake::new().feed(input);
}
