//! Calendars over HTTP: the built-in calendar, and Google through the fake Google (OAuth consent,
//! encrypted tokens, refresh, sync, push, events, disconnect).

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use planwright_tests::fake_google::{Consent, Fault, FaultRule};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::helpers::{
    BACKGROUND, FRONTEND, GOOGLE_NOTIFICATIONS, TestApp, app_with_google, assert_problem, error_fields,
    no_redirects, poll_until, spawn_app, webhook_url,
};

pub(crate) fn titles(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["title"].as_str().unwrap().to_owned()).collect()
}

pub(crate) fn at(hours_from_now: i64) -> String {
    let time = Utc::now() + TimeDelta::hours(hours_from_now);
    time.format("%Y-%m-%dT%H:00:00Z").to_string()
}

pub(crate) fn timed_event(summary: &str, start_hours: i64, hours: i64) -> Value {
    json!({"summary": summary, "start": {"dateTime": at(start_hours)}, "end": {"dateTime": at(start_hours + hours)}})
}

pub(crate) async fn stored_tokens(app: &TestApp, connection_id: &str) -> (String, String) {
    let db = app.db.conn();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT access_token_enc, refresh_token_enc FROM calendar_connections WHERE id = $1",
            [uuid::Uuid::parse_str(connection_id).unwrap().into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (row.try_get("", "access_token_enc").unwrap(), row.try_get("", "refresh_token_enc").unwrap())
}

pub(crate) async fn count_rows(app: &TestApp, sql: &str) -> i64 {
    let db = app.db.conn();
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn every_user_has_the_built_in_calendar_from_the_start() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let list = app.calendar_connections_ok(token).await;
    assert_eq!(list.len(), 1);
    assert_eq!((list[0]["provider"].as_str(), list[0]["status"].as_str()), (Some("local"), Some("active")));
    let local_id = list[0]["id"].as_str().unwrap();

    let response =
        app.create_event(&json!({"summary": "Revise graphs", "start": at(30), "end": at(31)}), token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let event: Value = response.json().await.unwrap();
    assert_eq!(
        (event["provider"].as_str(), event["connection_id"].as_str()),
        (Some("local"), Some(local_id))
    );
    assert_eq!(titles(&app.upcoming_ok("days=3", token).await), ["Revise graphs"]);

    let problem = assert_problem(app.disconnect_calendar(local_id, token).await, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "local_calendar");
    // Without a Google client configured, connecting is unavailable, not broken.
    let response = app.google_authorize("", token).await;
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    let status: Value = app.sync_status(token).await.json().await.unwrap();
    assert_eq!(status["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn connecting_google_stores_the_tokens_encrypted() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    let connection = app.google_connection(&user.access_token).await;
    assert_eq!(connection["account_email"], fake.account_email().as_str());
    assert_eq!(connection["status"], "active");
    assert!(connection.get("access_token").is_none() && connection.get("refresh_token").is_none());

    let (access, refresh) = stored_tokens(&app, &id).await;
    let grant = fake.grants().into_iter().next().unwrap();
    let refresh_token = grant.refresh_token.clone().unwrap();
    assert!(!refresh.contains(&refresh_token), "the refresh token is not stored in plain text");
    for token in &grant.access_tokens {
        assert!(!access.contains(token.as_str()), "the access token is not stored in plain text");
    }
    assert!(access.starts_with("v1.") && refresh.starts_with("v1."), "sealed with a key id: {access}");
    // Asked for the narrow scopes, with PKCE.
    assert!(grant.scopes.iter().any(|s| s.ends_with("/calendar.events")), "{:?}", grant.scopes);
    assert!(!grant.scopes.iter().any(|s| s.ends_with("/auth/calendar")), "{:?}", grant.scopes);
}

#[tokio::test]
async fn the_oauth_state_is_single_use_bound_to_the_user_and_redirects_only_to_the_frontend() {
    let (app, _fake) = app_with_google(|_| {}).await;
    let alice = app.signed_in_user().await;
    let bob = app.signed_in_user().await;

    let response = app.google_authorize("redirect_to=https://evil.test/", &alice.access_token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["redirect_to"]);

    let body: Value = app.google_authorize("", &alice.access_token).await.json().await.unwrap();
    let at_google = no_redirects().get(body["authorization_url"].as_str().unwrap()).send().await.unwrap();
    let back = reqwest::Url::parse(at_google.headers()["location"].to_str().unwrap()).unwrap();
    let callback = back.query().unwrap();
    let first = app.google_callback(callback).await;
    assert_eq!(first.headers()["location"], format!("{FRONTEND}/?calendar=connected").as_str());
    let replay = app.google_callback(callback).await;
    assert_eq!(
        replay.headers()["location"],
        format!("{FRONTEND}/?calendar=error&reason=invalid_state").as_str()
    );
    let forged = app.google_callback("code=abc&state=forged").await;
    assert!(forged.headers()["location"].to_str().unwrap().ends_with("reason=invalid_state"));

    assert!(app.calendar_connections_ok(&alice.access_token).await.iter().any(|c| c["provider"] == "google"));
    assert_eq!(
        app.calendar_connections_ok(&bob.access_token).await.len(),
        1,
        "the grant went to the user who started it"
    );
}

#[tokio::test]
async fn declined_or_unticked_consent_connects_nothing() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.set_consent(Consent::Deny);
    assert_eq!(
        app.consent_to_google(&user.access_token).await,
        format!("{FRONTEND}/settings?calendar=error&reason=access_denied")
    );
    fake.set_consent(Consent::Withhold(vec!["calendar.events".to_owned()]));
    assert_eq!(
        app.consent_to_google(&user.access_token).await,
        format!("{FRONTEND}/settings?calendar=error&reason=scope_denied")
    );
    assert_eq!(app.calendar_connections_ok(&user.access_token).await.len(), 1, "only the built-in calendar");
    assert!(!fake.revoked_tokens().is_empty(), "the useless grant is given back");
}

#[tokio::test]
async fn full_then_incremental_sync_follows_inserts_edits_and_deletes() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let email = fake.account_email();
    let keep = fake.insert_event(&email, timed_event("Team meeting", 24, 1)).unwrap();
    let edit = fake.insert_event(&email, timed_event("Dentist", 26, 1)).unwrap();
    let gone = fake.insert_event(&email, timed_event("Cancelled lunch", 28, 1)).unwrap();
    let mut series = timed_event("Standup", 30, 1);
    series["recurrence"] = json!(["RRULE:FREQ=DAILY;COUNT=3"]);
    // Google needs the zone of a recurring event's times.
    series["start"]["timeZone"] = json!("UTC");
    series["end"]["timeZone"] = json!("UTC");
    fake.insert_event(&email, series).unwrap();
    let id = app.connect_google(&user).await;
    let events = app.upcoming_ok("limit=50&days=10", token).await;
    assert_eq!(events.len(), 6, "{:?}", titles(&events));
    assert_eq!(titles(&events).iter().filter(|t| *t == "Standup").count(), 3, "instances expanded");
    assert!(events.iter().any(|e| e["id"].is_string() && e["html_link"].is_string()));

    fake.insert_event(&email, timed_event("New review", 25, 1)).unwrap();
    fake.update_event(&email, edit["id"].as_str().unwrap(), json!({"summary": "Dentist (moved)"})).unwrap();
    fake.delete_event(&email, gone["id"].as_str().unwrap()).unwrap();
    let body = app.sync_calendar_ok(&json!({}), token).await;
    let google =
        body["results"].as_array().unwrap().iter().find(|r| r["connection_id"] == id.as_str()).unwrap();
    assert_eq!(google["status"], "ok");
    assert_eq!(
        (google["added"].as_u64(), google["updated"].as_u64(), google["removed"].as_u64()),
        (Some(1), Some(1), Some(1)),
        "{body}"
    );
    let last_list =
        fake.requests().into_iter().rev().find(|r| r.path.ends_with("/events") && r.method == "GET").unwrap();
    assert!(
        last_list.query_param("syncToken").is_some(),
        "incremental: {:?}",
        last_list.query_param("syncToken")
    );

    let names = titles(&app.upcoming_ok("limit=50&days=10", token).await);
    assert!(names.contains(&"New review".to_owned()) && names.contains(&"Dentist (moved)".to_owned()));
    assert!(!names.contains(&"Cancelled lunch".to_owned()) && !names.contains(&"Dentist".to_owned()));
    assert!(names.contains(&keep["summary"].as_str().unwrap().to_owned()));
    assert_eq!(names.len(), 6);
}

#[tokio::test]
async fn an_expired_sync_token_recovers_with_a_full_sync() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let email = fake.account_email();
    fake.insert_event(&email, timed_event("Kept", 24, 1)).unwrap();
    app.connect_google(&user).await;
    fake.invalidate_sync_tokens();
    fake.insert_event(&email, timed_event("Added after 410", 26, 1)).unwrap();
    let body = app.sync_calendar_ok(&json!({}), &user.access_token).await;
    assert!(body["results"].as_array().unwrap().iter().all(|r| r["status"] == "ok"), "{body}");
    let gone = fake.requests().iter().filter(|r| r.status == Some(410)).count();
    assert_eq!(gone, 1, "the stale token got a 410");
    let names = titles(&app.upcoming_ok("limit=50&days=10", &user.access_token).await);
    assert_eq!(names, ["Kept", "Added after 410"], "complete and without duplicates");
}

#[tokio::test]
async fn a_410_whose_full_sync_fails_keeps_the_stored_events() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    fake.insert_event(&fake.account_email(), timed_event("Kept", 24, 1)).unwrap();
    let id = app.connect_google(&user).await;
    assert_eq!(titles(&app.upcoming_ok("limit=50&days=10", token).await), ["Kept"]);
    // The incremental sync gets a 410, then the full sync that follows is refused.
    fake.push_rule(
        FaultRule::new(Fault::Error { code: 410, reason: "fullSyncRequired".into(), message: "Gone".into() })
            .method("GET")
            .path("/events"),
    );
    fake.push_rule(
        FaultRule::new(Fault::Error { code: 403, reason: "forbidden".into(), message: "Forbidden".into() })
            .method("GET")
            .path("/events"),
    );
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), token).await;
    assert_eq!(body["results"][0]["status"], "error", "{body}");
    assert!(fake.pending_faults().is_empty(), "both faults were met: {:?}", fake.pending_faults());
    assert_eq!(
        titles(&app.upcoming_ok("limit=50&days=10", token).await),
        ["Kept"],
        "a failed full sync leaves the stored events as they were"
    );
}

