//! The HTTP side of the fake: the model routes (`/v1beta/models/{model}:{method}`) and the
//! `/_fake/*` admin routes.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use futures_util::stream;
use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Deserialize;
use serde_json::{Value, json};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::fault::{api_key_invalid, google_error};
use super::{
    FAKE_API_KEY, FakeState, Fault, KNOWN_MODELS, Mode, RecordedRequest, adversarial, embed, lock, schema,
    tools,
};

const GENERATE: &str = "generateContent";
const STREAM: &str = "streamGenerateContent";
const COUNT: &str = "countTokens";
/// Headers copied into [`RecordedRequest::headers`].
const RECORDED_HEADERS: [&str; 7] = [
    "x-goog-api-key",
    "content-type",
    "accept",
    "user-agent",
    "x-goog-api-client",
    "x-request-id",
    "traceparent",
];
/// What [`Fault::MalformedJson`] answers: a code fence around JSON that never ends.
const MALFORMED_JSON: &str = "```json\n{\"summary\": \"unterminated";

/// Registers every route.
pub(super) fn configure(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
        .route("/v1beta/models/{tail}", web::post().to(call_model))
        .route("/v1beta/models/{model}", web::get().to(get_model))
        .route("/_fake/mode", web::post().to(set_mode))
        .route("/_fake/mode", web::get().to(get_mode))
        .route("/_fake/retired", web::post().to(retire_model))
        .route("/_fake/faults", web::post().to(push_faults))
        .route("/_fake/faults", web::get().to(list_faults))
        .route("/_fake/latency", web::post().to(set_latency))
        .route("/_fake/latency", web::get().to(get_latency))
        .route("/_fake/reset", web::post().to(reset))
        .route("/_fake/requests", web::get().to(list_requests))
        .route("/", web::get().to(usage))
        .default_service(web::to(not_found));
}

/// `POST /v1beta/models/{{model}}:{method}`.
async fn call_model(
    request: HttpRequest,
    tail: web::Path<String>,
    body: Bytes,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let tail = tail.into_inner();
    let (model, action) = tail.split_once(':').unwrap_or((tail.as_str(), ""));
    let parsed = serde_json::from_slice::<Value>(&body);
    let key_ok = request.headers().get("x-goog-api-key").and_then(|value| value.to_str().ok())
        == Some(state.api_key.as_str());
    let contents_given = parsed.as_ref().is_ok_and(has_contents);
    let embedding = matches!(action, embed::EMBED | embed::BATCH_EMBED);
    let served = if embedding { state.serves_embedding(model) } else { state.serves(model) };
    let takes_fault =
        (contents_given && matches!(action, GENERATE | STREAM)) || (embedding && parsed.is_ok());
    let fault = if key_ok && served && takes_fault { state.faults().pop_front() } else { None };
    state.requests().push(RecordedRequest {
        method: request.method().to_string(),
        path: request.path().to_owned(),
        query: request.query_string().to_owned(),
        model: model.to_owned(),
        action: action.to_owned(),
        headers: recorded_headers(&request),
        body: parsed
            .as_ref()
            .cloned()
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
        fault: fault.clone(),
        received_at: Utc::now(),
    });
    tracing::info!(model, action, fault = ?fault, "fake Gemini request");

    let delay = *state.latency() + fault.as_ref().map_or(Duration::ZERO, Fault::delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }

    if !embedding && !matches!(action, GENERATE | STREAM | COUNT) {
        return google_error(
            StatusCode::NOT_FOUND,
            &format!("models/{model} is not found for API version v1beta, or does not support {action}."),
            "NOT_FOUND",
            None,
        );
    }
    if !key_ok {
        return api_key_invalid();
    }
    if !served {
        return model_not_found(model, action);
    }
    let body = match parsed {
        Ok(body) => body,
        Err(error) => {
            return google_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid JSON payload received. {error}"),
                "INVALID_ARGUMENT",
                None,
            );
        }
    };
    if embedding {
        return embed::answer(model, action, &body, fault.as_ref(), &state);
    }
    if action == COUNT {
        let tokens = prompt_tokens(generate_request_of(&body));
        return json_response(&json!({
            "totalTokens": tokens,
            "promptTokensDetails": [{ "modality": "TEXT", "tokenCount": tokens }]
        }));
    }
    if !contents_given {
        return google_error(
            StatusCode::BAD_REQUEST,
            "* GenerateContentRequest.contents: contents is not specified\n",
            "INVALID_ARGUMENT",
            None,
        );
    }
    if let Some(response) = fault.as_ref().and_then(Fault::error_response) {
        return response;
    }
    if let Some(problem) = thinking_problem(model, &body) {
        return google_error(StatusCode::BAD_REQUEST, problem, "INVALID_ARGUMENT", None);
    }
    if let Some(problem) = tools::check(model, &body, &lock(&state.signatures)) {
        return problem;
    }
    let seed = state.next_seed();
    let mut answer = Answer::new(model, &body, fault.as_ref(), seed);
    if matches!(fault, None | Some(Fault::Latency(_) | Fault::SlowStream(_))) {
        match tools::reply(&body, seed, &mut lock(&state.signatures)) {
            Some(tools::Reply::Calls(parts)) => {
                answer.text = tools::describe_calls(&parts);
                answer.calls = parts;
            }
            Some(tools::Reply::Text(text)) => answer.text = text,
            None => {}
        }
    }
    lock(&state.answers).push(answer.sent_text(fault.as_ref()));
    if action == STREAM {
        let sse = request.query_string().split('&').any(|pair| pair == "alt=sse");
        let pause = match fault {
            Some(Fault::SlowStream(pause)) => pause,
            _ => Duration::ZERO,
        };
        stream_response(answer.chunks(fault.as_ref()), sse, pause, state.clone())
    } else {
        json_response(&answer.response(fault.as_ref()))
    }
}

