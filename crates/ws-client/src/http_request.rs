//! The `http` feature: connecting with the `http` crate's [`Request`] or [`Uri`], as
//! tungstenite's `connect(request)` does, with every header of the request sent in its
//! order.

use http::{Method, Request, Uri, Version};
use ws_handshake::{HostHeader, Origin};

use crate::config::ClientBuilder;
use crate::error::{Error, OptionError, Result};
use crate::websocket::WebSocket;

impl ClientBuilder {
    /// Connects with an `http::Request<()>` (what tungstenite's `IntoClientRequest`
    /// gives): its URI is the URL, and every header is sent, in the request's order,
    /// after the builder's own.
    ///
    /// Headers the upgrade generates are taken from the request instead: `Host` and
    /// `Origin` replace the derived values; `Sec-WebSocket-Key`, `Sec-WebSocket-Version`
    /// and `Sec-WebSocket-Protocol` are sent as given (the accept check uses that key and
    /// the answer must pick an offered subprotocol); `Upgrade: websocket` and
    /// `Connection: Upgrade`, which tungstenite's `into_client_request` adds, are the
    /// generated ones and not repeated. Other options come from the builder.
    ///
    /// ```no_run
    /// use ws_client::ClientBuilder;
    /// use ws_client::http::Request;
    ///
    /// let request = Request::get("wss://example.com/socket")
    ///     .header("Authorization", "Bearer token")
    ///     .header("Sec-WebSocket-Protocol", "chat")
    ///     .body(())
    ///     .expect("a valid request");
    /// let ws = ClientBuilder::new().connect_request(&request)?;
    /// assert_eq!(ws.subprotocol(), Some("chat"));
    /// # Ok::<(), ws_client::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for a method other than `GET`, a version other than
    /// HTTP/1.1, a header value that is not visible ASCII, `Upgrade` or `Connection`
    /// values other than the upgrade's, or a `Sec-WebSocket-Extensions` header (use
    /// `ClientBuilder::deflate`); otherwise as [`connect`](Self::connect).
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn connect_request(&self, request: &Request<()>) -> Result<WebSocket> {
        let (builder, url) = self.with_request(request)?;
        builder.connect(&url)
    }

    /// Connects to an `http::Uri` (`ws://`, `wss://`, `http://` or `https://`).
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn connect_uri(&self, uri: &Uri) -> Result<WebSocket> {
        self.connect(&uri.to_string())
    }

    /// This builder with the request's headers, and the request's URL.
    fn with_request(&self, request: &Request<()>) -> Result<(Self, String)> {
        let invalid =
            |reason: String| Err(Error::InvalidOption(OptionError::HttpRequest { reason }));
        if request.method() != Method::GET {
            return invalid(format!(
                "method {} cannot open a websocket; use GET",
                request.method()
            ));
        }
        if request.version() != Version::HTTP_11 {
            return invalid(format!(
                "version {:?} cannot open a websocket; use HTTP/1.1",
                request.version()
            ));
        }
        let mut builder = self.clone();
        let mut headers = Vec::new();
        for (name, value) in request.headers() {
            let Ok(value) = value.to_str() else {
                return invalid(format!("the value of {name} is not visible ASCII"));
            };
            let expected = match name.as_str() {
                "host" => {
                    builder.request = builder.request.host(HostHeader::Custom(value.to_owned()));
                    continue;
                }
                "origin" => {
                    builder.request = builder.request.origin(Origin::Custom(value.to_owned()));
                    continue;
                }
                "upgrade" => "websocket",
                "connection" => "upgrade",
                "sec-websocket-extensions" => {
                    return invalid(format!(
                        "{name}: {value:?} is not sent as given; offer compression with \
                         ClientBuilder::deflate"
                    ));
                }
                _ => {
                    headers.push((name.as_str().to_owned(), value.to_owned()));
                    continue;
                }
            };
            let has_token = value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case(expected));
            if !has_token {
                return invalid(format!(
                    "{name}: {value:?} cannot open a websocket (the upgrade sends {expected})"
                ));
            }
        }
        builder.request = builder.request.headers(headers);
        Ok((builder, request.uri().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(request: &Request<()>) -> Result<(ClientBuilder, String)> {
        ClientBuilder::new().with_request(request)
    }

    #[test]
    fn keeps_headers_in_order_and_maps_generated_ones() {
        let request = Request::get("ws://h.test:8080/chat?x=1")
            .header("Host", "h.test:8080")
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("X-B", "2")
            .header("Origin", "https://o.test")
            .header("X-A", "1")
            .header("X-B", "3")
            .body(())
            .unwrap();
        let (builder, url) = parts(&request).unwrap();
        assert_eq!(url, "ws://h.test:8080/chat?x=1");
        // HeaderMap keeps first-insertion order of names; repeated values follow their name.
        let expected = ws_handshake::RequestOptions::new()
            .host(HostHeader::Custom("h.test:8080".into()))
            .origin(Origin::Custom("https://o.test".into()))
            .headers([
                ("sec-websocket-version", "13"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("x-b", "2"),
                ("x-b", "3"),
                ("x-a", "1"),
            ]);
        assert_eq!(builder.request, expected);
    }

    #[test]
    fn refuses_what_cannot_open_a_websocket() {
        let cases = [
            (
                Request::post("ws://h/").body(()).unwrap(),
                "method POST cannot open a websocket",
            ),
            (
                Request::get("ws://h/")
                    .version(Version::HTTP_2)
                    .body(())
                    .unwrap(),
                "version HTTP/2.0 cannot open a websocket",
            ),
            (
                Request::get("ws://h/")
                    .header("Upgrade", "h2c")
                    .body(())
                    .unwrap(),
                "upgrade: \"h2c\" cannot open a websocket",
            ),
            (
                Request::get("ws://h/")
                    .header("Sec-WebSocket-Extensions", "permessage-deflate")
                    .body(())
                    .unwrap(),
                "ClientBuilder::deflate",
            ),
            (
                Request::get("ws://h/")
                    .header("X-Bin", http::HeaderValue::from_bytes(b"\xff").unwrap())
                    .body(())
                    .unwrap(),
                "the value of x-bin is not visible ASCII",
            ),
        ];
        for (request, needle) in cases {
            let Err(Error::InvalidOption(OptionError::HttpRequest { reason: message })) =
                parts(&request)
            else {
                panic!("{request:?} was accepted");
            };
            assert!(message.contains(needle), "{message}");
        }
    }
}
