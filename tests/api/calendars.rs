//! Busy time from several calendars of one account: the calendar list, choosing busy calendars
//! and the target, validation, and what scheduling and sync do with the choice (fake Google).

use chrono::{DateTime, TimeDelta, Utc};
use planwright_tests::fake_google::{FakeGoogle, Fault, FaultRule};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    calendar::count_rows,
    helpers::{
        BACKGROUND, TestApp, TestUser, app_with_google, assert_problem, error_fields, instant, next_monday,
        poll_until, spawn_app, webhook_url,
    },
};

const TEAM: &str = "team@group.calendar.google.com";
const HOLIDAYS: &str = "en.uk#holiday@group.v.calendar.google.com";
const ARCHIVE: &str = "archive@group.calendar.google.com";

/// An app with Google, a user who connected it, and an account with a primary calendar, a
/// writable `Team` calendar, a read-only `Holidays` one and a hidden `Archive` one.
async fn connected() -> (TestApp, FakeGoogle, TestUser, String) {
    let (app, fake) = app_with_google(|_| {}).await;
    add_calendars(&fake);
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    (app, fake, user, id)
}

fn add_calendars(fake: &FakeGoogle) {
    fake.add_calendar(TEAM, "Team");
    fake.add_shared_calendar(HOLIDAYS, "Holidays", "reader", false);
    fake.add_shared_calendar(ARCHIVE, "Archive", "writer", true);
}

fn path(connection_id: &str) -> String {
    format!("/api/v1/calendar/connections/{connection_id}/calendars")
}

async fn calendars(app: &TestApp, token: &str, connection_id: &str) -> Vec<Value> {
    let response = app.get(&path(connection_id), Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert!(body["next_cursor"].is_null());
    body["items"].as_array().unwrap().clone()
}

async fn select(app: &TestApp, token: &str, connection_id: &str, body: &Value) -> Vec<Value> {
    let response = app.patch_json(&path(connection_id), body, token).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

fn entry<'a>(items: &'a [Value], id: &str) -> &'a Value {
    items.iter().find(|item| item["id"] == id).unwrap_or_else(|| panic!("{id} listed: {items:?}"))
}

/// A meeting over the whole working day on `calendar_id`.
fn all_day_meeting(fake: &FakeGoogle, calendar_id: &str, day: DateTime<Utc>) {
    let (start, end) = (day + TimeDelta::hours(8), day + TimeDelta::hours(18));
    let event = json!({"summary": "Offsite", "start": {"dateTime": start}, "end": {"dateTime": end}});
    fake.insert_event(calendar_id, event).unwrap();
}

/// A dry run placing one hour of new work from `monday` over two days; the placement's start.
async fn placed_start(app: &TestApp, token: &str, monday: DateTime<Utc>) -> DateTime<Utc> {
    let task = app.create_task_ok(&json!({"title": "Write the report", "estimate_minutes": 60}), token).await;
    let body = json!({"task_ids": [task["id"]], "from": monday, "until": monday + TimeDelta::days(2), "dry_run": true});
    let result = app.schedule_tasks_ok(&body, token).await;
    instant(&result["placements"][0]["start"])
}

async fn stored_events_of(app: &TestApp, calendar_id: &str) -> i64 {
    count_rows(app, &format!("SELECT COUNT(*) AS n FROM calendar_events WHERE calendar_id = '{calendar_id}'"))
        .await
}

