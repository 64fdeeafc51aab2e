//! The sync helper: pagination, sync tokens, refusal of forbidden combinations, 410 Gone.

use chrono::Utc;
use planwright_calendar::{Error, EventListParams, OrderBy};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer};

use crate::helpers::{EVENTS_PATH, client, event_json, events_page, google_error, json_response, received};

#[tokio::test]
async fn full_sync_follows_every_page_and_returns_the_sync_token() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH))
        .and(query_param_is_missing("pageToken"))
        .and(query_param("singleEvents", "true"))
        .respond_with(json_response(
            200,
            &events_page(vec![event_json("e1", "one"), event_json("e2", "two")], Some("p2"), None),
        ))
        .expect(1)
        .mount(&server)
        .await;
    // Google may return an empty page with a next page token.
    Mock::given(path(EVENTS_PATH))
        .and(query_param("pageToken", "p2"))
        .respond_with(json_response(200, &events_page(vec![], Some("p3"), None)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .and(query_param("pageToken", "p3"))
        .and(query_param("singleEvents", "true"))
        .respond_with(json_response(200, &events_page(vec![event_json("e3", "three")], None, Some("sync-1"))))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server)
        .events()
        .sync("primary", &EventListParams::new().with_single_events(true).with_time_min(Utc::now()))
        .await
        .unwrap();

    let ids: Vec<_> = result.items.iter().map(|event| event.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["e1", "e2", "e3"]);
    assert_eq!(result.next_sync_token.as_deref(), Some("sync-1"));
    assert_eq!(result.pages, 3);
}

#[tokio::test]
async fn incremental_sync_sends_the_token_and_returns_cancelled_events() {
    let server = MockServer::start().await;
    let cancelled =
        serde_json::json!({"kind": "calendar#event", "etag": "\"9\"", "id": "e2", "status": "cancelled"});
    Mock::given(method("GET"))
        .and(path(EVENTS_PATH))
        .and(query_param("syncToken", "sync-1"))
        .and(query_param("showDeleted", "true"))
        .respond_with(json_response(
            200,
            &events_page(vec![event_json("e1", "renamed"), cancelled], None, Some("sync-2")),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server)
        .events()
        .sync(
            "primary",
            &EventListParams::new()
                .with_sync_token("sync-1")
                .with_show_deleted(true)
                .with_single_events(true),
        )
        .await
        .unwrap();

    assert_eq!(result.items.len(), 2);
    assert!(result.items[1].is_cancelled());
    assert_eq!(result.next_sync_token.as_deref(), Some("sync-2"));
}

#[tokio::test]
async fn sync_token_with_forbidden_filters_is_refused_before_sending() {
    let server = MockServer::start().await;
    let client = client(&server);
    let base = EventListParams::new().with_sync_token("sync-1");
    let forbidden = [
        ("iCalUID", base.clone().with_ical_uid("x@google.com")),
        ("orderBy", base.clone().with_order_by(OrderBy::Updated)),
        ("privateExtendedProperty", base.clone().with_private_extended_property("k", "v")),
        ("q", base.clone().with_q("text")),
        ("sharedExtendedProperty", base.clone().with_shared_extended_property("k", "v")),
        ("timeMin", base.clone().with_time_min(Utc::now())),
        ("timeMax", base.clone().with_time_max(Utc::now())),
        ("updatedMin", base.clone().with_updated_min(Utc::now())),
    ];

    for (name, params) in forbidden {
        for error in [
            client.events().sync("primary", &params).await.unwrap_err(),
            client.events().list("primary", &params).await.unwrap_err(),
        ] {
            assert!(
                matches!(&error, Error::InvalidRequest { message } if message.contains(name) && message.contains("syncToken")),
                "{name}: {error:?}"
            );
        }
    }
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn an_expired_sync_token_is_gone_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(
            410,
            &google_error(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .events()
        .sync("primary", &EventListParams::new().with_sync_token("old"))
        .await
        .unwrap_err();

    assert!(matches!(&error, Error::Gone { reason, .. } if reason == "fullSyncRequired"), "{error:?}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_failure_on_a_later_page_fails_the_sync() {
    let server = MockServer::start().await;
    Mock::given(path(EVENTS_PATH))
        .and(query_param_is_missing("pageToken"))
        .respond_with(json_response(200, &events_page(vec![event_json("e1", "one")], Some("p2"), None)))
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .and(query_param("pageToken", "p2"))
        .respond_with(json_response(410, &google_error(410, "fullSyncRequired", "gone")))
        .mount(&server)
        .await;

    let error = client(&server).events().sync("primary", &EventListParams::new()).await.unwrap_err();

    assert!(matches!(error, Error::Gone { .. }));
}
