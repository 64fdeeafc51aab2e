use planwright_store::ConnectionTrait;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, error_fields, spawn_app, spawn_app_with};

#[tokio::test]
async fn the_offline_planner_turns_a_goal_into_a_stored_plan() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .create_plan(
            &json!({"goal": "Learn FastAPI", "duration_days": 3, "context": {"notes": "evenings only", "level": "beginner"}, "start_date": "2026-12-01"}),
            &user.access_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(plan["goal"], "Learn FastAPI");
    assert_eq!(plan["duration_days"], 3);
    assert_eq!(plan["status"], "draft");
    assert_eq!(plan["model"], "offline");
    assert_eq!(plan["start_date"], "2026-12-01");
    assert_eq!(plan["context"], json!({"notes": "evenings only", "level": "beginner"}));
    assert!(plan["summary"].as_str().unwrap().contains("evenings only"));
    let tasks = plan["tasks"].as_array().unwrap();
    assert!(!tasks.is_empty());
    for (index, task) in tasks.iter().enumerate() {
        assert_eq!(task["position"], index);
        assert!((0..3).contains(&task["day_offset"].as_i64().unwrap()), "{task}");
        assert!((15..=480).contains(&task["duration_minutes"].as_i64().unwrap()), "{task}");
        assert_eq!(task["scheduled_start"], Value::Null);
    }
    let stored: Value =
        app.get_plan(plan["id"].as_str().unwrap(), &user.access_token).await.json().await.unwrap();
    assert_eq!(stored, plan);
}

#[tokio::test]
async fn creating_a_plan_validates_its_fields() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .create_plan(&json!({"goal": "  ", "duration_days": 0, "context": {"notes": 7}}), &user.access_token)
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["goal", "duration_days", "context.notes"]);
    let response =
        app.create_plan(&json!({"goal": "g".repeat(501), "duration_days": 366}), &user.access_token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["goal", "duration_days"]);
    let response = app
        .create_plan(&json!({"goal": "x", "duration_days": 2, "start_date": "tomorrow"}), &user.access_token)
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["start_date"]);
}

#[tokio::test]
async fn plans_are_listed_newest_first_in_pages() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let plan: Value = app
            .create_plan(&json!({"goal": format!("goal {n}"), "duration_days": 1}), &user.access_token)
            .await
            .json()
            .await
            .unwrap();
        ids.push(plan["id"].as_str().unwrap().to_owned());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let query = match &cursor {
            Some(c) => format!("limit=2&cursor={c}"),
            None => "limit=2".to_owned(),
        };
        let page: Value = app.list_plans(&query, &user.access_token).await.json().await.unwrap();
        seen.extend(page["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap().to_owned()));
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ids);
    for bad in ["limit=0", "limit=201", "limit=x", "cursor=garbage"] {
        let response = app.list_plans(bad, &user.access_token).await;
        assert_problem(response, StatusCode::BAD_REQUEST).await;
    }
}

#[tokio::test]
async fn editing_a_plan_replaces_its_tasks_and_keeps_named_ones() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let plan: Value = app
        .create_plan(&json!({"goal": "Run 5k", "duration_days": 2}), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    let kept = plan["tasks"][0]["id"].as_str().unwrap().to_owned();
    let response = app
        .update_plan(
            plan_id,
            &json!({"goal": "Run 10k", "summary": "## Mine", "tasks": [
                {"title": "New warm-up", "day_offset": 1, "duration_minutes": 20},
                {"id": kept, "title": "Long run", "description": "easy pace", "day_offset": 0, "duration_minutes": 60}
            ]}),
            &user.access_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let edited: Value = response.json().await.unwrap();
    assert_eq!(edited["goal"], "Run 10k");
    assert_eq!(edited["summary"], "## Mine");
    let tasks = edited["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[0]["title"], "New warm-up");
    assert_ne!(tasks[0]["id"], kept.as_str());
    assert_eq!(tasks[1]["id"], kept.as_str());
    assert_eq!(tasks[1]["position"], 1);
    assert_eq!(tasks[1]["description"], "easy pace");
    let again: Value = app.get_plan(plan_id, &user.access_token).await.json().await.unwrap();
    assert_eq!(again, edited);
}

#[tokio::test]
async fn editing_a_plan_refuses_tasks_outside_it() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let plan: Value = app
        .create_plan(&json!({"goal": "Run 5k", "duration_days": 2}), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    let response = app
        .update_plan(
            plan_id,
            &json!({"tasks": [
                {"title": "ok", "day_offset": 2, "duration_minutes": 20},
                {"title": "short", "day_offset": 0, "duration_minutes": 5},
                {"id": uuid::Uuid::new_v4(), "title": "stranger", "day_offset": 0, "duration_minutes": 30}
            ]}),
            &user.access_token,
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["tasks[0].day_offset", "tasks[1].duration_minutes"]);
    let response = app
        .update_plan(
            plan_id,
            &json!({"tasks": [{"id": uuid::Uuid::new_v4(), "title": "stranger", "day_offset": 0, "duration_minutes": 30}]}),
            &user.access_token,
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["tasks[0].id"]);
    let unchanged: Value = app.get_plan(plan_id, &user.access_token).await.json().await.unwrap();
    assert_eq!(unchanged, plan);
}

#[tokio::test]
async fn deleting_a_plan_removes_it() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let plan: Value = app
        .create_plan(&json!({"goal": "Bake bread", "duration_days": 1}), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_eq!(app.delete_plan(plan_id, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get_plan(plan_id, &user.access_token).await, StatusCode::NOT_FOUND).await;
    assert_problem(app.delete_plan(plan_id, &user.access_token).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn another_users_plan_is_404_everywhere() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let plan: Value = app
        .create_plan(&json!({"goal": "Secret", "duration_days": 1}), &owner.access_token)
        .await
        .json()
        .await
        .unwrap();
    let plan_id = plan["id"].as_str().unwrap();
    assert_problem(app.get_plan(plan_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.update_plan(plan_id, &json!({"goal": "mine"}), &other.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.delete_plan(plan_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let list: Value = app.list_plans("", &other.access_token).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
    let still: Value = app.get_plan(plan_id, &owner.access_token).await.json().await.unwrap();
    assert_eq!(still, plan);
    assert_problem(app.get_plan("not-a-uuid", &owner.access_token).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_spent_daily_budget_is_a_429_until_midnight() {
    let app = spawn_app_with(|s| s.ai.daily_token_budget = 100).await;
    let user = app.signed_in_user().await;
    app.db
        .conn()
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            app.db.conn().get_database_backend(),
            "INSERT INTO ai_usage (user_id, day, tokens, requests) VALUES ($1, $2, 100, 1)",
            [uuid::Uuid::parse_str(&user.id).unwrap().into(), chrono::Utc::now().date_naive().into()],
        ))
        .await
        .unwrap();
    let response = app.create_plan(&json!({"goal": "More", "duration_days": 1}), &user.access_token).await;
    let retry_after: u64 =
        crate::helpers::header(&response, "retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=86_400).contains(&retry_after), "{retry_after}");
    let problem = assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(problem["code"], "ai_budget_exhausted");
}
