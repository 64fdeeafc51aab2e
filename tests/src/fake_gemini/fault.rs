//! Scripted failures and the exact error bodies Gemini sends for them.

use std::time::Duration;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

/// One scripted misbehaviour, applied to exactly one later `generateContent`,
/// `streamGenerateContent`, `embedContent` or `batchEmbedContents` request (FIFO). `countTokens`
/// never takes a fault. The embedding routes answer the error faults, the latency and
/// `MalformedJson` (a cut-off JSON body), and answer normally for the others.
///
/// Over HTTP (`POST /_fake/faults`) a fault is written `{"fault": "rate_limited",
/// "retry_delay_ms": 50}`, `{"fault": "latency", "ms": 200}`, or just its name: `"unavailable"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally, but only after this extra delay.
    Latency(Duration),
    /// 429 `RESOURCE_EXHAUSTED` with a per-minute `QuotaFailure` and a `RetryInfo.retryDelay`.
    RateLimited {
        /// The delay sent in `retryDelay` (e.g. `"0.05s"`).
        retry_delay: Duration,
    },
    /// 429 `RESOURCE_EXHAUSTED` whose `QuotaFailure` names the per-day quota
    /// (`GenerateRequestsPerDayPerProjectPerModel-FreeTier`): not worth retrying today.
    DailyQuota,
    /// 503 `UNAVAILABLE`, "The model is overloaded".
    Unavailable,
    /// 500 with an HTML body, as Google's front end sends it (not JSON).
    ServerError,
    /// 200 whose candidate text is not valid JSON (a cut-off Markdown code fence).
    MalformedJson,
    /// 200 with JSON that fits the schema's shape but breaks its bounds: integers far outside
    /// `minimum`/`maximum` (a plan task gets `duration_minutes` 5 and `day_offset` 9999), arrays
    /// outside `minItems`/`maxItems`. Without a schema, a fixed invalid plan.
    InvalidPlan,
    /// 200 whose candidate stopped with `finishReason: SAFETY`, no content, and safety ratings
    /// (in a stream: one text chunk first, then the blocked chunk).
    SafetyBlock,
    /// 200 with `promptFeedback.blockReason: SAFETY` and no candidates.
    PromptBlocked,
    /// 200 with `finishReason: MAX_TOKENS` and only the first half of the answer.
    MaxTokens,
    /// For a stream: one chunk, then the body ends cleanly without any `finishReason`.
    /// A unary request that takes this fault is answered normally.
    TruncatedStream,
    /// 400 `API_KEY_INVALID`, even though the right key was sent.
    BadKey,
    /// For a stream: the normal chunks, with this pause before each chunk after the first (so a
    /// test can hang up mid-stream). A unary request that takes this fault is answered normally.
    SlowStream(Duration),
    /// 200 whose candidate text is exactly this (whatever the schema), e.g. a plan whose
    /// `day_offset`s lie past the plan, or JSON in a Markdown code fence.
    Text(String),
}

impl Fault {
    /// The extra delay this fault adds before answering.
    pub(super) fn delay(&self) -> Duration {
        match self {
            Self::Latency(delay) => *delay,
            _ => Duration::ZERO,
        }
    }

    /// The HTTP error this fault answers with, for the faults that are errors.
    pub(super) fn error_response(&self) -> Option<HttpResponse> {
        match self {
            Self::RateLimited { retry_delay } => Some(rate_limited(*retry_delay)),
            Self::DailyQuota => Some(daily_quota()),
            Self::Unavailable => Some(google_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "The model is overloaded. Please try again later.",
                "UNAVAILABLE",
                None,
            )),
            Self::ServerError => Some(server_error_html()),
            Self::BadKey => Some(api_key_invalid()),
            Self::Latency(_)
            | Self::MalformedJson
            | Self::InvalidPlan
            | Self::SafetyBlock
            | Self::PromptBlocked
            | Self::MaxTokens
            | Self::TruncatedStream
            | Self::SlowStream(_)
            | Self::Text(_) => None,
        }
    }
}

/// The JSON form of a [`Fault`] used by the admin endpoints.
#[derive(Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "snake_case")]
enum FaultSpec {
    Latency {
        ms: u64,
    },
    RateLimited {
        #[serde(default = "default_retry_delay_ms")]
        retry_delay_ms: u64,
    },
    DailyQuota,
    Unavailable,
    ServerError,
    MalformedJson,
    InvalidPlan,
    SafetyBlock,
    PromptBlocked,
    MaxTokens,
    TruncatedStream,
    BadKey,
    SlowStream {
        ms: u64,
    },
    Text {
        text: String,
    },
}

