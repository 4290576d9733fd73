//! Keepalive pings, the ping timeout, the option checks, and an idle loop that sleeps.

use super::*;

#[test]
fn keepalive_pings_carry_the_payload_and_pongs_reach_on_pong() {
    let server = serve(1, |_, ws| {
        let mut pings = 0;
        while pings < 2 {
            match ws.read().unwrap() {
                tungstenite::Message::Ping(p) => {
                    assert_eq!(&p[..], b"are you there");
                    pings += 1;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // The server pings too: the client answers by itself and calls on_ping.
        ws.send(tungstenite::Message::Ping("srv".into())).unwrap();
        loop {
            match ws.read().unwrap() {
                tungstenite::Message::Pong(p) if &p[..] == b"srv" => break,
                tungstenite::Message::Ping(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        close(ws, 1000, "enough");
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
    let options = RunOptions::new()
        .ping_interval(Some(100 * MS))
        .ping_timeout(Some(90 * MS))
        .ping_payload("are you there");
    let ended = app.run_forever(&options).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "enough");
    let got = names(&events);
    let pongs = got
        .iter()
        .filter(|e| *e == r#"pong "are you there""#)
        .count();
    assert!(pongs >= 2, "{got:?}");
    assert!(got.contains(&r#"ping "srv""#.to_owned()), "{got:?}");
    assert!(!got.iter().any(|e| e.starts_with("error")), "{got:?}");
    server.join();
}

#[test]
fn ping_timeout_is_detected_promptly_and_on_close_follows_at_once() {
    let (release, released) = mpsc::channel::<()>();
    let released = Mutex::new(released);
    let server = serve(1, move |_, ws| {
        // Never read again: pings stay unanswered.
        let _ = released.lock().unwrap().recv_timeout(TIMEOUT);
        drop_tcp(ws);
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
    let interval = 300 * MS;
    let timeout = 150 * MS;
    // A close timeout far longer than the bounds below: on_close must not wait for it.
    let options = RunOptions::new()
        .ping_interval(Some(interval))
        .ping_timeout(Some(timeout))
        .close_timeout(3 * TIMEOUT);
    let started = Instant::now();
    let ended = app.run_forever(&options).unwrap();
    let returned = Instant::now();
    release.send(()).unwrap();
    match &ended {
        Ended::Failed(Error::Timeout {
            op: Op::Keepalive,
            limit: Some(limit),
            ..
        }) if *limit == timeout => {}
        other => panic!("expected a ping timeout, got {other:?}"),
    }
    assert!(ended.is_error());
    let (opened, e) = next_event(&events);
    assert_eq!(e, "open");
    let (failed, e) = next_event(&events);
    assert_eq!(e, format!("error ping/pong timed out after {timeout:?}"));
    let (closed, e) = next_event(&events);
    assert_eq!(e, r#"close Some(1006) """#);
    // The first ping goes out one interval after opening; no pong within the timeout.
    // Generous upper bounds (a loaded machine), far below the close timeout.
    let detected = failed - opened;
    assert!(
        detected + 5 * MS >= interval + timeout && detected <= interval + timeout + TIMEOUT / 2,
        "detected after {detected:?}"
    );
    assert!(
        closed - failed < TIMEOUT / 2,
        "on_close {:?} late",
        closed - failed
    );
    assert!(returned - started < interval + timeout + TIMEOUT);
    server.join();
}

#[test]
fn an_idle_connection_does_not_spin() {
    let server = serve(1, |_, ws| drain(ws));
    let (cpu_tx, cpu_rx) = mpsc::channel();
    let (app, tx, events) = recording_app(&server.url("/app"));
    let cpu_open = cpu_tx.clone();
    let app = app
        .on_open(move |_| cpu_open.send(thread_cpu_ticks()).unwrap())
        .on_close(move |_, _, _| {
            cpu_tx.send(thread_cpu_ticks()).unwrap();
            rec(&tx, "close".to_owned());
        });
    let handle = app.handle();
    let options = RunOptions::new()
        .ping_interval(Some(100 * MS))
        .ping_timeout(Some(90 * MS));
    let done = spawn_run(app, options);
    let before = cpu_rx.recv_timeout(TIMEOUT).unwrap();
    // About a second of idling, with a keepalive ping every 100 ms.
    for _ in 0..10 {
        wait_for(&events, "pong");
    }
    handle.close(CloseCode::NORMAL, "").unwrap();
    let after = cpu_rx.recv_timeout(TIMEOUT).unwrap();
    let (_, ended) = done.recv_timeout(TIMEOUT).unwrap();
    assert_closed(&ended.unwrap(), ClosedBy::Local, Some(1000), "");
    if let (Some(before), Some(after)) = (before, after) {
        // A spinning loop burns ~100 ticks (1 s); an idle one next to none.
        assert!(after - before <= 10, "{} ticks of CPU", after - before);
    }
    server.join();
}

#[test]
fn invalid_ping_options_are_refused_with_pythons_messages() {
    let mut app = App::new(refused_url()).client(client());
    let cases = [
        (
            RunOptions::new().ping_timeout(Some(Duration::ZERO)),
            "invalid option: ping_timeout: ensure ping_timeout > 0 (ping_timeout is zero)",
        ),
        (
            RunOptions::new()
                .ping_interval(Some(Duration::from_secs(1)))
                .ping_timeout(Some(Duration::from_secs(1))),
            "invalid option: ping_interval: ensure ping_interval > ping_timeout (interval 1s, timeout 1s)",
        ),
        (
            RunOptions::new().ping_payload(vec![0; 126]),
            "invalid option: ping_payload: 126 bytes, at most 125 allowed",
        ),
        (
            RunOptions::new().reconnect(Some(Reconnect::new().jitter(-0.1))),
            "invalid option: reconnect jitter: must be between 0 and 1, got -0.1",
        ),
    ];
    for (options, text) in cases {
        let err = app.run_forever(&options).unwrap_err();
        assert!(
            matches!(err, Error::InvalidOption(OptionError::OutOfRange { .. })),
            "{err:?}"
        );
        assert_eq!(err.to_string(), text);
    }
    // A timeout without an interval is accepted and has no effect, as in Python.
    let options = RunOptions::new().ping_timeout(Some(Duration::from_secs(1)));
    assert!(matches!(
        app.run_forever(&options),
        Ok(Ended::Failed(Error::Net(_)))
    ));
}

#[test]
fn the_ping_schedule_starts_fresh_on_every_connection() {
    let (first_ping, first_pings) = mpsc::channel();
    let server = serve(2, move |i, ws| {
        let opened = Instant::now();
        // Both connections wait for a ping; the first then vanishes before its pong is
        // written, leaving a ping unanswered.
        loop {
            if let tungstenite::Message::Ping(_) = ws.read().unwrap() {
                break;
            }
        }
        if i == 0 {
            drop_tcp(ws);
        } else {
            first_ping.send(opened.elapsed()).unwrap();
            close(ws, 1000, "");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
    let interval = 200 * MS;
    let options = RunOptions::new()
        .ping_interval(Some(interval))
        .ping_timeout(Some(100 * MS))
        .reconnect(Some(Reconnect::new().initial_delay(MS)));
    let ended = app.run_forever(&options).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "");
    // The second connection's first ping comes a whole interval after it opened, and the
    // unanswered ping of the first connection does not time out the second.
    let waited = first_pings.recv_timeout(TIMEOUT).unwrap();
    assert!(waited + 20 * MS >= interval, "first ping after {waited:?}");
    let got = names(&events);
    assert!(!got.iter().any(|e| e.contains("ping/pong")), "{got:?}");
    assert_eq!(
        got.iter().filter(|e| *e == "reconnect").count(),
        1,
        "{got:?}"
    );
    server.join();
}
