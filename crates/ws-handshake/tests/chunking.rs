//! Property tests: any chunking of a response parses the same as the whole; arbitrary bytes
//! never panic; requests we build are accepted by our server whatever the header values.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly"
)]

use proptest::prelude::*;
use ws_handshake::{
    ClientRequest, Error, Outcome, RequestOptions, ResponseLimits, Scheme, ServerHandshake,
};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn request(limits: ResponseLimits) -> ClientRequest {
    ClientRequest::new("127.0.0.1", 18080, Scheme::Ws, "/ws")
        .key(*b"the sample nonce")
        .options(
            RequestOptions::new()
                .subprotocols(["chat.v1", "chat"])
                .response_limits(limits),
        )
        .extensions("permessage-deflate; client_max_window_bits")
}

/// Feed `input` in pieces cut at `cuts`; return the outcome (or error) with the bytes behind
/// the head: `rest` plus whatever the caller had not fed yet.
fn feed_in_pieces(input: &[u8], cuts: &[usize]) -> Result<(Outcome, Vec<u8>), Error> {
    feed_in_pieces_with(input, cuts, ResponseLimits::default())
}

/// As [`feed_in_pieces`], with `limits` on the response.
fn feed_in_pieces_with(
    input: &[u8],
    cuts: &[usize],
    limits: ResponseLimits,
) -> Result<(Outcome, Vec<u8>), Error> {
    let mut handshake = request(limits).build().unwrap();
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(input.len());
    points.sort_unstable();
    let mut start = 0;
    for end in points {
        let piece = &input[start..end];
        start = end;
        if let Some(outcome) = handshake.feed(piece)? {
            // After a 101 the bytes behind the head are frames: none may be lost. After a
            // redirect the connection is dropped, so they do not matter.
            let unread = match &outcome {
                Outcome::Accepted(a) => [a.rest.as_slice(), &input[end..]].concat(),
                _ => Vec::new(),
            };
            return Ok((outcome, unread));
        }
    }
    handshake.finish_eof().map(|o| (o, Vec::new()))
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

const FIXTURES: [&str; 12] = [
    "websockets_101.http",
    "websockets_101_subprotocol.http",
    "websockets_101_deflate.http",
    "websockets_302.http",
    "websockets_403.http",
    "websockets_426_plain_get.http",
    "nginx_101.http",
    "nginx_301.http",
    "nginx_404.http",
    "tungstenite_101_subprotocol.http",
    "python_header02.http",
    "python_header03.http",
];

fn strip_rest(outcome: Outcome) -> Outcome {
    match outcome {
        Outcome::Accepted(mut a) => {
            a.rest.clear();
            Outcome::Accepted(a)
        }
        other => other,
    }
}

proptest! {
    #[test]
    fn any_chunking_parses_the_same(which in 0..FIXTURES.len(), cuts in prop::collection::vec(0usize..2000, 0..12)) {
        let input = fixture(FIXTURES[which]);
        let whole = feed_in_pieces(&input, &[]);
        let pieces = feed_in_pieces(&input, &cuts);
        match (whole, pieces) {
            (Ok((a, rest_a)), Ok((b, rest_b))) => {
                prop_assert_eq!(rest_a, rest_b);
                prop_assert_eq!(strip_rest(a), strip_rest(b));
            }
            (a, b) => prop_assert_eq!(a, b),
        }
    }

    #[test]
    fn chunked_error_bodies_parse_the_same_in_any_pieces(cuts in prop::collection::vec(0usize..200, 0..12)) {
        let input = b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0a\r\n0123456789\r\n0\r\n\r\n";
        let err = feed_in_pieces(input, &cuts).unwrap_err();
        let Error::BadStatus { body, .. } = err else { panic!("{err:?}") };
        prop_assert_eq!(body, b"abcd0123456789".to_vec());
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_stay_bounded(
        prefix in prop::sample::select(vec![&b""[..], b"HTTP/1.1 101 OK\r\n", b"HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\n\r\n"]),
        data in prop::collection::vec(any::<u8>(), 0..600),
        cuts in prop::collection::vec(0usize..700, 0..6),
    ) {
        const HEAD: usize = 128;
        const HEADERS: usize = 4;
        const BODY: usize = 64;
        let mut input = prefix.to_vec();
        input.extend_from_slice(&data);
        let limits = ResponseLimits::default()
            .max_head_bytes(HEAD)
            .max_headers(HEADERS)
            .max_body_bytes(BODY);
        match feed_in_pieces_with(&input, &cuts, limits) {
            // Whatever the bytes, a head that was accepted fit the limits it names...
            Ok((Outcome::Accepted(accepted), _)) => {
                prop_assert!(accepted.headers.len() <= HEADERS);
                let head_end = find(&input, b"\r\n\r\n").map(|i| i + 4);
                prop_assert!(head_end.is_some_and(|end| end <= HEAD), "head of {head_end:?} bytes");
            }
            // ...and an error response's body is cut at the body limit.
            Err(Error::BadStatus { headers, body, .. }) => {
                prop_assert!(headers.len() <= HEADERS);
                prop_assert!(body.len() <= BODY, "body of {} bytes kept", body.len());
            }
            Err(Error::HeadTooLarge { limit }) => prop_assert_eq!(limit, HEAD),
            Err(Error::TooManyHeaders { limit }) => prop_assert_eq!(limit, HEADERS),
            _ => {}
        }
        let _ = ServerHandshake::new().feed(&input);
    }

    #[test]
    fn valid_header_values_reach_our_server_intact(
        value in "[ -~\t]{0,40}",
        name in "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}",
    ) {
        let reserved = ["host", "origin", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version"];
        prop_assume!(!reserved.contains(&name.to_ascii_lowercase().as_str()));
        let handshake = ClientRequest::new("h", 80, Scheme::Ws, "/")
            .key([9; 16])
            .options(RequestOptions::new().header(&name, &value))
            .build()
            .unwrap();
        let accepted = ServerHandshake::new().feed(handshake.request_bytes()).unwrap().unwrap();
        // HTTP trims leading and trailing whitespace of a field value.
        prop_assert_eq!(accepted.header(&name), Some(value.trim_matches([' ', '\t'])));
    }

    #[test]
    fn control_characters_in_values_are_always_refused(
        before in "[ -~]{0,10}", ctl in prop::sample::select(vec!['\r', '\n', '\0', '\x01', '\x1f', '\x7f']), after in "[ -~]{0,10}",
    ) {
        let value = format!("{before}{ctl}{after}");
        let err = ClientRequest::new("h", 80, Scheme::Ws, "/").key([9; 16]).options(RequestOptions::new().header("X-V", &value)).build().unwrap_err();
        let is_invalid_header = matches!(err, Error::InvalidHeader { ref name, .. } if name == "X-V");
        prop_assert!(is_invalid_header);
    }
}
