//! What keeps reads and writes fast as data grows: the window index behind upcoming events, busy
//! time and the feed; the SQLite write queue; sync pages stored in batches. Speed itself is
//! measured by `bench/compare.sh` and `bench/sync.sh`, never asserted here.

use chrono::{DateTime, Duration, NaiveTime, SubsecRound, TimeDelta, Utc};
use planwright_domain::EventData;
use planwright_store::{
    ConnectionTrait,
    repo::calendar::{self as repo, Applied, EventChange, Upserted},
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    calendar::titles,
    helpers::{TestApp, TestUser, app_with_google, spawn_app},
};

/// The built-in calendar of a connection, where these tests store their events.
fn local(connection_id: uuid::Uuid) -> repo::EventSource<'static> {
    repo::EventSource { connection_id, calendar_id: repo::LOCAL_CALENDAR_ID }
}

fn event(id: &str, title: &str, start: DateTime<Utc>, end: DateTime<Utc>) -> EventData {
    EventData::new(id, title, start, end)
}

async fn local_calendar(app: &TestApp, user: &TestUser) -> (Uuid, Uuid) {
    let user_id: Uuid = user.id.parse().expect("user id");
    let connections = repo::list_connections(app.db.conn(), user_id).await.expect("connections");
    (user_id, connections[0].id)
}

/// `count` events of 15 minutes to 3 hours, one every `every`, centred on now.
fn spread(count: usize, every: TimeDelta) -> Vec<EventChange> {
    let first = Utc::now() - every * i32::try_from(count / 2).expect("small count");
    (0..count)
        .map(|i| {
            let start = first + every * i32::try_from(i).expect("small count");
            let minutes = 15 * (1 + i64::try_from(i % 12).expect("small"));
            EventChange::Upsert(Box::new(event(
                &format!("evt{i}"),
                "Busy",
                start,
                start + TimeDelta::minutes(minutes),
            )))
        })
        .collect()
}

#[tokio::test]
async fn window_reads_use_the_window_index_on_both_databases() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let (user_id, connection_id) = local_calendar(&app, &user).await;
    let applied =
        repo::apply_changes(app.db.conn(), user_id, local(connection_id), spread(3_000, TimeDelta::hours(3)))
            .await
            .expect("events stored");
    assert_eq!(applied.len(), 3_000);
    app.db.conn().execute_unprepared("ANALYZE").await.expect("statistics");

    let now = Utc::now();
    let plan = repo::explain_events_between(app.db.conn(), user_id, now, now + TimeDelta::days(7), 20)
        .await
        .expect("explain");
    let text = plan.join("\n");
    assert!(text.contains("idx_calendar_events_window"), "the window index is used:\n{text}");
    assert!(
        plan.iter()
            .filter(|line| line.contains("USING") || line.contains("using"))
            .all(|line| line.contains("idx_calendar_events_window")),
        "every range reads the window index:\n{text}"
    );
    assert!(
        !plan
            .iter()
            .any(|line| line.contains("Seq Scan") || line.trim_start().starts_with("SCAN calendar_events")),
        "no step reads the whole table:\n{text}"
    );
    // SQLite names a sort it cannot avoid; every term must come in the index's own order.
    assert!(!text.contains("TEMP B-TREE"), "no term sorts its rows:\n{text}");
}

