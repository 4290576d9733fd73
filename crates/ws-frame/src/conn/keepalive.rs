//! [`Keepalive`]: when to send a keepalive ping and when a missing pong fails the
//! connection, from times the driver passes in.

use core::time::Duration;

/// What [`Keepalive::handle_timeout`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepaliveAction {
    /// Send a ping now.
    SendPing,
    /// No pong came within `timeout` of a ping: fail the connection.
    TimedOut {
        /// The pong timeout that ran out.
        timeout: Duration,
    },
}

/// The keepalive schedule of one connection: a ping every `interval`, and a deadline of
/// `timeout` after a ping for any pong to arrive (Python's `ping_interval` and
/// `ping_timeout`).
///
/// Time is a [`Duration`] since any origin the driver chooses, the same for every call.
/// A [`Connection`](crate::Connection) runs one itself; a driver using the halves apart
/// runs it beside them: call [`handle_timeout`](Self::handle_timeout) when
/// [`poll_timeout`](Self::poll_timeout) passes, and [`on_pong`](Self::on_pong) for every
/// pong received.
///
/// ```
/// use core::time::Duration;
/// use ws_frame::{Keepalive, KeepaliveAction};
///
/// let s = Duration::from_secs;
/// let mut keepalive = Keepalive::new(Some(s(10)), Some(s(5)));
/// assert_eq!(keepalive.poll_timeout(), Some(Duration::ZERO)); // tell it the time
/// assert_eq!(keepalive.handle_timeout(s(100)), None); // armed: first ping at 110 s
/// assert_eq!(keepalive.poll_timeout(), Some(s(110)));
/// assert_eq!(keepalive.handle_timeout(s(110)), Some(KeepaliveAction::SendPing));
/// assert_eq!(keepalive.poll_timeout(), Some(s(115))); // the pong deadline
/// assert_eq!(
///     keepalive.handle_timeout(s(115)),
///     Some(KeepaliveAction::TimedOut { timeout: s(5) })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keepalive {
    interval: Option<Duration>,
    timeout: Option<Duration>,
    armed: bool,
    stopped: bool,
    next_ping: Option<Duration>,
    pong_due: Option<Duration>,
}

impl Keepalive {
    /// A schedule; `None` turns pings (`interval`) or the pong deadline (`timeout`) off.
    /// A zero interval means off.
    #[must_use]
    pub fn new(interval: Option<Duration>, timeout: Option<Duration>) -> Self {
        Self {
            interval: interval.filter(|i| !i.is_zero()),
            timeout,
            armed: false,
            stopped: false,
            next_ping: None,
            pong_due: None,
        }
    }

    /// Whether pings are scheduled at all.
    #[must_use]
    pub fn is_enabled(&self) -> bool {
        self.interval.is_some() && !self.stopped
    }

    /// The next time [`handle_timeout`](Self::handle_timeout) must be called, or `None`.
    /// Before the first call it is [`Duration::ZERO`]: the schedule starts at the first
    /// time it is told.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        if !self.is_enabled() {
            return None;
        }
        if !self.armed {
            return Some(Duration::ZERO);
        }
        match (self.next_ping, self.pong_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Advances the schedule to `now`: starts it on the first call, asks for a ping when
    /// one is due, and reports a pong deadline that passed.
    pub fn handle_timeout(&mut self, now: Duration) -> Option<KeepaliveAction> {
        let interval = self.interval.filter(|_| !self.stopped)?;
        if !self.armed {
            self.armed = true;
            self.next_ping = now.checked_add(interval);
            return None;
        }
        if let (Some(due), Some(timeout)) = (self.pong_due, self.timeout) {
            if now >= due {
                self.stop();
                return Some(KeepaliveAction::TimedOut { timeout });
            }
        }
        let at = self.next_ping?;
        if now < at {
            return None;
        }
        // After a long pause, no burst of late pings: the next is an interval from now.
        let next = at.saturating_add(interval);
        self.next_ping = Some(if next > now {
            next
        } else {
            now.saturating_add(interval)
        });
        if self.pong_due.is_none() {
            self.pong_due = self.timeout.and_then(|t| now.checked_add(t));
        }
        Some(KeepaliveAction::SendPing)
    }

    /// A pong arrived: the pong deadline is met.
    pub fn on_pong(&mut self) {
        self.pong_due = None;
    }

    /// Stops the schedule for good (the connection is closing).
    pub fn stop(&mut self) {
        self.stopped = true;
        self.next_ping = None;
        self.pong_due = None;
    }
}
