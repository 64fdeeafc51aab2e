use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, error_fields, spawn_app};

#[tokio::test]
async fn tasks_are_created_read_updated_and_listed_by_position() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let first = app
        .create_task_ok(
            &json!({"title": "Write report", "due_at": "2026-12-04T17:00:00Z", "estimate_minutes": 240}),
            &user.access_token,
        )
        .await;
    assert_eq!(first["status"], "todo");
    assert_eq!(first["position"], 0);
    assert_eq!(first["due_at"], "2026-12-04T17:00:00Z");
    let second = app
        .create_task_ok(&json!({"title": "Send report", "status": "in_progress"}), &user.access_token)
        .await;
    assert_eq!(second["position"], 1);

    let task_id = first["id"].as_str().unwrap();
    let updated: Value = app
        .update_task(
            task_id,
            &json!({"status": "done", "estimate_minutes": null, "title": "Write the report"}),
            &user.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["status"], "done");
    assert_eq!(updated["estimate_minutes"], Value::Null);
    assert_eq!(updated["title"], "Write the report");
    assert_eq!(updated["due_at"], "2026-12-04T17:00:00Z", "fields left out stay");

    let all: Value = app.list_tasks("", &user.access_token).await.json().await.unwrap();
    let titles: Vec<&str> =
        all["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Write the report", "Send report"]);
    let done: Value = app.list_tasks("status=done", &user.access_token).await.json().await.unwrap();
    assert_eq!(done["items"].as_array().unwrap().len(), 1);
    let page: Value = app.list_tasks("limit=1", &user.access_token).await.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value =
        app.list_tasks(&format!("limit=1&cursor={cursor}"), &user.access_token).await.json().await.unwrap();
    assert_eq!(next["items"][0]["title"], "Send report");
    assert_eq!(next["next_cursor"], Value::Null);
    assert_problem(app.list_tasks("status=someday", &user.access_token).await, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn invalid_tasks_are_refused_naming_the_fields() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .create_task(
            &json!({"title": " ", "description": "d".repeat(2001), "estimate_minutes": 0}),
            &user.access_token,
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["title", "description", "estimate_minutes"]);
    let response = app
        .create_task(
            &json!({"title": "x", "parent_id": uuid::Uuid::new_v4(), "plan_id": uuid::Uuid::new_v4()}),
            &user.access_token,
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["parent_id", "plan_id"]);
    let response = app.create_task(&json!({"title": "x", "status": "someday"}), &user.access_token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["status"]);
}

#[tokio::test]
async fn deleting_a_task_deletes_its_sub_tasks() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let parent = app.create_task_ok(&json!({"title": "Move house"}), &user.access_token).await;
    let parent_id = parent["id"].as_str().unwrap();
    let child =
        app.create_task_ok(&json!({"title": "Pack", "parent_id": parent_id}), &user.access_token).await;
    let grandchild = app
        .create_task_ok(&json!({"title": "Buy boxes", "parent_id": child["id"]}), &user.access_token)
        .await;
    let other = app.create_task_ok(&json!({"title": "Unrelated"}), &user.access_token).await;
    let children: Value =
        app.list_tasks(&format!("parent_id={parent_id}"), &user.access_token).await.json().await.unwrap();
    assert_eq!(children["items"].as_array().unwrap().len(), 1);

    assert_eq!(app.delete_task(parent_id, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    for gone in [&parent, &child, &grandchild] {
        let task_id = gone["id"].as_str().unwrap();
        assert_problem(app.get_task(task_id, &user.access_token).await, StatusCode::NOT_FOUND).await;
    }
    let task_id = other["id"].as_str().unwrap();
    assert_eq!(app.get_task(task_id, &user.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_task_cannot_become_its_own_descendant() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let parent = app.create_task_ok(&json!({"title": "A"}), &user.access_token).await;
    let child =
        app.create_task_ok(&json!({"title": "B", "parent_id": parent["id"]}), &user.access_token).await;
    let task_id = parent["id"].as_str().unwrap();
    let problem = assert_problem(
        app.update_task(task_id, &json!({"parent_id": child["id"]}), &user.access_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["parent_id"]);
    let problem = assert_problem(
        app.update_task(task_id, &json!({"parent_id": parent["id"]}), &user.access_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["parent_id"]);
}

#[tokio::test]
async fn breakdown_proposes_steps_and_saves_them_only_when_asked() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let task = app
        .create_task_ok(&json!({"title": "Write report", "description": "10 pages"}), &user.access_token)
        .await;
    let task_id = task["id"].as_str().unwrap();

    let response = app.breakdown_task(task_id, &json!({}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let proposal: Value = response.json().await.unwrap();
    let steps = proposal["subtasks"].as_array().unwrap();
    assert!((2..=5).contains(&steps.len()));
    assert!(proposal.get("tasks").is_none());
    let children = format!("parent_id={}", task["id"].as_str().unwrap());
    let none: Value = app.list_tasks(&children, &user.access_token).await.json().await.unwrap();
    assert_eq!(none["items"], json!([]));

    let response = app.breakdown_task(task_id, &json!({"save": true}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let saved: Value = response.json().await.unwrap();
    let created = saved["tasks"].as_array().unwrap();
    assert_eq!(created.len(), saved["subtasks"].as_array().unwrap().len());
    assert!(created.iter().all(|t| t["parent_id"] == task["id"]));
    let listed: Value = app.list_tasks(&children, &user.access_token).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), created.len());
}

#[tokio::test]
async fn stateless_breakdown_needs_a_title() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app.breakdown(&json!({"title": "Plan a trip"}), &user.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let steps: Value = response.json().await.unwrap();
    assert!((2..=5).contains(&steps.as_array().unwrap().len()));
    assert!(steps[0]["title"].as_str().unwrap().contains("Plan a trip"));
    let response = app.breakdown(&json!({"title": ""}), &user.access_token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["title"]);
}

#[tokio::test]
async fn another_users_tasks_are_invisible() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let task = app.create_task_ok(&json!({"title": "Private"}), &owner.access_token).await;
    let task_id = task["id"].as_str().unwrap();
    assert_problem(app.get_task(task_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.update_task(task_id, &json!({"title": "mine"}), &other.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.delete_task(task_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let breakdown = app.breakdown_task(task_id, &json!({"save": true}), &other.access_token).await;
    assert_problem(breakdown, StatusCode::NOT_FOUND).await;
    let response =
        app.create_task(&json!({"title": "sneaky", "parent_id": task["id"]}), &other.access_token).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let listed: Value = app.list_tasks("", &other.access_token).await.json().await.unwrap();
    assert_eq!(listed["items"], json!([]));
}
