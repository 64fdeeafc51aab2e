//! The OpenAPI document as a frontend developer reads it in Swagger UI: every operation described,
//! every answer with an example of its own, and the problem bodies it promises.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{assert_problem, header, spawn_app};

#[tokio::test]
async fn problem_bodies_carry_the_request_id_of_the_response_header() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let missing = app.get(&format!("/api/v1/plans/{}", uuid::Uuid::new_v4()), Some(&user.access_token)).await;
    let invalid = app.post_json("/api/v1/plans", &json!({"goal": "", "duration_days": 0}), Some(&user.access_token)).await;
    let unknown_route = app.get("/api/v1/no-such-thing", None).await;
    for (response, status) in [
        (missing, StatusCode::NOT_FOUND),
        (invalid, StatusCode::UNPROCESSABLE_ENTITY),
        (unknown_route, StatusCode::NOT_FOUND),
    ] {
        let id = header(&response, "x-request-id").expect("x-request-id header");
        let problem = assert_problem(response, status).await;
        assert_eq!(problem["request_id"], id.as_str(), "{problem}");
    }
}

#[tokio::test]
async fn swagger_ui_keeps_the_bearer_token_across_reloads() {
    let app = spawn_app().await;
    let response = app.get("/docs/swagger-initializer.js", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let script = response.text().await.unwrap();
    let compact: String = script.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(compact.contains(r#""persistAuthorization":true"#), "{script}");
    assert!(compact.contains(r#""url":"/openapi.json""#), "{script}");
}
