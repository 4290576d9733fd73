//! Where mask keys and handshake nonces come from: the operating system's CSPRNG, drawn
//! in batches so a small frame does not cost a system call, or a caller's function (for
//! tests that need byte-exact frames).
//!
//! The pool is per thread, not per connection: many connections on one thread share one
//! `getrandom` call per 1024 frames. A connection takes 16 keys (64 bytes) from it at a
//! time, so a frame costs neither a system call nor a thread-local access. Every key is
//! still four fresh bytes from the CSPRNG, used once.

use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Op};

/// A function returning the mask key for the next frame, for tests that compare bytes
/// on the wire. Production code keeps the default random keys.
pub type MaskKeyFn = Arc<dyn Fn() -> [u8; 4] + Send + Sync>;

/// How many random bytes one `getrandom` call fetches: 1024 mask keys (a pipelined batch
/// of a thousand small frames costs one call; the pool is per thread, not per connection).
const POOL: usize = 4096;

/// Random bytes from the OS CSPRNG, `bytes[next..]` not used yet.
struct Pool {
    bytes: [u8; POOL],
    next: usize,
}

thread_local! {
    /// This thread's keys: shared by all its connections, refilled when used up.
    static KEYS: RefCell<Pool> = const {
        RefCell::new(Pool {
            bytes: [0; POOL],
            next: POOL,
        })
    };
}

/// How many random bytes a connection takes from its thread's pool at a time: 16 keys.
const BATCH: usize = 64;

/// The per-connection mask key source.
pub(crate) enum MaskSource {
    /// Keys taken from the thread's pool (refilled from the OS CSPRNG) 16 at a time:
    /// `bytes[next..]` not used yet.
    Random { bytes: [u8; BATCH], next: usize },
    /// Keys from the caller.
    Custom(MaskKeyFn),
}

impl fmt::Debug for MaskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the unused keys: they mask frames still to come.
        match self {
            Self::Random { .. } => f.write_str("MaskSource::Random"),
            Self::Custom(_) => f.write_str("MaskSource::Custom"),
        }
    }
}

impl MaskSource {
    pub(crate) fn new(custom: Option<MaskKeyFn>) -> Self {
        match custom {
            Some(f) => Self::Custom(f),
            None => Self::Random {
                bytes: [0; BATCH],
                next: BATCH,
            },
        }
    }

    /// The key for the next frame.
    #[inline]
    pub(crate) fn next_key(&mut self) -> Result<[u8; 4], Error> {
        match self {
            Self::Custom(f) => Ok(f()),
            Self::Random { bytes, next } => {
                if *next + 4 > BATCH {
                    take_batch(bytes)?;
                    *next = 0;
                }
                let mut key = [0; 4];
                key.copy_from_slice(&bytes[*next..*next + 4]);
                *next += 4;
                Ok(key)
            }
        }
    }
}

/// Moves the next [`BATCH`] bytes of this thread's pool into `out`, refilling the pool
/// from the CSPRNG when it runs out; a byte is never handed out twice.
#[inline(never)]
fn take_batch(out: &mut [u8; BATCH]) -> Result<(), Error> {
    KEYS.with(|keys| {
        let mut pool = keys.borrow_mut();
        let Pool { bytes, next } = &mut *pool;
        if *next + BATCH > POOL {
            fill_random(&mut bytes[..], Op::Write)?;
            *next = 0;
        }
        out.copy_from_slice(&bytes[*next..*next + BATCH]);
        *next += BATCH;
        Ok(())
    })
}

impl ws_frame::MaskKeys for MaskSource {
    fn next_key(&mut self) -> Result<[u8; 4], ws_frame::MaskKeyError> {
        MaskSource::next_key(self).map_err(|e| {
            log::error!(target: "ws_client", "no mask key: {e}");
            ws_frame::MaskKeyError::new()
        })
    }
}

/// Fills `buf` from the operating system's CSPRNG, for `op`.
pub(crate) fn fill_random(buf: &mut [u8], op: Op) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|e| Error::Random {
        op,
        source: std::io::Error::other(e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_keys_differ_and_cross_pool_refills() {
        let mut source = MaskSource::new(None);
        let mut keys = std::collections::HashSet::new();
        for _ in 0..(POOL / 4) * 2 + 3 {
            keys.insert(source.next_key().unwrap());
        }
        // 2051 keys of 32 random bits: a collision is possible but astronomically rare.
        assert!(keys.len() > 2000, "only {} distinct keys", keys.len());
    }

    #[test]
    fn connections_on_one_thread_share_the_pool_without_repeating_keys() {
        let mut a = MaskSource::new(None);
        let mut b = MaskSource::new(None);
        let mut keys = std::collections::HashSet::new();
        for _ in 0..POOL / 4 {
            keys.insert(a.next_key().unwrap());
            keys.insert(b.next_key().unwrap());
        }
        assert!(keys.len() > 2000, "only {} distinct keys", keys.len());
        // A source holds one batch of keys, not a pool of its own.
        assert!(size_of::<MaskSource>() <= BATCH + 16);
    }

    #[test]
    fn custom_source_is_used() {
        let mut source = MaskSource::new(Some(Arc::new(|| [1, 2, 3, 4])));
        assert_eq!(source.next_key().unwrap(), [1, 2, 3, 4]);
    }
}
