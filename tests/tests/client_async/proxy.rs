//! Every proxy type, through `pproxy`: HTTP CONNECT, SOCKS4, SOCKS4a, SOCKS5 and SOCKS5h,
//! with and without credentials, to the Python server; wrong credentials fail exactly.

use ws_client::{Error, Message, Proxy, ProxyConfig, ProxyError};
use ws_tests::PythonPeer;

use crate::{client, net, within};

/// A `pproxy` server for `uri` (`tests/peers/proxy.py`).
pub(crate) fn pproxy(uri: &str) -> PythonPeer {
    PythonPeer::start_with("proxy.py", &[uri])
}

async fn echo_through(proxy: Proxy, target: &PythonPeer) {
    let mut ws = within(
        client()
            .net(net().proxy(ProxyConfig::Explicit(proxy)))
            .connect_async(&target.url("/")),
    )
    .await
    .unwrap();
    ws.send_text("through the proxy").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("through the proxy".into())
    );
}

#[tokio::test]
async fn every_proxy_kind_tunnels_to_the_server() {
    let target = PythonPeer::start();
    let http = pproxy("http://127.0.0.1:0");
    echo_through(Proxy::http("127.0.0.1", http.port), &target).await;
    let socks4 = pproxy("socks4://127.0.0.1:0");
    echo_through(Proxy::socks4("127.0.0.1", socks4.port), &target).await;
    echo_through(Proxy::socks4a("127.0.0.1", socks4.port), &target).await;
    let socks5 = pproxy("socks5://127.0.0.1:0");
    echo_through(Proxy::socks5("127.0.0.1", socks5.port), &target).await;
    echo_through(Proxy::socks5h("127.0.0.1", socks5.port), &target).await;
}

#[tokio::test]
async fn proxies_with_credentials() {
    let target = PythonPeer::start();
    let http = pproxy("http://127.0.0.1:0#user:pass");
    echo_through(
        Proxy::http("127.0.0.1", http.port).with_auth("user", "pass"),
        &target,
    )
    .await;
    let socks5 = pproxy("socks5://127.0.0.1:0#user:pass");
    echo_through(
        Proxy::socks5("127.0.0.1", socks5.port).with_auth("user", "pass"),
        &target,
    )
    .await;
}

#[tokio::test]
async fn wrong_http_proxy_credentials_fail_with_authentication_failed() {
    let target = PythonPeer::start();
    let http = pproxy("http://127.0.0.1:0#user:pass");
    let err = within(
        client()
            .net(net().proxy(ProxyConfig::Explicit(
                Proxy::http("127.0.0.1", http.port).with_auth("user", "wrong"),
            )))
            .connect_async(&target.url("/")),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Proxy(ProxyError::AuthenticationFailed { .. })),
        "{err:?}"
    );
}
