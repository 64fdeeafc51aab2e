//! Google's event types and usage limits against the fake Google: out-of-office time is
//! unavailable, working-location, birthday and transparent events are free, blocks become focus
//! time when the person opts in (and ordinary events, remembered, where Google refuses it), and
//! `quotaExceeded` stops writes to the connection until the pause has passed. Also: re-planning
//! for a deadline, and a foreign recurring series with a block's title never touched.

use chrono::{DateTime, TimeDelta, Utc};
use planwright_tests::fake_google::{FakeGoogle, Fault, FaultRule};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::{
    calendar::count_rows,
    helpers::{
        BACKGROUND, TestApp, TestUser, app_with_google, assert_problem, instant, next_monday, poll_until,
        spawn_app_with, webhook_url,
    },
    replan::settled,
};

/// An app wired to the fake Google (push notifications on when `push`), and a user who connected
/// it.
async fn google_app(
    push: bool,
    customise: impl FnOnce(&mut planwright_api::settings::Settings) + 'static,
) -> (TestApp, FakeGoogle, TestUser) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, fake) = app_with_google(move |s| {
        if push {
            s.server.port = port;
            s.calendar.webhook_url = Some(webhook_url(port));
        }
        customise(s);
    })
    .await;
    let user = app.signed_in_user().await;
    app.connect_google(&user).await;
    if push {
        poll_until(BACKGROUND, "a push channel", || async { !fake.channels().is_empty() }).await;
    }
    (app, fake, user)
}

