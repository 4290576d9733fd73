//! Proxies from the environment (`http_proxy`, `HTTPS_PROXY`, `all_proxy`, `no_proxy`, ...;
//! `ProxyConfig::FromEnv`, the default) for the async client and the blocking one,
//! through real `pproxy` servers.
//!
//! Environment variables belong to the whole process, and this crate never changes its
//! own: each test starts this test binary again as a child running only that test, with
//! the variables set on the child's command line (`Command::env`). The child connects
//! and checks the outcome; the parent starts the peers and checks that the child passed.

use std::net::TcpListener;

use ws_client::{ClientBuilder, Error, Message, NetOptions, ProxyConfig, ProxyError, TlsOptions};
use ws_tests::{PythonPeer, TIMEOUT, Tls, echo, ws_server};

use crate::proxy::pproxy;

/// Set in the child: the URL to connect to.
const URL: &str = "WS_TESTS_ENV_URL";
/// Set in the child: what to expect (see [`child`]).
const EXPECT: &str = "WS_TESTS_ENV_EXPECT";
/// Set in the child: which client connects, `async` or `blocking`.
const CLIENT: &str = "WS_TESTS_ENV_CLIENT";
/// Set in the child for `wss://`: the test certificate to trust.
const CA: &str = "WS_TESTS_ENV_CA";

/// Every proxy variable the client reads: cleared in the child unless the test sets it.
const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// A loopback address where nothing listens: a proxy that is never used.
fn dead_proxy() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Runs `test` alone in a child process ([`ws_tests::run_alone`]) with `vars` set and
/// every other proxy variable cleared, once for each client.
fn run_child(test: &str, url: &str, expect: &str, vars: &[(&str, &str)]) {
    for client in ["async", "blocking"] {
        run_child_with(client, test, url, expect, vars);
    }
}

fn run_child_with(client: &str, test: &str, url: &str, expect: &str, vars: &[(&str, &str)]) {
    ws_tests::run_alone(test, |command| {
        for name in PROXY_VARS {
            command.env_remove(name);
        }
        command
            .envs(vars.iter().copied())
            .env(URL, url)
            .env(EXPECT, expect)
            .env(CLIENT, client)
            .env(CA, ws_tests::ca_file());
    });
}

/// The child's side: connects to the URL (with the client [`CLIENT`] names) with the proxy settings of the environment and
/// checks what [`EXPECT`] says: `through:<port>` (connected, the TCP peer is the proxy on
/// `port`, or the server itself when it is the server's port, and the echo works),
/// `refused` (the connect to the dead proxy failed), or `config:<name>` (the variable
/// `name` holds an unusable proxy URL).
fn child() {
    let url = std::env::var(URL).unwrap();
    let expect = std::env::var(EXPECT).unwrap();
    let builder = ClientBuilder::new().timeout(Some(TIMEOUT)).net(
        NetOptions::new()
            .proxy(ProxyConfig::FromEnv)
            .tls(TlsOptions::default().ca_file(std::env::var(CA).unwrap())),
    );
    let result = if std::env::var(CLIENT).unwrap() == "blocking" {
        builder.connect(&url).map(|mut ws| {
            let peer = ws.peer_addr().unwrap();
            ws.send_text("from the environment").unwrap();
            (peer, ws.recv().unwrap())
        })
    } else {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let mut ws = crate::within(builder.connect_async(&url)).await?;
            let peer = ws.peer_addr().unwrap();
            ws.send_text("from the environment").await.unwrap();
            Ok((peer, crate::within(ws.recv()).await.unwrap()))
        })
    };
    if let Some(port) = expect.strip_prefix("through:") {
        let (peer, echoed) = result.unwrap();
        assert_eq!(peer.port(), port.parse::<u16>().unwrap());
        assert_eq!(echoed, Message::Text("from the environment".into()));
    } else if let Some(name) = expect.strip_prefix("config:") {
        let err = result.unwrap_err();
        assert!(
            matches!(&err, Error::Proxy(ProxyError::Config { reason }) if reason.starts_with(name)),
            "{err:?}"
        );
    } else {
        assert_eq!(expect, "refused");
        let err = result.unwrap_err();
        assert!(
            matches!(
                &err,
                Error::Net(ws_client::ws_net::Error::Connect { peer: "proxy", .. })
            ),
            "{err:?}"
        );
    }
}

