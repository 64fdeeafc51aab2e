//! An async client for Google's Gemini REST API (`v1beta` generativelanguage): `generateContent`,
//! `streamGenerateContent` over SSE, `countTokens`, `models.get`, `embedContent` and
//! `batchEmbedContents` (with normalisation and cosine helpers), typed structured output from a Rust
//! type's JSON Schema, and function calling (tools declared from Rust types, thought signatures
//! kept). It retries transient failures itself (jittered exponential backoff that honours
//! `RetryInfo` and `Retry-After`, never a 400 or an exhausted daily quota), turns safety blocks
//! and `MAX_TOKENS` into errors you can match on, keeps the raw body of anything it cannot decode,
//! and sends the API key only in the `x-goog-api-key` header. It is not a Vertex AI client, has no
//! OAuth, and does not (yet) model caching, files or the Live API; unknown response fields are
//! ignored and unknown part kinds are kept verbatim in [`Part::extra`].
//!
//! ```no_run
//! use planwright_gemini::{Client, Config, GenerateContentRequest};
//!
//! # async fn run() -> Result<(), planwright_gemini::Error> {
//! let client = Client::new(Config::new().with_api_key("AIza..."))?;
//! let response = client
//!     .generate_content(GenerateContentRequest::from_text("Plan a 2-day FastAPI sprint"))
//!     .await?;
//! println!("{}", response.text());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod client;
mod config;
mod embed;
mod error;
mod schema;
mod sse;
mod tools;
mod types;

pub use client::{Client, ContentStream};
pub use config::{
    Config, DEFAULT_BASE_URL, DEFAULT_EMBEDDING_MODEL, DEFAULT_MODEL, DEFAULT_TIMEOUT, RetryPolicy,
};
pub use embed::{
    ContentEmbedding, EmbedContentRequest, MAX_EMBED_BATCH, TaskType, cosine_similarity, normalized,
};
pub use error::Error;
pub use schema::response_schema_for;
pub use tools::{
    FunctionCall, FunctionCallingConfig, FunctionCallingMode, FunctionDeclaration, FunctionResponse, Tool,
    ToolConfig,
};
pub use types::{
    Blob, BlockReason, Candidate, Content, CountTokensRequest, CountTokensResponse, FileData, FinishReason,
    GenerateContentRequest, GenerateContentResponse, GenerationConfig, HarmBlockThreshold, HarmCategory,
    HarmProbability, ModalityTokenCount, Model, Part, PromptFeedback, Role, SafetyRating, SafetySetting,
    ThinkingConfig, ThinkingLevel, UsageMetadata,
};

/// Re-exported so callers can name the key type without depending on `secrecy` themselves.
pub use secrecy::SecretString;

/// Re-exported because the public API speaks in its types: derive `schemars::JsonSchema` on the
/// type given to [`Client::generate_json`] (and [`response_schema_for`]) with this very version.
pub use schemars;

/// Re-exported for [`Client::with_http_client`], which takes a `reqwest::Client` of this version.
pub use reqwest;

/// Re-exported for the free-form JSON of the public types (`extra`, response schemas).
pub use serde_json;

/// Compiles the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
