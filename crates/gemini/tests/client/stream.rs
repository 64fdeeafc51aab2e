//! `streamGenerateContent?alt=sse`: chunk handling and how a stream ends.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use planwright_gemini::{
    Client, ContentStream, Error, FinishReason, GenerateContentRequest, GenerateContentResponse,
};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

use crate::helpers::{
    API_KEY, STREAM_PATH, ThenDo, chunk, client, config, google_error, json_response, raw_server, received,
    sse_body, sse_head, sse_response,
};

async fn collect(stream: ContentStream) -> Vec<Result<GenerateContentResponse, Error>> {
    stream.collect().await
}

fn request() -> GenerateContentRequest {
    GenerateContentRequest::from_text("Plan my week")
}

#[tokio::test]
async fn stream_passes_thought_parts_empty_chunks_and_a_usage_only_final_chunk() {
    let server = MockServer::start().await;
    let body = sse_body(&[
        chunk(json!([{"text": "Considering the goal...", "thought": true}]), None),
        json!({"candidates": [{"index": 0}], "responseId": "r1"}),
        chunk(json!([{"text": "Monday: "}]), None),
        chunk(json!([{"text": "routing."}]), Some("STOP")),
        json!({"usageMetadata": {"promptTokenCount": 4, "candidatesTokenCount": 3,
            "thoughtsTokenCount": 9, "totalTokenCount": 16}, "modelVersion": "gemini-3.5-flash"}),
    ]);
    Mock::given(method("POST"))
        .and(path(STREAM_PATH))
        .and(query_param("alt", "sse"))
        .and(header("x-goog-api-key", API_KEY))
        .and(header("accept", "text/event-stream"))
        .respond_with(sse_response(body))
        .expect(1)
        .mount(&server)
        .await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    let chunks: Vec<GenerateContentResponse> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(chunks.len(), 5);
    assert_eq!(chunks[0].text(), "");
    assert_eq!(chunks[0].thoughts(), "Considering the goal...");
    assert!(chunks[1].candidates[0].content.is_none());
    let answer: String = chunks.iter().map(GenerateContentResponse::text).collect();
    assert_eq!(answer, "Monday: routing.");
    assert_eq!(chunks[3].finish_reason(), Some(&FinishReason::Stop));
    assert!(chunks[4].candidates.is_empty());
    assert_eq!(chunks[4].usage_metadata.as_ref().unwrap().total_token_count, 16);
    let sent: serde_json::Value = received(&server).await[0].body_json().unwrap();
    assert_eq!(sent["contents"][0]["parts"][0]["text"], "Plan my week");
}

#[tokio::test]
async fn stream_closed_cleanly_before_a_finish_reason_ends_with_incomplete_stream() {
    let server = MockServer::start().await;
    let body =
        sse_body(&[chunk(json!([{"text": "Monday: "}]), None), chunk(json!([{"text": "rout"}]), None)]);
    Mock::given(path(STREAM_PATH)).respond_with(sse_response(body)).expect(1).mount(&server).await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 3, "two chunks then one error: {items:?}");
    assert_eq!(items[0].as_ref().unwrap().text(), "Monday: ");
    assert_eq!(items[1].as_ref().unwrap().text(), "rout");
    assert!(matches!(items[2], Err(Error::IncompleteStream)));
}

#[tokio::test]
async fn stream_cut_inside_an_event_ends_with_incomplete_stream() {
    let server = MockServer::start().await;
    let mut body = sse_body(&[chunk(json!([{"text": "Monday"}]), None)]);
    body.push_str("data: {\"candidates\": [{\"content\"");
    Mock::given(path(STREAM_PATH)).respond_with(sse_response(body)).mount(&server).await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    assert!(matches!(items[1], Err(Error::IncompleteStream)));
}

