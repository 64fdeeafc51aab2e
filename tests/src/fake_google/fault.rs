//! Scripted failures of the fake Google, and the answers Google sends for them.

use std::time::Duration;

use actix_web::HttpResponse;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

use super::error::{ApiError, server_error_html};

/// Path prefix a [`FaultRule`] without a `path` applies to: the Calendar API only, so the OAuth
/// endpoints keep working unless a rule names them.
pub(super) const CALENDAR_PREFIX: &str = "/calendar/v3";

/// One scripted misbehaviour of one call.
///
/// Over HTTP (`POST /_fake/faults`) a fault is written by name (`"backend_error"`) or as an
/// object with its fields: `{"fault": "rate_limited", "retry_after_secs": 2}`,
/// `{"fault": "latency", "ms": 200}`, `{"fault": "error", "code": 404, "reason": "notFound",
/// "message": "Not Found"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer normally, but only after this extra delay.
    Latency(Duration),
    /// 429 `rateLimitExceeded` (domain `usageLimits`), with `Retry-After` when set.
    RateLimited {
        /// Sent as `Retry-After` (whole seconds, rounded up) when given.
        retry_after: Option<Duration>,
    },
    /// 403 `rateLimitExceeded`: the per-calendar or per-user rate, Google's usual 403 throttle.
    RateLimitExceeded,
    /// 403 `userRateLimitExceeded`: a per-user quota of the Cloud project.
    UserRateLimitExceeded,
    /// 403 `quotaExceeded`: "Calendar usage limits exceeded."
    QuotaExceeded,
    /// 503 `backendError`.
    BackendError,
    /// 500 with Google's HTML error page (not JSON).
    ServerError,
    /// 401 `authError`, even though the token is fine.
    Unauthorized,
    /// 200 OK whose body is cut-off JSON: an answer that cannot be read.
    Malformed,
    /// Any Calendar-style JSON error.
    Error {
        /// HTTP status.
        code: u16,
        /// `errors[0].reason`.
        reason: String,
        /// The message.
        message: String,
    },
}

impl Fault {
    /// The extra delay this fault adds before answering.
    pub(super) fn delay(&self) -> Duration {
        match self {
            Self::Latency(delay) => *delay,
            _ => Duration::ZERO,
        }
    }

    /// The answer, for the faults that replace it.
    pub(super) fn error_response(&self) -> Option<HttpResponse> {
        let error = match self {
            Self::Latency(_) => return None,
            Self::ServerError => return Some(server_error_html()),
            Self::Malformed => {
                return Some(
                    HttpResponse::Ok()
                        .content_type("application/json; charset=UTF-8")
                        .body(r#"{"kind": "calendar#"#),
                );
            }
            Self::RateLimited { retry_after } => {
                let mut error = ApiError::new(429, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded");
                error.retry_after = retry_after.map(|delay| {
                    let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
                    u32::try_from(seconds).unwrap_or(u32::MAX)
                });
                error
            }
            Self::RateLimitExceeded => {
                ApiError::new(403, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded")
            }
            Self::UserRateLimitExceeded => {
                ApiError::new(403, "usageLimits", "userRateLimitExceeded", "User Rate Limit Exceeded")
            }
            Self::QuotaExceeded => {
                ApiError::new(403, "usageLimits", "quotaExceeded", "Calendar usage limits exceeded.")
            }
            Self::BackendError => ApiError::new(503, "global", "backendError", "Backend Error"),
            Self::Unauthorized => ApiError::auth_error(),
            Self::Error { code, reason, message } => ApiError::new(*code, "global", reason, message),
        };
        Some(error.response())
    }
}

/// A fault with a scope: how many calls take it, and which ones.
///
/// ```
/// use planwright_tests::fake_google::{Fault, FaultRule};
/// // The next three event inserts answer 503; other calls are not affected.
/// let rule = FaultRule::new(Fault::BackendError).times(3).method("POST").path("/events");
/// # let _ = rule;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultRule {
    /// What happens.
    pub fault: Fault,
    /// How many more calls take it.
    pub times: usize,
    /// Only calls with this HTTP method (any when `None`).
    pub method: Option<String>,
    /// Only calls whose path contains this text. When `None`, any Calendar API call
    /// (`/calendar/v3/...`) but no OAuth call.
    pub path: Option<String>,
}

impl FaultRule {
    /// The fault, once, for the next Calendar API call.
    pub fn new(fault: Fault) -> Self {
        Self { fault, times: 1, method: None, path: None }
    }

    /// Applies to the next `times` matching calls.
    #[must_use]
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    /// Applies only to calls with this method (`GET`, `POST`, ...).
    #[must_use]
    pub fn method(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }

    /// Applies only to calls whose path contains `path` (e.g. `/events`, `/freeBusy`, `/token`).
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.path = Some(path.to_owned());
        self
    }

    pub(super) fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_ref().is_none_or(|wanted| wanted.eq_ignore_ascii_case(method));
        let path_ok = match &self.path {
            Some(part) => path.contains(part.as_str()),
            None => path.starts_with(CALENDAR_PREFIX),
        };
        method_ok && path_ok && self.times > 0
    }
}

