//! Where mask keys and handshake nonces come from: the operating system's CSPRNG, drawn
//! in batches so a small frame does not cost a system call, or a caller's function (for
//! tests that need byte-exact frames).

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Op};

/// A function returning the mask key for the next frame, for tests that compare bytes
/// on the wire. Production code keeps the default random keys.
pub type MaskKeyFn = Arc<dyn Fn() -> [u8; 4] + Send + Sync>;

/// How many random bytes one `getrandom` call fetches: 256 mask keys.
const POOL: usize = 1024;

/// The per-connection mask key source.
pub(crate) enum MaskSource {
    /// Keys drawn from a pool refilled from the OS CSPRNG.
    Random { pool: Box<[u8; POOL]>, next: usize },
    /// Keys from the caller.
    Custom(MaskKeyFn),
}

impl fmt::Debug for MaskSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
                pool: Box::new([0; POOL]),
                next: POOL,
            },
        }
    }

    /// The key for the next frame.
    pub(crate) fn next_key(&mut self) -> Result<[u8; 4], Error> {
        match self {
            Self::Custom(f) => Ok(f()),
            Self::Random { pool, next } => {
                if *next + 4 > POOL {
                    fill_random(&mut pool[..])?;
                    *next = 0;
                }
                let mut key = [0; 4];
                key.copy_from_slice(&pool[*next..*next + 4]);
                *next += 4;
                Ok(key)
            }
        }
    }
}

/// Fills `buf` from the operating system's CSPRNG.
impl ws_frame::MaskKeys for MaskSource {
    fn next_key(&mut self) -> Result<[u8; 4], ws_frame::MaskKeyError> {
        MaskSource::next_key(self).map_err(|e| {
            log::error!(target: "ws_client", "no mask key: {e}");
            ws_frame::MaskKeyError::new()
        })
    }
}

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), Error> {
    getrandom::fill(buf).map_err(|e| Error::Io {
        op: Op::Connect,
        source: std::io::Error::other(format!("the system random source failed: {e}")),
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
        // 515 keys of 32 random bits: a collision is possible but astronomically rare.
        assert!(keys.len() > 500, "only {} distinct keys", keys.len());
    }

    #[test]
    fn custom_source_is_used() {
        let mut source = MaskSource::new(Some(Arc::new(|| [1, 2, 3, 4])));
        assert_eq!(source.next_key().unwrap(), [1, 2, 3, 4]);
    }
}