#[tokio::test]
async fn upcoming_finds_ongoing_events_of_every_length_and_skips_ended_ones() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let (user_id, connection_id) = local_calendar(&app, &user).await;
    let now = Utc::now();
    let h = TimeDelta::hours;
    let today = now.date_naive();
    let mut all_day = event("all-day", "All day today", today.and_time(NaiveTime::MIN).and_utc(), now);
    all_day.end = all_day.start + TimeDelta::days(1);
    all_day.all_day = true;
    all_day.start_date = Some(today);
    all_day.end_date = today.succ_opt();
    // Many ended events of each length before now, so a read that does not stop at the window
    // would return them (or be cut off by them).
    let mut changes = spread(400, TimeDelta::minutes(20))
        .into_iter()
        .filter_map(|change| match change {
            EventChange::Upsert(mut data) if data.start < now - h(4) => {
                data.end = data.start + TimeDelta::minutes(10);
                Some(EventChange::Upsert(data))
            }
            _ => None,
        })
        .collect::<Vec<_>>();
    for data in [
        event("ended", "Ended an hour ago", now - h(3), now - h(1)),
        event("short", "Half-hour call", now - TimeDelta::minutes(15), now + TimeDelta::minutes(15)),
        event("days", "Three-day workshop", now - h(48), now + h(24)),
        event("weeks", "Six-week course", now - Duration::weeks(5), now + Duration::weeks(1)),
        event("years", "Three-year degree", now - Duration::days(730), now + Duration::days(365)),
        event("soon", "Soon", now + h(1), now + h(2)),
        event("later", "Next month", now + Duration::days(30), now + Duration::days(30) + h(1)),
        all_day,
    ] {
        changes.push(EventChange::Upsert(Box::new(data)));
    }
    repo::apply_changes(app.db.conn(), user_id, local(connection_id), changes).await.expect("events stored");

    let mut names = titles(&app.upcoming_ok("limit=50&days=7", &user.access_token).await);
    names.sort();
    assert_eq!(
        names,
        [
            "All day today",
            "Half-hour call",
            "Six-week course",
            "Soon",
            "Three-day workshop",
            "Three-year degree"
        ],
    );
    let first = titles(&app.upcoming_ok("limit=2&days=7", &user.access_token).await);
    assert_eq!(first, ["Three-year degree", "Six-week course"], "earliest start first, limit applied");
}

#[tokio::test]
async fn a_sync_page_applies_inserts_updates_and_deletes_in_one_batch() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let (user_id, connection_id) = local_calendar(&app, &user).await;
    // Whole seconds, as Google sends them (PostgreSQL keeps microseconds only).
    let now = Utc::now().trunc_subsecs(0);
    let first = vec![
        EventChange::Upsert(Box::new(event("a", "A", now + TimeDelta::hours(1), now + TimeDelta::hours(2)))),
        EventChange::Upsert(Box::new(event("b", "B", now + TimeDelta::hours(3), now + TimeDelta::hours(4)))),
        EventChange::Delete("never-stored".to_owned()),
    ];
    let applied =
        repo::apply_changes(app.db.conn(), user_id, local(connection_id), first).await.expect("page 1");
    assert!(matches!(applied[0], Applied::Upserted(_, Upserted::Added)));
    assert!(matches!(applied[1], Applied::Upserted(_, Upserted::Added)));
    assert!(matches!(applied[2], Applied::Absent));

    let second = vec![
        EventChange::Upsert(Box::new(event(
            "a",
            "A moved",
            now + TimeDelta::hours(5),
            now + TimeDelta::hours(6),
        ))),
        EventChange::Delete("b".to_owned()),
        EventChange::Upsert(Box::new(event("c", "C", now + TimeDelta::hours(7), now + TimeDelta::hours(8)))),
        EventChange::Upsert(Box::new(event(
            "c",
            "C twice",
            now + TimeDelta::hours(7),
            now + TimeDelta::hours(8),
        ))),
    ];
    let applied =
        repo::apply_changes(app.db.conn(), user_id, local(connection_id), second).await.expect("page 2");
    assert!(matches!(&applied[0], Applied::Upserted(e, Upserted::Updated) if e.data.title == "A moved"));
    assert!(matches!(&applied[1], Applied::Removed(e) if e.data.provider_event_id == "b"));
    assert!(matches!(&applied[3], Applied::Upserted(e, Upserted::Added) if e.data.title == "C twice"));

    let mut names = titles(&app.upcoming_ok("limit=50&days=2", &user.access_token).await);
    names.sort();
    assert_eq!(names, ["A moved", "C twice"]);
    let unchanged = repo::apply_changes(
        app.db.conn(),
        user_id,
        local(connection_id),
        vec![EventChange::Upsert(Box::new(event(
            "a",
            "A moved",
            now + TimeDelta::hours(5),
            now + TimeDelta::hours(6),
        )))],
    )
    .await
    .expect("page 3");
    assert!(matches!(unchanged[0], Applied::Upserted(_, Upserted::Unchanged)), "{unchanged:?}");
}

