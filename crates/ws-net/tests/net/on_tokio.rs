//! The shared connect, proxy and TLS tests again, over `ws_net::tokio::connect`, against
//! the same real peers. `Bridge` runs each async call to completion so the test bodies
//! stay the same; every read and write is bounded by `IO_TIMEOUT`.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Read, Write};
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::runtime::Runtime;
use ws_net::Endpoint;
use ws_net::tokio::TokioStream;

use crate::common::{IO_TIMEOUT, Opts};

#[path = "connect.rs"]
mod connect;
#[path = "proxy.rs"]
mod proxy;
#[path = "tls.rs"]
mod tls;

/// A [`TokioStream`] with its own runtime, used through blocking calls.
#[derive(Debug)]
pub(crate) struct Bridge {
    runtime: Runtime,
    stream: RefCell<TokioStream>,
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

pub(crate) fn connect(endpoint: &Endpoint, options: &Opts) -> ws_net::Result<Bridge> {
    let runtime = runtime();
    let stream = runtime.block_on(ws_net::tokio::connect(
        endpoint,
        &options.net,
        &options.budget(),
    ))?;
    Ok(Bridge {
        runtime,
        stream: RefCell::new(stream),
    })
}

impl Bridge {
    fn run<T>(&self, future: impl Future<Output = io::Result<T>>) -> io::Result<T> {
        self.runtime
            .block_on(async { tokio::time::timeout(IO_TIMEOUT, future).await })
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.stream.borrow().is_tls()
    }

    pub(crate) fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.borrow().peer_addr()
    }

    pub(crate) fn alpn_protocol(&self) -> Option<Vec<u8>> {
        self.stream.borrow().alpn_protocol()
    }

    #[allow(
        clippy::await_holding_refcell_ref,
        reason = "block_on runs the future to its end; nothing else borrows meanwhile"
    )]
    pub(crate) fn shutdown(&self) -> io::Result<()> {
        self.run(async { self.stream.borrow_mut().shutdown().await })
    }
}

impl Read for Bridge {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let stream = self.stream.get_mut();
        self.runtime
            .block_on(async { tokio::time::timeout(IO_TIMEOUT, stream.read(buf)).await })
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    }
}

impl Write for Bridge {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let stream = self.stream.get_mut();
        self.runtime
            .block_on(async { tokio::time::timeout(IO_TIMEOUT, stream.write(buf)).await })
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    }

    fn flush(&mut self) -> io::Result<()> {
        let stream = self.stream.get_mut();
        self.runtime
            .block_on(async { tokio::time::timeout(IO_TIMEOUT, stream.flush()).await })
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
    }
}
