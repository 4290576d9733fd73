//! Subprotocol and extension negotiation: checking a server's choice against the client's
//! offer, and picking a subprotocol on the server side.

use crate::http::{is_token, split_list, values};
use crate::{DeflateError, DeflateOffer, DeflateParams, Error, PERMESSAGE_DEFLATE};

/// What a client request offered.
#[derive(Debug, Clone, Default)]
pub(crate) struct Offer {
    /// Subprotocols, as sent (matched case-sensitively).
    pub(crate) subprotocols: Vec<String>,
    /// Extension names, lower-cased (matched case-insensitively).
    pub(crate) extensions: Vec<String>,
    /// Typed permessage-deflate offers, in preference order.
    pub(crate) deflate: Vec<DeflateOffer>,
}

impl Offer {
    /// With typed permessage-deflate offers: validate the server's answer among the accepted
    /// extensions (at most one) into the parameters in force.
    pub(crate) fn check_deflate(
        &self,
        accepted: &[String],
    ) -> Result<Option<DeflateParams>, Error> {
        if self.deflate.is_empty() {
            return Ok(None);
        }
        let mut params = None;
        for ext in accepted {
            let name = ext
                .split(';')
                .next()
                .unwrap_or("")
                .trim_matches([' ', '\t']);
            if !name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
                continue;
            }
            if params.is_some() {
                return Err(DeflateError::DuplicateExtension.into());
            }
            params = Some(DeflateParams::negotiate(&self.deflate, ext)?);
        }
        Ok(params)
    }

    /// Check the subprotocol the server chose: at most one header with one token that we
    /// offered (case-sensitive, RFC 6455 section 4.1 point 6). Returns it in the server's
    /// spelling (which equals ours).
    pub(crate) fn check_subprotocol(
        &self,
        headers: &[(String, String)],
    ) -> Result<Option<String>, Error> {
        let mut chosen = values(headers, "Sec-WebSocket-Protocol");
        let Some(value) = chosen.next() else {
            return Ok(None);
        };
        if chosen.next().is_some() {
            return Err(Error::DuplicateHeader {
                name: "Sec-WebSocket-Protocol".to_owned(),
            });
        }
        let value = value.trim_matches([' ', '\t']);
        if self.subprotocols.iter().any(|p| p == value) {
            Ok(Some(value.to_owned()))
        } else {
            Err(Error::UnexpectedSubprotocol(value.to_owned()))
        }
    }

    /// Check every extension the server accepted against the offered names; returns each
    /// accepted extension with its parameters, as sent.
    pub(crate) fn check_extensions(
        &self,
        headers: &[(String, String)],
    ) -> Result<Vec<String>, Error> {
        let mut accepted = Vec::new();
        for value in values(headers, "Sec-WebSocket-Extensions") {
            for ext in split_list(value) {
                let name = ext
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim_matches([' ', '\t']);
                if !is_token(name) || !self.extensions.iter().any(|o| o.eq_ignore_ascii_case(name))
                {
                    return Err(Error::UnexpectedExtension(ext.to_owned()));
                }
                accepted.push(ext.to_owned());
            }
        }
        Ok(accepted)
    }
}

/// The server's pick: the first of `supported` (the server's preference order) that the
/// client offered in any `Sec-WebSocket-Protocol` header (case-sensitive).
pub(crate) fn pick_subprotocol(
    headers: &[(String, String)],
    supported: &[String],
) -> Option<String> {
    let offered: Vec<&str> = values(headers, "Sec-WebSocket-Protocol")
        .flat_map(split_list)
        .collect();
    supported
        .iter()
        .find(|s| offered.contains(&s.as_str()))
        .cloned()
}
