//! The `CallObserver` hook: told of every finished call, once, with its retries.

use std::sync::{Arc, Mutex};

use planwright_calendar::{Api, CallObserver, CallReport, EventListParams, SecretString};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    EVENTS_PATH, client_with, event_json, events_page, google_error, json_response, oauth_client,
    oauth_config,
};

/// What the observer was told: (api, method, error kind or "ok", attempts).
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<(Api, &'static str, &'static str, u32)>>);

impl CallObserver for Recorder {
    fn call_finished(&self, report: &CallReport<'_>) {
        let outcome = report.error.map_or("ok", |error| error.kind());
        self.0.lock().unwrap().push((report.api, report.method, outcome, report.attempts));
    }
}

impl Recorder {
    fn calls(&self) -> Vec<(Api, &'static str, &'static str, u32)> {
        self.0.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn a_calendar_call_is_reported_once_with_its_retries() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(429, &google_error(429, "rateLimitExceeded", "Rate Limit Exceeded")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(200, &events_page(vec![event_json("e1", "ok")], None, Some("s"))))
        .mount(&server)
        .await;
    let recorder = Arc::new(Recorder::default());
    let client = client_with(&server, |config| config.with_observer(recorder.clone()));

    client.events().list("primary", &EventListParams::new()).await.unwrap();

    assert_eq!(recorder.calls(), [(Api::Calendar, "events.list", "ok", 2)]);
}

#[tokio::test]
async fn a_failed_call_is_reported_with_the_kind_of_its_error() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH)).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    let recorder = Arc::new(Recorder::default());
    let client = client_with(&server, |config| config.with_observer(recorder.clone()));

    client.events().get("primary", "gone1").await.unwrap_err();

    assert_eq!(recorder.calls(), [(Api::Calendar, "events.get", "not_found", 1)]);
}

#[tokio::test]
async fn oauth_requests_are_reported_too() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            400,
            &json!({"error": "invalid_grant", "error_description": "Bad Request"}),
        ))
        .mount(&server)
        .await;
    let recorder = Arc::new(Recorder::default());
    let observed =
        planwright_calendar::OAuthClient::new(oauth_config(&server).with_observer(recorder.clone())).unwrap();

    observed.refresh(&SecretString::from("1//dead")).await.unwrap_err();
    // A client without an observer reports nothing, anywhere.
    oauth_client(&server).refresh(&SecretString::from("1//dead")).await.unwrap_err();

    assert_eq!(recorder.calls(), [(Api::OAuth, "token.refresh", "invalid_grant", 1)]);
}
