//! [`NoProxy`]: the `no_proxy` list (hosts, domain suffixes, IP addresses, CIDR ranges,
//! ports and `*`).

use std::net::IpAddr;

/// A parsed `no_proxy` list: hosts that are reached directly.
///
/// Entries are separated by commas or whitespace and compared case-insensitively:
/// - `*` matches every host;
/// - `example.com`, `.example.com` and `*.example.com` match `example.com` and any
///   `a.example.com`, never `xexample.com`;
/// - an IP address matches itself, and a CIDR range (`10.0.0.0/8`, `fd00::/8`) every
///   address inside it;
/// - any entry may carry a port (`example.com:8080`, `[::1]:8080`, `10.0.0.1:80`); it then
///   matches that port only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    any: bool,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    Domain {
        name: String,
        port: Option<u16>,
    },
    Net {
        ip: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
}

impl NoProxy {
    /// Parses a list; entries that make no sense are skipped.
    pub fn parse(list: &str) -> Self {
        let mut out = Self::default();
        for raw in list.split(|c: char| c == ',' || c.is_whitespace()) {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            if raw == "*" {
                out.any = true;
                continue;
            }
            match parse_entry(raw) {
                Some(entry) => out.entries.push(entry),
                None => log::debug!("ignoring no_proxy entry {raw:?}"),
            }
        }
        out
    }

    /// Whether a connection to `host:port` bypasses the proxy.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.any {
            return true;
        }
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match entry {
            Entry::Domain { name, port: p } => {
                p.is_none_or(|p| p == port)
                    && (host == *name
                        || (ip.is_none()
                            && host.len() > name.len()
                            && host.ends_with(name.as_str())
                            && host.as_bytes().get(host.len() - name.len() - 1) == Some(&b'.')))
            }
            Entry::Net {
                ip: net,
                prefix,
                port: p,
            } => p.is_none_or(|p| p == port) && ip.is_some_and(|ip| in_network(ip, *net, *prefix)),
        })
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        !self.any && self.entries.is_empty()
    }
}

fn parse_entry(raw: &str) -> Option<Entry> {
    let lower = raw.to_ascii_lowercase();
    // CIDR range, with an optional port after a bracketed IPv6 network is not a thing.
    if let Some((addr, bits)) = lower.split_once('/') {
        let ip: IpAddr = addr
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?;
        let prefix: u8 = bits.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (prefix <= max).then_some(Entry::Net {
            ip,
            prefix,
            port: None,
        });
    }
    // A bare IP address (IPv6 without brackets has several colons).
    if let Ok(ip) = lower.parse::<IpAddr>() {
        return Some(single(ip, None));
    }
    // [v6]:port or [v6]
    if let Some(rest) = lower.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        let ip: IpAddr = addr.parse().ok()?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some(single(ip, port));
    }
    let (name, port) = match lower.rsplit_once(':') {
        Some((name, p)) => (name, Some(p.parse::<u16>().ok()?)),
        None => (lower.as_str(), None),
    };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(single(ip, port));
    }
    let name = name
        .trim_start_matches("*.")
        .trim_start_matches('.')
        .trim_end_matches('.');
    if name.is_empty() || name.contains(['/', '@', '[', ']', ':']) {
        return None;
    }
    Some(Entry::Domain {
        name: name.to_owned(),
        port,
    })
}

fn single(ip: IpAddr, port: Option<u16>) -> Entry {
    let prefix = if ip.is_ipv4() { 32 } else { 128 };
    Entry::Net { ip, prefix, port }
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hosts_domains_addresses_ranges_and_ports() {
        #[rustfmt::skip]
        let table: &[(&str, &str, u16, bool)] = &[
            // list, host, port, bypass?
            ("example.com", "example.com", 80, true),
            ("example.com", "a.example.com", 80, true),
            ("example.com", "a.b.example.com", 80, true),
            ("example.com", "xexample.com", 80, false),
            (".example.com", "a.example.com", 80, true),
            (".example.com", "example.com", 80, true),
            (".example.com", "xexample.com", 80, false),
            ("*.example.com", "a.example.com", 80, true),
            ("example.com", "example.com.evil.org", 80, false),
            ("Example.COM", "A.example.com", 80, true),
            ("example.com", "EXAMPLE.com.", 80, true),
            ("localhost", "localhost", 9000, true),
            ("localhost", "notlocalhost", 9000, false),
            ("*", "anything.at.all", 1, true),
            ("foo, *", "bar", 1, true),
            ("127.0.0.1", "127.0.0.1", 80, true),
            ("127.0.0.1", "127.0.0.2", 80, false),
            ("10.0.0.0/8", "10.200.3.4", 80, true),
            ("10.0.0.0/8", "11.0.0.1", 80, false),
            ("192.168.1.0/24", "192.168.1.255", 80, true),
            ("192.168.1.0/24", "192.168.2.1", 80, false),
            ("0.0.0.0/0", "8.8.8.8", 80, true),
            ("::1", "::1", 80, true),
            ("::1", "[::1]", 80, true),
            ("[::1]", "::1", 80, true),
            ("fd00::/8", "fd12:3456::1", 80, true),
            ("fd00::/8", "fe80::1", 80, false),
            ("10.0.0.0/8", "::ffff:1.2.3.4", 80, false),
            ("example.com:8080", "example.com", 8080, true),
            ("example.com:8080", "example.com", 80, false),
            ("example.com:8080", "a.example.com", 8080, true),
            ("[::1]:8080", "::1", 8080, true),
            ("[::1]:8080", "::1", 8081, false),
            ("10.0.0.1:443", "10.0.0.1", 443, true),
            ("10.0.0.1:443", "10.0.0.1", 80, false),
            ("a.com b.com,c.com", "b.com", 80, true),
            ("", "example.com", 80, false),
            ("10.0.0.0/99, junk:port", "10.0.0.1", 80, false),
            ("example.com", "10.0.0.1", 80, false),
        ];
        for &(list, host, port, expected) in table {
            assert_eq!(
                NoProxy::parse(list).matches(host, port),
                expected,
                "no_proxy={list:?} host={host} port={port}"
            );
        }
    }

    #[test]
    fn empty_list_is_empty() {
        assert!(NoProxy::parse(" , ").is_empty());
        assert!(!NoProxy::parse("*").is_empty());
    }
}
