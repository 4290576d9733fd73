//! Reconnecting: growing delays, fixed delays, attempt limits, which endings reconnect,
//! resets, and the socket function.

use super::*;

#[test]
fn reconnects_with_growing_delays_after_the_server_drops_tcp() {
    // Connections 0..3 end by a TCP drop without a close frame; the last closes normally,
    // which does not reconnect by default.
    let server = serve(4, |i, ws| {
        if i < 3 {
            drop_tcp(ws);
        } else {
            close(ws, 1000, "last");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
    let initial = 50 * MS;
    let options = RunOptions::new().reconnect(Some(
        Reconnect::new()
            .initial_delay(initial)
            .max_attempts(Some(5)),
    ));
    let ended = app.run_forever(&options).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "last");
    let all: Vec<(Instant, String)> = events.try_iter().collect();
    let kinds: Vec<&str> = all.iter().map(|(_, e)| e.as_str()).collect();
    let dropped = [
        "error connection closed (code 1006)",
        r#"close Some(1006) """#,
    ];
    let mut expected = vec!["open"];
    for _ in 0..3 {
        expected.extend(dropped);
        expected.push("reconnect");
    }
    expected.push(r#"close Some(1000) "last""#);
    assert_eq!(kinds, expected);
    // The gap between a close and the next reconnect is the backoff delay (±20 %).
    let closes: Vec<Instant> = all
        .iter()
        .filter(|(_, e)| e.starts_with("close"))
        .map(|(t, _)| *t)
        .collect();
    let opens: Vec<Instant> = all
        .iter()
        .filter(|(_, e)| e == "reconnect")
        .map(|(t, _)| *t)
        .collect();
    let mut delay = initial;
    for (close, open) in closes.iter().zip(&opens) {
        let gap = *open - *close;
        assert!(
            gap + 2 * MS >= delay.mul_f64(0.8) && gap <= delay.mul_f64(1.2) + 2 * TIMEOUT / 10,
            "gap {gap:?} for a delay of {delay:?}"
        );
        delay *= 2;
    }
    server.join();
}

#[test]
fn fixed_delay_can_reconnect_after_normal_closes_until_attempts_run_out() {
    let server = serve(3, |_, ws| close(ws, 1000, "again"));
    let mut app = App::with_handler(server.url("/app"), Counter::default()).client(client());
    let policy = Reconnect::fixed(20 * MS)
        .on_normal_close(true)
        .max_attempts(Some(2));
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "again");
    // The default on_reconnect calls on_open, as Python does.
    assert_eq!(app.handler().opens, 3);
    assert_eq!(app.handler().closes, [Some(1000); 3]);
    server.join();
}

#[test]
fn failed_connects_are_reported_and_end_the_run_without_reconnect() {
    let (mut app, _tx, events) = recording_app(&refused_url());
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert!(matches!(ended, Ended::Failed(Error::Net(_))), "{ended:?}");
    let got = names(&events);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].starts_with("error "), "{got:?}");

    // With a policy, each attempt is reported until the attempts run out.
    let (mut app, _tx, events) = recording_app(&refused_url());
    let policy = Reconnect::new().initial_delay(MS).max_attempts(Some(2));
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert!(matches!(ended, Ended::Failed(Error::Net(_))), "{ended:?}");
    assert_eq!(names(&events).len(), 3);
}

#[test]
fn a_server_close_other_than_1000_reconnects_by_default() {
    let server = serve(2, |i, ws| {
        if i == 0 {
            close(ws, 1012, "restarting");
        } else {
            close(ws, 1000, "done");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
    let policy = Reconnect::new().initial_delay(MS);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "done");
    assert_eq!(
        names(&events),
        [
            "open",
            r#"close Some(1012) "restarting""#,
            "reconnect",
            r#"close Some(1000) "done""#,
        ]
    );
    server.join();
}

#[test]
fn endings_can_be_excluded_from_reconnecting() {
    let server = serve(1, |_, ws| drop_tcp(ws));
    let (mut app, _tx, _events) = recording_app(&server.url("/app"));
    let policy = Reconnect::new().initial_delay(MS).on_error(false);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert!(
        matches!(
            ended,
            Ended::Failed(Error::ConnectionClosed {
                code: Some(CloseCode::ABNORMAL),
                ..
            })
        ),
        "{ended:?}"
    );
    server.join();

    let server = serve(1, |_, ws| close(ws, 1001, "away"));
    let mut app = App::new(server.url("/app")).client(client());
    let policy = Reconnect::new().initial_delay(MS).on_abnormal_close(false);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1001), "away");
    server.join();
}

#[test]
fn delays_start_again_after_a_connection_that_stayed_up() {
    // With reset_after zero every connection counts as stable: the delay never grows.
    let server = serve(4, |i, ws| {
        if i < 3 {
            drop_tcp(ws);
        } else {
            close(ws, 1000, "");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
    let initial = 100 * MS;
    let policy = Reconnect::new()
        .initial_delay(initial)
        .jitter(0.0)
        .reset_after(Duration::ZERO);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "");
    let all: Vec<(Instant, String)> = events.try_iter().collect();
    let mut last_close = None;
    let mut gaps = Vec::new();
    for (at, event) in all {
        if event.starts_with("close") {
            last_close = Some(at);
        } else if event == "reconnect" {
            gaps.push(at - last_close.unwrap());
        }
    }
    assert_eq!(gaps.len(), 3);
    for gap in gaps {
        // Growing delays would be 100, 200 and 400 ms.
        assert!(gap >= initial && gap + 10 * MS < initial * 2, "gap {gap:?}");
    }
    server.join();
}

#[test]
fn an_invalid_url_is_not_retried() {
    let (mut app, _tx, events) = recording_app("ftp://127.0.0.1:1/");
    // Were it retried, the attempt limit would end the run after 3 reports.
    let policy = Reconnect::new().initial_delay(MS).max_attempts(Some(2));
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert!(matches!(ended, Ended::Failed(Error::Url(_))), "{ended:?}");
    assert_eq!(names(&events).len(), 1);
}

#[test]
fn socket_fn_opens_the_tcp_connection_of_every_attempt() {
    let server = serve(2, |i, ws| {
        if i == 0 {
            drop_tcp(ws);
        } else {
            close(ws, 1000, "");
        }
    });
    let addr = server.addr;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    // The URL's host does not resolve: only the socket function can connect.
    let mut app = App::with_handler("ws://unresolvable.invalid/app", Counter::default())
        .client(client())
        .socket_fn(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            std::net::TcpStream::connect(addr)
        });
    let policy = Reconnect::new().initial_delay(MS);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(app.handler().opens, 2);
    server.join();
}
