//! The input policy end to end, generated from the OpenAPI document so that every route, present
//! and future, is covered: U+0000 in any text field or string query parameter, a date without a
//! four-digit year, a date-time without an offset and a value of the wrong type are each a 4xx
//! naming the field — never a 5xx — on SQLite and (with `TEST_DATABASE_URL`) PostgreSQL.

use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app};

/// One request the walk generates: where to send it and which field the answer must name.
#[derive(Debug)]
struct Probe {
    method: Method,
    path: String,
    field: String,
    body: Option<Value>,
    query: Option<String>,
}

/// The operations of the document: (method, path with ids filled in, operation).
fn operations(document: &Value) -> Vec<(Method, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            found.push((method, fill_path(path), operation.clone()));
        }
    }
    found
}

/// `/api/v1/tasks/{id}` → `/api/v1/tasks/<a random uuid>`: the body and query are read before
/// the id is looked up, so any well-formed id will do.
fn fill_path(path: &str) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        filled.push_str(&Uuid::new_v4().to_string());
        rest = &rest[close..];
    }
    filled.push_str(rest);
    filled
}

/// Follows `$ref`s (and a nullable `oneOf`/`anyOf` wrapper) to the schema itself.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.rsplit('/').next().unwrap_or_default();
        return resolve(document, &document["components"]["schemas"][name]);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(options) = schema[key].as_array()
            && let Some(option) = options.iter().find(|o| o["type"] != "null")
        {
            return resolve(document, option);
        }
    }
    schema
}

/// The schema's type other than `null`.
fn type_of(schema: &Value) -> Option<&str> {
    match &schema["type"] {
        Value::String(kind) => Some(kind),
        Value::Array(kinds) => kinds.iter().filter_map(Value::as_str).find(|k| *k != "null"),
        _ => None,
    }
}

/// A leaf of a request body: its serde path, its schema, and how to wrap a value in a body
/// holding only that leaf.
struct Leaf<'a> {
    field: String,
    schema: &'a Value,
    wrap: Vec<Step>,
    /// The operation's example body, when its schema has one.
    example: Option<&'a Value>,
}

#[derive(Clone)]
enum Step {
    Key(String),
    Index,
}

fn leaves<'a>(document: &'a Value, schema: &'a Value, field: &str, wrap: &[Step], out: &mut Vec<Leaf<'a>>) {
    let schema = resolve(document, schema);
    match type_of(schema) {
        Some("object") => {
            let properties = schema["properties"].as_object();
            if properties.is_none_or(Map::is_empty) && !field.is_empty() {
                // Free-form JSON (plan context, resource content): any key holds text.
                let mut wrap = wrap.to_vec();
                wrap.push(Step::Key("note".to_owned()));
                out.push(Leaf {
                    field: format!("{field}.note"),
                    schema: &STRING_SCHEMA,
                    wrap,
                    example: None,
                });
            }
            for (name, property) in properties.into_iter().flatten() {
                let child = if field.is_empty() { name.clone() } else { format!("{field}.{name}") };
                let mut wrap = wrap.to_vec();
                wrap.push(Step::Key(name.clone()));
                leaves(document, property, &child, &wrap, out);
            }
        }
        Some("array") => {
            let mut wrap = wrap.to_vec();
            wrap.push(Step::Index);
            leaves(document, &schema["items"], &format!("{field}[0]"), &wrap, out);
        }
        _ if !field.is_empty() => {
            out.push(Leaf { field: field.to_owned(), schema, wrap: wrap.to_vec(), example: None })
        }
        _ => {}
    }
}

static STRING_SCHEMA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| json!({"type": "string"}));

fn wrapped(wrap: &[Step], value: Value) -> Value {
    wrap.iter().rev().fold(value, |inner, step| match step {
        Step::Key(key) => json!({ key.clone(): inner }),
        Step::Index => json!([inner]),
    })
}

