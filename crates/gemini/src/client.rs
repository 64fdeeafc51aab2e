//! The HTTP client: endpoints, retries, timeouts and SSE streaming.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use schemars::JsonSchema;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::config::Config;
use crate::error::Error;
use crate::schema::response_schema_for;
use crate::sse::SseDecoder;
use crate::types::{
    Content, CountTokensRequest, CountTokensResponse, FinishReason, GenerateContentRequest,
    GenerateContentResponse, Model,
};

/// The chunks of a streamed generation, in order. See [`Client::stream_generate_content`].
pub type ContentStream = Pin<Box<dyn Stream<Item = Result<GenerateContentResponse, Error>> + Send>>;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

pub(crate) const API_VERSION: &str = "v1beta";
const API_KEY_HEADER: &str = "x-goog-api-key";

/// A Gemini API client. Cheap to clone (the connection pool is shared); `Debug` never prints the
/// API key.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    config: Config,
}

impl Client {
    /// A client with its own connection pool (rustls, HTTP/2, 10 s connect timeout).
    ///
    /// # Errors
    /// [`Error::Transport`] if the TLS backend cannot be initialised.
    pub fn new(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("planwright-gemini/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(Error::Transport)?;
        Ok(Self::with_http_client(http, config))
    }

    /// A client that sends requests through the given `reqwest::Client` (to share a pool, or to
    /// set proxies and TLS roots). The retry policy and timeout still come from `config`.
    pub fn with_http_client(http: reqwest::Client, config: Config) -> Self {
        Self { http, config }
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A copy of this client (same pool and settings) that talks to another model.
    pub fn for_model(&self, model: impl Into<String>) -> Self {
        Self { http: self.http.clone(), config: self.config.clone().with_model(model) }
    }

    /// `models.generateContent`: one request, one complete response.
    ///
    /// # Errors
    /// [`Error::Blocked`] when the prompt or the first candidate was blocked,
    /// [`Error::Truncated`] when the first candidate stopped at `MAX_TOKENS`, and the HTTP and
    /// transport errors described on [`Error`] once retries are exhausted.
    #[tracing::instrument(
        name = "gemini.generate_content",
        skip(self, request),
        fields(model = %self.config.model)
    )]
    pub async fn generate_content(
        &self,
        request: GenerateContentRequest,
    ) -> Result<GenerateContentResponse, Error> {
        let body = encode(&request)?;
        let response = self.call_unary("generateContent", body).await?;
        check_response(response)
    }

