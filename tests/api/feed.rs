//! The secret ICS feed, read back with a real iCalendar parser.

use std::collections::HashMap;

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike};
use planwright_domain::EventData;
use planwright_store::{ConnectionTrait, repo};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, TestUser, assert_problem, header, spawn_app, spawn_app_with};

/// Issues the user's feed and returns its URL.
async fn issue_feed(app: &TestApp, user: &TestUser) -> String {
    let response = app.create_feed(&user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    body["url"].as_str().unwrap().to_owned()
}

/// Fetches a feed that must exist and returns its text.
async fn fetch_feed(app: &TestApp, url: &str) -> String {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    response.text().await.unwrap()
}

/// Parses `body` and returns its events by UID, after checking the framing a parser forgives.
fn events_by_uid(body: &str) -> HashMap<String, Event> {
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"), "{body}");
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "a line longer than 75 octets: {line:?}");
        assert!(!line.contains('\n') && !line.contains('\r'), "a bare line break in {line:?}");
    }
    let calendar: Calendar = body.parse().unwrap();
    assert_eq!(calendar.property_value("VERSION"), Some("2.0"));
    assert_eq!(calendar.property_value("CALSCALE"), Some("GREGORIAN"));
    assert!(calendar.property_value("PRODID").is_some_and(|p| p.contains("Planwright")));
    assert_eq!(calendar.property_value("X-WR-CALNAME"), Some("Planwright"));
    let mut events = HashMap::new();
    for event in calendar.events() {
        assert!(event.property_value("DTSTAMP").is_some_and(|s| s.ends_with('Z')), "{event:?}");
        assert!(event.get_last_modified().is_some(), "{event:?}");
        let uid = event.get_uid().unwrap().to_owned();
        assert!(events.insert(uid.clone(), event.clone()).is_none(), "UID {uid} twice");
    }
    events
}

fn utc(at: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match at {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(at))) => at,
        other => panic!("not a UTC date-time: {other:?}"),
    }
}

fn date(at: Option<DatePerhapsTime>) -> NaiveDate {
    match at {
        Some(DatePerhapsTime::Date(day)) => day,
        other => panic!("not a date: {other:?}"),
    }
}

/// A whole hour, `days` from now.
fn hour_in(days: i64, hour: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::days(days)).duration_trunc(Duration::days(1)).unwrap() + Duration::hours(hour)
}