/// The operation's example body with `value` put at the leaf's place, so every other field is
/// valid; a body holding only the leaf when there is no example (or the place is in an array).
fn in_example(leaf: &Leaf<'_>, value: Value) -> Value {
    let Some(mut body) = leaf.example.cloned() else { return wrapped(&leaf.wrap, value) };
    let mut place = &mut body;
    for step in &leaf.wrap {
        let Step::Key(key) = step else { return wrapped(&leaf.wrap, value) };
        if !place.is_object() {
            *place = json!({});
        }
        place = &mut place[key.as_str()];
    }
    *place = value;
    body
}

/// Every body leaf of every operation, with the operation it belongs to.
fn body_leaves(document: &Value) -> Vec<(Method, String, Leaf<'_>)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let Ok(method) = method.to_uppercase().parse::<Method>() else { continue };
            let schema = &operation["requestBody"]["content"]["application/json"]["schema"];
            if schema.is_null() {
                continue;
            }
            let mut out = Vec::new();
            leaves(document, schema, "", &[], &mut out);
            let example = Some(&resolve(document, schema)["example"]).filter(|e| e.is_object());
            found.extend(
                out.into_iter().map(|leaf| (method.clone(), fill_path(path), Leaf { example, ..leaf })),
            );
        }
    }
    found
}

/// Google's OAuth callback: the browser lands there, so it answers every query with a redirect
/// (and stores none of it); `calendar::the_oauth_state_is_single_use…` covers it.
const REDIRECT_ONLY: &str = "/api/v1/calendar/google/callback";

/// The string query parameters of every operation.
fn string_query_parameters(document: &Value) -> Vec<(Method, String, String)> {
    let mut found = Vec::new();
    for (method, path, operation) in operations(document) {
        if path == REDIRECT_ONLY {
            continue;
        }
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            let parameter = resolve(document, parameter);
            if parameter["in"] == "query"
                && type_of(resolve(document, &parameter["schema"])) == Some("string")
            {
                let name = parameter["name"].as_str().unwrap_or_default().to_owned();
                found.push((method.clone(), path.clone(), name));
            }
        }
    }
    found
}

async fn send(app: &TestApp, token: &str, probe: &Probe) -> reqwest::Response {
    let url = match &probe.query {
        Some(query) => format!("{}?{query}", app.url(&probe.path)),
        None => app.url(&probe.path),
    };
    let mut request = app.client.request(probe.method.clone(), url).bearer_auth(token);
    if let Some(body) = &probe.body {
        request = request.json(body);
    }
    request.send().await.expect("request sent")
}

/// Sends every probe; returns a line per probe whose answer was not `status` naming its field.
async fn failures(app: &TestApp, token: &str, probes: &[Probe], status: StatusCode) -> Vec<String> {
    let mut failed = Vec::new();
    for probe in probes {
        let response = send(app, token, probe).await;
        let got = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if got != status || !error_fields(&body).contains(&probe.field) {
            failed.push(format!(
                "{} {} {}: expected {status} naming `{}`, got {got} {body}",
                probe.method,
                probe.path,
                probe.query.as_deref().unwrap_or(""),
                probe.field
            ));
        }
    }
    failed
}

async fn document(app: &TestApp) -> Value {
    app.get("/openapi.json", None).await.json().await.expect("the OpenAPI document")
}

#[tokio::test]
async fn nul_in_any_text_field_of_the_openapi_document_is_422_naming_it() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let document = document(&app).await;
    let probes: Vec<Probe> = body_leaves(&document)
        .into_iter()
        .filter(|(_, _, leaf)| type_of(leaf.schema) == Some("string"))
        .map(|(method, path, leaf)| Probe {
            method,
            path,
            body: Some(wrapped(&leaf.wrap, json!("a\u{0}b"))),
            field: leaf.field,
            query: None,
        })
        .collect();
    assert!(probes.len() >= 30, "the walk found only {} text fields: {probes:?}", probes.len());
    let failed = failures(&app, &user.access_token, &probes, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(failed.is_empty(), "{} of {} text fields:\n{}", failed.len(), probes.len(), failed.join("\n"));
}

