//! `models.get`: a model's metadata, and the 404 Google sends for a retired or unknown model.

use planwright_gemini::Error;
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{API_KEY, client, client_with, google_error, json_response, received};

#[tokio::test]
async fn get_model_reads_the_metadata_with_the_key_in_a_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models/gemini-3.5-flash"))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(json_response(
            200,
            &json!({
                "name": "models/gemini-3.5-flash",
                "baseModelId": "gemini-3.5-flash",
                "version": "3.5",
                "displayName": "Gemini 3.5 Flash",
                "inputTokenLimit": 1048576,
                "outputTokenLimit": 65536,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
                "thinking": true
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let model = client(&server).get_model().await.unwrap();

    assert_eq!(model.name, "models/gemini-3.5-flash");
    assert_eq!(model.version, "3.5");
    assert!(model.supported_generation_methods.iter().any(|m| m == "generateContent"));
    let requests = received(&server).await;
    assert!(!requests[0].url.as_str().contains("key="), "the key never goes in the URL");
}

#[tokio::test]
async fn a_retired_model_is_not_found_and_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1beta/models/gemini-1.5-flash"))
        .respond_with(json_response(
            404,
            &google_error(
                404,
                "NOT_FOUND",
                "models/gemini-1.5-flash is not found for API version v1beta, or is not supported for \
                 generateContent. Call ListModels to see the list of available models and their supported \
                 methods.",
                json!([]),
            ),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error =
        client_with(&server, |config| config.with_model("gemini-1.5-flash")).get_model().await.unwrap_err();

    assert!(error.is_not_found(), "{error:?}");
    assert!(!error.is_retryable());
    assert!(matches!(&error, Error::Api { code, .. } if code == "NOT_FOUND"));
}
