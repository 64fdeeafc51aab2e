//! The crate's one error type and the mapping from HTTP error responses to it.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde_json::Value;

use crate::types::GenerateContentResponse;

/// Longest error message kept from a non-JSON error body, in bytes.
const MAX_TEXT_BODY: usize = 2048;

/// Everything that can go wrong calling Gemini. Variants are the cases callers branch on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 429 `RESOURCE_EXHAUSTED`. `retry_after` comes from the body's `google.rpc.RetryInfo`
    /// or the `Retry-After` header; `quota_per_day` is true when a `google.rpc.QuotaFailure`
    /// violation names a per-day quota, which no short wait will fix (never retried).
    #[error("Gemini rate limit exceeded{}: {message}", daily_suffix(*.quota_per_day))]
    RateLimited {
        /// How long the server asked us to wait, if it said.
        retry_after: Option<Duration>,
        /// True when a daily quota is exhausted.
        quota_per_day: bool,
        /// The server's message.
        message: String,
    },

    /// A safety or policy filter withheld the output: the prompt was blocked
    /// (`promptFeedback.blockReason`, `prompt_blocked == true`) or the candidate stopped with
    /// `SAFETY`, `PROHIBITED_CONTENT`, `BLOCKLIST`, `SPII`, `RECITATION` or `IMAGE_SAFETY`.
    #[error("Gemini blocked the {}: {reason}", blocked_subject(*.prompt_blocked))]
    Blocked {
        /// The block or finish reason as sent on the wire, e.g. `SAFETY`.
        reason: String,
        /// True when the prompt itself was blocked, false when the answer was.
        prompt_blocked: bool,
    },

    /// The candidate stopped with `MAX_TOKENS`: the answer is cut off. The partial response is
    /// kept (for a stream: the chunk that carried the finish reason).
    #[error("Gemini stopped at the output token limit (MAX_TOKENS); the answer is incomplete")]
    Truncated {
        /// The partial response.
        response: Box<GenerateContentResponse>,
    },

    /// The API key is missing, invalid (400 `API_KEY_INVALID`) or not allowed (401, 403).
    #[error("Gemini rejected the credentials: {message}")]
    Unauthorized {
        /// The server's message.
        message: String,
    },

    /// Any other non-success HTTP response. `code` is Google's status string (e.g.
    /// `INVALID_ARGUMENT`, `UNAVAILABLE`), empty when the body was not Google's JSON error;
    /// `message` is the error message or, for a non-JSON body, its (truncated) text.
    #[error("Gemini API error {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: StatusCode,
        /// Google's status string, or empty.
        code: String,
        /// The error message, or the raw body text.
        message: String,
        /// Server-provided retry delay, if any.
        retry_after: Option<Duration>,
    },

    /// An attempt took longer than the configured timeout (for streams: no bytes for that long).
    #[error("Gemini request timed out")]
    Timeout,

    /// The request could not be sent or the response could not be read (DNS, TLS, connection
    /// reset, a stream cut off mid-way, ...).
    #[error("transport error talking to Gemini")]
    Transport(#[source] reqwest::Error),

    /// A success response (or a structured-output answer) was not the JSON we expected. `body`
    /// holds the raw text, which is what you need when Google changes something.
    #[error("could not decode Gemini's response")]
    Decode {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
        /// The raw text that failed to decode.
        body: String,
    },

    /// A stream's connection closed cleanly before any chunk carried a `finishReason`, so the
    /// answer may be incomplete.
    #[error("Gemini stream ended before its final chunk")]
    IncompleteStream,

    /// A `batchEmbedContents` answer did not hold exactly one embedding per request, so the
    /// embeddings cannot be matched to their texts (nothing is returned rather than a guess).
    #[error("Gemini returned {received} embeddings for {expected} texts")]
    EmbeddingCountMismatch {
        /// Requests sent in the call.
        expected: usize,
        /// Embeddings in the answer.
        received: usize,
    },

    /// An embedding had another number of values than asked for (`outputDimensionality`) or,
    /// when none was asked for, than the first embedding of the answer (or none at all):
    /// vectors of different sizes cannot be compared, so nothing is returned.
    #[error(
        "Gemini returned an embedding of {received} values where {expected} were expected (embedding {index})"
    )]
    EmbeddingDimensionMismatch {
        /// Position of the offending embedding in the call's requests, from 0.
        index: usize,
        /// Values expected: the requested `outputDimensionality`, or the first embedding's.
        expected: usize,
        /// Values received.
        received: usize,
    },
}

fn daily_suffix(quota_per_day: bool) -> &'static str {
    if quota_per_day { " (daily quota)" } else { "" }
}

