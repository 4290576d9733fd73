//! Redirects leak nothing, whichever client follows them (`client/redirects.rs` and
//! `client_async/redirects.rs` include this file and run each case with their client):
//! credentials stay with the first origin unless the caller opts in, and `wss://` never
//! silently becomes `ws://`. Each server records the request head it received.

use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc::{self, Receiver};

use ws_client::{ClientBuilder, Error, RedirectCredentials, RedirectDowngrade, RequestOptions};
use ws_tests::{
    Peer, TIMEOUT, accept_raw, answer_101, header_value, read_request_head, tcp_server, tls_accept,
};

use crate::{client, tls_client};

/// Connects with a client (blocking or async) to a URL; returns the URL it ended at.
pub(crate) type Connect = fn(&ClientBuilder, &str) -> Result<String, Error>;

/// A server for one connection that completes the upgrade and reports the request head.
fn recorder() -> (Peer, Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let peer = tcp_server(1, move |mut tcp| {
        tx.send(accept_raw(&mut tcp, b"")).unwrap();
    });
    (peer, rx)
}

/// A server for one connection that answers 301 to `location` and reports the request
/// head; over TLS with the test certificate when `tls` is set.
fn redirector(location: String, tls: ws_tests::Tls) -> (Peer, Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let peer = tcp_server(1, move |tcp| {
        let mut stream = match tls {
            ws_tests::Tls::On => tls_accept(tcp),
            ws_tests::Tls::Off => ws_tests::PeerStream::Plain(tcp),
        };
        tx.send(read_request_head(&mut stream)).unwrap();
        write!(
            stream,
            "HTTP/1.1 301 Moved Permanently\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
        )
        .unwrap();
        stream.flush().unwrap();
    });
    (peer, rx)
}

/// The sensitive headers of `head` that are present.
fn credentials_in(head: &str) -> Vec<&'static str> {
    ["Authorization", "Cookie", "X-Api-Key"]
        .into_iter()
        .filter(|name| header_value(head, name).is_some())
        .collect()
}

pub(crate) fn cross_origin_redirect_drops_credentials(connect: Connect) {
    let (second, second_rx) = recorder();
    let (first, first_rx) = redirector(second.url("/landing"), ws_tests::Tls::Off);
    let ended_at = connect(
        &client()
            .request(
                RequestOptions::new()
                    .header("Authorization", "Bearer s3cret")
                    .header("User-Agent", "redirect-test")
                    .cookie("session=abc"),
            )
            .header_fn(|| vec![("X-Api-Key".to_owned(), "k3y".to_owned())]),
        &first.url("/start"),
    )
    .unwrap();
    assert_eq!(ended_at, second.url("/landing"));
    let first_head = first_rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(
        credentials_in(&first_head),
        ["Authorization", "Cookie", "X-Api-Key"],
        "{first_head}"
    );
    let second_head = second_rx.recv_timeout(TIMEOUT).unwrap();
    assert!(second_head.starts_with("GET /landing "), "{second_head}");
    assert!(credentials_in(&second_head).is_empty(), "{second_head}");
    assert!(!second_head.contains("s3cret") && !second_head.contains("k3y"));
    // Headers that are not credentials still go along.
    assert_eq!(
        header_value(&second_head, "User-Agent"),
        Some("redirect-test")
    );
    first.join();
    second.join();
}

pub(crate) fn cross_origin_redirect_drops_url_credentials(connect: Connect) {
    let (second, second_rx) = recorder();
    let (first, first_rx) = redirector(second.url("/"), ws_tests::Tls::Off);
    let url = format!("ws://alice:wonderland@{}/", first.addr);
    connect(&client(), &url).unwrap();
    let first_head = first_rx.recv_timeout(TIMEOUT).unwrap();
    // base64("alice:wonderland")
    assert_eq!(
        header_value(&first_head, "Authorization"),
        Some("Basic YWxpY2U6d29uZGVybGFuZA==")
    );
    let second_head = second_rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(
        header_value(&second_head, "Authorization"),
        None,
        "{second_head}"
    );
    first.join();
    second.join();
}

