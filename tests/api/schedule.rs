//! Putting plans on calendars: free-time placement, idempotent writes, two-way binding.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc, Weekday};
use planwright_domain::event_id_for_task;
use planwright_tests::fake_google::{FakeGoogle, Fault, FaultRule};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    calendar::count_rows,
    helpers::{TestApp, TestUser, app_with_google, assert_problem, error_fields, spawn_app},
};

/// A Monday at least a week ahead.
fn next_monday() -> NaiveDate {
    let mut day = Utc::now().date_naive() + TimeDelta::days(7);
    while day.weekday() != Weekday::Mon {
        day += TimeDelta::days(1);
    }
    day
}

/// The `n`th Sunday (from 1) of `month` in `year`; `None`: the last one.
fn sunday_of(year: i32, month: u32, n: Option<u8>) -> NaiveDate {
    match n {
        Some(n) => NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n).unwrap(),
        None => {
            let mut day = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - TimeDelta::days(1);
            while day.weekday() != Weekday::Sun {
                day -= TimeDelta::days(1);
            }
            day
        }
    }
}

async fn berlin_user(app: &TestApp) -> TestUser {
    let user = app.signed_in_user().await;
    let response = app.update_me(&json!({"timezone": "Europe/Berlin"}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    user
}

/// A plan from the offline planner: `days` days, a block a day plus daily check-ins.
async fn plan(app: &TestApp, token: &str, days: u32) -> Value {
    app.create_plan_ok(&json!({"goal": "Learn graph algorithms", "duration_days": days}), token).await
}

/// An app with the fake Google, a Berlin user who connected it, and a plan of `days` days.
async fn connected_plan(days: u32) -> (TestApp, FakeGoogle, TestUser, Value) {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = berlin_user(&app).await;
    app.connect_google(&user).await;
    let plan = plan(&app, &user.access_token, days).await;
    (app, fake, user, plan)
}

/// The write status of each event, in task order (never empty: a run always writes something here).
fn statuses(result: &Value) -> Vec<String> {
    let events = result["events"].as_array().unwrap();
    assert!(!events.is_empty(), "no events written: {result}");
    assert_eq!(events.len(), result["placements"].as_array().unwrap().len(), "one event per placement");
    events.iter().map(|e| e["status"].as_str().unwrap().to_owned()).collect()
}

fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

/// Google's events that are not cancelled.
fn live_events(fake: &FakeGoogle) -> Vec<Value> {
    fake.events(&fake.account_email()).into_iter().filter(|e| e["status"] != "cancelled").collect()
}

fn berlin(date: NaiveDate, hour: u32, minute: u32) -> Value {
    use chrono::TimeZone;
    let local =
        chrono_tz::Europe::Berlin.from_local_datetime(&date.and_hms_opt(hour, minute, 0).unwrap()).unwrap();
    json!({"dateTime": local.to_rfc3339(), "timeZone": "Europe/Berlin"})
}

#[tokio::test]
async fn a_dry_run_computes_placements_and_writes_nothing() {
    let (app, fake, user, plan) = connected_plan(2).await;
    let id = plan["id"].as_str().unwrap();
    let result =
        app.schedule_ok(id, &json!({"start_date": next_monday(), "dry_run": true}), &user.access_token).await;
    assert_eq!(result["dry_run"], true);
    assert_eq!(result["placements"].as_array().unwrap().len(), plan["tasks"].as_array().unwrap().len());
    assert!(result["events"].as_array().unwrap().is_empty());
    assert!(live_events(&fake).is_empty(), "nothing written to Google");
    let stored = app.get_plan_ok(id, &user.access_token).await;
    assert_eq!(stored["status"], "draft");
    assert!(stored["tasks"].as_array().unwrap().iter().all(|t| t["scheduled_start"].is_null()));
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await, 0);
}

#[tokio::test]
async fn scheduling_places_tasks_in_free_working_time_on_google() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = berlin_user(&app).await;
    let monday = next_monday();
    // A meeting takes the Monday morning.
    let mut meeting = json!({"summary": "Board meeting"});
    meeting["start"] = berlin(monday, 9, 0);
    meeting["end"] = berlin(monday, 11, 0);
    fake.insert_event(&fake.account_email(), meeting).unwrap();
    app.connect_google(&user).await;
    let plan = plan(&app, &user.access_token, 2).await;
    let id = plan["id"].as_str().unwrap();
    let result = app.schedule_ok(id, &json!({"start_date": monday}), &user.access_token).await;

    assert!(result["unscheduled"].as_array().unwrap().is_empty(), "{result}");
    assert!(statuses(&result).iter().all(|s| s == "created"), "{result}");
    let meeting_end = instant(&berlin(monday, 11, 0)["dateTime"]);
    for placement in result["placements"].as_array().unwrap() {
        let (start, end) = (instant(&placement["start"]), instant(&placement["end"]));
        let local = start.with_timezone(&chrono_tz::Europe::Berlin);
        let local_end = end.with_timezone(&chrono_tz::Europe::Berlin);
        assert!(
            local.hour() >= 9
                && (local_end.hour() < 17 || (local_end.hour() == 17 && local_end.minute() == 0))
        );
        assert!(local.date_naive() >= monday);
        if local.date_naive() == monday {
            assert!(
                start >= meeting_end + TimeDelta::minutes(10),
                "after the meeting and its buffer: {start}"
            );
        }
    }
    let events = live_events(&fake);
    assert_eq!(events.len(), plan["tasks"].as_array().unwrap().len() + 1, "the meeting plus one per task");
    for task in plan["tasks"].as_array().unwrap() {
        let task_id = uuid::Uuid::parse_str(task["id"].as_str().unwrap()).unwrap();
        let event = fake.event(&fake.account_email(), &event_id_for_task(task_id)).expect("deterministic id");
        assert_eq!(event["summary"], task["title"]);
        assert_eq!(event["extendedProperties"]["private"]["planwright_task_id"], task["id"]);
        assert_eq!(event["extendedProperties"]["private"]["planwright_plan_id"], plan["id"]);
    }
    let stored = app.get_plan_ok(id, &user.access_token).await;
    assert_eq!(stored["status"], "scheduled");
    for task in stored["tasks"].as_array().unwrap() {
        assert!(task["scheduled_start"].is_string() && task["calendar_event_id"].is_string(), "{task}");
    }
    let shown = app.upcoming_ok("limit=100&days=30", &user.access_token).await;
    assert!(shown.iter().filter(|e| e["plan_task_id"].is_string()).count() >= 3);
}

