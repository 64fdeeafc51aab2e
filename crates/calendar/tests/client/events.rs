//! `events.list`, `get`, `insert`, `patch`, `update` and `delete`.

use chrono::{NaiveDate, TimeZone, Utc};
use planwright_calendar::{
    Error, Event, EventDateTime, EventListParams, EventStatus, EventType, OrderBy, SendUpdates, WriteParams,
    event_id_from_bytes,
};
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    EVENTS_PATH, TOKEN, client, event_json, events_page, json_response, query_pairs, received,
};

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
}

#[tokio::test]
async fn list_sends_every_filter_with_google_names() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/calendar/v3/calendars/team@group.calendar.google.com/events"))
        .respond_with(json_response(200, &events_page(vec![], None, None)))
        .expect(1)
        .mount(&server)
        .await;
    let params = EventListParams::new()
        .with_event_types([EventType::Default, EventType::FocusTime])
        .with_ical_uid("uid-1@google.com")
        .with_max_attendees(5)
        .with_max_results(100)
        .with_order_by(OrderBy::StartTime)
        .with_page_token("page-2")
        .with_private_extended_property("planwrightTaskId", "42")
        .with_private_extended_property("planwrightPlanId", "7")
        .with_q("fastapi study")
        .with_shared_extended_property("team", "core")
        .with_show_deleted(false)
        .with_show_hidden_invitations(true)
        .with_single_events(true)
        .with_time_max(Utc.with_ymd_and_hms(2025, 2, 1, 0, 0, 0).unwrap())
        .with_time_min(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap())
        .with_time_zone("Europe/Paris")
        .with_updated_min(Utc.with_ymd_and_hms(2024, 12, 24, 18, 30, 0).unwrap());

    client(&server).events().list("team@group.calendar.google.com", &params).await.unwrap();

    let requests = received(&server).await;
    assert_eq!(
        query_pairs(&requests[0]),
        pairs(&[
            ("eventTypes", "default"),
            ("eventTypes", "focusTime"),
            ("iCalUID", "uid-1@google.com"),
            ("maxAttendees", "5"),
            ("maxResults", "100"),
            ("orderBy", "startTime"),
            ("pageToken", "page-2"),
            ("privateExtendedProperty", "planwrightTaskId=42"),
            ("privateExtendedProperty", "planwrightPlanId=7"),
            ("q", "fastapi study"),
            ("sharedExtendedProperty", "team=core"),
            ("showDeleted", "false"),
            ("showHiddenInvitations", "true"),
            ("singleEvents", "true"),
            ("timeMax", "2025-02-01T00:00:00Z"),
            ("timeMin", "2025-01-01T00:00:00Z"),
            ("timeZone", "Europe/Paris"),
            ("updatedMin", "2024-12-24T18:30:00Z"),
        ])
    );
    // The calendar id's `@` is allowed in a path segment; no double encoding.
    assert_eq!(requests[0].url.path(), "/calendar/v3/calendars/team@group.calendar.google.com/events");
}