#[tokio::test]
async fn nul_in_any_string_query_parameter_is_422_naming_it() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let document = document(&app).await;
    let probes: Vec<Probe> = string_query_parameters(&document)
        .into_iter()
        .map(|(method, path, name)| Probe {
            method,
            path,
            body: None,
            query: Some(format!("{name}=a%00b")),
            field: name,
        })
        .collect();
    assert!(probes.len() >= 8, "the walk found only {} query parameters: {probes:?}", probes.len());
    let failed = failures(&app, &user.access_token, &probes, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(failed.is_empty(), "{} of {} parameters:\n{}", failed.len(), probes.len(), failed.join("\n"));
    // The redirect-only callback sends the browser back with an error instead.
    let response = app.google_callback("state=a%00b&code=c%00d").await;
    assert!(
        response.status().is_redirection() || response.status().is_client_error(),
        "{}",
        response.status()
    );
}

#[tokio::test]
async fn other_control_characters_are_refused_but_tab_and_newline_pass() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    for control in ['\u{1}', '\u{8}', '\u{1b}', '\u{1f}'] {
        let body = json!({"title": format!("Report{control}"), "description": "fine"});
        let problem = assert_problem(
            app.create_task(&body, &user.access_token).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(error_fields(&problem), ["title"]);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("U+00"), "{problem}");
    }
    let body = json!({"title": "Report", "description": "line one\nline two\r\n\tindented"});
    let response = app.create_task(&body, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["description"], "line one\nline two\r\n\tindented");
    // Keys of free-form JSON are text too.
    let body = json!({"type": "note", "name": "n", "content": {"ok": {"bad\u{0}key": 1}}});
    let problem = assert_problem(
        app.create_resource(&body, &user.access_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["content.ok.bad\u{0}key"]);
}

#[tokio::test]
async fn dates_without_a_four_digit_year_and_date_times_without_an_offset_are_422() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let document = document(&app).await;
    let mut probes = Vec::new();
    for (method, path, leaf) in body_leaves(&document) {
        let bad = match leaf.schema["format"].as_str() {
            Some("date") => ["27-02-01", "2026-2-1", "+2026-02-01"].map(Value::from).to_vec(),
            Some("date-time") => {
                ["2026-12-01T09:00:00", "26-12-01T09:00:00Z", "2026-12-01 09:00"].map(Value::from).to_vec()
            }
            _ => continue,
        };
        for value in bad {
            probes.push(Probe {
                method: method.clone(),
                path: path.clone(),
                body: Some(wrapped(&leaf.wrap, value)),
                field: leaf.field.clone(),
                query: None,
            });
        }
    }
    assert!(probes.len() >= 12, "the walk found only {} date fields: {probes:?}", probes.len());
    let failed = failures(&app, &user.access_token, &probes, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(failed.is_empty(), "{} of {} dates:\n{}", failed.len(), probes.len(), failed.join("\n"));

    // The right forms still work.
    let plan = json!({"goal": "Run 5k", "duration_days": 2, "start_date": "2026-12-01"});
    let response = app.create_plan(&plan, &user.access_token).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let task = json!({"title": "Report", "due_at": "2026-12-04T17:00:00+01:00"});
    let created: Value = app.create_task(&task, &user.access_token).await.json().await.unwrap();
    assert_eq!(created["due_at"], "2026-12-04T16:00:00Z");
}

