//! One task model (a plan's tasks are tasks) and scheduling any tasks: deadlines, priorities,
//! splitting, at-risk work, idempotent writes on the built-in calendar and on Google.

use chrono::{DateTime, TimeDelta, Utc};
use migration::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    calendar::count_rows,
    helpers::{
        TestApp, TestUser, app_with_google, assert_problem, error_fields, instant, next_monday, spawn_app,
    },
};

/// A user working 09:00–17:00 UTC, Monday to Friday (the defaults), in UTC.
async fn utc_user(app: &TestApp) -> TestUser {
    let user = app.signed_in_user().await;
    let response = app.update_me(&json!({"timezone": "UTC"}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    user
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

/// The placements of one task, in chunk order: `(chunk, chunks, start, end)`.
fn chunks_of(result: &Value, task_id: &str) -> Vec<(u64, u64, DateTime<Utc>, DateTime<Utc>)> {
    let mut chunks: Vec<_> = result["placements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["task_id"] == task_id)
        .map(|p| {
            (
                p["chunk"].as_u64().unwrap(),
                p["chunks"].as_u64().unwrap(),
                instant(&p["start"]),
                instant(&p["end"]),
            )
        })
        .collect();
    chunks.sort_by_key(|chunk| chunk.0);
    chunks
}

fn minutes(chunks: &[(u64, u64, DateTime<Utc>, DateTime<Utc>)]) -> i64 {
    chunks.iter().map(|(_, _, start, end)| (*end - *start).num_minutes()).sum()
}

fn write_statuses(result: &Value) -> Vec<String> {
    result["events"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn plans_keep_their_task_ids_and_calendar_links_through_the_move_to_one_task_model() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let plan =
        app.create_plan_ok(&json!({"goal": "Learn graph algorithms", "duration_days": 3}), token).await;
    let plan_id = id(&plan);
    let start = next_monday().date_naive();
    let first = app.schedule_ok(plan_id, &json!({"start_date": start}), token).await;
    assert!(write_statuses(&first).iter().all(|s| s == "created"), "{first}");
    let before = app.get_plan_ok(plan_id, token).await;
    let events =
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events WHERE plan_task_id IS NOT NULL").await;

    // Back to the schema with `plan_tasks`, and forward again: the migration moves real rows.
    let migrations = Migrator::migrations();
    let position = migrations.iter().position(|m| m.name().ends_with("unify_tasks")).expect("the migration");
    let steps = u32::try_from(migrations.len() - position).unwrap();
    Migrator::down(app.db.writer(), Some(steps)).await.expect("down");
    let moved_back = count_rows(&app, "SELECT COUNT(*) AS n FROM plan_tasks").await;
    assert_eq!(moved_back, i64::try_from(before["tasks"].as_array().unwrap().len()).unwrap());
    Migrator::up(app.db.writer(), None).await.expect("up");

    let after = app.get_plan_ok(plan_id, token).await;
    let fields = [
        "id",
        "position",
        "title",
        "description",
        "day_offset",
        "duration_minutes",
        "scheduled_start",
        "scheduled_end",
        "calendar_event_id",
    ];
    for (old, new) in before["tasks"].as_array().unwrap().iter().zip(after["tasks"].as_array().unwrap()) {
        for field in fields {
            assert_eq!(old[field], new[field], "{field} of {old}");
        }
        assert!(new["calendar_event_id"].is_string(), "the calendar link survives: {new}");
    }
    assert_eq!(before["tasks"].as_array().unwrap().len(), after["tasks"].as_array().unwrap().len());
    // The same events are found again: nothing new is written.
    let again = app.schedule_ok(plan_id, &json!({"start_date": start}), token).await;
    assert!(write_statuses(&again).iter().all(|s| s == "unchanged"), "{again}");
    let events_after =
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events WHERE plan_task_id IS NOT NULL").await;
    assert_eq!(events_after, events);
}

#[tokio::test]
async fn a_plans_tasks_are_tasks_of_the_task_manager() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let plan = app.create_plan_ok(&json!({"goal": "Write a thesis", "duration_days": 3}), token).await;
    let plan_id = id(&plan);
    let task_ids: Vec<&str> = plan["tasks"].as_array().unwrap().iter().map(id).collect();
    assert!(task_ids.len() >= 2, "{plan}");

    let listed: Value = app.list_tasks(&format!("plan_id={plan_id}"), token).await.json().await.unwrap();
    let listed_ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(listed_ids, task_ids, "the plan's tasks, in the plan's order");
    let first: Value = app.get_task(task_ids[0], token).await.json().await.unwrap();
    assert_eq!(first["plan_id"], plan_id);
    assert_eq!(first["estimate_minutes"], plan["tasks"][0]["duration_minutes"]);
    assert_eq!((first["priority"].as_str(), first["min_chunk_minutes"].as_u64()), (Some("normal"), Some(30)));

    // Ticked off and prioritised through /tasks, seen in the plan.
    let change = json!({"status": "done", "priority": "high", "due_at": "2030-01-07T17:00:00+01:00"});
    assert_eq!(app.update_task(task_ids[0], &change, token).await.status(), StatusCode::OK);
    let seen = app.get_plan_ok(plan_id, token).await;
    assert_eq!(seen["tasks"][0]["status"], "done");
    assert_eq!(seen["tasks"][0]["priority"], "high");
    assert_eq!(seen["tasks"][0]["due_at"], "2030-01-07T16:00:00Z");

    // Breaking a plan task down: its steps belong to the plan but are not tasks of its list.
    let response = app.breakdown_task(task_ids[1], &json!({"save": true}), token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let steps: Value = response.json().await.unwrap();
    let steps = steps["tasks"].as_array().unwrap().clone();
    assert!(steps.len() >= 2);
    for step in &steps {
        assert_eq!(
            (step["plan_id"].as_str(), step["parent_id"].as_str()),
            (Some(plan_id), Some(task_ids[1]))
        );
    }
    let seen = app.get_plan_ok(plan_id, token).await;
    assert_eq!(seen["tasks"].as_array().unwrap().len(), task_ids.len());

    // A task added through /tasks joins the end of the plan.
    let added = app
        .create_task_ok(&json!({"title": "Print it", "estimate_minutes": 20, "plan_id": plan_id}), token)
        .await;
    let seen = app.get_plan_ok(plan_id, token).await;
    let last = seen["tasks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["id"].as_str(), last["duration_minutes"].as_u64()), (Some(id(&added)), Some(20)));

    // Deleting the plan deletes its tasks and their steps.
    assert_eq!(app.delete_plan(plan_id, token).await.status(), StatusCode::NO_CONTENT);
    for gone in [task_ids[0], id(&steps[0]), id(&added)] {
        assert_eq!(app.get_task(gone, token).await.status(), StatusCode::NOT_FOUND, "{gone}");
    }
}

#[tokio::test]
async fn a_plan_edit_keeps_what_it_leaves_out_and_new_tasks_need_their_fields() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let plan = app.create_plan_ok(&json!({"goal": "Learn Rust", "duration_days": 3}), token).await;
    let plan_id = id(&plan);
    let kept = plan["tasks"][0].clone();
    let dropped = id(&plan["tasks"][1]).to_owned();
    assert!(!kept["description"].as_str().unwrap().is_empty(), "the offline planner describes its tasks");
    let change = json!({"priority": "urgent"});
    assert_eq!(app.update_task(id(&kept), &change, token).await.status(), StatusCode::OK);

    let edit = json!({"tasks": [
        {"id": id(&kept), "title": "Read the book, properly"},
        {"title": "Build a CLI", "day_offset": 2, "duration_minutes": 120}
    ]});
    let response = app.update_plan(plan_id, &edit, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    let tasks = edited["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["id"], kept["id"]);
    assert_eq!(tasks[0]["title"], "Read the book, properly");
    for field in ["description", "day_offset", "duration_minutes"] {
        assert_eq!(tasks[0][field], kept[field], "{field} is kept");
    }
    assert_eq!(tasks[0]["priority"], "urgent", "what only /tasks sets is kept too");
    assert_eq!((tasks[1]["title"].as_str(), tasks[1]["position"].as_u64()), (Some("Build a CLI"), Some(1)));
    assert_eq!(app.get_task(&dropped, token).await.status(), StatusCode::NOT_FOUND);

    let incomplete =
        json!({"tasks": [{"title": "No day", "duration_minutes": 30}, {"id": id(&kept), "day_offset": 9}]});
    let problem =
        assert_problem(app.update_plan(plan_id, &incomplete, token).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(error_fields(&problem), ["tasks[0].day_offset", "tasks[1].day_offset"]);
}

#[tokio::test]
async fn deadlines_come_before_priority_long_work_is_split_and_late_work_is_at_risk() {
    let app = spawn_app().await;
    let user = utc_user(&app).await;
    let token = &user.access_token;
    let monday = next_monday();
    let at = |days: i64, hours: i64| (monday + TimeDelta::days(days) + TimeDelta::hours(hours)).to_rfc3339();
    let report = app
        .create_task_ok(&json!({"title": "Report", "estimate_minutes": 600, "min_chunk_minutes": 60}), token)
        .await;
    let taxes = app
        .create_task_ok(&json!({"title": "Taxes", "estimate_minutes": 60, "due_at": at(0, 17)}), token)
        .await;
    let slides = app
        .create_task_ok(
            &json!({"title": "Slides", "estimate_minutes": 60, "priority": "high", "due_at": at(4, 17)}),
            token,
        )
        .await;
    let body = json!({"from": at(0, 0), "until": at(14, 0), "dry_run": true});
    let result = app.schedule_tasks_ok(&body, token).await;

    // A normal task due today goes before a high one due on Friday; work without a deadline last.
    let (taxes_at, slides_at) = (chunks_of(&result, id(&taxes)), chunks_of(&result, id(&slides)));
    assert_eq!(taxes_at[0].2, monday + TimeDelta::hours(9), "{result}");
    assert!(taxes_at[0].3 <= instant(&json!(at(0, 17))));
    assert!(slides_at[0].2 > taxes_at[0].3, "deadline before priority: {result}");
    // Ten hours with a six-hour daily cap: split into chunks of at least an hour, numbered in order.
    let report_at = chunks_of(&result, id(&report));
    assert!(report_at.len() >= 2, "{result}");
    assert_eq!(minutes(&report_at), 600);
    for (index, (chunk, chunks, start, end)) in report_at.iter().enumerate() {
        assert_eq!(
            (*chunk, *chunks),
            (u64::try_from(index).unwrap(), u64::try_from(report_at.len()).unwrap())
        );
        assert!((*end - *start).num_minutes() >= 60, "{result}");
        assert!(*start >= slides_at[0].3, "no deadline: after the work that has one");
    }
    assert!(
        result["at_risk"].as_array().unwrap().is_empty()
            && result["unscheduled"].as_array().unwrap().is_empty()
    );
    assert!(result["events"].as_array().unwrap().is_empty(), "a dry run writes nothing");

    // Fifteen hours due Tuesday noon: Monday's six and Tuesday's three fit, six hours are missing.
    let thesis = app
        .create_task_ok(&json!({"title": "Thesis", "estimate_minutes": 900, "due_at": at(1, 12)}), token)
        .await;
    let late = app
        .create_task_ok(&json!({"title": "Late", "estimate_minutes": 30, "due_at": at(-1, 12)}), token)
        .await;
    let done =
        app.create_task_ok(&json!({"title": "Done", "estimate_minutes": 30, "status": "done"}), token).await;
    let body = json!({"task_ids": [id(&thesis), id(&late), id(&done)], "from": at(0, 0), "until": at(14, 0), "dry_run": true});
    let result = app.schedule_tasks_ok(&body, token).await;
    let at_risk = result["at_risk"].as_array().unwrap();
    assert_eq!(at_risk.len(), 1, "{result}");
    assert_eq!(
        (at_risk[0]["task_id"].as_str(), at_risk[0]["minutes_missing"].as_u64()),
        (Some(id(&thesis)), Some(360))
    );
    assert!(at_risk[0]["detail"].as_str().unwrap().contains("360"), "{result}");
    assert_eq!(minutes(&chunks_of(&result, id(&thesis))), 900, "still placed in full, as early as possible");
    let tuesday = (monday + TimeDelta::days(1)).date_naive();
    let overcommitted = result["overcommitted_days"].as_array().unwrap();
    assert!(
        overcommitted.iter().any(|day| day["date"] == json!(tuesday) && day["detail"].is_string()),
        "{result}"
    );
    let mut reasons: Vec<(String, String)> = result["unscheduled"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["task_id"].as_str().unwrap().to_owned(), u["reason"].as_str().unwrap().to_owned()))
        .collect();
    reasons.sort();
    let mut expected = vec![
        (id(&late).to_owned(), "deadline_unreachable".to_owned()),
        (id(&done).to_owned(), "done".to_owned()),
    ];
    expected.sort();
    assert_eq!(reasons, expected);
}

#[tokio::test]
async fn scheduling_tasks_twice_writes_each_chunk_once_and_drops_chunks_no_longer_needed() {
    let app = spawn_app().await;
    let user = utc_user(&app).await;
    let token = &user.access_token;
    let monday = next_monday();
    let window = json!({"from": monday.to_rfc3339(), "until": (monday + TimeDelta::days(14)).to_rfc3339()});
    let report = app
        .create_task_ok(&json!({"title": "Report", "estimate_minutes": 600, "min_chunk_minutes": 60}), token)
        .await;
    app.create_task_ok(&json!({"title": "Call the bank", "estimate_minutes": 15}), token).await;
    app.create_task_ok(&json!({"title": "No estimate"}), token).await;

    let first = app.schedule_tasks_ok(&window, token).await;
    let placed = first["placements"].as_array().unwrap().len();
    assert_eq!(write_statuses(&first), vec!["created"; placed], "{first}");
    assert!(chunks_of(&first, id(&report)).len() >= 2);
    let stored =
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events WHERE plan_task_id IS NOT NULL").await;
    assert_eq!(
        stored,
        i64::try_from(placed).unwrap(),
        "one event per chunk; the task without an estimate waits"
    );

    let second = app.schedule_tasks_ok(&window, token).await;
    assert_eq!(write_statuses(&second), vec!["unchanged"; placed], "{second}");
    assert!(second["removed_events"].as_array().unwrap().is_empty());
    let task: Value = app.get_task(id(&report), token).await.json().await.unwrap();
    assert_eq!(task["blocks"].as_array().unwrap().len(), chunks_of(&second, id(&report)).len(), "{task}");

    // Shorter now: one chunk is enough, the others' events go.
    let change = json!({"estimate_minutes": 90});
    assert_eq!(app.update_task(id(&report), &change, token).await.status(), StatusCode::OK);
    let third = app.schedule_tasks_ok(&window, token).await;
    let removed = third["removed_events"].as_array().unwrap();
    assert_eq!(removed.len(), chunks_of(&first, id(&report)).len() - 1, "{third}");
    assert!(removed.iter().all(|event| event["task_id"] == report["id"]));
    let stored_now =
        count_rows(&app, "SELECT COUNT(*) AS n FROM calendar_events WHERE plan_task_id IS NOT NULL").await;
    assert_eq!(stored_now, i64::try_from(third["placements"].as_array().unwrap().len()).unwrap());
}

#[tokio::test]
async fn a_google_rerun_after_a_split_changes_only_what_changed() {
    let (app, fake) = app_with_google(|_| {}).await;
    let user = utc_user(&app).await;
    app.connect_google(&user).await;
    let token = &user.access_token;
    let monday = next_monday();
    let window = json!({"from": monday.to_rfc3339(), "until": (monday + TimeDelta::days(14)).to_rfc3339()});
    let first_task = app
        .create_task_ok(&json!({"title": "Taxes", "estimate_minutes": 60, "due_at": (monday + TimeDelta::hours(17)).to_rfc3339()}), token)
        .await;
    let report = app
        .create_task_ok(&json!({"title": "Report", "estimate_minutes": 600, "min_chunk_minutes": 60}), token)
        .await;
    let live = |fake: &planwright_tests::fake_google::FakeGoogle| {
        fake.events(&fake.account_email()).into_iter().filter(|e| e["status"] != "cancelled").count()
    };

    let first = app.schedule_tasks_ok(&window, token).await;
    let report_chunks = chunks_of(&first, id(&report)).len();
    assert!(report_chunks >= 2, "{first}");
    assert_eq!(live(&fake), first["placements"].as_array().unwrap().len());
    let titles: Vec<String> = fake
        .events(&fake.account_email())
        .iter()
        .filter_map(|e| e["summary"].as_str().map(str::to_owned))
        .collect();
    assert!(titles.contains(&format!("Report (1/{report_chunks})")), "{titles:?}");

    // Renaming the report touches its chunks only.
    assert_eq!(
        app.update_task(id(&report), &json!({"title": "Annual report"}), token).await.status(),
        StatusCode::OK
    );
    let renamed = app.schedule_tasks_ok(&window, token).await;
    for event in renamed["events"].as_array().unwrap() {
        let expected = if event["task_id"] == report["id"] { "updated" } else { "unchanged" };
        assert_eq!(event["status"], expected, "{event}");
    }
    assert!(renamed["events"].as_array().unwrap().iter().any(|e| e["task_id"] == first_task["id"]));

    // Shorter: the chunks no longer needed are deleted at Google, the rest stays.
    assert_eq!(
        app.update_task(id(&report), &json!({"estimate_minutes": 60}), token).await.status(),
        StatusCode::OK
    );
    let shorter = app.schedule_tasks_ok(&window, token).await;
    assert_eq!(shorter["removed_events"].as_array().unwrap().len(), report_chunks - 1, "{shorter}");
    assert_eq!(live(&fake), 2);
    let again = app.schedule_tasks_ok(&window, token).await;
    assert_eq!(write_statuses(&again), ["unchanged", "unchanged"]);
}

#[tokio::test]
async fn bad_task_schedules_are_refused_naming_the_field() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let token = &user.access_token;
    let theirs =
        app.create_task_ok(&json!({"title": "Theirs", "estimate_minutes": 30}), &other.access_token).await;
    let monday = next_monday();
    let too_long = (monday + TimeDelta::days(400)).to_rfc3339();
    let cases = [
        (json!({"task_ids": [id(&theirs)]}), "task_ids[0]"),
        (json!({"task_ids": ["not-a-uuid"]}), "task_ids[0]"),
        (json!({"from": monday.to_rfc3339(), "until": monday.to_rfc3339()}), "until"),
        (json!({"from": monday.to_rfc3339(), "until": too_long}), "until"),
        (json!({"from": "2027-01-04"}), "from"),
        (json!({"timezone": "Mars/Base"}), "timezone"),
        (json!({"task_ids": vec![uuid::Uuid::nil(); 501]}), "task_ids"),
    ];
    for (body, field) in cases {
        let problem =
            assert_problem(app.schedule_tasks(&body, token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    for (body, field) in [
        (json!({"title": "T", "min_chunk_minutes": 5}), "min_chunk_minutes"),
        (json!({"title": "T", "priority": "asap"}), "priority"),
    ] {
        let problem =
            assert_problem(app.create_task(&body, token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    let nothing = app.schedule_tasks_ok(&json!({"dry_run": true}), token).await;
    assert!(nothing["placements"].as_array().unwrap().is_empty(), "no open task with an estimate");
}

#[tokio::test]
async fn plan_my_week_over_two_plans_keeps_each_plans_days_and_names_its_goal() {
    let app = spawn_app().await;
    let user = utc_user(&app).await;
    let token = &user.access_token;
    let monday = next_monday();
    let rust = app.create_plan_ok(&json!({"goal": "Learn Rust", "duration_days": 3}), token).await;
    let garden = app.create_plan_ok(&json!({"goal": "Plant the garden", "duration_days": 2}), token).await;
    // Scheduling the first plan from a week later gives it that start date.
    let later = (monday + TimeDelta::days(7)).date_naive();
    app.schedule_ok(id(&rust), &json!({"start_date": later}), token).await;

    let plan_tasks = |plan: &Value| plan["tasks"].as_array().unwrap().clone();
    let task_ids: Vec<Value> =
        plan_tasks(&rust).iter().chain(&plan_tasks(&garden)).map(|t| t["id"].clone()).collect();
    let body = json!({"task_ids": task_ids, "from": monday, "until": monday + TimeDelta::days(21)});
    let result = app.schedule_tasks_ok(&body, token).await;
    assert_eq!(result["unscheduled"].as_array().map(Vec::len), Some(0), "{result}");
    for task in plan_tasks(&rust) {
        let day = later + chrono::Days::new(task["day_offset"].as_u64().unwrap());
        let first = chunks_of(&result, id(&task))[0].2;
        assert!(first.date_naive() >= day, "a task of the plan starting {later} on its day {day}: {result}");
    }

    let events = app.upcoming_ok("limit=100&days=30", token).await;
    let described = |plan: &Value| -> Vec<String> {
        let ids: Vec<Value> = plan_tasks(plan).iter().map(|t| t["id"].clone()).collect();
        events
            .iter()
            .filter(|e| ids.contains(&e["plan_task_id"]))
            .map(|e| e["description"].as_str().unwrap().to_owned())
            .collect()
    };
    for (plan, goal) in [(&rust, "Learn Rust"), (&garden, "Plant the garden")] {
        let descriptions = described(plan);
        assert!(!descriptions.is_empty(), "{events:?}");
        let named = format!("Part of the plan \"{goal}\".");
        assert!(descriptions.iter().all(|d| d.ends_with(&named)), "{descriptions:?}");
    }
}