#[tokio::test]
async fn concurrent_writes_all_land() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let writes = (0..60).map(|i| {
        let app = &app;
        let token = user.access_token.clone();
        async move {
            let body = json!({"title": format!("Task {i}")});
            app.create_task(&body, &token).await.status()
        }
    });
    let reads = (0..20).map(|_| async { app.list_tasks("limit=5", &user.access_token).await.status() });
    let (written, read) =
        tokio::join!(futures_util::future::join_all(writes), futures_util::future::join_all(reads));
    assert!(written.iter().all(|s| *s == StatusCode::CREATED), "{written:?}");
    assert!(read.iter().all(|s| *s == StatusCode::OK), "{read:?}");
    let all: Value = app.list_tasks("limit=100", &user.access_token).await.json().await.unwrap();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(60), "{all}");
}

#[tokio::test]
async fn an_incremental_sync_of_ten_changes_is_one_request_after_a_paged_full_sync() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = app.signed_in_user().await;
    let email = fake.account_email();
    let base = Utc::now() + TimeDelta::hours(1);
    let mut ids = Vec::new();
    for i in 0..600 {
        let start = base + TimeDelta::minutes(20 * i);
        let body = json!({
            "summary": format!("Seeded {i}"),
            "start": {"dateTime": start.to_rfc3339()},
            "end": {"dateTime": (start + TimeDelta::minutes(15)).to_rfc3339()},
        });
        ids.push(fake.insert_event(&email, body).unwrap()["id"].as_str().unwrap().to_owned());
    }
    let id = app.connect_google(&user).await;
    let listed = |requests: &[planwright_tests::fake_google::RecordedRequest]| {
        requests.iter().filter(|r| r.path.ends_with("/events") && r.method == "GET").count()
    };
    assert!(listed(&fake.requests()) >= 3, "600 events come in pages of at most 250");
    let stored = app
        .db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.conn().get_database_backend(),
            "SELECT COUNT(*) AS n FROM calendar_events WHERE provider_event_id LIKE '%'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(stored, 600, "every event stored by the full sync");

    for changed in &ids[..5] {
        fake.update_event(&email, changed, json!({"summary": "Changed"})).unwrap();
    }
    for gone in &ids[5..7] {
        fake.delete_event(&email, gone).unwrap();
    }
    for i in 0..3 {
        let start = base - TimeDelta::minutes(30 + i);
        fake.insert_event(
            &email,
            json!({"summary": "New", "start": {"dateTime": start.to_rfc3339()},
                   "end": {"dateTime": (start + TimeDelta::hours(1)).to_rfc3339()}}),
        )
        .unwrap();
    }
    let before = listed(&fake.requests());
    let body = app.sync_calendar_ok(&json!({}), &user.access_token).await;
    let google =
        body["results"].as_array().unwrap().iter().find(|r| r["connection_id"] == id.as_str()).unwrap();
    assert_eq!(
        (google["added"].as_u64(), google["updated"].as_u64(), google["removed"].as_u64()),
        (Some(3), Some(5), Some(2)),
        "{body}"
    );
    assert_eq!(listed(&fake.requests()) - before, 1, "ten changes come in one request");
    let names = titles(&app.upcoming_ok("limit=3&days=1", &user.access_token).await);
    assert_eq!(names, ["New", "New", "New"]);
}