#[tokio::test]
async fn ids_in_any_other_form_than_the_hyphenated_uuid_are_422_naming_the_field() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let document = document(&app).await;
    let id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let mut probes = Vec::new();
    for (method, path, leaf) in body_leaves(&document) {
        if leaf.schema["format"].as_str() != Some("uuid") {
            continue;
        }
        for form in [id.replace('-', ""), format!("{{{id}}}"), format!("urn:uuid:{id}")] {
            probes.push(Probe {
                method: method.clone(),
                path: path.clone(),
                body: Some(in_example(&leaf, Value::from(form))),
                field: leaf.field.clone(),
                query: None,
            });
        }
    }
    assert!(probes.len() >= 15, "the walk found only {} id fields: {probes:?}", probes.len());
    let failed = failures(&app, &user.access_token, &probes, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(failed.is_empty(), "{} of {} ids:\n{}", failed.len(), probes.len(), failed.join("\n"));
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_422_naming_the_field() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let document = document(&app).await;
    let probes: Vec<Probe> = body_leaves(&document)
        .into_iter()
        .filter_map(|(method, path, leaf)| {
            let wrong = match type_of(leaf.schema)? {
                "string" => json!(12345),
                "integer" | "number" => json!("abc"),
                "boolean" => json!("maybe"),
                _ => return None,
            };
            // In an otherwise valid body: a type the extractor cannot see (a key of free-form
            // JSON such as the plan's `context.notes`) is checked after the required fields.
            Some(Probe { method, path, body: Some(in_example(&leaf, wrong)), field: leaf.field, query: None })
        })
        .filter(|probe| !probe.field.ends_with(".note")) // free-form JSON takes any value
        .collect();
    assert!(probes.len() >= 40, "the walk found only {} typed fields", probes.len());
    let failed = failures(&app, &user.access_token, &probes, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(failed.is_empty(), "{} of {} fields:\n{}", failed.len(), probes.len(), failed.join("\n"));
}

#[tokio::test]
async fn bad_query_parameters_name_the_parameter_in_plain_words() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let plan: Value = app
        .create_plan(&json!({"goal": "Run 5k", "duration_days": 2}), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let plan_path = format!("/api/v1/plans/{}", plan["id"].as_str().unwrap());
    let cases = [
        (Method::GET, "/api/v1/tasks?limit=abc".to_owned(), "limit", "whole number"),
        (Method::GET, "/api/v1/tasks?limit=1.5".to_owned(), "limit", "whole number"),
        (Method::GET, "/api/v1/tasks?status=archived".to_owned(), "status", "todo, in_progress, done"),
        (Method::GET, "/api/v1/tasks?parent_id=not-a-uuid".to_owned(), "parent_id", "UUID"),
        (Method::GET, "/api/v1/tasks?plan_id=3fa85f6457174562b3fc2c963f66afa6".to_owned(), "plan_id", "UUID"),
        (Method::DELETE, format!("{plan_path}?delete_events=maybe"), "delete_events", "true or false"),
    ];
    for (method, path, name, words) in cases {
        let response =
            app.client.request(method, app.url(&path)).bearer_auth(&user.access_token).send().await.unwrap();
        let problem = assert_problem(response, StatusCode::BAD_REQUEST).await;
        assert_eq!(error_fields(&problem), [name], "{path}: {problem}");
        let text = problem.to_string();
        assert!(text.contains(words), "{path}: {problem}");
        for internal in ["i64", "u32", "u64", "unknown variant", "deserialize", "Uuid", "invalid digit"] {
            assert!(!text.contains(internal), "{path} leaks `{internal}`: {problem}");
        }
    }
    // The plan is still there: nothing was deleted by the refused request.
    assert_eq!(app.get_plan(plan["id"].as_str().unwrap(), &user.access_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refused_text_leaves_nothing_stored() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = user.access_token.as_str();
    let refused = [
        app.chat(&json!({"message": "hi\u{0}"}), token).await,
        app.create_task(&json!({"title": "t\u{0}"}), token).await,
        app.create_knowledge(&json!({"title": "k", "content": "c\u{0}"}), token).await,
        app.create_plan(&json!({"goal": "g", "duration_days": 1, "context": {"notes": "n\u{0}"}}), token)
            .await,
    ];
    for response in refused {
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let lists = [
        ("chat sessions", app.chat_sessions("", token).await),
        ("tasks", app.list_tasks("", token).await),
        ("plans", app.list_plans("", token).await),
    ];
    for (list, response) in lists {
        let page: Value = response.json().await.unwrap();
        assert_eq!(page["items"], json!([]), "{list}: {page}");
    }
    let login = app.login("a\u{0}b@example.com", "whatever-password").await;
    assert_eq!(error_fields(&assert_problem(login, StatusCode::UNPROCESSABLE_ENTITY).await), ["email"]);
}
