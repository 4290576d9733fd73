//! Interoperability with Node's `ws` server (installed by `.ci/run` with npm; the test
//! says SKIPPED where Node or the package is missing).

use ws_client::{CloseCode, DeflateOptions, Message, RequestOptions};
use ws_tests::PythonPeer;

use crate::{client, within};

#[tokio::test]
async fn node_ws_echo_deflate_subprotocol_and_close() {
    let Some(peer) = PythonPeer::start_node() else {
        return;
    };
    let mut ws = within(
        client()
            .request(RequestOptions::new().subprotocols(["chat"]))
            .deflate(Some(DeflateOptions::new()))
            .connect_async(&peer.url("/echo")),
    )
    .await
    .unwrap();
    assert_eq!(ws.subprotocol(), Some("chat"));
    assert!(ws.is_compressed());
    ws.send_text("grüße aus tokio").await.unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Text("grüße aus tokio".into())
    );
    let big = vec![42; 3 << 20];
    ws.send_binary(&big).await.unwrap();
    assert_eq!(within(ws.recv()).await.unwrap(), Message::Binary(big));
    within(ws.close(CloseCode::NORMAL, "done", Some(ws_tests::TIMEOUT)))
        .await
        .unwrap();
    assert_eq!(ws.close_frame().unwrap().code, Some(CloseCode::NORMAL));

    let mut ws = within(client().connect_async(&peer.url("/close")))
        .await
        .unwrap();
    assert_eq!(
        within(ws.recv()).await.unwrap(),
        Message::Close(Some((CloseCode::from_raw(4001), "node says bye".into())))
    );
}