#[tokio::test]
async fn scheduling_twice_updates_events_instead_of_duplicating() {
    let (app, fake, user, plan) = connected_plan(3).await;
    let id = plan["id"].as_str().unwrap();
    let body = json!({"start_date": next_monday()});
    let first = app.schedule_ok(id, &body, &user.access_token).await;
    let second = app.schedule_ok(id, &body, &user.access_token).await;
    assert!(statuses(&first).iter().all(|s| s == "created"));
    assert!(statuses(&second).iter().all(|s| s == "unchanged"), "{second}");
    assert_eq!(first["placements"], second["placements"], "deterministic");
    assert_eq!(live_events(&fake).len(), plan["tasks"].as_array().unwrap().len());
}

#[tokio::test]
async fn editing_the_plan_and_rescheduling_moves_and_removes_events() {
    let (app, fake, user, plan) = connected_plan(3).await;
    let id = plan["id"].as_str().unwrap();
    let body = json!({"start_date": next_monday()});
    app.schedule_ok(id, &body, &user.access_token).await;

    // Drop the last task and make the first one longer.
    let mut tasks: Vec<Value> = plan["tasks"].as_array().unwrap().clone();
    let removed = tasks.pop().unwrap();
    tasks[0]["duration_minutes"] = json!(120);
    let edit: Vec<Value> = tasks
        .iter()
        .map(|t| {
            json!({"id": t["id"], "title": t["title"], "description": t["description"],
                   "day_offset": t["day_offset"], "duration_minutes": t["duration_minutes"]})
        })
        .collect();
    let response = app.update_plan(id, &json!({"tasks": edit}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let result = app.schedule_ok(id, &body, &user.access_token).await;

    let first = &result["events"][0];
    assert_eq!(first["task_id"], tasks[0]["id"]);
    assert_eq!(first["status"], "updated", "{result}");
    let removed_events = result["removed_events"].as_array().unwrap();
    assert_eq!(removed_events.len(), 1, "{result}");
    let removed_id = event_id_for_task(uuid::Uuid::parse_str(removed["id"].as_str().unwrap()).unwrap());
    assert_eq!(removed_events[0]["event_id"], removed_id.as_str());
    assert_eq!(fake.event(&fake.account_email(), &removed_id).unwrap()["status"], "cancelled");
    assert_eq!(live_events(&fake).len(), tasks.len(), "no duplicates, nothing left over");
    let moved = fake.event(&fake.account_email(), first["event_id"].as_str().unwrap()).unwrap();
    let start = DateTime::parse_from_rfc3339(moved["start"]["dateTime"].as_str().unwrap()).unwrap();
    let end = DateTime::parse_from_rfc3339(moved["end"]["dateTime"].as_str().unwrap()).unwrap();
    assert_eq!(end - start, TimeDelta::minutes(120));
}

#[tokio::test]
async fn rate_limits_in_the_middle_are_retried_and_the_run_completes() {
    let (app, fake, user, plan) = connected_plan(4).await;
    fake.push_rule(
        FaultRule::new(Fault::RateLimited { retry_after: None }).times(2).method("POST").path("/events"),
    );
    fake.push_rule(FaultRule::new(Fault::RateLimitExceeded).times(1).method("POST").path("/events"));
    let result = app
        .schedule_ok(plan["id"].as_str().unwrap(), &json!({"start_date": next_monday()}), &user.access_token)
        .await;
    assert!(statuses(&result).iter().all(|s| s == "created"), "{result}");
    assert!(fake.pending_faults().is_empty(), "the faults were met");
    assert_eq!(live_events(&fake).len(), plan["tasks"].as_array().unwrap().len());
}

#[tokio::test]
async fn a_partial_run_then_a_rerun_completes_without_duplicates() {
    let (app, fake, user, plan) = connected_plan(3).await;
    let id = plan["id"].as_str().unwrap();
    let tasks = plan["tasks"].as_array().unwrap();
    // A run that died after writing the first task's event at Google, before recording it.
    let first_id = event_id_for_task(uuid::Uuid::parse_str(tasks[0]["id"].as_str().unwrap()).unwrap());
    let mut orphan = json!({"id": first_id, "summary": tasks[0]["title"]});
    orphan["start"] = berlin(next_monday(), 13, 0);
    orphan["end"] = berlin(next_monday(), 14, 0);
    fake.insert_event(&fake.account_email(), orphan).unwrap();
    // And Google refuses one insert outright this time.
    fake.push_rule(
        FaultRule::new(Fault::Error { code: 403, reason: "forbidden".into(), message: "Forbidden".into() })
            .times(1)
            .method("POST")
            .path("/events"),
    );
    let body = json!({"start_date": next_monday()});
    let partial = app.schedule_ok(id, &body, &user.access_token).await;
    let partial_statuses = statuses(&partial);
    assert_eq!(partial_statuses[0], "updated", "the orphan is adopted, not duplicated: {partial}");
    assert_eq!(partial_statuses.iter().filter(|s| *s == "failed").count(), 1, "{partial}");
    let failed = partial["events"].as_array().unwrap().iter().find(|e| e["status"] == "failed").unwrap();
    assert!(failed["error"].as_str().unwrap().contains("forbidden"), "{failed}");
    assert_eq!(app.get_plan_ok(id, &user.access_token).await["status"], "draft", "not complete yet");

    let rerun = app.schedule_ok(id, &body, &user.access_token).await;
    let rerun_statuses = statuses(&rerun);
    assert_eq!(rerun_statuses.iter().filter(|s| *s == "created").count(), 1, "{rerun}");
    assert!(rerun_statuses.iter().all(|s| s == "created" || s == "unchanged"), "{rerun}");
    assert_eq!(live_events(&fake).len(), tasks.len(), "complete, without duplicates");
    assert_eq!(app.get_plan_ok(id, &user.access_token).await["status"], "scheduled");
}

#[tokio::test]
async fn dst_days_land_on_the_right_instants_in_two_zones() {
    let app = spawn_app().await;
    // The transition days of next year (always ahead), all Sundays: this person works Sundays,
    // 09:00–17:00. Berlin springs forward on March's last Sunday and falls back on October's;
    // New York springs forward on March's second Sunday.
    let year = Utc::now().year() + 1;
    for (zone, day, utc_hour) in [
        ("Europe/Berlin", sunday_of(year, 3, None), 7),
        ("America/New_York", sunday_of(year, 3, Some(2)), 13),
        ("Europe/Berlin", sunday_of(year, 10, None), 8),
    ] {
        let (day, expected) = (day.to_string(), format!("{day}T{utc_hour:02}:00:00Z"));
        let user = app.signed_in_user().await;
        let hours =
            json!({"timezone": zone, "working_hours": {"start": "09:00", "end": "17:00", "days": [7]}});
        assert_eq!(app.update_me(&hours, &user.access_token).await.status(), StatusCode::OK);
        let plan = plan(&app, &user.access_token, 1).await;
        let result = app
            .schedule_ok(plan["id"].as_str().unwrap(), &json!({"start_date": &day}), &user.access_token)
            .await;
        let first = &result["placements"][0];
        assert_eq!(instant(&first["start"]), instant(&json!(expected)), "{zone} {day}: {result}");
        assert_eq!(result["timezone"], zone);
    }
}

#[tokio::test]
async fn the_built_in_calendar_takes_the_plan_and_the_feed_shows_it() {
    let app = spawn_app().await;
    let user = berlin_user(&app).await;
    let token = &user.access_token;
    let plan = plan(&app, token, 2).await;
    let id = plan["id"].as_str().unwrap();
    let body = json!({"start_date": next_monday()});
    let first = app.schedule_ok(id, &body, token).await;
    assert!(statuses(&first).iter().all(|s| s == "created"), "{first}");
    let again = app.schedule_ok(id, &body, token).await;
    assert!(statuses(&again).iter().all(|s| s == "unchanged"), "{again}");
    let events = app.upcoming_ok("limit=100&days=30", token).await;
    assert_eq!(
        events.iter().filter(|e| e["provider"] == "local").count(),
        plan["tasks"].as_array().unwrap().len()
    );

    let feed: Value = app.create_feed(token).await.json().await.unwrap();
    let ics = app.client.get(feed["url"].as_str().unwrap()).send().await.unwrap().text().await.unwrap();
    for task in plan["tasks"].as_array().unwrap() {
        assert!(ics.contains(&format!("UID:task-{}@planwright", task["id"].as_str().unwrap())), "{ics}");
    }
    assert_eq!(
        ics.matches("BEGIN:VEVENT").count(),
        plan["tasks"].as_array().unwrap().len(),
        "each task once"
    );
}

#[tokio::test]
async fn moves_and_deletes_at_google_flow_back_to_the_plan() {
    let (app, fake, user, plan) = connected_plan(2).await;
    let id = plan["id"].as_str().unwrap();
    let result = app.schedule_ok(id, &json!({"start_date": next_monday()}), &user.access_token).await;
    let moved = result["events"][0]["event_id"].as_str().unwrap().to_owned();
    let deleted = result["events"][1]["event_id"].as_str().unwrap().to_owned();
    let later = next_monday() + TimeDelta::days(1);
    fake.update_event(
        &fake.account_email(),
        &moved,
        json!({"start": berlin(later, 15, 0), "end": berlin(later, 16, 0)}),
    )
    .unwrap();
    fake.delete_event(&fake.account_email(), &deleted).unwrap();
    app.sync_calendar_ok(&json!({}), &user.access_token).await;

    let stored = app.get_plan_ok(id, &user.access_token).await;
    let task = |event_id: &str| {
        stored["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| {
                t["id"]
                    == plan["tasks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .find(|p| {
                            event_id_for_task(uuid::Uuid::parse_str(p["id"].as_str().unwrap()).unwrap())
                                == event_id
                        })
                        .unwrap()["id"]
            })
            .unwrap()
            .clone()
    };
    assert_eq!(instant(&task(&moved)["scheduled_start"]), instant(&berlin(later, 15, 0)["dateTime"]));
    assert!(task(&deleted)["scheduled_start"].is_null(), "cleared when deleted at Google");
}

