//! Structured output with `generate_json::<T>()`.

use planwright_gemini::{Error, GenerateContentRequest, GenerationConfig};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

use crate::helpers::{GENERATE_PATH, client, json_response, received, text_response};

/// A plan as the model should return it.
#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Plan {
    /// Short title.
    title: String,
    /// One entry per day.
    days: Vec<Day>,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Day {
    day: u32,
    tasks: Vec<String>,
}

#[tokio::test]
async fn generate_json_sends_the_schema_and_parses_the_answer() {
    let server = MockServer::start().await;
    let answer = r#"{"title": "FastAPI in 2 days", "days": [{"day": 1, "tasks": ["routing"]}]}"#;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response(answer)))
        .expect(1)
        .mount(&server)
        .await;

    let (plan, response) = client(&server)
        .generate_json::<Plan>(GenerateContentRequest::from_text("Plan FastAPI"))
        .await
        .unwrap();

    assert_eq!(
        plan,
        Plan { title: "FastAPI in 2 days".into(), days: vec![Day { day: 1, tasks: vec!["routing".into()] }] }
    );
    assert_eq!(response.response_id.as_deref(), Some("resp-123"));
    let sent: Value = received(&server).await[0].body_json().unwrap();
    let config = &sent["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert!(config.get("responseSchema").is_none());
    let schema = &config["responseJsonSchema"];
    assert!(schema.get("$schema").is_none(), "{schema}");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["title", "days"]));
    assert_eq!(schema["properties"]["title"]["type"], "string");
    assert_eq!(schema["properties"]["days"]["items"]["$ref"], "#/$defs/Day");
    assert_eq!(schema["$defs"]["Day"]["properties"]["tasks"]["type"], "array");
}

#[tokio::test]
async fn generate_json_keeps_other_generation_settings_and_replaces_response_schema() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response(r#"{"title": "t", "days": []}"#)))
        .mount(&server)
        .await;

    let request = GenerateContentRequest::from_text("Plan").with_generation_config(
        GenerationConfig::default().with_temperature(0.5).with_response_schema(json!({"type": "STRING"})),
    );
    client(&server).generate_json::<Plan>(request).await.unwrap();

    let sent: Value = received(&server).await[0].body_json().unwrap();
    let config = &sent["generationConfig"];
    assert_eq!(config["temperature"], 0.5);
    assert!(config.get("responseSchema").is_none());
    assert_eq!(config["responseJsonSchema"]["type"], "object");
}

#[tokio::test]
async fn answer_that_does_not_match_the_type_is_a_decode_error_keeping_the_raw_text() {
    let server = MockServer::start().await;
    let answer = r#"{"title": "FastAPI", "days": "two"}"#;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response(answer)))
        .expect(1)
        .mount(&server)
        .await;

    let error =
        client(&server).generate_json::<Plan>(GenerateContentRequest::from_text("Plan")).await.unwrap_err();

    match error {
        Error::Decode { body, source } => {
            assert_eq!(body, answer);
            assert!(source.to_string().contains("invalid type"), "{source}");
        }
        other => panic!("expected Decode, got {other:?}"),
    }
    assert_eq!(received(&server).await.len(), 1, "decode errors are not retried");
}

#[tokio::test]
async fn answer_that_is_not_json_at_all_is_a_decode_error_keeping_the_raw_text() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("Sure! Here is your plan:")))
        .mount(&server)
        .await;

    let error =
        client(&server).generate_json::<Plan>(GenerateContentRequest::from_text("Plan")).await.unwrap_err();

    assert!(matches!(&error, Error::Decode { body, .. } if body == "Sure! Here is your plan:"), "{error:?}");
}
