//! Examples for the document, so that Swagger UI shows each answer as it really comes:
//!
//! - every problem response gets an example of its own status, built from the same `ApiError`
//!   the handlers answer with (401 `unauthorized`, 404 naming the kind of object, 409 with the
//!   operation's code, 422 naming one of the operation's real fields, 429 with its `Retry-After`
//!   seconds in the text, 502/503/504 about the upstream the operation calls);
//! - a success or request body whose schema has no example gets one composed from the examples
//!   of its parts (a page of plans from the plan's example), so one DTO example serves every
//!   operation that returns it.

use serde_json::{Map, Value, json};
use utoipa::openapi::{
    OpenApi, RefOr,
    content::Content,
    example::ExampleBuilder,
    path::{Operation, PathItem},
    schema::Schema,
};

use crate::{
    error::{ApiError, Missing, PROBLEM_JSON},
    services::ai::AiError,
};

/// The request id shown in examples (what `x-request-id` carries).
const EXAMPLE_REQUEST_ID: &str = "0193a5c2-7d4e-7b61-9f0a-2c8e4d6b1a37";

/// Operations that ask the AI: their 422/429/502/503/504 are about it.
const AI_OPERATIONS: &[&str] =
    &["create_plan", "break_down", "break_down_task", "send_message", "stream_message"];

/// Adds the examples described in the module documentation to `openapi`.
pub fn add(openapi: &mut OpenApi) {
    let document = serde_json::to_value(&*openapi).unwrap_or_default();
    let composer = Composer { document: &document };
    if let Some(components) = openapi.components.as_mut() {
        for (name, schema) in &mut components.schemas {
            if let RefOr::T(Schema::Object(object)) = schema
                && object.example.is_none()
                && object.examples.is_empty()
                && let Some(example) =
                    composer.compose(&json!({"$ref": format!("#/components/schemas/{name}")}), 0)
            {
                object.example = Some(example);
            }
        }
    }
    for (path, item) in &mut openapi.paths.paths {
        for (method, operation) in operations(item) {
            let id = operation.operation_id.clone().unwrap_or_default();
            let raw = &document["paths"][path.as_str()][method];
            let context = Context { id: &id, path, operation: raw, composer: &composer };
            if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
                for content in body.content.values_mut() {
                    if let RefOr::T(content) = content {
                        composer.fill(content);
                    }
                }
            }
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(response) = response else { continue };
                for (media_type, content) in &mut response.content {
                    let RefOr::T(content) = content else { continue };
                    if status.starts_with('2') {
                        composer.fill(content);
                    } else if media_type == PROBLEM_JSON {
                        let examples = context.problems(status);
                        set_problem_examples(content, examples);
                    }
                }
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
        ("head", item.head.as_mut()),
        ("options", item.options.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|operation| (method, operation)))
    .collect()
}

fn set_problem_examples(content: &mut Content, examples: Vec<(&'static str, Value)>) {
    content.example = None;
    content.examples.clear();
    match <[_; 1]>::try_from(examples) {
        Ok([(_, only)]) => content.example = Some(only),
        Err(many) => {
            for (summary, value) in many {
                let example = ExampleBuilder::new().summary(summary).value(Some(value)).build();
                content.examples.insert(summary.to_owned(), RefOr::T(example));
            }
        }
    }
}

/// One operation, for the problems it can answer with.
struct Context<'a> {
    id: &'a str,
    path: &'a str,
    operation: &'a Value,
    composer: &'a Composer<'a>,
}

