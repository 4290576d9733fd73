//! [`Reconnect`]: when [`App::run_forever`](crate::App::run_forever) connects again and
//! how long it waits first (exponential backoff with jitter), and [`Backoff`], the pure
//! delay sequence it follows.

use std::time::Duration;

use ws_frame::CloseCode;

use crate::error::{Error, OptionError, Result};

/// The reconnect policy of [`App::run_forever`](crate::App::run_forever): exponential
/// backoff with jitter, an optional attempt limit, and which endings reconnect.
///
/// The delay before reconnection attempt `n` (counting from 0) is
/// `min(initial * factor^n, max)`, then multiplied by a random factor in
/// `1 ± jitter` (so many clients dropped at once do not come back at once). Defaults:
/// initial 1 s, factor 2, max 60 s, jitter 0.2 (±20 %), no attempt limit. The sequence
/// starts again from `initial` after a connection that stayed up at least
/// [`reset_after`](Self::reset_after) (default 10 s), so a server that accepts and drops
/// at once is not hammered.
///
/// Which endings reconnect (defaults in brackets):
///
/// - [`on_error`](Self::on_error) \[yes\]: a failed connect, a connection lost without a
///   close frame (TCP reset or end, code 1006), a ping timeout, an I/O or protocol error.
///   An invalid URL or option ([`Error::Url`], [`Error::InvalidOption`]) never
///   reconnects: it would fail the same way again.
/// - [`on_abnormal_close`](Self::on_abnormal_close) \[yes\]: the server's close frame
///   carries a code other than 1000 (1001 going away, 1011, 1012 service restart, 1013
///   try again later, application codes, ...).
/// - [`on_normal_close`](Self::on_normal_close) \[no\]: the server closed with 1000 or
///   without a code.
///
/// A close asked for with [`AppHandle::close`](crate::AppHandle::close) and a panic in a
/// callback never reconnect.
///
/// Python's `run_forever(reconnect=5)` is [`Reconnect::fixed`]`(5 s)` (add
/// `.on_normal_close(true)` to also reconnect after a normal server close, as Python
/// does).
///
/// ```
/// use std::time::Duration;
/// use ws_client::Reconnect;
///
/// let policy = Reconnect::new()
///     .initial_delay(Duration::from_millis(500))
///     .max_delay(Duration::from_secs(30))
///     .max_attempts(Some(10));
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Reconnect {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: f64,
    max_attempts: Option<u32>,
    reset_after: Duration,
    on_error: bool,
    on_abnormal_close: bool,
    on_normal_close: bool,
}

impl Default for Reconnect {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            factor: 2.0,
            max: Duration::from_secs(60),
            jitter: 0.2,
            max_attempts: None,
            reset_after: Duration::from_secs(10),
            on_error: true,
            on_abnormal_close: true,
            on_normal_close: false,
        }
    }
}

impl Reconnect {
    /// The default policy (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// A fixed delay between attempts, without growth or jitter (Python's
    /// `reconnect=N`).
    pub fn fixed(delay: Duration) -> Self {
        Self {
            initial: delay,
            factor: 1.0,
            max: delay,
            jitter: 0.0,
            ..Self::default()
        }
    }

    /// The delay before the first reconnection attempt (default 1 s).
    #[must_use]
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.initial = delay;
        self
    }

    /// How much the delay grows per attempt (default 2; at least 1).
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// The cap of the delay before jitter (default 60 s).
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max = delay;
        self
    }

    /// The random spread, a fraction between 0 and 1 (default 0.2: each delay is
    /// multiplied by a random factor between 0.8 and 1.2).
    #[must_use]
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// At most this many reconnection attempts in a row (default `None`: no limit). The
    /// count starts again after a connection that stayed up
    /// [`reset_after`](Self::reset_after).
    #[must_use]
    pub fn max_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// How long a connection must stay up for the delays and the attempt count to start
    /// again (default 10 s).
    #[must_use]
    pub fn reset_after(mut self, duration: Duration) -> Self {
        self.reset_after = duration;
        self
    }

    /// Whether failed connects and lost or failed connections reconnect (default yes).
    #[must_use]
    pub fn on_error(mut self, reconnect: bool) -> Self {
        self.on_error = reconnect;
        self
    }

    /// Whether a server close with a code other than 1000 reconnects (default yes).
    #[must_use]
    pub fn on_abnormal_close(mut self, reconnect: bool) -> Self {
        self.on_abnormal_close = reconnect;
        self
    }

    /// Whether a server close with 1000 or without a code reconnects (default no).
    #[must_use]
    pub fn on_normal_close(mut self, reconnect: bool) -> Self {
        self.on_normal_close = reconnect;
        self
    }

    pub(crate) fn reset_after_duration(&self) -> Duration {
        self.reset_after
    }

    pub(crate) fn after_error(&self) -> bool {
        self.on_error
    }

    /// Whether the server's close with `code` reconnects.
    pub(crate) fn after_close(&self, code: Option<CloseCode>) -> bool {
        match code {
            None | Some(CloseCode::NORMAL) => self.on_normal_close,
            Some(_) => self.on_abnormal_close,
        }
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return Err(Error::InvalidOption(OptionError::OutOfRange {
                option: "reconnect factor",
                reason: format!("must be a number >= 1, got {}", self.factor),
            }));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return Err(Error::InvalidOption(OptionError::OutOfRange {
                option: "reconnect jitter",
                reason: format!("must be between 0 and 1, got {}", self.jitter),
            }));
        }
        Ok(())
    }
}

