//! Function calling: declarations on the wire, tool config modes, reading calls, sending results
//! back, and thought signatures surviving the round trip byte for byte.

use futures_util::StreamExt;
use planwright_gemini::{
    Content, Error, FunctionCall, FunctionCallingMode, FunctionDeclaration, FunctionResponse,
    GenerateContentRequest, GenerateContentResponse, Part, Tool, ToolConfig,
};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

use crate::helpers::{
    GENERATE_PATH, STREAM_PATH, chunk, client, json_response, received, sse_body, sse_response, text_response,
};

/// Arguments of the `get_weather` tool.
#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct WeatherArgs {
    /// City name, e.g. "Oslo".
    city: String,
    /// Days ahead, 0 for today.
    days: Option<u8>,
}

/// Arguments of the `add_task` tool.
#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct TaskArgs {
    title: String,
    minutes: u32,
}

// Signatures as Gemini 3 sends them: long base64 with `+`, `/` and `=` padding.
const SIGNATURE_THOUGHT: &str = "CiQB0e2Kb+7i/Xq3vQ9kTz0YcL1mN5pR8sU2wA4eF6gH9jK1lM3nO5pQ7rS9tU==";
const SIGNATURE_CALL: &str = "EuYBCuMBAdHtim/9AbC+dEf/GhIjKlMnOpQrStUvWxYz0123456789+/abcdEFGH=";
const SIGNATURE_TEXT: &str = "Ej8KPQHR7Ypv/zz+yy/xx==";

fn weather_tool() -> Tool {
    Tool::functions([
        FunctionDeclaration::from_type::<WeatherArgs>("get_weather", "Current weather for a city"),
        FunctionDeclaration::from_type::<TaskArgs>("add_task", "Adds a task to the user's plan"),
        FunctionDeclaration::new("list_tasks", "Lists the user's open tasks"),
    ])
}

/// A Gemini 3 answer as recorded: a thought summary, two parallel calls (only the first signed),
/// and a closing text part carrying its own signature.
fn recorded_calls_response() -> Value {
    json!({
        "candidates": [{
            "content": {
                "role": "model",
                "parts": [
                    {"text": "The user wants weather and a task.", "thought": true, "thoughtSignature": SIGNATURE_THOUGHT},
                    {"functionCall": {"id": "call-1", "name": "get_weather", "args": {"city": "Oslo", "days": 1}}, "thoughtSignature": SIGNATURE_CALL},
                    {"functionCall": {"id": "call-2", "name": "add_task", "args": {"title": "Pack an umbrella", "minutes": 5}}},
                    {"text": "", "thoughtSignature": SIGNATURE_TEXT}
                ]
            },
            "finishReason": "STOP",
            "index": 0
        }],
        "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 12, "totalTokenCount": 90, "thoughtsTokenCount": 38},
        "modelVersion": "gemini-3.5-flash",
        "responseId": "resp-tools"
    })
}

#[tokio::test]
async fn tools_and_tool_config_are_sent_in_the_documented_wire_shape() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("ok")))
        .mount(&server)
        .await;

    let request = GenerateContentRequest::from_text("What's the weather in Oslo?")
        .with_tools([weather_tool()])
        .with_tool_config(ToolConfig::any_of(["get_weather", "list_tasks"]));
    client(&server).generate_content(request).await.unwrap();

    let sent: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather", "list_tasks"]}})
    );
    let declarations = sent["tools"][0]["functionDeclarations"].as_array().unwrap();
    assert_eq!(sent["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(declarations.len(), 3);
    assert_eq!(
        declarations[0],
        json!({
            "name": "get_weather",
            "description": "Current weather for a city",
            "parametersJsonSchema": {
                "title": "WeatherArgs",
                "description": "Arguments of the `get_weather` tool.",
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "City name, e.g. \"Oslo\"."},
                    "days": {
                        "type": ["integer", "null"],
                        "format": "uint8",
                        "minimum": 0,
                        "maximum": 255,
                        "description": "Days ahead, 0 for today."
                    }
                },
                "required": ["city"]
            }
        })
    );
    assert_eq!(declarations[2], json!({"name": "list_tasks", "description": "Lists the user's open tasks"}));
}

