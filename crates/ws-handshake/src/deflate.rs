//! permessage-deflate negotiation (RFC 7692 section 7.1): the client's offers and the
//! validation of the server's answer into the parameters both sides must then follow.

use core::fmt;

use crate::http::is_token;

/// The extension's registered name.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// The default and largest LZ77 window: 2^15 = 32 KiB.
const MAX_WINDOW_BITS: u8 = 15;

/// One `permessage-deflate` offer of a client (RFC 7692 section 7.1).
///
/// [`ClientRequest::deflate`](crate::ClientRequest::deflate) sends one or more, in
/// preference order; the server accepts at most one. By default an offer has no
/// parameters (`permessage-deflate`): both sides may use a 32 KiB window and keep it
/// between messages.
///
/// ```
/// use ws_handshake::DeflateOffer;
///
/// let offer = DeflateOffer::new()
///     .client_max_window_bits(None)
///     .server_max_window_bits(10)
///     .server_no_context_takeover();
/// assert_eq!(
///     offer.to_string(),
///     "permessage-deflate; client_max_window_bits; server_max_window_bits=10; \
///      server_no_context_takeover"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[must_use]
pub struct DeflateOffer {
    client_max_window_bits: ClientWindow,
    server_max_window_bits: Option<u8>,
    client_no_context_takeover: bool,
    server_no_context_takeover: bool,
}

/// What an offer says about `client_max_window_bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum ClientWindow {
    /// Not offered: the server may not limit our window.
    #[default]
    Absent,
    /// Offered without a value: the server may pick any window for our messages.
    Any,
    /// Offered with a value: we will use at most this window; the server may pick less.
    Max(u8),
}

impl DeflateOffer {
    /// A plain `permessage-deflate` offer, without parameters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers `client_max_window_bits`, telling the server it may limit the window of the
    /// messages we compress. `None` sends the parameter without a value (any window from
    /// 2^8 to 2^15 will do); `Some(bits)` also promises we use at most 2^`bits` (8..=15).
    /// Only offer it when the compressor can honour a smaller window.
    pub fn client_max_window_bits(mut self, bits: Option<u8>) -> Self {
        self.client_max_window_bits = bits.map_or(ClientWindow::Any, ClientWindow::Max);
        self
    }

    /// Asks the server to compress with a window of at most 2^`bits` (8..=15): less memory
    /// on both sides, less compression. Default: not asked (2^15).
    pub fn server_max_window_bits(mut self, bits: u8) -> Self {
        self.server_max_window_bits = Some(bits);
        self
    }

    /// Promises that we compress each message on its own (no context takeover), whatever
    /// the server answers. Default: not promised (we keep our window between messages).
    pub fn client_no_context_takeover(mut self) -> Self {
        self.client_no_context_takeover = true;
        self
    }

    /// Asks the server to compress each message on its own, so its messages never refer
    /// back to earlier ones. Default: not asked.
    pub fn server_no_context_takeover(mut self) -> Self {
        self.server_no_context_takeover = true;
        self
    }

    /// This offer without what it asks of the server (`server_max_window_bits`,
    /// `server_no_context_takeover`): the fallback to send after it, for a server that
    /// refuses those requests.
    pub fn without_server_requests(self) -> Self {
        Self {
            server_max_window_bits: None,
            server_no_context_takeover: false,
            ..self
        }
    }

