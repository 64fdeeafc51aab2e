use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_problem, error_fields, header, spawn_app, spawn_app_with};

async fn post_raw(
    app: &crate::helpers::TestApp,
    path: &str,
    content_type: &str,
    body: &'static str,
) -> reqwest::Response {
    app.client.post(app.url(path)).header("content-type", content_type).body(body).send().await.unwrap()
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = spawn_app().await;
    let problem = assert_problem(
        post_raw(&app, "/api/v1/auth/login", "application/json", "{\"email\": ").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("not valid JSON"), "{problem}");
    assert_problem(
        post_raw(&app, "/api/v1/auth/login", "application/json", "").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn missing_fields_are_422_naming_the_field() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.register(&json!({"password": "12345678"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["email"]);
}

#[tokio::test]
async fn wrong_field_types_are_422_naming_the_field() {
    let app = spawn_app().await;
    let problem = assert_problem(
        app.register(&json!({"email": 42, "password": "12345678"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["email"]);
    let body = json!({"email": "a@example.com", "password": "12345678", "working_hours": {"start": "09:00", "end": "17:00", "days": [1, "two"]}});
    let problem = assert_problem(app.register(&body).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(error_fields(&problem), ["working_hours.days[1]"]);
    let problem =
        assert_problem(app.register(&json!(["not", "an", "object"])).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(error_fields(&problem), ["body"]);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415() {
    let app = spawn_app().await;
    let response =
        post_raw(&app, "/api/v1/auth/login", "application/x-www-form-urlencoded", "email=a&password=b").await;
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    let response = app.client.post(app.url("/api/v1/auth/login")).body("{}").send().await.unwrap();
    assert_problem(response, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app_with(|s| s.server.json_body_limit_bytes = 1024).await;
    let body = json!({"email": "a@example.com", "password": "x".repeat(2000)});
    let problem = assert_problem(app.register(&body).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(problem["detail"].as_str().unwrap().contains("1024"));
    // A chunked body without Content-Length is cut off at the limit too.
    let stream = futures_stream(vec![vec![b' '; 800], vec![b' '; 800]]);
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

fn futures_stream(
    chunks: Vec<Vec<u8>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + Sync + 'static {
    futures_util::stream::iter(chunks.into_iter().map(Ok))
}

#[tokio::test]
async fn an_unknown_route_is_a_404_problem() {
    let app = spawn_app().await;
    let problem = assert_problem(app.get("/api/v1/nothing-here", None).await, StatusCode::NOT_FOUND).await;
    let detail = problem["detail"].as_str().unwrap();
    // The caller's path is not echoed (it may hold `..` or anything else); the method and the
    // way to the documentation are.
    assert_eq!(detail, "No route answers GET at this path. The API is described at /docs.");
}

#[tokio::test]
async fn a_wrong_method_is_a_405_problem_listing_the_allowed_ones() {
    let app = spawn_app().await;
    let response = app.client.put(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(header(&response, "allow").as_deref(), Some("DELETE, GET, HEAD, PATCH"));
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    let response = app.client.get(app.url("/api/v1/auth/login")).send().await.unwrap();
    assert_eq!(header(&response, "allow").as_deref(), Some("POST"));
    assert_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
}
