//! What a followed redirect may take along: [`RedirectCredentials`] (which credentials go
//! to another origin) and [`RedirectDowngrade`] (whether `wss://` may lead to `ws://`).

use ws_net::Endpoint;

use crate::error::{Error, Result};
use crate::logging::is_allowed;

/// Which credentials a followed redirect sends again.
///
/// Credentials are the `Authorization` basic auth made from the URL's user information,
/// the [`cookie`](ws_handshake::RequestOptions::cookie), and every header of
/// [`header`](ws_handshake::RequestOptions::header) and
/// [`header_fn`](crate::ClientBuilder::header_fn) whose value the logs redact: anything
/// not on the short allow-list of [`SafeHeaders`](crate::SafeHeaders) (`Authorization`,
/// `Cookie` and custom headers such as `X-Api-Key` all count).
///
/// An origin is a scheme, host and port (RFC 6454); `ws://h` and `wss://h` differ.
/// Default: [`RedirectCredentials::SameOrigin`], what browsers and curl do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RedirectCredentials {
    /// Credentials go only to the origin of the URL given to `connect`: a redirect to
    /// another origin drops the URL's basic auth, the cookie and every sensitive caller
    /// header (see above); a redirect that comes back to the first
    /// origin sends them again.
    #[default]
    SameOrigin,
    /// Credentials go to every redirect target, whatever its origin (curl's
    /// `--location-trusted`). Only for servers whose redirects you trust.
    Always,
}

/// Whether a redirect may lead from `wss://` to plain `ws://`.
///
/// Default: [`RedirectDowngrade::Refuse`]: such a redirect fails with
/// [`Error::InsecureRedirect`] before anything is sent to the plain target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RedirectDowngrade {
    /// A redirect from `wss://` to `ws://` fails with [`Error::InsecureRedirect`].
    #[default]
    Refuse,
    /// A redirect from `wss://` to `ws://` is followed (without credentials unless
    /// [`RedirectCredentials::Always`], since the origin changes).
    Allow,
}

/// Whether the request to one hop of a connect carries the caller's credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// Basic auth, cookie and every header are sent.
    Send,
    /// Only headers the logs may show are sent.
    Withhold,
}

impl Credentials {
    /// Whether caller header `name` goes into the request.
    pub(crate) fn allows_header(self, name: &str) -> bool {
        self == Self::Send || is_allowed(name)
    }
}

/// The redirect rules applied to each hop of one connect.
#[derive(Debug)]
pub(crate) struct Policy {
    credentials: RedirectCredentials,
    downgrade: RedirectDowngrade,
}

impl Policy {
    pub(crate) fn new(credentials: RedirectCredentials, downgrade: RedirectDowngrade) -> Self {
        Self {
            credentials,
            downgrade,
        }
    }

    /// Checks the hop to `next` after `previous` (`None` for the first request) and says
    /// whether it carries credentials; `first` is the endpoint of the URL given to
    /// `connect`.
    pub(crate) fn hop(
        &self,
        first: &Endpoint,
        previous: Option<&Endpoint>,
        next: &Endpoint,
    ) -> Result<Credentials> {
        if previous.is_some_and(Endpoint::is_secure)
            && !next.is_secure()
            && self.downgrade == RedirectDowngrade::Refuse
        {
            return Err(Error::InsecureRedirect {
                location: next.as_str().to_owned(),
            });
        }
        Ok(
            if self.credentials == RedirectCredentials::Always || first.same_origin(next) {
                Credentials::Send
            } else {
                Credentials::Withhold
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    #[test]
    fn defaults_are_same_origin_and_refuse() {
        assert_eq!(
            RedirectCredentials::default(),
            RedirectCredentials::SameOrigin
        );
        assert_eq!(RedirectDowngrade::default(), RedirectDowngrade::Refuse);
    }

    #[test]
    fn credentials_follow_only_the_first_origin_by_default() {
        let policy = Policy::new(RedirectCredentials::SameOrigin, RedirectDowngrade::Refuse);
        let first = ep("wss://a.example/x");
        let cases = [
            ("wss://a.example/y", Credentials::Send),
            ("wss://A.example:443/z", Credentials::Send),
            ("wss://b.example/x", Credentials::Withhold),
            ("wss://a.example:8443/x", Credentials::Withhold),
        ];
        for (next, want) in cases {
            let got = policy.hop(&first, Some(&first), &ep(next)).unwrap();
            assert_eq!(got, want, "{next}");
        }
        let always = Policy::new(RedirectCredentials::Always, RedirectDowngrade::Refuse);
        let got = always
            .hop(&first, Some(&first), &ep("wss://b.example/"))
            .unwrap();
        assert_eq!(got, Credentials::Send);
    }

    #[test]
    fn refuses_a_downgrade_unless_allowed() {
        let first = ep("wss://a.example/x");
        let plain = ep("ws://a.example/x");
        let policy = Policy::new(RedirectCredentials::Always, RedirectDowngrade::Refuse);
        let err = policy.hop(&first, Some(&first), &plain).unwrap_err();
        assert!(
            matches!(&err, Error::InsecureRedirect { location } if location == "ws://a.example/x"),
            "{err:?}"
        );
        let allow = Policy::new(RedirectCredentials::SameOrigin, RedirectDowngrade::Allow);
        let got = allow.hop(&first, Some(&first), &plain).unwrap();
        assert_eq!(
            got,
            Credentials::Withhold,
            "the scheme is part of the origin"
        );
        // A plain first URL is the caller's choice, not a downgrade.
        let got = policy.hop(&plain, None, &plain).unwrap();
        assert_eq!(got, Credentials::Send);
    }

    #[test]
    fn withheld_credentials_keep_only_loggable_headers() {
        for name in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "Proxy-Authorization",
        ] {
            assert!(!Credentials::Withhold.allows_header(name), "{name}");
            assert!(Credentials::Send.allows_header(name), "{name}");
        }
        for name in ["User-Agent", "origin", "Sec-WebSocket-Protocol"] {
            assert!(Credentials::Withhold.allows_header(name), "{name}");
        }
    }
}