/// Runs the child of `test` against `url` with a `pproxy` server speaking `protocol`,
/// named as `scheme://127.0.0.1:port` by the variable `var`, and `others` set too: the
/// child must connect through that proxy.
fn through_pproxy(
    test: &str,
    url: &str,
    (protocol, scheme, var): (&str, &str, &str),
    others: &[(&str, &str)],
) {
    let proxy = pproxy(&format!("{protocol}://127.0.0.1:0"));
    let value = format!("{scheme}://127.0.0.1:{}", proxy.port);
    let mut vars = vec![(var, value.as_str())];
    vars.extend_from_slice(others);
    run_child(test, url, &format!("through:{}", proxy.port), &vars);
}

#[test]
fn http_proxy_tunnels_ws() {
    if ws_tests::is_alone() {
        return child();
    }
    let target = PythonPeer::start();
    through_pproxy(
        "env_proxy::http_proxy_tunnels_ws",
        &target.url("/"),
        ("http", "http", "HTTP_PROXY"),
        &[("HTTPS_PROXY", &dead_proxy())],
    );
}

#[test]
fn lower_case_wins_over_upper_case() {
    if ws_tests::is_alone() {
        return child();
    }
    let target = PythonPeer::start();
    through_pproxy(
        "env_proxy::lower_case_wins_over_upper_case",
        &target.url("/"),
        ("http", "http", "http_proxy"),
        &[("HTTP_PROXY", &dead_proxy())],
    );
}

#[test]
fn https_proxy_tunnels_wss() {
    if ws_tests::is_alone() {
        return child();
    }
    // One connection for each client.
    let target = ws_server(2, Tls::On, &[], echo);
    through_pproxy(
        "env_proxy::https_proxy_tunnels_wss",
        &target.wss_url("/"),
        ("http", "http", "HTTPS_PROXY"),
        &[("HTTP_PROXY", &dead_proxy())],
    );
    target.join();
}

#[test]
fn all_proxy_socks5h_is_the_fallback() {
    if ws_tests::is_alone() {
        return child();
    }
    let target = PythonPeer::start();
    through_pproxy(
        "env_proxy::all_proxy_socks5h_is_the_fallback",
        &target.url("/"),
        ("socks5", "socks5h", "ALL_PROXY"),
        &[("HTTPS_PROXY", &dead_proxy())],
    );
}

#[test]
fn no_proxy_connects_directly() {
    if ws_tests::is_alone() {
        return child();
    }
    let target = PythonPeer::start();
    let expect = format!("through:{}", target.port);
    for no_proxy in ["127.0.0.1", "localhost, 127.0.0.1", "*"] {
        run_child(
            "env_proxy::no_proxy_connects_directly",
            &target.url("/"),
            &expect,
            &[("HTTP_PROXY", &dead_proxy()), ("NO_PROXY", no_proxy)],
        );
    }
}

#[test]
fn an_unreachable_env_proxy_is_a_connect_error_naming_the_proxy() {
    if ws_tests::is_alone() {
        return child();
    }
    let target = PythonPeer::start();
    run_child(
        "env_proxy::an_unreachable_env_proxy_is_a_connect_error_naming_the_proxy",
        &target.url("/"),
        "refused",
        &[("ALL_PROXY", &dead_proxy()), ("NO_PROXY", "example.com")],
    );
}

#[test]
fn an_unusable_env_proxy_is_a_config_error_naming_the_variable() {
    if ws_tests::is_alone() {
        return child();
    }
    let target = PythonPeer::start();
    run_child(
        "env_proxy::an_unusable_env_proxy_is_a_config_error_naming_the_variable",
        &target.url("/"),
        "config:http_proxy",
        &[("http_proxy", "ftp://127.0.0.1:21")],
    );
}
