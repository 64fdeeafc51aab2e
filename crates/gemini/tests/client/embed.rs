//! `embedContent` and `batchEmbedContents`: wire format, batch splitting, retries and errors.

use planwright_gemini::{EmbedContentRequest, Error, MAX_EMBED_BATCH, TaskType};
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::{API_KEY, client, client_with, google_error, json_response, received};

const EMBED_PATH: &str = "/v1beta/models/gemini-embedding-001:embedContent";
const BATCH_PATH: &str = "/v1beta/models/gemini-embedding-001:batchEmbedContents";

fn embedding(values: &[f32]) -> Value {
    json!({"embedding": {"values": values}})
}

/// Answers a batch with one embedding per request whose only value is the number in the
/// request's text (`"text 17"` → `[17.0]`), so a test can see which text each came from.
fn numbered_embeddings(request: &Request) -> ResponseTemplate {
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    let embeddings: Vec<Value> = body["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let text = entry["content"]["parts"][0]["text"].as_str().unwrap();
            let number: f32 = text.trim_start_matches("text ").parse().unwrap();
            json!({"values": [number]})
        })
        .collect();
    json_response(200, &json!({"embeddings": embeddings}))
}

#[tokio::test]
async fn embed_content_posts_the_documented_body_to_the_embedding_model() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(EMBED_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "content": {"parts": [{"text": "Sports centre opening hours"}]},
            "taskType": "RETRIEVAL_DOCUMENT",
            "title": "Sports centre",
            "outputDimensionality": 3
        })))
        .respond_with(json_response(200, &embedding(&[0.25, -0.5, 0.125])))
        .expect(1)
        .mount(&server)
        .await;

    let request = EmbedContentRequest::document("Sports centre opening hours")
        .with_title("Sports centre")
        .with_output_dimensionality(3);
    let embedding = client(&server).embed_content(request).await.unwrap();

    assert_eq!(embedding.values, vec![0.25, -0.5, 0.125]);
    assert_eq!(embedding.dimensions(), 3);
    let requests = received(&server).await;
    assert!(!requests[0].url.as_str().contains("key="), "the key never goes in the URL");
}

#[tokio::test]
async fn the_embedding_model_is_configured_apart_from_the_generation_model() {
    let server = MockServer::start().await;
    Mock::given(path("/v1beta/models/gemini-embedding-2:embedContent"))
        .and(body_json(json!({"content": {"parts": [{"text": "hi"}]}, "taskType": "RETRIEVAL_QUERY"})))
        .respond_with(json_response(200, &embedding(&[1.0])))
        .expect(1)
        .mount(&server)
        .await;

    let client = client_with(&server, |config| {
        config.with_model("gemini-3.5-pro").with_embedding_model("models/gemini-embedding-2")
    });
    let embedding = client.embed_content(EmbedContentRequest::query("hi")).await.unwrap();

    assert_eq!(embedding.values, vec![1.0]);
    assert_eq!(client.config().model, "gemini-3.5-pro");
}