/// Creates a plan whose tasks are exactly `tasks` and returns it.
async fn plan_with_tasks(app: &TestApp, user: &TestUser, goal: &str, tasks: Value) -> Value {
    let response =
        app.create_plan(&json!({"goal": "Placeholder", "duration_days": 2}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    let response = app.update_plan(plan_id, &json!({"goal": goal, "tasks": tasks}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Places a plan task on the calendar, as the scheduler will.
async fn schedule(app: &TestApp, task_id: &str, start: DateTime<Utc>, end: DateTime<Utc>) {
    let result = app
        .db
        .conn()
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            app.db.conn().get_database_backend(),
            "INSERT INTO task_blocks (task_id, chunk, user_id, start_at, end_at) \
             SELECT id, 0, user_id, $1, $2 FROM tasks WHERE id = $3",
            [start.into(), end.into(), Uuid::parse_str(task_id).unwrap().into()],
        ))
        .await
        .unwrap();
    assert_eq!(result.rows_affected(), 1);
}

fn event_data(provider_event_id: &str, title: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> EventData {
    EventData::new(provider_event_id, title, start, end)
}

/// Puts an event on the user's built-in calendar and returns its id.
async fn local_event(app: &TestApp, user: &TestUser, data: EventData) -> Uuid {
    let user_id = Uuid::parse_str(&user.id).unwrap();
    let local = repo::calendar::ensure_local(app.db.conn(), user_id).await.unwrap();
    let (event, _) = repo::calendar::upsert_event(
        app.db.conn(),
        user_id,
        repo::calendar::EventSource::target(&local),
        data,
    )
    .await
    .unwrap();
    event.id
}

/// A user with one scheduled plan task and one event on their built-in calendar; returns the
/// UIDs they should see.
async fn user_with_items(app: &TestApp, label: &str) -> (TestUser, Vec<String>) {
    let user = app.signed_in_user().await;
    let plan = plan_with_tasks(
        app,
        &user,
        &format!("{label} goal"),
        json!([{"title": format!("{label} task"), "day_offset": 0, "duration_minutes": 60}]),
    )
    .await;
    let task_id = plan["tasks"][0]["id"].as_str().unwrap().to_owned();
    schedule(app, &task_id, hour_in(2, 9), hour_in(2, 10)).await;
    let event_id =
        local_event(app, &user, event_data(label, &format!("{label} event"), hour_in(3, 9), hour_in(3, 10)))
            .await;
    (user, vec![format!("task-{task_id}@planwright"), format!("event-{event_id}@planwright")])
}

#[tokio::test]
async fn scheduled_plan_tasks_appear_in_the_feed_with_stable_uids_and_utc_times() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let long = " ☃ Grüße, naïve café;".repeat(20);
    let description = format!("Line one\nLine two, with; punctuation \\ and a backslash\n{long}");
    let plan = plan_with_tasks(
        &app,
        &user,
        "Learn Rust, properly; in 2 weeks",
        json!([
            {"title": "Read chapter 1, then; summarise", "description": description, "day_offset": 0, "duration_minutes": 90},
            {"title": "Not placed yet", "day_offset": 1, "duration_minutes": 30}
        ]),
    )
    .await;
    let task_id = plan["tasks"][0]["id"].as_str().unwrap().to_owned();
    let (start, end) = (hour_in(1, 9), hour_in(1, 9) + Duration::minutes(90));
    schedule(&app, &task_id, start, end).await;

    let url = issue_feed(&app, &user).await;
    let body = fetch_feed(&app, &url).await;
    let events = events_by_uid(&body);

    assert_eq!(events.len(), 1, "only the placed task: {body}");
    let event = &events[&format!("task-{task_id}@planwright")];
    assert_eq!(event.get_summary(), Some("Read chapter 1, then; summarise"));
    let text = event.get_description().unwrap();
    assert!(text.starts_with(&description), "{text:?}");
    assert!(text.contains("Learn Rust, properly; in 2 weeks"), "{text:?}");
    assert_eq!(utc(event.get_start()), start);
    assert_eq!(utc(event.get_end()), end);
    assert!(body.contains(&format!("DTSTART:{}\r\n", start.format("%Y%m%dT%H%M%SZ"))));
    let unfolded = body.replace("\r\n ", "");
    assert!(unfolded.contains("\r\nSUMMARY:Read chapter 1\\, then\\; summarise\r\n"), "{unfolded}");
    assert!(unfolded.contains(r"DESCRIPTION:Line one\nLine two\, with\; punctuation \\ and a backslash\n"));

    let again = fetch_feed(&app, &url).await;
    let mut first: Vec<String> = events.into_keys().collect();
    let mut second: Vec<String> = events_by_uid(&again).into_keys().collect();
    first.sort();
    second.sort();
    assert_eq!(first, second);
    assert_eq!(body, again, "nothing changed, so neither did the feed");
}

#[tokio::test]
async fn local_calendar_events_appear_in_the_feed_with_all_day_ones_as_dates() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let (start, end) = (hour_in(5, 14), hour_in(5, 15));
    let mut timed = event_data("local-timed", "Dentist, Dr. Smith; room 4", start, end);
    timed.ical_uid = Some("dentist-42@example.com".to_owned());
    timed.description = Some("Bring the form\r\nand the card, please".to_owned());
    timed.location = Some("Main St. 1, Springfield".to_owned());
    local_event(&app, &user, timed).await;
    let first_day = hour_in(10, 0).date_naive();
    let mut holiday = event_data("local-holiday", "Holiday", hour_in(10, 0), hour_in(13, 0));
    holiday.all_day = true;
    holiday.start_date = Some(first_day);
    holiday.end_date = Some(first_day + Duration::days(3));
    let holiday_id = local_event(&app, &user, holiday).await;

    let body = fetch_feed(&app, &issue_feed(&app, &user).await).await;
    let events = events_by_uid(&body);

    assert_eq!(events.len(), 2, "{body}");
    let dentist = &events["dentist-42@example.com"];
    assert_eq!(dentist.get_summary(), Some("Dentist, Dr. Smith; room 4"));
    assert_eq!(dentist.get_description(), Some("Bring the form\nand the card, please"));
    assert_eq!(dentist.get_location(), Some("Main St. 1, Springfield"));
    assert_eq!(utc(dentist.get_start()), start);
    assert_eq!(utc(dentist.get_end()), end);
    let holiday = &events[&format!("event-{holiday_id}@planwright")];
    assert_eq!(holiday.get_summary(), Some("Holiday"));
    assert_eq!(date(holiday.get_start()), first_day);
    assert_eq!(date(holiday.get_end()), first_day + Duration::days(3));
    assert!(body.contains(&format!("DTSTART;VALUE=DATE:{}\r\n", first_day.format("%Y%m%d"))));
}

#[tokio::test]
async fn items_outside_the_feed_window_are_left_out() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let plan = plan_with_tasks(
        &app,
        &user,
        "Someday",
        json!([
            {"title": "Long ago", "day_offset": 0, "duration_minutes": 60},
            {"title": "Far ahead", "day_offset": 0, "duration_minutes": 60}
        ]),
    )
    .await;
    schedule(&app, plan["tasks"][0]["id"].as_str().unwrap(), hour_in(-200, 9), hour_in(-200, 10)).await;
    schedule(&app, plan["tasks"][1]["id"].as_str().unwrap(), hour_in(1000, 9), hour_in(1000, 10)).await;
    local_event(&app, &user, event_data("old", "Old", hour_in(-365, 9), hour_in(-365, 10))).await;

    let body = fetch_feed(&app, &issue_feed(&app, &user).await).await;

    assert!(events_by_uid(&body).is_empty(), "{body}");
}

#[tokio::test]
async fn an_unchanged_feed_answers_304_to_its_etag() {
    let app = spawn_app().await;
    let (user, _) = user_with_items(&app, "etag").await;
    let url = issue_feed(&app, &user).await;
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control").as_deref(), Some("private, max-age=300"));
    let etag = header(&response, "etag").unwrap();

    let response = app.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&response, "etag"), Some(etag.clone()));

    local_event(&app, &user, event_data("new", "New", hour_in(4, 9), hour_in(4, 10))).await;
    let response = app.client.get(&url).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(header(&response, "etag"), Some(etag));
}