#[test]
fn every_mode_serialises_to_its_wire_value_and_reads_back() {
    let cases = [
        (ToolConfig::auto(), json!({"functionCallingConfig": {"mode": "AUTO"}})),
        (ToolConfig::any(), json!({"functionCallingConfig": {"mode": "ANY"}})),
        (ToolConfig::none(), json!({"functionCallingConfig": {"mode": "NONE"}})),
        (
            ToolConfig::new(FunctionCallingMode::Validated).with_allowed_function_names(["a"]),
            json!({"functionCallingConfig": {"mode": "VALIDATED", "allowedFunctionNames": ["a"]}}),
        ),
    ];
    for (config, wire) in cases {
        assert_eq!(serde_json::to_value(&config).unwrap(), wire);
        let back: ToolConfig = serde_json::from_value(wire).unwrap();
        assert_eq!(back, config);
    }
    let future: ToolConfig =
        serde_json::from_value(json!({"functionCallingConfig": {"mode": "SOMETIMES"}})).unwrap();
    assert_eq!(future.mode(), &FunctionCallingMode::Unknown("SOMETIMES".into()));
}

#[tokio::test]
async fn several_calls_in_one_turn_are_read_in_order_with_typed_arguments() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &recorded_calls_response()))
        .mount(&server)
        .await;

    let response = client(&server)
        .generate_content(GenerateContentRequest::from_text("Weather in Oslo, and remind me to pack"))
        .await
        .unwrap();

    let calls: Vec<&FunctionCall> = response.function_calls().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!((calls[0].id.as_deref(), calls[0].name.as_str()), (Some("call-1"), "get_weather"));
    assert_eq!((calls[1].id.as_deref(), calls[1].name.as_str()), (Some("call-2"), "add_task"));
    assert_eq!(
        calls[0].args_as::<WeatherArgs>().unwrap(),
        WeatherArgs { city: "Oslo".into(), days: Some(1) }
    );
    assert_eq!(
        calls[1].args_as::<TaskArgs>().unwrap(),
        TaskArgs { title: "Pack an umbrella".into(), minutes: 5 }
    );
    assert_eq!(response.text(), "", "a thought and an empty text part are not answer text");
    assert_eq!(response.thoughts(), "The user wants weather and a task.");
}

#[test]
fn arguments_that_do_not_fit_the_type_are_a_decode_error_with_the_raw_arguments() {
    let wrong_type = FunctionCall::new("add_task", json!({"title": "Read", "minutes": "ten"}));
    match wrong_type.args_as::<TaskArgs>() {
        Err(Error::Decode { body, source }) => {
            assert_eq!(
                serde_json::from_str::<Value>(&body).unwrap(),
                json!({"title": "Read", "minutes": "ten"})
            );
            assert!(source.to_string().contains("invalid type"), "{source}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    let missing = FunctionCall::new("add_task", json!({"title": "Read"}));
    assert!(matches!(missing.args_as::<TaskArgs>(), Err(Error::Decode { .. })));
    let no_args: FunctionCall = serde_json::from_value(json!({"name": "list_tasks"})).unwrap();
    assert_eq!(no_args.args, None);
    assert_eq!(no_args.args_as::<Value>().unwrap(), json!({}));
    assert!(matches!(no_args.args_as::<TaskArgs>(), Err(Error::Decode { .. })));
}

#[tokio::test]
async fn the_model_turn_goes_back_byte_for_byte_with_every_signature_on_its_part() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &recorded_calls_response()))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("Oslo: 4°C and rain; umbrella task added.")))
        .mount(&server)
        .await;
    let client = client(&server);
    let first = GenerateContentRequest::from_text("Weather in Oslo, and remind me to pack")
        .with_tools([weather_tool()]);

    let response = client.generate_content(first.clone()).await.unwrap();
    let results: Vec<FunctionResponse> = response
        .function_calls()
        .map(|call| FunctionResponse::for_call(call, json!({"output": format!("ran {}", call.name)})))
        .collect();
    let model_turn = response.content().cloned().unwrap();
    let second = first.with_content(model_turn).with_content(Content::function_responses(results));
    let answer = client.generate_content(second).await.unwrap();

    assert_eq!(answer.text(), "Oslo: 4°C and rain; umbrella task added.");
    let requests = received(&server).await;
    let sent: Value = requests[1].body_json().unwrap();
    let recorded = recorded_calls_response();
    assert_eq!(sent["contents"][1], recorded["candidates"][0]["content"], "the model turn is unchanged");
    let raw = String::from_utf8(requests[1].body.clone()).unwrap();
    for signature in [SIGNATURE_THOUGHT, SIGNATURE_CALL, SIGNATURE_TEXT] {
        assert_eq!(raw.matches(&format!("\"thoughtSignature\":\"{signature}\"")).count(), 1, "{signature}");
    }
    assert_eq!(
        sent["contents"][2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"id": "call-1", "name": "get_weather", "response": {"output": "ran get_weather"}}},
            {"functionResponse": {"id": "call-2", "name": "add_task", "response": {"output": "ran add_task"}}}
        ]})
    );
}