#[tokio::test]
async fn batch_repeats_the_model_in_every_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(BATCH_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .and(body_json(json!({"requests": [
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "when can I use the gym?"}]},
                "taskType": "RETRIEVAL_QUERY",
                "outputDimensionality": 768
            },
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "Open 7am to 10pm"}]},
                "taskType": "RETRIEVAL_DOCUMENT",
                "title": "Sports centre"
            },
            {
                "model": "models/gemini-embedding-001",
                "content": {"parts": [{"text": "plain"}]},
                "taskType": "CLUSTERING"
            }
        ]})))
        // Every embedding has the 768 values the first request asks for (the others ask for none,
        // so they must match the first).
        .respond_with(json_response(
            200,
            &json!({"embeddings": [{"values": vec![1.0; 768]}, {"values": vec![2.0; 768]}, {"values": vec![3.0; 768]}]}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let embeddings = client(&server)
        .batch_embed_contents(vec![
            EmbedContentRequest::query("when can I use the gym?").with_output_dimensionality(768),
            EmbedContentRequest::document("Open 7am to 10pm").with_title("Sports centre"),
            EmbedContentRequest::new("plain").with_task_type(TaskType::Clustering),
        ])
        .await
        .unwrap();

    let values: Vec<_> = embeddings.iter().map(|embedding| embedding.values.clone()).collect();
    assert_eq!(values, vec![vec![1.0; 768], vec![2.0; 768], vec![3.0; 768]]);
}

#[tokio::test]
async fn a_large_batch_is_split_into_calls_of_at_most_100_in_order() {
    let server = MockServer::start().await;
    Mock::given(path(BATCH_PATH)).respond_with(numbered_embeddings).expect(3).mount(&server).await;
    let total = 2 * MAX_EMBED_BATCH + 50;
    let requests = (0..total).map(|index| EmbedContentRequest::document(format!("text {index}"))).collect();

    let embeddings = client(&server).batch_embed_contents(requests).await.unwrap();

    assert_eq!(MAX_EMBED_BATCH, 100);
    let numbers: Vec<f32> = embeddings.iter().map(|embedding| embedding.values[0]).collect();
    let expected: Vec<f32> = (0..total).map(|index| index as f32).collect();
    assert_eq!(numbers, expected);
    let sizes: Vec<usize> = received(&server)
        .await
        .iter()
        .map(|request| request.body_json::<Value>().unwrap()["requests"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, vec![100, 100, 50]);
}

#[tokio::test]
async fn an_empty_batch_makes_no_call() {
    let server = MockServer::start().await;

    let embeddings = client(&server).batch_embed_contents(Vec::new()).await.unwrap();

    assert!(embeddings.is_empty());
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn a_batch_answer_with_the_wrong_number_of_embeddings_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path(BATCH_PATH))
        .respond_with(json_response(200, &json!({"embeddings": [{"values": [1.0]}]})))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .batch_embed_contents(vec![EmbedContentRequest::new("a"), EmbedContentRequest::new("b")])
        .await
        .unwrap_err();

    assert!(
        matches!(error, Error::EmbeddingCountMismatch { expected: 2, received: 1 }),
        "unexpected error: {error:?}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn a_batch_answer_without_embeddings_is_a_count_mismatch() {
    let server = MockServer::start().await;
    Mock::given(path(BATCH_PATH)).respond_with(json_response(200, &json!({}))).mount(&server).await;

    let error = client(&server).batch_embed_contents(vec![EmbedContentRequest::new("a")]).await.unwrap_err();

    assert!(matches!(error, Error::EmbeddingCountMismatch { expected: 1, received: 0 }), "{error:?}");
}

#[tokio::test]
async fn an_answer_without_an_embedding_is_a_decode_error_keeping_the_body() {
    let server = MockServer::start().await;
    Mock::given(path(EMBED_PATH))
        .respond_with(json_response(200, &json!({"embeddings": []})))
        .mount(&server)
        .await;

    let error = client(&server).embed_content(EmbedContentRequest::new("a")).await.unwrap_err();

    assert!(matches!(&error, Error::Decode { body, .. } if body.contains("embeddings")), "{error:?}");
}

#[tokio::test]
async fn embedding_calls_retry_on_503_and_429() {
    let server = MockServer::start().await;
    Mock::given(path(EMBED_PATH))
        .respond_with(json_response(
            503,
            &google_error(503, "UNAVAILABLE", "The model is overloaded.", json!([])),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(EMBED_PATH))
        .respond_with(json_response(
            429,
            &google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "Resource has been exhausted (e.g. check quota).",
                json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.01s"}]),
            ),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(EMBED_PATH)).respond_with(json_response(200, &embedding(&[0.5]))).mount(&server).await;

    let embedding = client(&server).embed_content(EmbedContentRequest::new("a")).await.unwrap();

    assert_eq!(embedding.values, vec![0.5]);
    assert_eq!(received(&server).await.len(), 3);
}

#[tokio::test]
async fn each_batch_call_is_retried_on_its_own() {
    let server = MockServer::start().await;
    Mock::given(path(BATCH_PATH))
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(BATCH_PATH)).respond_with(numbered_embeddings).mount(&server).await;
    let requests = (0..MAX_EMBED_BATCH + 1).map(|index| EmbedContentRequest::new(format!("text {index}")));

    let embeddings = client(&server).batch_embed_contents(requests.collect()).await.unwrap();

    assert_eq!(embeddings.len(), MAX_EMBED_BATCH + 1);
    assert_eq!(embeddings[MAX_EMBED_BATCH].values, vec![MAX_EMBED_BATCH as f32]);
    assert_eq!(received(&server).await.len(), 3, "one failed attempt, then two calls");
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(EMBED_PATH))
        .respond_with(json_response(
            400,
            &google_error(400, "INVALID_ARGUMENT", "Request contains an invalid argument.", json!([])),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client(&server)
        .embed_content(EmbedContentRequest::new("a").with_output_dimensionality(5000))
        .await
        .unwrap_err();

    assert!(matches!(&error, Error::Api { code, .. } if code == "INVALID_ARGUMENT"), "{error:?}");
}

#[tokio::test]
async fn a_model_that_does_not_embed_is_not_found() {
    let server = MockServer::start().await;
    Mock::given(path("/v1beta/models/gemini-3.5-flash:embedContent"))
        .respond_with(json_response(
            404,
            &google_error(
                404,
                "NOT_FOUND",
                "models/gemini-3.5-flash is not found for API version v1beta, or is not supported for \
                 embedContent.",
                json!([]),
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = client_with(&server, |config| config.with_embedding_model("gemini-3.5-flash"))
        .embed_content(EmbedContentRequest::new("a"))
        .await
        .unwrap_err();

    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test]
async fn an_embedding_of_the_wrong_size_is_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(path(BATCH_PATH))
        .respond_with(json_response(200, &json!({"embeddings": [{"values": [0.6, 0.8]}, {"values": [1.0]}]})))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server);

    // No size asked for: the first embedding sets it.
    let error = client
        .batch_embed_contents(vec![EmbedContentRequest::new("a"), EmbedContentRequest::new("b")])
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::EmbeddingDimensionMismatch { index: 1, expected: 2, received: 1 }),
        "{error:?}"
    );
    assert!(!error.is_retryable());
    // A size asked for: every embedding must have it.
    let sized = |text| EmbedContentRequest::new(text).with_output_dimensionality(1);
    let error = client.batch_embed_contents(vec![sized("a"), sized("b")]).await.unwrap_err();
    assert!(
        matches!(error, Error::EmbeddingDimensionMismatch { index: 0, expected: 1, received: 2 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_single_embedding_must_have_the_size_asked_for_and_some_values() {
    let server = MockServer::start().await;
    Mock::given(path(EMBED_PATH))
        .respond_with(json_response(200, &json!({"embedding": {"values": [0.6, 0.8, 0.0]}})))
        .mount(&server)
        .await;
    let client = client(&server);

    let error =
        client.embed_content(EmbedContentRequest::new("a").with_output_dimensionality(2)).await.unwrap_err();
    assert!(
        matches!(error, Error::EmbeddingDimensionMismatch { index: 0, expected: 2, received: 3 }),
        "{error:?}"
    );
    let embedding = client.embed_content(EmbedContentRequest::new("a")).await.unwrap();
    assert_eq!(embedding.dimensions(), 3, "no size asked for: any non-empty size");
}

#[tokio::test]
async fn an_empty_embedding_is_a_typed_error() {
    let server = MockServer::start().await;
    Mock::given(path(EMBED_PATH))
        .respond_with(json_response(200, &json!({"embedding": {"values": []}})))
        .mount(&server)
        .await;

    let error = client(&server).embed_content(EmbedContentRequest::new("a")).await.unwrap_err();

    assert!(
        matches!(error, Error::EmbeddingDimensionMismatch { index: 0, expected: 0, received: 0 }),
        "{error:?}"
    );
}
