//! Small HTTP/1.1 helpers shared by both sides: token rules, comma lists and header
//! lookup.

/// Whether `b` is an RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a non-empty RFC 9110 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Why a header value cannot be sent, or `None` when it is fine.
///
/// CR, LF and NUL would allow header injection; other control characters are not allowed
/// in a field value either (RFC 9110 section 5.5), horizontal tab excepted.
pub(crate) fn value_problem(value: &str) -> Option<&'static str> {
    for b in value.bytes() {
        match b {
            b'\r' => return Some("value contains a carriage return"),
            b'\n' => return Some("value contains a line feed"),
            0 => return Some("value contains a NUL byte"),
            b'\t' => {}
            0..=0x1f | 0x7f => return Some("value contains a control character"),
            _ => {}
        }
    }
    None
}

/// Split a comma-separated header list, trimming whitespace and dropping empty elements.
///
/// Commas inside double-quoted strings do not split (extension parameters may be quoted).
pub(crate) fn split_list(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                push_trimmed(&mut out, value.get(start..i).unwrap_or(""));
                start = i + 1;
            }
            _ => {}
        }
    }
    push_trimmed(&mut out, value.get(start..).unwrap_or(""));
    out
}

fn push_trimmed<'a>(out: &mut Vec<&'a str>, element: &'a str) {
    let element = element.trim_matches([' ', '\t']);
    if !element.is_empty() {
        out.push(element);
    }
}

/// Whether any header called `name` holds `token` in its comma list (both case-insensitive).
pub(crate) fn has_token(headers: &[(String, String)], name: &str, token: &str) -> bool {
    values(headers, name).any(|v| split_list(v).iter().any(|t| t.eq_ignore_ascii_case(token)))
}

/// The values of every header called `name` (case-insensitive), in order.
pub(crate) fn values<'a, 'n>(
    headers: &'a [(String, String)],
    name: &'n str,
) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The value of the only header called `name`, `Ok(None)` when absent, `Err(())` when repeated.
pub(crate) fn single<'a>(
    headers: &'a [(String, String)],
    name: &str,
) -> Result<Option<&'a str>, ()> {
    let mut it = values(headers, name);
    let first = it.next();
    if it.next().is_some() {
        Err(())
    } else {
        Ok(first)
    }
}

/// Convert httparse headers to owned pairs (values as lossy UTF-8, names are ASCII tokens).
pub(crate) fn owned_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Find the end of an HTTP head in `buf`, scanning from `from` (a position already known
/// not to complete a head). Returns the index just past the blank line.
///
/// Like httparse, a bare LF is accepted as a line end.
pub(crate) fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let start = from.saturating_sub(3);
    let tail = buf.get(start..)?;
    for (i, &b) in tail.iter().enumerate() {
        if b != b'\n' {
            continue;
        }
        let at = start + i;
        // "\n\n" or "\n\r\n" ends the head.
        match (buf.get(at + 1), buf.get(at + 2)) {
            (Some(b'\n'), _) => return Some(at + 2),
            (Some(b'\r'), Some(b'\n')) => return Some(at + 3),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lists_and_keeps_quoted_commas() {
        assert_eq!(
            split_list(" keep-alive , Upgrade,,"),
            ["keep-alive", "Upgrade"]
        );
        assert_eq!(split_list(r#"a; x="1,2", b"#), [r#"a; x="1,2""#, "b"]);
        assert_eq!(split_list(r#"a; x="\",", b"#), [r#"a; x="\",""#, "b"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn classifies_header_values() {
        assert_eq!(value_problem("ok value\twith tab"), None);
        assert_eq!(
            value_problem("a\rb"),
            Some("value contains a carriage return")
        );
        assert_eq!(value_problem("a\nb"), Some("value contains a line feed"));
        assert_eq!(value_problem("a\0b"), Some("value contains a NUL byte"));
        assert_eq!(
            value_problem("a\x7fb"),
            Some("value contains a control character")
        );
        assert_eq!(
            value_problem("a\x01b"),
            Some("value contains a control character")
        );
    }

    #[test]
    fn tokens_follow_rfc_9110() {
        assert!(is_token("Sec-WebSocket-Key"));
        assert!(is_token("x!#$%&'*+-.^_`|~9"));
        for bad in ["", "a b", "a:b", "a\r", "a(b", "é"] {
            assert!(!is_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn finds_the_end_of_a_head_incrementally() {
        let head = b"HTTP/1.1 101 OK\r\nA: b\r\n\r\nrest";
        assert_eq!(find_head_end(head, 0), Some(head.len() - 4));
        for from in 0..head.len() - 4 {
            assert_eq!(
                find_head_end(head, from),
                Some(head.len() - 4),
                "from {from}"
            );
        }
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\nA: b\n\nrest", 0), Some(22));
        assert_eq!(find_head_end(b"HTTP/1.1 101 OK\r\nA: b\r\n", 0), None);
    }
}
