use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post_json("/api/v1/resources", &body, Some(token)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

#[tokio::test]
async fn resources_are_stored_as_any_json_and_filtered_by_class_and_type() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let syllabus = create(
        &app,
        &user.access_token,
        json!({"class_id": "cs101", "type": "syllabus", "name": "Algorithms", "content": {"weeks": 12, "topics": ["graphs", "dp"]}}),
    )
    .await;
    assert_eq!(syllabus["type"], "syllabus");
    assert_eq!(syllabus["content"], json!({"weeks": 12, "topics": ["graphs", "dp"]}));
    create(
        &app,
        &user.access_token,
        json!({"class_id": "cs101", "type": "note", "name": "Lecture 1", "content": "plain text"}),
    )
    .await;
    create(
        &app,
        &user.access_token,
        json!({"type": "link", "name": "Docs", "content": ["https://example.com"]}),
    )
    .await;

    let by_class: Value =
        app.get("/api/v1/resources?class_id=cs101", Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(by_class["items"].as_array().unwrap().len(), 2);
    let notes: Value = app
        .get("/api/v1/resources?class_id=cs101&type=note", Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(notes["items"].as_array().unwrap().len(), 1);
    assert_eq!(notes["items"][0]["content"], "plain text");
    let page: Value =
        app.get("/api/v1/resources?limit=2", Some(&user.access_token)).await.json().await.unwrap();
    let next = page["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .get(&format!("/api/v1/resources?limit=2&cursor={next}"), Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["name"], "Docs");

    let path = format!("/api/v1/resources/{}", syllabus["id"].as_str().unwrap());
    let fetched: Value = app.get(&path, Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(fetched, syllabus);
}

#[tokio::test]
async fn resources_can_be_updated_and_deleted() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let resource = create(
        &app,
        &user.access_token,
        json!({"class_id": "x", "type": "note", "name": "n", "content": {"a": 1}}),
    )
    .await;
    let path = format!("/api/v1/resources/{}", resource["id"].as_str().unwrap());
    let updated: Value = app
        .patch_json(
            &path,
            &json!({"class_id": null, "name": "renamed", "content": {"b": 2}}),
            &user.access_token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["class_id"], Value::Null);
    assert_eq!(updated["name"], "renamed");
    assert_eq!(updated["type"], "note");
    assert_eq!(updated["content"], json!({"b": 2}));
    assert_eq!(app.delete(&path, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get(&path, Some(&user.access_token)).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn invalid_resources_are_refused_naming_the_fields() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .post_json("/api/v1/resources", &json!({"class_id": "", "type": " ", "name": "n".repeat(201), "content": {"text": "x".repeat(70_000)}}), Some(&user.access_token))
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["class_id", "type", "name", "content"]);
    let response = app
        .post_json("/api/v1/resources", &json!({"type": "note", "name": "n"}), Some(&user.access_token))
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["content"]);
}

#[tokio::test]
async fn another_users_resources_are_invisible() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let resource =
        create(&app, &owner.access_token, json!({"type": "note", "name": "private", "content": {}})).await;
    let path = format!("/api/v1/resources/{}", resource["id"].as_str().unwrap());
    assert_problem(app.get(&path, Some(&other.access_token)).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.patch_json(&path, &json!({"name": "mine"}), &other.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.delete(&path, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let listed: Value = app.get("/api/v1/resources", Some(&other.access_token)).await.json().await.unwrap();
    assert_eq!(listed["items"], json!([]));
    let still: Value = app.get(&path, Some(&owner.access_token)).await.json().await.unwrap();
    assert_eq!(still, resource);
}