/// The sequence of reconnect delays of one run: pure, the randomness comes in.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    policy: Reconnect,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(policy: Reconnect) -> Self {
        Self { policy, attempt: 0 }
    }

    /// The attempts made since the last reset.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// Starts the sequence again (after a connection that stayed up).
    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The delay before the next attempt, or `None` when the attempts are used up.
    /// `unit` is a random number in `[0, 1)`.
    pub(crate) fn next_delay(&mut self, unit: f64) -> Option<Duration> {
        if self
            .policy
            .max_attempts
            .is_some_and(|max| self.attempt >= max)
        {
            return None;
        }
        let p = &self.policy;
        let exponent = i32::try_from(self.attempt).unwrap_or(i32::MAX);
        // An infinite product (large exponents) is capped like any other.
        let base = (p.initial.as_secs_f64() * p.factor.powi(exponent)).min(p.max.as_secs_f64());
        let spread = 1.0 + p.jitter * (2.0 * unit.clamp(0.0, 1.0) - 1.0);
        self.attempt = self.attempt.saturating_add(1);
        Some(Duration::try_from_secs_f64(base * spread).unwrap_or(p.max))
    }
}

/// A random number in `[0, 1)` for the jitter; 0.5 (no jitter) if the system random
/// source fails.
pub(crate) fn unit_random() -> f64 {
    let mut bytes = [0; 8];
    if crate::mask::fill_random(&mut bytes, crate::Op::Connect).is_err() {
        return 0.5;
    }
    let bits = u64::from_le_bytes(bytes) >> 11;
    #[allow(
        clippy::cast_precision_loss,
        reason = "53 random bits and 2^53 are exactly representable"
    )]
    let (value, scale) = (bits as f64, (1_u64 << 53) as f64);
    value / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Option<Duration>) -> f64 {
        d.unwrap().as_secs_f64()
    }

    #[test]
    fn delays_double_up_to_the_cap_without_jitter_at_mid_random() {
        let mut b = Backoff::new(Reconnect::new());
        let got: Vec<f64> = (0..9).map(|_| secs(b.next_delay(0.5))).collect();
        assert_eq!(got, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]);
    }

    #[test]
    fn jitter_spreads_each_delay_by_twenty_percent() {
        let mut low = Backoff::new(Reconnect::new());
        let mut high = Backoff::new(Reconnect::new());
        for base in [1.0, 2.0, 4.0] {
            assert!((secs(low.next_delay(0.0)) - base * 0.8).abs() < 1e-9);
            assert!((secs(high.next_delay(1.0)) - base * 1.2).abs() < 1e-9);
        }
    }

    #[test]
    fn fixed_delay_never_grows_and_has_no_jitter() {
        let mut b = Backoff::new(Reconnect::fixed(Duration::from_millis(250)));
        for unit in [0.0, 0.3, 0.99] {
            assert_eq!(b.next_delay(unit), Some(Duration::from_millis(250)));
        }
    }

    #[test]
    fn attempt_limit_ends_the_sequence_and_reset_starts_it_again() {
        let mut b = Backoff::new(Reconnect::new().max_attempts(Some(2)));
        assert_eq!(b.next_delay(0.5), Some(Duration::from_secs(1)));
        assert_eq!(b.next_delay(0.5), Some(Duration::from_secs(2)));
        assert_eq!(b.next_delay(0.5), None);
        assert_eq!(b.attempts(), 2);
        b.reset();
        assert_eq!(b.next_delay(0.5), Some(Duration::from_secs(1)));
    }

    #[test]
    fn huge_attempt_counts_stay_at_the_cap() {
        let mut b = Backoff::new(Reconnect::new());
        b.attempt = u32::MAX - 1;
        assert_eq!(b.next_delay(0.5), Some(Duration::from_secs(60)));
        assert_eq!(b.next_delay(0.5), Some(Duration::from_secs(60)));
    }

    #[test]
    fn which_closes_reconnect_by_default() {
        let p = Reconnect::new();
        assert!(p.after_error());
        assert!(!p.after_close(None));
        assert!(!p.after_close(Some(CloseCode::NORMAL)));
        assert!(p.after_close(Some(CloseCode::GOING_AWAY)));
        assert!(p.after_close(Some(CloseCode::SERVICE_RESTART)));
        assert!(p.on_normal_close(true).after_close(Some(CloseCode::NORMAL)));
    }

    #[test]
    fn rejects_shrinking_factor_and_out_of_range_jitter() {
        for (policy, text) in [
            (
                Reconnect::new().factor(0.5),
                "reconnect factor: must be a number >= 1, got 0.5",
            ),
            (
                Reconnect::new().factor(f64::NAN),
                "reconnect factor: must be a number >= 1, got NaN",
            ),
            (
                Reconnect::new().jitter(1.5),
                "reconnect jitter: must be between 0 and 1, got 1.5",
            ),
        ] {
            match policy.validate() {
                Err(e @ Error::InvalidOption(OptionError::OutOfRange { .. })) => {
                    assert_eq!(e.to_string(), format!("invalid option: {text}"));
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn random_units_are_in_range() {
        for _ in 0..100 {
            let u = unit_random();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
