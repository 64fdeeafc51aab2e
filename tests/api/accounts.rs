use planwright_store::ConnectionTrait;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, error_fields, header, spawn_app};

#[tokio::test]
async fn register_creates_an_account_and_signs_it_in() {
    let app = spawn_app().await;
    let response = app
        .register(&json!({"email": "Ada@Example.com", "password": "correct horse", "name": "Ada", "timezone": "Europe/Berlin"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800);
    assert!(body["access_token"].as_str().is_some_and(|t| t.split('.').count() == 3));
    assert!(body["refresh_token"].as_str().is_some_and(|t| t.len() >= 40));
    let user = &body["user"];
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada");
    assert_eq!(user["timezone"], "Europe/Berlin");
    assert_eq!(user["working_hours"], json!({"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]}));
    assert!(user["id"].as_str().is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()));
    assert!(user["created_at"].as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()));

    let me: Value = app.get_me(body["access_token"].as_str().unwrap()).await.json().await.unwrap();
    assert_eq!(me, *user);
}

#[tokio::test]
async fn register_defaults_to_utc_and_accepts_working_hours() {
    let app = spawn_app().await;
    let body: Value = app
        .register(&json!({"email": "b@example.com", "password": "12345678", "working_hours": {"start": "08:30", "end": "12:00", "days": [6, 1, 1]}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["user"]["timezone"], "UTC");
    assert_eq!(body["user"]["name"], Value::Null);
    assert_eq!(body["user"]["working_hours"], json!({"start": "08:30", "end": "12:00", "days": [1, 6]}));
}

#[tokio::test]
async fn register_with_a_taken_email_is_409_whatever_its_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register(&json!({"email": "dup@example.com", "password": "12345678"})).await.status(),
        StatusCode::CREATED
    );
    let problem = assert_problem(
        app.register(&json!({"email": " DUP@example.com", "password": "abcdefgh"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["code"], "email_taken");
}

#[tokio::test]
async fn register_names_every_invalid_field() {
    let app = spawn_app().await;
    let response = app
        .register(
            &json!({"email": "not-an-email", "password": "short", "timezone": "Mars/Olympus", "name": "  "}),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "validation_failed");
    assert_eq!(error_fields(&problem), ["email", "password", "name", "timezone"]);
}

#[tokio::test]
async fn register_refuses_bad_working_hours() {
    let app = spawn_app().await;
    for (hours, field) in [
        (json!({"start": "17:00", "end": "09:00", "days": [1]}), "working_hours.end"),
        (json!({"start": "25:00", "end": "26:00", "days": [1]}), "working_hours.start"),
        (json!({"start": "09:00", "end": "17:00", "days": [0, 8]}), "working_hours.days"),
        (json!({"start": "09:00", "end": "17:00", "days": []}), "working_hours.days"),
    ] {
        let response = app
            .register(&json!({"email": "wh@example.com", "password": "12345678", "working_hours": hours}))
            .await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), [field], "{hours}");
    }
}

#[tokio::test]
async fn login_with_the_right_password_signs_in() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app.login(&user.email.to_uppercase(), &user.password).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["id"], user.id.as_str());
    assert_ne!(body["refresh_token"], user.refresh_token.as_str());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let wrong_password =
        assert_problem(app.login(&user.email, "not the password").await, StatusCode::UNAUTHORIZED).await;
    let unknown_email =
        assert_problem(app.login("nobody@example.com", "not the password").await, StatusCode::UNAUTHORIZED)
            .await;
    let malformed_email =
        assert_problem(app.login("nobody", "not the password").await, StatusCode::UNAUTHORIZED).await;
    // The same answer but for the request id, which each request has its own of.
    let [wrong_password, unknown_email, malformed_email] = [wrong_password, unknown_email, malformed_email]
        .map(|mut problem| {
            assert!(problem.as_object_mut().unwrap().remove("request_id").is_some(), "{problem}");
            problem
        });
    assert_eq!(wrong_password, unknown_email);
    assert_eq!(wrong_password, malformed_email);
    assert_eq!(wrong_password["code"], "invalid_credentials");
}

#[tokio::test]
async fn refresh_rotates_the_pair_and_spends_the_old_token() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response = app.refresh(&user.refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let new_refresh = body["refresh_token"].as_str().unwrap();
    assert_ne!(new_refresh, user.refresh_token);
    assert_eq!(app.get_me(body["access_token"].as_str().unwrap()).await.status(), StatusCode::OK);
    // The rotated token works once more.
    assert_eq!(app.refresh(new_refresh).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_reused_refresh_token_is_refused_and_revokes_its_family() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let rotated: Value = app.refresh(&user.refresh_token).await.json().await.unwrap();
    let rotated_token = rotated["refresh_token"].as_str().unwrap();

    let problem = assert_problem(app.refresh(&user.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["code"], "refresh_token_reused");
    // The thief's replay also signed out the legitimate holder of the newer token.
    let problem = assert_problem(app.refresh(rotated_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["code"], "refresh_token_reused");

    // Another login (another family) is unaffected.
    let other: Value = app.login(&user.email, &user.password).await.json().await.unwrap();
    assert_eq!(app.refresh(other["refresh_token"].as_str().unwrap()).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_at_most_one_through() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let (a, b) = tokio::join!(app.refresh(&user.refresh_token), app.refresh(&user.refresh_token));
    let statuses = [a.status(), b.status()];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED), "{statuses:?}");
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = spawn_app().await;
    let problem = assert_problem(app.refresh("made-up-token").await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["code"], "invalid_refresh_token");
}

#[tokio::test]
async fn expired_refresh_token_is_401() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    app.db
        .conn()
        .execute_unprepared("UPDATE refresh_tokens SET expires_at = '2000-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    let problem = assert_problem(app.refresh(&user.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["code"], "refresh_token_expired");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_and_is_idempotent() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    assert_eq!(app.logout(&user.refresh_token, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.refresh(&user.refresh_token).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.logout(&user.refresh_token, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.logout("never-issued", &user.access_token).await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn logout_needs_an_access_token() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let response =
        app.post_json("/api/v1/auth/logout", &json!({"refresh_token": user.refresh_token}), None).await;
    assert_problem(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(app.refresh(&user.refresh_token).await.status(), StatusCode::OK, "nothing was revoked");
}

#[tokio::test]
async fn an_expired_access_token_is_401_with_a_hint_to_refresh() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let secret: SecretString = app.settings.auth.jwt_secret.clone().unwrap();
    let expired = planwright_api::services::credentials::AccessTokens::new(&secret, -120)
        .issue(uuid::Uuid::parse_str(&user.id).unwrap())
        .unwrap();
    let response = app.get_me(&expired).await;
    assert_eq!(header(&response, "www-authenticate").as_deref(), Some("Bearer"));
    let problem = assert_problem(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(problem["code"], "token_expired");
    assert!(problem["detail"].as_str().unwrap().contains("/api/v1/auth/refresh"));
}

#[tokio::test]
async fn tokens_signed_with_another_key_or_malformed_are_401() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let forged =
        planwright_api::services::credentials::AccessTokens::new(&SecretString::from("x".repeat(40)), 600)
            .issue(uuid::Uuid::parse_str(&user.id).unwrap())
            .unwrap();
    for token in [forged.as_str(), "garbage", "a.b.c"] {
        let problem = assert_problem(app.get_me(token).await, StatusCode::UNAUTHORIZED).await;
        assert_eq!(problem["code"], "invalid_token", "{token}");
    }
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", user.access_token.as_str()] {
        let response =
            app.client.get(app.url("/api/v1/me")).header("Authorization", header).send().await.unwrap();
        assert_problem(response, StatusCode::UNAUTHORIZED).await;
    }
}