#[tokio::test]
async fn list_parses_events_and_keeps_unknown_fields() {
    let server = MockServer::start().await;
    let mut all_day = json!({"kind": "calendar#event", "id": "holiday1", "status": "tentative",
        "summary": "Holiday", "start": {"date": "2025-01-20"}, "end": {"date": "2025-01-21"},
        "extendedProperties": {"private": {"planwrightTaskId": "42"}, "shared": {"team": "core"}},
        "someFieldGoogleAddsTomorrow": {"nested": [1, 2]}});
    all_day["recurrence"] = json!(["RRULE:FREQ=YEARLY"]);
    let instance = json!({"id": "rec1_20250113T080000Z", "status": "cancelled",
        "recurringEventId": "rec1", "originalStartTime": {"dateTime": "2025-01-13T09:00:00+01:00",
        "timeZone": "Europe/Paris"}});
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(
            200,
            &events_page(vec![event_json("abc123", "Study FastAPI"), all_day, instance], Some("next"), None),
        ))
        .mount(&server)
        .await;

    let page = client(&server).events().list("primary", &EventListParams::new()).await.unwrap();

    assert_eq!(page.next_page_token.as_deref(), Some("next"));
    assert_eq!(page.time_zone.as_deref(), Some("Europe/Paris"));
    assert!(page.extra.contains_key("defaultReminders"));
    let [timed, all_day, instance] = &page.items[..] else { panic!("three events") };

    assert_eq!(timed.id.as_deref(), Some("abc123"));
    assert_eq!(timed.status, Some(EventStatus::Confirmed));
    assert_eq!(timed.summary.as_deref(), Some("Study FastAPI"));
    assert_eq!(timed.ical_uid.as_deref(), Some("abc123@google.com"));
    assert_eq!(timed.etag.as_deref(), Some("\"3471234567890000\""));
    assert_eq!(timed.event_type, Some(EventType::Default));
    assert!(timed.html_link.as_deref().unwrap().starts_with("https://www.google.com/calendar/event"));
    assert_eq!(timed.created, Some(Utc.with_ymd_and_hms(2025, 1, 10, 8, 0, 0).unwrap()));
    assert_eq!(timed.updated.unwrap().timestamp_millis(), 1_736_496_300_123);
    let start = timed.start.as_ref().unwrap();
    assert_eq!(start.date_time.unwrap().to_rfc3339(), "2025-01-13T09:00:00+01:00");
    assert_eq!(start.time_zone.as_deref(), Some("Europe/Paris"));
    assert!(!start.is_all_day());
    assert_eq!(timed.extra.get("sequence"), Some(&json!(0)));
    assert_eq!(timed.extra.get("creator"), Some(&json!({"email": "ada@example.com", "self": true})));

    assert_eq!(all_day.status, Some(EventStatus::Tentative));
    assert!(all_day.start.as_ref().unwrap().is_all_day());
    assert_eq!(all_day.start.as_ref().unwrap().date, NaiveDate::from_ymd_opt(2025, 1, 20));
    assert_eq!(all_day.recurrence.as_deref(), Some(&["RRULE:FREQ=YEARLY".to_owned()][..]));
    assert_eq!(all_day.private_property("planwrightTaskId"), Some("42"));
    assert_eq!(all_day.shared_property("team"), Some("core"));
    assert_eq!(all_day.extra.get("someFieldGoogleAddsTomorrow"), Some(&json!({"nested": [1, 2]})));

    assert!(instance.is_cancelled());
    assert_eq!(instance.recurring_event_id.as_deref(), Some("rec1"));
    assert!(instance.original_start_time.is_some());
}

#[tokio::test]
async fn unknown_fields_survive_a_read_modify_write_round_trip() {
    let server = MockServer::start().await;
    let original = event_json("abc123", "Study");
    Mock::given(method("GET"))
        .and(path(format!("{EVENTS_PATH}/abc123")))
        .respond_with(json_response(200, &original))
        .mount(&server)
        .await;
    let mut renamed = original.clone();
    renamed["summary"] = json!("Study (moved)");
    Mock::given(method("PUT"))
        .and(path(format!("{EVENTS_PATH}/abc123")))
        .respond_with(json_response(200, &renamed))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let mut event = client.events().get("primary", "abc123").await.unwrap();
    event.summary = Some("Study (moved)".to_owned());
    let updated = client.events().update("primary", "abc123", &event, &WriteParams::new()).await.unwrap();

    assert_eq!(updated.summary.as_deref(), Some("Study (moved)"));
    let sent: serde_json::Value = received(&server).await[1].body_json().unwrap();
    for field in
        ["kind", "creator", "organizer", "reminders", "sequence", "iCalUID", "eventType", "start", "end"]
    {
        assert_eq!(sent[field], original[field], "{field}");
    }
    assert_eq!(sent["summary"], "Study (moved)");
    assert_eq!(sent["updated"], "2025-01-10T08:05:00.123Z");
}

#[tokio::test]
async fn get_encodes_the_event_id_and_404_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{EVENTS_PATH}/rec1_20250113T080000Z")))
        .respond_with(json_response(200, &event_json("rec1_20250113T080000Z", "Instance")))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{EVENTS_PATH}/missing1")))
        .respond_with(json_response(404, &crate::helpers::google_error(404, "notFound", "Not Found")))
        .mount(&server)
        .await;

    let client = client(&server);
    let event = client.events().get("primary", "rec1_20250113T080000Z").await.unwrap();
    let missing = client.events().get("primary", "missing1").await.unwrap_err();

    assert_eq!(event.summary.as_deref(), Some("Instance"));
    assert!(matches!(&missing, Error::NotFound { reason, .. } if reason == "notFound"), "{missing:?}");
}