#[tokio::test]
async fn deleting_a_plan_with_delete_events_removes_its_events() {
    let (app, fake, user, plan) = connected_plan(2).await;
    let id = plan["id"].as_str().unwrap();
    app.schedule_ok(id, &json!({"start_date": next_monday()}), &user.access_token).await;
    assert!(!live_events(&fake).is_empty());
    let response = app.delete_plan_and_events(id, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(live_events(&fake).is_empty(), "deleted at Google");
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await, 0);
}

#[tokio::test]
async fn deleting_a_plan_with_delete_events_refuses_while_google_needs_reauth() {
    let (app, fake, user, plan) = connected_plan(2).await;
    let token = &user.access_token;
    let id = plan["id"].as_str().unwrap();
    app.schedule_ok(id, &json!({"start_date": next_monday()}), token).await;
    let at_google = live_events(&fake).len();
    let stored = count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await;
    assert!(at_google > 0 && stored > 0);
    fake.force_invalid_grant(true);
    fake.expire_access_tokens();
    let body = app.sync_calendar_ok(&json!({}), token).await;
    assert!(body["results"].as_array().unwrap().iter().any(|r| r["status"] == "needs_reauth"), "{body}");

    let response = app.delete_plan_and_events(id, token).await;
    let problem = assert_problem(response, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "calendar_needs_reauth");
    assert_eq!(live_events(&fake).len(), at_google, "nothing deleted at Google");
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await, stored, "nor here");
    let response = app.get_plan(id, token).await;
    assert_eq!(response.status(), StatusCode::OK, "the plan is kept");
}