/// Google's 404 for a model it does not serve (unknown, or retired).
fn model_not_found(model: &str, action: &str) -> HttpResponse {
    let method = if action.is_empty() { "generateContent" } else { action };
    google_error(
        StatusCode::NOT_FOUND,
        &format!(
            "models/{model} is not found for API version v1beta, or is not supported for {method}. Call \
             ListModels to see the list of available models and their supported methods."
        ),
        "NOT_FOUND",
        None,
    )
}

/// What Google refuses in `thinkingConfig`: a level and a budget together, or a level for a
/// model before Gemini 3.
fn thinking_problem(model: &str, request: &Value) -> Option<&'static str> {
    let thinking = generation_config(request)?.get("thinkingConfig")?;
    let level = thinking.get("thinkingLevel").is_some_and(|level| !level.is_null());
    let budget = thinking.get("thinkingBudget").is_some_and(|budget| !budget.is_null());
    if level && budget {
        return Some("You can only set only one of thinking budget and thinking level.");
    }
    if level && (model.starts_with("gemini-2.") || model.starts_with("gemini-1.")) {
        return Some("Thinking level is not supported for this model.");
    }
    None
}

/// Tokens the model "thinks" for a request: none at `minimal` or budget 0, more at higher
/// levels; Gemini 3 without a setting thinks at `high`.
fn thoughts_tokens(model: &str, request: &Value) -> u64 {
    let thinking = generation_config(request).and_then(|config| config.get("thinkingConfig"));
    let level = thinking.and_then(|t| t.get("thinkingLevel")).and_then(Value::as_str);
    let budget = thinking.and_then(|t| t.get("thinkingBudget")).and_then(Value::as_i64);
    match (level, budget) {
        (Some("low"), _) => 16,
        (Some("medium"), _) => 64,
        (Some("high"), _) => 256,
        (Some(_), _) | (None, Some(0)) => 0,
        (None, Some(budget)) if budget > 0 => u64::try_from(budget).unwrap_or(0).min(64),
        (None, Some(_)) => 64,
        (None, None) if model.starts_with("gemini-3") => 256,
        (None, None) => 0,
    }
}

