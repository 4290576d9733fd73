//! [`Timeouts`] and the [`Budget`] that hands each operation of a connect its limit.

use std::io;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::error::{Error, Phase};

/// The time limits of a connect and of the stream it gives.
///
/// Which limit ends which phase of [`connect`](crate::connect):
///
/// | phase | per operation | overall |
/// |---|---|---|
/// | resolve | - | `deadline` |
/// | TCP connect, each address | `connect` | `deadline` |
/// | proxy connect | [`Proxy::timeout`](crate::Proxy::timeout), else `connect` | `deadline` |
/// | each proxy handshake read and write | [`Proxy::timeout`](crate::Proxy::timeout), else the shorter of `read` and `write` | `deadline` |
/// | each TLS handshake read and write (on tokio: the whole TLS handshake) | the shorter of `read` and `write` | `deadline` |
/// | each read / write of the stream afterwards | `read` / `write` | - |
///
/// The deadline is re-checked before every read and write of every phase, so a peer
/// dripping one byte just inside the per-operation timeout cannot stretch a phase past
/// it. A caller running the WebSocket handshake afterwards keeps using the same
/// [`Budget`] for it.
///
/// Defaults: `connect` 30 s per address, `read` and `write` none (block), `deadline` 60 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// The timeout of each TCP connect attempt (per address); `None` leaves it to the
    /// OS. Default: 30 s.
    pub connect: Option<Duration>,
    /// The timeout of each read, during the connect and on the stream. Default: none.
    pub read: Option<Duration>,
    /// The timeout of each write, during the connect and on the stream. Default: none.
    pub write: Option<Duration>,
    /// The time allowed for the whole connect (resolve, TCP, proxy, TLS and the caller's
    /// handshake); `None` is no deadline. Default: 60 s.
    pub deadline: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(30)),
            read: None,
            write: None,
            deadline: Some(Duration::from_secs(60)),
        }
    }
}

impl Timeouts {
    /// The bound of each TLS handshake read and write: the shorter of `read` and `write`.
    pub(crate) fn tls_handshake(&self) -> Option<Duration> {
        match (self.read, self.write) {
            (Some(r), Some(w)) => Some(r.min(w)),
            (r, w) => r.or(w),
        }
    }
}

/// The limit that bounds one operation of a connect (see [`Budget::limit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// The operation's own timeout, this long.
    Timeout(Duration),
    /// What is `left` of the overall deadline of `total`.
    Deadline {
        /// The time left; zero once the deadline has passed.
        left: Duration,
        /// The whole deadline.
        total: Duration,
    },
}

impl Limit {
    /// How long the operation may wait.
    pub fn wait(self) -> Duration {
        match self {
            Self::Timeout(wait) | Self::Deadline { left: wait, .. } => wait,
        }
    }

    /// The limit as set: the operation's timeout, or the whole deadline (what an error
    /// reports as "timed out after").
    pub fn allowed(self) -> Duration {
        match self {
            Self::Timeout(allowed) | Self::Deadline { total: allowed, .. } => allowed,
        }
    }

    /// Whether the overall deadline has passed.
    pub fn is_spent(self) -> bool {
        matches!(self, Self::Deadline { left, .. } if left.is_zero())
    }
}

/// The time budget of one connect: its [`Timeouts`] and the instant its deadline ends,
/// fixed when it [`start`](Self::start)s. Every phase asks it for the limit of each
/// operation, so "how much time is left" is computed in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    timeouts: Timeouts,
    ends: Option<Instant>,
}

impl Budget {
    /// Starts the clock of `timeouts.deadline` now.
    pub fn start(timeouts: Timeouts) -> Self {
        Self {
            timeouts,
            ends: timeouts
                .deadline
                .and_then(|total| Instant::now().checked_add(total)),
        }
    }

    /// The timeouts this budget was started with.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The limit of one operation whose own timeout is `per_op`: the shorter of it and
    /// what is left of the deadline; `None` waits forever. Ask again before every
    /// operation: the deadline keeps running.
    pub fn limit(&self, per_op: Option<Duration>) -> Option<Limit> {
        let deadline = self.ends.zip(self.timeouts.deadline).map(|(ends, total)| {
            let left = ends.saturating_duration_since(Instant::now());
            Limit::Deadline { left, total }
        });
        match (per_op, deadline) {
            (Some(t), Some(d)) if d.wait() < t => Some(d),
            (Some(t), _) => Some(Limit::Timeout(t)),
            (None, d) => d,
        }
    }

