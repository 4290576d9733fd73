//! The TLS handshake of a build without the `tls` feature: it refuses, naming the
//! feature. The connection type is uninhabited, so the stream's TLS paths are
//! unreachable and compile to nothing.

use std::convert::Infallible;
use std::io;
use std::net::TcpStream;
use std::time::Duration;

use crate::budget::Budget;
use crate::error::{Result, TlsError};
use crate::stream::Stream;
use crate::tls::TlsOptions;

/// Fails with [`TlsError::FeatureDisabled`]: this build has no TLS.
pub(crate) fn handshake(
    _tcp: TcpStream,
    host: &str,
    _port: u16,
    _options: &TlsOptions,
    _budget: &Budget,
    _per_op: Option<Duration>,
) -> Result<Stream> {
    Err(TlsError::FeatureDisabled {
        host: host.to_owned(),
    }
    .into())
}

/// Never constructed: there is no TLS connection without the `tls` feature.
#[derive(Debug)]
pub(crate) enum ClientConnection {}

/// Never called: a [`ClientConnection`] cannot exist.
#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "the same signature as the rustls build's"
)]
pub(crate) fn from_engine_error(_host: &str, err: &Infallible) -> TlsError {
    match *err {}
}

impl ClientConnection {
    pub(crate) fn alpn_protocol(&self) -> Option<&[u8]> {
        match *self {}
    }

    pub(crate) fn read_tls(&mut self, _from: &mut dyn io::Read) -> io::Result<usize> {
        match *self {}
    }

    pub(crate) fn process_new_packets(&mut self) -> Result<(), Infallible> {
        match *self {}
    }

    pub(crate) fn wants_write(&self) -> bool {
        match *self {}
    }

    pub(crate) fn write_tls(&mut self, _to: &mut dyn io::Write) -> io::Result<usize> {
        match *self {}
    }

    pub(crate) fn reader(&mut self) -> io::Empty {
        match *self {}
    }

    pub(crate) fn writer(&mut self) -> io::Sink {
        match *self {}
    }

    pub(crate) fn send_close_notify(&mut self) {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use crate::{Budget, Endpoint, Error, NetOptions, ProxyConfig, Timeouts, TlsError};

    #[test]
    fn wss_names_the_missing_feature() {
        // The TCP connection succeeds (the listener's backlog takes it); TLS cannot start.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let endpoint = Endpoint::parse(&format!("wss://127.0.0.1:{port}/")).unwrap();
        let options = NetOptions::default().proxy(ProxyConfig::None);
        let err =
            crate::connect(&endpoint, &options, &Budget::start(Timeouts::default())).unwrap_err();
        assert!(
            matches!(&err, Error::Tls(TlsError::FeatureDisabled { host }) if host == "127.0.0.1"),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "tls: 127.0.0.1 needs TLS (wss://), which this build leaves out; enable the `tls` \
             feature of ws-client (or ws-net), or connect with ws://"
        );
    }
}
