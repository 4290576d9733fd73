//! [`Config`]: the settings of a [`Connection`](crate::Connection) that are plain values.

use crate::Limits;

/// Whether the engine answers pings by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PingReply {
    /// Every ping is answered with a pong carrying its payload (RFC 6455 section 5.5.2),
    /// unless a close frame was already sent. The default.
    #[default]
    Auto,
    /// Pings are only delivered; the driver or the user sends the pongs.
    Manual,
}

/// What the answer to the peer's close frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum CloseEcho {
    /// The peer's code (1000 for an empty close) and no reason. The default.
    #[default]
    Code,
    /// The peer's code and its reason, as an echo server does.
    CodeAndReason,
}

/// Whether text messages are checked as UTF-8 while they arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Utf8Check {
    /// Each piece is validated as it arrives: a message fails at its first invalid byte
    /// (close code 1007), before it is complete. The default.
    #[default]
    Streaming,
    /// Validated once the message is complete (a text message is still never handed out
    /// unless it is UTF-8); cheaper for peers that are trusted.
    AtEnd,
}

/// Settings of a [`Connection`](crate::Connection), [`Inbound`](crate::Inbound) and
/// [`Outbound`](crate::Outbound). Chain the setters; the defaults are listed on each.
/// Every driver honours all of them; the timers only a [`Connection`](crate::Connection)
/// runs (close timeout, keepalive) are set on it, with
/// [`Connection::set_close_timeout`](crate::Connection::set_close_timeout) and
/// [`Connection::set_keepalive`](crate::Connection::set_keepalive).
///
/// ```
/// use ws_frame::{Config, Limits, PingReply};
///
/// let config = Config::new()
///     .limits(Limits::default().max_message_size(Some(1 << 20)))
///     .ping_reply(PingReply::Auto);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub struct Config {
    pub(crate) limits: Limits,
    pub(crate) utf8: Utf8Check,
    pub(crate) ping_reply: PingReply,
    pub(crate) close_echo: CloseEcho,
    pub(crate) send_chunk: usize,
    pub(crate) read_buffer: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            utf8: Utf8Check::Streaming,
            ping_reply: PingReply::Auto,
            close_echo: CloseEcho::Code,
            send_chunk: Self::DEFAULT_SEND_CHUNK,
            read_buffer: Self::DEFAULT_READ_BUFFER,
        }
    }
}

impl Config {
    /// Payloads up to this size are queued whole; larger ones in pieces of this size:
    /// 1 MiB.
    pub const DEFAULT_SEND_CHUNK: usize = 1 << 20;
    /// The read buffer lent by [`Inbound::spare_mut`](crate::Inbound::spare_mut): 16 KiB.
    pub const DEFAULT_READ_BUFFER: usize = 16 * 1024;

    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Frame and message size limits. Default: [`Limits::default`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// When text is validated. Default: [`Utf8Check::Streaming`].
    pub fn utf8(mut self, check: Utf8Check) -> Self {
        self.utf8 = check;
        self
    }

    /// Whether pings are answered automatically. Default: [`PingReply::Auto`].
    pub fn ping_reply(mut self, reply: PingReply) -> Self {
        self.ping_reply = reply;
        self
    }

    /// What the answer to the peer's close frame carries. Default: [`CloseEcho::Code`].
    pub fn close_echo(mut self, echo: CloseEcho) -> Self {
        self.close_echo = echo;
        self
    }

    /// The largest payload queued in one piece (at least 4 KiB). Default:
    /// [`DEFAULT_SEND_CHUNK`](Self::DEFAULT_SEND_CHUNK).
    pub fn send_chunk(mut self, bytes: usize) -> Self {
        self.send_chunk = bytes.max(4096);
        self
    }

    /// The size of the read buffer (at least 1 KiB). It is allocated when bytes first
    /// arrive, doubles (up to 128 KiB) each time a read fills all of it while frames are
    /// small (under 4 KiB; larger payloads are read straight into the message), so a
    /// burst of messages takes fewer reads, and is given back (and back to this size) by
    /// [`Inbound::release_buffers`](crate::Inbound::release_buffers). While a large frame
    /// streams through it (text, validated on its way in) it grows to up to 256 KiB, and
    /// keeps that size while large frames follow, back to this size after a small frame.
    /// Default: [`DEFAULT_READ_BUFFER`](Self::DEFAULT_READ_BUFFER).
    pub fn read_buffer(mut self, bytes: usize) -> Self {
        self.read_buffer = bytes.max(1024);
        self
    }
}
