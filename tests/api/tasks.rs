use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn create_task(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post_json("/api/v1/tasks", &body, Some(token)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn tasks_are_created_read_updated_and_listed_by_position() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let first = create_task(
        &app,
        &user.access_token,
        json!({"title": "Write report", "due_at": "2026-12-04T17:00:00Z", "estimate_minutes": 240}),
    )
    .await;
    assert_eq!(first["status"], "todo");
    assert_eq!(first["position"], 0);
    assert_eq!(first["due_at"], "2026-12-04T17:00:00Z");
    let second =
        create_task(&app, &user.access_token, json!({"title": "Send report", "status": "in_progress"})).await;
    assert_eq!(second["position"], 1);

    let path = format!("/api/v1/tasks/{}", first["id"].as_str().unwrap());
    let updated: Value = app
        .patch_json(
            &path,
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

    let all: Value = app.get("/api/v1/tasks", Some(&user.access_token)).await.json().await.unwrap();
    let titles: Vec<&str> =
        all["items"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Write the report", "Send report"]);
    let done: Value =
        app.get("/api/v1/tasks?status=done", Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(done["items"].as_array().unwrap().len(), 1);
    let page: Value = app.get("/api/v1/tasks?limit=1", Some(&user.access_token)).await.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let next: Value = app
        .get(&format!("/api/v1/tasks?limit=1&cursor={cursor}"), Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["items"][0]["title"], "Send report");
    assert_eq!(next["next_cursor"], Value::Null);
    assert_problem(
        app.get("/api/v1/tasks?status=someday", Some(&user.access_token)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn invalid_tasks_are_refused_naming_the_fields() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .post_json(
            "/api/v1/tasks",
            &json!({"title": " ", "description": "d".repeat(2001), "estimate_minutes": 0}),
            Some(&user.access_token),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["title", "description", "estimate_minutes"]);
    let response = app
        .post_json(
            "/api/v1/tasks",
            &json!({"title": "x", "parent_id": uuid::Uuid::new_v4(), "plan_id": uuid::Uuid::new_v4()}),
            Some(&user.access_token),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["parent_id", "plan_id"]);
    let response = app
        .post_json("/api/v1/tasks", &json!({"title": "x", "status": "someday"}), Some(&user.access_token))
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["status"]);
}

#[tokio::test]
async fn deleting_a_task_deletes_its_sub_tasks() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let parent = create_task(&app, &user.access_token, json!({"title": "Move house"})).await;
    let parent_id = parent["id"].as_str().unwrap();
    let child = create_task(&app, &user.access_token, json!({"title": "Pack", "parent_id": parent_id})).await;
    let grandchild =
        create_task(&app, &user.access_token, json!({"title": "Buy boxes", "parent_id": child["id"]})).await;
    let other = create_task(&app, &user.access_token, json!({"title": "Unrelated"})).await;
    let children: Value = app
        .get(&format!("/api/v1/tasks?parent_id={parent_id}"), Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(children["items"].as_array().unwrap().len(), 1);

    assert_eq!(
        app.delete(&format!("/api/v1/tasks/{parent_id}"), &user.access_token).await.status(),
        StatusCode::NO_CONTENT
    );
    for gone in [&parent, &child, &grandchild] {
        let path = format!("/api/v1/tasks/{}", gone["id"].as_str().unwrap());
        assert_problem(app.get(&path, Some(&user.access_token)).await, StatusCode::NOT_FOUND).await;
    }
    let path = format!("/api/v1/tasks/{}", other["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&user.access_token)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_task_cannot_become_its_own_descendant() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let parent = create_task(&app, &user.access_token, json!({"title": "A"})).await;
    let child = create_task(&app, &user.access_token, json!({"title": "B", "parent_id": parent["id"]})).await;
    let path = format!("/api/v1/tasks/{}", parent["id"].as_str().unwrap());
    let problem = assert_problem(
        app.patch_json(&path, &json!({"parent_id": child["id"]}), &user.access_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["parent_id"]);
    let problem = assert_problem(
        app.patch_json(&path, &json!({"parent_id": parent["id"]}), &user.access_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["parent_id"]);
}

#[tokio::test]
async fn breakdown_proposes_steps_and_saves_them_only_when_asked() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let task =
        create_task(&app, &user.access_token, json!({"title": "Write report", "description": "10 pages"}))
            .await;
    let path = format!("/api/v1/tasks/{}/breakdown", task["id"].as_str().unwrap());

    let response = app.post_json(&path, &json!({}), Some(&user.access_token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let proposal: Value = response.json().await.unwrap();
    let steps = proposal["subtasks"].as_array().unwrap();
    assert!((2..=5).contains(&steps.len()));
    assert!(proposal.get("tasks").is_none());
    let children = format!("/api/v1/tasks?parent_id={}", task["id"].as_str().unwrap());
    let none: Value = app.get(&children, Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(none["items"], json!([]));

    let response = app.post_json(&path, &json!({"save": true}), Some(&user.access_token)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let saved: Value = response.json().await.unwrap();
    let created = saved["tasks"].as_array().unwrap();
    assert_eq!(created.len(), saved["subtasks"].as_array().unwrap().len());
    assert!(created.iter().all(|t| t["parent_id"] == task["id"]));
    let listed: Value = app.get(&children, Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), created.len());
}

#[tokio::test]
async fn stateless_breakdown_needs_a_title() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .post_json("/api/v1/ai/breakdown", &json!({"title": "Plan a trip"}), Some(&user.access_token))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let steps: Value = response.json().await.unwrap();
    assert!((2..=5).contains(&steps.as_array().unwrap().len()));
    assert!(steps[0]["title"].as_str().unwrap().contains("Plan a trip"));
    let response =
        app.post_json("/api/v1/ai/breakdown", &json!({"title": ""}), Some(&user.access_token)).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["title"]);
}

#[tokio::test]
async fn another_users_tasks_are_invisible() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let task = create_task(&app, &owner.access_token, json!({"title": "Private"})).await;
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    assert_problem(app.get(&path, Some(&other.access_token)).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.patch_json(&path, &json!({"title": "mine"}), &other.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.delete(&path, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let breakdown =
        app.post_json(&format!("{path}/breakdown"), &json!({"save": true}), Some(&other.access_token)).await;
    assert_problem(breakdown, StatusCode::NOT_FOUND).await;
    let response = app
        .post_json(
            "/api/v1/tasks",
            &json!({"title": "sneaky", "parent_id": task["id"]}),
            Some(&other.access_token),
        )
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let listed: Value = app.get("/api/v1/tasks", Some(&other.access_token)).await.json().await.unwrap();
    assert_eq!(listed["items"], json!([]));
}
