//! How HTTP failures and model stops map to `Error` variants.

use std::time::{Duration, Instant};

use planwright_gemini::{Error, GenerateContentRequest, RetryPolicy};
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    GENERATE_PATH, client, client_with, google_error, json_response, received, text_response,
};

fn request() -> GenerateContentRequest {
    GenerateContentRequest::from_text("Plan my week")
}

#[tokio::test]
async fn server_error_with_an_html_body_is_an_api_error_carrying_the_text() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_raw("<html><h1>Internal Server Error</h1></html>", "text/html"),
        )
        .expect(4)
        .mount(&server)
        .await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    match &error {
        Error::Api { status, code, message, .. } => {
            assert_eq!(status.as_u16(), 500);
            assert_eq!(code, "");
            assert_eq!(message, "<html><h1>Internal Server Error</h1></html>");
        }
        other => panic!("expected Api, got {other:?}"),
    }
    assert!(error.is_retryable());
}

#[tokio::test]
async fn bad_request_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            400,
            &google_error(
                400,
                "INVALID_ARGUMENT",
                "Invalid JSON payload received.",
                json!([{"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": []}]),
            ),
        ))
        .mount(&server)
        .await;

    let error = client_with(&server, |config| {
        config.with_retry_policy(RetryPolicy::default().with_initial_backoff(Duration::from_millis(1)))
    })
    .generate_content(request())
    .await
    .unwrap_err();

    assert!(matches!(
        &error,
        Error::Api { status, code, message, .. }
            if status.as_u16() == 400 && code == "INVALID_ARGUMENT" && message == "Invalid JSON payload received."
    ));
    assert!(!error.is_retryable());
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn invalid_api_key_is_unauthorized_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            400,
            &google_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                json!([
                    {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                     "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}},
                    {"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US",
                     "message": "API key not valid. Please pass a valid API key."}
                ]),
            ),
        ))
        .mount(&server)
        .await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    assert!(matches!(
        &error,
        Error::Unauthorized { message } if message == "API key not valid. Please pass a valid API key."
    ));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn forbidden_and_unauthenticated_are_unauthorized() {
    for (status, google_status) in [(403, "PERMISSION_DENIED"), (401, "UNAUTHENTICATED")] {
        let server = MockServer::start().await;
        Mock::given(path(GENERATE_PATH))
            .respond_with(json_response(status, &google_error(status, google_status, "no access", json!([]))))
            .mount(&server)
            .await;

        let error = client(&server).generate_content(request()).await.unwrap_err();

        assert!(
            matches!(&error, Error::Unauthorized { message } if message == "no access"),
            "{status}: {error:?}"
        );
        assert_eq!(received(&server).await.len(), 1);
    }
}

#[tokio::test]
async fn blocked_prompt_is_blocked() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(
            200,
            &json!({
                "promptFeedback": {"blockReason": "PROHIBITED_CONTENT", "safetyRatings": []},
                "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
                "modelVersion": "gemini-3.5-flash"
            }),
        ))
        .mount(&server)
        .await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    assert!(matches!(
        &error,
        Error::Blocked { reason, prompt_blocked: true } if reason == "PROHIBITED_CONTENT"
    ));
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn blocking_finish_reasons_are_blocked() {
    for reason in ["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "RECITATION", "IMAGE_SAFETY"] {
        let server = MockServer::start().await;
        Mock::given(path(GENERATE_PATH))
            .respond_with(json_response(
                200,
                &json!({"candidates": [{"finishReason": reason, "index": 0, "safetyRatings": [
                    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": true}]}]}),
            ))
            .mount(&server)
            .await;

        let error = client(&server).generate_content(request()).await.unwrap_err();

        assert!(
            matches!(&error, Error::Blocked { reason: got, prompt_blocked: false } if got == reason),
            "{reason}: {error:?}"
        );
    }
}

#[tokio::test]
async fn max_tokens_is_truncated_and_keeps_the_partial_response() {
    let server = MockServer::start().await;
    let mut body = text_response("Day 1: rou");
    body["candidates"][0]["finishReason"] = json!("MAX_TOKENS");
    Mock::given(path(GENERATE_PATH)).respond_with(json_response(200, &body)).expect(1).mount(&server).await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    match error {
        Error::Truncated { response } => {
            assert_eq!(response.text(), "Day 1: rou");
            assert_eq!(response.usage_metadata.unwrap().total_token_count, 25);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[tokio::test]
async fn success_body_that_is_not_json_is_a_decode_error_with_the_body() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_raw("<html>captive portal</html>", "text/html"))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).generate_content(request()).await.unwrap_err();

    assert!(
        matches!(&error, Error::Decode { body, .. } if body == "<html>captive portal</html>"),
        "{error:?}"
    );
}

#[tokio::test]
async fn slow_response_times_out() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("late")).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;

    let started = Instant::now();
    let error = client_with(&server, |config| {
        config.with_timeout(Duration::from_millis(200)).with_retry_policy(RetryPolicy::disabled())
    })
    .generate_content(request())
    .await
    .unwrap_err();

    assert!(matches!(error, Error::Timeout), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn timeouts_are_retried_until_the_policy_gives_up() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("late")).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;

    let error = client_with(&server, |config| {
        config.with_timeout(Duration::from_millis(100)).with_retry_policy(
            RetryPolicy::default().with_max_retries(2).with_initial_backoff(Duration::from_millis(1)),
        )
    })
    .generate_content(request())
    .await
    .unwrap_err();

    assert!(matches!(error, Error::Timeout), "{error:?}");
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn timeout_then_success_recovers() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("late")).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("on time")))
        .mount(&server)
        .await;

    let response = client_with(&server, |config| config.with_timeout(Duration::from_millis(200)))
        .generate_content(request())
        .await
        .unwrap();

    assert_eq!(response.text(), "on time");
    assert_eq!(received(&server).await.len(), 2);
}