impl Context<'_> {
    fn is_ai(&self) -> bool {
        AI_OPERATIONS.contains(&self.id)
    }

    fn calls_google(&self) -> bool {
        self.path.starts_with("/api/v1/calendar") || self.path.starts_with("/api/v1/plans/")
    }

    /// The example problems (a summary and a body each) for one status of this operation.
    fn problems(&self, status: &str) -> Vec<(&'static str, Value)> {
        let one = |error: ApiError| vec![("", body(&error))];
        match status {
            "400" => one(self.bad_request()),
            "401" => one(self.unauthorized()),
            "403" => one(ApiError::Forbidden("Global documents are read-only.".to_owned())),
            "404" => one(self.not_found()),
            "409" => one(self.conflict()),
            "413" => one(ApiError::PayloadTooLarge { limit: 2_097_152 }),
            "415" => one(ApiError::UnsupportedMediaType),
            "422" if self.is_ai() => vec![
                ("Invalid field", body(&self.invalid())),
                ("AI declined", body(&AiError::Declined("SAFETY".to_owned()).into())),
            ],
            "422" => one(self.invalid()),
            "429" if self.is_ai() => vec![
                ("Too many requests", body(&ApiError::RateLimited { retry_after_secs: 42 })),
                ("Daily AI budget spent", body(&ApiError::AiBudgetExhausted { retry_after_secs: 30_240 })),
            ],
            "429" => one(ApiError::RateLimited { retry_after_secs: 42 }),
            "500" => one(ApiError::internal(anyhow::anyhow!("example"))),
            "502" if self.is_ai() => {
                one(AiError::BadOutput { problem: "not JSON".to_owned(), usage: Default::default() }.into())
            }
            "502" => one(ApiError::BadGateway(
                "Google Calendar refused the request (insufficientPermissions).".to_owned(),
            )),
            "503" if self.is_ai() => vec![
                ("AI unavailable", body(&AiError::Unavailable("overloaded".to_owned()).into())),
                ("Database unavailable", body(&database_unavailable())),
            ],
            "503" if self.id == "authorize_google" => vec![
                ("Google not configured", body(&google_not_configured())),
                ("Database unavailable", body(&database_unavailable())),
            ],
            "503" if self.calls_google() && self.operation["responses"].get("502").is_some() => vec![
                (
                    "Google unavailable",
                    body(&ApiError::Unavailable("Google Calendar cannot be reached right now.".to_owned())),
                ),
                ("Database unavailable", body(&database_unavailable())),
            ],
            "503" => one(database_unavailable()),
            "504" if self.is_ai() => one(AiError::Timeout.into()),
            "504" => one(ApiError::GatewayTimeout(
                "Google Calendar did not answer in time. Please try again.".to_owned(),
            )),
            other => {
                let status = other.parse().ok().and_then(|s| actix_web::http::StatusCode::from_u16(s).ok());
                let status = status.unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
                let problem = crate::error::Problem::new(status, "error", "The request failed.");
                vec![("", with_request_id(serde_json::to_value(problem).unwrap_or_default()))]
            }
        }
    }

    fn query_parameters(&self) -> Vec<&Value> {
        self.operation["parameters"]
            .as_array()
            .map(|all| all.iter().filter(|p| p["in"] == "query").collect())
            .unwrap_or_default()
    }

    fn bad_request(&self) -> ApiError {
        if self.operation.get("requestBody").is_some() {
            return ApiError::bad_request(None, "The request body is not valid JSON: expected `,` or `}`.");
        }
        let parameters = self.query_parameters();
        if parameters.iter().any(|p| p["name"] == "limit") {
            let max = match self.id {
                "upcoming_events" => 100,
                "get_chat_history" => 1_000,
                _ => 200,
            };
            return ApiError::bad_request(Some("limit"), format!("limit must be between 1 and {max}."));
        }
        let Some(parameter) = parameters.first() else {
            return ApiError::bad_request(None, "The request could not be read.");
        };
        let name = parameter["name"].as_str().unwrap_or("query");
        let schema = self.composer.resolve(&parameter["schema"]);
        let serde_words = match (first_type(schema), schema["format"].as_str()) {
            (Some("boolean"), _) => "provided string was not `true` or `false`",
            (Some("integer"), _) => "invalid digit found in string",
            (_, Some("uuid")) => "invalid character",
            _ => "missing field",
        };
        let words = crate::extract::human_query_message(serde_words);
        ApiError::bad_request(Some(name), format!("The query parameter {name} {words}"))
    }

    fn unauthorized(&self) -> ApiError {
        match self.id {
            "login" => ApiError::Unauthorized {
                code: "invalid_credentials",
                detail: "The email or password is wrong.".to_owned(),
            },
            "refresh" => ApiError::Unauthorized {
                code: "invalid_refresh_token",
                detail: "The refresh token is not valid. Log in again.".to_owned(),
            },
            _ => ApiError::unauthorized(
                "This route needs an access token: send 'Authorization: Bearer <access_token>'.",
            ),
        }
    }

    fn not_found(&self) -> ApiError {
        let kind = match self.id {
            "get_calendar_feed" => {
                return ApiError::NotFound(
                    "No calendar feed has this address (a newer one may have replaced it).".to_owned(),
                );
            }
            "google_notification" => {
                return ApiError::NotFound("No push channel matches this notification.".to_owned());
            }
            "send_message" | "stream_message" => Missing::ChatSession,
            "create_event" | "sync_now" => Missing::CalendarConnection,
            _ => {
                let path = self.path;
                if path.starts_with("/api/v1/plans") {
                    Missing::Plan
                } else if path.starts_with("/api/v1/tasks") {
                    Missing::Task
                } else if path.starts_with("/api/v1/chat") {
                    Missing::ChatSession
                } else if path.starts_with("/api/v1/resources") {
                    Missing::Resource
                } else if path.starts_with("/api/v1/knowledge") {
                    Missing::Document
                } else {
                    Missing::CalendarConnection
                }
            }
        };
        ApiError::NotFound(kind.detail().to_owned())
    }

    fn conflict(&self) -> ApiError {
        match self.id {
            "register" => ApiError::Conflict {
                code: "email_taken",
                detail: "An account with this email already exists. Log in instead.".to_owned(),
            },
            "delete_connection" => ApiError::Conflict {
                code: "local_calendar",
                detail: "The built-in calendar belongs to every account and cannot be removed.".to_owned(),
            },
            "create_event" | "schedule_plan" | "delete_plan" | "list_connection_calendars" => {
                ApiError::calendar_needs_reauth()
            }
            "select_connection_calendars" => crate::services::calendar::calendars::target_has_blocks(),
            // A new 409 wants its own code here; until then, what a unique violation answers.
            _ => ApiError::from(planwright_store::StoreError::Conflict("a duplicate")),
        }
    }

    /// A 422 naming one of the operation's own fields: a required body field left out, else a
    /// body field of the wrong type, else a query parameter holding a control character.
    fn invalid(&self) -> ApiError {
        let body_schema = self.operation["requestBody"]["content"]["application/json"]["schema"].clone();
        let schema = self.composer.resolve(&body_schema);
        let required = schema["required"].as_array().and_then(|r| r.first()).and_then(Value::as_str);
        if let Some(field) = required {
            return planwright_domain::FieldError::new(field, "This field is required.").into();
        }
        if let Some((field, property)) = schema["properties"].as_object().and_then(|p| p.iter().next()) {
            let property = self.composer.resolve(property);
            let serde_words = match first_type(property) {
                Some("string") | None => "invalid type: integer `42`, expected a string",
                Some("integer") => "invalid type: string \"soon\", expected i64",
                Some("boolean") => "invalid type: string \"yes\", expected a boolean",
                Some("array") => "invalid type: string \"a\", expected a sequence",
                Some(_) => "invalid type: string \"a\", expected a map",
            };
            let message = crate::extract::human_serde_message(serde_words);
            return planwright_domain::FieldError::new(field.as_str(), message).into();
        }
        let name = self.query_parameters().first().and_then(|p| p["name"].as_str()).unwrap_or("q").to_owned();
        planwright_domain::FieldError::new(name, planwright_domain::input::forbidden_char_message('\0'))
            .into()
    }
}