#[tokio::test]
async fn the_account_calendars_are_listed_with_the_primary_one_busy_and_target_by_default() {
    let (app, fake, user, id) = connected().await;
    let items = calendars(&app, &user.access_token, &id).await;

    let ids: Vec<&str> = items.iter().map(|item| item["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], fake.account_email(), "primary first");
    assert_eq!(items.len(), 4, "hidden calendars are listed too: {items:?}");
    let primary = &items[0];
    assert_eq!(
        (&primary["primary"], &primary["busy"], &primary["target"], &primary["writable"]),
        (&json!(true), &json!(true), &json!(true), &json!(true))
    );
    assert_eq!(primary["access_role"], "owner");
    assert_eq!(primary["background_color"], "#9fe1e7");
    assert!(primary["time_zone"].is_string());
    let holidays = entry(&items, HOLIDAYS);
    assert_eq!((&holidays["access_role"], &holidays["writable"]), (&json!("reader"), &json!(false)));
    let archive = entry(&items, ARCHIVE);
    assert_eq!((&archive["hidden"], &archive["selected"]), (&json!(true), &json!(false)));
    for other in [TEAM, HOLIDAYS, ARCHIVE] {
        assert_eq!(
            (&entry(&items, other)["busy"], &entry(&items, other)["target"]),
            (&json!(false), &json!(false))
        );
    }
}

#[tokio::test]
async fn the_calendar_list_is_read_page_by_page() {
    let (app, fake, user, id) = connected().await;
    for n in 0..260 {
        fake.add_calendar(&format!("extra{n:03}@group.calendar.google.com"), "Extra");
    }
    let items = calendars(&app, &user.access_token, &id).await;
    assert_eq!(items.len(), 264);
    let pages = fake.requests().iter().filter(|r| r.path.ends_with("/users/me/calendarList")).count();
    assert!(pages >= 2, "more than one page was asked for: {pages}");
}

#[tokio::test]
async fn the_built_in_calendar_lists_its_one_calendar() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let local = app.calendar_connections_ok(&user.access_token).await[0]["id"].as_str().unwrap().to_owned();
    let items = calendars(&app, &user.access_token, &local).await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        (&items[0]["id"], &items[0]["busy"], &items[0]["target"]),
        (&json!("local"), &json!(true), &json!(true))
    );
    let response = app.patch_json(&path(&local), &json!({"busy": ["elsewhere"]}), &user.access_token).await;
    assert_eq!(error_fields(&assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await), ["busy[0]"]);
}

#[tokio::test]
async fn a_bad_choice_is_a_422_naming_the_field() {
    let (app, _fake, user, id) = connected().await;
    let token = &user.access_token;
    for (body, fields) in [
        (json!({"busy": ["primary", "nobody@group.calendar.google.com"]}), vec!["busy[1]"]),
        (json!({"target": "nobody@group.calendar.google.com"}), vec!["target"]),
        (json!({"target": HOLIDAYS}), vec!["target"]),
        (json!({"target": HOLIDAYS, "busy": ["x"]}), vec!["target", "busy[0]"]),
    ] {
        let response = app.patch_json(&path(&id), &body, token).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), fields, "{body}: {problem}");
    }
    let too_many: Vec<String> = (0..51).map(|n| format!("c{n}@group.calendar.google.com")).collect();
    let response = app.patch_json(&path(&id), &json!({"busy": too_many}), token).await;
    assert_eq!(error_fields(&assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await), ["busy"]);
    // Nothing was stored by the refused requests, and an empty choice changes nothing.
    let items = select(&app, token, &id, &json!({})).await;
    assert_eq!(items.iter().filter(|item| item["busy"] == true).count(), 1);
}

#[tokio::test]
async fn a_badly_shaped_body_is_a_4xx_problem() {
    let (app, _fake, user, id) = connected().await;
    for body in [
        json!({"busy": "primary"}),
        json!({"busy": [1, 2]}),
        json!({"target": ["primary"]}),
        json!({"busy": ["primary"], "colour": "red"}),
        json!(["primary"]),
    ] {
        let response = app.patch_json(&path(&id), &body, &user.access_token).await;
        let status = response.status();
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {status}"
        );
        assert_problem(response, status).await;
    }
}

