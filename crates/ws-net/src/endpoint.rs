//! [`Endpoint`]: a parsed `ws://` or `wss://` URL.

use std::fmt;

use crate::error::{Error, UrlError};

/// Where to connect: host, port, whether TLS is used, and the resource (path and query).
///
/// Parsed from `ws://` and `wss://` URLs; the scheme is case-insensitive and `http://` and
/// `https://` are accepted as `ws://` and `wss://`. Default ports are 80 and 443. A
/// `#fragment` is refused, as RFC 6455 section 3 requires. Credentials in the URL
/// (`wss://user:pass@host/`) are kept, percent-decoded, for the handshake's
/// `Authorization` header, but never appear in [`Endpoint::as_str`], `Display` or `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    host: String,
    port: u16,
    secure: bool,
    resource: String,
    userinfo: Option<(String, String)>,
    redacted: String,
}

impl Endpoint {
    /// Parses a `ws://`, `wss://`, `http://` or `https://` URL.
    ///
    /// # Errors
    ///
    /// [`Error::Url`] with [`UrlError::Parse`] when the text is not a URL,
    /// [`UrlError::Scheme`] for another scheme, [`UrlError::MissingHost`],
    /// [`UrlError::Fragment`] for a `#fragment` and [`UrlError::PortZero`] for port 0.
    pub fn parse(url: &str) -> Result<Self, Error> {
        Self::parse_url(url).map_err(Error::Url)
    }

    fn parse_url(url: &str) -> Result<Self, UrlError> {
        let mut parsed = url::Url::parse(url.trim()).map_err(|e| UrlError::Parse {
            reason: e.to_string(),
        })?;
        let secure = match parsed.scheme() {
            "ws" | "http" => false,
            "wss" | "https" => true,
            other => {
                return Err(UrlError::Scheme {
                    scheme: other.to_owned(),
                });
            }
        };
        if parsed.fragment().is_some() {
            return Err(UrlError::Fragment);
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(UrlError::MissingHost),
        };
        let port = parsed.port().unwrap_or(if secure { 443 } else { 80 });
        if port == 0 {
            return Err(UrlError::PortZero);
        }
        let mut resource = parsed.path().to_owned();
        if resource.is_empty() {
            resource.push('/');
        }
        if let Some(query) = parsed.query() {
            resource.push('?');
            resource.push_str(query);
        }
        let userinfo = if parsed.username().is_empty() && parsed.password().is_none() {
            None
        } else {
            Some((
                percent_decode(parsed.username()),
                percent_decode(parsed.password().unwrap_or("")),
            ))
        };
        // Both are special schemes, so switching between them always succeeds; the
        // fallback string below is only reached if the url crate changes that rule.
        let scheme = if secure { "wss" } else { "ws" };
        let _ = parsed.set_scheme(scheme);
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        let redacted = if parsed.scheme() == scheme {
            parsed.to_string()
        } else {
            format!("{scheme}://{}{resource}", authority(&host, port))
        };
        Ok(Self {
            host,
            port,
            secure,
            resource,
            userinfo,
            redacted,
        })
    }

    /// Builds an endpoint from its parts, without a URL. `resource` `""` becomes `"/"`.
    pub fn from_parts(host: &str, port: u16, secure: bool, resource: &str) -> Self {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let resource = if resource.is_empty() {
            "/".to_owned()
        } else {
            resource.to_owned()
        };
        let scheme = if secure { "wss" } else { "ws" };
        let redacted = format!("{scheme}://{}{resource}", authority(&host, port));
        Self {
            host,
            port,
            secure,
            resource,
            userinfo: None,
            redacted,
        }
    }

