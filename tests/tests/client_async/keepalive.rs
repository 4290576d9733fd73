//! Keepalive: pings on schedule while a receive waits, answered pongs keep the
//! connection, a missing pong fails it with the keepalive timeout.

use std::time::Duration;

use ws_client::{Error, Message, Op, OptionError};
use ws_tests::{accept_raw, read_client_frame, server_frame, tcp_server};

use crate::{client, within};

#[tokio::test]
async fn pings_go_out_and_pongs_keep_the_connection() {
    let peer = tcp_server(1, |mut tcp| {
        accept_raw(&mut tcp, b"");
        for _ in 0..3 {
            let ping = read_client_frame(&mut tcp);
            assert_eq!((ping.opcode, ping.payload.as_slice()), (9, &b"hb"[..]));
            std::io::Write::write_all(&mut tcp, &server_frame(true, 10, b"hb")).unwrap();
        }
        std::io::Write::write_all(&mut tcp, &server_frame(true, 1, b"three pings")).unwrap();
        let _ = std::io::Read::read(&mut tcp, &mut [0; 64]);
    });
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    // The pong deadline is generous: on a loaded machine the peer's thread may wait
    // tens of milliseconds to run (a 40 ms deadline failed one run in 60 under load).
    ws.set_keepalive(
        Some(Duration::from_millis(600)),
        Some(Duration::from_millis(500)),
        b"hb",
    )
    .unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("three pings".into())
    );
    drop(ws);
    peer.join();
}

#[tokio::test]
async fn a_missing_pong_fails_with_the_keepalive_timeout() {
    let (tx, rx) = std::sync::mpsc::channel();
    let peer = tcp_server(1, move |mut tcp| {
        accept_raw(&mut tcp, b"");
        let ping = read_client_frame(&mut tcp);
        // No pong: the client gives up and says goodbye.
        let close = read_client_frame(&mut tcp);
        tx.send((ping, close)).unwrap();
    });
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    ws.set_keepalive(
        Some(Duration::from_millis(100)),
        Some(Duration::from_millis(50)),
        b"",
    )
    .unwrap();
    let err = within(ws.recv()).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                op: Op::Keepalive,
                ..
            }
        ),
        "{err:?}"
    );
    let (ping, close) = rx.recv_timeout(ws_tests::TIMEOUT).unwrap();
    assert_eq!(ping.opcode, 9);
    assert_eq!((close.opcode, close.close_code()), (8, Some(1001)));
    let err = within(ws.recv()).await.unwrap_err();
    assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
    peer.join();
}

#[tokio::test]
async fn keepalive_options_are_checked() {
    let peer = ws_tests::PythonPeer::start();
    let mut ws = within(client().connect_async(&peer.url("/")))
        .await
        .unwrap();
    let s = Duration::from_secs;
    for (interval, timeout, payload) in [
        (Some(s(1)), Some(s(1)), &b""[..]),
        (Some(s(1)), Some(Duration::ZERO), &b""[..]),
        (Some(s(1)), None, &[0u8; 126][..]),
    ] {
        let err = ws.set_keepalive(interval, timeout, payload).unwrap_err();
        assert!(
            matches!(err, Error::InvalidOption(OptionError::OutOfRange { .. })),
            "{err:?}"
        );
    }
}