/// Upcoming events read each term of the window only as far as the answer needs; over random
/// calendars (timed events of every length, all-day events of one to three days) in zones from
/// UTC−11 to UTC+14, the answer must equal the one worked out from every event.
#[tokio::test]
async fn upcoming_matches_every_event_placed_by_hand_in_any_zone() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let (user_id, connection_id) = local_calendar(&app, &user).await;
    let now = Utc::now();
    // Off every quarter hour (zones' midnights fall on one), and at least minutes from now.
    let base = now.trunc_subsecs(0) + TimeDelta::minutes(7) + TimeDelta::seconds(13);
    let mut seed: u64 = 0x5eed_1234;
    let mut next = |below: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below
    };
    let mut changes = Vec::new();
    let mut used_days = std::collections::HashSet::new();
    for i in 0..240_i64 {
        if next(4) == 0 {
            let day = now.date_naive() + TimeDelta::days(i64::try_from(next(24)).unwrap() - 8);
            if !used_days.insert(day) {
                continue;
            }
            let days = 1 + i64::try_from(next(3)).unwrap();
            let start = day.and_time(NaiveTime::MIN).and_utc();
            let mut data =
                event(&format!("e{i}"), &format!("all-day {i}"), start, start + TimeDelta::days(days));
            data.all_day = true;
            data.start_date = Some(day);
            data.end_date = Some(day + TimeDelta::days(days));
            changes.push(EventChange::Upsert(Box::new(data)));
        } else {
            // Unique starts, 15 minutes apart, from 10 days ago to 12 days ahead.
            let start = base + TimeDelta::minutes(15 * (i * 8 - 960));
            let minutes = [15, 45, 90, 300, 1_440, 4_320, 14_400][usize::try_from(next(7)).unwrap()];
            let end = start + TimeDelta::minutes(minutes);
            changes.push(EventChange::Upsert(Box::new(event(
                &format!("e{i}"),
                &format!("timed {i}"),
                start,
                end,
            ))));
        }
    }
    let events: Vec<EventData> = changes
        .iter()
        .map(|change| match change {
            EventChange::Upsert(data) => (**data).clone(),
            EventChange::Delete(_) => unreachable!("only upserts"),
        })
        .collect();
    repo::apply_changes(app.db.conn(), user_id, local(connection_id), changes).await.expect("events stored");

    for zone in [
        "Pacific/Pago_Pago",
        "America/New_York",
        "UTC",
        "Asia/Kolkata",
        "Australia/Eucla",
        "Pacific/Kiritimati",
    ] {
        let answer = app.update_me(&json!({"timezone": zone}), &user.access_token).await;
        assert_eq!(answer.status(), StatusCode::OK, "{zone}");
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let midnight = |date: chrono::NaiveDate| {
            date.and_time(NaiveTime::MIN).and_local_timezone(tz).earliest().unwrap().with_timezone(&Utc)
        };
        for (limit, days) in [(1, 1), (3, 2), (10, 7), (25, 7), (100, 30), (100, 1), (100, 2), (100, 3)] {
            let until = Utc::now() + TimeDelta::days(days);
            let mut expected: Vec<(DateTime<Utc>, DateTime<Utc>, &str)> = events
                .iter()
                .map(|e| match (e.all_day, e.start_date, e.end_date) {
                    (true, Some(first), Some(end)) => (midnight(first), midnight(end), e.title.as_str()),
                    _ => (e.start, e.end, e.title.as_str()),
                })
                .filter(|(start, end, _)| *end > now && *start < until)
                .collect();
            expected.sort();
            expected.truncate(limit);
            let expected: Vec<&str> = expected.iter().map(|(_, _, title)| *title).collect();
            let got =
                titles(&app.upcoming_ok(&format!("limit={limit}&days={days}"), &user.access_token).await);
            assert_eq!(got, expected, "{zone}, limit {limit}, {days} days");
        }
    }
}