impl From<Fault> for FaultRule {
    fn from(fault: Fault) -> Self {
        Self::new(fault)
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_secs: Option<u64>,
    },
    RateLimitExceeded,
    UserRateLimitExceeded,
    QuotaExceeded,
    BackendError,
    ServerError,
    Unauthorized,
    Malformed,
    Error {
        code: u16,
        reason: String,
        #[serde(default)]
        message: String,
    },
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl From<&Fault> for FaultSpec {
    fn from(fault: &Fault) -> Self {
        match fault {
            Fault::Latency(delay) => Self::Latency { ms: millis(*delay) },
            Fault::RateLimited { retry_after } => {
                Self::RateLimited { retry_after_secs: retry_after.map(|delay| delay.as_secs()) }
            }
            Fault::RateLimitExceeded => Self::RateLimitExceeded,
            Fault::UserRateLimitExceeded => Self::UserRateLimitExceeded,
            Fault::QuotaExceeded => Self::QuotaExceeded,
            Fault::BackendError => Self::BackendError,
            Fault::ServerError => Self::ServerError,
            Fault::Unauthorized => Self::Unauthorized,
            Fault::Malformed => Self::Malformed,
            Fault::Error { code, reason, message } => {
                Self::Error { code: *code, reason: reason.clone(), message: message.clone() }
            }
        }
    }
}

impl From<FaultSpec> for Fault {
    fn from(spec: FaultSpec) -> Self {
        match spec {
            FaultSpec::Latency { ms } => Self::Latency(Duration::from_millis(ms)),
            FaultSpec::RateLimited { retry_after_secs } => {
                Self::RateLimited { retry_after: retry_after_secs.map(Duration::from_secs) }
            }
            FaultSpec::RateLimitExceeded => Self::RateLimitExceeded,
            FaultSpec::UserRateLimitExceeded => Self::UserRateLimitExceeded,
            FaultSpec::QuotaExceeded => Self::QuotaExceeded,
            FaultSpec::BackendError => Self::BackendError,
            FaultSpec::ServerError => Self::ServerError,
            FaultSpec::Unauthorized => Self::Unauthorized,
            FaultSpec::Malformed => Self::Malformed,
            FaultSpec::Error { code, reason, message } => {
                let message = if message.is_empty() { reason.clone() } else { message };
                Self::Error { code, reason, message }
            }
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

/// A rule as JSON: the fault's fields plus optional `times`, `method` and `path`.
impl Serialize for FaultRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.fault).map_err(serde::ser::Error::custom)?;
        if let Value::Object(map) = &mut value {
            map.insert("times".to_owned(), json!(self.times));
            if let Some(method) = &self.method {
                map.insert("method".to_owned(), json!(method));
            }
            if let Some(path) = &self.path {
                map.insert("path".to_owned(), json!(path));
            }
        }
        value.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FaultRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let times = match value.get("times") {
            None | Some(Value::Null) => 1,
            Some(times) => times
                .as_u64()
                .and_then(|times| usize::try_from(times).ok())
                .ok_or_else(|| serde::de::Error::custom("`times` must be a non-negative integer"))?,
        };
        let method = text("method").map(|method| method.to_ascii_uppercase());
        let path = text("path");
        let fault = Fault::deserialize(value).map_err(serde::de::Error::custom)?;
        Ok(Self { fault, times, method, path })
    }
}