fn generation_config(request: &Value) -> Option<&Value> {
    request.get("generationConfig").or_else(|| request.get("generation_config"))
}

/// `GET /v1beta/models/{model}` (`models.get`): the model's metadata, or 404 for a model Google
/// does not serve.
async fn get_model(
    request: HttpRequest,
    model: web::Path<String>,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let key_ok = request.headers().get("x-goog-api-key").and_then(|value| value.to_str().ok())
        == Some(state.api_key.as_str());
    if !key_ok {
        return api_key_invalid();
    }
    let model = model.into_inner();
    if state.serves_embedding(&model) {
        return json_response(&embed::model_metadata(&model));
    }
    if !state.serves(&model) {
        return google_error(
            StatusCode::NOT_FOUND,
            &format!("models/{model} is not found for API version v1beta."),
            "NOT_FOUND",
            None,
        );
    }
    let version = model.trim_start_matches("gemini-").split('-').next().unwrap_or("").to_owned();
    let display: String = model
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
        })
        .collect::<Vec<_>>()
        .join(" ");
    json_response(&json!({
        "name": format!("models/{model}"),
        "baseModelId": model,
        "version": version,
        "displayName": display,
        "description": format!("{display} (fake)"),
        "inputTokenLimit": 1_048_576,
        "outputTokenLimit": 65_536,
        "supportedGenerationMethods": ["generateContent", "countTokens", "createCachedContent", "batchGenerateContent"],
        "temperature": 1.0,
        "maxTemperature": 2.0,
        "topP": 0.95,
        "topK": 64,
        "thinking": true
    }))
}

/// Whether a generate (or count) body has a non-empty `contents`.
fn has_contents(body: &Value) -> bool {
    generate_request_of(body)
        .get("contents")
        .and_then(Value::as_array)
        .is_some_and(|contents| !contents.is_empty())
}

