//! Google's error responses, mapped to `Error` variants (retries disabled to see each mapping).

use std::time::Duration;

use planwright_calendar::{Error, EventListParams, RetryPolicy};
use reqwest::StatusCode;
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{EVENTS_PATH, client_with, google_error, json_response};

async fn error_for(response: ResponseTemplate) -> Error {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH)).respond_with(response).expect(1).mount(&server).await;
    client_with(&server, |config| config.with_retry_policy(RetryPolicy::disabled()))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap_err()
}

#[tokio::test]
async fn status_401_is_unauthorized() {
    let error = error_for(json_response(401, &google_error(401, "authError", "Invalid Credentials"))).await;
    assert!(
        matches!(&error, Error::Unauthorized { message } if message == "Invalid Credentials"),
        "{error:?}"
    );
}

#[tokio::test]
async fn status_403_keeps_the_reason() {
    let error = error_for(json_response(
        403,
        &google_error(
            403,
            "forbiddenForNonOrganizer",
            "Shared properties can only be changed by the organizer of the event.",
        ),
    ))
    .await;
    assert!(
        matches!(&error, Error::Forbidden { reason, .. } if reason == "forbiddenForNonOrganizer"),
        "{error:?}"
    );
    assert_eq!(error.reason(), Some("forbiddenForNonOrganizer"));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn status_403_rate_limit_reasons_are_rate_limited() {
    for reason in ["rateLimitExceeded", "userRateLimitExceeded"] {
        let error = error_for(json_response(403, &google_error(403, reason, "Rate Limit Exceeded"))).await;
        assert!(matches!(&error, Error::RateLimited { reason: got, .. } if got == reason), "{error:?}");
        assert!(error.is_retryable());
    }
}

#[tokio::test]
async fn status_404_409_410_have_their_own_variants() {
    let not_found = error_for(json_response(404, &google_error(404, "notFound", "Not Found"))).await;
    assert!(matches!(not_found, Error::NotFound { .. }));
    let conflict = error_for(json_response(
        409,
        &google_error(409, "duplicate", "The requested identifier already exists."),
    ))
    .await;
    assert!(
        matches!(&conflict, Error::Conflict { reason, message } if reason == "duplicate" && message.contains("already exists"))
    );
    let gone = error_for(json_response(
        410,
        &google_error(410, "fullSyncRequired", "Sync token is no longer valid"),
    ))
    .await;
    assert!(matches!(&gone, Error::Gone { reason, .. } if reason == "fullSyncRequired"));
    assert_eq!(gone.status(), Some(StatusCode::GONE));
}

#[tokio::test]
async fn status_429_carries_retry_after() {
    let error = error_for(
        json_response(429, &google_error(429, "rateLimitExceeded", "Rate Limit Exceeded"))
            .insert_header("retry-after", "7"),
    )
    .await;
    assert!(
        matches!(&error, Error::RateLimited { retry_after: Some(delay), .. } if *delay == Duration::from_secs(7)),
        "{error:?}"
    );
}

#[tokio::test]
async fn other_statuses_are_api_errors_with_reason_and_message() {
    let error = error_for(json_response(
        400,
        &google_error(400, "timeRangeEmpty", "The specified time range is empty."),
    ))
    .await;
    assert!(
        matches!(&error, Error::Api { status, reason, message, .. }
            if *status == StatusCode::BAD_REQUEST && reason == "timeRangeEmpty" && message == "The specified time range is empty."),
        "{error:?}"
    );
    let precondition =
        error_for(json_response(412, &google_error(412, "conditionNotMet", "Precondition Failed"))).await;
    assert_eq!(precondition.status(), Some(StatusCode::PRECONDITION_FAILED));
}

#[tokio::test]
async fn a_5xx_html_body_is_kept_as_text() {
    let error = error_for(
        ResponseTemplate::new(502)
            .set_body_raw("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    )
    .await;
    assert!(
        matches!(&error, Error::Api { status, reason, message, .. }
            if *status == StatusCode::BAD_GATEWAY && reason.is_empty() && message.contains("502 Bad Gateway")),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_json_body_that_is_not_googles_error_shape_is_kept_as_text() {
    let error = error_for(json_response(500, &json!({"oops": true}))).await;
    assert!(matches!(&error, Error::Api { message, .. } if message == r#"{"oops":true}"#), "{error:?}");
}

#[tokio::test]
async fn an_empty_error_body_is_described() {
    let error = error_for(ResponseTemplate::new(503)).await;
    assert!(matches!(&error, Error::Api { message, .. } if message == "(empty body)"), "{error:?}");
}

#[tokio::test]
async fn calendar_usage_limits_are_sent_once_even_with_retries_on() {
    let server = MockServer::start().await;
    let body = google_error(403, "quotaExceeded", "Calendar usage limits exceeded.");
    Mock::given(path(EVENTS_PATH)).respond_with(json_response(403, &body)).expect(1).mount(&server).await;
    let policy = RetryPolicy::default().with_max_retries(4).with_initial_backoff(Duration::from_millis(1));
    let error = client_with(&server, |config| config.with_retry_policy(policy))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap_err();
    assert!(error.is_usage_limit_exceeded(), "{error:?}");
    assert!(matches!(&error, Error::Forbidden { reason, .. } if reason == "quotaExceeded"), "{error:?}");
    // `expect(1)` is checked when the server drops: one request, no retry.
}
