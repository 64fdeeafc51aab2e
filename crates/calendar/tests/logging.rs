//! What the clients log: method, attempt, status and latency, never a token, secret or code.
//!
//! A test binary of its own: `tracing` caches per call site whether anyone listens, and tests on
//! other threads (with no subscriber) could register a call site first and hide it from the
//! thread-local subscriber this test installs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use planwright_calendar::{EventListParams, RefreshingTokenSource, SecretString};
use serde_json::json;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[path = "client/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{
    CLIENT_SECRET, EVENTS_PATH, TOKEN, client, client_with, events_page, json_response, oauth_client,
};

/// Collects formatted log output in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_method_attempt_and_status_but_never_secrets() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(json_response(200, &events_page(vec![], None, Some("s"))))
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .and(header("authorization", "Bearer refreshed-access-secret"))
        .respond_with(json_response(200, &events_page(vec![], None, Some("s"))))
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "refreshed-access-secret", "refresh_token": "rotated-refresh-secret",
                    "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    client(&server)
        .events()
        .list("primary", &EventListParams::new().with_sync_token("sync-token-secret"))
        .await
        .unwrap();
    let oauth = oauth_client(&server);
    oauth.exchange_code("auth-code-secret", &SecretString::from("pkce-verifier-secret")).await.unwrap();
    let source = RefreshingTokenSource::new(oauth, "refresh-token-secret");
    client_with(&server, |config| config.with_token_source(source))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap();

    let output = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("events.list"), "{output}");
    assert!(output.contains("retrying Calendar call"), "{output}");
    assert!(output.contains("status=503"), "{output}");
    for secret in [
        TOKEN,
        CLIENT_SECRET,
        "refreshed-access-secret",
        "rotated-refresh-secret",
        "refresh-token-secret",
        "auth-code-secret",
        "pkce-verifier-secret",
        "sync-token-secret",
    ] {
        assert!(!output.contains(secret), "{secret} leaked into the logs:\n{output}");
    }
}