#[tokio::test]
async fn reissuing_the_feed_revokes_the_old_url() {
    let app = spawn_app().await;
    let (user, uids) = user_with_items(&app, "reissue").await;
    let old = issue_feed(&app, &user).await;
    fetch_feed(&app, &old).await;

    let new = issue_feed(&app, &user).await;

    assert_ne!(old, new);
    assert_problem(app.client.get(&old).send().await.unwrap(), StatusCode::NOT_FOUND).await;
    let mut seen: Vec<String> = events_by_uid(&fetch_feed(&app, &new).await).into_keys().collect();
    seen.sort();
    let mut expected = uids;
    expected.sort();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn unknown_and_malformed_feed_tokens_get_the_same_404_problem() {
    let app = spawn_app().await;
    let (user, _) = user_with_items(&app, "unknown").await;
    let url = issue_feed(&app, &user).await;
    let token = url.rsplit('/').next().unwrap().trim_end_matches(".ics");
    assert_eq!(token.len(), 43, "{url}");
    // One character off: well-formed, but no feed has it.
    let last = if token.ends_with('A') { "B" } else { "A" };
    let unknown = format!("{}{last}", &token[..42]);

    let unknown = assert_problem(app.feed(&unknown).await, StatusCode::NOT_FOUND).await;
    let malformed = assert_problem(app.feed("not-a-token").await, StatusCode::NOT_FOUND).await;

    assert_eq!(unknown["code"], "not_found");
    // The same answer but for the request id, which each request has its own of.
    let without_id = |mut problem: serde_json::Value| {
        assert!(problem.as_object_mut().unwrap().remove("request_id").is_some(), "{problem}");
        problem
    };
    assert_eq!(without_id(unknown), without_id(malformed));
}

#[tokio::test]
async fn a_feed_never_shows_another_users_data() {
    let app = spawn_app().await;
    let (alice, alice_uids) = user_with_items(&app, "alice").await;
    let (bob, bob_uids) = user_with_items(&app, "bob").await;

    let alice_feed = fetch_feed(&app, &issue_feed(&app, &alice).await).await;
    let bob_feed = fetch_feed(&app, &issue_feed(&app, &bob).await).await;

    let mut seen: Vec<String> = events_by_uid(&alice_feed).into_keys().collect();
    seen.sort();
    let mut expected = alice_uids;
    expected.sort();
    assert_eq!(seen, expected);
    assert!(!alice_feed.contains("bob"), "{alice_feed}");
    assert!(bob_uids.iter().all(|uid| bob_feed.contains(uid.as_str())));
    assert!(!bob_feed.contains("alice"), "{bob_feed}");
}

#[tokio::test]
async fn issuing_a_feed_needs_an_access_token() {
    let app = spawn_app().await;

    let response = app.post_json("/api/v1/calendar/feed", &json!({}), None).await;

    assert_problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_feed_url_is_built_on_the_configured_public_base_url() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let url = issue_feed(&app, &user).await;
    assert!(url.starts_with(&format!("{}/api/v1/calendar/feed/", app.address)), "{url}");
    assert!(url.ends_with(".ics"), "{url}");

    let app =
        spawn_app_with(|s| s.server.public_base_url = Some("https://cal.example.com/planner/".to_owned()))
            .await;
    let user = app.signed_in_user().await;
    let url = issue_feed(&app, &user).await;
    assert!(url.starts_with("https://cal.example.com/planner/api/v1/calendar/feed/"), "{url}");
}