fn database_unavailable() -> ApiError {
    ApiError::Unavailable("The database is not answering. Please try again shortly.".to_owned())
}

fn google_not_configured() -> ApiError {
    ApiError::Unavailable("Google Calendar is not configured on this server.".to_owned())
}

/// The problem body `error` answers with, as the request-id middleware completes it.
fn body(error: &ApiError) -> Value {
    with_request_id(serde_json::to_value(error.problem()).unwrap_or_default())
}

fn with_request_id(mut problem: Value) -> Value {
    if let Some(object) = problem.as_object_mut() {
        object.insert("request_id".to_owned(), Value::from(EXAMPLE_REQUEST_ID));
    }
    problem
}

/// The first non-null type of a schema (`["string", "null"]` → `string`).
fn first_type(schema: &Value) -> Option<&str> {
    match &schema["type"] {
        Value::String(only) => Some(only.as_str()),
        Value::Array(types) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// Builds examples from the examples of a schema's parts.
struct Composer<'a> {
    document: &'a Value,
}

impl Composer<'_> {
    /// A `$ref` resolved to its component schema (other schemas as they are).
    fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix("#/components/schemas/")) {
            Some(name) => &self.document["components"]["schemas"][name],
            None => schema,
        }
    }

    /// Gives `content` an example when neither it nor its schema has one and one can be composed.
    fn fill(&self, content: &mut Content) {
        if content.example.is_some() || !content.examples.is_empty() {
            return;
        }
        let Some(schema) = content.schema.as_ref().and_then(|s| serde_json::to_value(s).ok()) else {
            return;
        };
        // A component's example (its own, or composed by `add`) is what Swagger UI shows.
        if schema.get("$ref").is_some() {
            return;
        }
        content.example = self.compose(&schema, 0);
    }

    /// An example for `schema`: its own, or one made of its properties' and items' examples.
    /// `None` when some required part has none (a plain string or number says nothing useful).
    fn compose(&self, schema: &Value, depth: usize) -> Option<Value> {
        if depth > 12 {
            return None;
        }
        let schema = self.resolve(schema);
        if let Some(example) = schema.get("example") {
            return Some(example.clone());
        }
        if let Some(first) = schema["examples"].as_array().and_then(|e| e.first()) {
            return Some(first.clone());
        }
        if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
            return Some(first.clone());
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(variants) = schema[key].as_array() {
                return variants
                    .iter()
                    .filter(|v| v["type"] != "null")
                    .find_map(|variant| self.compose(variant, depth + 1));
            }
        }
        if let Some(parts) = schema["allOf"].as_array() {
            let mut merged = Map::new();
            for part in parts {
                match self.compose(part, depth + 1)? {
                    Value::Object(object) => merged.extend(object),
                    other if parts.len() == 1 => return Some(other),
                    _ => return None,
                }
            }
            return Some(Value::Object(merged));
        }
        let nullable = schema["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"));
        match first_type(schema) {
            Some("object") => {
                let mut object = Map::new();
                let properties = schema["properties"].as_object().cloned().unwrap_or_default();
                for (name, property) in &properties {
                    let value = match self.compose(property, depth + 1) {
                        Some(value) => value,
                        None if is_nullable(self.resolve(property)) => Value::Null,
                        None => return None,
                    };
                    object.insert(name.clone(), value);
                }
                Some(Value::Object(object))
            }
            Some("array") => Some(Value::Array(vec![self.compose(&schema["items"], depth + 1)?])),
            Some("string") => match schema["format"].as_str() {
                Some("uuid") => Some(Value::from("0193a5c2-7d4e-7b61-9f0a-2c8e4d6b1a37")),
                Some("date-time") => Some(Value::from("2026-12-01T09:00:00Z")),
                Some("date") => Some(Value::from("2026-12-01")),
                _ if nullable => Some(Value::Null),
                _ => None,
            },
            _ if nullable => Some(Value::Null),
            _ => None,
        }
    }
}

fn is_nullable(schema: &Value) -> bool {
    schema["type"].as_array().is_some_and(|t| t.iter().any(|t| t == "null"))
        || ["oneOf", "anyOf"]
            .iter()
            .any(|key| schema[*key].as_array().is_some_and(|v| v.iter().any(|v| v["type"] == "null")))
}
