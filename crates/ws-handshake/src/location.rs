//! Redirect targets: resolving a `Location` header against the request URL (RFC 3986
//! section 5.2, reduced to what a WebSocket URL can hold).

use crate::Error;

/// Resolve a redirect `Location` against the URL of the request that received it.
///
/// `base_url` is a `ws://` or `wss://` URL (as [`Handshake::url`](crate::Handshake::url)
/// returns). `location` may be:
/// - absolute: `ws://`, `wss://`, or `http://` / `https://` (mapped to `ws://` / `wss://`,
///   so a scheme change between plain and secure is kept);
/// - scheme-relative (`//host:port/path`): the base scheme is used;
/// - an absolute path (`/path?query`) or a query (`?query`): the base host is used;
/// - a relative path (`next`, `../up`): merged with the base path.
///
/// Dot segments are removed and a fragment is dropped (WebSocket URLs have none).
///
/// ```
/// use ws_handshake::resolve_location;
/// let base = "ws://example.com:8080/chat/room?x=1";
/// assert_eq!(resolve_location(base, "https://other.org/s").unwrap(), "wss://other.org/s");
/// assert_eq!(resolve_location(base, "//cdn.example.com/ws").unwrap(), "ws://cdn.example.com/ws");
/// assert_eq!(resolve_location(base, "/v2").unwrap(), "ws://example.com:8080/v2");
/// assert_eq!(resolve_location(base, "../lobby").unwrap(), "ws://example.com:8080/lobby");
/// # Ok::<(), ws_handshake::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::InvalidLocation`] when the location is empty, contains whitespace or control
/// characters, has a scheme other than ws, wss, http or https, or an empty host, or when
/// `base_url` is not a ws/wss URL.
pub fn resolve_location(base_url: &str, location: &str) -> Result<String, Error> {
    let bad = |reason| Error::InvalidLocation {
        location: location.to_owned(),
        reason,
    };
    if location.is_empty() {
        return Err(bad("empty location"));
    }
    if location.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(bad("location contains whitespace or control characters"));
    }
    let location = location.split_once('#').map_or(location, |(l, _)| l);
    let base = Parts::parse(base_url).ok_or(Error::InvalidLocation {
        location: base_url.to_owned(),
        reason: "base url is not a ws:// or wss:// url",
    })?;

    if let Some((scheme, rest)) = split_scheme(location) {
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "ws" | "http" => "ws",
            "wss" | "https" => "wss",
            _ => return Err(bad("scheme is not ws, wss, http or https")),
        };
        let Some(rest) = rest.strip_prefix("//") else {
            return Err(bad("absolute location lacks '//' after the scheme"));
        };
        return absolute(scheme, rest).ok_or_else(|| bad("location has an empty host"));
    }
    if let Some(rest) = location.strip_prefix("//") {
        return absolute(base.scheme, rest).ok_or_else(|| bad("location has an empty host"));
    }
    let (path, query) = match location.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (location, None),
    };
    let merged = if path.is_empty() {
        // Only a query: keep the base path.
        base.path.to_owned()
    } else if path.starts_with('/') {
        path.to_owned()
    } else {
        let dir = base
            .path
            .rfind('/')
            .and_then(|i| base.path.get(..=i))
            .unwrap_or("/");
        format!("{dir}{path}")
    };
    let mut out = format!(
        "{}://{}{}",
        base.scheme,
        base.authority,
        remove_dot_segments(&merged)
    );
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

/// Split `scheme:` off a URL reference, if it starts with one (RFC 3986 section 3.1).
fn split_scheme(s: &str) -> Option<(&str, &str)> {
    let colon = s.find(':')?;
    let scheme = s.get(..colon)?;
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    if !first.is_ascii_alphabetic()
        || !bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        return None;
    }
    Some((scheme, s.get(colon + 1..)?))
}

