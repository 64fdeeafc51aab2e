//! The crate's one error type and the mapping from Google's error responses to it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde::Deserialize;
use serde_json::Value;

/// Longest message kept from a non-JSON error body, in bytes.
const MAX_TEXT_BODY: usize = 2048;

/// A boxed error from a caller's own [`TokenSource`](crate::TokenSource) (a database, a vault...).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong talking to Google Calendar or Google's OAuth endpoints.
///
/// Variants are the cases callers branch on. Calendar API failures come from Google's JSON error
/// shape `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}`;
/// `reason` is the first `errors[].reason` (e.g. `duplicate`, `fullSyncRequired`,
/// `forbiddenForNonOrganizer`), or the `status` string when there is none, or empty when the body
/// was not Google's JSON (a 5xx body is never assumed to be JSON).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// HTTP 401: the access token is missing, expired or revoked. The client has already asked the
    /// [`TokenSource`](crate::TokenSource) for a fresh token once (when it said it could give one).
    #[error("Google rejected the access token (401): {message}")]
    Unauthorized {
        /// Google's message.
        message: String,
    },

    /// HTTP 403 for any reason other than a rate limit: e.g. `forbiddenForNonOrganizer`,
    /// `insufficientPermissions` (a scope is missing), `quotaExceeded` (Calendar usage limits,
    /// which a short wait does not fix), `dailyLimitExceeded`.
    #[error("Google refused the request (403 {reason}): {message}")]
    Forbidden {
        /// Google's reason code.
        reason: String,
        /// Google's message.
        message: String,
    },

    /// HTTP 404: the calendar, event or channel does not exist (or the user cannot see it).
    #[error("not found (404): {message}")]
    NotFound {
        /// Google's reason code, usually `notFound`.
        reason: String,
        /// Google's message.
        message: String,
    },

    /// HTTP 409, e.g. reason `duplicate`: an event with the client-supplied id already exists
    /// (deleted events keep their id too).
    #[error("conflict (409 {reason}): {message}")]
    Conflict {
        /// Google's reason code.
        reason: String,
        /// Google's message.
        message: String,
    },

    /// HTTP 410. For `events.list` / sync with a `syncToken` (reason `fullSyncRequired`) or an
    /// `updatedMin` too far back (reason `updatedMinTooLongAgo`) it means: drop the stored sync
    /// state and run a full sync. For a write (reason `deleted`) it means the event is already
    /// deleted.
    #[error("gone (410 {reason}): {message}")]
    Gone {
        /// Google's reason code.
        reason: String,
        /// Google's message.
        message: String,
    },

    /// HTTP 429, or 403 with reason `rateLimitExceeded` / `userRateLimitExceeded`. Retried by the
    /// client per its [`RetryPolicy`](crate::RetryPolicy); returned once retries are exhausted.
    #[error("Google rate limit exceeded ({reason}): {message}")]
    RateLimited {
        /// Google's reason code (e.g. `rateLimitExceeded`), or empty.
        reason: String,
        /// Google's message.
        message: String,
        /// The `Retry-After` delay, when Google sent one.
        retry_after: Option<Duration>,
    },

    /// Any other non-success HTTP response (400, 412, 5xx...). `message` is Google's message or,
    /// for a non-JSON body, its (truncated) text.
    #[error("Google API error {status} {reason}: {message}")]
    Api {
        /// HTTP status.
        status: StatusCode,
        /// Google's reason code or status string, or empty.
        reason: String,
        /// The error message, or the raw body text.
        message: String,
        /// The `Retry-After` delay, when Google sent one.
        retry_after: Option<Duration>,
    },

    /// An attempt took longer than the configured timeout.
    #[error("request to Google timed out")]
    Timeout,

    /// The request could not be sent or the response could not be read (DNS, TLS, connection
    /// reset...).
    #[error("transport error talking to Google")]
    Transport(#[source] reqwest::Error),

    /// A success response was not the JSON we expected. `body` holds the raw text.
    #[error("could not decode Google's response")]
    Decode {
        /// The JSON error.
        #[source]
        source: serde_json::Error,
        /// The raw text that failed to decode.
        body: String,
    },

    /// Refused before anything was sent: a parameter combination Google forbids, an invalid
    /// client-supplied event id, a token that cannot be an HTTP header...
    #[error("invalid request: {message}")]
    InvalidRequest {
        /// What is wrong.
        message: String,
    },

    /// The OAuth token endpoint answered `invalid_grant`: the refresh token (or authorization
    /// code) is expired, revoked or was issued to another client. The user must authorize again;
    /// mark the connection as needing re-authorization.
    #[error("the grant is invalid (expired or revoked); the user must authorize again")]
    InvalidGrant {
        /// Google's `error_description`, e.g. "Token has been expired or revoked.".
        description: Option<String>,
    },

    /// Any other OAuth error response (`invalid_client`, `invalid_request`, `unauthorized_client`,
    /// `invalid_scope`...).
    #[error("OAuth error {error}{}", description_suffix(.description))]
    OAuth {
        /// The OAuth `error` code.
        error: String,
        /// Google's `error_description`.
        description: Option<String>,
    },

    /// Unusable configuration: an endpoint that is not a URL, an unreadable `client_secret.json` or
    /// service-account key.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },

    /// A [`TokenSource`](crate::TokenSource) could not produce a token for a reason of its own (its
    /// database was unreachable, the service-account flow failed to connect...).
    #[error("the token source failed: {message}")]
    TokenSource {
        /// What failed.
        message: String,
        /// The underlying error, if any.
        #[source]
        source: Option<BoxError>,
    },
}

