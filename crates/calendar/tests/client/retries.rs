//! The built-in retry policy, and which requests it may repeat.

use std::time::{Duration, Instant};

use planwright_calendar::{Error, Event, EventListParams, RetryPolicy, WriteParams};
use reqwest::StatusCode;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    EVENTS_PATH, client, client_with, event_json, events_page, google_error, json_response, received,
};

async fn list(server: &MockServer) -> Result<planwright_calendar::EventPage, Error> {
    client(server).events().list("primary", &EventListParams::new()).await
}

async fn mount_once(server: &MockServer, response: ResponseTemplate) {
    Mock::given(path(EVENTS_PATH)).respond_with(response).up_to_n_times(1).mount(server).await;
}

async fn mount_ok(server: &MockServer) {
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(200, &events_page(vec![event_json("e1", "ok")], None, Some("s"))))
        .mount(server)
        .await;
}

#[tokio::test]
async fn rate_limit_429_then_success() {
    let server = MockServer::start().await;
    mount_once(&server, json_response(429, &google_error(429, "rateLimitExceeded", "Rate Limit Exceeded")))
        .await;
    mount_ok(&server).await;

    let page = list(&server).await.unwrap();

    assert_eq!(page.items.len(), 1);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn forbidden_rate_limit_is_retried() {
    let server = MockServer::start().await;
    mount_once(&server, json_response(403, &google_error(403, "rateLimitExceeded", "Rate Limit Exceeded")))
        .await;
    mount_once(
        &server,
        json_response(403, &google_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded")),
    )
    .await;
    mount_ok(&server).await;

    list(&server).await.unwrap();

    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn server_error_with_html_body_is_retried() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        ResponseTemplate::new(503).set_body_raw("<html>Service Unavailable</html>", "text/html"),
    )
    .await;
    mount_once(&server, ResponseTemplate::new(500).set_body_raw("<html>oops</html>", "text/html")).await;
    mount_ok(&server).await;

    list(&server).await.unwrap();

    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn attempts_are_bounded() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH)).respond_with(ResponseTemplate::new(503)).mount(&server).await;

    let error = client_with(&server, |config| {
        config.with_retry_policy(crate::helpers::fast_retries().with_max_retries(2))
    })
    .events()
    .list("primary", &EventListParams::new())
    .await
    .unwrap_err();

    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH)).respond_with(ResponseTemplate::new(503)).mount(&server).await;

    client_with(&server, |config| config.with_retry_policy(RetryPolicy::disabled()))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap_err();

    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn permanent_errors_are_never_retried() {
    for (status, reason) in [
        (400, "badRequest"),
        (401, "authError"),
        (403, "forbidden"),
        (404, "notFound"),
        (409, "duplicate"),
        (410, "fullSyncRequired"),
    ] {
        let server = MockServer::start().await;
        Mock::given(path(EVENTS_PATH))
            .respond_with(json_response(status, &google_error(status, reason, "no")))
            .mount(&server)
            .await;

        list(&server).await.unwrap_err();

        assert_eq!(received(&server).await.len(), 1, "status {status}");
    }
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        json_response(429, &google_error(429, "rateLimitExceeded", "slow down"))
            .insert_header("retry-after", "1"),
    )
    .await;
    mount_ok(&server).await;

    let started = Instant::now();
    client_with(&server, |config| {
        config.with_retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_secs(5)),
        )
    })
    .events()
    .list("primary", &EventListParams::new())
    .await
    .unwrap();

    assert!(started.elapsed() >= Duration::from_secs(1), "waited only {:?}", started.elapsed());
}

#[tokio::test]
async fn a_timed_out_attempt_is_retried() {
    let server = MockServer::start().await;
    mount_once(
        &server,
        json_response(200, &events_page(vec![], None, None)).set_delay(Duration::from_secs(3)),
    )
    .await;
    mount_ok(&server).await;

    let page = client_with(&server, |config| config.with_timeout(Duration::from_millis(300)))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap();

    assert_eq!(page.items.len(), 1);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_timeout_on_every_attempt_is_a_timeout_error() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;

    let error = client_with(&server, |config| {
        config
            .with_timeout(Duration::from_millis(100))
            .with_retry_policy(crate::helpers::fast_retries().with_max_retries(1))
    })
    .events()
    .list("primary", &EventListParams::new())
    .await
    .unwrap_err();

    assert!(matches!(error, Error::Timeout), "{error:?}");
}

#[tokio::test]
async fn a_connection_that_cannot_be_made_is_a_transport_error() {
    let error = planwright_calendar::Client::new(
        planwright_calendar::Config::new()
            .with_base_url("http://127.0.0.1:9/calendar/v3")
            .with_retry_policy(crate::helpers::fast_retries().with_max_retries(1)),
    )
    .unwrap()
    .events()
    .get("primary", "abc")
    .await
    .unwrap_err();

    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn insert_with_client_id_is_retried_and_a_later_409_returns_the_created_event() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .respond_with(json_response(
            409,
            &google_error(409, "duplicate", "The requested identifier already exists."),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{EVENTS_PATH}/abcde12345")))
        .respond_with(json_response(200, &event_json("abcde12345", "Study")))
        .expect(1)
        .mount(&server)
        .await;

    let event = client(&server)
        .events()
        .insert("primary", &Event::new().with_id("abcde12345").with_summary("Study"), &WriteParams::new())
        .await
        .unwrap();

    assert_eq!(event.id.as_deref(), Some("abcde12345"));
    let methods: Vec<String> =
        received(&server).await.iter().map(|request| request.method.to_string()).collect();
    assert_eq!(methods, ["POST", "POST", "GET"]);
}

#[tokio::test]
async fn insert_with_client_id_409_after_only_rate_limits_is_a_real_conflict() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_response(429, &google_error(429, "rateLimitExceeded", "slow down")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_response(409, &google_error(409, "duplicate", "exists")))
        .mount(&server)
        .await;

    let error = client(&server)
        .events()
        .insert("primary", &Event::new().with_id("abcde12345"), &WriteParams::new())
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Conflict { .. }), "{error:?}");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn insert_without_id_is_not_retried_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).mount(&server).await;

    let error = client(&server)
        .events()
        .insert("primary", &Event::new().with_summary("x"), &WriteParams::new())
        .await
        .unwrap_err();

    assert_eq!(error.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    assert_eq!(received(&server).await.len(), 1);
}

#[tokio::test]
async fn insert_without_id_is_retried_after_a_rate_limit() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(json_response(403, &google_error(403, "rateLimitExceeded", "Rate Limit Exceeded")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(json_response(200, &event_json("generated1", "x")))
        .mount(&server)
        .await;

    let event = client(&server)
        .events()
        .insert("primary", &Event::new().with_summary("x"), &WriteParams::new())
        .await
        .unwrap();

    assert_eq!(event.id.as_deref(), Some("generated1"));
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn delete_retried_after_a_server_error_treats_410_as_done() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(json_response(410, &google_error(410, "deleted", "Resource has been deleted")))
        .mount(&server)
        .await;

    client(&server).events().delete("primary", "abcde12345", &WriteParams::new()).await.unwrap();

    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn patch_is_retried_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .respond_with(json_response(200, &event_json("abc123", "new")))
        .mount(&server)
        .await;

    let event = client(&server)
        .events()
        .patch("primary", "abc123", &Event::new().with_summary("new"), &WriteParams::new())
        .await
        .unwrap();

    assert_eq!(event.summary.as_deref(), Some("new"));
    assert_eq!(received(&server).await.len(), 2);
}