#[tokio::test]
async fn connection_dropped_mid_stream_yields_a_transport_error_and_is_not_retried() {
    let event = sse_body(&[chunk(json!([{"text": "Monday: "}]), None)]);
    let response = format!("{}{event}", sse_head(event.len() + 500));
    let (base_url, connections) = raw_server(response, ThenDo::Close).await;
    let client = Client::new(config(&base_url)).unwrap();

    let items = collect(client.stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0].as_ref().unwrap().text(), "Monday: ");
    assert!(matches!(items[1], Err(Error::Transport(_))), "{:?}", items[1]);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn stalled_stream_times_out_between_chunks() {
    let event = sse_body(&[chunk(json!([{"text": "Monday: "}]), None)]);
    let response = format!("{}{event}", sse_head(event.len() + 500));
    let (base_url, _) = raw_server(response, ThenDo::Stall).await;
    let client = Client::new(config(&base_url).with_timeout(Duration::from_millis(300))).unwrap();

    let started = std::time::Instant::now();
    let items = collect(client.stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 2, "{items:?}");
    assert!(items[0].is_ok());
    assert!(matches!(items[1], Err(Error::Timeout)));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn stream_blocked_mid_way_ends_with_blocked() {
    let server = MockServer::start().await;
    let body = sse_body(&[
        chunk(json!([{"text": "Here is"}]), None),
        json!({"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]}]}),
    ]);
    Mock::given(path(STREAM_PATH)).respond_with(sse_response(body)).mount(&server).await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(
        &items[1],
        Err(Error::Blocked { reason, prompt_blocked: false }) if reason == "SAFETY"
    ));
}

#[tokio::test]
async fn stream_hitting_max_tokens_ends_with_truncated_holding_the_last_chunk() {
    let server = MockServer::start().await;
    let body = sse_body(&[
        chunk(json!([{"text": "Monday: "}]), None),
        chunk(json!([{"text": "rou"}]), Some("MAX_TOKENS")),
    ]);
    Mock::given(path(STREAM_PATH)).respond_with(sse_response(body)).mount(&server).await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 2, "{items:?}");
    match &items[1] {
        Err(Error::Truncated { response }) => assert_eq!(response.text(), "rou"),
        other => panic!("expected Truncated, got {other:?}"),
    }
}

#[tokio::test]
async fn error_event_inside_the_stream_becomes_an_api_error() {
    let server = MockServer::start().await;
    let body = sse_body(&[
        chunk(json!([{"text": "Mon"}]), None),
        google_error(503, "UNAVAILABLE", "The model is overloaded.", json!([])),
    ]);
    Mock::given(path(STREAM_PATH)).respond_with(sse_response(body)).mount(&server).await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 2, "{items:?}");
    assert!(matches!(
        &items[1],
        Err(Error::Api { status, code, message, .. })
            if status.as_u16() == 503 && code == "UNAVAILABLE" && message == "The model is overloaded."
    ));
}

#[tokio::test]
async fn stream_is_retried_when_it_fails_before_the_first_byte() {
    let server = MockServer::start().await;
    Mock::given(path(STREAM_PATH))
        .respond_with(json_response(503, &google_error(503, "UNAVAILABLE", "overloaded", json!([]))))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(STREAM_PATH))
        .respond_with(sse_response(sse_body(&[chunk(json!([{"text": "ok"}]), Some("STOP"))])))
        .expect(1)
        .mount(&server)
        .await;

    let items = collect(client(&server).stream_generate_content(request()).await.unwrap()).await;

    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap().text(), "ok");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn stream_setup_error_is_returned_before_any_stream() {
    let server = MockServer::start().await;
    Mock::given(path(STREAM_PATH))
        .respond_with(json_response(400, &google_error(400, "INVALID_ARGUMENT", "bad schema", json!([]))))
        .expect(1)
        .mount(&server)
        .await;

    let result = client(&server).stream_generate_content(request()).await;

    assert!(matches!(
        result,
        Err(Error::Api { status, .. }) if status.as_u16() == 400
    ));
}
