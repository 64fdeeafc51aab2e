//! Function calling in the fake: when a request declares functions (`tools[].functionDeclarations`)
//! and `toolConfig.functionCallingConfig.mode` is not `NONE`, the model "decides" to call them
//! from the last user message, deterministically:
//!
//! - every declared function whose name appears in the message is called, in the order the names
//!   appear (`get_weather` also matches "get weather"), one `functionCall` part each;
//! - "use all tools" (or "call all tools") calls every declared function; "use a tool" (or
//!   "call a tool") calls the first one;
//! - mode `ANY` forces a call: when nothing above matches, the first function is called;
//! - with `ANY` (or `VALIDATED`) and `allowedFunctionNames`, only those functions are considered.
//!
//! Arguments come from the declaration's `parametersJsonSchema` (or `parameters`) through the
//! fake's schema sampler; in adversarial mode through the adversarial generator, with one to
//! three calls (a function may be called twice) and empty or absent arguments where the schema
//! requires nothing. Never a function that was not declared. Each call has an `id`; the first
//! call part of a reply carries a made-up `thoughtSignature` the fake remembers, as Gemini 3 does.
//!
//! On the way back the fake checks the conversation like Google: in the current turn (everything
//! after the last user message with text), the first `functionCall` part of every model step
//! must carry its signature on a Gemini 3 model (400 "Function call is missing a
//! thought_signature in functionCall parts. ..."); a signature must be the one issued for that
//! call, or one the fake issued at all (400 "Corrupted thought signature."); Google's documented
//! dummies `skip_thought_signature_validator` and `context_engineering_is_the_way_to_go` pass.
//! `functionResponse` parts must match the previous model step's calls in number (Google's 400).
//! After the responses the model answers in text that quotes each function's name and response.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fault::google_error;
use super::{adversarial, schema};

/// Signatures Google documents as skipping validation (for history not made by Gemini).
const SIGNATURE_DUMMIES: [&str; 2] =
    ["skip_thought_signature_validator", "context_engineering_is_the_way_to_go"];

/// The signatures the fake has issued, by call id.
#[derive(Debug, Default)]
pub(super) struct Signatures {
    by_call: BTreeMap<String, String>,
    calls: u64,
}

impl Signatures {
    fn issued(&self, signature: &str) -> bool {
        self.by_call.values().any(|issued| issued == signature)
    }
}

/// What the model does instead of its usual answer.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Reply {
    /// `functionCall` parts, the first carrying a `thoughtSignature`.
    Calls(Vec<Value>),
    /// A text answer to the `functionResponse` parts of the last message.
    Text(String),
}

/// Google's 400 for a tool conversation it refuses, if any (see the module docs).
pub(super) fn check(model: &str, request: &Value, signatures: &Signatures) -> Option<HttpResponse> {
    let contents = contents(request);
    let turn_start = contents.iter().rposition(is_user_text).map_or(0, |index| index + 1);
    for (index, content) in contents.iter().enumerate().skip(turn_start) {
        if role(content) != Some("model") {
            continue;
        }
        let Some(first) = parts(content).find(|part| call_of(part).is_some()) else { continue };
        let call = call_of(first).unwrap_or(&Value::Null);
        let name = call.get("name").and_then(Value::as_str).unwrap_or("");
        match signature_of(first) {
            None if model.starts_with("gemini-3") => {
                return Some(bad_request(&format!(
                    "Function call is missing a thought_signature in functionCall parts. This is required for \
                     tools to work correctly, and missing thought_signature may lead to degraded model \
                     performance. Additional data, function call `default_api:{name}` , position {}. Please \
                     refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                    index + 1
                )));
            }
            None => {}
            Some(signature) if SIGNATURE_DUMMIES.contains(&signature) => {}
            Some(signature) => {
                let id = call.get("id").and_then(Value::as_str);
                let expected = id.and_then(|id| signatures.by_call.get(id));
                let valid =
                    expected.map_or_else(|| signatures.issued(signature), |issued| issued == signature);
                if !valid {
                    return Some(bad_request("Corrupted thought signature."));
                }
            }
        }
    }
    let (last, earlier) = contents.split_last()?;
    let responses = parts(last).filter(|part| response_of(part).is_some()).count();
    if responses > 0 {
        let calls = earlier
            .last()
            .filter(|content| role(content) == Some("model"))
            .map_or(0, |content| parts(content).filter(|part| call_of(part).is_some()).count());
        if calls != responses {
            return Some(bad_request(
                "Please ensure that the number of function response parts is equal to the number of function \
                 call parts of the function call turn.",
            ));
        }
    }
    None
}

