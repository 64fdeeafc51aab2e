use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_problem, header, poll_until, spawn_app};

#[tokio::test]
async fn health_answers_ok_and_echoes_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/health", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let request_id = header(&response, "x-request-id");
    assert!(request_id.is_some_and(|id| id.len() >= 32), "missing x-request-id");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn every_response_gets_its_own_request_id() {
    let app = spawn_app().await;
    let first = app.get("/health", None).await;
    let second = app.get("/no/such/route", None).await;
    let id = |r: &reqwest::Response| header(r, "x-request-id");
    assert!(id(&second).is_some(), "error responses carry a request id too");
    assert_ne!(id(&first), id(&second));
}

#[tokio::test]
async fn ready_answers_200_when_the_database_answers() {
    let app = spawn_app().await;
    let response = app.get("/ready", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert!(body["database"] == "sqlite" || body["database"] == "postgres", "{body}");
}

#[tokio::test]
async fn ready_answers_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    app.db.clone().close().await.unwrap();
    let problem = assert_problem(app.get("/ready", None).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(problem["code"], "service_unavailable");
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_method_and_status() {
    let app = spawn_app().await;
    app.get("/health", None).await;
    app.get("/health", None).await;
    app.get("/api/v1/me", None).await;
    let response = app.get("/metrics", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"planwright_http_requests_total{method="GET",route="/health",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"planwright_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"planwright_http_request_duration_seconds_bucket{method="GET",route="/health",le="0.001"}"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn docs_serve_the_swagger_ui_page() {
    let app = spawn_app().await;
    let response = app.get("/docs", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "not the Swagger UI page: {}", &html[..html.len().min(300)]);
    let initializer = app.get("/docs/swagger-initializer.js", None).await.text().await.unwrap();
    assert!(initializer.contains("/openapi.json"), "Swagger UI does not load our document: {initializer}");
}

#[tokio::test]
async fn openapi_json_is_served_and_lists_every_route() {
    let app = spawn_app().await;
    let response = app.get("/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in [
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
        ("/api/v1/auth/register", "post"),
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/me", "delete"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not documented");
    }
    assert_eq!(document["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test]
async fn cors_preflight_allows_configured_origins_only() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.cors.allowed_origins = vec!["https://app.example.com".to_owned()];
        s.cors.allow_credentials = true;
    })
    .await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PATCH")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let allowed = preflight("https://app.example.com").await.unwrap();
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(header(&allowed, "access-control-allow-origin").as_deref(), Some("https://app.example.com"));
    assert_eq!(header(&allowed, "access-control-allow-credentials").as_deref(), Some("true"));

    let refused = preflight("https://evil.example.net").await.unwrap();
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    assert_problem(refused, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_in_flight_requests_and_refuses_new_ones() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = crate::helpers::spawn_app().await;
    let address = app.address.trim_start_matches("http://").to_owned();
    // One raw keep-alive connection: a first request proves the server owns it, then a second
    // request stays in flight with half its body sent.
    let mut connection = tokio::net::TcpStream::connect(&address).await.unwrap();
    connection.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
    let mut buffer = vec![0u8; 4096];
    let read = connection.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));

    let body = br#"{"email": "slow@example.com", "password": "whatever1"}"#;
    let (first, rest) = body.split_at(20);
    let head = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    connection.write_all(head.as_bytes()).await.unwrap();
    // "100 Continue" means the server has parsed the request: it is in flight from here on.
    let read = connection.read(&mut buffer).await.unwrap();
    assert!(
        String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 100"),
        "{}",
        String::from_utf8_lossy(&buffer[..read])
    );
    connection.write_all(first).await.unwrap();

    let stopping = tokio::spawn({
        let handle = app.handle();
        async move { handle.stop(true).await }
    });
    // New connections are refused once the server stops accepting.
    poll_until(Duration::from_secs(5), "the stopping server to refuse new connections", || async {
        tokio::net::TcpStream::connect(&address).await.is_err()
    })
    .await;
    assert!(!stopping.is_finished(), "the server stopped before its in-flight request finished");

    connection.write_all(rest).await.unwrap();
    let mut answer = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !String::from_utf8_lossy(&answer).contains("invalid_credentials") {
        let read = tokio::time::timeout_at(deadline, connection.read(&mut buffer))
            .await
            .expect("answer in time")
            .unwrap();
        assert!(read > 0, "connection closed without an answer: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..read]);
    }
    assert!(
        String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 401"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    drop(connection);
    tokio::time::timeout(std::time::Duration::from_secs(10), stopping)
        .await
        .expect("server stopped")
        .unwrap();
}

#[tokio::test]
async fn api_routes_answer_503_when_the_database_is_gone() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    app.db.clone().close().await.unwrap();
    let problem = assert_problem(app.get_me(&user.access_token).await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert!(problem["detail"].as_str().unwrap().contains("database"), "{problem}");
    assert_problem(app.login(&user.email, &user.password).await, StatusCode::SERVICE_UNAVAILABLE).await;
}
