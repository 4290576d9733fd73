//! Choosing a proxy from `http_proxy`, `https_proxy`, `all_proxy` and `no_proxy`.

use super::{NoProxy, Proxy};
use crate::endpoint::Endpoint;
use crate::error::ProxyError;

/// The proxy the environment asks for `endpoint`, if any.
pub(super) fn from_env(
    endpoint: &Endpoint,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>, ProxyError> {
    let get = |lower: &'static str, upper: &'static str| {
        [lower, upper]
            .into_iter()
            .filter_map(|name| env(name).map(|v| (name, v)))
            .find(|(_, v)| !v.trim().is_empty())
    };
    let specific = if endpoint.is_secure() {
        get("https_proxy", "HTTPS_PROXY")
    } else {
        get("http_proxy", "HTTP_PROXY")
    };
    let Some((name, value)) = specific.or_else(|| get("all_proxy", "ALL_PROXY")) else {
        return Ok(None);
    };
    if let Some((_, list)) = get("no_proxy", "NO_PROXY") {
        if NoProxy::parse(&list).matches(endpoint.host(), endpoint.port()) {
            log::debug!("no_proxy matches {}, connecting directly", endpoint.host());
            return Ok(None);
        }
    }
    let proxy = Proxy::parse(&value).map_err(|err| match err {
        ProxyError::Config { reason } => ProxyError::Config {
            reason: format!("{name}: {reason}"),
        },
        other => other,
    })?;
    log::debug!("using proxy {proxy} from {name}");
    Ok(Some(proxy))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::proxy::ProxyKind;

    fn select(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let endpoint = Endpoint::parse(url).unwrap();
        from_env(&endpoint, &|name| map.get(name).cloned())
            .unwrap()
            .map(|p| p.to_string())
    }

    #[test]
    fn picks_the_variable_for_the_scheme_lower_case_first() {
        let vars = [
            ("http_proxy", "http://lower-http:1"),
            ("HTTP_PROXY", "http://upper-http:2"),
            ("HTTPS_PROXY", "http://upper-https:3"),
            ("all_proxy", "socks5://all:4"),
        ];
        assert_eq!(
            select("ws://h/", &vars).as_deref(),
            Some("http://lower-http:1")
        );
        assert_eq!(
            select("wss://h/", &vars).as_deref(),
            Some("http://upper-https:3")
        );
        assert_eq!(
            select("wss://h/", &[("all_proxy", "socks5h://all:4")]).as_deref(),
            Some("socks5h://all:4")
        );
        assert_eq!(
            select("ws://h/", &[("ALL_PROXY", "socks4a://all")]).as_deref(),
            Some("socks4a://all:1080")
        );
        assert_eq!(select("ws://h/", &[("https_proxy", "http://p:1")]), None);
        assert_eq!(select("ws://h/", &[("http_proxy", " ")]), None);
        assert_eq!(select("ws://h/", &[]), None);
    }

    #[test]
    fn honours_the_proxy_scheme_and_credentials_from_the_environment() {
        let map = |name: &str| (name == "https_proxy").then(|| "socks5://u:p@proxy".to_owned());
        let endpoint = Endpoint::parse("wss://h/").unwrap();
        let proxy = from_env(&endpoint, &map).unwrap().unwrap();
        assert_eq!(proxy.kind(), ProxyKind::Socks5);
        assert_eq!(proxy.port(), 1080);
        assert!(proxy.has_auth());
    }

    #[test]
    fn no_proxy_bypasses_the_environment_proxy() {
        let vars = [
            ("http_proxy", "http://p:1"),
            ("no_proxy", "example.com,10.0.0.0/8"),
        ];
        assert_eq!(select("ws://a.example.com/", &vars), None);
        assert_eq!(select("ws://10.1.2.3/", &vars), None);
        assert_eq!(
            select("ws://xexample.com/", &vars).as_deref(),
            Some("http://p:1")
        );
        let upper = [("http_proxy", "http://p:1"), ("NO_PROXY", "*")];
        assert_eq!(select("ws://anything/", &upper), None);
    }

    #[test]
    fn a_bad_environment_proxy_names_the_variable_not_the_password() {
        let endpoint = Endpoint::parse("ws://h/").unwrap();
        let err = from_env(&endpoint, &|name| {
            (name == "HTTP_PROXY").then(|| "gopher://u:hunter2@p".to_owned())
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("HTTP_PROXY"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}