impl Error {
    /// A short, stable name for the kind of failure, fit for a metric label: `unauthorized`,
    /// `forbidden`, `not_found`, `conflict`, `gone`, `rate_limited`, `api_error`, `timeout`,
    /// `transport`, `decode`, `invalid_request`, `invalid_grant`, `oauth_error`, `config`,
    /// `token_source`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not_found",
            Self::Conflict { .. } => "conflict",
            Self::Gone { .. } => "gone",
            Self::RateLimited { .. } => "rate_limited",
            Self::Api { .. } => "api_error",
            Self::Timeout => "timeout",
            Self::Transport(_) => "transport",
            Self::Decode { .. } => "decode",
            Self::InvalidRequest { .. } => "invalid_request",
            Self::InvalidGrant { .. } => "invalid_grant",
            Self::OAuth { .. } => "oauth_error",
            Self::Config { .. } => "config",
            Self::TokenSource { .. } => "token_source",
        }
    }
}

fn description_suffix(description: &Option<String>) -> String {
    description.as_deref().map(|text| format!(": {text}")).unwrap_or_default()
}

impl Error {
    /// Creates a [`Error::TokenSource`] from a caller's error.
    pub fn token_source(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::TokenSource { message: message.into(), source: Some(source.into()) }
    }

    /// Whether sending the same request again later may succeed: rate limits, HTTP 500/502/503/504,
    /// timeouts and connection problems. The clients already retry these per their
    /// [`RetryPolicy`](crate::RetryPolicy); this is for callers deciding what to do afterwards.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Timeout => true,
            Self::Api { status, .. } => is_transient_status(*status),
            Self::Transport(source) => !(source.is_builder() || source.is_redirect() || source.is_status()),
            _ => false,
        }
    }

    /// Whether the request may have reached Google and been acted on even though no answer came
    /// back (timeouts, broken connections, 5xx). A rate-limit response or a connection that was
    /// never established means it was not.
    pub(crate) fn may_have_been_processed(&self) -> bool {
        match self {
            Self::Timeout => true,
            Self::Transport(source) => !source.is_connect(),
            Self::Api { status, .. } => status.is_server_error(),
            _ => false,
        }
    }

    /// Whether this failure proves the request was not processed, so even a non-idempotent
    /// request may be sent again: a rate limit, or a connection that was never established.
    pub(crate) fn is_retryable_without_side_effects(&self) -> bool {
        match self {
            Self::RateLimited { .. } => true,
            Self::Transport(source) => source.is_connect(),
            _ => false,
        }
    }

    /// Whether Google answered with its Calendar usage limits: 403 `quotaExceeded`, "Calendar
    /// usage limits exceeded." The account has written too much (too many events created or
    /// changed, too many invitations); the limit lifts after hours, not seconds, so this is never
    /// retried. Stop writing for the account for a while.
    pub fn is_usage_limit_exceeded(&self) -> bool {
        matches!(self, Self::Forbidden { reason, message } if is_usage_limit(reason, message))
    }

    /// The delay the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, for errors that came from a Calendar API response.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Unauthorized { .. } => Some(StatusCode::UNAUTHORIZED),
            Self::Forbidden { .. } => Some(StatusCode::FORBIDDEN),
            Self::NotFound { .. } => Some(StatusCode::NOT_FOUND),
            Self::Conflict { .. } => Some(StatusCode::CONFLICT),
            Self::Gone { .. } => Some(StatusCode::GONE),
            Self::Api { status, .. } => Some(*status),
            Self::Transport(source) => source.status(),
            _ => None,
        }
    }

    /// Google's reason code (`errors[0].reason`), for errors that came from a Calendar API
    /// response.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Forbidden { reason, .. }
            | Self::NotFound { reason, .. }
            | Self::Conflict { reason, .. }
            | Self::Gone { reason, .. }
            | Self::RateLimited { reason, .. }
            | Self::Api { reason, .. } => Some(reason),
            _ => None,
        }
    }

    /// Maps a reqwest error, turning its timeouts into [`Error::Timeout`].
    pub(crate) fn from_reqwest(source: reqwest::Error) -> Self {
        if source.is_timeout() { Self::Timeout } else { Self::Transport(source) }
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        Self::InvalidRequest { message: message.into() }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::Config { message: message.into() }
    }

    /// Maps a non-success Calendar API response. Never assumes the body is JSON.
    pub(crate) fn from_response(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let retry_after =
            headers.get(RETRY_AFTER).and_then(|value| value.to_str().ok()).and_then(parse_retry_after);
        let (reason, message) = match GoogleError::parse(body) {
            Some(google) => (google.reason(), google.message),
            None => (String::new(), text_of(body)),
        };
        match status {
            StatusCode::UNAUTHORIZED => Self::Unauthorized { message },
            StatusCode::TOO_MANY_REQUESTS => Self::RateLimited { reason, message, retry_after },
            // "Calendar usage limits exceeded" is not a rate: waiting seconds does not lift it,
            // whatever reason it comes with.
            StatusCode::FORBIDDEN if is_usage_limit(&reason, &message) => Self::Forbidden { reason, message },
            StatusCode::FORBIDDEN if is_rate_limit_reason(&reason) => {
                Self::RateLimited { reason, message, retry_after }
            }
            StatusCode::FORBIDDEN => Self::Forbidden { reason, message },
            StatusCode::NOT_FOUND => Self::NotFound { reason, message },
            StatusCode::CONFLICT => Self::Conflict { reason, message },
            StatusCode::GONE => Self::Gone { reason, message },
            _ => Self::Api { status, reason, message, retry_after },
        }
    }

    /// An error for a non-success response from an OAuth endpoint that is not an OAuth error
    /// document (5xx, 429, HTML...).
    pub(crate) fn from_oauth_http(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Self {
        let retry_after =
            headers.get(RETRY_AFTER).and_then(|value| value.to_str().ok()).and_then(parse_retry_after);
        let message = text_of(body);
        if status == StatusCode::TOO_MANY_REQUESTS {
            return Self::RateLimited { reason: String::new(), message, retry_after };
        }
        Self::Api { status, reason: String::new(), message, retry_after }
    }
}