#[tokio::test]
async fn another_users_connection_is_a_404() {
    let (app, _fake, _owner, id) = connected().await;
    let stranger = app.signed_in_user().await;
    let response = app.get(&path(&id), Some(&stranger.access_token)).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    let response = app.patch_json(&path(&id), &json!({"busy": [TEAM]}), &stranger.access_token).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    let response = app.get(&path(&uuid::Uuid::now_v7().to_string()), Some(&stranger.access_token)).await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_second_calendars_meeting_is_avoided_once_selected_and_not_before() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    let monday = next_monday();
    all_day_meeting(&fake, HOLIDAYS, monday);

    let before = placed_start(&app, token, monday).await;
    assert!(before < monday + TimeDelta::days(1), "not selected: Monday is free ({before})");

    let items = select(&app, token, &id, &json!({"busy": ["primary", HOLIDAYS]})).await;
    assert_eq!(entry(&items, HOLIDAYS)["busy"], true, "a read-only calendar can count as busy");
    assert_eq!(entry(&items, &fake.account_email())["target"], true);
    let after = placed_start(&app, token, monday).await;
    assert!(after >= monday + TimeDelta::days(1), "selected: Monday is taken ({after})");

    // The background sync brings the calendar's events in with their own sync token.
    poll_until(BACKGROUND, "the busy calendar's events", || async {
        stored_events_of(&app, HOLIDAYS).await == 1
    })
    .await;
    poll_until(BACKGROUND, "its sync token", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM connection_calendars WHERE sync_token IS NOT NULL").await
            == 1
    })
    .await;
    let again = calendars(&app, token, &id).await;
    assert_eq!(entry(&again, HOLIDAYS)["busy"], true, "the choice is stored");
}

#[tokio::test]
async fn a_change_on_a_busy_calendar_arrives_with_the_next_sync() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    select(&app, token, &id, &json!({"busy": ["primary", TEAM]})).await;
    poll_until(BACKGROUND, "the first sync of the team calendar", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM connection_calendars WHERE sync_token IS NOT NULL").await
            == 1
    })
    .await;
    let monday = next_monday();
    all_day_meeting(&fake, TEAM, monday);
    poll_until(BACKGROUND, "an incremental sync to bring it in", || async {
        let result = app.sync_calendar(&json!({"connection_id": id}), token).await;
        result.status() == StatusCode::OK && stored_events_of(&app, TEAM).await == 1
    })
    .await;
    let lists = fake.requests();
    let team_syncs: Vec<_> = lists
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.path.replace("%40", "@").ends_with("/calendars/team@group.calendar.google.com/events")
        })
        .collect();
    assert!(!team_syncs.is_empty());
    assert!(
        team_syncs.iter().any(|r| r.query_param("syncToken").is_some()),
        "incremental with its own token"
    );
}

#[tokio::test]
async fn deselecting_a_busy_calendar_drops_its_busy_time() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    let monday = next_monday();
    all_day_meeting(&fake, TEAM, monday);
    select(&app, token, &id, &json!({"busy": ["primary", TEAM]})).await;
    poll_until(BACKGROUND, "the team calendar's events", || async {
        stored_events_of(&app, TEAM).await == 1
    })
    .await;
    assert!(placed_start(&app, token, monday).await >= monday + TimeDelta::days(1));

    let items = select(&app, token, &id, &json!({"busy": []})).await;
    assert_eq!(entry(&items, TEAM)["busy"], false);
    assert_eq!(items[0]["busy"], true, "the target always counts");
    assert_eq!(stored_events_of(&app, TEAM).await, 0, "its events are gone here");
    assert_eq!(fake.events(TEAM).len(), 1, "and stay at Google");
    assert!(placed_start(&app, token, monday).await < monday + TimeDelta::days(1), "Monday is free again");
}

#[tokio::test]
async fn blocks_land_on_the_selected_target_calendar() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    let items = select(&app, token, &id, &json!({"target": TEAM})).await;
    assert_eq!((&entry(&items, TEAM)["target"], &entry(&items, TEAM)["busy"]), (&json!(true), &json!(true)));
    assert_eq!(items[0]["target"], false);
    assert_eq!(items[0]["busy"], true, "the old target still counts as busy");

    let task = app.create_task_ok(&json!({"title": "Draft the slides", "estimate_minutes": 60}), token).await;
    let monday = next_monday();
    let body = json!({"task_ids": [task["id"]], "from": monday, "until": monday + TimeDelta::days(2)});
    let result = app.schedule_tasks_ok(&body, token).await;
    assert_eq!(result["events"][0]["status"], "created", "{result}");
    let ours = |calendar: &str| {
        fake.events(calendar)
            .into_iter()
            .filter(|e| e["extendedProperties"]["private"]["planwright_task_id"] == task["id"])
            .count()
    };
    assert_eq!((ours(TEAM), ours(&fake.account_email())), (1, 0));

    // Scheduling again updates the block where it is: never a second copy.
    let again = app.schedule_tasks_ok(&body, token).await;
    assert_eq!(again["events"][0]["status"], "unchanged", "{again}");
    assert_eq!(ours(TEAM), 1);

    // With a block ahead on the target, the target cannot move (the block would be stranded).
    let response = app.patch_json(&path(&id), &json!({"target": "primary"}), token).await;
    let problem = assert_problem(response, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "calendar_target_has_blocks");
    // Busy calendars can still change.
    select(&app, token, &id, &json!({"busy": [HOLIDAYS]})).await;
}