fn blocked_subject(prompt_blocked: bool) -> &'static str {
    if prompt_blocked { "prompt" } else { "response" }
}

impl Error {
    /// Whether sending the same request again may succeed: rate limits that are not per-day,
    /// HTTP 500/502/503/504, timeouts, connection problems and incomplete streams. The client
    /// already retries these per its [`RetryPolicy`](crate::RetryPolicy); this is for callers
    /// deciding what to do once those retries are exhausted.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { quota_per_day, .. } => !quota_per_day,
            Self::Api { status, .. } => matches!(
                *status,
                StatusCode::INTERNAL_SERVER_ERROR
                    | StatusCode::BAD_GATEWAY
                    | StatusCode::SERVICE_UNAVAILABLE
                    | StatusCode::GATEWAY_TIMEOUT
            ),
            Self::Timeout | Self::IncompleteStream => true,
            Self::Transport(source) => !(source.is_builder() || source.is_redirect() || source.is_status()),
            Self::Blocked { .. }
            | Self::Truncated { .. }
            | Self::Unauthorized { .. }
            | Self::Decode { .. }
            | Self::EmbeddingCountMismatch { .. }
            | Self::EmbeddingDimensionMismatch { .. } => false,
        }
    }

    /// Whether Google answered 404 `NOT_FOUND`: on a model route this means the model does not
    /// exist (a typo) or has been retired, and no retry will help; use another model.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status, .. } if *status == StatusCode::NOT_FOUND)
    }

    /// The delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, for errors that came from an HTTP response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::RateLimited { .. } => Some(StatusCode::TOO_MANY_REQUESTS),
            Self::Api { status, .. } => Some(*status),
            Self::Transport(source) => source.status(),
            _ => None,
        }
    }

    /// Maps a reqwest error, turning its timeouts into [`Error::Timeout`].
    pub(crate) fn from_reqwest(source: reqwest::Error) -> Self {
        if source.is_timeout() { Self::Timeout } else { Self::Transport(source) }
    }

    /// Maps a non-success HTTP response. Never assumes the body is JSON.
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let header_delay =
            headers.get(RETRY_AFTER).and_then(|value| value.to_str().ok()).and_then(parse_seconds);
        match GoogleError::parse(body) {
            Some(google) => google.into_error(status, header_delay),
            None => Self::from_status_and_message(status, String::new(), text_of(body), header_delay),
        }
    }

    /// Maps the `error` object of an in-stream `{"error": {...}}` event (`raw` is the event).
    pub(crate) fn from_stream_error(error: &Value, raw: &str) -> Self {
        match GoogleError::deserialize(error) {
            Ok(google) => {
                let status = google
                    .code
                    .and_then(|code| StatusCode::from_u16(code).ok())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                google.into_error(status, None)
            }
            Err(_) => Self::Api {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                code: String::new(),
                message: text_of(raw.as_bytes()),
                retry_after: None,
            },
        }
    }

    fn from_status_and_message(
        status: StatusCode,
        code: String,
        message: String,
        retry_after: Option<Duration>,
    ) -> Self {
        match status {
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited { retry_after, quota_per_day: false, message },
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Self::Unauthorized { message },
            _ => Self::Api { status, code, message, retry_after },
        }
    }
}

/// Google's JSON error (`{"error": {"code", "message", "status", "details"}}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GoogleError {
    code: Option<u16>,
    message: String,
    status: String,
    details: Vec<Value>,
}

#[derive(Deserialize)]
struct Envelope {
    error: GoogleError,
}

impl GoogleError {
    /// Parses `{"error": ...}` or `[{"error": ...}]` (the latter from non-SSE streams).
    fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let value = match value {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        serde_json::from_value::<Envelope>(value).ok().map(|envelope| envelope.error)
    }

    fn detail_type(detail: &Value) -> &str {
        detail.get("@type").and_then(Value::as_str).unwrap_or("")
    }

    fn retry_delay(&self) -> Option<Duration> {
        self.details
            .iter()
            .filter(|detail| Self::detail_type(detail).ends_with("google.rpc.RetryInfo"))
            .find_map(|detail| detail.get("retryDelay"))
            .and_then(parse_proto_duration)
    }

    fn names_per_day_quota(&self) -> bool {
        self.details
            .iter()
            .filter(|detail| Self::detail_type(detail).ends_with("google.rpc.QuotaFailure"))
            .filter_map(|detail| detail.get("violations").and_then(Value::as_array))
            .flatten()
            .filter_map(|violation| violation.get("quotaId").and_then(Value::as_str))
            .any(|quota_id| quota_id.contains("PerDay"))
    }