    /// Why this offer cannot be sent, if it cannot.
    pub(crate) fn problem(self) -> Option<&'static str> {
        let client = match self.client_max_window_bits {
            ClientWindow::Max(bits) => Some(bits),
            _ => None,
        };
        [client, self.server_max_window_bits]
            .into_iter()
            .flatten()
            .any(|bits| !(8..=MAX_WINDOW_BITS).contains(&bits))
            .then_some("permessage-deflate window bits must be between 8 and 15")
    }

    /// Checks the server's answer (one `permessage-deflate` element of
    /// `Sec-WebSocket-Extensions`, name included) against this offer.
    fn accept(self, response: &str) -> Result<DeflateParams, DeflateError> {
        let mut params = DeflateParams::default();
        let mut seen: Vec<&str> = Vec::new();
        let mut parts = response.split(';');
        let _name = parts.next();
        for part in parts {
            let part = part.trim_matches([' ', '\t']);
            let (name, value) = match part.split_once('=') {
                Some((n, v)) => (
                    n.trim_matches([' ', '\t']),
                    Some(unquote(v.trim_matches([' ', '\t']))),
                ),
                None => (part, None),
            };
            let known = [
                "client_max_window_bits",
                "server_max_window_bits",
                "client_no_context_takeover",
                "server_no_context_takeover",
            ];
            let Some(&name) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
                return Err(DeflateError::UnknownParameter(name.to_owned()));
            };
            if seen.contains(&name) {
                return Err(DeflateError::DuplicateParameter(name.to_owned()));
            }
            seen.push(name);
            match name {
                "client_no_context_takeover" | "server_no_context_takeover" => {
                    if value.is_some() {
                        return Err(DeflateError::UnexpectedValue(name.to_owned()));
                    }
                    if name == "client_no_context_takeover" {
                        params.client_no_context_takeover = true;
                    } else {
                        params.server_no_context_takeover = true;
                    }
                }
                _ => {
                    let value = value.ok_or_else(|| DeflateError::MissingValue(name.to_owned()))?;
                    let bits = window_bits(name, value)?;
                    let offered = if name == "client_max_window_bits" {
                        match self.client_max_window_bits {
                            ClientWindow::Absent => {
                                return Err(DeflateError::NotOffered(name.to_owned()));
                            }
                            ClientWindow::Any => None,
                            ClientWindow::Max(max) => Some(max),
                        }
                    } else {
                        self.server_max_window_bits
                    };
                    if let Some(offered) = offered.filter(|&offered| bits > offered) {
                        return Err(DeflateError::AboveOffer {
                            param: name.to_owned(),
                            offered,
                            answered: bits,
                        });
                    }
                    if name == "client_max_window_bits" {
                        params.client_max_window_bits = bits;
                    } else {
                        params.server_max_window_bits = bits;
                    }
                }
            }
        }
        // Our own promises hold whatever the answer says.
        if let ClientWindow::Max(max) = self.client_max_window_bits {
            params.client_max_window_bits = params.client_max_window_bits.min(max);
        }
        params.client_no_context_takeover |= self.client_no_context_takeover;
        Ok(params)
    }
}

impl fmt::Display for DeflateOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PERMESSAGE_DEFLATE)?;
        match self.client_max_window_bits {
            ClientWindow::Absent => {}
            ClientWindow::Any => f.write_str("; client_max_window_bits")?,
            ClientWindow::Max(bits) => write!(f, "; client_max_window_bits={bits}")?,
        }
        if let Some(bits) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={bits}")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        Ok(())
    }
}

/// The permessage-deflate parameters in force after a successful handshake.
///
/// `client_*` fields bind the client's compressor, `server_*` fields describe the server's.
/// Defaults (nothing negotiated): 15-bit windows, context takeover on both sides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct DeflateParams {
    /// The client compresses with a window of at most 2^this (8..=15).
    pub client_max_window_bits: u8,
    /// The server compresses with a window of at most 2^this (8..=15).
    pub server_max_window_bits: u8,
    /// The client must compress each message on its own.
    pub client_no_context_takeover: bool,
    /// The server compresses each message on its own.
    pub server_no_context_takeover: bool,
}

impl Default for DeflateParams {
    fn default() -> Self {
        Self {
            client_max_window_bits: MAX_WINDOW_BITS,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_no_context_takeover: false,
            server_no_context_takeover: false,
        }
    }
}

impl DeflateParams {
    /// Validates the server's `permessage-deflate` answer (the extension element, name
    /// included, e.g. `permessage-deflate; server_no_context_takeover`) against the offers
    /// the client sent, in preference order. The answer does not say which offer it
    /// accepts: the first offer it is valid for wins, and the client's promises
    /// (`client_no_context_takeover`, a `client_max_window_bits` value) of every offer are
    /// kept, since the server may have relied on any of them.
    ///
    /// ```
    /// use ws_handshake::{DeflateOffer, DeflateParams};
    ///
    /// let offers = [DeflateOffer::new().client_max_window_bits(None)];
    /// let params = DeflateParams::negotiate(
    ///     &offers,
    ///     "permessage-deflate; client_max_window_bits=10; server_no_context_takeover",
    /// )?;
    /// assert_eq!(params.client_max_window_bits, 10);
    /// assert!(params.server_no_context_takeover);
    /// # Ok::<(), ws_handshake::DeflateError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The [`DeflateError`] of the first offer when the answer fits none: an unknown or
    /// repeated parameter, a missing or malformed value, a window outside 8..=15 or above
    /// what was offered, or `client_max_window_bits` when no offer had it. With no offers,
    /// [`DeflateError::NotOffered`].
    pub fn negotiate(offers: &[DeflateOffer], response: &str) -> Result<Self, DeflateError> {
        let mut first_error = None;
        for offer in offers {
            match offer.accept(response) {
                Ok(mut params) => {
                    for other in offers {
                        if let ClientWindow::Max(max) = other.client_max_window_bits {
                            params.client_max_window_bits = params.client_max_window_bits.min(max);
                        }
                        params.client_no_context_takeover |= other.client_no_context_takeover;
                    }
                    return Ok(params);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| DeflateError::NotOffered(PERMESSAGE_DEFLATE.to_owned())))
    }
}

/// Why the server's `permessage-deflate` answer is not acceptable (RFC 7692 section 7.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeflateError {
    /// A parameter RFC 7692 does not define.
    #[error("unknown parameter {0:?} (RFC 7692 section 7.1)")]
    UnknownParameter(String),
    /// A parameter given twice.
    #[error("parameter {0} appears more than once (RFC 7692 section 7.1)")]
    DuplicateParameter(String),
    /// A window-bits parameter without its value.
    #[error("parameter {0} needs a value in the response (RFC 7692 section 7.1.2)")]
    MissingValue(String),
    /// A value on a parameter that takes none.
    #[error("parameter {0} takes no value (RFC 7692 section 7.1.1)")]
    UnexpectedValue(String),
    /// A window-bits value that is not an integer from 8 to 15 without leading zeros.
    #[error("parameter {param} has value {value:?}, expected 8 to 15 (RFC 7692 section 7.1.2)")]
    InvalidValue {
        /// The parameter.
        param: String,
        /// The value as sent.
        value: String,
    },
    /// A parameter the client did not allow, e.g. `client_max_window_bits` when no offer
    /// had it, or `permessage-deflate` itself when nothing was offered.
    #[error("server answered {0}, which the client did not offer (RFC 7692 section 7.1.2.2)")]
    NotOffered(String),
    /// A window larger than the client asked for.
    #[error(
        "server answered {param}={answered}, above the offered {offered} (RFC 7692 section 7.1.2)"
    )]
    AboveOffer {
        /// The parameter.
        param: String,
        /// The largest value offered.
        offered: u8,
        /// The value answered.
        answered: u8,
    },
    /// The server accepted `permessage-deflate` more than once.
    #[error("server accepted permessage-deflate more than once (RFC 7692 section 5)")]
    DuplicateExtension,
}