    /// The host name or IP address, without brackets around IPv6 addresses.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port (80 or 443 when the URL has none).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the connection uses TLS (`wss://` or `https://`).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The path and query to request, `"/"` when the URL has no path.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The percent-decoded `user` and `password` from the URL, if it had any.
    pub fn userinfo(&self) -> Option<(&str, &str)> {
        self.userinfo
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// `host:port`, with IPv6 addresses in brackets.
    pub fn authority(&self) -> String {
        authority(&self.host, self.port)
    }

    /// The URL with a `ws` or `wss` scheme and without credentials.
    pub fn as_str(&self) -> &str {
        &self.redacted
    }

    /// Whether `other` has the same origin (RFC 6454): the same scheme (`ws` or `wss`),
    /// host (ASCII case-insensitive) and port, default ports filled in. Path, query and
    /// credentials do not matter.
    ///
    /// ```
    /// use ws_net::Endpoint;
    /// let a = Endpoint::parse("wss://Example.com/a")?;
    /// assert!(a.same_origin(&Endpoint::parse("wss://example.com:443/b?x")?));
    /// assert!(!a.same_origin(&Endpoint::parse("ws://example.com:443/a")?));
    /// assert!(!a.same_origin(&Endpoint::parse("wss://example.com:8443/a")?));
    /// # Ok::<(), ws_net::Error>(())
    /// ```
    pub fn same_origin(&self, other: &Self) -> bool {
        self.secure == other.secure
            && self.port == other.port
            && self.host.eq_ignore_ascii_case(&other.host)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.redacted)
            .field("userinfo", &self.userinfo.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// `host:port`, bracketing IPv6 addresses.
pub(crate) fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Decodes `%XX` escapes; invalid escapes and non-UTF-8 results are kept as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_parts_of_ws_and_wss_urls() {
        let cases: &[(&str, &str, u16, bool, &str)] = &[
            ("ws://example.com", "example.com", 80, false, "/"),
            ("wss://example.com", "example.com", 443, true, "/"),
            (
                "WSS://Example.COM:8443/chat?room=1",
                "example.com",
                8443,
                true,
                "/chat?room=1",
            ),
            ("ws://example.com:80/a/b", "example.com", 80, false, "/a/b"),
            ("http://example.com/x", "example.com", 80, false, "/x"),
            ("https://example.com/x", "example.com", 443, true, "/x"),
            (
                "ws://[2a03:4000:123:83::3]:8080/r",
                "2a03:4000:123:83::3",
                8080,
                false,
                "/r",
            ),
            ("wss://[::1]/", "::1", 443, true, "/"),
            (
                "ws://127.0.0.1:9001/?q=%20x",
                "127.0.0.1",
                9001,
                false,
                "/?q=%20x",
            ),
            ("ws://h/a;p=1?x=1", "h", 80, false, "/a;p=1?x=1"),
        ];
        for &(url, host, port, secure, resource) in cases {
            let ep = Endpoint::parse(url).unwrap();
            assert_eq!(ep.host(), host, "{url}");
            assert_eq!(ep.port(), port, "{url}");
            assert_eq!(ep.is_secure(), secure, "{url}");
            assert_eq!(ep.resource(), resource, "{url}");
            assert_eq!(ep.userinfo(), None, "{url}");
        }
    }

    #[test]
    fn refuses_bad_urls_with_a_named_reason() {
        assert_eq!(
            Endpoint::parse_url("ftp://example.com/").unwrap_err(),
            UrlError::Scheme {
                scheme: "ftp".into()
            }
        );
        assert_eq!(
            Endpoint::parse_url("ws://example.com/#frag").unwrap_err(),
            UrlError::Fragment
        );
        assert_eq!(
            Endpoint::parse_url("ws://example.com:0/").unwrap_err(),
            UrlError::PortZero
        );
        for bad in [
            "",
            "example.com",
            "ws://",
            "ws://exa mple.com/",
            "ws://h:99999/",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(
                matches!(err, Error::Url(UrlError::Parse { .. })),
                "{bad:?} gave {err:?}"
            );
            assert!(err.to_string().starts_with("invalid url: "), "{err}");
        }
    }

    #[test]
    fn keeps_credentials_for_the_handshake_but_never_shows_them() {
        let ep = Endpoint::parse("wss://us%40er:p%3Ass@example.com:8443/chat?x=1").unwrap();
        assert_eq!(ep.userinfo(), Some(("us@er", "p:ss")));
        assert_eq!(ep.as_str(), "wss://example.com:8443/chat?x=1");
        assert_eq!(ep.to_string(), "wss://example.com:8443/chat?x=1");
        let debug = format!("{ep:?}");
        assert!(
            !debug.contains("p:ss") && !debug.contains("p%3Ass"),
            "{debug}"
        );
        assert!(!debug.contains("us@er"), "{debug}");
    }

    #[test]
    fn same_origin_compares_scheme_host_and_port_only() {
        let base = Endpoint::parse("ws://u:p@example.com/a?x=1").unwrap();
        for same in [
            "ws://example.com/",
            "http://EXAMPLE.com:80/b",
            "ws://other:pw@example.com/c",
        ] {
            assert!(base.same_origin(&Endpoint::parse(same).unwrap()), "{same}");
        }
        for other in [
            "wss://example.com:80/a",
            "ws://example.com:81/a",
            "ws://www.example.com/a",
            "ws://127.0.0.1/a",
        ] {
            assert!(
                !base.same_origin(&Endpoint::parse(other).unwrap()),
                "{other}"
            );
        }
    }

    #[test]
    fn maps_http_schemes_in_as_str() {
        assert_eq!(
            Endpoint::parse("https://[::1]:9000/a").unwrap().as_str(),
            "wss://[::1]:9000/a"
        );
        assert_eq!(Endpoint::parse("http://h").unwrap().as_str(), "ws://h/");
    }

    #[test]
    fn authority_brackets_ipv6() {
        assert_eq!(authority("::1", 80), "[::1]:80");
        assert_eq!(authority("h", 80), "h:80");
    }
}