    /// Whether the deadline has passed.
    pub fn is_spent(&self) -> bool {
        self.limit(None).is_some_and(Limit::is_spent)
    }

    /// The instant the deadline ends, if any.
    pub(crate) fn ends(&self) -> Option<Instant> {
        self.ends
    }

    /// The error for `phase` with `target` stopped by the deadline.
    pub(crate) fn spent(&self, phase: Phase, target: String) -> Error {
        timed_out(
            phase,
            target,
            Some(Limit::Deadline {
                left: Duration::ZERO,
                total: self.timeouts.deadline.unwrap_or_default(),
            }),
        )
    }
}

/// The error for `phase` with `target` that ran past `limit` (the one [`Budget::limit`]
/// gave it).
pub(crate) fn timed_out(phase: Phase, target: String, limit: Option<Limit>) -> Error {
    Error::Timeout {
        phase,
        target,
        limit,
    }
}

/// Sets the limit `budget` gives the next read or write with its own timeout `per_op`
/// on `tcp`; asked before every operation, so that a peer dripping bytes cannot stretch
/// a phase past the deadline. A spent deadline is a `TimedOut` error.
pub(crate) fn arm(tcp: &TcpStream, budget: &Budget, per_op: Option<Duration>) -> io::Result<()> {
    let limit = budget.limit(per_op);
    if limit.is_some_and(Limit::is_spent) {
        return Err(io::ErrorKind::TimedOut.into());
    }
    let wait = limit.map(Limit::wait);
    tcp.set_read_timeout(wait)?;
    tcp.set_write_timeout(wait)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_values() {
        let t = Timeouts::default();
        assert_eq!(t.connect, Some(Duration::from_secs(30)));
        assert_eq!((t.read, t.write), (None, None));
        assert_eq!(t.deadline, Some(Duration::from_secs(60)));
    }

    fn budget(deadline: Option<Duration>) -> Budget {
        Budget::start(Timeouts {
            deadline,
            ..Timeouts::default()
        })
    }

    #[test]
    fn the_shorter_of_timeout_and_deadline_bounds_an_operation() {
        let one = Duration::from_secs(1);
        assert_eq!(budget(None).limit(None), None);
        assert_eq!(budget(None).limit(Some(one)), Some(Limit::Timeout(one)));
        let long = budget(Some(Duration::from_secs(100)));
        assert_eq!(long.limit(Some(one)), Some(Limit::Timeout(one)));
        let Some(Limit::Deadline { left, total }) = long.limit(None) else {
            panic!("no deadline limit");
        };
        assert!(left <= total && total == Duration::from_secs(100));
        assert!(!long.is_spent());
        let spent = budget(Some(Duration::ZERO));
        assert!(spent.is_spent());
        assert!(spent.limit(Some(one)).is_some_and(Limit::is_spent));
    }

    #[test]
    fn a_timeout_names_the_limit_that_ran_out() {
        let one = Duration::from_secs(1);
        let by_timeout = timed_out(Phase::TlsHandshake, "h:1".into(), Some(Limit::Timeout(one)));
        assert!(matches!(
            by_timeout,
            Error::Timeout { phase: Phase::TlsHandshake, limit: Some(Limit::Timeout(t)), .. } if t == one
        ));
        assert_eq!(
            by_timeout.to_string(),
            "tls handshake with h:1 timed out after 1s"
        );
        let by_deadline = budget(Some(one)).spent(Phase::Resolve, "h:1".into());
        assert!(matches!(
            by_deadline,
            Error::Timeout {
                phase: Phase::Resolve,
                limit: Some(Limit::Deadline { left: Duration::ZERO, total }),
                ..
            } if total == one
        ));
        assert_eq!(
            by_deadline.to_string(),
            "resolving with h:1 timed out after 1s (overall deadline)"
        );
        let by_os = timed_out(Phase::ProxyHandshake, "p:8".into(), None);
        assert_eq!(by_os.to_string(), "proxy handshake with p:8 timed out");
    }
}
