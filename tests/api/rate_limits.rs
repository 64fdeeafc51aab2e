use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, header, spawn_app_with, spawn_replica};

#[tokio::test]
async fn login_is_limited_per_client_address_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.rate_limit.per_ip = 3;
        s.rate_limit.window_secs = 3600;
    })
    .await;
    for attempt in 0..3 {
        let email = format!("someone{attempt}@example.com");
        assert_eq!(app.login(&email, "whatever1").await.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.login("someone-else@example.com", "whatever1").await;
    let retry_after: u64 = header(&response, "retry-after").and_then(|v| v.parse().ok()).unwrap_or(0);
    assert!((1..=3600).contains(&retry_after), "Retry-After was {retry_after}");
    let problem = assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(problem["code"], "rate_limited");
    // Other routes keep their own budget.
    let response = app.register(&json!({"email": "fresh@example.com", "password": "12345678"})).await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn login_is_limited_per_account_from_any_address() {
    let app = spawn_app_with(|s| {
        s.server.trust_proxy_headers = true;
        s.rate_limit.per_account = 2;
        s.rate_limit.window_secs = 3600;
    })
    .await;
    let attempt = |ip: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            .header("X-Forwarded-For", ip)
            .json(&json!({"email": "Target@example.com", "password": "guess-guess"}))
            .send()
    };
    assert_eq!(attempt("203.0.113.1").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(attempt("203.0.113.2").await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_problem(attempt("203.0.113.3").await.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_unless_trusted() {
    let app = spawn_app_with(|s| {
        s.rate_limit.per_ip = 2;
        s.rate_limit.window_secs = 3600;
    })
    .await;
    for ip in ["198.51.100.1", "198.51.100.2"] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/refresh"))
            .header("X-Forwarded-For", ip)
            .json(&json!({"refresh_token": "nope"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("X-Forwarded-For", "198.51.100.3")
        .json(&json!({"refresh_token": "nope"}))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn limits_hold_across_replicas_sharing_the_database() {
    let first = spawn_app_with(|s| {
        s.rate_limit.per_ip = 4;
        s.rate_limit.window_secs = 3600;
    })
    .await;
    let second = spawn_replica(&first).await;
    for app in [&first, &second, &first, &second] {
        assert_eq!(app.login("x@example.com", "whatever1").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_problem(second.login("x@example.com", "whatever1").await, StatusCode::TOO_MANY_REQUESTS).await;
    assert_problem(first.login("y@example.com", "whatever1").await, StatusCode::TOO_MANY_REQUESTS).await;
    second.stop().await;
}

#[tokio::test]
async fn client_written_forwarded_hops_cannot_dodge_the_limit() {
    let app = spawn_app_with(|s| {
        s.server.trust_proxy_headers = true;
        s.rate_limit.per_ip = 2;
        s.rate_limit.window_secs = 3600;
    })
    .await;
    let attempt = |n: u32| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            // The first hop is whatever the client wrote; the last is what our proxy saw.
            .header("X-Forwarded-For", format!("203.0.113.{n}, 192.0.2.10"))
            .header("Forwarded", format!("for=198.51.100.{n}"))
            .json(&json!({"email": format!("user{n}@example.com"), "password": "guess-guess"}))
            .send()
    };
    assert_eq!(attempt(1).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(attempt(2).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_problem(attempt(3).await.unwrap(), StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn ai_requests_are_limited_per_user_across_ai_routes() {
    let app = spawn_app_with(|s| {
        s.rate_limit.ai_per_user = 3;
        // Windows are aligned to multiples of their length: one this long never ends mid-test.
        s.rate_limit.window_secs = 1_000_000_000;
    })
    .await;
    let user = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let token = &user.access_token;
    let plan = app.create_plan(&json!({"goal": "Learn Rust", "duration_days": 1}), token).await;
    assert_eq!(plan.status(), StatusCode::CREATED);
    let chat = app.chat(&json!({"message": "hello"}), token).await;
    assert_eq!(chat.status(), StatusCode::OK);
    let steps = app.breakdown(&json!({"title": "Write the report"}), token).await;
    assert_eq!(steps.status(), StatusCode::OK);

    // The fourth AI request in the window, whichever route: refused before anything is stored.
    let response = app.chat(&json!({"message": "one more"}), token).await;
    assert!(header(&response, "retry-after").is_some());
    let problem = assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(problem["code"], "rate_limited");
    let sessions: Value = app.chat_sessions("", token).await.json().await.unwrap();
    assert_eq!(sessions["items"].as_array().unwrap().len(), 1, "the refused message started nothing");
    let response = app.create_plan(&json!({"goal": "Learn Go", "duration_days": 1}), token).await;
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;

    // Another user has their own count, and routes without AI are not counted.
    let response = app.chat(&json!({"message": "hi"}), &other.access_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.list_plans("", token).await.status(), StatusCode::OK);
}