#[tokio::test]
async fn a_busy_calendar_gets_its_own_push_channel_and_its_pushes_sync() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, fake) = app_with_google(move |s| {
        s.server.port = port;
        s.calendar.webhook_url = Some(webhook_url(port));
    })
    .await;
    add_calendars(&fake);
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    select(&app, &user.access_token, &id, &json!({"busy": ["primary", TEAM]})).await;
    poll_until(BACKGROUND, "a channel on the team calendar", || async {
        fake.channels().iter().any(|c| c.calendar_id == TEAM && !c.stopped)
    })
    .await;
    // Google knows the channel a moment before we have stored it; a push in between is not
    // recognised (the periodic sync catches that change up), so wait for our side too.
    poll_until(BACKGROUND, "the channel stored", || async {
        count_rows(
            &app,
            &format!("SELECT COUNT(*) AS n FROM connection_calendars WHERE calendar_id = '{TEAM}' AND channel_id IS NOT NULL"),
        )
        .await
            == 1
    })
    .await;

    all_day_meeting(&fake, TEAM, next_monday());
    poll_until(BACKGROUND, "the pushed change to be synced", || async {
        stored_events_of(&app, TEAM).await == 1
    })
    .await;

    select(&app, &user.access_token, &id, &json!({"busy": []})).await;
    assert!(
        fake.channels().iter().filter(|c| c.calendar_id == TEAM).all(|c| c.stopped),
        "a calendar no longer chosen is no longer watched"
    );
}

#[tokio::test]
async fn existing_connections_keep_their_calendar_and_events_through_the_migration() {
    use migration::{Migrator, MigratorTrait};
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    let task = app.create_task_ok(&json!({"title": "Draft the slides", "estimate_minutes": 60}), token).await;
    let monday = next_monday();
    let body = json!({"task_ids": [task["id"]], "from": monday, "until": monday + TimeDelta::days(2)});
    assert_eq!(app.schedule_tasks_ok(&body, token).await["events"][0]["status"], "created");
    all_day_meeting(&fake, TEAM, monday);
    select(&app, token, &id, &json!({"busy": ["primary", TEAM]})).await;
    poll_until(BACKGROUND, "the team calendar's events", || async {
        stored_events_of(&app, TEAM).await == 1
    })
    .await;
    poll_until(BACKGROUND, "the sync to finish", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM job_leases WHERE name LIKE 'calendar-%sync:%'").await == 0
    })
    .await;

    // Back to one calendar per connection (this migration and every one after it): the extra
    // calendar's events have no place there.
    let migrations = Migrator::migrations();
    let position = migrations
        .iter()
        .position(|m| m.name().ends_with("add_connection_calendars"))
        .expect("the migration");
    let steps = u32::try_from(migrations.len() - position).unwrap();
    Migrator::down(app.db.writer(), Some(steps)).await.expect("down");
    assert_eq!(
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events WHERE plan_task_id IS NOT NULL").await,
        1
    );
    let total = count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await;
    Migrator::up(app.db.writer(), None).await.expect("up");

    // Forward again: every stored event belongs to the connection's own calendar, which is both
    // the target and the only busy calendar.
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events").await, total);
    assert_eq!(stored_events_of(&app, "primary").await, total);
    let items = calendars(&app, token, &id).await;
    let busy: Vec<&Value> = items.iter().filter(|item| item["busy"] == true).collect();
    assert_eq!(busy.len(), 1);
    assert_eq!((&busy[0]["primary"], &busy[0]["target"]), (&json!(true), &json!(true)));
    let again = app.schedule_tasks_ok(&body, token).await;
    assert_eq!(again["events"][0]["status"], "unchanged", "the block is found where it was: {again}");
}

