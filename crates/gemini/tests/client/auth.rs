//! The API key stays in its header: never in the URL, `Debug` output or logs.

use planwright_gemini::{Client, Config, GenerateContentRequest};
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{API_KEY, GENERATE_PATH, client, config, json_response, received, text_response};

#[tokio::test]
async fn api_key_is_sent_in_the_header_and_never_in_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(GENERATE_PATH))
        .and(header("x-goog-api-key", API_KEY))
        .respond_with(json_response(200, &text_response("ok")))
        .expect(1)
        .mount(&server)
        .await;

    client(&server).generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();

    let requests = received(&server).await;
    assert_eq!(requests.len(), 1);
    let url = requests[0].url.as_str();
    assert!(!url.contains(API_KEY), "{url}");
    assert!(requests[0].url.query().is_none(), "{url}");
    assert!(requests[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn no_key_header_is_sent_when_no_key_is_configured() {
    let server = MockServer::start().await;
    Mock::given(header_exists("x-goog-api-key"))
        .respond_with(json_response(500, &serde_json::json!({})))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("ok")))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::new(Config::new().with_base_url(server.uri())).unwrap();
    client.generate_content(GenerateContentRequest::from_text("hi")).await.unwrap();
}

#[test]
fn debug_output_never_contains_the_key() {
    let config = config("http://localhost:1");
    let client = Client::new(config.clone()).unwrap();

    for printed in [format!("{config:?}"), format!("{client:?}"), format!("{config:#?}")] {
        assert!(!printed.contains(API_KEY), "{printed}");
    }
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_is_rejected_before_sending() {
    let server = MockServer::start().await;
    let client = Client::new(Config::new().with_base_url(server.uri()).with_api_key("bad\nkey")).unwrap();

    let error = client.generate_content(GenerateContentRequest::from_text("hi")).await.unwrap_err();

    assert!(matches!(error, planwright_gemini::Error::Unauthorized { .. }));
    assert!(received(&server).await.is_empty());
}
