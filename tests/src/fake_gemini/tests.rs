//! Tests of the fake itself: schema-driven answers, every fault's wire format, SSE framing, the
//! key check, the admin endpoints, and compatibility with the `planwright-gemini` client.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use planwright_api::services::ai::gemini::{BreakdownAnswer, PlanAnswer};
use planwright_gemini::{
    Client, Config, Content, Error, GenerateContentRequest, GenerationConfig, RetryPolicy,
    response_schema_for,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::fault::proto_duration;
use super::schema::{sample, topic_of};
use super::{FAKE_API_KEY, FakeGemini, Fault};

const MODEL: &str = "gemini-3.5-flash";
const PLAN_PROMPT: &str = "Goal: learn FastAPI in 3 days\nNumber of days: 3 (day_offset 0 to 2)";

// The app's own answer types, so the schemas are exactly the ones the app sends.
fn plan_schema() -> Value {
    response_schema_for::<PlanAnswer>()
}

fn breakdown_schema() -> Value {
    response_schema_for::<BreakdownAnswer>()
}

fn text_request(prompt: &str) -> Value {
    json!({ "contents": [{ "role": "user", "parts": [{ "text": prompt }] }] })
}

fn schema_request(prompt: &str, schema: Value) -> Value {
    json!({
        "contents": [{ "role": "user", "parts": [{ "text": prompt }] }],
        "systemInstruction": { "parts": [{ "text": "You are Planwright." }] },
        "generationConfig": { "responseMimeType": "application/json", "responseJsonSchema": schema }
    })
}

async fn call(fake: &FakeGemini, method: &str, body: &Value) -> reqwest::Response {
    let query = if method == "streamGenerateContent" { "?alt=sse" } else { "" };
    reqwest::Client::new()
        .post(format!("{}/v1beta/models/{MODEL}:{method}{query}", fake.base_url()))
        .header("x-goog-api-key", fake.api_key())
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn generate(fake: &FakeGemini, body: &Value) -> (StatusCode, Value) {
    let response = call(fake, "generateContent", body).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The `data` payloads of an SSE body, checking the framing on the way.
fn sse_events(body: &str) -> Vec<Value> {
    assert!(body.ends_with("\r\n\r\n"), "{body:?}");
    body.split_terminator("\r\n\r\n")
        .map(|frame| {
            let data = frame.strip_prefix("data: ").unwrap_or_else(|| panic!("not a data frame: {frame:?}"));
            serde_json::from_str(data).unwrap()
        })
        .collect()
}

async fn stream_events(fake: &FakeGemini, body: &Value) -> Vec<Value> {
    let response = call(fake, "streamGenerateContent", body).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    sse_events(&response.text().await.unwrap())
}

fn candidate_text(response: &Value) -> String {
    response["candidates"][0]["content"]["parts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|part| part["text"].as_str())
        .collect()
}

fn client(fake: &FakeGemini, retries: bool) -> Client {
    let policy = if retries {
        RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(1))
            .with_max_backoff(Duration::from_millis(5))
    } else {
        RetryPolicy::disabled()
    };
    let config = Config::new()
        .with_base_url(fake.base_url())
        .with_api_key(fake.api_key().to_owned())
        .with_model(MODEL)
        .with_retry_policy(policy);
    Client::new(config).unwrap()
}

fn assert_google_error(body: &Value, code: u16, status: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["status"], status, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{body}");
}

// ---- Schema-driven JSON ------------------------------------------------------------------------

#[test]
fn plan_answers_fit_the_plan_schema_and_the_days_named_in_the_prompt() {
    let value = sample(&plan_schema(), PLAN_PROMPT, false);
    let plan: PlanAnswer = serde_json::from_value(value.clone()).unwrap();
    assert!(plan.summary.contains("learn FastAPI in 3 days"), "{}", plan.summary);
    assert_eq!(plan.tasks.len(), 3);
    for task in &plan.tasks {
        assert!(!task.title.trim().is_empty() && task.title.chars().count() <= 120, "{value}");
        assert!(!task.description.trim().is_empty(), "{value}");
        assert!((0..3).contains(&task.day_offset), "{value}");
        assert!((15..=480).contains(&task.duration_minutes), "{value}");
    }
    let days: Vec<i64> = plan.tasks.iter().map(|task| task.day_offset).collect();
    assert_eq!(days, [0, 1, 2], "tasks are spread over the days");
    let titles: std::collections::HashSet<_> = plan.tasks.iter().map(|task| &task.title).collect();
    assert_eq!(titles.len(), 3, "titles differ");
}

#[test]
fn without_a_range_in_the_prompt_day_offsets_stay_at_the_minimum() {
    let plan: PlanAnswer =
        serde_json::from_value(sample(&plan_schema(), "Goal: tidy the garage", false)).unwrap();
    assert!(plan.tasks.iter().all(|task| task.day_offset == 0));
}

#[test]
fn breakdown_answers_respect_min_and_max_items() {
    let value = sample(&breakdown_schema(), "Task: write the report", false);
    let breakdown: BreakdownAnswer = serde_json::from_value(value).unwrap();
    assert!((2..=5).contains(&breakdown.subtasks.len()));
    assert!(breakdown.subtasks.iter().all(|step| step.title.contains("write the report")));
    assert!(breakdown.subtasks.iter().all(|step| step.description.split_whitespace().count() > 5));
    let many = json!({ "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "string" } });
    assert_eq!(sample(&many, "", false).as_array().map(Vec::len), Some(4));
    let few = json!({ "type": "array", "maxItems": 1, "items": { "type": "integer" } });
    assert_eq!(sample(&few, "", false).as_array().map(Vec::len), Some(1));
}

#[test]
fn schema_keywords_are_followed() {
    let schema = json!({
        "type": "object",
        "properties": {
            "kind": { "enum": ["alpha", "beta"] },
            "fixed": { "const": 7 },
            "maybe": { "anyOf": [{ "type": "null" }, { "$ref": "#/definitions/Inner" }] },
            "either": { "oneOf": [{ "type": "boolean" }, { "type": "string" }] },
            "nullable": { "type": ["null", "integer"], "minimum": 5, "maximum": 9 },
            "short": { "type": "string", "maxLength": 4 },
            "long": { "type": "string", "minLength": 300 },
            "ratio": { "type": "number", "minimum": 0, "maximum": 1 },
            "when": { "type": "string", "format": "date-time" },
            "merged": { "allOf": [{ "$ref": "#/$defs/A" }, { "properties": { "b": { "type": "boolean" } } }] },
            "odd": { "type": "integer", "exclusiveMinimum": 10, "multipleOf": 5 }
        },
        "definitions": { "Inner": { "type": "object", "properties": { "name": { "type": "string" } } } },
        "$defs": { "A": { "type": "object", "properties": { "a": { "type": "integer" } }, "required": ["a"] } }
    });
    let value = sample(&schema, "Topic: rust lifetimes", false);
    assert_eq!(value["kind"], "alpha");
    assert_eq!(value["fixed"], 7);
    assert!(value["maybe"]["name"].as_str().is_some_and(|name| name.contains("rust lifetimes")), "{value}");
    assert_eq!(value["either"], true);
    assert!(value["nullable"].as_i64().is_some_and(|n| (5..=9).contains(&n)), "{value}");
    assert!(
        value["short"].as_str().is_some_and(|text| !text.is_empty() && text.chars().count() <= 4),
        "{value}"
    );
    assert!(value["long"].as_str().is_some_and(|text| text.chars().count() >= 300), "{value}");
    assert!(value["ratio"].as_f64().is_some_and(|n| (0.0..=1.0).contains(&n)), "{value}");
    assert!(
        value["when"].as_str().is_some_and(|when| chrono::DateTime::parse_from_rfc3339(when).is_ok()),
        "{value}"
    );
    assert!(value["merged"]["a"].is_i64() && value["merged"]["b"].is_boolean(), "{value}");
    assert!(value["odd"].as_i64().is_some_and(|n| n > 10 && n % 5 == 0), "{value}");
}

#[test]
fn gemini_openapi_schemas_with_upper_case_types_work() {
    let schema = json!({
        "type": "OBJECT",
        "properties": {
            "items": { "type": "ARRAY", "minItems": "2", "maxItems": "2", "items": { "type": "STRING" } },
            "score": { "type": "INTEGER", "nullable": true, "minimum": 3 },
            "ok": { "type": "BOOLEAN" }
        },
        "required": ["items"]
    });
    let value = sample(&schema, "hello", false);
    assert_eq!(value["items"].as_array().map(Vec::len), Some(2));
    assert!(value["items"][0].is_string());
    assert_eq!(value["score"], 3);
    assert_eq!(value["ok"], true);
}

#[test]
fn recursive_schemas_terminate() {
    let schema = json!({
        "$ref": "#/$defs/Node",
        "$defs": { "Node": { "type": "object", "required": ["name"], "properties": {
            "name": { "type": "string" },
            "children": { "type": "array", "items": { "$ref": "#/$defs/Node" } }
        } } }
    });
    let value = sample(&schema, "tree", false);
    assert!(value["name"].is_string());
    assert_eq!(value["children"].as_array().map(Vec::len), Some(3));
}

#[test]
fn invalid_plans_break_the_bounds() {
    let value = sample(&plan_schema(), PLAN_PROMPT, true);
    let plan: PlanAnswer = serde_json::from_value(value).unwrap();
    assert!(plan.tasks.iter().all(|task| task.duration_minutes == 5 && task.day_offset == 9999));
    let breakdown: BreakdownAnswer = serde_json::from_value(sample(&breakdown_schema(), "x", true)).unwrap();
    assert_eq!(breakdown.subtasks.len(), 1);
}

#[test]
fn topics_come_from_labelled_lines_or_the_first_line() {
    assert_eq!(topic_of(PLAN_PROMPT), "learn FastAPI in 3 days");
    assert_eq!(topic_of("\n  Plan my week.\nMore"), "Plan my week");
    assert_eq!(topic_of(""), "your goal");
    assert_eq!(
        topic_of("one two three four five six seven eight nine"),
        "one two three four five six seven eight"
    );
}

// ---- Faults as data ------------------------------------------------------------------------------

#[test]
fn proto_durations_are_seconds_with_a_fraction() {
    assert_eq!(proto_duration(Duration::from_millis(50)), "0.05s");
    assert_eq!(proto_duration(Duration::from_secs(17)), "17s");
    assert_eq!(proto_duration(Duration::from_millis(1500)), "1.5s");
    assert_eq!(proto_duration(Duration::ZERO), "0s");
}

#[test]
fn faults_round_trip_through_json_and_accept_bare_names() {
    let faults = vec![
        Fault::Latency(Duration::from_millis(200)),
        Fault::RateLimited { retry_delay: Duration::from_millis(50) },
        Fault::DailyQuota,
        Fault::Unavailable,
        Fault::ServerError,
        Fault::MalformedJson,
        Fault::InvalidPlan,
        Fault::SafetyBlock,
        Fault::PromptBlocked,
        Fault::MaxTokens,
        Fault::TruncatedStream,
        Fault::BadKey,
    ];
    let text = serde_json::to_string(&faults).unwrap();
    assert_eq!(serde_json::from_str::<Vec<Fault>>(&text).unwrap(), faults);
    assert_eq!(
        serde_json::to_value(&faults[1]).unwrap(),
        json!({ "fault": "rate_limited", "retry_delay_ms": 50 })
    );
    let parsed: Vec<Fault> =
        serde_json::from_value(json!(["unavailable", { "fault": "rate_limited" }])).unwrap();
    assert_eq!(parsed, [Fault::Unavailable, Fault::RateLimited { retry_delay: Duration::from_millis(50) }]);
    assert!(serde_json::from_value::<Fault>(json!("explode")).is_err());
}

// ---- Over HTTP -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_missing_or_wrong_key_gets_the_real_api_key_invalid_error() {
    let fake = FakeGemini::start().await;
    let expected = json!({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.",
        "status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo",
        "reason":"API_KEY_INVALID","domain":"googleapis.com",
        "metadata":{"service":"generativelanguage.googleapis.com"}}]}});
    let url = format!("{}/v1beta/models/{MODEL}:generateContent", fake.base_url());
    let http = reqwest::Client::new();
    for key in [None, Some("wrong-key")] {
        let mut request = http.post(&url).json(&text_request("hi"));
        if let Some(key) = key {
            request = request.header("x-goog-api-key", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.json::<Value>().await.unwrap(), expected);
    }
    // A key in the URL is not accepted: it belongs in the header.
    let response =
        http.post(format!("{url}?key={FAKE_API_KEY}")).json(&text_request("hi")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    fake.push(Fault::BadKey);
    let (status, body) = generate(&fake, &text_request("hi")).await;
    assert_eq!((status, &body), (StatusCode::BAD_REQUEST, &expected));
    let (status, _) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::OK, "BadKey applies to one request");
    assert_eq!(fake.request_count(), 5);
}

#[tokio::test]
async fn schema_requests_get_json_from_the_schema_with_usage_and_ids() {
    let fake = FakeGemini::start().await;
    let (status, body) = generate(&fake, &schema_request(PLAN_PROMPT, plan_schema())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["candidates"][0]["finishReason"], "STOP");
    assert_eq!(body["candidates"][0]["content"]["role"], "model");
    let plan: PlanAnswer = serde_json::from_str(&candidate_text(&body)).unwrap();
    assert!(!plan.tasks.is_empty());
    assert_eq!(body["modelVersion"], MODEL);
    assert!(body["responseId"].as_str().is_some_and(|id| !id.is_empty()));
    let usage = &body["usageMetadata"];
    let prompt_chars = PLAN_PROMPT.chars().count() + "You are Planwright.".len();
    assert_eq!(usage["promptTokenCount"], prompt_chars.div_ceil(4));
    assert!(usage["candidatesTokenCount"].as_u64().is_some_and(|n| n > 10));
    // A Gemini 3 model asked without a thinking setting thinks at `high`, and bills it.
    assert_eq!(usage["thoughtsTokenCount"], 256);
    assert_eq!(
        usage["totalTokenCount"].as_u64(),
        Some(
            usage["promptTokenCount"].as_u64().unwrap()
                + usage["candidatesTokenCount"].as_u64().unwrap()
                + usage["thoughtsTokenCount"].as_u64().unwrap()
        )
    );
}

#[tokio::test]
async fn plain_requests_get_text_echoing_the_last_user_message() {
    let fake = FakeGemini::start().await;
    let body = json!({ "contents": [
        { "role": "user", "parts": [{ "text": "first question" }] },
        { "role": "model", "parts": [{ "text": "an answer" }] },
        { "role": "user", "parts": [{ "text": "What is a B-tree?" }] }
    ] });
    let (status, response) = generate(&fake, &body).await;
    assert_eq!(status, StatusCode::OK);
    let text = candidate_text(&response);
    assert!(text.contains("What is a B-tree?") && !text.contains("first question"), "{text}");
    assert_eq!(response["usageMetadata"]["promptTokenCount"], 10, "40 characters of contents");
}

#[tokio::test]
async fn streams_are_sse_frames_with_the_finish_reason_and_usage_last() {
    let fake = FakeGemini::start().await;
    let body = schema_request(PLAN_PROMPT, plan_schema());
    let events = stream_events(&fake, &body).await;
    assert!((2..=3).contains(&events.len()), "{events:?}");
    let (last, rest) = events.split_last().unwrap();
    for event in rest {
        assert!(event["candidates"][0].get("finishReason").is_none(), "{event}");
        assert!(event.get("usageMetadata").is_none(), "{event}");
    }
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert!(last["usageMetadata"]["totalTokenCount"].as_u64().is_some_and(|n| n > 0));
    let ids: std::collections::HashSet<_> = events.iter().map(|event| event["responseId"].clone()).collect();
    assert_eq!(ids.len(), 1, "one responseId per stream");
    let text: String = events.iter().map(candidate_text).collect();
    serde_json::from_str::<PlanAnswer>(&text).unwrap();
}

#[tokio::test]
async fn streams_without_alt_sse_are_a_json_array() {
    let fake = FakeGemini::start().await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1beta/models/{MODEL}:streamGenerateContent", fake.base_url()))
        .header("x-goog-api-key", FAKE_API_KEY)
        .json(&text_request("hello there"))
        .send()
        .await
        .unwrap();
    let chunks: Vec<Value> = response.json().await.unwrap();
    assert!((2..=3).contains(&chunks.len()));
    assert_eq!(chunks.last().unwrap()["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn count_tokens_counts_contents_or_a_whole_request_and_takes_no_fault() {
    let fake = FakeGemini::start().await;
    fake.push(Fault::Unavailable);
    let response = call(&fake, "countTokens", &text_request("12345678")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["totalTokens"], 2);
    let whole = json!({ "generateContentRequest": {
        "model": format!("models/{MODEL}"),
        "contents": [{ "role": "user", "parts": [{ "text": "1234" }] }],
        "systemInstruction": { "parts": [{ "text": "12345678" }] }
    } });
    let response = call(&fake, "countTokens", &whole).await;
    assert_eq!(response.json::<Value>().await.unwrap()["totalTokens"], 3);
    assert_eq!(fake.pending_faults(), [Fault::Unavailable]);
}

#[tokio::test]
async fn error_faults_send_googles_error_bodies() {
    let fake = FakeGemini::start().await;
    fake.push_many([
        Fault::RateLimited { retry_delay: Duration::from_millis(50) },
        Fault::DailyQuota,
        Fault::Unavailable,
        Fault::ServerError,
    ]);
    let (status, body) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_google_error(&body, 429, "RESOURCE_EXHAUSTED");
    assert_eq!(body["error"]["message"], "Resource has been exhausted (e.g. check quota).");
    let retry = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|detail| detail["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
        .unwrap();
    assert_eq!(retry["retryDelay"], "0.05s");

    let (status, body) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_google_error(&body, 429, "RESOURCE_EXHAUSTED");
    let quota = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|detail| detail["@type"] == "type.googleapis.com/google.rpc.QuotaFailure")
        .unwrap();
    assert_eq!(quota["violations"][0]["quotaId"], "GenerateRequestsPerDayPerProjectPerModel-FreeTier");

    let (status, body) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}})
    );

    let response = call(&fake, "generateContent", &text_request("hi")).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let text = response.text().await.unwrap();
    assert!(text.contains("<html") && serde_json::from_str::<Value>(&text).is_err());

    let (status, _) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::OK, "the queue is empty again");
    let taken: Vec<_> = fake.requests().into_iter().map(|request| request.fault).collect();
    assert_eq!(
        taken,
        [
            Some(Fault::RateLimited { retry_delay: Duration::from_millis(50) }),
            Some(Fault::DailyQuota),
            Some(Fault::Unavailable),
            Some(Fault::ServerError),
            None
        ]
    );
}

