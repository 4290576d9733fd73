//! Interoperability with Node's `ws` server (installed by `.ci/run` with npm; the test
//! says SKIPPED where Node or the package is missing).

use ws_client::{CloseCode, DeflateOptions, Message, RequestOptions};
use ws_tests::PythonPeer;

use crate::client;

#[test]
fn node_ws_echo_deflate_subprotocol_and_close() {
    let Some(peer) = PythonPeer::start_node() else {
        return;
    };
    let mut ws = client()
        .request(RequestOptions::new().subprotocols(["chat"]))
        .deflate(Some(DeflateOptions::new()))
        .connect(&peer.url("/echo"))
        .unwrap();
    assert_eq!(ws.subprotocol(), Some("chat"));
    assert!(ws.is_compressed());
    ws.send_text("grüße aus rust").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("grüße aus rust".into()));
    let big = vec![42; 3 << 20];
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    ws.close(CloseCode::NORMAL, "done", Some(ws_tests::TIMEOUT))
        .unwrap();
    assert_eq!(ws.close_frame().unwrap().code, Some(CloseCode::NORMAL));

    let mut ws = client().connect(&peer.url("/close")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Close(Some((CloseCode::from_raw(4001), "node says bye".into())))
    );
}
