//! Plans and breakdowns through Gemini, against the fake Gemini server.

use std::time::Duration;

use planwright_tests::fake_gemini::Fault;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, app_with_gemini, assert_problem};

async fn create_plan(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json(
        "/api/v1/plans",
        &json!({"goal": "Learn FastAPI", "duration_days": 2, "context": {"notes": "evenings only"}}),
        Some(token),
    )
    .await
}

#[tokio::test]
async fn gemini_writes_the_plan_and_its_usage_is_kept() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let response = create_plan(&app, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let plan: Value = response.json().await.unwrap();
    assert_eq!(plan["model"], "gemini-2.5-flash");
    assert!(plan["usage"]["total_tokens"].as_u64().unwrap() > 0, "{plan}");
    assert!(!plan["tasks"].as_array().unwrap().is_empty());

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    let instructions = body["systemInstruction"]["parts"][0]["text"].as_str().unwrap();
    assert!(instructions.contains("JSON"), "{instructions}");
    let user_text = body["contents"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(user_text.contains("Learn FastAPI") && user_text.contains("evenings only"), "{user_text}");
    assert!(!instructions.contains("Learn FastAPI"), "the goal stays out of the instructions");
    assert_eq!(body["generationConfig"]["responseMimeType"], "application/json");
    assert!(body["generationConfig"]["responseJsonSchema"]["properties"]["tasks"].is_object());

    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"planwright_upstream_calls_total{outcome="ok",service="gemini"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_rate_limit_then_success_is_retried_transparently() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::RateLimited { retry_delay: Duration::from_millis(50) });
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn a_persistent_503_is_a_503_problem_after_the_retries() {
    let (app, fake) = app_with_gemini(|s| s.ai.max_retries = 2).await;
    let user = app.signed_in_user().await;
    for _ in 0..3 {
        fake.push(Fault::Unavailable);
    }
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap().contains("AI service"), "{problem}");
    assert_eq!(fake.request_count(), 3);
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(
        metrics.contains(r#"planwright_upstream_calls_total{outcome="unavailable",service="gemini"} 1"#),
        "{metrics}"
    );
    let plans: Value = app.get("/api/v1/plans", Some(&user.access_token)).await.json().await.unwrap();
    assert_eq!(plans["items"], json!([]), "nothing half-made is stored");
}

#[tokio::test]
async fn a_spent_daily_quota_is_not_retried() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::DailyQuota);
    assert_problem(create_plan(&app, &user.access_token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(fake.request_count(), 1);
}

#[tokio::test]
async fn malformed_json_is_asked_for_again_with_the_problem() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::MalformedJson);
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let retry = requests[1].body["contents"][0]["parts"][0]["text"].as_str().unwrap();
    assert!(retry.contains("previous answer was rejected"), "{retry}");
}

#[tokio::test]
async fn malformed_json_twice_is_a_502() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::MalformedJson);
    fake.push(Fault::MalformedJson);
    let problem = assert_problem(create_plan(&app, &user.access_token).await, StatusCode::BAD_GATEWAY).await;
    assert_eq!(problem["code"], "bad_gateway");
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn an_invalid_plan_is_corrected_once_then_refused() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::InvalidPlan);
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let retry = fake.requests()[1].body["contents"][0]["parts"][0]["text"].as_str().unwrap().to_owned();
    assert!(retry.contains("duration_minutes") || retry.contains("day_offset"), "{retry}");

    fake.push(Fault::InvalidPlan);
    fake.push(Fault::InvalidPlan);
    assert_problem(create_plan(&app, &user.access_token).await, StatusCode::BAD_GATEWAY).await;
}

#[tokio::test]
async fn a_safety_block_is_a_422_saying_the_ai_declined() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::SafetyBlock);
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "ai_declined");
    assert!(problem["detail"].as_str().unwrap().contains("declined"));
    fake.push(Fault::PromptBlocked);
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "ai_declined");
}

#[tokio::test]
async fn a_slow_gemini_is_a_504() {
    let (app, fake) = app_with_gemini(|s| {
        s.ai.timeout_secs = 1;
        s.ai.max_retries = 0;
    })
    .await;
    let user = app.signed_in_user().await;
    fake.push(Fault::Latency(Duration::from_secs(3)));
    let problem =
        assert_problem(create_plan(&app, &user.access_token).await, StatusCode::GATEWAY_TIMEOUT).await;
    assert_eq!(problem["code"], "gateway_timeout");
}

#[tokio::test]
async fn a_bad_key_is_a_503_and_never_leaks_the_key() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    fake.push(Fault::BadKey);
    let response = create_plan(&app, &user.access_token).await;
    let problem = assert_problem(response, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(!problem.to_string().contains(fake.api_key()));
    assert_eq!(fake.request_count(), 1, "a refused key is not retried");
    assert_eq!(fake.requests()[0].headers.get("x-goog-api-key").map(String::as_str), Some(fake.api_key()));
    assert!(!fake.requests()[0].path.contains(fake.api_key()));
}

#[tokio::test]
async fn spending_the_budget_turns_the_next_call_into_a_429() {
    let (app, _fake) = app_with_gemini(|s| s.ai.daily_token_budget = 1).await;
    let user = app.signed_in_user().await;
    assert_eq!(create_plan(&app, &user.access_token).await.status(), StatusCode::CREATED);
    let response =
        app.post_json("/api/v1/ai/breakdown", &json!({"title": "More"}), Some(&user.access_token)).await;
    let problem = assert_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(problem["code"], "ai_budget_exhausted");
}

#[tokio::test]
async fn gemini_breaks_a_task_down_with_and_without_saving() {
    let (app, fake) = app_with_gemini(|_| {}).await;
    let user = app.signed_in_user().await;
    let task: Value = app
        .post_json("/api/v1/tasks", &json!({"title": "Write the report"}), Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/v1/tasks/{}/breakdown", task["id"].as_str().unwrap());
    let proposal: Value =
        app.post_json(&path, &json!({}), Some(&user.access_token)).await.json().await.unwrap();
    let steps = proposal["subtasks"].as_array().unwrap().len();
    assert!((2..=5).contains(&steps), "{proposal}");
    let response = app.post_json(&path, &json!({"save": true}), Some(&user.access_token)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let saved: Value = response.json().await.unwrap();
    assert!(saved["tasks"].as_array().unwrap().iter().all(|t| t["parent_id"] == task["id"]));
    let asked = fake.requests()[0].body["contents"][0]["parts"][0]["text"].as_str().unwrap().to_owned();
    assert!(asked.contains("Write the report"), "{asked}");
    let stateless = app
        .post_json("/api/v1/ai/breakdown", &json!({"title": "Plan a trip"}), Some(&user.access_token))
        .await;
    assert_eq!(stateless.status(), StatusCode::OK);
}
