//! The built-in retry policy.

use std::time::{Duration, Instant};

use planwright_gemini::{Client, Error, GenerateContentRequest, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    GENERATE_PATH, client, client_with, config, google_error, json_response, received, text_response,
};

fn request() -> GenerateContentRequest {
    GenerateContentRequest::from_text("Plan my week")
}

fn rate_limited(quota_id: &str, retry_delay: &str) -> Value {
    google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        json!([
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{
                "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": "gemini-3.5-flash"},
                "quotaValue": "10"
            }]},
            {"@type": "type.googleapis.com/google.rpc.Help", "links": [
                {"description": "Learn more about Gemini API quotas",
                 "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        ]),
    )
}

#[tokio::test]
async fn rate_limit_with_retry_info_is_retried_after_the_requested_delay() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            429,
            &rate_limited("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "0.3s"),
        ))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("after the wait")))
        .expect(1)
        .mount(&server)
        .await;

    let started = Instant::now();
    let response = client_with(&server, |config| {
        config.with_retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_secs(5)),
        )
    })
    .generate_content(request())
    .await
    .unwrap();

    assert_eq!(response.text(), "after the wait");
    assert!(started.elapsed() >= Duration::from_millis(300), "waited only {:?}", started.elapsed());
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn retry_after_header_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("retry-after", "1")
                .set_body_string("Service Unavailable"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("ok")))
        .mount(&server)
        .await;

    let started = Instant::now();
    let response = client_with(&server, |config| {
        config.with_retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_secs(5)),
        )
    })
    .generate_content(request())
    .await
    .unwrap();

    assert_eq!(response.text(), "ok");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn server_requested_delay_is_capped_by_max_backoff() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            429,
            &rate_limited("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "30s"),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("ok")))
        .mount(&server)
        .await;

    let started = Instant::now();
    client(&server).generate_content(request()).await.unwrap();

    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn exhausted_daily_quota_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            429,
            &rate_limited("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "9h54m3s"),
        ))
        .mount(&server)
        .await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    match &error {
        Error::RateLimited { quota_per_day, message, .. } => {
            assert!(quota_per_day);
            assert!(message.starts_with("You exceeded your current quota"));
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    assert!(!error.is_retryable());
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn rate_limit_that_persists_ends_as_rate_limited_with_the_delay() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            429,
            &rate_limited("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "0.01s"),
        ))
        .mount(&server)
        .await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    assert!(matches!(
        error,
        Error::RateLimited { retry_after: Some(delay), quota_per_day: false, .. }
            if delay == Duration::from_millis(10)
    ));
    assert_eq!(received(&server).await.len(), 4, "1 attempt + 3 retries");
}

#[tokio::test]
async fn unavailable_is_retried_until_exhausted_and_reports_the_status() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            503,
            &google_error(503, "UNAVAILABLE", "The model is overloaded. Please try again later.", json!([])),
        ))
        .mount(&server)
        .await;

    let error = client_with(&server, |config| {
        config.with_retry_policy(
            RetryPolicy::default().with_max_retries(2).with_initial_backoff(Duration::from_millis(1)),
        )
    })
    .generate_content(request())
    .await
    .unwrap_err();

    assert!(matches!(
        &error,
        Error::Api { status, code, .. } if status.as_u16() == 503 && code == "UNAVAILABLE"
    ));
    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn gateway_timeout_then_success_is_retried_transparently() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(ResponseTemplate::new(504).set_body_string("upstream timed out"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("third time lucky")))
        .mount(&server)
        .await;

    let response = client(&server).generate_content(request()).await.unwrap();

    assert_eq!(response.text(), "third time lucky");
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn disabled_policy_sends_exactly_one_request() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH)).respond_with(ResponseTemplate::new(503)).mount(&server).await;

    let error = client_with(&server, |config| config.with_retry_policy(RetryPolicy::disabled()))
        .generate_content(request())
        .await
        .unwrap_err();

    assert!(matches!(
        &error,
        Error::Api { status, message, .. } if status.as_u16() == 503 && message == "(empty body)"
    ));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported_as_transport() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::new(config(&format!("http://{address}")).with_retry_policy(
        RetryPolicy::default().with_max_retries(2).with_initial_backoff(Duration::from_millis(100)),
    ))
    .unwrap();

    let started = Instant::now();
    let error = client.generate_content(request()).await.unwrap_err();

    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
    // Two jittered waits of at least 50 ms and 100 ms prove both retries happened.
    assert!(started.elapsed() >= Duration::from_millis(150));
}