/// `scheme://` + `rest` (authority, path, query) with dot segments removed and `/` as the
/// default path; `None` when the authority is empty.
fn absolute(scheme: &str, rest: &str) -> Option<String> {
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    if !has_host(authority) {
        return None;
    }
    let tail = rest.get(end..)?;
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let path = if path.is_empty() {
        "/".to_owned()
    } else {
        remove_dot_segments(path)
    };
    let mut out = format!("{scheme}://{authority}{path}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

/// Whether an authority (`[userinfo@]host[:port]`) has a non-empty host.
fn has_host(authority: &str) -> bool {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    !host.is_empty() && !host.starts_with(':')
}

/// The pieces of a `ws://` or `wss://` base URL.
struct Parts<'a> {
    scheme: &'static str,
    authority: &'a str,
    path: &'a str,
}

impl<'a> Parts<'a> {
    fn parse(url: &'a str) -> Option<Self> {
        let (scheme, rest) = split_scheme(url)?;
        let scheme = if scheme.eq_ignore_ascii_case("ws") {
            "ws"
        } else if scheme.eq_ignore_ascii_case("wss") {
            "wss"
        } else {
            return None;
        };
        let rest = rest.strip_prefix("//")?;
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = rest.get(..end)?;
        if !has_host(authority) {
            return None;
        }
        let tail = rest.get(end..)?;
        let path = tail.split_once('?').map_or(tail, |(p, _)| p);
        let path = if path.is_empty() { "/" } else { path };
        Some(Self {
            scheme,
            authority,
            path,
        })
    }
}

/// RFC 3986 section 5.2.4 on a path that starts with `/`.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut result = String::with_capacity(path.len());
    for seg in &out {
        result.push('/');
        result.push_str(seg);
    }
    if trailing_slash || result.is_empty() {
        result.push('/');
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "ws://example.com:8080/a/b/c?q=1";

    #[test]
    fn resolves_every_kind_of_reference() {
        let cases = [
            ("ws://other/x", "ws://other/x"),
            ("wss://other:9/x?y", "wss://other:9/x?y"),
            ("http://other/x", "ws://other/x"),
            ("HTTPS://other", "wss://other/"),
            ("https://[::1]:8443/p", "wss://[::1]:8443/p"),
            ("//cdn/x", "ws://cdn/x"),
            ("/root?z=2", "ws://example.com:8080/root?z=2"),
            ("?z=2", "ws://example.com:8080/a/b/c?z=2"),
            ("d", "ws://example.com:8080/a/b/d"),
            ("d?k", "ws://example.com:8080/a/b/d?k"),
            ("./d", "ws://example.com:8080/a/b/d"),
            ("../d", "ws://example.com:8080/a/d"),
            ("../../../../d", "ws://example.com:8080/d"),
            (".", "ws://example.com:8080/a/b/"),
            ("..", "ws://example.com:8080/a/"),
            ("/x/./y/../z", "ws://example.com:8080/x/z"),
            ("/x#frag", "ws://example.com:8080/x"),
            ("ws://u:p@h/x", "ws://u:p@h/x"),
        ];
        for (location, want) in cases {
            assert_eq!(
                resolve_location(BASE, location).unwrap(),
                want,
                "{location}"
            );
        }
    }

    #[test]
    fn keeps_the_secure_base_scheme_for_relative_references() {
        assert_eq!(resolve_location("wss://h/a", "//g/x").unwrap(), "wss://g/x");
        assert_eq!(resolve_location("wss://h/a", "b").unwrap(), "wss://h/b");
        assert_eq!(
            resolve_location("wss://[::1]:9/", "/b").unwrap(),
            "wss://[::1]:9/b"
        );
    }

    #[test]
    fn rejects_unusable_locations() {
        let cases = [
            ("", "empty location"),
            ("/a b", "location contains whitespace or control characters"),
            ("ftp://h/x", "scheme is not ws, wss, http or https"),
            ("mailto:x@y", "scheme is not ws, wss, http or https"),
            ("http:/x", "absolute location lacks '//' after the scheme"),
            ("ws:///x", "location has an empty host"),
            ("//", "location has an empty host"),
        ];
        for (location, reason) in cases {
            assert_eq!(
                resolve_location(BASE, location),
                Err(Error::InvalidLocation {
                    location: location.to_owned(),
                    reason
                }),
                "{location:?}"
            );
        }
    }

    #[test]
    fn rejects_a_base_that_is_not_a_websocket_url() {
        for base in [
            "http://h/",
            "ws:///x",
            "ws://:80/x",
            "ws://u@/x",
            "ws://://h/a/",
        ] {
            let err = resolve_location(base, "../x").unwrap_err();
            assert!(
                matches!(err, Error::InvalidLocation { ref location, reason }
                    if location == base && reason == "base url is not a ws:// or wss:// url"),
                "{base}: {err:?}"
            );
        }
    }
}
