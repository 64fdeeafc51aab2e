//! `events.watch` and `channels.stop`.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use planwright_calendar::{Error, EventType, ExposeSecret, WatchRequest};
use serde_json::json;
use wiremock::matchers::{body_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{client, google_error, json_response, received};

#[tokio::test]
async fn watch_opens_a_web_hook_channel() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/calendars/primary/events/watch"))
        .and(query_param("eventTypes", "default"))
        .and(body_json(json!({
            "id": "0b7c5a7e-6c1e-4d5e-9b1a-1f2d3c4b5a69",
            "type": "web_hook",
            "address": "https://planwright.example/api/v1/calendar/webhook",
            "token": "channel-secret-1",
            "params": {"ttl": "604800"}
        })))
        .respond_with(json_response(
            200,
            &json!({
                "kind": "api#channel",
                "id": "0b7c5a7e-6c1e-4d5e-9b1a-1f2d3c4b5a69",
                "resourceId": "o3hgv1538sdjfh",
                "resourceUri": "https://www.googleapis.com/calendar/v3/calendars/primary/events?alt=json",
                "token": "channel-secret-1",
                "expiration": "1737331200000"
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let request = WatchRequest::new(
        "0b7c5a7e-6c1e-4d5e-9b1a-1f2d3c4b5a69",
        "https://planwright.example/api/v1/calendar/webhook",
    )
    .with_token("channel-secret-1")
    .with_ttl(Duration::from_secs(7 * 24 * 3600))
    .with_event_types([EventType::Default]);
    let channel = client(&server).events().watch("primary", &request).await.unwrap();

    assert_eq!(channel.resource_id, "o3hgv1538sdjfh");
    assert_eq!(channel.expiration, Some(Utc.with_ymd_and_hms(2025, 1, 20, 0, 0, 0).unwrap()));
    assert_eq!(
        channel.token.as_ref().map(|token| token.expose_secret().to_owned()).as_deref(),
        Some("channel-secret-1")
    );
    assert!(!format!("{channel:?}").contains("channel-secret-1"));
}

#[tokio::test]
async fn watch_is_not_retried_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).expect(1).mount(&server).await;

    let error = client(&server)
        .events()
        .watch("primary", &WatchRequest::new("c1", "https://planwright.example/hook"))
        .await
        .unwrap_err();

    assert_eq!(error.status().map(|status| status.as_u16()), Some(503));
}

#[tokio::test]
async fn stop_posts_channel_and_resource_ids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/channels/stop"))
        .and(body_json(json!({"id": "c1", "resourceId": "r1"})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/calendar/v3/channels/stop"))
        .and(body_json(json!({"id": "gone", "resourceId": "r1"})))
        .respond_with(json_response(
            404,
            &google_error(404, "notFound", "Channel 'gone' not found for project '1'"),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    client.channels().stop("c1", "r1").await.unwrap();
    let error = client.channels().stop("gone", "r1").await.unwrap_err();

    assert!(matches!(error, Error::NotFound { .. }));
    assert_eq!(received(&server).await.len(), 2);
}