    fn has_error_reason(&self, reason: &str) -> bool {
        self.details
            .iter()
            .filter(|detail| Self::detail_type(detail).ends_with("google.rpc.ErrorInfo"))
            .any(|detail| detail.get("reason").and_then(Value::as_str) == Some(reason))
    }

    fn into_error(self, status: StatusCode, header_delay: Option<Duration>) -> Error {
        if status == StatusCode::BAD_REQUEST && self.has_error_reason("API_KEY_INVALID") {
            return Error::Unauthorized { message: self.message };
        }
        let retry_after = self.retry_delay().or(header_delay);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Error::RateLimited {
                retry_after,
                quota_per_day: self.names_per_day_quota(),
                message: self.message,
            };
        }
        Error::from_status_and_message(status, self.status, self.message, retry_after)
    }
}

/// The body as (lossy) text, trimmed and truncated, or a placeholder when empty.
fn text_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    if text.len() <= MAX_TEXT_BODY {
        return text.to_owned();
    }
    let mut end = MAX_TEXT_BODY;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Parses a protobuf `Duration` in JSON form, e.g. `"17s"` or `"0.050s"`.
fn parse_proto_duration(value: &Value) -> Option<Duration> {
    value.as_str()?.trim().strip_suffix('s').and_then(parse_seconds)
}

/// Parses a non-negative number of seconds, e.g. `"17"` or `"1.5"`.
fn parse_seconds(text: &str) -> Option<Duration> {
    let seconds: f64 = text.trim().parse().ok()?;
    if seconds.is_sign_negative() {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    fn classify(status: u16, body: &Value) -> Error {
        Error::from_response(
            StatusCode::from_u16(status).unwrap(),
            &HeaderMap::new(),
            body.to_string().as_bytes(),
        )
    }

    #[test]
    fn public_types_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_send_sync::<crate::Client>();
        assert_send_sync::<crate::Config>();
    }

    #[test]
    fn proto_durations_parse() {
        assert_eq!(parse_proto_duration(&json!("17s")), Some(Duration::from_secs(17)));
        assert_eq!(parse_proto_duration(&json!("0.05s")), Some(Duration::from_millis(50)));
        assert_eq!(parse_proto_duration(&json!("-1s")), None);
        assert_eq!(parse_proto_duration(&json!("17")), None);
        assert_eq!(parse_proto_duration(&json!(17)), None);
    }

    #[test]
    fn per_minute_quota_is_retryable_with_delay() {
        let error = classify(
            429,
            &json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}
            ]}}),
        );
        assert!(matches!(
            &error,
            Error::RateLimited { retry_after: Some(delay), quota_per_day: false, message }
                if *delay == Duration::from_secs(17) && message == "slow down"
        ));
        assert!(error.is_retryable());
    }

    #[test]
    fn per_day_quota_is_not_retryable() {
        let error = classify(
            429,
            &json!({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                    {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"},
                    {"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}),
        );
        assert!(matches!(error, Error::RateLimited { quota_per_day: true, .. }));
        assert!(!error.is_retryable());
    }

    #[test]
    fn retry_after_header_is_used_when_body_has_no_retry_info() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
        let error = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, &headers, b"busy");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(3)));
        assert!(error.is_retryable());
    }

    #[test]
    fn invalid_key_is_unauthorized_but_other_400s_are_api_errors() {
        let bad_key = classify(
            400,
            &json!({"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT",
                "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com"}]}}),
        );
        assert!(matches!(bad_key, Error::Unauthorized { .. }));
        let bad_request =
            classify(400, &json!({"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}));
        assert!(matches!(
            &bad_request,
            Error::Api { status, code, .. } if *status == StatusCode::BAD_REQUEST && code == "INVALID_ARGUMENT"
        ));
        assert!(!bad_request.is_retryable());
    }

    #[test]
    fn array_wrapped_errors_and_non_json_bodies_are_understood() {
        let wrapped = classify(
            503,
            &json!([{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}]),
        );
        assert!(matches!(&wrapped, Error::Api { code, .. } if code == "UNAVAILABLE"));
        let html =
            Error::from_response(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"<html>bad gateway</html>");
        assert!(
            matches!(&html, Error::Api { code, message, .. } if code.is_empty() && message == "<html>bad gateway</html>")
        );
    }

    #[test]
    fn long_text_bodies_are_truncated_on_a_char_boundary() {
        let body = "é".repeat(MAX_TEXT_BODY);
        let text = text_of(body.as_bytes());
        assert!(text.len() <= MAX_TEXT_BODY + "…".len());
        assert!(text.ends_with('…'));
    }
}
