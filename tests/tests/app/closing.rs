//! Closing from callbacks and other threads: the close bound against a dead peer, a
//! close during a backoff wait, before the run; and `recv_frame` across read timeouts.

use super::*;
use ws_frame::{CloseEncodeError, SendError};

#[test]
fn close_during_a_backoff_wait_ends_the_run_at_once() {
    let server = serve(1, |_, ws| drop_tcp(ws));
    let (app, _tx, events) = recording_app(&server.url("/app"));
    let handle = app.handle();
    let policy = Reconnect::fixed(TIMEOUT);
    let done = spawn_run(app, RunOptions::new().reconnect(Some(policy)));
    wait_for(&events, "close");
    let asked = Instant::now();
    handle.close(CloseCode::NORMAL, "").unwrap();
    let (returned, ended) = done.recv_timeout(TIMEOUT).unwrap();
    assert!(matches!(ended, Ok(Ended::Stopped)), "{ended:?}");
    // Far below the 10 s backoff, generous for a loaded machine.
    assert!(
        returned - asked < TIMEOUT / 2,
        "took {:?}",
        returned - asked
    );
    assert!(!handle.is_connected());
    server.join();
}

#[test]
fn handle_sends_and_closes_from_another_thread() {
    let server = serve(1, |_, ws| {
        loop {
            match ws.read() {
                Ok(m @ tungstenite::Message::Text(_)) => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let (app, _tx, events) = recording_app(&server.url("/app"));
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
    let released = Mutex::new(released);
    let server = serve(1, move |_, ws| {
        let _ = released.lock().unwrap().recv_timeout(TIMEOUT);
        drop_tcp(ws);
    });
    let (app, _tx, events) = recording_app(&server.url("/app"));
    let handle = app.handle();
    let close_timeout = 2000 * MS;
    // No keepalive: the run loop blocks in a read without a timeout.
    let done = spawn_run(app, RunOptions::new().close_timeout(close_timeout));
    wait_for(&events, "open");
    let asked = Instant::now();
    handle.close(CloseCode::NORMAL, "").unwrap();
    // close() only asks: it returns long before the close timeout runs out.
    assert!(asked.elapsed() < close_timeout / 2, "close() blocked");
    let (returned, ended) = done.recv_timeout(TIMEOUT).unwrap();
    release.send(()).unwrap();
    assert_closed(&ended.unwrap(), ClosedBy::Local, Some(1006), "");
    let took = returned - asked;
    assert!(
        took + 5 * MS >= close_timeout && took < close_timeout + 3000 * MS,
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
    let app = App::new(refused_url()).client(client());
    let handle = app.handle();
    for code in [1005, 1006, 1015, 999] {
        let err = handle.close(CloseCode::from_raw(code), "").unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidFrame(SendError::Close(CloseEncodeError::UnsendableCode(c)))
                    if u16::from(*c) == code
            ),
            "{code}: {err:?}"
        );
    }
    let err = handle
        .close(CloseCode::NORMAL, &"x".repeat(124))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidFrame(SendError::Close(CloseEncodeError::ReasonTooLong {
            len: 124
        }))
    ));
    assert_eq!(
        err.to_string(),
        "refusing to send an invalid frame: close reason is 124 bytes, at most 123 allowed"
    );
}

#[test]
fn recv_frame_keeps_a_frame_cut_by_a_read_timeout() {
    let (go, went) = mpsc::channel::<()>();
    let went = Mutex::new(went);
    let server = serve(1, move |_, ws| {
        let payload = vec![7_u8; 10_000];
        let tcp = ws.get_mut();
        // A 10 000-byte binary frame (16-bit length), sent in two halves.
        tcp.write_all(&[0x82, 126, 0x27, 0x10]).unwrap();
        tcp.write_all(&payload[..6_000]).unwrap();
        went.lock().unwrap().recv_timeout(TIMEOUT).unwrap();
        tcp.write_all(&payload[6_000..]).unwrap();
        drain(ws);
    });
    let mut ws = client().connect(&server.url("/app")).unwrap();
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
