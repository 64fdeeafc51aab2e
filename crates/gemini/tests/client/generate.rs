//! `generateContent` and `countTokens` on the happy path.

use planwright_gemini::{
    CountTokensRequest, FinishReason, GenerateContentRequest, GenerationConfig, HarmBlockThreshold,
    HarmCategory, Part, Role, SafetySetting, ThinkingConfig,
};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{API_KEY, COUNT_PATH, GENERATE_PATH, client, json_response, received, text_response};

#[tokio::test]
async fn generate_content_sends_the_wire_format_and_returns_text_usage_and_ids() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GENERATE_PATH))
        .and(header("content-type", "application/json"))
        .respond_with(json_response(200, &text_response("Day 1: routing.")))
        .expect(1)
        .mount(&server)
        .await;

    let request = GenerateContentRequest::from_text("Plan FastAPI in 2 days")
        .with_system_instruction("You are a planner.")
        .with_generation_config(
            GenerationConfig::default()
                .with_temperature(0.25)
                .with_max_output_tokens(512)
                .with_thinking_config(
                    ThinkingConfig::default().with_thinking_budget(1024).with_include_thoughts(true),
                ),
        )
        .with_safety_setting(SafetySetting::new(
            HarmCategory::DangerousContent,
            HarmBlockThreshold::BlockMediumAndAbove,
        ));
    let response = client(&server).generate_content(request).await.unwrap();

    assert_eq!(response.text(), "Day 1: routing.");
    assert_eq!(response.finish_reason(), Some(&FinishReason::Stop));
    let usage = response.usage_metadata.as_ref().unwrap();
    assert_eq!(
        (
            usage.prompt_token_count,
            usage.candidates_token_count,
            usage.thoughts_token_count,
            usage.total_token_count
        ),
        (7, 3, 15, 25)
    );
    assert_eq!(response.model_version.as_deref(), Some("gemini-3.5-flash"));
    assert_eq!(response.response_id.as_deref(), Some("resp-123"));

    let sent: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(
        sent,
        json!({
            "contents": [{"role": "user", "parts": [{"text": "Plan FastAPI in 2 days"}]}],
            "systemInstruction": {"parts": [{"text": "You are a planner."}]},
            "generationConfig": {
                "temperature": 0.25,
                "maxOutputTokens": 512,
                "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}
            },
            "safetySettings": [{
                "category": "HARM_CATEGORY_DANGEROUS_CONTENT",
                "threshold": "BLOCK_MEDIUM_AND_ABOVE"
            }]
        })
    );
}

#[tokio::test]
async fn text_joins_the_first_candidates_parts_and_skips_thoughts() {
    let server = MockServer::start().await;
    let body = json!({
        "candidates": [
            {"content": {"role": "model", "parts": [
                {"text": "Let me think about days...", "thought": true},
                {"text": "Day 1: "},
                {"text": "models."}
            ]}, "finishReason": "STOP"},
            {"content": {"role": "model", "parts": [{"text": "second candidate"}]}, "finishReason": "STOP"}
        ]
    });
    Mock::given(path(GENERATE_PATH)).respond_with(json_response(200, &body)).mount(&server).await;

    let response = client(&server).generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();

    assert_eq!(response.text(), "Day 1: models.");
    assert_eq!(response.thoughts(), "Let me think about days...");
    assert_eq!(response.candidates[0].content.as_ref().unwrap().role, Some(Role::Model));
}