#[test]
fn unknown_fields_of_calls_and_parts_survive_a_round_trip() {
    let part = json!({
        "functionCall": {"name": "get_weather", "args": {"city": "Oslo"}, "partialArgs": [{"jsonPath": "$.city"}]},
        "thoughtSignature": SIGNATURE_CALL,
        "videoMetadata": {"fps": 1}
    });
    let parsed: Part = serde_json::from_value(part.clone()).unwrap();
    assert_eq!(parsed.thought_signature.as_deref(), Some(SIGNATURE_CALL));
    assert_eq!(serde_json::to_value(&parsed).unwrap(), part);
    let built =
        Part::function_call(FunctionCall::new("f", json!({})).with_id("c1")).with_thought_signature("sig");
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"functionCall": {"id": "c1", "name": "f", "args": {}}, "thoughtSignature": "sig"})
    );
}

#[tokio::test]
async fn calls_arriving_in_stream_chunks_are_surfaced_and_reassemble_the_model_turn() {
    let server = MockServer::start().await;
    let first_call = json!([{"functionCall": {"id": "s1", "name": "get_weather", "args": {"city": "Bergen"}}, "thoughtSignature": SIGNATURE_CALL}]);
    let second_call = json!([{"functionCall": {"id": "s2", "name": "list_tasks"}}]);
    let last = json!([{"text": "", "thoughtSignature": SIGNATURE_TEXT}]);
    let body = sse_body(&[
        chunk(first_call.clone(), None),
        chunk(second_call.clone(), None),
        chunk(last.clone(), Some("STOP")),
    ]);
    Mock::given(path(STREAM_PATH)).respond_with(sse_response(body)).mount(&server).await;

    let request = GenerateContentRequest::from_text("Weather in Bergen and my tasks")
        .with_tools([weather_tool()])
        .with_tool_config(ToolConfig::auto());
    let chunks: Vec<GenerateContentResponse> = client(&server)
        .stream_generate_content(request)
        .await
        .unwrap()
        .map(|chunk| chunk.unwrap())
        .collect()
        .await;

    assert_eq!(chunks.len(), 3);
    let per_chunk: Vec<Vec<&str>> =
        chunks.iter().map(|chunk| chunk.function_calls().map(|call| call.name.as_str()).collect()).collect();
    assert_eq!(per_chunk, vec![vec!["get_weather"], vec!["list_tasks"], vec![]]);
    let turn = Content::from_chunks(&chunks);
    let names: Vec<&str> = turn.function_calls().map(|call| call.name.as_str()).collect();
    assert_eq!(names, ["get_weather", "list_tasks"]);
    let expected_parts: Vec<Value> = [first_call, second_call, last]
        .into_iter()
        .flat_map(|parts| parts.as_array().cloned().unwrap_or_default())
        .collect();
    assert_eq!(serde_json::to_value(&turn).unwrap(), json!({"role": "model", "parts": expected_parts}));
    let sent: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(sent["toolConfig"]["functionCallingConfig"]["mode"], "AUTO");
}