#[tokio::test]
async fn insert_posts_camel_case_json_with_send_updates() {
    let server = MockServer::start().await;
    let id = event_id_from_bytes(b"plan-7/task-42");
    let start = Utc.with_ymd_and_hms(2025, 1, 13, 8, 0, 0).unwrap();
    let event = Event::new()
        .with_id(&id)
        .with_summary("Learn FastAPI: routing")
        .with_description("Day 1")
        .with_location("Library")
        .with_times(
            EventDateTime::at(start.with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap()))
                .with_time_zone("Europe/Paris"),
            EventDateTime::at(start + chrono::Duration::hours(1)).with_time_zone("Europe/Paris"),
        )
        .with_private_property("planwrightTaskId", "42");
    let expected_body = json!({
        "id": id,
        "summary": "Learn FastAPI: routing",
        "description": "Day 1",
        "location": "Library",
        "start": {"dateTime": "2025-01-13T09:00:00+01:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2025-01-13T09:00:00Z", "timeZone": "Europe/Paris"},
        "extendedProperties": {"private": {"planwrightTaskId": "42"}}
    });
    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .and(query_param("sendUpdates", "none"))
        .and(query_param("conferenceDataVersion", "1"))
        .and(header("content-type", "application/json"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_json(&expected_body))
        .respond_with(json_response(200, &event_json(&id, "Learn FastAPI: routing")))
        .expect(1)
        .mount(&server)
        .await;

    let created = client(&server)
        .events()
        .insert(
            "primary",
            &event,
            &WriteParams::new().with_send_updates(SendUpdates::None).with_conference_data_version(1),
        )
        .await
        .unwrap();

    assert_eq!(created.id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn insert_refuses_invalid_client_ids_before_sending() {
    let server = MockServer::start().await;
    let client = client(&server);

    for bad in ["abcd", "UPPERCASE1", "has-dash1", "wxyz0", "événement", &"a".repeat(1025)] {
        let error = client
            .events()
            .insert("primary", &Event::new().with_id(bad), &WriteParams::new())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::InvalidRequest { .. }), "{bad}: {error:?}");
    }
    assert!(received(&server).await.is_empty());

    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .respond_with(json_response(200, &event_json("abcde", "ok")))
        .expect(2)
        .mount(&server)
        .await;
    for good in ["abcde", &"v0".repeat(512)] {
        client.events().insert("primary", &Event::new().with_id(good), &WriteParams::new()).await.unwrap();
    }
}

#[tokio::test]
async fn duplicate_client_id_on_first_attempt_is_a_conflict() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(EVENTS_PATH))
        .respond_with(json_response(
            409,
            &crate::helpers::google_error(409, "duplicate", "The requested identifier already exists."),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .events()
        .insert("primary", &Event::new().with_id("abcde12345"), &WriteParams::new())
        .await
        .unwrap_err();

    assert!(matches!(&error, Error::Conflict { reason, .. } if reason == "duplicate"), "{error:?}");
}

#[tokio::test]
async fn patch_sends_only_the_given_fields_and_can_clear_with_null() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path(format!("{EVENTS_PATH}/abc123")))
        .and(query_param("sendUpdates", "all"))
        .and(body_json(json!({"summary": "Renamed"})))
        .respond_with(json_response(200, &event_json("abc123", "Renamed")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path(format!("{EVENTS_PATH}/abc123")))
        .and(body_json(json!({"location": null})))
        .respond_with(json_response(200, &event_json("abc123", "Renamed")))
        .expect(1)
        .mount(&server)
        .await;

    let client = client(&server);
    let patched = client
        .events()
        .patch(
            "primary",
            "abc123",
            &Event::new().with_summary("Renamed"),
            &WriteParams::new().with_send_updates(SendUpdates::All),
        )
        .await
        .unwrap();
    client
        .events()
        .patch("primary", "abc123", &json!({"location": null}), &WriteParams::new())
        .await
        .unwrap();

    assert_eq!(patched.summary.as_deref(), Some("Renamed"));
}

#[tokio::test]
async fn delete_sends_send_updates_and_accepts_an_empty_204() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path(format!("{EVENTS_PATH}/abc123")))
        .and(query_param("sendUpdates", "externalOnly"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .events()
        .delete(
            "primary",
            "abc123",
            &WriteParams::new().with_send_updates(SendUpdates::ExternalOnly).with_max_attendees(2),
        )
        .await
        .unwrap();

    assert_eq!(
        query_pairs(&received(&server).await[0]),
        [("sendUpdates".to_owned(), "externalOnly".to_owned())]
    );
}

#[tokio::test]
async fn deleting_an_already_deleted_event_is_gone() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(json_response(
            410,
            &crate::helpers::google_error(410, "deleted", "Resource has been deleted"),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server).events().delete("primary", "abc123", &WriteParams::new()).await.unwrap_err();

    assert!(matches!(&error, Error::Gone { reason, .. } if reason == "deleted"), "{error:?}");
}

#[tokio::test]
async fn a_success_body_that_is_not_an_event_is_a_decode_error_with_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\": 42"))
        .mount(&server)
        .await;

    let error = client(&server).events().get("primary", "abc123").await.unwrap_err();

    assert!(matches!(&error, Error::Decode { body, .. } if body == "{\"id\": 42"), "{error:?}");
}
