//! What the client logs: model, attempt, status and latency, never the key or the prompt.
//!
//! A test binary of its own: `tracing` caches per call site whether anyone listens, and tests on
//! other threads (with no subscriber) could register a call site first and hide it from the
//! thread-local subscriber this test installs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use planwright_gemini::GenerateContentRequest;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer};

#[path = "client/helpers.rs"]
#[allow(dead_code)]
mod helpers;

use helpers::{API_KEY, GENERATE_PATH, client, json_response, text_response};

/// Collects formatted log output in memory.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_name_model_attempt_and_status_but_never_the_key_or_prompt() {
    let server = MockServer::start().await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(503, &serde_json::json!({})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(GENERATE_PATH))
        .respond_with(json_response(200, &text_response("ok")))
        .mount(&server)
        .await;
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    client(&server)
        .generate_content(GenerateContentRequest::from_text("my secret diary entry"))
        .await
        .unwrap();

    let output = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("model=gemini-3.5-flash"), "{output}");
    assert!(output.contains("attempt=2"), "{output}");
    assert!(output.contains("status=503"), "{output}");
    assert!(output.contains("status=200"), "{output}");
    assert!(output.contains("latency_ms="), "{output}");
    assert!(!output.contains(API_KEY), "{output}");
    assert!(!output.contains("my secret diary entry"), "{output}");
}