fn default_retry_delay_ms() -> u64 {
    50
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl From<&Fault> for FaultSpec {
    fn from(fault: &Fault) -> Self {
        match fault {
            Fault::Latency(delay) => Self::Latency { ms: millis(*delay) },
            Fault::RateLimited { retry_delay } => Self::RateLimited { retry_delay_ms: millis(*retry_delay) },
            Fault::DailyQuota => Self::DailyQuota,
            Fault::Unavailable => Self::Unavailable,
            Fault::ServerError => Self::ServerError,
            Fault::MalformedJson => Self::MalformedJson,
            Fault::InvalidPlan => Self::InvalidPlan,
            Fault::SafetyBlock => Self::SafetyBlock,
            Fault::PromptBlocked => Self::PromptBlocked,
            Fault::MaxTokens => Self::MaxTokens,
            Fault::TruncatedStream => Self::TruncatedStream,
            Fault::BadKey => Self::BadKey,
            Fault::SlowStream(pause) => Self::SlowStream { ms: millis(*pause) },
            Fault::Text(text) => Self::Text { text: text.clone() },
        }
    }
}

impl From<FaultSpec> for Fault {
    fn from(spec: FaultSpec) -> Self {
        match spec {
            FaultSpec::Latency { ms } => Self::Latency(Duration::from_millis(ms)),
            FaultSpec::RateLimited { retry_delay_ms } => {
                Self::RateLimited { retry_delay: Duration::from_millis(retry_delay_ms) }
            }
            FaultSpec::DailyQuota => Self::DailyQuota,
            FaultSpec::Unavailable => Self::Unavailable,
            FaultSpec::ServerError => Self::ServerError,
            FaultSpec::MalformedJson => Self::MalformedJson,
            FaultSpec::InvalidPlan => Self::InvalidPlan,
            FaultSpec::SafetyBlock => Self::SafetyBlock,
            FaultSpec::PromptBlocked => Self::PromptBlocked,
            FaultSpec::MaxTokens => Self::MaxTokens,
            FaultSpec::TruncatedStream => Self::TruncatedStream,
            FaultSpec::BadKey => Self::BadKey,
            FaultSpec::SlowStream { ms } => Self::SlowStream(Duration::from_millis(ms)),
            FaultSpec::Text { text } => Self::Text(text),
        }
    }
}

impl Serialize for Fault {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        FaultSpec::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = match Value::deserialize(deserializer)? {
            Value::String(name) => json!({ "fault": name }),
            other => other,
        };
        FaultSpec::deserialize(value).map(Self::from).map_err(serde::de::Error::custom)
    }
}

/// A protobuf `Duration` in JSON form: whole seconds with an optional fraction, e.g. `"17s"`,
/// `"0.05s"`.
pub(super) fn proto_duration(duration: Duration) -> String {
    let nanos = duration.subsec_nanos();
    if nanos == 0 {
        return format!("{}s", duration.as_secs());
    }
    let fraction = format!("{nanos:09}");
    format!("{}.{}s", duration.as_secs(), fraction.trim_end_matches('0'))
}

/// Google's JSON error envelope.
pub(super) fn google_error(
    status: StatusCode,
    message: &str,
    code: &str,
    details: Option<Value>,
) -> HttpResponse {
    let mut error = json!({ "code": status.as_u16(), "message": message, "status": code });
    if let (Some(details), Value::Object(map)) = (details, &mut error) {
        map.insert("details".to_owned(), details);
    }
    HttpResponse::build(status)
        .content_type("application/json; charset=UTF-8")
        .body(json!({ "error": error }).to_string())
}

/// 400 `API_KEY_INVALID`: a missing or wrong `x-goog-api-key`.
pub(super) fn api_key_invalid() -> HttpResponse {
    google_error(
        StatusCode::BAD_REQUEST,
        "API key not valid. Please pass a valid API key.",
        "INVALID_ARGUMENT",
        Some(json!([{
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": { "service": "generativelanguage.googleapis.com" }
        }])),
    )
}

fn rate_limited(retry_delay: Duration) -> HttpResponse {
    google_error(
        StatusCode::TOO_MANY_REQUESTS,
        "Resource has been exhausted (e.g. check quota).",
        "RESOURCE_EXHAUSTED",
        Some(json!([
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                    "quotaDimensions": { "location": "global" },
                    "quotaValue": "10"
                }]
            },
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": proto_duration(retry_delay)
            }
        ])),
    )
}

fn daily_quota() -> HttpResponse {
    google_error(
        StatusCode::TOO_MANY_REQUESTS,
        "You exceeded your current quota, please check your plan and billing details. For more \
         information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        "RESOURCE_EXHAUSTED",
        Some(json!([
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    "quotaDimensions": { "location": "global" },
                    "quotaValue": "250"
                }]
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [{
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits"
                }]
            }
        ])),
    )
}

fn server_error_html() -> HttpResponse {
    HttpResponse::InternalServerError().content_type("text/html; charset=UTF-8").body(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 500 (Server Error)!!1</title>\n  \
         <p><b>500.</b> <ins>That\u{2019}s an error.</ins>\n  <p>There was an error. Please try again later. \
         <ins>That\u{2019}s all we know.</ins>\n",
    )
}
