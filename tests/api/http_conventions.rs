//! HTTP conventions every route keeps: `Location` on a 201.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, header, spawn_app};

/// Every `(METHOD, path)` of the document that answers 201.
fn operations_with_201() -> BTreeSet<String> {
    let document = serde_json::to_value(planwright_api::openapi::document()).unwrap();
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(created) = operation["responses"].get("201") {
                assert!(
                    created["headers"].get("Location").is_some(),
                    "{method} {path}: its 201 does not document Location"
                );
                found.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    found
}

/// POSTs `body` to `path`, checks the 201 and its `Location`, and returns both.
async fn create(app: &TestApp, path: &str, body: Value, token: Option<&str>) -> (String, Value) {
    let response = app.post_json(path, &body, token).await;
    assert_eq!(response.status(), StatusCode::CREATED, "POST {path}");
    let location = header(&response, "location").unwrap_or_else(|| panic!("POST {path}: no Location"));
    assert!(location.starts_with("/api/v1/"), "POST {path}: Location {location} is not an absolute path");
    (location, response.json().await.unwrap())
}

async fn read(app: &TestApp, location: &str, token: &str) -> Value {
    let response = app.get(location, Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {location}");
    response.json().await.unwrap()
}

#[test]
fn every_201_documents_its_location() {
    assert!(operations_with_201().len() >= 8);
}

#[tokio::test]
async fn every_201_has_a_location_that_reads_back_what_was_created() {
    let app = spawn_app().await;
    let mut checked = BTreeSet::new();

    let register = "/api/v1/auth/register";
    let (location, session) = create(
        &app,
        register,
        json!({"email": "location@example.com", "password": "correct horse battery staple"}),
        None,
    )
    .await;
    let token = session["access_token"].as_str().unwrap().to_owned();
    assert_eq!(read(&app, &location, &token).await, session["user"]);
    checked.insert(format!("POST {register}"));

    for (path, body) in [
        ("/api/v1/plans", json!({"goal": "Learn Rust", "duration_days": 2})),
        ("/api/v1/tasks", json!({"title": "Write the report"})),
        ("/api/v1/knowledge", json!({"title": "Graphs", "content": "BFS visits by layers."})),
        ("/api/v1/resources", json!({"type": "note", "name": "Syllabus", "content": {"weeks": 12}})),
        (
            "/api/v1/calendar/events",
            json!({"summary": "Revise", "start": "2031-03-03T10:00:00Z", "end": "2031-03-03T11:00:00Z"}),
        ),
    ] {
        let (location, created) = create(&app, path, body, Some(&token)).await;
        assert!(location.ends_with(created["id"].as_str().unwrap()), "{path}: {location}");
        assert_eq!(read(&app, &location, &token).await, created, "GET {location}");
        checked.insert(format!("POST {path}"));
    }

    let task: Value = app
        .post_json("/api/v1/tasks", &json!({"title": "Prepare the talk"}), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    let breakdown = "/api/v1/tasks/{id}/breakdown";
    let path = breakdown.replace("{id}", task["id"].as_str().unwrap());
    let (location, created) = create(&app, &path, json!({"save": true}), Some(&token)).await;
    let listed = read(&app, &location, &token).await;
    let ids = |tasks: &Value| -> BTreeSet<String> {
        tasks.as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_owned()).collect()
    };
    assert!(!ids(&created["tasks"]).is_empty());
    assert_eq!(ids(&listed["items"]), ids(&created["tasks"]), "GET {location} lists the new sub-tasks");
    checked.insert(format!("POST {breakdown}"));

    let feed = "/api/v1/calendar/feed";
    let (location, created) = create(&app, feed, json!({}), Some(&token)).await;
    assert!(created["url"].as_str().unwrap().ends_with(&location));
    let response = app.get(&location, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(header(&response, "content-type").unwrap().starts_with("text/calendar"));
    checked.insert(format!("POST {feed}"));

    assert_eq!(checked, operations_with_201(), "every operation with a 201 is checked here");
}

/// Every `(METHOD, path)` of the document whose JSON body is optional (no field required).
fn operations_with_optional_bodies() -> BTreeSet<(String, String)> {
    let document = serde_json::to_value(planwright_api::openapi::document()).unwrap();
    let mut found = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if let Some(body) = operation.get("requestBody")
                && body["required"] != json!(true)
            {
                found.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_optional_body_may_be_left_out() {
    let optional = operations_with_optional_bodies();
    assert!(optional.contains(&("POST".to_owned(), "/api/v1/tasks/{id}/breakdown".to_owned())));
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = user.access_token.as_str();
    let id_of = |value: Value| value["id"].as_str().unwrap().to_owned();
    let plan =
        app.post_json("/api/v1/plans", &json!({"goal": "Learn Go", "duration_days": 2}), Some(token)).await;
    let plan = id_of(plan.json().await.unwrap());
    let task = app.post_json("/api/v1/tasks", &json!({"title": "Prepare"}), Some(token)).await;
    let task = id_of(task.json().await.unwrap());
    let doc = app.post_json("/api/v1/knowledge", &json!({"title": "T", "content": "C"}), Some(token)).await;
    let doc = id_of(doc.json().await.unwrap());
    let resource = app
        .post_json("/api/v1/resources", &json!({"type": "note", "name": "N", "content": 1}), Some(token))
        .await;
    let resource = id_of(resource.json().await.unwrap());
    let connections = app.get("/api/v1/calendar/connections", Some(token)).await;
    let connection: Value = connections.json().await.unwrap();
    let connection = id_of(connection["items"][0].clone());
    for (method, template) in &optional {
        let id = match template.split('/').nth(3) {
            Some("calendar") => &connection,
            Some("plans") => &plan,
            Some("tasks") => &task,
            Some("knowledge") => &doc,
            Some("resources") => &resource,
            _ => "",
        };
        let path = template.replace("{id}", id);
        assert!(!path.contains('{'), "{method} {template}: no fixture for its path");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        // No body and no Content-Type, then an empty body declared as JSON.
        let bare =
            app.client.request(method.clone(), app.url(&path)).bearer_auth(token).send().await.unwrap();
        assert!(bare.status().is_success(), "{method} {path} without a body: {}", bare.status());
        let empty = app
            .client
            .request(method.clone(), app.url(&path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert!(empty.status().is_success(), "{method} {path} with an empty JSON body: {}", empty.status());
    }
}

#[tokio::test]
async fn a_task_breaks_down_without_a_body_but_not_with_a_body_of_another_type() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let task: Value = app
        .post_json("/api/v1/tasks", &json!({"title": "Prepare the talk"}), Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    let url = app.url(&format!("/api/v1/tasks/{}/breakdown", task["id"].as_str().unwrap()));
    let response = app.client.post(&url).bearer_auth(&user.access_token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no body is `{{}}`: steps, nothing saved");
    let steps: Value = response.json().await.unwrap();
    assert!(steps["subtasks"].as_array().unwrap().len() >= 2);
    assert_eq!(steps["tasks"], Value::Null);
    let typed = app
        .client
        .post(&url)
        .bearer_auth(&user.access_token)
        .header("content-type", "text/plain")
        .body("save")
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(typed, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    // A route whose body has required fields still wants one.
    let bare =
        app.client.post(app.url("/api/v1/tasks")).bearer_auth(&user.access_token).send().await.unwrap();
    crate::helpers::assert_problem(bare, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
}

/// GETs and HEADs `path`; checks that HEAD has GET's status and headers and no body.
async fn assert_head_like_get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let request = |method: reqwest::Method| {
        let builder = app.client.request(method, app.url(path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    };
    let get = request(reqwest::Method::GET).send().await.unwrap();
    let head = request(reqwest::Method::HEAD).send().await.unwrap();
    assert_eq!(head.status(), get.status(), "HEAD {path}");
    for name in ["content-type", "etag", "cache-control"] {
        assert_eq!(header(&head, name), header(&get, name), "HEAD {path}: {name}");
    }
    let get_length = header(&get, "content-length");
    let head = {
        let length = header(&head, "content-length");
        // Metrics count the requests themselves, so their length moves between two calls.
        if let (Some(head_length), Some(get_length), false) = (&length, &get_length, path == "/metrics") {
            assert_eq!(head_length, get_length, "HEAD {path}: content-length");
        }
        head
    };
    let (head_status, body) = (head.status(), head.bytes().await.unwrap());
    assert!(body.is_empty(), "HEAD {path} sent a body");
    assert_eq!(head_status, StatusCode::OK, "HEAD {path}");
    get
}

#[tokio::test]
async fn head_is_answered_wherever_get_is() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    for path in ["/health", "/ready", "/metrics", "/openapi.json"] {
        assert_head_like_get(&app, path, None).await;
    }
    assert_head_like_get(&app, "/api/v1/me", Some(&user.access_token)).await;
    assert_head_like_get(&app, "/api/v1/plans", Some(&user.access_token)).await;
    let health = app.client.head(app.url("/health")).send().await.unwrap();
    assert_eq!(
        header(&health, "content-length").as_deref(),
        Some(r#"{"status":"ok"}"#.len().to_string().as_str())
    );

    let feed: Value = app
        .post_json("/api/v1/calendar/feed", &json!({}), Some(&user.access_token))
        .await
        .json()
        .await
        .unwrap();
    let path = feed["url"].as_str().unwrap().trim_start_matches(&app.address).to_owned();
    let get = assert_head_like_get(&app, &path, None).await;
    assert!(header(&get, "etag").is_some(), "the feed has an ETag, and HEAD gives the same");

    // HEAD keeps its own answers where GET has none.
    let response = app.client.head(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = app.client.head(app.url("/api/v1/auth/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&response, "allow").as_deref(), Some("POST"));
}
