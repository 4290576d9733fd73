//! Redirects leak nothing with the async client: the cases of
//! `tests/tests/common/redirects.rs`, run with `ClientBuilder::connect_async` on a
//! runtime of their own.

use ws_client::{ClientBuilder, Error};

use crate::redirect_cases as cases;

fn on_tokio(builder: &ClientBuilder, url: &str) -> Result<String, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let ws = crate::within(builder.connect_async(url)).await?;
        Ok(ws.url().to_owned())
    })
}

#[test]
fn cross_origin_redirect_drops_credentials() {
    cases::cross_origin_redirect_drops_credentials(on_tokio);
}

#[test]
fn cross_origin_redirect_drops_url_credentials() {
    cases::cross_origin_redirect_drops_url_credentials(on_tokio);
}

#[test]
fn same_origin_redirect_keeps_credentials() {
    cases::same_origin_redirect_keeps_credentials(on_tokio);
}

#[test]
fn opting_in_sends_credentials_to_another_origin() {
    cases::opting_in_sends_credentials_to_another_origin(on_tokio);
}

#[test]
fn redirect_from_wss_to_ws_is_refused() {
    cases::redirect_from_wss_to_ws_is_refused(on_tokio);
}

#[test]
fn redirect_from_wss_to_ws_can_be_allowed_without_credentials() {
    cases::redirect_from_wss_to_ws_can_be_allowed_without_credentials(on_tokio);
}