#[tokio::test]
async fn nul_characters_in_google_text_are_stripped_before_storage() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let mut event = timed_event("Stand\u{0}up", 24, 1);
    event["description"] = json!("Notes\u{0} here");
    event["location"] = json!("\u{0}Room 4");
    fake.insert_event(&fake.account_email(), event).unwrap();
    app.connect_google(&user).await;
    let events = app.upcoming_ok("limit=50&days=10", &user.access_token).await;
    assert_eq!(titles(&events), ["Standup"], "stored (PostgreSQL refuses U+0000) and cleaned");
    assert_eq!(
        (events[0]["description"].as_str(), events[0]["location"].as_str()),
        (Some("Notes here"), Some("Room 4"))
    );
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_once_and_persisted() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    let (before, refresh_before) = stored_tokens(&app, &id).await;
    let token_calls = fake.token_requests();

    fake.expire_access_tokens();
    // Several requests at once: one refresh, shared by all.
    let bodies: Vec<Value> = (0..4)
        .map(|i| json!({"summary": format!("Block {i}"), "start": at(40 + i), "end": at(41 + i)}))
        .collect();
    let creates = bodies.iter().map(|body| app.create_event(body, &user.access_token));
    for response in futures_util::future::join_all(creates).await {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    assert_eq!(fake.token_requests(), token_calls + 1, "exactly one refresh");
    let (after, refresh_after) = stored_tokens(&app, &id).await;
    assert_ne!(before, after, "the new access token is stored");
    assert_eq!(refresh_before, refresh_after, "Google kept the refresh token, so do we");
    app.sync_calendar_ok(&json!({}), &user.access_token).await;
    assert_eq!(fake.token_requests(), token_calls + 1, "the stored token is used again");
    assert_eq!(fake.events(&fake.account_email()).len(), 4);
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_needs_reauth() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let id = app.connect_google(&user).await;
    fake.force_invalid_grant(true);
    fake.expire_access_tokens();
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), token).await;
    assert_eq!(body["results"][0]["status"], "needs_reauth", "{body}");
    assert_eq!(app.google_connection(token).await["status"], "needs_reauth");
    let status: Value = app.sync_status(token).await.json().await.unwrap();
    assert!(status["items"].as_array().unwrap().iter().any(|s| s["status"] == "needs_reauth"), "{status}");
    let response = app.create_event(&json!({"summary": "x", "start": at(5), "end": at(6)}), token).await;
    let problem = assert_problem(response, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "calendar_needs_reauth");
    // Connecting again makes it active again.
    fake.force_invalid_grant(false);
    app.consent_to_google(token).await;
    assert_eq!(app.google_connection(token).await["status"], "active");
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.insert_event(&fake.account_email(), timed_event("Exam", 24, 2)).unwrap();
    app.connect_google(&user).await;
    fake.insert_event(&fake.account_email(), timed_event("Review", 27, 1)).unwrap();
    fake.push_many([Fault::RateLimited { retry_after: None }, Fault::RateLimitExceeded, Fault::BackendError]);
    let body = app.sync_calendar_ok(&json!({}), &user.access_token).await;
    assert!(body["results"].as_array().unwrap().iter().all(|r| r["status"] == "ok"), "{body}");
    assert!(fake.pending_faults().is_empty(), "every fault was met and retried");
    assert_eq!(titles(&app.upcoming_ok("days=5", &user.access_token).await), ["Exam", "Review"]);
}