/// The model's tool reply to `request`, or `None` for its usual answer. `seed` is set in
/// adversarial mode.
pub(super) fn reply(request: &Value, seed: Option<u64>, signatures: &mut Signatures) -> Option<Reply> {
    let last = contents(request).last()?;
    let results: Vec<&Value> = parts(last).filter_map(response_of).collect();
    if !results.is_empty() {
        return Some(Reply::Text(describe_results(&results)));
    }
    if !is_user_text(last) {
        return None;
    }
    let config = field(request, "toolConfig", "tool_config")
        .and_then(|config| field(config, "functionCallingConfig", "function_calling_config"));
    let mode = config.and_then(|config| config.get("mode")).and_then(Value::as_str).unwrap_or("AUTO");
    if mode == "NONE" {
        return None;
    }
    let allowed: Vec<&str> = config
        .and_then(|config| field(config, "allowedFunctionNames", "allowed_function_names"))
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let declarations: Vec<&Value> = declarations(request)
        .filter(|declaration| {
            allowed.is_empty()
                || !matches!(mode, "ANY" | "VALIDATED")
                || allowed.contains(&name_of(declaration))
        })
        .collect();
    let prompt = super::handlers::parts_text(last);
    let chosen = choose(&declarations, &prompt, mode == "ANY");
    if chosen.is_empty() {
        return None;
    }
    let calls: Vec<(&Value, Option<Value>)> = match seed {
        None => chosen
            .iter()
            .map(|declaration| (*declaration, Some(friendly_args(declaration, &prompt))))
            .collect(),
        Some(seed) => adversarial_calls(&chosen, &mut StdRng::seed_from_u64(seed)),
    };
    let mut parts = Vec::with_capacity(calls.len());
    for (index, (declaration, args)) in calls.into_iter().enumerate() {
        signatures.calls += 1;
        let name = name_of(declaration);
        let id = format!("call_{:04}_{name}", signatures.calls);
        let mut call = json!({ "id": id, "name": name });
        if let (Some(args), Value::Object(map)) = (args, &mut call) {
            map.insert("args".to_owned(), args);
        }
        let mut part = json!({ "functionCall": call });
        if index == 0 {
            let signature = make_signature(&id, &call);
            signatures.by_call.insert(id, signature.clone());
            if let Value::Object(map) = &mut part {
                map.insert("thoughtSignature".to_owned(), Value::String(signature));
            }
        }
        parts.push(part);
    }
    Some(Reply::Calls(parts))
}

/// A candidate holding `parts` (a model turn), with a finish reason on the last chunk.
pub(super) fn candidate(parts: &[Value], finish_reason: Option<&str>) -> Value {
    let mut candidate = json!({ "content": { "parts": parts, "role": "model" }, "index": 0 });
    if let (Some(reason), Value::Object(map)) = (finish_reason, &mut candidate) {
        map.insert("finishReason".to_owned(), json!(reason));
    }
    candidate
}