#[tokio::test]
async fn google_failures_answer_with_a_problem_and_change_nothing() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    let list = "/users/me/calendarList";
    fake.push_rule(
        FaultRule::new(Fault::Error { code: 403, reason: "forbidden".into(), message: "Forbidden".into() })
            .path(list),
    );
    let problem = assert_problem(app.get(&path(&id), Some(token)).await, StatusCode::BAD_GATEWAY).await;
    assert!(problem["detail"].as_str().unwrap().contains("Google Calendar"), "{problem}");

    fake.push_rule(FaultRule::new(Fault::BackendError).path(list).times(10));
    let response = app.patch_json(&path(&id), &json!({"busy": [TEAM]}), token).await;
    assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    fake.reset();
    assert_eq!(count_rows(&app, "SELECT COUNT(*) AS n FROM connection_calendars").await, 0, "nothing stored");

    fake.push_many([Fault::Unauthorized, Fault::Unauthorized]);
    let problem = assert_problem(app.get(&path(&id), Some(token)).await, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "calendar_needs_reauth");
    let response = app.patch_json(&path(&id), &json!({"busy": [TEAM]}), token).await;
    assert_eq!(assert_problem(response, StatusCode::CONFLICT).await["code"], "calendar_needs_reauth");
}

/// The connection's stored choice: its target calendar and its busy calendars.
async fn stored_choice(app: &TestApp) -> (i64, i64) {
    let busy = count_rows(app, "SELECT COUNT(*) AS n FROM connection_calendars").await;
    let targets = count_rows(
        app,
        "SELECT COUNT(*) AS n FROM calendar_connections WHERE target_calendar_id IS NOT NULL \
         AND target_calendar_id <> 'primary'",
    )
    .await;
    (busy, targets)
}

#[tokio::test]
async fn a_slow_google_is_a_504_on_listing_and_choosing_and_changes_nothing() {
    let (app, fake) = app_with_google(|s| {
        s.google.timeout_secs = 1;
        s.google.max_retries = 1;
    })
    .await;
    add_calendars(&fake);
    let user = app.signed_in_user().await;
    let id = app.connect_google(&user).await;
    let token = &user.access_token;
    let before = stored_choice(&app).await;
    // Every attempt at the calendar list (retries included) takes longer than the timeout.
    let slow = FaultRule::new(Fault::Latency(std::time::Duration::from_millis(2500)))
        .path("/users/me/calendarList")
        .times(10);

    fake.push_rule(slow.clone());
    let problem = assert_problem(app.get(&path(&id), Some(token)).await, StatusCode::GATEWAY_TIMEOUT).await;
    assert_eq!(problem["code"], "gateway_timeout", "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("did not answer in time"), "{problem}");

    fake.reset();
    fake.push_rule(slow);
    let body = json!({"busy": [TEAM, HOLIDAYS], "target": TEAM});
    let problem =
        assert_problem(app.patch_json(&path(&id), &body, token).await, StatusCode::GATEWAY_TIMEOUT).await;
    assert!(problem["detail"].as_str().unwrap().contains("Google Calendar"), "{problem}");
    fake.reset();
    assert_eq!(stored_choice(&app).await, before, "nothing stored");

    // Google answers again: the choice was never half-made.
    let items = calendars(&app, token, &id).await;
    assert_eq!(
        (&entry(&items, TEAM)["busy"], &entry(&items, TEAM)["target"]),
        (&json!(false), &json!(false))
    );
}

#[tokio::test]
async fn an_unreadable_calendar_list_is_a_502_and_changes_nothing() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    let list = "/users/me/calendarList";
    let before = stored_choice(&app).await;

    fake.push_rule(FaultRule::new(Fault::Malformed).path(list).times(10));
    let problem = assert_problem(app.get(&path(&id), Some(token)).await, StatusCode::BAD_GATEWAY).await;
    assert!(problem["detail"].as_str().unwrap().contains("Google Calendar"), "{problem}");
    let body = json!({"busy": [TEAM], "target": TEAM});
    let problem =
        assert_problem(app.patch_json(&path(&id), &body, token).await, StatusCode::BAD_GATEWAY).await;
    assert!(problem["detail"].as_str().unwrap().contains("Google Calendar"), "{problem}");
    fake.reset();

    // A refusal on choosing is a 502 too; an error page from Google (5xx) is a 503.
    fake.push_rule(
        FaultRule::new(Fault::Error { code: 403, reason: "forbidden".into(), message: "Forbidden".into() })
            .path(list),
    );
    assert_problem(app.patch_json(&path(&id), &body, token).await, StatusCode::BAD_GATEWAY).await;
    fake.push_rule(FaultRule::new(Fault::ServerError).path(list).times(10));
    let problem =
        assert_problem(app.get(&path(&id), Some(token)).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap().contains("Google Calendar"), "{problem}");
    fake.reset();
    assert_eq!(stored_choice(&app).await, before, "nothing stored");
}

