//! Redirects leak nothing with the blocking client: the cases of
//! `tests/tests/common/redirects.rs`, run with `ClientBuilder::connect`.

use ws_client::{ClientBuilder, Error};

use crate::redirect_cases as cases;

fn blocking(builder: &ClientBuilder, url: &str) -> Result<String, Error> {
    builder.connect(url).map(|ws| ws.url().to_owned())
}

#[test]
fn cross_origin_redirect_drops_credentials() {
    cases::cross_origin_redirect_drops_credentials(blocking);
}

#[test]
fn cross_origin_redirect_drops_url_credentials() {
    cases::cross_origin_redirect_drops_url_credentials(blocking);
}

#[test]
fn same_origin_redirect_keeps_credentials() {
    cases::same_origin_redirect_keeps_credentials(blocking);
}

#[test]
fn opting_in_sends_credentials_to_another_origin() {
    cases::opting_in_sends_credentials_to_another_origin(blocking);
}

#[test]
fn redirect_from_wss_to_ws_is_refused() {
    cases::redirect_from_wss_to_ws_is_refused(blocking);
}

#[test]
fn redirect_from_wss_to_ws_can_be_allowed_without_credentials() {
    cases::redirect_from_wss_to_ws_can_be_allowed_without_credentials(blocking);
}
