use planwright_store::ConnectionTrait;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{
    assert_problem, error_fields, spawn_app, spawn_app_with, spawn_replica, spawn_replica_with,
};

#[tokio::test]
async fn get_me_needs_a_token() {
    let app = spawn_app().await;
    let problem = assert_problem(app.get("/api/v1/me", None).await, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("Bearer"));
}

#[tokio::test]
async fn patch_me_updates_name_timezone_and_working_hours() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app
        .update_me(
            &json!({"name": "Grace", "timezone": "America/New_York", "working_hours": {"start": "10:00", "end": "18:30", "days": [1, 3]}}),
            &user.access_token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], "Grace");
    assert_eq!(body["timezone"], "America/New_York");
    assert_eq!(body["working_hours"], json!({"start": "10:00", "end": "18:30", "days": [1, 3]}));
    let stored: Value = app.get_me(&user.access_token).await.json().await.unwrap();
    assert_eq!(stored, body);
}

#[tokio::test]
async fn patch_me_leaves_absent_fields_alone_and_null_clears_the_name() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let body: Value =
        app.update_me(&json!({"timezone": "Asia/Tokyo"}), &user.access_token).await.json().await.unwrap();
    assert_eq!(body["name"], "Test User");
    assert_eq!(body["timezone"], "Asia/Tokyo");
    let body: Value = app.update_me(&json!({"name": null}), &user.access_token).await.json().await.unwrap();
    assert_eq!(body["name"], Value::Null);
    assert_eq!(body["timezone"], "Asia/Tokyo");
}

#[tokio::test]
async fn patch_me_refuses_invalid_values_and_changes_nothing() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let before: Value = app.get_me(&user.access_token).await.json().await.unwrap();
    let response = app
        .update_me(
            &json!({"name": "n".repeat(101), "timezone": "Nowhere/Land", "working_hours": {"start": "12:00", "end": "11:00", "days": [1]}}),
            &user.access_token,
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["name", "timezone", "working_hours.end"]);
    let after: Value = app.get_me(&user.access_token).await.json().await.unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn delete_me_removes_the_account_and_its_sessions() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let chat = app.chat(&json!({"message": "remember me"}), &user.access_token).await;
    assert_eq!(chat.status(), StatusCode::OK);
    assert_eq!(app.delete_me(&user.access_token).await.status(), StatusCode::NO_CONTENT);

    let problem = assert_problem(app.get_me(&user.access_token).await, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("no longer exists"));
    assert_problem(app.refresh(&user.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_problem(app.login(&user.email, &user.password).await, StatusCode::UNAUTHORIZED).await;
    let rows = app
        .db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.conn().get_database_backend(),
            "SELECT COUNT(*) AS n FROM refresh_tokens",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 0, "refresh tokens outlived their account");
    for table in ["chat_sessions", "chat_messages"] {
        let rows = app
            .db
            .conn()
            .query_one_raw(sea_orm::Statement::from_string(
                app.db.conn().get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rows.try_get::<i64>("", "n").unwrap(), 0, "{table} outlived their account");
    }
    // The email is free again.
    assert_eq!(
        app.register(&json!({"email": user.email, "password": "12345678"})).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn another_replica_meets_a_deleted_account_with_4xx_only() {
    // A replica remembers for `auth.known_account_secs` that an account exists; the one that
    // deletes it forgets at once. What the other replica then does with the token must still
    // be a clear 4xx, never a 500 from the rows the deletion took away.
    let app = spawn_app_with(|settings| settings.auth.known_account_secs = 3600).await;
    let replica = spawn_replica(&app).await;
    let user = app.signed_in_user().await;
    assert_eq!(replica.get_me(&user.access_token).await.status(), StatusCode::OK, "the replica has seen it");
    assert_eq!(app.delete_me(&user.access_token).await.status(), StatusCode::NO_CONTENT);

    let problem = assert_problem(app.get_me(&user.access_token).await, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("no longer exists"), "{problem}");

    // The replica still trusts the token; the write meets the deletion as a conflict.
    let write = replica.create_task(&json!({"title": "After the account is gone"}), &user.access_token).await;
    let problem = assert_problem(write, StatusCode::CONFLICT).await;
    assert!(problem["detail"].as_str().unwrap().contains("deleted meanwhile"), "{problem}");
    let problem = assert_problem(replica.get_me(&user.access_token).await, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("no longer exists"), "{problem}");
    let tasks: Value = replica.get("/api/v1/tasks", Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(tasks["items"], json!([]), "nothing was written for the deleted account");

    // With `known_account_secs = 0` every request reads the users table.
    let strict = spawn_replica_with(&app, |settings| settings.auth.known_account_secs = 0).await;
    let problem = assert_problem(
        strict.create_task(&json!({"title": "Also refused"}), &user.access_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("no longer exists"), "{problem}");
}