#[tokio::test]
async fn unknown_fields_enum_values_and_part_kinds_are_ignored_not_fatal() {
    let server = MockServer::start().await;
    let body = json!({
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "ok", "brandNewPartField": 1},
                {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
            ], "someContentField": true},
            "finishReason": "STOP",
            "avgLogprobs": -0.12,
            "citationMetadata": {"citationSources": []},
            "safetyRatings": [{"category": "HARM_CATEGORY_NEW_THING", "probability": "VERY_NEW"}]
        }],
        "usageMetadata": {
            "promptTokenCount": 1,
            "totalTokenCount": 2,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1}],
            "trafficType": "ON_DEMAND"
        },
        "modelVersion": "gemini-3.5-flash",
        "createTime": "2026-01-01T00:00:00Z",
        "somethingGoogleAddsNextYear": {"nested": [1, 2, 3]}
    });
    Mock::given(path(GENERATE_PATH)).respond_with(json_response(200, &body)).mount(&server).await;

    let response = client(&server).generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();

    assert_eq!(response.text(), "ok");
    let candidate = &response.candidates[0];
    assert_eq!(candidate.safety_ratings[0].category.as_str(), "HARM_CATEGORY_NEW_THING");
    let parts = &candidate.content.as_ref().unwrap().parts;
    assert!(parts[1].extra.contains_key("executableCode"));
    assert_eq!(response.usage_metadata.as_ref().unwrap().total_token_count, 2);
}

#[tokio::test]
async fn unknown_finish_reason_is_not_an_error() {
    let server = MockServer::start().await;
    let mut body = text_response("fine");
    body["candidates"][0]["finishReason"] = json!("SOME_FUTURE_REASON");
    Mock::given(path(GENERATE_PATH)).respond_with(json_response(200, &body)).mount(&server).await;

    let response = client(&server).generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();

    assert_eq!(response.finish_reason(), Some(&FinishReason::Unknown("SOME_FUTURE_REASON".into())));
}

#[tokio::test]
async fn count_tokens_sends_contents_and_returns_the_total() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUNT_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(json_response(
            200,
            &json!({"totalTokens": 31, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 31}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let response = client(&server)
        .count_tokens(CountTokensRequest::from_contents(vec![planwright_gemini::Content::user(
            "How many tokens is this?",
        )]))
        .await
        .unwrap();

    assert_eq!(response.total_tokens, 31);
    assert_eq!(response.prompt_tokens_details[0].token_count, 31);
    let sent: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(
        sent,
        json!({"contents": [{"role": "user", "parts": [{"text": "How many tokens is this?"}]}]})
    );
}

#[tokio::test]
async fn count_tokens_for_a_whole_request_names_the_model_and_keeps_the_system_instruction() {
    let server = MockServer::start().await;
    Mock::given(path(COUNT_PATH))
        .respond_with(json_response(200, &json!({"totalTokens": 12})))
        .expect(1)
        .mount(&server)
        .await;

    let request = GenerateContentRequest::from_text("hi").with_system_instruction("be brief");
    let response = client(&server).count_tokens(request.into()).await.unwrap();

    assert_eq!(response.total_tokens, 12);
    let sent: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(
        sent,
        json!({"generateContentRequest": {
            "model": "models/gemini-3.5-flash",
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
            "systemInstruction": {"parts": [{"text": "be brief"}]}
        }})
    );
}

#[tokio::test]
async fn for_model_sends_to_that_models_endpoint() {
    let server = MockServer::start().await;
    Mock::given(path("/v1beta/models/gemini-2.5-pro:generateContent"))
        .respond_with(json_response(200, &text_response("pro")))
        .expect(1)
        .mount(&server)
        .await;

    let base = client(&server);
    let pro = base.for_model("models/gemini-2.5-pro");
    let response = pro.generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();

    assert_eq!(response.text(), "pro");
    assert_eq!(base.config().model, "gemini-3.5-flash");
}

#[tokio::test]
async fn inline_data_parts_are_sent_as_inline_data() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("a cat")))
        .mount(&server)
        .await;

    let content = planwright_gemini::Content::new(
        Role::User,
        vec![Part::text("What is this?"), Part::inline_data("image/png", "iVBORw0KGgo=")],
    );
    client(&server).generate_content(GenerateContentRequest::new(vec![content])).await.unwrap();

    let sent: Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(
        sent["contents"][0]["parts"][1],
        json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}})
    );
}