pub(crate) fn same_origin_redirect_keeps_credentials(connect: Connect) {
    let (tx, rx) = mpsc::channel();
    let peer = tcp_server(2, move |mut tcp| {
        let head = read_request_head(&mut tcp);
        if head.starts_with("GET /old ") {
            tcp.write_all(
                b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /new\r\nContent-Length: 0\r\n\r\n",
            )
            .unwrap();
        } else {
            answer_101(&mut tcp, &head, b"");
            tx.send(head).unwrap();
        }
    });
    let url = format!("ws://alice:wonderland@{}/old", peer.addr);
    let ended_at = connect(
        &client().request(
            RequestOptions::new()
                .header("X-Api-Key", "k3y")
                .cookie("session=abc"),
        ),
        &url,
    )
    .unwrap();
    assert_eq!(ended_at, peer.url("/new"));
    let head = rx.recv_timeout(TIMEOUT).unwrap();
    assert!(head.starts_with("GET /new "), "{head}");
    assert_eq!(
        header_value(&head, "Authorization"),
        Some("Basic YWxpY2U6d29uZGVybGFuZA=="),
        "{head}"
    );
    assert_eq!(header_value(&head, "Cookie"), Some("session=abc"));
    assert_eq!(header_value(&head, "X-Api-Key"), Some("k3y"));
    peer.join();
}

pub(crate) fn opting_in_sends_credentials_to_another_origin(connect: Connect) {
    let (second, second_rx) = recorder();
    let (first, _first_rx) = redirector(second.url("/"), ws_tests::Tls::Off);
    connect(
        &client()
            .redirect_credentials(RedirectCredentials::Always)
            .request(
                RequestOptions::new()
                    .header("Authorization", "Bearer s3cret")
                    .header("X-Api-Key", "k3y")
                    .cookie("session=abc"),
            ),
        &first.url("/"),
    )
    .unwrap();
    let head = second_rx.recv_timeout(TIMEOUT).unwrap();
    assert_eq!(header_value(&head, "Authorization"), Some("Bearer s3cret"));
    assert_eq!(header_value(&head, "Cookie"), Some("session=abc"));
    assert_eq!(header_value(&head, "X-Api-Key"), Some("k3y"));
    first.join();
    second.join();
}

pub(crate) fn redirect_from_wss_to_ws_is_refused(connect: Connect) {
    // Nothing may connect here: the client must refuse before opening the plain hop.
    let plain = TcpListener::bind("127.0.0.1:0").unwrap();
    let location = format!(
        "ws://localhost:{}/plain",
        plain.local_addr().unwrap().port()
    );
    let (first, first_rx) = redirector(location.clone(), ws_tests::Tls::On);
    let err = connect(
        &tls_client().request(RequestOptions::new().header("Authorization", "Bearer s3cret")),
        &first.wss_url("/"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::InsecureRedirect { location: l } if *l == location),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("refusing redirect from wss:// to insecure {location}")
    );
    let head = first_rx.recv_timeout(TIMEOUT).unwrap();
    assert!(head.starts_with("GET / "), "{head}");
    plain.set_nonblocking(true).unwrap();
    let accepted = plain.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the client connected to the plain target: {accepted:?}"
    );
    first.join();
}

pub(crate) fn redirect_from_wss_to_ws_can_be_allowed_without_credentials(connect: Connect) {
    let (plain, plain_rx) = recorder();
    let location = format!("ws://localhost:{}/plain", plain.addr.port());
    let (first, _first_rx) = redirector(location.clone(), ws_tests::Tls::On);
    let ended_at = connect(
        &tls_client()
            .redirect_downgrade(RedirectDowngrade::Allow)
            .request(RequestOptions::new().header("Authorization", "Bearer s3cret")),
        &first.wss_url("/"),
    )
    .unwrap();
    assert_eq!(ended_at, location);
    let head = plain_rx.recv_timeout(TIMEOUT).unwrap();
    // Another scheme is another origin: credentials stay behind.
    assert_eq!(header_value(&head, "Authorization"), None, "{head}");
    first.join();
    plain.join();
}
