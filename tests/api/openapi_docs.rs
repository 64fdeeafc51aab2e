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
    let invalid = app
        .post_json("/api/v1/plans", &json!({"goal": "", "duration_days": 0}), Some(&user.access_token))
        .await;
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
async fn a_problem_raised_by_middleware_carries_the_request_id_too() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.cors.allowed_origins = vec!["https://app.example.com".to_owned()];
    })
    .await;
    // A refused CORS preflight fails inside the middleware stack, before any handler runs.
    let refused = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/me"))
        .header("Origin", "https://evil.example.net")
        .header("Access-Control-Request-Method", "PATCH")
        .send()
        .await
        .unwrap();
    let id = header(&refused, "x-request-id").expect("x-request-id header");
    let problem = assert_problem(refused, StatusCode::BAD_REQUEST).await;
    assert_eq!(problem["request_id"], id.as_str(), "{problem}");
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

fn document() -> Value {
    serde_json::to_value(planwright_api::openapi::document()).unwrap()
}

/// Every operation of the document: `(method path, operation)`.
fn operations(document: &Value) -> Vec<(String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            all.push((format!("{} {path}", method.to_uppercase()), operation));
        }
    }
    all
}

fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
        Some(name) => &document["components"]["schemas"][name],
        None => schema,
    }
}

/// The examples a media type shows: its own, else its (referenced) schema's.
fn examples_of<'a>(document: &'a Value, content: &'a Value) -> Vec<&'a Value> {
    if let Some(example) = content.get("example") {
        return vec![example];
    }
    if let Some(examples) = content["examples"].as_object() {
        return examples.values().map(|e| &e["value"]).collect();
    }
    let schema = resolve(document, &content["schema"]);
    if let Some(example) = schema.get("example") {
        return vec![example];
    }
    schema["examples"].as_array().map(|e| e.iter().collect()).unwrap_or_default()
}

#[test]
fn every_operation_has_a_description_beyond_its_summary() {
    let document = document();
    let missing: Vec<String> = operations(&document)
        .into_iter()
        .filter(|(_, operation)| operation["description"].as_str().is_none_or(|d| d.trim().len() < 40))
        .map(|(name, _)| name)
        .collect();
    assert!(missing.is_empty(), "operations without a description: {missing:#?}");
}

#[test]
fn every_success_answer_and_request_body_has_an_example_that_fits_its_schema() {
    let document = document();
    let mut problems = Vec::new();
    for (name, operation) in operations(&document) {
        let mut contents = Vec::new();
        for (status, response) in operation["responses"].as_object().unwrap() {
            if status.starts_with('2') {
                for (media_type, content) in response["content"].as_object().into_iter().flatten() {
                    contents.push((format!("{name} {status} {media_type}"), content));
                }
            }
        }
        for (media_type, content) in operation["requestBody"]["content"].as_object().into_iter().flatten() {
            contents.push((format!("{name} request {media_type}"), content));
        }
        for (what, content) in contents {
            let examples = examples_of(&document, content);
            if examples.is_empty() {
                problems.push(format!("{what}: no example"));
            }
            if !what.ends_with("json") {
                continue;
            }
            for example in examples {
                let mut errors = Vec::new();
                validate(&document, example, &content["schema"], "$", &mut errors);
                problems.extend(errors.into_iter().map(|e| format!("{what}: {e}")));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_problem_answer_has_an_example_of_its_own_status() {
    let document = document();
    let mut problems = Vec::new();
    for (name, operation) in operations(&document) {
        let protected = operation.get("security").is_some();
        let mut fields: Vec<String> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect();
        let body = resolve(&document, &operation["requestBody"]["content"]["application/json"]["schema"]);
        fields.extend(body["properties"].as_object().into_iter().flatten().map(|(k, _)| k.clone()));
        for (status, response) in operation["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let content = &response["content"]["application/problem+json"];
            // The schema's own example is not this answer's: it must have one of its own.
            let examples: Vec<&Value> = match (content.get("example"), content["examples"].as_object()) {
                (Some(example), _) => vec![example],
                (None, Some(examples)) => examples.values().map(|e| &e["value"]).collect(),
                (None, None) => Vec::new(),
            };
            if examples.is_empty() {
                problems.push(format!("{name} {status}: no example"));
            }
            for example in examples {
                if example["status"].as_u64().map(|s| s.to_string()).as_deref() != Some(status.as_str()) {
                    problems.push(format!("{name} {status}: example has status {}", example["status"]));
                }
                if example["request_id"].as_str().is_none() {
                    problems.push(format!("{name} {status}: example without request_id"));
                }
                if example["detail"].as_str().is_none_or(|d| d.contains("..")) {
                    problems.push(format!("{name} {status}: bad detail {}", example["detail"]));
                }
                if status == "401" && protected && example["code"] != "unauthorized" {
                    problems.push(format!("{name} 401: code {} is not unauthorized", example["code"]));
                }
                if example["code"] == "validation_failed" {
                    let named: Vec<&str> = example["errors"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e["field"].as_str())
                        .collect();
                    if named.is_empty() || !named.iter().all(|f| fields.iter().any(|known| known == f)) {
                        problems.push(format!("{name} 422: names {named:?}, not fields of {fields:?}"));
                    }
                }
                let mut errors = Vec::new();
                validate(&document, example, &content["schema"], "$", &mut errors);
                problems.extend(errors.into_iter().map(|e| format!("{name} {status}: {e}")));
            }
            if status == "429" && response["headers"].get("Retry-After").is_none() {
                problems.push(format!("{name} 429: Retry-After is not documented"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A small JSON Schema check (types, required, properties, items, enums, `oneOf`/`anyOf`/`allOf`,
/// lengths): enough to catch an example that no longer matches its DTO.
fn validate(document: &Value, value: &Value, schema: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(document, schema);
    if let Some(variants) = schema["oneOf"].as_array().or_else(|| schema["anyOf"].as_array()) {
        let fits = variants.iter().any(|variant| {
            let mut inner = Vec::new();
            validate(document, value, variant, at, &mut inner);
            inner.is_empty()
        });
        if !fits {
            errors.push(format!("{at}: {value} fits no variant"));
        }
        return;
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        validate(document, value, part, at, errors);
    }
    if let Some(choices) = schema["enum"].as_array()
        && !choices.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {choices:?}"));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(only) => vec![only.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let fits = |t: &str| match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    };
    if !types.is_empty() && !types.iter().any(|t| fits(t)) {
        errors.push(format!("{at}: {value} is not {types:?}"));
        return;
    }
    if let Some(object) = value.as_object() {
        for required in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if !object.contains_key(required) {
                errors.push(format!("{at}: lacks required {required}"));
            }
        }
        let properties = schema["properties"].as_object();
        for (key, field) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => validate(document, field, property, &format!("{at}.{key}"), errors),
                None if schema["additionalProperties"] == false => {
                    errors.push(format!("{at}: unknown property {key}"));
                }
                None => {}
            }
        }
    }
    if let Some(items) = value.as_array() {
        for (index, item) in items.iter().enumerate() {
            validate(document, item, &schema["items"], &format!("{at}[{index}]"), errors);
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count() as u64;
        if schema["maxLength"].as_u64().is_some_and(|max| length > max)
            || schema["minLength"].as_u64().is_some_and(|min| length < min)
        {
            errors.push(format!("{at}: {value} has a length outside the schema's"));
        }
    }
}