/// What the fake records as the text of a tool reply: one line per call.
pub(super) fn describe_calls(parts: &[Value]) -> String {
    parts
        .iter()
        .filter_map(call_of)
        .map(|call| {
            let name = call.get("name").and_then(Value::as_str).unwrap_or("");
            let args = call.get("args").map_or_else(String::new, Value::to_string);
            format!("functionCall {name} {args}").trim_end().to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text answer after function results: each function's name and its response, quoted.
fn describe_results(results: &[&Value]) -> String {
    let quoted: Vec<String> = results
        .iter()
        .map(|result| {
            let name = result.get("name").and_then(Value::as_str).unwrap_or("(unnamed)");
            let response = result.get("response").map_or_else(|| "{}".to_owned(), Value::to_string);
            format!("{name} returned {response}")
        })
        .collect();
    format!("Done. From your tools: {}.", quoted.join("; "))
}

/// The declarations to call, in the order the prompt names them (see the module docs).
fn choose<'a>(declarations: &[&'a Value], prompt: &str, forced: bool) -> Vec<&'a Value> {
    let lower = prompt.to_lowercase();
    if lower.contains("use all tools") || lower.contains("call all tools") {
        return declarations.to_vec();
    }
    let mut named: Vec<(usize, &Value)> = declarations
        .iter()
        .filter_map(|declaration| {
            let name = name_of(declaration).to_lowercase();
            if name.is_empty() {
                return None;
            }
            let spaced = name.replace(['_', '-', '.'], " ");
            let at = [lower.find(&name), lower.find(&spaced)].into_iter().flatten().min()?;
            Some((at, *declaration))
        })
        .collect();
    named.sort_by_key(|(at, _)| *at);
    let mut chosen: Vec<&Value> = named.into_iter().map(|(_, declaration)| declaration).collect();
    let asked = lower.contains("use a tool") || lower.contains("call a tool");
    if chosen.is_empty() && (asked || forced) {
        chosen.extend(declarations.first());
    }
    chosen
}

fn friendly_args(declaration: &Value, prompt: &str) -> Value {
    match parameters_of(declaration) {
        Some(schema) => match schema::sample(schema, prompt, false) {
            Value::Object(args) => Value::Object(args),
            _ => json!({}),
        },
        None => json!({}),
    }
}

/// One to three calls among `chosen` (the first always `chosen[0]`), adversarial arguments.
fn adversarial_calls<'a>(chosen: &[&'a Value], rng: &mut StdRng) -> Vec<(&'a Value, Option<Value>)> {
    let count = rng.gen_range(1..=3);
    (0..count)
        .filter_map(|index| {
            let declaration =
                if index == 0 { chosen.first() } else { chosen.get(rng.gen_range(0..chosen.len())) };
            let declaration = *declaration?;
            let schema = parameters_of(declaration);
            let requires_nothing = schema
                .and_then(|schema| schema.get("required"))
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty);
            let args = match (schema, requires_nothing && rng.gen_bool(0.4)) {
                (_, true) => {
                    if rng.gen_bool(0.5) {
                        None
                    } else {
                        Some(json!({}))
                    }
                }
                (Some(schema), false) => match adversarial::value(schema, rng) {
                    Value::Object(args) => Some(Value::Object(args)),
                    _ => Some(json!({})),
                },
                (None, false) => Some(json!({})),
            };
            Some((declaration, args))
        })
        .collect()
}

/// A signature that looks like Gemini's (base64 with `+`, `/` and padding), fixed for the call.
fn make_signature(id: &str, call: &Value) -> String {
    let first = Sha256::digest(format!("{id}|{call}").as_bytes());
    let second = Sha256::digest(first);
    let mut bytes = first.to_vec();
    bytes.extend_from_slice(&second);
    bytes.push(0xfb); // 65 bytes: the encoding ends in `=` padding.
    STANDARD.encode(bytes)
}

fn bad_request(message: &str) -> HttpResponse {
    google_error(StatusCode::BAD_REQUEST, message, "INVALID_ARGUMENT", None)
}

/// A field by its camelCase or snake_case name (Google's JSON parser takes both).
fn field<'a>(value: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    value.get(camel).or_else(|| value.get(snake)).filter(|field| !field.is_null())
}

fn contents(request: &Value) -> &[Value] {
    request.get("contents").and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn role(content: &Value) -> Option<&str> {
    content.get("role").and_then(Value::as_str)
}

fn parts(content: &Value) -> impl Iterator<Item = &Value> {
    content.get("parts").and_then(Value::as_array).into_iter().flatten()
}

/// A user (or role-less) message with standard content: text, not function responses.
fn is_user_text(content: &Value) -> bool {
    role(content).is_none_or(|role| role == "user")
        && parts(content).any(|part| part.get("text").is_some())
        && parts(content).all(|part| response_of(part).is_none())
}

fn call_of(part: &Value) -> Option<&Value> {
    field(part, "functionCall", "function_call")
}

fn response_of(part: &Value) -> Option<&Value> {
    field(part, "functionResponse", "function_response")
}

fn signature_of(part: &Value) -> Option<&str> {
    field(part, "thoughtSignature", "thought_signature").and_then(Value::as_str)
}

fn declarations(request: &Value) -> impl Iterator<Item = &Value> {
    field(request, "tools", "tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|tool| {
            field(tool, "functionDeclarations", "function_declarations").and_then(Value::as_array)
        })
        .flatten()
}

