//! Interoperability with an independent implementation: Python's `websockets` server.

use ws_client::{CloseCode, Message, RequestOptions};
use ws_tests::PythonPeer;

use crate::client;

#[test]
fn python_websockets_echo_subprotocol_fragments_and_close() {
    let peer = PythonPeer::start();

    let mut ws = client()
        .request(RequestOptions::new().subprotocols(["chat"]))
        .connect(&peer.url("/echo"))
        .unwrap();
    assert_eq!(ws.subprotocol(), Some("chat"));
    ws.send_text("grüße").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("grüße".into()));
    let big = vec![42; 3 << 20];
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    ws.close(CloseCode::NORMAL, "done", Some(ws_tests::TIMEOUT))
        .unwrap();
    assert_eq!(ws.close_frame().unwrap().code, Some(CloseCode::NORMAL));

    let mut ws = client().connect(&peer.url("/fragments")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("fragmented message".into())
    );
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();

    let mut ws = client().connect(&peer.url("/close")).unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Close(Some((
            CloseCode::try_from(4000).unwrap(),
            "python says bye".into()
        )))
    );
    ws.close(CloseCode::NORMAL, "", Some(ws_tests::TIMEOUT))
        .unwrap();
}