#[tokio::test]
async fn error_faults_also_answer_stream_requests_before_any_chunk() {
    let fake = FakeGemini::start().await;
    fake.push(Fault::Unavailable);
    let response = call(&fake, "streamGenerateContent", &text_request("hi")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_google_error(&response.json().await.unwrap(), 503, "UNAVAILABLE");
}

#[tokio::test]
async fn content_faults_send_200s_with_bad_answers() {
    let fake = FakeGemini::start().await;
    let plan = schema_request(PLAN_PROMPT, plan_schema());
    fake.push_many([
        Fault::MalformedJson,
        Fault::InvalidPlan,
        Fault::SafetyBlock,
        Fault::PromptBlocked,
        Fault::MaxTokens,
    ]);

    let (status, body) = generate(&fake, &plan).await;
    assert_eq!(status, StatusCode::OK);
    assert!(serde_json::from_str::<Value>(&candidate_text(&body)).is_err());

    let (_, body) = generate(&fake, &plan).await;
    let invalid: PlanAnswer = serde_json::from_str(&candidate_text(&body)).unwrap();
    assert!(invalid.tasks.iter().any(|task| task.duration_minutes == 5 && task.day_offset == 9999));

    let (_, body) = generate(&fake, &plan).await;
    let candidate = &body["candidates"][0];
    assert_eq!(candidate["finishReason"], "SAFETY");
    assert!(candidate.get("content").is_none());
    assert!(candidate["safetyRatings"].as_array().unwrap().iter().any(|rating| rating["blocked"] == true));

    let (_, body) = generate(&fake, &plan).await;
    assert_eq!(body["promptFeedback"]["blockReason"], "SAFETY");
    assert!(body.get("candidates").is_none());
    assert!(body["usageMetadata"]["promptTokenCount"].as_u64().is_some_and(|n| n > 0));

    let (_, body) = generate(&fake, &plan).await;
    assert_eq!(body["candidates"][0]["finishReason"], "MAX_TOKENS");
    let partial = candidate_text(&body);
    assert!(!partial.is_empty() && serde_json::from_str::<Value>(&partial).is_err());
}

#[tokio::test]
async fn enum_mime_type_answers_with_the_bare_value() {
    let fake = FakeGemini::start().await;
    let body = json!({
        "contents": [{ "role": "user", "parts": [{ "text": "Is this urgent?" }] }],
        "generationConfig": {
            "responseMimeType": "text/x.enum",
            "responseSchema": { "type": "STRING", "format": "enum", "enum": ["high", "low"] }
        }
    });
    let (_, response) = generate(&fake, &body).await;
    assert_eq!(candidate_text(&response), "high");
}

#[tokio::test]
async fn invalid_plan_without_a_schema_is_a_fixed_bad_plan() {
    let fake = FakeGemini::start().await;
    fake.push(Fault::InvalidPlan);
    let (_, body) = generate(&fake, &text_request(PLAN_PROMPT)).await;
    let plan: PlanAnswer = serde_json::from_str(&candidate_text(&body)).unwrap();
    assert_eq!((plan.tasks[0].day_offset, plan.tasks[0].duration_minutes), (9999, 5));
}

#[tokio::test]
async fn stream_faults_shape_the_chunks() {
    let fake = FakeGemini::start().await;
    let body = text_request("tell me a story");
    fake.push_many([Fault::TruncatedStream, Fault::SafetyBlock, Fault::PromptBlocked, Fault::MaxTokens]);

    let events = stream_events(&fake, &body).await;
    assert_eq!(events.len(), 1);
    assert!(events[0]["candidates"][0].get("finishReason").is_none());
    assert!(!candidate_text(&events[0]).is_empty());

    let events = stream_events(&fake, &body).await;
    assert_eq!(events.len(), 2);
    assert!(!candidate_text(&events[0]).is_empty());
    assert_eq!(events[1]["candidates"][0]["finishReason"], "SAFETY");

    let events = stream_events(&fake, &body).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["promptFeedback"]["blockReason"], "SAFETY");

    let events = stream_events(&fake, &body).await;
    assert_eq!(events.last().unwrap()["candidates"][0]["finishReason"], "MAX_TOKENS");
}

