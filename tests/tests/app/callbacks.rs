//! Which callbacks run, in which order, with what: messages, fragments, a `Handler`
//! implementation, a panicking callback.

use super::*;

#[test]
fn callbacks_run_in_order_when_the_server_closes() {
    let server = serve(1, |_, ws| {
        assert_eq!(ws.read().unwrap(), tungstenite::Message::text("hello"));
        ws.send(tungstenite::Message::text("a")).unwrap();
        ws.send(tungstenite::Message::binary(vec![1, 2, 3]))
            .unwrap();
        close(ws, 1000, "bye");
    });
    let (app, tx, events) = recording_app(&server.url("/app"));
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
    let server = serve(1, |_, ws| {
        // Echo until the client's close, which tungstenite answers with the same frame.
        loop {
            match ws.read() {
                Ok(m @ tungstenite::Message::Text(_)) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let (app, tx, events) = recording_app(&server.url("/app"));
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
    let server = serve(1, |_, ws| {
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
        close(ws, 1000, "");
    });
    let (mut app, _tx, events) = recording_app(&server.url("/app"));
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
    let server = serve(1, |_, ws| {
        ws.send(tungstenite::Message::text("x")).unwrap();
        ws.send(tungstenite::Message::binary(vec![9])).unwrap();
        drain(ws);
    });
    let mut app = App::with_handler(server.url("/app"), Collect(Vec::new())).client(client());
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert_closed(&ended, ClosedBy::Local, Some(1000), "");
    assert_eq!(
        app.into_handler().0,
        [Message::Text("x".into()), Message::Binary(vec![9])]
    );
    server.join();
}

#[test]
fn a_panicking_callback_is_reported_once_and_closes_with_1011() {
    let (code_tx, code_rx) = mpsc::channel();
    let server = serve(1, move |_, ws| {
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
    let (app, tx, events) = recording_app(&server.url("/app"));
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
fn the_app_works_over_tls_with_keepalive() {
    let server = ws_server(1, Tls::On, &[], |ws| {
        let mut pings = 0;
        loop {
            match ws.read().unwrap() {
                tungstenite::Message::Text(t) => ws.send(tungstenite::Message::Text(t)).unwrap(),
                tungstenite::Message::Ping(_) => {
                    pings += 1;
                    if pings == 2 {
                        break;
                    }
                }
                _ => {}
            }
        }
        close(ws, 1000, "tls done");
    });
    let (app, _tx, events) = recording_app(&server.wss_url("/app"));
    let mut app = app
        .client(client().net(net().tls(TlsOptions::default().ca_file(ws_tests::ca_file()))))
        .on_open(|app| app.send_text("over tls").unwrap());
    let options = RunOptions::new()
        .ping_interval(Some(50 * MS))
        .ping_timeout(Some(40 * MS));
    let ended = app.run_forever(&options).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "tls done");
    let got = names(&events);
    assert!(
        got.contains(&r#"message text "over tls""#.to_owned()),
        "{got:?}"
    );
    assert_eq!(got.last().unwrap(), r#"close Some(1000) "tls done""#);
    server.join();
}

/// The handle has the whole send surface of `Sender`: batched writes, a flush and raw
/// frames reach the server in order.
#[test]
fn the_handle_writes_batches_and_raw_frames() {
    let server = serve(1, |_, ws| {
        assert_eq!(ws.read().unwrap(), tungstenite::Message::text("one"));
        assert_eq!(ws.read().unwrap(), tungstenite::Message::text("two"));
        assert_eq!(ws.read().unwrap(), tungstenite::Message::binary(vec![7, 8]));
        close(ws, 1000, "done");
    });
    let (app, _tx, _events) = recording_app(&server.url("/app"));
    let mut app = app.on_open(|app| {
        app.write(&Message::Text("one".into())).unwrap();
        app.write(&Message::Text("two".into())).unwrap();
        app.flush().unwrap();
        app.send_frame(&ws_client::Frame::new(
            ws_client::OpCode::Binary,
            vec![7, 8],
        ))
        .unwrap();
    });
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert_closed(&ended, ClosedBy::Peer, Some(1000), "done");
    server.join();
}

/// The engine options given to the builder with `connection` hold in an `App` too: a
/// message over the builder's message limit fails the run with the limit's error, and
/// the server gets close code 1009.
#[test]
fn the_builders_connection_options_hold_in_an_app() {
    use ws_client::Limits;
    use ws_client::ws_frame::{Config, ProtocolError};

    let server = serve(1, |_, ws| {
        ws.send(tungstenite::Message::binary(vec![7; 100])).unwrap();
        match ws.read() {
            Ok(tungstenite::Message::Close(Some(frame))) => {
                assert_eq!(u16::from(frame.code), 1009);
            }
            other => panic!("expected a close frame with 1009, got {other:?}"),
        }
    });
    let config = Config::new().limits(Limits::default().max_message_size(Some(64)));
    let mut app = App::new(server.url("/app")).client(client().connection(config));
    let ended = app.run_forever(&RunOptions::new()).unwrap();
    assert!(
        matches!(
            ended,
            Ended::Failed(Error::Protocol(ProtocolError::MessageTooLarge {
                limit: 64,
                ..
            }))
        ),
        "{ended:?}"
    );
    server.join();
}
