//! `App::run_forever` against real peers on loopback: callback order, fragments,
//! keepalive and ping timeouts, reconnect with backoff, closing from any thread, panicking
//! callbacks, and an idle loop that does not spin.

#[path = "app/support.rs"]
mod support;

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use tungstenite::protocol::frame::Frame as TFrame;
use tungstenite::protocol::frame::coding::{Data, OpCode as TOpCode};
use ws_client::{
    App, AppHandle, ClientBuilder, CloseCode, ClosedBy, Ended, Error, Handler, Message, Op,
    Reconnect, RunOptions,
};

use support::{
    TIMEOUT, close, drain, names, next_event, rec, recording_app, refused_url, serve, wait_for,
};

const MS: Duration = Duration::from_millis(1);

/// Runs the app in a thread; the receiver gets the result and when it came.
fn spawn_run<H: Handler + Send + 'static>(
    mut app: App<H>,
    options: RunOptions,
) -> Receiver<(Instant, ws_client::Result<Ended>)> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let ended = app.run_forever(&options);
        let _ = tx.send((Instant::now(), ended));
    });
    rx
}

#[allow(clippy::panic, reason = "a test helper: the panic is the test failure")]
fn assert_closed(ended: &Ended, by: ClosedBy, code: Option<u16>, reason: &str) {
    match ended {
        Ended::Closed {
            by: b,
            code: c,
            reason: r,
        } => {
            assert_eq!((*b, c.map(u16::from), r.as_str()), (by, code, reason));
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

#[test]
fn callbacks_run_in_order_when_the_server_closes() {
    let server = serve(1, |_, mut ws| {
        assert_eq!(ws.read().unwrap(), tungstenite::Message::text("hello"));
        ws.send(tungstenite::Message::text("a")).unwrap();
        ws.send(tungstenite::Message::binary(vec![1, 2, 3]))
            .unwrap();
        close(&mut ws, 1000, "bye");
    });
    let (app, tx, events) = recording_app(&server.url());
    let mut app = app.on_open(move |app| {
        rec(&tx, "open".to_owned());
        app.send_text("hello").unwrap();
    });
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "bye");
    assert!(!ended.is_error());
    assert_eq!(
        names(&events),
        [
            "open",
            r#"data text "a" true"#,
            r#"message text "a""#,
            "data binary \"\\u{1}\\u{2}\\u{3}\" true",
            "message binary [1, 2, 3]",
            r#"close Some(1000) "bye""#,
        ]
    );
    server.join();
}

#[test]
fn closing_in_a_callback_ends_with_the_servers_reply() {
    let server = serve(1, |_, mut ws| {
        // Echo until the client's close, which tungstenite answers with the same frame.
        loop {
            match ws.read() {
                Ok(m @ tungstenite::Message::Text(_)) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let (app, tx, events) = recording_app(&server.url());
    let mut app = app
        .on_open(|app| app.send_text("one").unwrap())
        .on_message(move |app, m| {
            rec(&tx, format!("message {m:?}"));
            app.close(CloseCode::GOING_AWAY, "done").unwrap();
            // A second close is ignored; sending after the close fails.
            app.close(CloseCode::NORMAL, "again").unwrap();
            assert!(matches!(
                app.send_text("late"),
                Err(Error::ConnectionClosed { .. })
            ));
        });
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert_closed(&ended, ClosedBy::Local, Some(1001), "done");
    assert_eq!(
        names(&events),
        [
            r#"data text "one" true"#,
            r#"message Text("one")"#,
            r#"close Some(1001) "done""#
        ]
    );
    server.join();
}

#[test]
fn fragmented_messages_give_each_fragment_and_the_message_opcode() {
    let server = serve(1, |_, mut ws| {
        let frames = [
            TFrame::message("hel", TOpCode::Data(Data::Text), false),
            TFrame::message("lo w", TOpCode::Data(Data::Continue), false),
            TFrame::message("örld", TOpCode::Data(Data::Continue), true),
            TFrame::message(vec![1], TOpCode::Data(Data::Binary), false),
            TFrame::message(vec![2], TOpCode::Data(Data::Continue), true),
        ];
        for frame in frames {
            ws.send(tungstenite::Message::Frame(frame)).unwrap();
        }
        close(&mut ws, 1000, "");
    });
    let (mut app, _tx, events) = recording_app(&server.url());
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "");
    assert_eq!(
        names(&events),
        [
            "open",
            r#"cont "hel" false"#,
            r#"cont "lo w" false"#,
            r#"cont "örld" true"#,
            r#"data text "hello wörld" true"#,
            r#"message text "hello wörld""#,
            "cont \"\\u{1}\" false",
            "cont \"\\u{2}\" true",
            "data binary \"\\u{1}\\u{2}\" true",
            "message binary [1, 2]",
            r#"close Some(1000) """#,
        ]
    );
    server.join();
}

#[test]
fn keepalive_pings_carry_the_payload_and_pongs_reach_on_pong() {
    let server = serve(1, |_, mut ws| {
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
        close(&mut ws, 1000, "enough");
    });
    let (mut app, _tx, events) = recording_app(&server.url());
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
    let server = serve(1, move |_, ws| {
        // Never read again: pings stay unanswered.
        let _ = released.recv_timeout(TIMEOUT);
        drop(ws);
    });
    let (mut app, _tx, events) = recording_app(&server.url());
    let interval = 300 * MS;
    let timeout = 150 * MS;
    let options = RunOptions::new()
        .ping_interval(Some(interval))
        .ping_timeout(Some(timeout));
    let started = Instant::now();
    let ended = app.run_forever(&options).unwrap();
    let returned = Instant::now();
    release.send(()).unwrap();
    match &ended {
        Ended::Failed(Error::Timeout {
            op: Op::Keepalive, ..
        }) => {}
        other => panic!("expected a ping timeout, got {other:?}"),
    }
    assert!(ended.is_error());
    let (opened, e) = next_event(&events);
    assert_eq!(e, "open");
    let (failed, e) = next_event(&events);
    assert_eq!(e, "error ping/pong timed out");
    let (closed, e) = next_event(&events);
    assert_eq!(e, r#"close Some(1006) """#);
    // The first ping goes out one interval after opening; no pong within the timeout.
    let detected = failed - opened;
    assert!(
        detected + 5 * MS >= interval + timeout && detected <= interval + timeout + 400 * MS,
        "detected after {detected:?}"
    );
    assert!(
        closed - failed < 100 * MS,
        "on_close {:?} late",
        closed - failed
    );
    assert!(returned - started < interval + timeout + TIMEOUT / 10);
    server.join();
}

#[test]
fn reconnects_with_growing_delays_after_the_server_drops_tcp() {
    // Connections 0..3 end by a TCP drop without a close frame; the last closes normally,
    // which does not reconnect by default.
    let server = serve(4, |i, mut ws| {
        if i < 3 {
            drop(ws);
        } else {
            close(&mut ws, 1000, "last");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url());
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
            gap + 2 * MS >= delay.mul_f64(0.8) && gap <= delay.mul_f64(1.2) + 500 * MS,
            "gap {gap:?} for a delay of {delay:?}"
        );
        delay *= 2;
    }
    server.join();
}

/// Counts opens and closes; `on_reconnect` is not overridden.
#[derive(Default)]
struct Counter {
    opens: usize,
    closes: Vec<Option<u16>>,
}

impl Handler for Counter {
    fn on_open(&mut self, _: &AppHandle) {
        self.opens += 1;
    }

    fn on_close(&mut self, _: &AppHandle, code: Option<CloseCode>, _: &str) {
        self.closes.push(code.map(u16::from));
    }
}

#[test]
fn fixed_delay_can_reconnect_after_normal_closes_until_attempts_run_out() {
    let server = serve(3, |_, mut ws| close(&mut ws, 1000, "again"));
    let mut app = App::with_handler(server.url(), Counter::default());
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
fn close_during_a_backoff_wait_ends_the_run_at_once() {
    let server = serve(1, |_, ws| drop(ws));
    let (app, _tx, events) = recording_app(&server.url());
    let handle = app.handle();
    let policy = Reconnect::fixed(TIMEOUT);
    let done = spawn_run(app, RunOptions::new().reconnect(Some(policy)));
    wait_for(&events, "close");
    let asked = Instant::now();
    handle.close(CloseCode::NORMAL, "").unwrap();
    let (returned, ended) = done.recv_timeout(TIMEOUT).unwrap();
    assert!(matches!(ended, Ok(Ended::Stopped)), "{ended:?}");
    assert!(returned - asked < 500 * MS, "took {:?}", returned - asked);
    assert!(!handle.is_connected());
    server.join();
}

#[test]
fn handle_sends_and_closes_from_another_thread() {
    let server = serve(1, |_, mut ws| {
        loop {
            match ws.read() {
                Ok(m @ tungstenite::Message::Text(_)) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let (app, _tx, events) = recording_app(&server.url());
    let handle = app.handle();
    assert!(matches!(
        handle.send_text("too early"),
        Err(Error::ConnectionClosed { .. })
    ));
    let done = spawn_run(app, RunOptions::new());
    wait_for(&events, "open");
    assert!(handle.is_connected());
    handle.send_text("from a thread").unwrap();
    wait_for(&events, r#"message text "from a thread""#);
    handle.close(CloseCode::NORMAL, "bye").unwrap();
    let (_, ended) = done.recv_timeout(TIMEOUT).unwrap();
    assert_closed(&ended.unwrap(), ClosedBy::Local, Some(1000), "bye");
    assert_eq!(next_event(&events).1, r#"close Some(1000) "bye""#);
    server.join();
}

#[test]
fn close_from_another_thread_is_bounded_against_a_dead_peer() {
    let (release, released) = mpsc::channel::<()>();
    let server = serve(1, move |_, ws| {
        let _ = released.recv_timeout(TIMEOUT);
        drop(ws);
    });
    let (app, _tx, events) = recording_app(&server.url());
    let handle = app.handle();
    let close_timeout = 300 * MS;
    // No keepalive: the run loop blocks in a read without a timeout.
    let done = spawn_run(app, RunOptions::new().close_timeout(close_timeout));
    wait_for(&events, "open");
    let asked = Instant::now();
    handle.close(CloseCode::NORMAL, "").unwrap();
    assert!(asked.elapsed() < 100 * MS, "close() blocked");
    let (returned, ended) = done.recv_timeout(TIMEOUT).unwrap();
    release.send(()).unwrap();
    assert_closed(&ended.unwrap(), ClosedBy::Local, Some(1006), "");
    let took = returned - asked;
    assert!(
        took + 5 * MS >= close_timeout && took < close_timeout + 500 * MS,
        "took {took:?}"
    );
    assert_eq!(next_event(&events).1, r#"close Some(1006) """#);
    server.join();
}

#[test]
fn close_before_the_run_stops_it_without_connecting() {
    let (app, _tx, events) = recording_app(&refused_url());
    app.handle().close(CloseCode::NORMAL, "").unwrap();
    let mut app = app;
    assert!(matches!(
        app.run_forever(&RunOptions::new()),
        Ok(Ended::Stopped)
    ));
    assert!(names(&events).is_empty());
}

#[test]
fn invalid_close_codes_are_refused_by_the_handle() {
    let app = App::new(refused_url());
    let handle = app.handle();
    for code in [1005, 1006, 1015, 999] {
        let err = handle.close(CloseCode::from_raw(code), "").unwrap_err();
        assert!(matches!(err, Error::InvalidFrame(_)), "{code}: {err:?}");
    }
    let err = handle
        .close(CloseCode::NORMAL, &"x".repeat(124))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "refusing to send an invalid frame: close reason is 124 bytes, at most 123 allowed"
    );
}

#[test]
fn a_panicking_callback_is_reported_once_and_closes_with_1011() {
    let (code_tx, code_rx) = mpsc::channel();
    let server = serve(1, move |_, mut ws| {
        ws.send(tungstenite::Message::text("trigger")).unwrap();
        loop {
            match ws.read() {
                Ok(tungstenite::Message::Close(frame)) => {
                    let _ = code_tx.send(frame.map(|f| u16::from(f.code)));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let errors = Arc::new(AtomicUsize::new(0));
    let (app, tx, events) = recording_app(&server.url());
    let mut app = app.on_message(|_, _| panic!("boom")).on_error({
        let errors = Arc::clone(&errors);
        move |_, e| {
            rec(&tx, format!("error {e}"));
            errors.fetch_add(1, Ordering::SeqCst);
            // A panic in on_error is only logged: no recursion.
            panic!("on_error fails too");
        }
    });
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    match &ended {
        Ended::Failed(Error::Callback { callback, message }) => {
            assert_eq!(callback.to_string(), "on_message");
            assert_eq!(message, "boom");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(errors.load(Ordering::SeqCst), 1);
    assert_eq!(
        names(&events),
        [
            "open",
            r#"data text "trigger" true"#,
            "error callback on_message panicked: boom",
            r#"close Some(1011) """#,
        ]
    );
    assert_eq!(code_rx.recv_timeout(TIMEOUT).unwrap(), Some(1011));
    server.join();
    // The app is usable again: nothing was left running.
    assert!(!app.handle().is_connected());
}

#[test]
fn invalid_ping_options_are_refused_with_pythons_messages() {
    let mut app = App::new(refused_url());
    let cases = [
        (
            RunOptions::new().ping_timeout(Some(Duration::ZERO)),
            "invalid option: ensure ping_timeout > 0 (ping_timeout is zero)",
        ),
        (
            RunOptions::new()
                .ping_interval(Some(Duration::from_secs(1)))
                .ping_timeout(Some(Duration::from_secs(1))),
            "invalid option: ensure ping_interval > ping_timeout (interval 1s, timeout 1s)",
        ),
        (
            RunOptions::new().ping_payload(vec![0; 126]),
            "invalid option: ping_payload is 126 bytes, at most 125 allowed",
        ),
        (
            RunOptions::new().reconnect(Some(Reconnect::new().jitter(-0.1))),
            "invalid option: reconnect jitter must be between 0 and 1, got -0.1",
        ),
    ];
    for (options, text) in cases {
        let err = app.run_forever(&options).unwrap_err();
        assert!(matches!(err, Error::InvalidOption(_)), "{err:?}");
        assert_eq!(err.to_string(), text);
    }
    // A timeout without an interval is accepted and has no effect, as in Python.
    let options = RunOptions::new().ping_timeout(Some(Duration::from_secs(1)));
    assert!(matches!(
        app.run_forever(&options),
        Ok(Ended::Failed(Error::Net(_)))
    ));
}

/// CPU time (user + system, in clock ticks) of the calling thread, where Linux tells.
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[test]
fn an_idle_connection_does_not_spin() {
    let server = serve(1, |_, mut ws| drain(&mut ws));
    let (cpu_tx, cpu_rx) = mpsc::channel();
    let (app, tx, events) = recording_app(&server.url());
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
fn recv_frame_keeps_a_frame_cut_by_a_read_timeout() {
    let (go, went) = mpsc::channel::<()>();
    let server = serve(1, move |_, mut ws| {
        let payload = vec![7_u8; 10_000];
        let tcp = ws.get_mut();
        // A 10 000-byte binary frame (16-bit length), sent in two halves.
        tcp.write_all(&[0x82, 126, 0x27, 0x10]).unwrap();
        tcp.write_all(&payload[..6_000]).unwrap();
        went.recv_timeout(TIMEOUT).unwrap();
        tcp.write_all(&payload[6_000..]).unwrap();
        drain(&mut ws);
    });
    let mut ws = ClientBuilder::new().connect(&server.url()).unwrap();
    ws.set_read_timeout(Some(100 * MS)).unwrap();
    let err = ws.recv_frame().unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    go.send(()).unwrap();
    let frame = ws.recv_frame().unwrap();
    // Compared by length and content: a failure must not print 10 000 numbers.
    assert_eq!(frame.payload.len(), 10_000);
    assert!(frame.payload.iter().all(|&b| b == 7));
    ws.set_read_timeout(Some(TIMEOUT)).unwrap();
    ws.close(CloseCode::NORMAL, "", Some(TIMEOUT)).unwrap();
    server.join();
}

#[test]
fn messages_reach_a_handler_implementation() {
    struct Collect(Vec<Message>);
    impl Handler for Collect {
        fn on_message(&mut self, app: &AppHandle, message: Message) {
            self.0.push(message);
            if self.0.len() == 2 {
                app.close(CloseCode::NORMAL, "").unwrap();
            }
        }
    }
    let server = serve(1, |_, mut ws| {
        ws.send(tungstenite::Message::text("x")).unwrap();
        ws.send(tungstenite::Message::binary(vec![9])).unwrap();
        drain(&mut ws);
    });
    let mut app = App::with_handler(server.url(), Collect(Vec::new()));
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert_closed(&ended, ClosedBy::Local, Some(1000), "");
    assert_eq!(
        app.into_handler().0,
        [Message::Text("x".into()), Message::Binary(vec![9])]
    );
    server.join();
}

#[test]
fn a_server_close_other_than_1000_reconnects_by_default() {
    let server = serve(2, |i, mut ws| {
        if i == 0 {
            close(&mut ws, 1012, "restarting");
        } else {
            close(&mut ws, 1000, "done");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url());
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
    let server = serve(1, |_, ws| drop(ws));
    let (mut app, _tx, _events) = recording_app(&server.url());
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

    let server = serve(1, |_, mut ws| close(&mut ws, 1001, "away"));
    let mut app = App::new(server.url());
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
    let server = serve(4, |i, mut ws| {
        if i < 3 {
            drop(ws);
        } else {
            close(&mut ws, 1000, "");
        }
    });
    let (mut app, _tx, events) = recording_app(&server.url());
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
    let server = serve(2, |i, mut ws| {
        if i == 0 {
            drop(ws);
        } else {
            close(&mut ws, 1000, "");
        }
    });
    let addr = server.addr;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    // The URL's host does not resolve: only the socket function can connect.
    let mut app = App::with_handler("ws://unresolvable.invalid/app", Counter::default()).socket_fn(
        move || {
            counted.fetch_add(1, Ordering::SeqCst);
            std::net::TcpStream::connect(addr)
        },
    );
    let policy = Reconnect::new().initial_delay(MS);
    let ended = app
        .run_forever(&RunOptions::new().reconnect(Some(policy)))
        .unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(app.handler().opens, 2);
    server.join();
}