fn recorded_headers(request: &HttpRequest) -> BTreeMap<String, String> {
    RECORDED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = request.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

/// The generate request inside a `countTokens` body, or the body itself.
pub(super) fn generate_request_of(body: &Value) -> &Value {
    body.get("generateContentRequest").filter(|inner| inner.is_object()).unwrap_or(body)
}

/// The text parts of a `Content`, thoughts excluded, joined.
pub(super) fn parts_text(content: &Value) -> String {
    content
        .get("parts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|part| part.get("thought").and_then(Value::as_bool) != Some(true))
        .filter_map(|part| part.get("text").and_then(Value::as_str))
        .collect()
}

/// The text of the last `user` (or role-less) message.
pub(super) fn last_user_text(request: &Value) -> String {
    request
        .get("contents")
        .and_then(Value::as_array)
        .and_then(|contents| {
            contents
                .iter()
                .rev()
                .find(|content| content.get("role").and_then(Value::as_str).is_none_or(|role| role == "user"))
        })
        .map(parts_text)
        .unwrap_or_default()
}

/// `generationConfig.responseJsonSchema`, or else `responseSchema` (snake_case accepted too,
/// as Google's JSON parser does).
pub(super) fn response_schema_of(request: &Value) -> Option<&Value> {
    let config = request.get("generationConfig").or_else(|| request.get("generation_config"))?;
    ["responseJsonSchema", "response_json_schema", "responseSchema", "response_schema"]
        .iter()
        .find_map(|key| config.get(*key).filter(|schema| !schema.is_null()))
}

/// `generationConfig.responseMimeType`.
fn response_mime_type(request: &Value) -> Option<&str> {
    let config = request.get("generationConfig").or_else(|| request.get("generation_config"))?;
    config.get("responseMimeType").or_else(|| config.get("response_mime_type"))?.as_str()
}

/// About four characters a token, at least one.
fn tokens_for(chars: usize) -> u64 {
    u64::try_from(chars.div_ceil(4).max(1)).unwrap_or(u64::MAX)
}

/// Tokens of every text in `contents` and `systemInstruction`.
fn prompt_tokens(request: &Value) -> u64 {
    let contents = request.get("contents").and_then(Value::as_array).into_iter().flatten();
    let chars: usize = contents
        .chain(request.get("systemInstruction"))
        .map(|content| parts_text(content).chars().count())
        .sum();
    tokens_for(chars)
}

/// What the model "says" to one request.
struct Answer {
    model: String,
    response_id: String,
    text: String,
    prompt_tokens: u64,
    thoughts_tokens: u64,
    /// `functionCall` parts answered instead of `text` (see `tools`); empty for a text answer.
    calls: Vec<Value>,
}

impl Answer {
    /// The answer to `request`: with `seed` (adversarial mode) a random schema-valid one.
    fn new(model: &str, request: &Value, fault: Option<&Fault>, seed: Option<u64>) -> Self {
        let prompt = last_user_text(request);
        let violate = fault == Some(&Fault::InvalidPlan);
        let text = match (fault, response_schema_of(request), seed) {
            (Some(Fault::MalformedJson), _, _) => MALFORMED_JSON.to_owned(),
            (Some(Fault::Text(text)), _, _) => text.clone(),
            (Some(Fault::InvalidPlan), _, _) | (_, _, None) => {
                Self::friendly(request, &prompt, violate, fault)
            }
            (_, Some(schema), Some(seed)) => adversarial::answer(schema, &mut StdRng::seed_from_u64(seed)),
            (_, None, Some(seed)) => adversarial::text(&mut StdRng::seed_from_u64(seed)),
        };
        let response_id = rand::thread_rng().sample_iter(&Alphanumeric).take(22).map(char::from).collect();
        Self {
            model: model.to_owned(),
            response_id,
            text,
            prompt_tokens: prompt_tokens(request),
            thoughts_tokens: thoughts_tokens(model, request),
            calls: Vec::new(),
        }
    }

    fn friendly(request: &Value, prompt: &str, violate: bool, fault: Option<&Fault>) -> String {
        match (fault, response_schema_of(request)) {
            (_, Some(schema)) => match schema::sample(schema, prompt, violate) {
                // `text/x.enum` answers with the bare enum value, not a JSON string.
                Value::String(value) if response_mime_type(request) == Some("text/x.enum") => value,
                value => value.to_string(),
            },
            (Some(Fault::InvalidPlan), None) => invalid_plan(prompt).to_string(),
            (_, None) => echo(prompt),
        }
    }

    /// The text actually sent: half of it when the answer hits `MAX_TOKENS`.
    fn sent_text(&self, fault: Option<&Fault>) -> String {
        if fault == Some(&Fault::MaxTokens) {
            let half = self.text.chars().count() / 2;
            self.text.chars().take(half.max(1)).collect()
        } else {
            self.text.clone()
        }
    }

    fn usage(&self, output_chars: Option<usize>) -> Value {
        let output = output_chars.map_or(0, tokens_for);
        let mut usage = json!({
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": output,
            "totalTokenCount": self.prompt_tokens + output + self.thoughts_tokens,
            "promptTokensDetails": [{ "modality": "TEXT", "tokenCount": self.prompt_tokens }]
        });
        if let (true, Value::Object(map)) = (self.thoughts_tokens > 0, &mut usage) {
            map.insert("thoughtsTokenCount".to_owned(), json!(self.thoughts_tokens));
        }
        usage
    }

    fn envelope(&self, candidates: Option<Value>, usage: Option<Value>) -> Value {
        let mut response = json!({ "modelVersion": self.model, "responseId": self.response_id });
        if let Value::Object(map) = &mut response {
            if let Some(candidates) = candidates {
                map.insert("candidates".to_owned(), candidates);
            }
            if let Some(usage) = usage {
                map.insert("usageMetadata".to_owned(), usage);
            }
        }
        response
    }

    fn text_candidate(text: &str, finish_reason: Option<&str>) -> Value {
        let mut candidate =
            json!({ "content": { "parts": [{ "text": text }], "role": "model" }, "index": 0 });
        if let (Some(reason), Value::Object(map)) = (finish_reason, &mut candidate) {
            map.insert("finishReason".to_owned(), json!(reason));
        }
        candidate
    }

    fn blocked(&self) -> Value {
        self.envelope(
            Some(json!([{ "finishReason": "SAFETY", "index": 0, "safetyRatings": safety_ratings() }])),
            Some(self.usage(None)),
        )
    }

    fn prompt_blocked(&self) -> Value {
        let mut response = self.envelope(None, Some(self.usage(None)));
        if let Value::Object(map) = &mut response {
            map.insert(
                "promptFeedback".to_owned(),
                json!({ "blockReason": "SAFETY", "safetyRatings": safety_ratings() }),
            );
        }
        response
    }

    /// The `generateContent` response.
    fn response(&self, fault: Option<&Fault>) -> Value {
        match fault {
            Some(Fault::SafetyBlock) => self.blocked(),
            Some(Fault::PromptBlocked) => self.prompt_blocked(),
            _ if !self.calls.is_empty() => self.envelope(
                Some(json!([tools::candidate(&self.calls, Some("STOP"))])),
                Some(self.usage(Some(self.text.chars().count()))),
            ),
            _ => {
                let text = self.sent_text(fault);
                let reason = if fault == Some(&Fault::MaxTokens) { "MAX_TOKENS" } else { "STOP" };
                self.envelope(
                    Some(json!([Self::text_candidate(&text, Some(reason))])),
                    Some(self.usage(Some(text.chars().count()))),
                )
            }
        }
    }

    /// The `streamGenerateContent` chunks: the text over two or three chunks, the last carrying
    /// the finish reason and usage.
    fn chunks(&self, fault: Option<&Fault>) -> Vec<Value> {
        if fault == Some(&Fault::PromptBlocked) {
            return vec![self.prompt_blocked()];
        }
        if !self.calls.is_empty() {
            // One call per chunk, the last chunk carrying the finish reason and usage.
            let last = self.calls.len() - 1;
            return self
                .calls
                .iter()
                .enumerate()
                .map(|(index, call)| {
                    let parts = std::slice::from_ref(call);
                    if index == last {
                        let usage = self.usage(Some(self.text.chars().count()));
                        self.envelope(Some(json!([tools::candidate(parts, Some("STOP"))])), Some(usage))
                    } else {
                        self.envelope(Some(json!([tools::candidate(parts, None)])), None)
                    }
                })
                .collect();
        }
        let text = self.sent_text(fault);
        // A slow stream comes word by word, so a client that hangs up has many chunks left.
        let pieces = if matches!(fault, Some(Fault::SlowStream(_))) {
            text.split_inclusive(' ').map(str::to_owned).collect()
        } else {
            split_text(&text)
        };
        let last = pieces.len().saturating_sub(1);
        match fault {
            Some(Fault::TruncatedStream) => pieces
                .first()
                .map(|piece| self.envelope(Some(json!([Self::text_candidate(piece, None)])), None))
                .into_iter()
                .collect(),
            Some(Fault::SafetyBlock) => pieces
                .first()
                .map(|piece| self.envelope(Some(json!([Self::text_candidate(piece, None)])), None))
                .into_iter()
                .chain([self.blocked()])
                .collect(),
            _ => {
                let reason = if fault == Some(&Fault::MaxTokens) { "MAX_TOKENS" } else { "STOP" };
                pieces
                    .iter()
                    .enumerate()
                    .map(|(index, piece)| {
                        if index == last {
                            self.envelope(
                                Some(json!([Self::text_candidate(piece, Some(reason))])),
                                Some(self.usage(Some(text.chars().count()))),
                            )
                        } else {
                            self.envelope(Some(json!([Self::text_candidate(piece, None)])), None)
                        }
                    })
                    .collect()
            }
        }
    }
}

/// Two or three pieces of about equal length (one for a single character).
fn split_text(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let parts = chars.len().clamp(1, 3);
    (0..parts)
        .map(|part| chars[chars.len() * part / parts..chars.len() * (part + 1) / parts].iter().collect())
        .collect()
}

/// A plain-text answer that shows what it was asked.
fn echo(prompt: &str) -> String {
    let excerpt: String = prompt.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
    if excerpt.is_empty() {
        return "Hello from the fake Gemini. Ask me anything.".to_owned();
    }
    format!(
        "You asked: \"{excerpt}\". Here is a short answer from the fake Gemini: break it into small steps, \
         start with the first one today, and review your progress tomorrow."
    )
}

/// A plan that parses but breaks the app's rules.
fn invalid_plan(prompt: &str) -> Value {
    json!({
        "summary": format!("A plan for {}", schema::topic_of(prompt)),
        "tasks": [{
            "title": "Do everything at once",
            "description": "This task is too short and far too late.",
            "day_offset": 9999,
            "duration_minutes": 5
        }]
    })
}

fn safety_ratings() -> Value {
    json!([
        { "category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE" },
        { "category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE" },
        { "category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE" },
        { "category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true }
    ])
}

fn json_response(body: &impl serde::Serialize) -> HttpResponse {
    match serde_json::to_string(body) {
        Ok(text) => HttpResponse::Ok().content_type("application/json; charset=UTF-8").body(text),
        Err(error) => HttpResponse::InternalServerError().body(error.to_string()),
    }
}

/// Chunks framed as Server-Sent Events (`data: {json}\r\n\r\n`), or, without `alt=sse`, as
/// the JSON array Gemini streams by default; with `pause` before each chunk after the first.
/// A stream dropped before its last chunk (the client hung up) is counted as abandoned.
fn stream_response(
    chunks: Vec<Value>,
    sse: bool,
    pause: Duration,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let count = chunks.len();
    let frames: VecDeque<Bytes> = chunks
        .into_iter()
        .enumerate()
        .map(|(index, chunk)| {
            let frame = if sse {
                format!("data: {chunk}\r\n\r\n")
            } else {
                let open = if index == 0 { "[" } else { ",\r\n" };
                let close = if index + 1 == count { "]" } else { "" };
                format!("{open}{chunk}{close}")
            };
            Bytes::from(frame)
        })
        .collect();
    let guard = AbandonGuard { state, finished: false };
    let body = stream::unfold((frames, guard, true), move |(mut frames, mut guard, first)| async move {
        let Some(frame) = frames.pop_front() else {
            guard.finish();
            return None;
        };
        if !first && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        Some((Ok::<_, Infallible>(frame), (frames, guard, false)))
    });
    let content_type = if sse { "text/event-stream" } else { "application/json; charset=UTF-8" };
    HttpResponse::Ok().content_type(content_type).insert_header(("cache-control", "no-cache")).streaming(body)
}

/// Counts a stream as abandoned when it is dropped before its end.
struct AbandonGuard {
    state: web::Data<FakeState>,
    finished: bool,
}

impl AbandonGuard {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.state.abandoned_streams.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// `POST /_fake/faults`: a list of faults (or one) to queue.
async fn push_faults(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let faults = serde_json::from_slice::<Value>(&body).and_then(|value| match value {
        Value::Array(_) => serde_json::from_value::<Vec<Fault>>(value),
        single => serde_json::from_value::<Fault>(single).map(|fault| vec![fault]),
    });
    match faults {
        Ok(faults) => {
            let mut queue = state.faults();
            queue.extend(faults);
            json_response(&json!({ "pending": queue.iter().collect::<Vec<_>>() }))
        }
        Err(error) => admin_error(&format!(
            "expected a list of faults like [\"unavailable\", {{\"fault\": \"rate_limited\", \"retry_delay_ms\": 50}}, \
             {{\"fault\": \"latency\", \"ms\": 200}}]: {error}"
        )),
    }
}

/// `GET /_fake/faults`: the faults still queued.
async fn list_faults(state: web::Data<FakeState>) -> HttpResponse {
    json_response(&json!({ "pending": state.faults().iter().collect::<Vec<_>>() }))
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

/// `POST /_fake/latency {"ms": 200}`: a delay before every answer.
async fn set_latency(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    match serde_json::from_slice::<Latency>(&body) {
        Ok(latency) => {
            *state.latency() = Duration::from_millis(latency.ms);
            json_response(&json!({ "ms": latency.ms }))
        }
        Err(error) => admin_error(&format!("expected {{\"ms\": 200}}: {error}")),
    }
}

/// `GET /_fake/latency`.
async fn get_latency(state: web::Data<FakeState>) -> HttpResponse {
    let ms = u64::try_from(state.latency().as_millis()).unwrap_or(u64::MAX);
    json_response(&json!({ "ms": ms }))
}

/// `POST /_fake/reset`: no faults, no latency, no recorded requests.
async fn reset(state: web::Data<FakeState>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}

/// `GET /_fake/requests`: every recorded request, oldest first.
async fn list_requests(state: web::Data<FakeState>) -> HttpResponse {
    let requests = state.requests().clone();
    json_response(&requests)
}

/// `POST /_fake/mode {"mode": "adversarial", "seed": 7}` or `{"mode": "friendly"}`.
async fn set_mode(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    match serde_json::from_slice::<Mode>(&body) {
        Ok(mode) => {
            state.set_mode(mode);
            json_response(&mode)
        }
        Err(error) => admin_error(&format!(
            "expected {{\"mode\": \"adversarial\", \"seed\": 7}} or {{\"mode\": \"friendly\"}}: {error}"
        )),
    }
}

/// `GET /_fake/mode`.
async fn get_mode(state: web::Data<FakeState>) -> HttpResponse {
    let mode = lock(&state.mode).0;
    json_response(&mode)
}

#[derive(Deserialize)]
struct Retire {
    model: String,
}

/// `POST /_fake/retired {"model": "gemini-3.5-flash"}`: the model answers 404 from now on.
async fn retire_model(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    match serde_json::from_slice::<Retire>(&body) {
        Ok(retire) => {
            lock(&state.retired).insert(retire.model.clone());
            json_response(&json!({ "retired": retire.model, "known": KNOWN_MODELS }))
        }
        Err(error) => admin_error(&format!("expected {{\"model\": \"gemini-3.5-flash\"}}: {error}")),
    }
}

fn admin_error(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().content_type("application/json").body(json!({ "error": message }).to_string())
}

/// `GET /`: what this server is.
async fn usage() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!(
        "Fake Gemini (v1beta). Send x-goog-api-key: {FAKE_API_KEY}.\n\
         POST /v1beta/models/{{model}}:generateContent\n\
         POST /v1beta/models/{{model}}:streamGenerateContent?alt=sse\n\
         POST /v1beta/models/{{model}}:countTokens\n\
         POST /v1beta/models/{{model}}:embedContent        (gemini-embedding-001, gemini-embedding-2)\n\
         POST /v1beta/models/{{model}}:batchEmbedContents  (at most 100 requests)\n\
         GET  /v1beta/models/{{model}}  (models.get; retired and unknown models answer 404)\n\
         POST /_fake/mode    {{\"mode\": \"adversarial\", \"seed\": 7}} or {{\"mode\": \"friendly\"}}\n\
         POST /_fake/retired {{\"model\": \"gemini-3.5-flash\"}}\n\
         POST /_fake/faults  [\"unavailable\", {{\"fault\": \"rate_limited\", \"retry_delay_ms\": 50}}, ...]\n\
         GET  /_fake/faults\n\
         POST /_fake/latency {{\"ms\": 200}}\n\
         GET  /_fake/latency\n\
         POST /_fake/reset\n\
         GET  /_fake/requests\n\
         Tools: declared functions named in the prompt are called (mode ANY forces one); thought signatures are checked.\n\
         Faults: latency, rate_limited, daily_quota, unavailable, server_error, malformed_json, invalid_plan,\n\
         safety_block, prompt_blocked, max_tokens, truncated_stream, bad_key, slow_stream (ms), text (text)\n",
    ))
}

async fn not_found(request: HttpRequest) -> HttpResponse {
    google_error(
        StatusCode::NOT_FOUND,
        &format!("The requested URL {} was not found on this server.", request.path()),
        "NOT_FOUND",
        None,
    )
}
