//! [`AppHandle`]: send and close from any thread, and the state it shares with the run
//! loop (the current connection's [`Sender`], the close request, the condition variable
//! that ends a reconnect wait at once, and the watchdog that bounds a close asked for
//! from another thread).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use ws_frame::{CloseCode, CloseFrame};

use crate::error::{Error, Result};
use crate::sender::Sender;

/// How long after the close timeout the watchdog waits before it aborts the socket
/// itself, leaving the run loop the chance to end the connection first.
const WATCHDOG_GRACE: Duration = Duration::from_millis(20);

/// A close asked for with [`AppHandle::close`].
#[derive(Debug, Clone)]
pub(crate) struct CloseRequest {
    pub(crate) code: CloseCode,
    pub(crate) reason: String,
    pub(crate) at: Instant,
}

#[derive(Debug, Default)]
struct State {
    /// The open connection's sender, if one is open.
    sender: Option<Sender>,
    /// Counts connections, so the watchdog never aborts a newer one.
    generation: u64,
    close: Option<CloseRequest>,
    running: bool,
    loop_thread: Option<ThreadId>,
    close_timeout: Duration,
    /// The watchdog aborts connection `.0` at `.1` if it is still open.
    abort_at: Option<(u64, Instant)>,
}

/// What an [`App`](crate::App), its handles and its watchdog share.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain data updated in single assignments: a panic elsewhere while
        // it was locked cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the run as started on this thread.
    pub(crate) fn start(&self, close_timeout: Duration) {
        let mut st = self.lock();
        st.running = true;
        st.loop_thread = Some(thread::current().id());
        st.close_timeout = close_timeout;
    }

    /// Marks the run as ended; forgets the close request so the app can run again.
    pub(crate) fn finish(&self) {
        let mut st = self.lock();
        st.running = false;
        st.loop_thread = None;
        st.sender = None;
        st.close = None;
        st.abort_at = None;
        st.generation += 1;
        self.wake.notify_all();
    }

    /// Publishes a new connection's sender; `false` if a close was asked for meanwhile
    /// (then the connection must not be used).
    pub(crate) fn attach(&self, sender: Sender) -> bool {
        let mut st = self.lock();
        if st.close.is_some() {
            return false;
        }
        st.generation += 1;
        st.sender = Some(sender);
        true
    }

    /// Forgets the connection that just ended.
    pub(crate) fn detach(&self) {
        let mut st = self.lock();
        st.sender = None;
        st.abort_at = None;
        st.generation += 1;
    }

    pub(crate) fn close_request(&self) -> Option<CloseRequest> {
        self.lock().close.clone()
    }

    /// Waits up to `delay`; `true` if a close was asked for before or during the wait.
    pub(crate) fn wait_for_close(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let mut st = self.lock();
        loop {
            if st.close.is_some() {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            st = self
                .wake
                .wait_timeout(st, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The watchdog: aborts a connection whose close, asked for from another thread,
    /// was not finished by the run loop within the close timeout (the loop may be
    /// blocked reading from a dead peer). Returns when the run finishes.
    pub(crate) fn watchdog(&self) {
        let mut st = self.lock();
        while st.running {
            let Some((generation, at)) = st.abort_at else {
                st = self.wake.wait(st).unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let left = at.saturating_duration_since(Instant::now());
            if !left.is_zero() {
                st = self
                    .wake
                    .wait_timeout(st, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                continue;
            }
            st.abort_at = None;
            let sender = st.sender.clone().filter(|_| st.generation == generation);
            if let Some(sender) = sender {
                drop(st);
                log::debug!(target: "ws_client", "close timed out: aborting the connection");
                let _ = sender.abort();
                st = self.lock();
            }
        }
    }
}

/// A handle to a running [`App`](crate::App): send and close from any thread at any
/// time, including inside callbacks (each gets one) and while the app waits to
/// reconnect.
///
/// `AppHandle` is `Clone + Send + Sync`; get one with [`App::handle`](crate::App::handle)
/// before calling `run_forever`, and move clones to other threads. Sending when no
/// connection is open fails with [`Error::ConnectionClosed`].
#[derive(Debug, Clone)]
pub struct AppHandle {
    pub(crate) shared: Arc<Shared>,
}

impl AppHandle {
    fn sender(&self) -> Result<Sender> {
        self.shared
            .lock()
            .sender
            .clone()
            .ok_or_else(|| Error::closed(None, "the app is not connected".to_owned()))
    }

    crate::sender::send_surface!(
        sender,
        "[`Error::ConnectionClosed`] when no connection is open or it is closing,"
    );

    /// Closes the connection and ends `run_forever`, which returns
    /// [`Ended::Closed`](crate::Ended::Closed) with [`ClosedBy::Local`](crate::ClosedBy)
    /// (or [`Ended::Stopped`](crate::Ended::Stopped) if no connection was open).
    ///
    /// The close frame goes out at once; the app then waits for the server's close at
    /// most [`RunOptions::close_timeout`](crate::RunOptions::close_timeout) after this
    /// call, also when called from another thread while the run loop is blocked reading
    /// from a dead peer. During a reconnect wait it ends the wait at once; during a
    /// connect attempt, as soon as the attempt ends (bounded by the connect timeout);
    /// before `run_forever` starts it makes the next run return `Ended::Stopped` at once.
    /// Calls after the first are ignored. It never blocks on the peer (only, like every
    /// send, on a full socket buffer for at most the write timeout).
    ///
    /// This is the stop signal of the app (Python's `keep_running = False` or Ctrl+C):
    /// call it from a signal handler thread, a UI, or a callback.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidFrame`] for an unsendable `code` (1005, 1006, 1015, undefined) or a
    /// reason over 123 bytes; nothing is done then. Failing to send the close frame is not
    /// an error: the run loop notices the broken connection.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        // The engine's rule for a close payload, checked before anything is recorded.
        CloseFrame::encode(code, reason, &mut [0; 125])
            .map_err(|e| Error::InvalidFrame(ws_frame::SendError::Close(e)))?;
        let sender = {
            let mut st = self.shared.lock();
            if st.close.is_some() {
                return Ok(());
            }
            let at = Instant::now();
            st.close = Some(CloseRequest {
                code,
                reason: reason.to_owned(),
                at,
            });
            let foreign = st.loop_thread != Some(thread::current().id());
            if st.running && foreign && st.sender.is_some() {
                st.abort_at = Some((st.generation, at + st.close_timeout + WATCHDOG_GRACE));
            }
            self.shared.wake.notify_all();
            st.sender.clone()
        };
        if let Some(sender) = sender {
            if let Err(e) = sender.send_close(code, reason) {
                log::debug!(target: "ws_client", "close frame not sent: {e}");
            }
        }
        Ok(())
    }

    /// Whether a connection is open (Python's `ready()`).
    pub fn is_connected(&self) -> bool {
        self.shared.lock().sender.is_some()
    }
}
