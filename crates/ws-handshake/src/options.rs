//! [`RequestOptions`]: what a client's upgrade request carries besides its target.

use core::fmt;

use crate::request::{HostHeader, Origin};
use crate::response::ResponseLimits;

/// The options of a client's upgrade request that do not depend on its target: the
/// `Origin` and `Host` headers, subprotocols, caller headers, the cookie, and the limits
/// for reading the response. A [`ClientRequest`](crate::ClientRequest) takes them with
/// [`options`](crate::ClientRequest::options); one value serves every request (every
/// redirect hop) of a connection.
///
/// Setters are infallible; [`ClientRequest::build`](crate::ClientRequest::build)
/// validates the values and names the offending one.
///
/// ```
/// use ws_handshake::{ClientRequest, Origin, RequestOptions, Scheme};
///
/// let options = RequestOptions::new()
///     .origin(Origin::Suppress)
///     .subprotocols(["chat"])
///     .header("X-Trace", "abc")
///     .cookie("session=1");
/// let handshake = ClientRequest::new("example.com", 80, Scheme::Ws, "/")
///     .options(options)
///     .key([7; 16])
///     .build()?;
/// let request = String::from_utf8_lossy(handshake.request_bytes()).into_owned();
/// assert!(request.contains("\r\nX-Trace: abc\r\n") && !request.contains("Origin"));
/// # Ok::<(), ws_handshake::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct RequestOptions {
    pub(crate) origin: Origin,
    pub(crate) host: HostHeader,
    pub(crate) subprotocols: Vec<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) cookie: Option<String>,
    pub(crate) response_limits: ResponseLimits,
}

impl fmt::Debug for RequestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values and the cookie may hold credentials: only names are shown.
        f.debug_struct("RequestOptions")
            .field("origin", &self.origin)
            .field("host", &self.host)
            .field("subprotocols", &self.subprotocols)
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .field("cookie", &self.cookie.as_ref().map(|_| "<redacted>"))
            .field("response_limits", &self.response_limits)
            .finish()
    }
}

impl RequestOptions {
    /// The defaults listed on each setter.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `Origin` header: derived from the target, a custom value, or none (Python's
    /// `origin=` and `suppress_origin=`). Default: [`Origin::Default`] (`http://host[:port]`,
    /// `https` for `wss`).
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    /// The `Host` header: derived from the target, a custom value, or none (Python's
    /// `host=` and `suppress_host=`). Default: [`HostHeader::Default`].
    pub fn host(mut self, host: HostHeader) -> Self {
        self.host = host;
        self
    }

    /// Subprotocols to offer, in order of preference; each must be an HTTP token. A
    /// server choosing one not offered fails the handshake with
    /// [`Error::UnexpectedSubprotocol`](crate::Error::UnexpectedSubprotocol).
    /// Default: none offered.
    pub fn subprotocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.subprotocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Appends a header, sent after the generated ones in call order; duplicates are
    /// allowed. A name that is not a token, a value with CR, LF or another control
    /// character, or a header duplicating a generated one fails `build` with
    /// [`Error::InvalidHeader`](crate::Error::InvalidHeader) or
    /// [`Error::DuplicateHeader`](crate::Error::DuplicateHeader). Default: none.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Appends several headers, as [`header`](Self::header) does.
    pub fn headers<I, N, V>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<String>,
        V: Into<String>,
    {
        self.headers
            .extend(headers.into_iter().map(|(n, v)| (n.into(), v.into())));
        self
    }

    /// Keeps only the caller headers whose name `keep` accepts (a client withholding
    /// credentials from another origin after a redirect uses it).
    pub fn retain_headers(mut self, mut keep: impl FnMut(&str) -> bool) -> Self {
        self.headers.retain(|(name, _)| keep(name));
        self
    }

    /// The `Cookie` header value, sent last (omitted when empty). Default: none.
    pub fn cookie(mut self, cookie: impl Into<String>) -> Self {
        self.cookie = Some(cookie.into());
        self
    }

    /// Removes the cookie (a client withholding credentials uses it).
    pub fn without_cookie(mut self) -> Self {
        self.cookie = None;
        self
    }

    /// Limits for reading the response: head size, header count, body size. Default:
    /// [`ResponseLimits::default`].
    pub fn response_limits(mut self, limits: ResponseLimits) -> Self {
        self.response_limits = limits;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let o = RequestOptions::new();
        assert_eq!(o.origin, Origin::Default);
        assert_eq!(o.host, HostHeader::Default);
        assert!(o.subprotocols.is_empty() && o.headers.is_empty() && o.cookie.is_none());
        assert_eq!(o.response_limits, ResponseLimits::default());
    }

    #[test]
    fn withholding_credentials_drops_the_cookie_and_the_rejected_headers() {
        let o = RequestOptions::new()
            .header("Authorization", "x")
            .header("X-Ok", "1")
            .cookie("a=b")
            .retain_headers(|n| n != "Authorization")
            .without_cookie();
        assert_eq!(o.headers, [("X-Ok".to_owned(), "1".to_owned())]);
        assert_eq!(o.cookie, None);
    }

    #[test]
    fn debug_shows_header_names_but_no_values_or_cookie() {
        let o = RequestOptions::new()
            .header("Authorization", "Bearer s3cret")
            .cookie("session=hunter2");
        let shown = format!("{o:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("Authorization"), "{shown}");
    }
}