fn is_transient_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// Google's Calendar usage limits: reason `quotaExceeded` (domain `usageLimits`), message
/// "Calendar usage limits exceeded."
fn is_usage_limit(reason: &str, message: &str) -> bool {
    reason == "quotaExceeded" || message.trim_start().starts_with("Calendar usage limits exceeded")
}

fn is_rate_limit_reason(reason: &str) -> bool {
    matches!(reason, "rateLimitExceeded" | "userRateLimitExceeded")
}

/// Google's JSON error (`{"error": {"code", "message", "errors": [...], "status"}}`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct GoogleError {
    message: String,
    status: String,
    errors: Vec<ErrorItem>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ErrorItem {
    reason: String,
}

#[derive(Deserialize)]
struct Envelope {
    error: GoogleError,
}

impl GoogleError {
    fn parse(body: &[u8]) -> Option<Self> {
        let value: Value = serde_json::from_slice(body).ok()?;
        let value = match value {
            Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
            other => other,
        };
        serde_json::from_value::<Envelope>(value).ok().map(|envelope| envelope.error)
    }

    fn reason(&self) -> String {
        self.errors
            .iter()
            .map(|item| item.reason.as_str())
            .find(|reason| !reason.is_empty())
            .unwrap_or(&self.status)
            .to_owned()
    }
}

