//! Keepalive pings and the pong deadline, on a fake clock.

use ws_frame::{Config, Message, RecvError};

use super::{Pair, secs};

fn keepalive_pair() -> Pair {
    let mut pair = Pair::with(Config::new(), Config::new());
    pair.client
        .set_keepalive(Some(secs(10)), Some(secs(5)), b"ka");
    pair
}

#[test]
fn pings_on_schedule_and_pongs_meet_the_deadline() {
    let mut pair = keepalive_pair();
    assert_eq!(pair.client.poll_timeout(), Some(secs(0)));
    pair.client.handle_timeout(secs(1000));
    assert_eq!(pair.client.poll_timeout(), Some(secs(1010)));
    pair.client.handle_timeout(secs(1009));
    pair.drive();
    assert!(pair.server_got.is_empty(), "no ping before the interval");
    pair.client.handle_timeout(secs(1010));
    pair.drive();
    assert_eq!(pair.server_got, [Message::Ping(b"ka".to_vec())]);
    assert_eq!(pair.client_got, [Message::Pong(b"ka".to_vec())]);
    // The pong came: the deadline at 1015 is gone, the next ping is at 1020.
    assert_eq!(pair.client.poll_timeout(), Some(secs(1020)));
    pair.client.handle_timeout(secs(1015));
    assert_eq!(pair.client.poll_message(), Ok(None));
}

#[test]
fn a_missing_pong_fails_with_pong_timeout() {
    let mut pair = keepalive_pair();
    pair.client.handle_timeout(secs(0));
    pair.client.handle_timeout(secs(10));
    // The ping is never delivered, so no pong.
    assert_eq!(pair.client.poll_timeout(), Some(secs(15)));
    pair.client.handle_timeout(secs(15));
    assert_eq!(
        pair.client.poll_message(),
        Err(RecvError::PongTimeout { timeout: secs(5) })
    );
    assert!(pair.client.should_shut());
    assert_eq!(pair.client.poll_timeout(), None);
}

#[test]
fn a_long_pause_does_not_send_a_burst_of_pings() {
    let mut pair = Pair::with(Config::new(), Config::new());
    pair.client.set_keepalive(Some(secs(10)), None, b"");
    pair.client.handle_timeout(secs(0));
    pair.client.handle_timeout(secs(95));
    pair.client.handle_timeout(secs(95));
    pair.drive();
    assert_eq!(pair.server_got, [Message::Ping(Vec::new())]);
    assert_eq!(pair.client.poll_timeout(), Some(secs(105)));
}

#[test]
fn keepalive_stops_once_closing() {
    let mut pair = keepalive_pair();
    pair.client.handle_timeout(secs(0));
    pair.client.send(ws_frame::Outgoing::Close(None)).unwrap();
    pair.client.handle_timeout(secs(0));
    // Only the close deadline remains.
    assert_eq!(pair.client.poll_timeout(), Some(secs(3)));
}