/// Strips a quoted-string's quotes (RFC 6455 section 9.1 allows quoted parameter values).
fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// An integer from 8 to 15 without leading zeros (RFC 7692 section 7.1.2.1).
fn window_bits(param: &str, value: &str) -> Result<u8, DeflateError> {
    let invalid = || DeflateError::InvalidValue {
        param: param.to_owned(),
        value: value.to_owned(),
    };
    if !is_token(value) || value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    value
        .parse::<u8>()
        .ok()
        .filter(|bits| (8..=MAX_WINDOW_BITS).contains(bits))
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn negotiate(offers: &[DeflateOffer], answer: &str) -> Result<DeflateParams, DeflateError> {
        DeflateParams::negotiate(offers, answer)
    }

    #[test]
    fn renders_offers() {
        assert_eq!(DeflateOffer::new().to_string(), "permessage-deflate");
        assert_eq!(
            DeflateOffer::new()
                .client_max_window_bits(Some(12))
                .client_no_context_takeover()
                .to_string(),
            "permessage-deflate; client_max_window_bits=12; client_no_context_takeover"
        );
        assert!(
            DeflateOffer::new()
                .server_max_window_bits(7)
                .problem()
                .is_some()
        );
        assert!(
            DeflateOffer::new()
                .client_max_window_bits(Some(16))
                .problem()
                .is_some()
        );
        assert_eq!(
            DeflateOffer::new()
                .client_max_window_bits(Some(8))
                .problem(),
            None
        );
    }

    #[test]
    fn plain_answer_gives_the_defaults() {
        let params = negotiate(&[DeflateOffer::new()], "permessage-deflate").unwrap();
        assert_eq!(params, DeflateParams::default());
        assert_eq!(params.client_max_window_bits, 15);
        assert!(!params.client_no_context_takeover);
    }

    #[test]
    fn reads_every_parameter() {
        let offer = DeflateOffer::new()
            .client_max_window_bits(None)
            .server_max_window_bits(12);
        let params = negotiate(
            &[offer],
            "permessage-deflate ; Client_Max_Window_Bits=\"9\"; server_max_window_bits=10;\
             client_no_context_takeover; server_no_context_takeover",
        )
        .unwrap();
        assert_eq!(params.client_max_window_bits, 9);
        assert_eq!(params.server_max_window_bits, 10);
        assert!(params.client_no_context_takeover);
        assert!(params.server_no_context_takeover);
    }

    #[test]
    fn server_may_limit_its_window_and_context_unasked() {
        let params = negotiate(
            &[DeflateOffer::new()],
            "permessage-deflate; server_max_window_bits=8; server_no_context_takeover",
        )
        .unwrap();
        assert_eq!(params.server_max_window_bits, 8);
        assert!(params.server_no_context_takeover);
    }

    #[test]
    fn keeps_the_clients_own_promises() {
        let offer = DeflateOffer::new()
            .client_max_window_bits(Some(11))
            .client_no_context_takeover();
        let params = negotiate(&[offer], "permessage-deflate").unwrap();
        assert_eq!(params.client_max_window_bits, 11);
        assert!(params.client_no_context_takeover);
    }

    #[test]
    fn picks_the_first_offer_the_answer_fits() {
        let offers = [
            DeflateOffer::new().server_max_window_bits(10),
            DeflateOffer::new()
                .client_max_window_bits(None)
                .server_max_window_bits(11),
        ];
        // Fits the first offer only.
        let params = negotiate(&offers, "permessage-deflate; server_max_window_bits=9").unwrap();
        assert_eq!(params.server_max_window_bits, 9);
        // Fits the second only (client_max_window_bits was not in the first).
        let params = negotiate(&offers, "permessage-deflate; client_max_window_bits=8").unwrap();
        assert_eq!(params.client_max_window_bits, 8);
        // Fits none: the first offer's complaint.
        assert_eq!(
            negotiate(
                &offers,
                "permessage-deflate; client_max_window_bits=8; server_max_window_bits=12"
            )
            .unwrap_err(),
            DeflateError::NotOffered("client_max_window_bits".into())
        );
    }

    #[test]
    #[allow(clippy::too_many_lines, reason = "one table row per rule")]
    fn rejects_every_malformed_answer() {
        let plain = [DeflateOffer::new()];
        let all = [DeflateOffer::new()
            .client_max_window_bits(Some(12))
            .server_max_window_bits(12)];
        let invalid = |param: &str, value: &str| DeflateError::InvalidValue {
            param: param.into(),
            value: value.into(),
        };
        let cases: Vec<(&[DeflateOffer], &str, DeflateError)> = vec![
            (
                &all,
                "permessage-deflate; foo",
                DeflateError::UnknownParameter("foo".into()),
            ),
            (
                &all,
                "permessage-deflate; foo=1",
                DeflateError::UnknownParameter("foo".into()),
            ),
            (
                &all,
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                DeflateError::DuplicateParameter("server_no_context_takeover".into()),
            ),
            (
                &all,
                "permessage-deflate; client_max_window_bits=9; client_max_window_bits=9",
                DeflateError::DuplicateParameter("client_max_window_bits".into()),
            ),
            (
                &all,
                "permessage-deflate; client_max_window_bits",
                DeflateError::MissingValue("client_max_window_bits".into()),
            ),
            (
                &all,
                "permessage-deflate; server_max_window_bits",
                DeflateError::MissingValue("server_max_window_bits".into()),
            ),
            (
                &all,
                "permessage-deflate; client_no_context_takeover=1",
                DeflateError::UnexpectedValue("client_no_context_takeover".into()),
            ),
            (
                &all,
                "permessage-deflate; server_no_context_takeover=true",
                DeflateError::UnexpectedValue("server_no_context_takeover".into()),
            ),
            (
                &all,
                "permessage-deflate; server_max_window_bits=7",
                invalid("server_max_window_bits", "7"),
            ),
            (
                &all,
                "permessage-deflate; server_max_window_bits=16",
                invalid("server_max_window_bits", "16"),
            ),
            (
                &all,
                "permessage-deflate; server_max_window_bits=09",
                invalid("server_max_window_bits", "09"),
            ),
            (
                &all,
                "permessage-deflate; client_max_window_bits=x",
                invalid("client_max_window_bits", "x"),
            ),
            (
                &all,
                "permessage-deflate; client_max_window_bits=-9",
                invalid("client_max_window_bits", "-9"),
            ),
            (
                &all,
                "permessage-deflate; client_max_window_bits=",
                invalid("client_max_window_bits", ""),
            ),
            (
                &all,
                "permessage-deflate; server_max_window_bits=13",
                DeflateError::AboveOffer {
                    param: "server_max_window_bits".into(),
                    offered: 12,
                    answered: 13,
                },
            ),
            (
                &all,
                "permessage-deflate; client_max_window_bits=14",
                DeflateError::AboveOffer {
                    param: "client_max_window_bits".into(),
                    offered: 12,
                    answered: 14,
                },
            ),
            (
                &plain,
                "permessage-deflate; client_max_window_bits=10",
                DeflateError::NotOffered("client_max_window_bits".into()),
            ),
            (
                &[],
                "permessage-deflate",
                DeflateError::NotOffered("permessage-deflate".into()),
            ),
        ];
        for (offers, answer, expected) in cases {
            assert_eq!(negotiate(offers, answer).unwrap_err(), expected, "{answer}");
        }
    }

    #[test]
    fn error_messages_name_the_parameter() {
        let err = negotiate(
            &[DeflateOffer::new()],
            "permessage-deflate; client_max_window_bits=10",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "server answered client_max_window_bits, which the client did not offer \
             (RFC 7692 section 7.1.2.2)"
        );
    }
}
