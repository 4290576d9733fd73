//! Size limits, checked against declared lengths before any byte is buffered.

/// Maximum frame and message sizes. `None` means unlimited.
///
/// Defaults: 16 MiB per frame, 64 MiB per message.
///
/// ```
/// use ws_frame::Limits;
///
/// let limits = Limits::default().max_message_size(Some(1 << 20));
/// assert_eq!(limits.frame_size(), Some(16 << 20));
/// assert_eq!(limits.message_size(), Some(1 << 20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    max_frame_size: Option<u64>,
    max_message_size: Option<u64>,
}

impl Limits {
    /// The default frame limit: 16 MiB.
    pub const DEFAULT_MAX_FRAME_SIZE: u64 = 16 << 20;
    /// The default message limit: 64 MiB.
    pub const DEFAULT_MAX_MESSAGE_SIZE: u64 = 64 << 20;

    /// No limits at all. Only for trusted peers: a peer can then make a message
    /// reassembler buffer as much as it sends.
    #[must_use]
    pub const fn unlimited() -> Self {
        Self {
            max_frame_size: None,
            max_message_size: None,
        }
    }

    /// Sets the largest accepted frame payload (default 16 MiB; `None` = unlimited).
    #[must_use]
    pub const fn max_frame_size(mut self, limit: Option<u64>) -> Self {
        self.max_frame_size = limit;
        self
    }

    /// Sets the largest accepted data message, summed over its fragments (default 64 MiB;
    /// `None` = unlimited).
    #[must_use]
    pub const fn max_message_size(mut self, limit: Option<u64>) -> Self {
        self.max_message_size = limit;
        self
    }

    /// The frame payload limit.
    #[must_use]
    pub const fn frame_size(&self) -> Option<u64> {
        self.max_frame_size
    }

    /// The message limit.
    #[must_use]
    pub const fn message_size(&self) -> Option<u64> {
        self.max_message_size
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_size: Some(Self::DEFAULT_MAX_FRAME_SIZE),
            max_message_size: Some(Self::DEFAULT_MAX_MESSAGE_SIZE),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_16_mib_frames_and_64_mib_messages() {
        let limits = Limits::default();
        assert_eq!(limits.frame_size(), Some(16 * 1024 * 1024));
        assert_eq!(limits.message_size(), Some(64 * 1024 * 1024));
        assert_eq!(Limits::unlimited().frame_size(), None);
        assert_eq!(Limits::unlimited().message_size(), None);
    }
}