#[tokio::test]
async fn latency_delays_one_answer_and_standing_latency_every_answer() {
    let fake = FakeGemini::start().await;
    fake.push(Fault::Latency(Duration::from_millis(150)));
    let started = Instant::now();
    let (status, _) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(150));

    fake.set_latency(Duration::from_millis(100));
    for method in ["generateContent", "countTokens"] {
        let started = Instant::now();
        assert_eq!(call(&fake, method, &text_request("hi")).await.status(), StatusCode::OK);
        assert!(started.elapsed() >= Duration::from_millis(100), "{method}");
    }
    fake.reset();
    assert_eq!(fake.request_count(), 0);
    assert!(fake.pending_faults().is_empty());
}

#[tokio::test]
async fn requests_are_recorded_with_model_headers_and_body() {
    let fake = FakeGemini::start().await;
    let body = schema_request(PLAN_PROMPT, plan_schema());
    let _ = call(&fake, "streamGenerateContent", &body).await.text().await.unwrap();
    let requests = fake.requests();
    assert_eq!(fake.request_count(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/v1beta/models/{MODEL}:streamGenerateContent"));
    assert_eq!((request.query.as_str(), request.model.as_str()), ("alt=sse", MODEL));
    assert!(request.is_stream());
    assert_eq!(request.header("X-Goog-Api-Key"), Some(FAKE_API_KEY));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body, body);
    assert_eq!(request.user_text(), PLAN_PROMPT);
    assert_eq!(request.system_instruction().as_deref(), Some("You are Planwright."));
    assert_eq!(request.response_schema(), Some(&plan_schema()));
    assert_eq!(fake.last_request().as_ref(), Some(request));
}

#[tokio::test]
async fn bad_requests_get_google_errors_and_keep_the_fault_queued() {
    let fake = FakeGemini::start().await;
    fake.push(Fault::Unavailable);
    let (status, body) = generate(&fake, &json!({ "contents": [] })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "INVALID_ARGUMENT");
    let response = reqwest::Client::new()
        .post(format!("{}/v1beta/models/{MODEL}:generateContent", fake.base_url()))
        .header("x-goog-api-key", FAKE_API_KEY)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, body) = {
        let response = call(&fake, "embedContent", &text_request("hi")).await;
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_google_error(&body, 404, "NOT_FOUND");
    assert_eq!(fake.pending_faults(), [Fault::Unavailable]);
    assert_eq!(fake.request_count(), 3);
}

#[tokio::test]
async fn admin_endpoints_control_the_fake_over_http() {
    let fake = FakeGemini::start().await;
    let http = reqwest::Client::new();
    let admin = |path: &str| format!("{}/_fake/{path}", fake.base_url());

    let response = http
        .post(admin("faults"))
        .json(&json!(["unavailable", { "fault": "rate_limited", "retry_delay_ms": 20 }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        fake.pending_faults(),
        [Fault::Unavailable, Fault::RateLimited { retry_delay: Duration::from_millis(20) }]
    );
    let listed: Value = http.get(admin("faults")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["pending"][1], json!({ "fault": "rate_limited", "retry_delay_ms": 20 }));
    let response = http.post(admin("faults")).json(&json!(["nonsense"])).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let response = http.post(admin("latency")).json(&json!({ "ms": 30 })).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let latency: Value = http.get(admin("latency")).send().await.unwrap().json().await.unwrap();
    assert_eq!(latency, json!({ "ms": 30 }));

    let (status, _) = generate(&fake, &text_request("hi")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let recorded: Vec<Value> = http.get(admin("requests")).send().await.unwrap().json().await.unwrap();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["model"], MODEL);
    assert_eq!(recorded[0]["fault"], json!({ "fault": "unavailable" }));
    assert_eq!(recorded[0]["body"], text_request("hi"));

    let response = http.post(admin("reset")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(fake.pending_faults().is_empty());
    assert_eq!(fake.request_count(), 0);
    let latency: Value = http.get(admin("latency")).send().await.unwrap().json().await.unwrap();
    assert_eq!(latency, json!({ "ms": 0 }));
}

#[tokio::test]
async fn stopped_fakes_refuse_connections() {
    let fake = FakeGemini::start().await;
    let url = fake.base_url();
    fake.stop().await;
    let result = reqwest::Client::new().post(format!("{url}/v1beta/models/{MODEL}:countTokens")).send().await;
    assert!(result.is_err());
}

// ---- Through the real client -------------------------------------------------------------------

#[tokio::test]
async fn the_gemini_client_reads_answers_and_streams() {
    let fake = FakeGemini::start().await;
    let gemini = client(&fake, false);
    let request = GenerateContentRequest::new(vec![Content::user(PLAN_PROMPT)]).with_generation_config(
        GenerationConfig::default()
            .with_response_mime_type("application/json")
            .with_response_json_schema(plan_schema()),
    );
    let response = gemini.generate_content(request.clone()).await.unwrap();
    serde_json::from_str::<PlanAnswer>(&response.text()).unwrap();
    assert!(response.usage_metadata.is_some_and(|usage| usage.total_token_count > 0));

    let mut stream = gemini.stream_generate_content(request).await.unwrap();
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        text.push_str(&chunk.unwrap().text());
    }
    serde_json::from_str::<PlanAnswer>(&text).unwrap();

    let counted = gemini.count_tokens(GenerateContentRequest::from_text("12345678").into()).await.unwrap();
    assert_eq!(counted.total_tokens, 2);
    assert_eq!(fake.requests()[0].path, format!("/v1beta/models/{MODEL}:generateContent"));
}

#[tokio::test]
async fn the_gemini_client_classifies_every_fault() {
    let fake = FakeGemini::start().await;
    let gemini = client(&fake, false);
    let ask = || gemini.generate_content(GenerateContentRequest::from_text("hi"));

    fake.push(Fault::RateLimited { retry_delay: Duration::from_millis(50) });
    let error = ask().await.unwrap_err();
    assert!(matches!(error, Error::RateLimited { quota_per_day: false, .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_millis(50)));

    fake.push(Fault::DailyQuota);
    assert!(matches!(ask().await, Err(Error::RateLimited { quota_per_day: true, .. })));
    fake.push(Fault::BadKey);
    assert!(matches!(ask().await, Err(Error::Unauthorized { .. })));
    fake.push(Fault::Unavailable);
    assert!(matches!(ask().await, Err(Error::Api { code, .. }) if code == "UNAVAILABLE"));
    fake.push(Fault::ServerError);
    assert!(matches!(ask().await, Err(Error::Api { code, .. }) if code.is_empty()));
    fake.push(Fault::SafetyBlock);
    assert!(matches!(ask().await, Err(Error::Blocked { prompt_blocked: false, .. })));
    fake.push(Fault::PromptBlocked);
    assert!(matches!(ask().await, Err(Error::Blocked { prompt_blocked: true, .. })));
    fake.push(Fault::MaxTokens);
    assert!(matches!(ask().await, Err(Error::Truncated { .. })));

    fake.push(Fault::TruncatedStream);
    let mut stream = gemini.stream_generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    assert!(matches!(stream.next().await, Some(Err(Error::IncompleteStream))));
}

#[tokio::test]
async fn the_gemini_client_retries_transient_faults_through_the_queue() {
    let fake = FakeGemini::start().await;
    fake.push_many([Fault::Unavailable, Fault::RateLimited { retry_delay: Duration::from_millis(10) }]);
    let response =
        client(&fake, true).generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();
    assert!(response.text().contains("hi"));
    assert_eq!(fake.request_count(), 3);
}
