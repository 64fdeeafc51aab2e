//! Shared fixtures: a wiremock server, a fast-retrying client, wire-format builders, and a raw TCP
//! server for failures wiremock cannot produce (a connection dropped or stalled mid-body).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use planwright_gemini::{Client, Config, RetryPolicy};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::{MockServer, Request, ResponseTemplate};

pub const API_KEY: &str = "test-key-Zq81x";
pub const GENERATE_PATH: &str = "/v1beta/models/gemini-3.5-flash:generateContent";
pub const STREAM_PATH: &str = "/v1beta/models/gemini-3.5-flash:streamGenerateContent";
pub const COUNT_PATH: &str = "/v1beta/models/gemini-3.5-flash:countTokens";

/// Config pointing at `base_url`, with a key, a 5 s timeout and near-instant retries.
pub fn config(base_url: &str) -> Config {
    Config::new()
        .with_base_url(base_url)
        .with_api_key(API_KEY)
        .with_timeout(Duration::from_secs(5))
        .with_retry_policy(
            RetryPolicy::default()
                .with_initial_backoff(Duration::from_millis(1))
                .with_max_backoff(Duration::from_millis(20)),
        )
}

pub fn client(server: &MockServer) -> Client {
    client_with(server, |config| config)
}

pub fn client_with(server: &MockServer, adjust: impl FnOnce(Config) -> Config) -> Client {
    Client::new(adjust(config(&server.uri()))).expect("client builds")
}

pub async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

/// A complete `GenerateContentResponse` with one text candidate.
pub fn text_response(text: &str) -> Value {
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": [{"text": text}]},
            "finishReason": "STOP",
            "index": 0,
            "safetyRatings": [
                {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"}
            ]
        }],
        "usageMetadata": {
            "promptTokenCount": 7,
            "candidatesTokenCount": 3,
            "totalTokenCount": 25,
            "thoughtsTokenCount": 15
        },
        "modelVersion": "gemini-3.5-flash",
        "responseId": "resp-123"
    })
}

/// Google's JSON error body.
pub fn google_error(code: u16, status: &str, message: &str, details: Value) -> Value {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}})
}

pub fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// An SSE body the way Gemini frames it: `data: <json>` events separated by CRLF CRLF.
pub fn sse_body(events: &[Value]) -> String {
    events.iter().map(|event| format!("data: {event}\r\n\r\n")).collect()
}

pub fn sse_response(body: impl Into<String>) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.into(), "text/event-stream")
}

/// A stream chunk with one candidate holding the given parts.
pub fn chunk(parts: Value, finish_reason: Option<&str>) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if let Some(reason) = finish_reason {
        candidate["finishReason"] = json!(reason);
    }
    json!({"candidates": [candidate], "modelVersion": "gemini-3.5-flash", "responseId": "r1"})
}

/// What the raw server does after writing its canned response bytes.
#[derive(Clone, Copy)]
pub enum ThenDo {
    /// Close the connection (the declared body length is never reached).
    Close,
    /// Keep the connection open without sending anything more.
    Stall,
}

/// A one-response-per-connection HTTP server that writes `response` verbatim, then closes or
/// stalls. Returns its base URL and a counter of accepted connections.
pub async fn raw_server(response: String, then: ThenDo) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let response = response.clone();
            tokio::spawn(async move {
                read_request(&mut socket).await;
                socket.write_all(response.as_bytes()).await.ok();
                socket.flush().await.ok();
                match then {
                    ThenDo::Close => {
                        socket.shutdown().await.ok();
                    }
                    ThenDo::Stall => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    (format!("http://{address}"), connections)
}

/// Reads one HTTP/1.1 request (headers and a Content-Length body) so closing the socket later
/// sends a clean FIN rather than a reset.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Ok(read) = socket.read(&mut chunk).await else {
            return;
        };
        if read == 0 {
            return;
        }
        buffer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&buffer);
        if let Some(header_end) = text.find("\r\n\r\n") {
            let content_length = text[..header_end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or(0);
            if buffer.len() >= header_end + 4 + content_length {
                return;
            }
        }
    }
}

/// HTTP/1.1 response head for an SSE body that claims `declared_length` bytes.
pub fn sse_head(declared_length: usize) -> String {
    format!("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {declared_length}\r\n\r\n")
}