/// The body as (lossy) text, trimmed and truncated, or a placeholder when empty.
pub(crate) fn text_of(body: &[u8]) -> String {
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

/// Parses `Retry-After` as delay-seconds (`"3"`, `"1.5"`) or an HTTP date.
fn parse_retry_after(text: &str) -> Option<Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let at = DateTime::parse_from_rfc2822(text).ok()?.with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
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

    fn google(code: u16, reason: &str, message: &str) -> Value {
        json!({"error": {"code": code, "message": message,
            "errors": [{"domain": "global", "reason": reason, "message": message}]}})
    }

    #[test]
    fn public_types_can_cross_threads() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_send_sync::<crate::Client>();
        assert_send_sync::<crate::Config>();
        assert_send_sync::<crate::OAuthClient>();
    }

    #[test]
    fn forbidden_rate_limits_are_rate_limits_and_other_403s_are_not() {
        let limited = classify(403, &google(403, "userRateLimitExceeded", "User Rate Limit Exceeded"));
        assert!(matches!(&limited, Error::RateLimited { reason, .. } if reason == "userRateLimitExceeded"));
        assert!(limited.is_retryable());
        let quota = classify(403, &google(403, "quotaExceeded", "Calendar usage limits exceeded."));
        assert!(matches!(&quota, Error::Forbidden { reason, .. } if reason == "quotaExceeded"));
        assert!(!quota.is_retryable());
        assert!(quota.is_usage_limit_exceeded());
        assert!(!limited.is_usage_limit_exceeded());
        // The same words under a rate-limit reason are still the usage limit: not retried.
        let worded = classify(403, &google(403, "rateLimitExceeded", "Calendar usage limits exceeded."));
        assert!(worded.is_usage_limit_exceeded() && !worded.is_retryable());
        let other = classify(403, &google(403, "forbiddenForNonOrganizer", "Shared properties..."));
        assert!(!other.is_usage_limit_exceeded());
    }

    #[test]
    fn reason_falls_back_to_status_string() {
        let error =
            classify(400, &json!({"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}));
        assert_eq!(error.reason(), Some("INVALID_ARGUMENT"));
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        let soon = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let delay = parse_retry_after(&soon).unwrap();
        assert!(delay > Duration::from_secs(25) && delay <= Duration::from_secs(30), "{delay:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn retry_after_header_is_kept_on_server_errors() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        let error = Error::from_response(StatusCode::SERVICE_UNAVAILABLE, &headers, b"<html>busy</html>");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(2)));
        assert!(error.is_retryable());
        assert!(error.may_have_been_processed());
        assert!(!error.is_retryable_without_side_effects());
    }

    #[test]
    fn long_text_bodies_are_truncated_on_a_char_boundary() {
        let body = "é".repeat(MAX_TEXT_BODY);
        let text = text_of(body.as_bytes());
        assert!(text.len() <= MAX_TEXT_BODY + "…".len());
        assert!(text.ends_with('…'));
        assert_eq!(text_of(b"  "), "(empty body)");
    }
}
