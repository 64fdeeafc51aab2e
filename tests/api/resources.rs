use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, error_fields, spawn_app};

#[tokio::test]
async fn resources_are_stored_as_any_json_and_filtered_by_class_and_type() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let syllabus = app
        .create_resource_ok(
            &json!({"class_id": "cs101", "type": "syllabus", "name": "Algorithms", "content": {"weeks": 12, "topics": ["graphs", "dp"]}}),
            &user.access_token,
        )
        .await;
    assert_eq!(syllabus["type"], "syllabus");
    assert_eq!(syllabus["content"], json!({"weeks": 12, "topics": ["graphs", "dp"]}));
    app.create_resource_ok(
        &json!({"class_id": "cs101", "type": "note", "name": "Lecture 1", "content": "plain text"}),
        &user.access_token,
    )
    .await;
    app.create_resource_ok(
        &json!({"type": "link", "name": "Docs", "content": ["https://example.com"]}),
        &user.access_token,
    )
    .await;

    let by_class: Value =
        app.list_resources("class_id=cs101", &user.access_token).await.json().await.unwrap();
    assert_eq!(by_class["items"].as_array().unwrap().len(), 2);
    let notes: Value =
        app.list_resources("class_id=cs101&type=note", &user.access_token).await.json().await.unwrap();
    assert_eq!(notes["items"].as_array().unwrap().len(), 1);
    assert_eq!(notes["items"][0]["content"], "plain text");
    let page: Value = app.list_resources("limit=2", &user.access_token).await.json().await.unwrap();
    let next = page["next_cursor"].as_str().unwrap();
    let rest: Value =
        app.list_resources(&format!("limit=2&cursor={next}"), &user.access_token).await.json().await.unwrap();
    assert_eq!(rest["items"][0]["name"], "Docs");

    let resource_id = syllabus["id"].as_str().unwrap();
    let fetched: Value = app.get_resource(resource_id, &user.access_token).await.json().await.unwrap();
    assert_eq!(fetched, syllabus);
}

#[tokio::test]
async fn resources_can_be_updated_and_deleted() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let resource = app
        .create_resource_ok(
            &json!({"class_id": "x", "type": "note", "name": "n", "content": {"a": 1}}),
            &user.access_token,
        )
        .await;
    let resource_id = resource["id"].as_str().unwrap();
    let updated: Value = app
        .update_resource(
            resource_id,
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
    assert_eq!(app.delete_resource(resource_id, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get_resource(resource_id, &user.access_token).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn invalid_resources_are_refused_naming_the_fields() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .create_resource(
            &json!({"class_id": "", "type": " ", "name": "n".repeat(201), "content": {"text": "x".repeat(70_000)}}),
            &user.access_token,
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["class_id", "type", "name", "content"]);
    let response = app.create_resource(&json!({"type": "note", "name": "n"}), &user.access_token).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["content"]);
}

#[tokio::test]
async fn another_users_resources_are_invisible() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let resource = app
        .create_resource_ok(&json!({"type": "note", "name": "private", "content": {}}), &owner.access_token)
        .await;
    let resource_id = resource["id"].as_str().unwrap();
    assert_problem(app.get_resource(resource_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.update_resource(resource_id, &json!({"name": "mine"}), &other.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.delete_resource(resource_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let listed: Value = app.list_resources("", &other.access_token).await.json().await.unwrap();
    assert_eq!(listed["items"], json!([]));
    let still: Value = app.get_resource(resource_id, &owner.access_token).await.json().await.unwrap();
    assert_eq!(still, resource);
}