fn name_of(declaration: &Value) -> &str {
    declaration.get("name").and_then(Value::as_str).unwrap_or("")
}

fn parameters_of(declaration: &Value) -> Option<&Value> {
    field(declaration, "parametersJsonSchema", "parameters_json_schema")
        .or_else(|| field(declaration, "parameters", "parameters"))
        .filter(|schema| schema.is_object())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::StreamExt;
    use planwright_gemini::{
        Client, Config, Content, Error, FunctionCall, FunctionDeclaration, FunctionResponse,
        GenerateContentRequest, GenerateContentResponse, RetryPolicy, Tool, ToolConfig,
    };
    use schemars::JsonSchema;
    use serde::Deserialize;
    use serde_json::{Value, json};

    use crate::fake_gemini::FakeGemini;

    #[derive(Debug, Deserialize, JsonSchema)]
    struct WeatherArgs {
        /// City name.
        city: String,
        /// Days ahead.
        #[schemars(range(min = 0, max = 6))]
        days: u8,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct TaskArgs {
        title: String,
        minutes: Option<u32>,
    }

    fn client(fake: &FakeGemini, model: &str) -> Client {
        let config = Config::new()
            .with_base_url(fake.base_url())
            .with_api_key(fake.api_key())
            .with_model(model)
            .with_timeout(Duration::from_secs(10))
            .with_retry_policy(RetryPolicy::default().with_max_retries(0));
        Client::new(config).unwrap()
    }

    fn tools() -> Tool {
        Tool::functions([
            FunctionDeclaration::from_type::<WeatherArgs>("get_weather", "Weather for a city"),
            FunctionDeclaration::from_type::<TaskArgs>("add_task", "Adds a task"),
            FunctionDeclaration::new("list_tasks", "Lists open tasks"),
        ])
    }

    fn request(prompt: &str) -> GenerateContentRequest {
        GenerateContentRequest::from_text(prompt).with_tools([tools()])
    }

    fn names(response: &GenerateContentResponse) -> Vec<String> {
        response.function_calls().map(|call| call.name.clone()).collect()
    }

    fn api_message(error: Error) -> String {
        match error {
            Error::Api { status, code, message, .. } => {
                assert_eq!((status.as_u16(), code.as_str()), (400, "INVALID_ARGUMENT"), "{message}");
                message
            }
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    /// The conversation after one round: the prompt, the model's turn as received, and a result
    /// for every call.
    fn second_request(prompt: &str, model_turn: Content) -> GenerateContentRequest {
        let results: Vec<FunctionResponse> = model_turn
            .function_calls()
            .map(|call| FunctionResponse::for_call(call, json!({ "output": format!("{} ok", call.name) })))
            .collect();
        request(prompt).with_content(model_turn).with_content(Content::function_responses(results))
    }

    #[tokio::test]
    async fn named_tools_are_called_in_prompt_order_with_ids_one_signature_and_schema_args() {
        let fake = FakeGemini::start().await;
        let response = client(&fake, "gemini-3.5-flash")
            .generate_content(request("Please add task 'pack', then get weather in Oslo"))
            .await
            .unwrap();

        assert_eq!(names(&response), ["add_task", "get_weather"]);
        let parts = &response.content().unwrap().parts;
        assert!(parts[0].thought_signature.as_deref().is_some_and(|s| s.len() > 40 && s.ends_with('=')));
        assert_eq!(parts[1].thought_signature, None, "only the first parallel call is signed");
        let calls: Vec<&FunctionCall> = response.function_calls().collect();
        assert!(calls.iter().all(|call| call.id.is_some()));
        assert_ne!(calls[0].id, calls[1].id);
        let weather: WeatherArgs = calls[1].args_as().unwrap();
        assert!(!weather.city.is_empty() && weather.days <= 6, "{weather:?}");
        calls[0].args_as::<TaskArgs>().unwrap();
        assert_eq!(response.text(), "");
        assert!(fake.answers()[0].contains("functionCall add_task"), "{:?}", fake.answers());
    }

    #[tokio::test]
    async fn auto_mode_without_a_named_tool_and_mode_none_answer_in_text() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");

        let unnamed = client.generate_content(request("How do I learn Rust?")).await.unwrap();
        let none = client
            .generate_content(request("get_weather for Oslo").with_tool_config(ToolConfig::none()))
            .await
            .unwrap();
        let asked = client.generate_content(request("Use a tool, please")).await.unwrap();

        assert_eq!(names(&unnamed), Vec::<String>::new());
        assert!(unnamed.text().contains("How do I learn Rust?"), "{}", unnamed.text());
        assert_eq!(names(&none), Vec::<String>::new());
        assert!(none.text().contains("get_weather for Oslo"));
        assert_eq!(names(&asked), ["get_weather"]);
    }

    #[tokio::test]
    async fn mode_any_forces_a_call_and_keeps_to_the_allowed_names() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");

        let forced = client
            .generate_content(request("How do I learn Rust?").with_tool_config(ToolConfig::any()))
            .await
            .unwrap();
        let allowed = client
            .generate_content(
                request("get_weather in Oslo, then list_tasks")
                    .with_tool_config(ToolConfig::any_of(["list_tasks"])),
            )
            .await
            .unwrap();
        let forced_allowed = client
            .generate_content(request("Hello").with_tool_config(ToolConfig::any_of(["add_task"])))
            .await
            .unwrap();
        let all = client.generate_content(request("Use all tools")).await.unwrap();

        assert_eq!(names(&forced), ["get_weather"]);
        assert_eq!(names(&allowed), ["list_tasks"]);
        assert_eq!(names(&forced_allowed), ["add_task"]);
        assert_eq!(names(&all), ["get_weather", "add_task", "list_tasks"]);
        let sent = &fake.requests()[1].body["toolConfig"];
        assert_eq!(
            sent,
            &json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["list_tasks"]}})
        );
    }

    #[tokio::test]
    async fn two_rounds_send_the_signature_back_byte_for_byte_and_the_answer_quotes_the_results() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");
        let prompt = "get_weather for Bergen and list_tasks";

        let first = client.generate_content(request(prompt)).await.unwrap();
        let model_turn = first.content().cloned().unwrap();
        let signature = model_turn.parts[0].thought_signature.clone().unwrap();
        let answer = client.generate_content(second_request(prompt, model_turn.clone())).await.unwrap();

        let text = answer.text();
        assert!(text.contains(r#"get_weather returned {"output":"get_weather ok"}"#), "{text}");
        assert!(text.contains(r#"list_tasks returned {"output":"list_tasks ok"}"#), "{text}");
        let received = &fake.requests()[1].body;
        assert_eq!(received["contents"][1], serde_json::to_value(&model_turn).unwrap());
        assert_eq!(received["contents"][1]["parts"][0]["thoughtSignature"], Value::String(signature));
    }

    #[tokio::test]
    async fn a_missing_or_altered_signature_is_refused_like_google() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");
        let prompt = "get_weather for Bergen";
        let first = client.generate_content(request(prompt)).await.unwrap();
        let turn = first.content().cloned().unwrap();

        let mut unsigned = turn.clone();
        unsigned.parts[0].thought_signature = None;
        let missing = client.generate_content(second_request(prompt, unsigned.clone())).await.unwrap_err();
        let mut altered = turn.clone();
        altered.parts[0].thought_signature =
            Some("AAAA".to_owned() + &turn.parts[0].thought_signature.clone().unwrap());
        let corrupted = client.generate_content(second_request(prompt, altered)).await.unwrap_err();
        let mut dummy = turn.clone();
        dummy.parts[0].thought_signature = Some("skip_thought_signature_validator".to_owned());

        let message = api_message(missing);
        assert!(
            message.starts_with("Function call is missing a thought_signature in functionCall parts."),
            "{message}"
        );
        assert!(message.contains("function call `default_api:get_weather` , position 2."), "{message}");
        assert_eq!(api_message(corrupted), "Corrupted thought signature.");
        client.generate_content(second_request(prompt, dummy)).await.unwrap();
        // Gemini 2.5 does not enforce signatures; and older turns are not validated.
        client_for_25(&fake).generate_content(second_request(prompt, unsigned.clone())).await.unwrap();
        let later = second_request(prompt, unsigned)
            .with_content(Content::model("Done."))
            .with_content(Content::user("Thanks"));
        client.generate_content(later).await.unwrap();
    }

    fn client_for_25(fake: &FakeGemini) -> Client {
        client(fake, "gemini-2.5-flash")
    }

    #[tokio::test]
    async fn function_responses_must_match_the_calls_in_number() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");
        let prompt = "get_weather and list_tasks";
        let turn = client.generate_content(request(prompt)).await.unwrap().content().cloned().unwrap();
        let call = turn.function_calls().next().cloned().unwrap();

        let short = request(prompt)
            .with_content(turn)
            .with_content(Content::function_responses([FunctionResponse::for_call(&call, json!({}))]));
        let error = client.generate_content(short).await.unwrap_err();

        assert!(api_message(error).starts_with("Please ensure that the number of function response parts"));
    }

    #[tokio::test]
    async fn streamed_calls_arrive_one_per_chunk_and_the_reassembled_turn_is_accepted() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");
        let prompt = "list_tasks, then get_weather in Rome";

        let chunks: Vec<GenerateContentResponse> = client
            .stream_generate_content(request(prompt))
            .await
            .unwrap()
            .map(|chunk| chunk.unwrap())
            .collect()
            .await;
        let per_chunk: Vec<Vec<String>> = chunks.iter().map(names).collect();
        let turn = Content::from_chunks(&chunks);
        let answer = client.generate_content(second_request(prompt, turn.clone())).await.unwrap();

        assert_eq!(per_chunk, [vec!["list_tasks".to_owned()], vec!["get_weather".to_owned()]]);
        assert!(turn.parts[0].thought_signature.is_some());
        assert!(answer.text().contains("list_tasks returned"), "{}", answer.text());
        let mut unsigned = turn;
        unsigned.parts[0].thought_signature = None;
        let refused = client.stream_generate_content(second_request(prompt, unsigned)).await.err().unwrap();
        assert!(api_message(refused).contains("missing a thought_signature"));
    }

    #[tokio::test]
    async fn adversarial_calls_are_declared_valid_repeatable_and_sometimes_several_or_empty() {
        let fake = FakeGemini::start().await;
        let client = client(&fake, "gemini-3.5-flash");
        let (mut several, mut empty) = (0, 0);
        for seed in 0..30 {
            fake.set_adversarial(seed);
            let first = client.generate_content(request("get_weather and list_tasks")).await.unwrap();
            fake.set_adversarial(seed);
            let again = client.generate_content(request("get_weather and list_tasks")).await.unwrap();

            let calls: Vec<&FunctionCall> = first.function_calls().collect();
            let replay: Vec<(&str, Option<&Value>)> =
                again.function_calls().map(|call| (call.name.as_str(), call.args.as_ref())).collect();
            assert_eq!(
                calls.iter().map(|call| (call.name.as_str(), call.args.as_ref())).collect::<Vec<_>>(),
                replay
            );
            assert!((1..=3).contains(&calls.len()), "{calls:?}");
            assert_eq!(calls[0].name, "get_weather");
            for call in &calls {
                match call.name.as_str() {
                    "get_weather" => {
                        let args: WeatherArgs = call.args_as().unwrap();
                        assert!(args.days <= 6);
                    }
                    "list_tasks" => {
                        empty += usize::from(call.args.as_ref().is_none_or(|args| args == &json!({})))
                    }
                    other => panic!("called an undeclared function {other}"),
                }
            }
            several += usize::from(calls.len() > 1);
        }
        assert!(several > 0 && empty > 0, "several {several}, empty {empty}");
    }
}