    /// Structured output: asks for `application/json` matching `T`'s JSON Schema (set as
    /// `responseJsonSchema`, replacing any `responseSchema`), then parses the answer text as `T`.
    /// Returns the value and the full response (for usage metadata and the model version).
    ///
    /// # Errors
    /// As [`Client::generate_content`], plus [`Error::Decode`] holding the raw answer text when
    /// it is not a valid `T`.
    #[tracing::instrument(
        name = "gemini.generate_json",
        skip(self, request),
        fields(model = %self.config.model, target = std::any::type_name::<T>())
    )]
    pub async fn generate_json<T>(
        &self,
        mut request: GenerateContentRequest,
    ) -> Result<(T, GenerateContentResponse), Error>
    where
        T: DeserializeOwned + JsonSchema,
    {
        let generation_config = request
            .generation_config
            .take()
            .unwrap_or_default()
            .with_response_mime_type("application/json")
            .with_response_json_schema(response_schema_for::<T>());
        request.generation_config = Some(generation_config);
        let response = self.generate_content(request).await?;
        let text = response.text();
        match serde_json::from_str(&text) {
            Ok(value) => Ok((value, response)),
            Err(source) => Err(Error::Decode { source, body: text }),
        }
    }

    /// `models.streamGenerateContent?alt=sse`: the answer as a stream of chunks.
    ///
    /// Connecting is retried like any call, up to the first byte of the body; after that the
    /// stream is never retried (the model may already have produced output you have seen).
    /// Chunks with no `content`, thought parts and a final usage-only chunk are passed through.
    ///
    /// The stream ends after the last chunk, or after its first `Err` item:
    /// [`Error::Blocked`] / [`Error::Truncated`] in place of a chunk that was blocked or hit
    /// `MAX_TOKENS`, [`Error::Transport`] when the connection breaks mid-way,
    /// [`Error::Timeout`] when no bytes arrive within the configured timeout,
    /// [`Error::IncompleteStream`] when the connection closes cleanly before any chunk carried a
    /// `finishReason`, and [`Error::Decode`] for a chunk that is not JSON.
    ///
    /// # Errors
    /// The errors of [`Client::generate_content`] that happen before the stream starts.
    #[tracing::instrument(
        name = "gemini.stream_generate_content",
        skip(self, request),
        fields(model = %self.config.model)
    )]
    pub async fn stream_generate_content(
        &self,
        request: GenerateContentRequest,
    ) -> Result<ContentStream, Error> {
        let body = encode(&request)?;
        let url = self.endpoint("streamGenerateContent");
        let (first, rest) = self
            .with_retries(|attempt| {
                let request = self
                    .post(&url, body.clone())
                    .map(|request| request.query(&[("alt", "sse")]).header(ACCEPT, "text/event-stream"));
                async move {
                    let response = self.send(request?, attempt).await?;
                    let mut bytes: ByteStream = Box::pin(response.bytes_stream());
                    // Waiting for the first bytes inside the attempt makes a failure before any
                    // output retryable, and nothing after it.
                    let first = bytes.next().await.transpose().map_err(Error::from_reqwest)?;
                    Ok((first, bytes))
                }
            })
            .await?;
        let chunks = ChunkStream {
            body: rest,
            pending: first,
            decoder: SseDecoder::default(),
            events: VecDeque::new(),
            idle_timeout: self.config.timeout,
            saw_finish_reason: false,
            eof: false,
            done: false,
            chunks: 0,
        };
        Ok(Box::pin(chunks.into_stream()))
    }

    /// `models.countTokens`.
    ///
    /// # Errors
    /// The HTTP and transport errors described on [`Error`] once retries are exhausted.
    #[tracing::instrument(
        name = "gemini.count_tokens",
        skip(self, request),
        fields(model = %self.config.model)
    )]
    pub async fn count_tokens(&self, request: CountTokensRequest) -> Result<CountTokensResponse, Error> {
        let body = encode(&CountTokensBody {
            contents: &request.contents,
            generate_content_request: request
                .generate_content_request
                .as_ref()
                .map(|inner| ModelRequest { model: self.model_path(), request: inner }),
        })?;
        self.call_unary("countTokens", body).await
    }

    /// `models.get`: the configured model's metadata. Use it to check at start-up that the
    /// model exists: Google answers a retired or unknown model with 404 `NOT_FOUND`
    /// ([`Error::is_not_found`]).
    ///
    /// # Errors
    /// The HTTP and transport errors described on [`Error`] once retries are exhausted.
    #[tracing::instrument(name = "gemini.get_model", skip(self), fields(model = %self.config.model))]
    pub async fn get_model(&self) -> Result<Model, Error> {
        let url =
            format!("{}/{API_VERSION}/{}", self.config.base_url.trim_end_matches('/'), self.model_path());
        let bytes = self
            .with_retries(|attempt| {
                let request = self.authorized(self.http.get(&url));
                async move {
                    let response = self.send(request?, attempt).await?;
                    response.bytes().await.map_err(Error::from_reqwest)
                }
            })
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|source| Error::Decode { source, body: String::from_utf8_lossy(&bytes).into_owned() })
    }

    /// `models/{model}`, or the configured value if it already names a resource.
    fn model_path(&self) -> String {
        model_resource(&self.config.model)
    }

    fn endpoint(&self, method: &str) -> String {
        format!("{}/{API_VERSION}/{}:{method}", self.config.base_url.trim_end_matches('/'), self.model_path())
    }

    pub(crate) fn post(&self, url: &str, body: Bytes) -> Result<reqwest::RequestBuilder, Error> {
        self.authorized(self.http.post(url).header(CONTENT_TYPE, "application/json").body(body))
    }

    /// Adds the key header, marked sensitive so it never shows in debug output.
    fn authorized(&self, mut request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, Error> {
        if let Some(key) = &self.config.api_key {
            let mut value = HeaderValue::from_str(key.expose_secret()).map_err(|_| Error::Unauthorized {
                message: "the API key contains characters not allowed in an HTTP header".to_owned(),
            })?;
            value.set_sensitive(true);
            request = request.header(API_KEY_HEADER, value);
        }
        Ok(request)
    }

    async fn call_unary<R: DeserializeOwned>(&self, method: &'static str, body: Bytes) -> Result<R, Error> {
        self.post_unary(&self.endpoint(method), body).await
    }

    /// POSTs `body` to `url` with retries and decodes the answer (the raw body is kept when it
    /// cannot be decoded).
    pub(crate) async fn post_unary<R: DeserializeOwned>(&self, url: &str, body: Bytes) -> Result<R, Error> {
        let bytes = self
            .with_retries(|attempt| {
                let request = self.post(url, body.clone());
                async move {
                    let response = self.send(request?, attempt).await?;
                    response.bytes().await.map_err(Error::from_reqwest)
                }
            })
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|source| Error::Decode { source, body: String::from_utf8_lossy(&bytes).into_owned() })
    }

    /// Sends one attempt; a non-success status is read and mapped to an [`Error`].
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
        attempt: u32,
    ) -> Result<reqwest::Response, Error> {
        let started = Instant::now();
        let response = match request.send().await {
            Ok(response) => response,
            Err(source) => {
                tracing::debug!(attempt, latency_ms = millis(started), error = %source, "Gemini request failed");
                return Err(Error::from_reqwest(source));
            }
        };
        let status = response.status();
        tracing::debug!(attempt, status = status.as_u16(), latency_ms = millis(started), "Gemini responded");
        if status.is_success() {
            return Ok(response);
        }
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        Err(Error::from_response(status, &headers, &body))
    }

    /// Runs `attempt_fn` (given the 1-based attempt number) under the timeout, retrying per the
    /// policy.
    pub(crate) async fn with_retries<T, F, Fut>(&self, mut attempt_fn: F) -> Result<T, Error>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let policy = &self.config.retry_policy;
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let outcome = match self.config.timeout {
                Some(limit) => {
                    tokio::time::timeout(limit, attempt_fn(attempt)).await.unwrap_or(Err(Error::Timeout))
                }
                None => attempt_fn(attempt).await,
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let status = error.status().map_or(0, |status| status.as_u16());
            let latency_ms = millis(started);
            let retries_done = attempt - 1;
            if !(policy.enabled && retries_done < policy.max_retries && error.is_retryable()) {
                tracing::debug!(attempt, status, latency_ms, error = %error, "Gemini call failed");
                return Err(error);
            }
            let delay = policy.delay_for(attempt, error.retry_after());
            tracing::warn!(
                attempt,
                status,
                latency_ms,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying Gemini call"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// `models/{model}`, or `model` itself if it already names a resource.
pub(crate) fn model_resource(model: &str) -> String {
    let model = model.trim_start_matches('/');
    if model.contains('/') { model.to_owned() } else { format!("models/{model}") }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

pub(crate) fn encode<T: Serialize>(body: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(body).map(Bytes::from).map_err(|source| Error::Decode {
        source,
        body: "(the request body could not be encoded)".to_owned(),
    })
}

/// Turns block and truncation signals in a (complete or chunk) response into errors.
fn check_response(response: GenerateContentResponse) -> Result<GenerateContentResponse, Error> {
    if let Some(reason) = response.block_reason() {
        return Err(Error::Blocked { reason: reason.to_string(), prompt_blocked: true });
    }
    match response.finish_reason() {
        Some(reason) if reason.is_blocked() => {
            Err(Error::Blocked { reason: reason.to_string(), prompt_blocked: false })
        }
        Some(FinishReason::MaxTokens) => Err(Error::Truncated { response: Box::new(response) }),
        _ => Ok(response),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CountTokensBody<'a> {
    #[serde(skip_serializing_if = "<[Content]>::is_empty")]
    contents: &'a [Content],
    #[serde(skip_serializing_if = "Option::is_none")]
    generate_content_request: Option<ModelRequest<'a>>,
}

/// A generate request with the `model` field that `countTokens` requires.
#[derive(Serialize)]
struct ModelRequest<'a> {
    model: String,
    #[serde(flatten)]
    request: &'a GenerateContentRequest,
}

/// State of a streamed response after its first bytes arrived.
struct ChunkStream {
    body: ByteStream,
    pending: Option<Bytes>,
    decoder: SseDecoder,
    events: VecDeque<String>,
    idle_timeout: Option<Duration>,
    saw_finish_reason: bool,
    eof: bool,
    done: bool,
    chunks: u32,
}

impl ChunkStream {
    fn into_stream(self) -> impl Stream<Item = Result<GenerateContentResponse, Error>> + Send {
        stream::unfold(self, |mut state| async move {
            let item = state.next_item().await?;
            Some((item, state))
        })
    }

    async fn next_item(&mut self) -> Option<Result<GenerateContentResponse, Error>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(data) = self.events.pop_front() {
                match self.handle_event(&data) {
                    Some(item) => {
                        self.done = item.is_err();
                        return Some(item);
                    }
                    None => continue,
                }
            }
            if self.eof {
                self.done = true;
                if self.saw_finish_reason {
                    tracing::debug!(chunks = self.chunks, "Gemini stream finished");
                    return None;
                }
                tracing::warn!(chunks = self.chunks, "Gemini stream closed before its final chunk");
                return Some(Err(Error::IncompleteStream));
            }
            if let Some(bytes) = self.pending.take() {
                self.decoder.push(&bytes, &mut self.events);
                continue;
            }
            let next = match self.idle_timeout {
                Some(limit) => match tokio::time::timeout(limit, self.body.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        self.done = true;
                        return Some(Err(Error::Timeout));
                    }
                },
                None => self.body.next().await,
            };
            match next {
                Some(Ok(bytes)) => self.decoder.push(&bytes, &mut self.events),
                Some(Err(source)) => {
                    self.done = true;
                    tracing::warn!(chunks = self.chunks, error = %source, "Gemini stream broke");
                    return Some(Err(Error::from_reqwest(source)));
                }
                None => {
                    if self.decoder.finish() {
                        tracing::debug!("Gemini stream ended inside an event");
                    }
                    self.eof = true;
                }
            }
        }
    }

    /// One SSE event's data: a chunk, an in-stream error, or nothing (blank keep-alive).
    fn handle_event(&mut self, data: &str) -> Option<Result<GenerateContentResponse, Error>> {
        let data = data.trim();
        if data.is_empty() {
            return None;
        }
        let decode_error = |source| Error::Decode { source, body: data.to_owned() };
        let value: Value = match serde_json::from_str(data) {
            Ok(value) => value,
            Err(source) => return Some(Err(decode_error(source))),
        };
        if let Some(error) = value.get("error") {
            return Some(Err(Error::from_stream_error(error, data)));
        }
        let chunk: GenerateContentResponse = match serde_json::from_value(value) {
            Ok(chunk) => chunk,
            Err(source) => return Some(Err(decode_error(source))),
        };
        self.chunks += 1;
        if chunk.candidates.iter().any(|candidate| candidate.finish_reason.is_some()) {
            self.saw_finish_reason = true;
        }
        Some(check_response(chunk))
    }
}