/// Chat grounding's plan search reads the matching plans, their tasks and the tasks' blocks in
/// three statements, however many plans match (each candidate used to be read on its own: three
/// statements a plan).
#[tokio::test]
async fn plan_search_takes_the_same_statements_for_one_match_as_for_twelve() {
    use std::sync::atomic::Ordering;

    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let user_id: Uuid = user.id.parse().expect("user id");
    let (counted, statements) = app.counting_db();
    let mut created = 0;
    let mut counts = Vec::new();
    for plans in [1, 12] {
        while created < plans {
            let body = json!({"goal": format!("Learn Rust, part {created}"), "duration_days": 2});
            app.create_plan_ok(&body, &user.access_token).await;
            created += 1;
        }
        statements.store(0, Ordering::Relaxed);
        let found = planwright_store::repo::plans::search(counted.conn(), user_id, "learn rust", 20)
            .await
            .expect("search");
        assert_eq!(found.len(), plans);
        assert!(found.iter().all(|plan| !plan.tasks.is_empty()), "each plan comes with its tasks");
        let newest_first: Vec<Uuid> = found.iter().map(|plan| plan.id).collect();
        assert!(newest_first.windows(2).all(|pair| pair[0] > pair[1]), "equal scores: newest first");
        counts.push(statements.load(Ordering::Relaxed));
    }
    assert_eq!(counts, vec![3, 3], "statements for 1 and for 12 matching plans");
}

/// A new plan is stored in a fixed number of statements however many tasks it has (its tasks come
/// back from their insert, where they were read again with their blocks), and a source's new
/// chunks for search go in with one insert (they went in one statement each).
#[tokio::test]
async fn a_new_plan_and_its_chunks_take_the_same_statements_for_two_tasks_as_for_forty() {
    use std::sync::atomic::Ordering;

    use planwright_domain::{DurationDays, Goal, NewPlan, PlanTaskDraft, TokenUsage};
    use planwright_store::repo::{
        embeddings::{self, ChunkSource, NewChunk},
        plans,
    };

    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let user_id: Uuid = user.id.parse().expect("user id");
    let (counted, statements) = app.counting_db();
    let mut counts = Vec::new();
    for size in [2u16, 40] {
        let tasks: Vec<PlanTaskDraft> = (0..size)
            .map(|n| PlanTaskDraft {
                title: format!("Step {n}"),
                description: format!("Do part {n}."),
                day_offset: n % 7,
                duration_minutes: 30 + n,
            })
            .collect();
        let plan = NewPlan {
            id: None,
            goal: Goal::parse(&format!("Learn to sail in {size} steps")).expect("goal"),
            duration_days: DurationDays::parse(7).expect("days"),
            context: json!({}),
            start_date: None,
            summary: "Sail.".to_owned(),
            model: "offline".to_owned(),
            model_version: None,
            notes: Vec::new(),
            usage: TokenUsage::default(),
            tasks: tasks.clone(),
        };
        let charge = (Utc::now().date_naive(), &TokenUsage::default());
        statements.store(0, Ordering::Relaxed);
        let created = plans::create(counted.conn(), user_id, plan, charge).await.expect("plan stored");
        let plan_statements = statements.load(Ordering::Relaxed);
        let stored: Vec<(String, String, u16, u16)> = created
            .tasks
            .iter()
            .map(|t| (t.title.clone(), t.description.clone(), t.day_offset, t.duration_minutes))
            .collect();
        let drafted: Vec<(String, String, u16, u16)> =
            tasks.into_iter().map(|t| (t.title, t.description, t.day_offset, t.duration_minutes)).collect();
        assert_eq!(stored, drafted, "the answer holds the tasks in their order");
        let read = plans::find(app.db.conn(), user_id, created.id).await.expect("plan read");
        assert_eq!(read.tasks, created.tasks, "as a later read finds them");

        let chunks: Vec<NewChunk> = (0..i32::from(size))
            .map(|n| NewChunk {
                position: n,
                heading: String::new(),
                content: format!("Step {n}"),
                content_hash: format!("{}-{n}", created.id),
            })
            .collect();
        statements.store(0, Ordering::Relaxed);
        let report =
            embeddings::replace_chunks(counted.conn(), ChunkSource::Plan(created.id), Some(user_id), chunks)
                .await
                .expect("chunks stored");
        assert_eq!(report.added, usize::from(size));
        counts.push((plan_statements, statements.load(Ordering::Relaxed)));
    }
    // The plan: its row, its tasks, its cost. The chunks: the stored hashes, the stored rows, one
    // insert. (Transactions' BEGIN and COMMIT are not counted.)
    assert_eq!(counts, vec![(3, 3), (3, 3)], "(plan, chunks) statements for 2 and for 40 tasks");
}