/// Seeds an event at Google and syncs it in.
async fn seed(app: &TestApp, fake: &FakeGoogle, token: &str, event: Value) -> Value {
    let created = fake.insert_event(&fake.account_email(), event).unwrap();
    let response = app.post_json("/api/v1/calendar/sync", &json!({}), Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    created
}

async fn new_task(app: &TestApp, token: &str, title: &str, minutes: u32) -> String {
    // One block per task: re-placed late in a working day, a task that may be split would end the
    // day with a piece and start the next with the rest, whatever the test is about.
    let body = json!({"title": title, "estimate_minutes": minutes, "min_chunk_minutes": minutes});
    let task = app.create_task_ok(&body, token).await;
    task["id"].as_str().unwrap().to_owned()
}

/// Schedules tasks from `from` over five days.
async fn schedule(app: &TestApp, token: &str, ids: &[&str], from: DateTime<Utc>) -> Value {
    let body = json!({"task_ids": ids, "from": from, "until": from + TimeDelta::days(5)});
    app.schedule_tasks_ok(&body, token).await
}

async fn blocks(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let response = app.get(&format!("/api/v1/tasks/{id}"), Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let task: Value = response.json().await.unwrap();
    task["blocks"].as_array().unwrap().clone()
}

fn span(block: &Value) -> (DateTime<Utc>, DateTime<Utc>) {
    (instant(&block["start"]), instant(&block["end"]))
}

fn timed(summary: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> Value {
    json!({"summary": summary, "start": {"dateTime": start}, "end": {"dateTime": end}})
}

/// The calls to Google's event writes (insert, patch, update, delete) so far.
fn event_writes(fake: &FakeGoogle) -> Vec<(String, String)> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.contains("/events") && !r.path.ends_with("/watch") && r.method != "GET")
        .map(|r| (r.method, r.path))
        .collect()
}

fn inserts(fake: &FakeGoogle) -> usize {
    event_writes(fake).iter().filter(|(method, _)| method == "POST").count()
}

#[tokio::test]
async fn out_of_office_makes_its_whole_range_unavailable() {
    let (app, fake, user) = google_app(false, |_| {}).await;
    let token = &user.access_token;
    let monday = next_monday();
    // Timed, and longer than the working day on both ends: Monday is gone.
    let away = json!({
        "summary": "Out of office", "eventType": "outOfOffice",
        "outOfOfficeProperties": {"autoDeclineMode": "declineAllConflictingInvitations"},
        "start": {"dateTime": monday - TimeDelta::hours(6)},
        "end": {"dateTime": monday + TimeDelta::hours(30)}
    });
    seed(&app, &fake, token, away).await;
    let id = new_task(&app, token, "Write the report", 60).await;
    schedule(&app, token, &[&id], monday).await;
    let placed = blocks(&app, token, &id).await;
    let (start, _) = span(&placed[0]);
    assert!(start >= monday + TimeDelta::hours(30), "not on the out-of-office day: {placed:?}");
    assert!(start < monday + TimeDelta::days(2), "the next free day, Tuesday: {placed:?}");

    // An all-day stretch of out-of-office (Wednesday to Friday): the work goes to the next week.
    let (wednesday, saturday) = (monday + TimeDelta::days(2), monday + TimeDelta::days(5));
    // Marked free by whoever wrote it: out of office is unavailable all the same.
    let trip = json!({
        "summary": "Conference", "eventType": "outOfOffice", "transparency": "transparent",
        "start": {"date": wednesday.date_naive()}, "end": {"date": saturday.date_naive()}
    });
    seed(&app, &fake, token, trip).await;
    let later = new_task(&app, token, "Review the slides", 60).await;
    let body = json!({"task_ids": [later], "from": wednesday, "until": wednesday + TimeDelta::days(10)});
    app.schedule_tasks_ok(&body, token).await;
    let (start, _) = span(&blocks(&app, token, &later).await[0]);
    assert!(start >= saturday + TimeDelta::days(2), "Monday after the trip at the earliest: {start}");
    let stored = count_rows(
        &app,
        "SELECT COUNT(*) AS n FROM calendar_events WHERE title IN ('Out of office', 'Conference') AND transparent = false",
    )
    .await;
    assert_eq!(stored, 2, "both stored as busy");
}

#[tokio::test]
async fn working_location_birthday_and_transparent_events_leave_the_time_free() {
    let (app, fake, user) = google_app(false, |_| {}).await;
    let token = &user.access_token;
    let monday = next_monday();
    let (nine, five) = (monday + TimeDelta::hours(9), monday + TimeDelta::hours(17));
    let mut office = timed("Office", nine, five);
    office["eventType"] = json!("workingLocation");
    office["workingLocationProperties"] =
        json!({"type": "officeLocation", "officeLocation": {"label": "HQ"}});
    seed(&app, &fake, token, office).await;
    let mut free = timed("Maybe lunch", nine, five);
    free["transparency"] = json!("transparent");
    seed(&app, &fake, token, free).await;
    let birthday = json!({
        "summary": "Ada's birthday", "eventType": "birthday",
        "start": {"date": monday.date_naive()}, "end": {"date": (monday + TimeDelta::days(1)).date_naive()},
        "recurrence": ["RRULE:FREQ=YEARLY"]
    });
    seed(&app, &fake, token, birthday).await;
    let id = new_task(&app, token, "Deep work", 60).await;
    let result = schedule(&app, token, &[&id], monday).await;
    let (start, end) = span(&blocks(&app, token, &id).await[0]);
    assert_eq!((start, end), (nine, nine + TimeDelta::hours(1)), "first thing Monday: {result}");
    // Not opted in: an ordinary event.
    let event_id = result["events"][0]["event_id"].as_str().unwrap();
    let at_google = fake.event(&fake.account_email(), event_id).unwrap();
    assert_eq!(at_google["eventType"], "default");
    assert!(at_google.get("focusTimeProperties").is_none());
}

#[tokio::test]
async fn blocks_are_focus_time_when_the_person_opts_in() {
    let (app, fake, user) = google_app(false, |_| {}).await;
    let token = &user.access_token;
    let response = app.update_me(&json!({"schedule_preferences": {"focus_time": true}}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["schedule_preferences"]["focus_time"], true);
    assert_eq!(me["schedule_preferences"]["auto_replan"], true, "other preferences keep their defaults");

    let id = new_task(&app, token, "Study", 90).await;
    let result = schedule(&app, token, &[&id], next_monday()).await;
    assert_eq!(result["events"][0]["status"], "created", "{result}");
    let event_id = result["events"][0]["event_id"].as_str().unwrap();
    let at_google = fake.event(&fake.account_email(), event_id).unwrap();
    assert_eq!(at_google["eventType"], "focusTime");
    assert_eq!(at_google["focusTimeProperties"]["autoDeclineMode"], "declineNone", "no meeting declined");
    assert_eq!(inserts(&fake), 1);
    assert_eq!(app.google_connection(token).await["focus_time_refused"], false);

    // A re-run finds the focus-time event as it should be: nothing written.
    let again = schedule(&app, token, &[&id], next_monday()).await;
    assert_eq!(again["events"][0]["status"], "unchanged", "{again}");
    assert_eq!(inserts(&fake), 1);

    // A bad value is a 422 naming the field.
    let response = app.update_me(&json!({"schedule_preferences": {"focus_time": "yes"}}), token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem.to_string().contains("focus_time"), "{problem}");
}

#[tokio::test]
async fn a_refused_focus_time_block_is_written_as_an_ordinary_event_and_remembered() {
    let (app, fake, user) = google_app(false, |_| {}).await;
    let token = &user.access_token;
    fake.set_focus_time_available(false);
    app.update_me(&json!({"schedule_preferences": {"focus_time": true}}), token).await;
    let monday = next_monday();

    let first = new_task(&app, token, "Read chapter 1", 60).await;
    let result = schedule(&app, token, &[&first], monday).await;
    assert_eq!(result["events"][0]["status"], "created", "{result}");
    let event_id = result["events"][0]["event_id"].as_str().unwrap();
    assert_eq!(fake.event(&fake.account_email(), event_id).unwrap()["eventType"], "default");
    let attempts: Vec<Value> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/events"))
        .map(|r| json!({"type": r.body["eventType"], "status": r.status}))
        .collect();
    assert_eq!(
        attempts,
        vec![json!({"type": "focusTime", "status": 400}), json!({"type": null, "status": 200})],
        "refused as focus time, then written as an ordinary event"
    );
    assert_eq!(app.google_connection(token).await["focus_time_refused"], true);

    // The next block goes straight to an ordinary event: one insert, no focus time asked.
    let second = new_task(&app, token, "Read chapter 2", 60).await;
    let before = fake.request_count();
    schedule(&app, token, &[&second], monday).await;
    let later: Vec<_> = fake.requests()[before..]
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/events"))
        .map(|r| r.body["eventType"].clone())
        .collect();
    assert_eq!(later, vec![Value::Null], "one insert, as an ordinary event");
}

#[tokio::test]
async fn any_400_to_a_focus_time_insert_falls_back_to_an_ordinary_event() {
    let (app, fake, user) = google_app(false, |_| {}).await;
    let token = &user.access_token;
    app.update_me(&json!({"schedule_preferences": {"focus_time": true}}), token).await;
    // A refusal worded differently from the fake's own: the reason does not matter.
    fake.push_rule(
        FaultRule::new(Fault::Error {
            code: 400,
            reason: "invalid".to_owned(),
            message: "Focus time is not supported for this account.".to_owned(),
        })
        .method("POST")
        .path("/events"),
    );
    let id = new_task(&app, token, "Practise", 30).await;
    let result = schedule(&app, token, &[&id], next_monday()).await;
    assert_eq!(result["events"][0]["status"], "created", "{result}");
    assert_eq!(inserts(&fake), 2);
    assert_eq!(app.google_connection(token).await["focus_time_refused"], true);
}

/// Moves the connection's write pause back by two days, past any cool-down.
async fn end_pause(app: &TestApp) {
    let db = app.db.conn();
    let past = Utc::now() - TimeDelta::days(2);
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE calendar_connections SET writes_paused_at = $1 WHERE writes_paused_at IS NOT NULL",
        [past.into()],
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn quota_exceeded_stops_writes_until_the_pause_has_passed() {
    let (app, fake, user) = google_app(true, |_| {}).await;
    let token = &user.access_token;
    let monday = next_monday();
    let id = new_task(&app, token, "Write the essay", 60).await;
    schedule(&app, token, &[&id], monday).await;
    let (start, end) = span(&blocks(&app, token, &id).await[0]);

    // Google's usage limits answer the re-plan's move of the block.
    fake.push_rule(FaultRule::new(Fault::QuotaExceeded).method("PATCH"));
    let writes_before = event_writes(&fake).len();
    fake.insert_event(&fake.account_email(), timed("Board meeting", start, end)).unwrap();
    poll_until(BACKGROUND, "writes to be paused", || async {
        app.google_connection(token).await["writes_paused"].is_object()
    })
    .await;
    settled(&app).await;
    let connection = app.google_connection(token).await;
    let paused = &connection["writes_paused"];
    assert!(paused["detail"].as_str().unwrap().contains("Calendar usage limits exceeded"), "{paused}");
    assert_eq!(instant(&paused["until"]) - instant(&paused["since"]), TimeDelta::hours(1));
    let status: Value = app.get("/api/v1/calendar/sync/status", Some(token)).await.json().await.unwrap();
    let google = status["items"].as_array().unwrap().iter().find(|i| i["writes_paused"].is_object());
    assert!(google.is_some(), "the sync status shows it: {status}");
    let sent: Vec<_> = event_writes(&fake)[writes_before..].to_vec();
    assert_eq!(sent.len(), 1, "one write, not retried: {sent:?}");
    assert_eq!(span(&blocks(&app, token, &id).await[0]), (start, end), "the block is where its event is");

    // While paused: a push re-plans nothing, a scheduling run answers 503 and writes nothing.
    fake.insert_event(&fake.account_email(), timed("Second meeting", end, end + TimeDelta::hours(1)))
        .unwrap();
    poll_until(BACKGROUND, "the second meeting to be synced", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events WHERE title = 'Second meeting'").await
            == 1
    })
    .await;
    settled(&app).await;
    let body = json!({"task_ids": [id], "from": monday, "until": monday + TimeDelta::days(5)});
    let response = app.schedule_tasks(&body, token).await;
    let problem = assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap().contains("usage limits"), "{problem}");
    let dry =
        json!({"task_ids": [id], "from": monday, "until": monday + TimeDelta::days(5), "dry_run": true});
    assert_eq!(app.schedule_tasks(&dry, token).await.status(), StatusCode::OK, "a dry run writes nothing");
    let event =
        json!({"summary": "Call Ada", "start": end + TimeDelta::hours(2), "end": end + TimeDelta::hours(3)});
    let response = app.post_json("/api/v1/calendar/events", &event, Some(token)).await;
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(event_writes(&fake).len(), writes_before + 1, "nothing more was sent");

    // Once the pause has passed, writes run again and the block leaves the meetings.
    end_pause(&app).await;
    let result = app.schedule_tasks_ok(&body, token).await;
    assert_eq!(result["events"][0]["status"], "updated", "{result}");
    let (moved, _) = span(&blocks(&app, token, &id).await[0]);
    assert!(moved >= end + TimeDelta::hours(1) || moved + TimeDelta::hours(1) <= start, "{moved}");
    assert!(app.google_connection(token).await["writes_paused"].is_null());
}

#[tokio::test]
async fn quota_exceeded_in_a_run_stops_its_remaining_writes() {
    let (app, fake, user) = google_app(false, |_| {}).await;
    let token = &user.access_token;
    let mut ids = Vec::new();
    for k in 0..6 {
        ids.push(new_task(&app, token, &format!("Chapter {k}"), 60).await);
    }
    // The limit holds for every write Google sees, as it would for hours.
    fake.push_rule(FaultRule::new(Fault::QuotaExceeded).times(100).method("POST").path("/events"));
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let result = schedule(&app, token, &refs, next_monday()).await;
    let events = result["events"].as_array().unwrap();
    assert_eq!(events.len(), 6);
    assert!(events.iter().all(|e| e["status"] == "failed"), "{result}");
    assert!(events.iter().all(|e| e["error"].as_str().unwrap().contains("usage limits")), "{result}");
    let sent = inserts(&fake);
    assert!((1..=4).contains(&sent), "at most the writes already under way (4 at a time): {sent}");
    assert_eq!(fake.pending_faults()[0].times, 100 - sent, "each sent once, none retried");
    assert!(app.google_connection(token).await["writes_paused"].is_object());
}

#[tokio::test]
async fn a_block_past_its_new_deadline_is_re_placed_with_reason_deadline() {
    let app = spawn_app_with(|s| s.calendar.replan_interval_secs = 1).await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let id = new_task(&app, token, "File the taxes", 60).await;
    let late = next_monday() + TimeDelta::days(2);
    schedule(&app, token, &[&id], late).await;
    let (before, _) = span(&blocks(&app, token, &id).await[0]);
    // The deadline moves before the block.
    let due = next_monday();
    let response = app.update_task(&id, &json!({"due_at": due}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    poll_until(BACKGROUND, "the block to be pulled in", || async {
        blocks(&app, token, &id).await.first().is_some_and(|b| span(b).1 <= due)
    })
    .await;
    // The block moves before its change is recorded: wait for the run to finish.
    settled(&app).await;
    let response = app.get("/api/v1/schedule/changes", Some(token)).await;
    let changes: Value = response.json().await.unwrap();
    let items = changes["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{changes}");
    assert_eq!(items[0]["reason"], "deadline");
    assert_eq!(instant(&items[0]["from"]), before);
}

#[tokio::test]
async fn moving_and_removing_a_block_never_touches_a_foreign_recurring_series() {
    let (app, fake, user) = google_app(true, |_| {}).await;
    let token = &user.access_token;
    let monday = next_monday();
    let id = new_task(&app, token, "Standup notes", 30).await;
    schedule(&app, token, &[&id], monday).await;
    let (start, _) = span(&blocks(&app, token, &id).await[0]);
    // Someone's daily series with the block's title, one instance right on the block.
    let series = json!({
        "summary": "Standup notes",
        "start": {"dateTime": start, "timeZone": "UTC"},
        "end": {"dateTime": start + TimeDelta::minutes(30), "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=5"]
    });
    let series = fake.insert_event(&fake.account_email(), series).unwrap();
    let series_id = series["id"].as_str().unwrap().to_owned();
    let of_series = |fake: &FakeGoogle| -> Vec<Value> {
        fake.events(&fake.account_email())
            .into_iter()
            .filter(|e| e["id"] == series_id.as_str() || e["recurringEventId"] == series_id.as_str())
            .collect()
    };
    let before = of_series(&fake);
    poll_until(BACKGROUND, "the block to move off the series", || async {
        blocks(&app, token, &id).await.first().is_some_and(|b| span(b).0 != start)
    })
    .await;
    // Removed: a run that cannot place it any more deletes its event.
    let body = json!({"task_ids": [id], "from": monday, "until": monday + TimeDelta::minutes(20)});
    let result = app.schedule_tasks_ok(&body, token).await;
    assert_eq!(result["unscheduled"].as_array().unwrap().len(), 1, "{result}");
    assert!(blocks(&app, token, &id).await.is_empty());

    assert_eq!(of_series(&fake), before, "the series and its instances are as they were");
    let touched: Vec<_> =
        event_writes(&fake).into_iter().filter(|(_, path)| path.contains(&series_id)).collect();
    assert!(touched.is_empty(), "no write named the series or one of its instances: {touched:?}");
    let ours: Vec<_> = fake
        .events(&fake.account_email())
        .into_iter()
        .filter(|e| e["extendedProperties"]["private"]["planwright_task_id"] == id.as_str())
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(ours, vec![json!("cancelled")], "our block's event is the one deleted");
}
