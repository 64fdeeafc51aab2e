//! `Idempotency-Key` on `POST /api/v1/plans`: a retry returns the first plan, never a second one.

use std::time::{Duration, Instant};

use planwright_store::ConnectionTrait;
use planwright_tests::fake_gemini::Fault;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, app_with_gemini, assert_problem, error_fields, header, spawn_app};

async fn create_plan(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/plans"))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .expect("request sent")
}

async fn plan_count(app: &TestApp, token: &str) -> usize {
    let page: Value = app.get("/api/v1/plans", Some(token)).await.json().await.unwrap();
    page["items"].as_array().unwrap().len()
}

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_plan_without_asking_the_ai_again() {
    let (app, gemini) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let body = json!({"goal": "Learn Rust", "duration_days": 2});
    let first = create_plan(&app, &user.access_token, "retry-1", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(header(&first, "idempotent-replayed"), None);
    let location = header(&first, "location").unwrap();
    let first: Value = first.json().await.unwrap();
    let calls = gemini.request_count();
    assert!(calls >= 1);

    let retry = create_plan(&app, &user.access_token, "retry-1", &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(header(&retry, "idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(header(&retry, "location"), Some(location));
    assert_eq!(header(&retry, "content-type").as_deref(), Some("application/json"));
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    assert_eq!(gemini.request_count(), calls, "the AI was not asked again");
    assert_eq!(plan_count(&app, &user.access_token).await, 1);

    // Without a key, or with another key, the same body makes another plan.
    let other = create_plan(&app, &user.access_token, "retry-2", &body).await;
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(header(&other, "idempotent-replayed"), None);
    let other: Value = other.json().await.unwrap();
    assert_ne!(other["id"], first["id"]);
    assert_eq!(plan_count(&app, &user.access_token).await, 2);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_refused_naming_the_header() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let first =
        create_plan(&app, &user.access_token, "k", &json!({"goal": "Learn Go", "duration_days": 2})).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let response =
        create_plan(&app, &user.access_token, "k", &json!({"goal": "Learn Go", "duration_days": 3})).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["Idempotency-Key"]);
    assert_eq!(plan_count(&app, &user.access_token).await, 1);
}

#[tokio::test]
async fn a_malformed_key_is_refused_naming_the_header() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let body = json!({"goal": "Learn Go", "duration_days": 2});
    for key in ["has a space".to_owned(), "k".repeat(256), String::new()] {
        let response = create_plan(&app, &user.access_token, &key, &body).await;
        let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(error_fields(&problem), ["Idempotency-Key"], "key {key:?}");
    }
    assert_eq!(plan_count(&app, &user.access_token).await, 0);
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = spawn_app().await;
    let (alice, bob) = (app.signed_in_user().await, app.signed_in_user().await);
    let body = json!({"goal": "Learn Go", "duration_days": 2});
    let a: Value = create_plan(&app, &alice.access_token, "shared", &body).await.json().await.unwrap();
    let response = create_plan(&app, &bob.access_token, "shared", &body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(header(&response, "idempotent-replayed"), None);
    let b: Value = response.json().await.unwrap();
    assert_ne!(a["id"], b["id"]);
    assert_eq!(plan_count(&app, &bob.access_token).await, 1);
}

#[tokio::test]
async fn a_failed_request_does_not_use_up_its_key() {
    let (app, gemini) = app_with_gemini(|s| s.ai.max_retries = 0).await;
    let user = app.signed_in_user().await;
    let body = json!({"goal": "Learn Rust", "duration_days": 2});
    gemini.push(Fault::Unavailable);
    let failed = create_plan(&app, &user.access_token, "after-failure", &body).await;
    assert!(failed.status().is_server_error(), "{}", failed.status());
    let retry = create_plan(&app, &user.access_token, "after-failure", &body).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(header(&retry, "idempotent-replayed"), None);
    assert_eq!(plan_count(&app, &user.access_token).await, 1);
}

#[tokio::test]
async fn a_concurrent_duplicate_is_a_409_and_makes_no_second_plan() {
    let (app, gemini) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let body = json!({"goal": "Learn Rust", "duration_days": 2});
    gemini.set_latency(Duration::from_secs(2));
    let first = {
        let (client, url, token, body) =
            (app.client.clone(), app.url("/api/v1/plans"), user.access_token.clone(), body.clone());
        tokio::spawn(async move {
            client.post(url).bearer_auth(token).header("Idempotency-Key", "twice").json(&body).send().await
        })
    };
    // Once the AI is being asked, the first request holds the key.
    let deadline = Instant::now() + Duration::from_secs(10);
    while gemini.request_count() == 0 {
        assert!(Instant::now() < deadline, "the first request never reached the AI");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = create_plan(&app, &user.access_token, "twice", &body).await;
    let problem = assert_problem(second, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "idempotency_in_progress");

    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    gemini.set_latency(Duration::ZERO);
    let calls = gemini.request_count();
    let third = create_plan(&app, &user.access_token, "twice", &body).await;
    assert_eq!(header(&third, "idempotent-replayed").as_deref(), Some("true"));
    let third: Value = third.json().await.unwrap();
    assert_eq!(third["id"], first["id"]);
    assert_eq!(gemini.request_count(), calls);
    assert_eq!(plan_count(&app, &user.access_token).await, 1);
}

#[tokio::test]
async fn expired_keys_are_forgotten_and_purged() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let first: Value =
        create_plan(&app, &user.access_token, "old", &json!({"goal": "Learn Go", "duration_days": 2}))
            .await
            .json()
            .await
            .unwrap();
    create_plan(&app, &user.access_token, "other", &json!({"goal": "Learn C", "duration_days": 2})).await;
    // A day later (as the table sees it).
    app.db
        .writer()
        .execute_unprepared("UPDATE idempotency_keys SET expires_at = expires_at - 86401")
        .await
        .unwrap();
    let again =
        create_plan(&app, &user.access_token, "old", &json!({"goal": "Learn Go", "duration_days": 3})).await;
    assert_eq!(again.status(), StatusCode::CREATED, "an expired key may be used for a new request");
    let again: Value = again.json().await.unwrap();
    assert_ne!(again["id"], first["id"]);
    let left = app
        .db
        .writer()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db.writer().get_database_backend(),
            "SELECT key FROM idempotency_keys",
        ))
        .await
        .unwrap();
    let keys: Vec<String> = left.iter().map(|row| row.try_get("", "key").unwrap()).collect();
    assert_eq!(keys, ["old"], "the expired `other` was purged; the renewed `old` kept");
}
