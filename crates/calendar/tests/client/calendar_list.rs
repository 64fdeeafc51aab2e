//! `calendarList.list`.

use planwright_calendar::{CalendarListParams, Error};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer};

use crate::helpers::{TOKEN, client, json_response, query_pairs, received};

const PATH: &str = "/calendar/v3/users/me/calendarList";

fn entry(id: &str, primary: bool) -> serde_json::Value {
    json!({
        "kind": "calendar#calendarListEntry",
        "etag": "\"1\"",
        "id": id,
        "summary": id,
        "timeZone": "Europe/Paris",
        "colorId": "14",
        "backgroundColor": "#9fe1e7",
        "foregroundColor": "#000000",
        "selected": true,
        "accessRole": "owner",
        "defaultReminders": [],
        "primary": primary,
        "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]}
    })
}

#[tokio::test]
async fn list_sends_the_bearer_token_and_parses_entries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(query_param("maxResults", "50"))
        .and(query_param("minAccessRole", "writer"))
        .and(query_param("showHidden", "true"))
        .respond_with(json_response(
            200,
            &json!({"kind": "calendar#calendarList", "etag": "\"e\"", "nextSyncToken": "cl-sync-1",
                    "items": [entry("ada@example.com", true), entry("team@group.calendar.google.com", false)]}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .calendar_list()
        .list(
            &CalendarListParams::new()
                .with_max_results(50)
                .with_min_access_role("writer")
                .with_show_hidden(true),
        )
        .await
        .unwrap();

    assert_eq!(page.items.len(), 2);
    assert!(page.items[0].primary);
    assert_eq!(page.items[0].id, "ada@example.com");
    assert_eq!(page.items[0].access_role.as_deref(), Some("owner"));
    assert_eq!(page.items[0].time_zone.as_deref(), Some("Europe/Paris"));
    assert!(!page.items[1].primary);
    assert_eq!(page.items[0].extra.get("colorId"), Some(&json!("14")));
    assert_eq!(page.next_sync_token.as_deref(), Some("cl-sync-1"));
}

#[tokio::test]
async fn list_all_follows_page_tokens() {
    let server = MockServer::start().await;
    Mock::given(path(PATH))
        .and(query_param_is_missing("pageToken"))
        .respond_with(json_response(
            200,
            &json!({"items": [entry("a@example.com", true)], "nextPageToken": "p2"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(PATH))
        .and(query_param("pageToken", "p2"))
        .respond_with(json_response(
            200,
            &json!({"items": [entry("b@example.com", false)], "nextSyncToken": "s"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let entries = client(&server).calendar_list().list_all(&CalendarListParams::new()).await.unwrap();

    let ids: Vec<&str> = entries.iter().map(|entry| entry.id.as_str()).collect();
    assert_eq!(ids, ["a@example.com", "b@example.com"]);
    assert_eq!(query_pairs(&received(&server).await[1]), [("pageToken".to_owned(), "p2".to_owned())]);
}

#[tokio::test]
async fn sync_token_with_min_access_role_is_refused_before_sending() {
    let server = MockServer::start().await;

    let error = client(&server)
        .calendar_list()
        .list(&CalendarListParams::new().with_sync_token("s").with_min_access_role("owner"))
        .await
        .unwrap_err();

    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn read_only_hidden_and_deleted_entries_parse_and_say_whether_events_can_be_written() {
    let server = MockServer::start().await;
    let mut reader = entry("en.uk#holiday@group.v.calendar.google.com", false);
    reader["accessRole"] = json!("reader");
    reader["summaryOverride"] = json!("Bank holidays");
    let mut hidden = entry("old@group.calendar.google.com", false);
    hidden["accessRole"] = json!("writerWithoutPrivateAccess");
    hidden["hidden"] = json!(true);
    hidden["selected"] = json!(false);
    let gone = json!({"kind": "calendar#calendarListEntry", "etag": "\"9\"", "id": "gone@group.calendar.google.com", "deleted": true});
    let mut busy_only = entry("boss@example.com", false);
    busy_only["accessRole"] = json!("freeBusyReader");
    Mock::given(path(PATH))
        .and(query_param("showDeleted", "true"))
        .respond_with(json_response(
            200,
            &json!({"items": [entry("ada@example.com", true), reader, hidden, gone, busy_only]}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let entries = client(&server)
        .calendar_list()
        .list_all(&CalendarListParams::new().with_show_deleted(true))
        .await
        .unwrap();

    let writable: Vec<bool> = entries.iter().map(|entry| entry.can_write_events()).collect();
    assert_eq!(writable, [true, false, true, false, false]);
    assert_eq!(entries[1].summary_override.as_deref(), Some("Bank holidays"));
    assert!(entries[2].hidden && !entries[2].selected);
    assert!(entries[3].deleted && entries[3].access_role.is_none());
    assert_eq!(entries[4].access_role.as_deref(), Some("freeBusyReader"));
}
