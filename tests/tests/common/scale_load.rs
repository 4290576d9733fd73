//! What the 500-connection tests of both clients (`client/scale.rs`,
//! `client_async/scale.rs`) share: how many connections, the messages each sends, and the
//! open-file limit they need.

use ws_client::Message;

/// Connections held open at once (500 client sockets plus 500 server sockets).
pub(crate) const CONNECTIONS: usize = 500;
/// Messages each connection sends before reading any echo.
pub(crate) const MESSAGES: usize = 4;

/// Raises the soft limit on open files towards what `CONNECTIONS` needs on both ends (up
/// to the hard limit; the default soft limit is often 1024).
pub(crate) fn raise_fd_limit() {
    let want = (CONNECTIONS as u64) * 2 + 256;
    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    if soft < want {
        rlimit::setrlimit(rlimit::Resource::NOFILE, want.min(hard), hard).unwrap();
    }
    let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    assert!(
        soft >= want,
        "the open-file limit is {soft}; this test needs {want}"
    );
}

/// Message `n` of connection `connection`: text and binary in turn, of many sizes.
pub(crate) fn message(connection: usize, n: usize) -> Message {
    if n % 2 == 0 {
        Message::Text(format!("connection {connection} message {n} ✓"))
    } else {
        // Sizes from 0 up to past the 16 KiB read buffer, so some take the direct path.
        let len = (connection * 37 + n * 4099) % 20_000;
        Message::Binary(
            (0..len)
                .map(|i| (i + connection + n).to_le_bytes()[0])
                .collect(),
        )
    }
}