#[tokio::test]
async fn bad_schedule_requests_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let plan = plan(&app, &owner.access_token, 2).await;
    let plan_id = plan["id"].as_str().unwrap();
    let ahead = next_monday().to_string();
    for (body, field) in [
        (json!({"start_date": "2026-13-01"}), "start_date"),
        (json!({"start_date": &ahead, "timezone": "Mars/Base"}), "timezone"),
        (json!({"start_date": "2020-01-06"}), "start_date"),
        (json!({"start_date": 20270104}), "start_date"),
    ] {
        let problem = assert_problem(
            app.schedule(plan_id, &body, &owner.access_token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let body = json!({"start_date": &ahead});
    assert_problem(app.schedule(plan_id, &body, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let with_foreign = json!({"start_date": &ahead, "connection_id": uuid::Uuid::new_v4()});
    assert_problem(app.schedule(plan_id, &with_foreign, &owner.access_token).await, StatusCode::NOT_FOUND)
        .await;
    let prefs = json!({"schedule_preferences": {"buffer_minutes": 500}});
    let problem =
        assert_problem(app.update_me(&prefs, &owner.access_token).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(error_fields(&problem), ["schedule_preferences.buffer_minutes"]);
}

#[tokio::test]
async fn a_run_looks_past_a_first_week_with_no_room_and_keeps_its_busy_time() {
    let app = spawn_app().await;
    let user = berlin_user(&app).await;
    let token = &user.access_token;
    let plan = plan(&app, token, 2).await;
    let id = plan["id"].as_str().unwrap();
    let monday = next_monday();
    let at = |days: i64| monday.and_hms_opt(0, 0, 0).unwrap().and_utc() + TimeDelta::days(days);
    // Nothing free for ten days (past the first reach the run reads), then two more busy days
    // that only a later reach sees.
    for (summary, from, to) in [("Trip", 0, 10), ("Conference", 10, 12)] {
        let event = json!({"summary": summary, "start": at(from), "end": at(to)});
        let response = app.post_json("/api/v1/calendar/events", &event, Some(token)).await;
        assert_eq!(response.status(), StatusCode::CREATED, "{}", response.text().await.unwrap());
    }
    let result = app.schedule_ok(id, &json!({"start_date": monday, "dry_run": true}), token).await;
    let placements = result["placements"].as_array().unwrap();
    assert_eq!(placements.len(), plan["tasks"].as_array().unwrap().len(), "{result}");
    assert!(result["unscheduled"].as_array().unwrap().is_empty(), "{result}");
    for placement in placements {
        assert!(instant(&placement["start"]) >= at(12), "inside busy time: {placement}");
    }
    let first = placements.iter().map(|p| instant(&p["start"])).min().unwrap();
    assert!(first < at(15), "the first free working day after the busy days: {first}");
}