#[tokio::test]
async fn a_busy_calendar_google_no_longer_has_stops_counting_without_failing_the_sync() {
    let (app, fake, user, id) = connected().await;
    let token = &user.access_token;
    all_day_meeting(&fake, TEAM, next_monday());
    select(&app, token, &id, &json!({"busy": ["primary", TEAM]})).await;
    poll_until(BACKGROUND, "the team calendar's events", || async {
        stored_events_of(&app, TEAM).await == 1
    })
    .await;
    poll_until(BACKGROUND, "the sync to finish", || async {
        count_rows(&app, "SELECT COUNT(*) AS n FROM job_leases WHERE name LIKE 'calendar-%sync:%'").await == 0
    })
    .await;

    fake.push_rule(
        FaultRule::new(Fault::Error { code: 404, reason: "notFound".into(), message: "Not Found".into() })
            .path("team"),
    );
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), token).await;
    assert_eq!(body["results"][0]["status"], "ok", "{body}");
    assert_eq!(body["results"][0]["removed"], 1, "{body}");
    assert_eq!(stored_events_of(&app, TEAM).await, 0);

    // Access to its events withdrawn is the same; a quota stop is not.
    fake.push_rule(
        FaultRule::new(Fault::Error { code: 403, reason: "forbidden".into(), message: "Forbidden".into() })
            .path("team"),
    );
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), token).await;
    assert_eq!(body["results"][0]["status"], "ok", "{body}");
    fake.push_rule(FaultRule::new(Fault::QuotaExceeded).path("team"));
    let body = app.sync_calendar_ok(&json!({"connection_id": id}), token).await;
    assert_ne!(body["results"][0]["status"], "ok", "{body}");
}

#[tokio::test]
async fn a_meeting_on_a_busy_calendar_moves_a_block_by_itself() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (app, fake) = app_with_google(move |s| {
        s.server.port = port;
        s.calendar.webhook_url = Some(webhook_url(port));
    })
    .await;
    add_calendars(&fake);
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let id = app.connect_google(&user).await;
    select(&app, token, &id, &json!({"busy": ["primary", TEAM]})).await;
    poll_until(BACKGROUND, "a channel on the team calendar", || async {
        fake.channels().iter().any(|c| c.calendar_id == TEAM && !c.stopped)
    })
    .await;
    let task = app.create_task_ok(&json!({"title": "Write the report", "estimate_minutes": 60}), token).await;
    let monday = next_monday();
    let body = json!({"task_ids": [task["id"]], "from": monday, "until": monday + TimeDelta::days(5)});
    app.schedule_tasks_ok(&body, token).await;
    let url = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let blocks = || async {
        let task: Value = app.get(&url, Some(token)).await.json().await.unwrap();
        task["blocks"].as_array().unwrap().clone()
    };
    let start = instant(&blocks().await[0]["start"]);

    let meeting = json!({"summary": "Team sync", "start": {"dateTime": start}, "end": {"dateTime": start + TimeDelta::hours(1)}});
    fake.insert_event(TEAM, meeting).unwrap();
    poll_until(BACKGROUND, "the block to move off the team meeting", || async {
        blocks().await.first().is_some_and(|block| instant(&block["start"]) != start)
    })
    .await;
    let moved = instant(&blocks().await[0]["start"]);
    assert!(
        moved >= start + TimeDelta::hours(1) || moved + TimeDelta::hours(1) <= start,
        "{moved} clear of {start}"
    );
}