#[tokio::test]
async fn a_push_notification_triggers_an_incremental_sync() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, fake) = app_with_google(move |s| {
        s.server.port = port;
        s.calendar.webhook_url = Some(webhook_url(port));
    })
    .await;
    let user = app.signed_in_user().await;
    app.connect_google(&user).await;
    poll_until(BACKGROUND, "a push channel", || async { !fake.channels().is_empty() }).await;
    let channel = fake.channels().remove(0);
    assert!(!channel.stopped);
    assert!(channel.address.ends_with(GOOGLE_NOTIFICATIONS));

    fake.insert_event(&fake.account_email(), timed_event("Pushed", 24, 1)).unwrap();
    poll_until(BACKGROUND, "the pushed event", || async {
        titles(&app.upcoming_ok("days=3", &user.access_token).await).contains(&"Pushed".to_owned())
    })
    .await;
    assert!(fake.notifications().iter().any(|n| n.resource_state == "exists" && n.status == Some(200)));

    let forged = app.google_notification(&channel.id, "not-the-token", "exists").await;
    assert_problem(forged, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn upcoming_events_are_ordered_bounded_and_placed_in_the_users_zone() {
    let (app, fake) = app_with_google(|_| {}).await;
    let registered = app
        .register(
            &json!({"email": "ny@example.com", "password": "correct horse", "timezone": "America/New_York"}),
        )
        .await;
    let token = registered.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned();
    let email = fake.account_email();
    let tomorrow = (Utc::now() + TimeDelta::days(2)).date_naive();
    fake.insert_event(&email, json!({"summary": "Holiday", "start": {"date": tomorrow.to_string()}, "end": {"date": (tomorrow + TimeDelta::days(1)).to_string()}})).unwrap();
    fake.insert_event(&email, timed_event("Far away", 24 * 20, 1)).unwrap();
    let location = app.consent_to_google(&token).await;
    assert!(location.ends_with("calendar=connected"));
    app.wait_for_first_sync(&token).await;
    for (title, hours) in [("Third", 30), ("First", 3), ("Second", 10)] {
        let response = app
            .create_event(&json!({"summary": title, "start": at(hours), "end": at(hours + 1)}), &token)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let events = app.upcoming_ok("limit=3&days=7", &token).await;
    assert_eq!(titles(&events), ["First", "Second", "Third"]);
    let all = app.upcoming_ok("limit=100&days=7", &token).await;
    assert!(!titles(&all).contains(&"Far away".to_owned()), "outside the window");
    let starts: Vec<&str> = all.iter().map(|e| e["start"].as_str().unwrap()).collect();
    let mut sorted = starts.clone();
    sorted.sort_by_key(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap());
    assert_eq!(starts, sorted);
    let holiday = all.iter().find(|e| e["title"] == "Holiday").unwrap();
    assert_eq!(holiday["all_day"], true);
    let start = chrono::DateTime::parse_from_rfc3339(holiday["start"].as_str().unwrap()).unwrap();
    assert_eq!(start.with_timezone(&chrono_tz::America::New_York).format("%H:%M").to_string(), "00:00");
    for query in ["limit=0", "limit=101", "days=0", "days=366"] {
        assert_problem(app.upcoming(query, &token).await, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn events_are_created_on_google_by_default_or_on_the_local_calendar() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    app.connect_google(&user).await;
    let local_id = app
        .calendar_connections_ok(token)
        .await
        .into_iter()
        .find(|c| c["provider"] == "local")
        .unwrap()["id"]
        .clone();

    let response = app
        .create_event(
            &json!({"summary": "Study block", "description": "Graphs", "start": at(20), "end": at(22), "time_zone": "Europe/Berlin"}),
            token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["provider"], "google");
    assert!(created["html_link"].is_string());
    let at_google =
        fake.event(&fake.account_email(), created["provider_event_id"].as_str().unwrap()).unwrap();
    assert_eq!(at_google["summary"], "Study block");
    assert_eq!(at_google["start"]["timeZone"], "Europe/Berlin");

    let response = app
        .create_event(
            &json!({"summary": "Local", "start": at(5), "end": at(6), "connection_id": local_id}),
            token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.json::<Value>().await.unwrap()["provider"], "local");
    assert_eq!(fake.events(&fake.account_email()).len(), 1, "nothing written to Google for a local event");

    for (body, field) in [
        (json!({"summary": "x", "start": at(6), "end": at(5)}), "end"),
        (json!({"summary": "x", "start": at(5), "end": at(6), "time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"summary": " ", "start": at(5), "end": at(6)}), "summary"),
    ] {
        let problem =
            assert_problem(app.create_event(&body, token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    // Google's own refusals: a 400 names the field, a 403 is a 502 with the reason.
    fake.push(Fault::Error { code: 400, reason: "invalid".into(), message: "Invalid start time.".into() });
    let response = app.create_event(&json!({"summary": "x", "start": at(5), "end": at(6)}), token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["start"]);
    fake.push(Fault::Error {
        code: 403,
        reason: "forbiddenForNonOrganizer".into(),
        message: "Forbidden".into(),
    });
    let response = app.create_event(&json!({"summary": "x", "start": at(5), "end": at(6)}), token).await;
    let problem = assert_problem(response, StatusCode::BAD_GATEWAY).await;
    assert!(problem["detail"].as_str().unwrap().contains("forbiddenForNonOrganizer"), "{problem}");
}

#[tokio::test]
async fn disconnecting_revokes_at_google_and_deletes_tokens_channel_and_events() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, fake) = app_with_google(move |s| {
        s.server.port = port;
        s.calendar.webhook_url = Some(webhook_url(port));
    })
    .await;
    let user = app.signed_in_user().await;
    fake.insert_event(&fake.account_email(), timed_event("Synced", 24, 1)).unwrap();
    let id = app.connect_google(&user).await;
    poll_until(BACKGROUND, "a stored push channel", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_connections WHERE channel_id IS NOT NULL").await
            == 1
    })
    .await;
    let refresh_token = fake.grants()[0].refresh_token.clone().unwrap();

    let response = app.disconnect_calendar(id, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(fake.revoked_tokens().contains(&refresh_token), "revoked at Google");
    assert!(fake.grants().iter().all(|g| g.revoked));
    assert!(fake.channels().iter().all(|c| c.stopped), "the push channel is stopped");
    assert_eq!(app.calendar_connections_ok(&user.access_token).await.len(), 1);
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await, 0);
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_connections WHERE provider = 'google'").await,
        0
    );
    assert!(app.upcoming_ok("days=3", &user.access_token).await.is_empty());
}

#[tokio::test]
async fn another_users_connection_is_404_everywhere() {
    let (app, _fake) = app_with_google(|_| {}).await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let id = app.connect_google(&owner).await;
    let token = &other.access_token;
    assert_problem(app.disconnect_calendar(&id, token).await, StatusCode::NOT_FOUND).await;
    assert_problem(app.sync_calendar(&json!({"connection_id": id}), token).await, StatusCode::NOT_FOUND)
        .await;
    let body = json!({"summary": "x", "start": at(5), "end": at(6), "connection_id": id});
    assert_problem(app.create_event(&body, token).await, StatusCode::NOT_FOUND).await;
    assert!(!app.calendar_connections_ok(token).await.iter().any(|c| c["id"] == id.as_str()));
    assert_eq!(app.google_connection(&owner.access_token).await["status"], "active");
}

#[tokio::test]
async fn deleting_the_account_revokes_the_google_grant() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    app.connect_google(&user).await;
    assert_eq!(app.delete_me(&user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert!(fake.grants().iter().all(|g| g.revoked), "{:?}", fake.grants());
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_connections").await, 0);
}

#[tokio::test]
async fn one_sync_per_connection_at_a_time_across_replicas() {
    let (app, fake) = app_with_google(|_| {}).await;
    let replica = crate::helpers::spawn_replica(&app).await;
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    fake.set_latency(Duration::from_millis(400));
    let body = json!({"connection_id": id});
    let (first, second) = tokio::join!(
        app.sync_calendar(&body, &user.access_token),
        replica.sync_calendar(&body, &user.access_token),
    );
    let mut statuses: Vec<String> = Vec::new();
    for response in [first, second] {
        let body: Value = response.json().await.unwrap();
        statuses.push(body["results"][0]["status"].as_str().unwrap().to_owned());
    }
    statuses.sort();
    assert_eq!(statuses, ["in_progress", "ok"]);
}

#[tokio::test]
async fn background_sync_runs_on_its_interval_and_renews_ending_channels() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, fake) = app_with_google(move |s| {
        s.server.port = port;
        s.calendar.webhook_url = Some(webhook_url(port));
        s.calendar.sync_interval_secs = 1;
        s.calendar.sync_jitter_secs = 0;
    })
    .await;
    let user = app.signed_in_user().await;
    app.connect_google(&user).await;
    poll_until(BACKGROUND, "a stored push channel", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_connections WHERE channel_id IS NOT NULL").await
            == 1
    })
    .await;
    // No push for this change: only the periodic sync can bring it in.
    fake.set_push_enabled(false);
    fake.insert_event(&fake.account_email(), timed_event("Found by the timer", 24, 1)).unwrap();
    poll_until(BACKGROUND, "the periodic sync", || async {
        titles(&app.upcoming_ok("days=3", &user.access_token).await)
            .contains(&"Found by the timer".to_owned())
    })
    .await;

    // A channel about to end is replaced, and the old one stopped.
    let soon = Utc::now() + TimeDelta::minutes(30);
    let db = app.db.conn();
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE calendar_connections SET channel_expires_at = $1 WHERE channel_id IS NOT NULL",
        [soon.into()],
    ))
    .await
    .unwrap();
    poll_until(BACKGROUND, "a renewed channel with the old one stopped", || async {
        let channels = fake.channels();
        channels.len() == 2 && channels.iter().filter(|c| c.stopped).count() == 1
    })
    .await;
    assert!(!fake.channels()[1].stopped, "the new channel stays open");
}

#[tokio::test]
async fn access_tokens_about_to_expire_are_refreshed_before_use() {
    let (app, fake) = app_with_google(|_| {}).await;
    // Shorter than the one-minute margin: every stored token counts as about to expire.
    fake.set_access_token_lifetime(Duration::from_secs(30));
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    let (before, _) = stored_tokens(&app, &id).await;
    app.sync_calendar_ok(&json!({"connection_id": id}), &user.access_token).await;
    let (after, _) = stored_tokens(&app, &id).await;
    assert_ne!(before, after, "refreshed ahead of expiry and stored");
    assert!(fake.token_requests() >= 3, "the code exchange, then a refresh per use");
    let rejected = fake.requests().iter().filter(|r| r.status == Some(401)).count();
    assert_eq!(rejected, 0, "no call went out with an expiring token");
}

#[tokio::test]
async fn a_rotated_refresh_token_is_stored() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    let (_, refresh_before) = stored_tokens(&app, &id).await;
    fake.set_rotate_refresh_tokens(true);
    fake.expire_access_tokens();
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), &user.access_token).await;
    assert_eq!(body["results"][0]["status"], "ok", "{body}");
    let (_, refresh_after) = stored_tokens(&app, &id).await;
    assert_ne!(refresh_before, refresh_after, "Google's new refresh token replaces the old one");
    // The new one works: the next refresh succeeds.
    fake.expire_access_tokens();
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), &user.access_token).await;
    assert_eq!(body["results"][0]["status"], "ok", "{body}");
}

#[tokio::test]
async fn a_401_that_survives_a_refresh_marks_the_connection_needs_reauth() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    app.connect_google(&user).await;
    fake.push_many([Fault::Unauthorized, Fault::Unauthorized]);
    let response =
        app.create_event(&json!({"summary": "x", "start": at(5), "end": at(6)}), &user.access_token).await;
    let problem = assert_problem(response, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "calendar_needs_reauth");
    assert_eq!(app.google_connection(&user.access_token).await["status"], "needs_reauth");
}
