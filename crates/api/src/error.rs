//! The one error type of the HTTP API, answered as RFC 9457 `application/problem+json`.

use actix_web::{
    HttpResponse, ResponseError,
    http::{StatusCode, header},
};
use planwright_domain::{FieldError, ValidationErrors};
use planwright_store::StoreError;
use serde::Serialize;
use utoipa::{IntoResponses, ToSchema};

use crate::services::ai::AiError;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem: what went wrong, in words a person can act on.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:planwright:problem:validation_failed",
    "title": "Unprocessable Entity",
    "status": 422,
    "detail": "The request has 1 invalid field.",
    "code": "validation_failed",
    "errors": [{"field": "password", "message": "A password needs at least 8 characters."}],
    "request_id": "0193a5c2-7d4e-7b61-9f0a-2c8e4d6b1a37"
}))]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP reason phrase.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// A human sentence explaining this occurrence.
    pub detail: String,
    /// A stable machine code (`validation_failed`, `unauthorized`, ...).
    pub code: String,
    /// The fields that failed validation, when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// The request's id, as in the `x-request-id` header: quote it when reporting a problem (it
    /// finds the request's log lines).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "0193a5c2-7d4e-7b61-9f0a-2c8e4d6b1a37")]
    pub request_id: Option<String>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field's path in the request (`email`, `working_hours.days`).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl Problem {
    /// A problem with a status, a machine code and a human detail.
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        let detail = single_stops(detail.into());
        Self {
            kind: format!("urn:planwright:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            code: code.to_owned(),
            errors: Vec::new(),
            // Filled in by the request-id middleware, which knows the id.
            request_id: None,
        }
    }

    /// The problem as a response with the problem media type.
    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status).content_type(PROBLEM_JSON).json(self)
    }
}

/// `detail` with every run of full stops made one, so that a sentence built from parts that end
/// in a stop (a field's message, an upstream reason) never reads `..`.
fn single_stops(detail: String) -> String {
    if !detail.contains("..") {
        return detail;
    }
    let mut tidy = String::with_capacity(detail.len());
    for c in detail.chars() {
        if !(c == '.' && tidy.ends_with('.')) {
            tidy.push(c);
        }
    }
    tidy
}

/// Everything a handler can fail with. Each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON, or a parameter cannot be read.
    #[error("{detail}")]
    BadRequest {
        /// What to fix.
        detail: String,
        /// The parameter at fault, when one is known.
        field: Option<String>,
    },
    /// 401: no token, a bad or expired one, or wrong credentials.
    #[error("{detail}")]
    Unauthorized {
        /// Machine code (`unauthorized`, `token_expired`, `invalid_credentials`, ...).
        code: &'static str,
        /// What to do about it.
        detail: String,
    },
    /// 403: the object is visible to the caller but not theirs to change (a global document).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such resource, or it belongs to someone else.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The method that was tried.
        method: String,
        /// The methods the path answers to.
        allowed: Vec<String>,
    },
    /// 409: the request clashes with existing data.
    #[error("{detail}")]
    Conflict {
        /// Machine code (`email_taken`, ...).
        code: &'static str,
        /// What clashed.
        detail: String,
    },
    /// 413: the body is larger than the configured limit.
    #[error("payload too large")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not sent as JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 422: the body is well-formed but some fields are invalid.
    #[error("validation failed: {0}")]
    Validation(ValidationErrors),
    /// 429: too many requests; try again after the given seconds.
    #[error("rate limited")]
    RateLimited {
        /// Seconds until the window resets.
        retry_after_secs: u64,
    },
    /// 429: the caller's daily AI token budget is spent.
    #[error("AI budget exhausted")]
    AiBudgetExhausted {
        /// Seconds until the budget renews (UTC midnight).
        retry_after_secs: u64,
    },
    /// 422: the AI declined the request (safety).
    #[error("{0}")]
    AiDeclined(String),
    /// 502: an upstream service answered with something unusable.
    #[error("{0}")]
    BadGateway(String),
    /// 503: a dependency (the database, an upstream) is not answering.
    #[error("{0}")]
    Unavailable(String),
    /// 504: an upstream service did not answer in time.
    #[error("{0}")]
    GatewayTimeout(String),
    /// 500: a bug or an unexpected failure; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// A 400 about one named parameter.
    pub fn bad_request(field: Option<&str>, detail: impl Into<String>) -> Self {
        Self::BadRequest { detail: detail.into(), field: field.map(str::to_owned) }
    }

    /// A 401 with the generic code.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized { code: "unauthorized", detail: detail.into() }
    }

    /// A 500 wrapping any error.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// The problem body for this error.
    pub fn problem(&self) -> Problem {
        let status = self.status_code();
        match self {
            Self::BadRequest { detail, field } => {
                let mut problem = Problem::new(status, "bad_request", detail.clone());
                if let Some(field) = field {
                    problem.errors.push(ProblemField { field: field.clone(), message: detail.clone() });
                }
                problem
            }
            Self::Unauthorized { code, detail } => Problem::new(status, code, detail.clone()),
            Self::Forbidden(detail) => Problem::new(status, "forbidden", detail.clone()),
            Self::NotFound(detail) => Problem::new(status, "not_found", detail.clone()),
            Self::MethodNotAllowed { method, allowed } => Problem::new(
                status,
                "method_not_allowed",
                format!("This path does not answer to {method}; it answers to {}.", allowed.join(", ")),
            ),
            Self::Conflict { code, detail } => Problem::new(status, code, detail.clone()),
            Self::PayloadTooLarge { limit } => Problem::new(
                status,
                "payload_too_large",
                format!("The request body is larger than the limit of {limit} bytes."),
            ),
            Self::UnsupportedMediaType => Problem::new(
                status,
                "unsupported_media_type",
                "Send the request body as JSON with the header 'Content-Type: application/json'.",
            ),
            Self::Validation(errors) => {
                let count = errors.errors().len();
                let detail = match errors.errors() {
                    [only] => format!("{}: {}", only.field, only.message),
                    _ => {
                        let fields: Vec<String> = errors
                            .errors()
                            .iter()
                            .map(|e| format!("{}: {}", e.field, e.message.trim_end_matches('.')))
                            .collect();
                        format!("The request has {count} invalid fields: {}.", fields.join("; "))
                    }
                };
                let mut problem = Problem::new(status, "validation_failed", detail);
                problem.errors = errors
                    .errors()
                    .iter()
                    .map(|e| ProblemField { field: e.field.clone(), message: e.message.clone() })
                    .collect();
                problem
            }
            Self::RateLimited { retry_after_secs } => Problem::new(
                status,
                "rate_limited",
                format!("Too many requests. Try again in {retry_after_secs} seconds."),
            ),
            Self::AiBudgetExhausted { retry_after_secs } => Problem::new(
                status,
                "ai_budget_exhausted",
                format!(
                    "Your daily AI budget is spent. It renews in {retry_after_secs} seconds (at midnight UTC)."
                ),
            ),
            Self::AiDeclined(detail) => Problem::new(status, "ai_declined", detail.clone()),
            Self::BadGateway(detail) => Problem::new(status, "bad_gateway", detail.clone()),
            Self::Unavailable(detail) => Problem::new(status, "service_unavailable", detail.clone()),
            Self::GatewayTimeout(detail) => Problem::new(status, "gateway_timeout", detail.clone()),
            Self::Internal(_) => Problem::new(
                status,
                "internal_error",
                "Something went wrong on our side. It has been logged; please try again later.",
            ),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RateLimited { .. } | Self::AiBudgetExhausted { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::AiDeclined(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = %format!("{cause:#}"), "request failed with an internal error");
        }
        let mut response = self.problem().into_response();
        let headers = response.headers_mut();
        match self {
            Self::Unauthorized { .. } => {
                headers.insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
            }
            Self::RateLimited { retry_after_secs } | Self::AiBudgetExhausted { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after_secs));
            }
            Self::MethodNotAllowed { allowed, .. } => {
                if let Ok(value) = header::HeaderValue::from_str(&allowed.join(", ")) {
                    headers.insert(header::ALLOW, value);
                }
            }
            _ => {}
        }
        response
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Validation(errors)
    }
}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::Validation(error.into())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => Self::NotFound("The requested resource does not exist.".to_owned()),
            StoreError::Conflict(what) => {
                Self::Conflict { code: "conflict", detail: format!("Conflict: {what}.") }
            }
            StoreError::InvalidCursor => Self::bad_request(
                Some("cursor"),
                "The cursor is not one this server issued; start again without it.",
            ),
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                Self::Unavailable("The database is not answering. Please try again shortly.".to_owned())
            }
            other => Self::Internal(other.into()),
        }
    }
}

// ---- one vocabulary for the common answers ------------------------------------------------

/// The kinds of object a request can name by id; each has one "not found" sentence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// A plan.
    Plan,
    /// A task.
    Task,
    /// A chat session.
    ChatSession,
    /// A proposed chat action.
    ChatAction,
    /// A resource.
    Resource,
    /// A knowledge document.
    Document,
    /// A calendar connection.
    CalendarConnection,
    /// A calendar event.
    Event,
}

impl Missing {
    /// The 404 sentence for this kind of object.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Plan => "No plan with this id.",
            Self::Task => "No task with this id.",
            Self::ChatSession => "There is no chat session with this id.",
            Self::ChatAction => "There is no proposed action with this id in this chat session.",
            Self::Resource => "No resource with this id.",
            Self::Document => "No document with this id.",
            Self::CalendarConnection => "There is no calendar connection with this id.",
            Self::Event => "No calendar event with this id.",
        }
    }
}

/// A store error with "not found" told as a 404 about `kind` (for `.map_err(not_found(..))`);
/// every other store error maps as usual.
pub fn not_found(kind: Missing) -> impl Fn(StoreError) -> ApiError {
    move |error| match error {
        StoreError::NotFound => ApiError::NotFound(kind.detail().to_owned()),
        other => other.into(),
    }
}

impl ApiError {
    /// The 409 `calendar_needs_reauth`: Google no longer accepts the connection's grant.
    pub fn calendar_needs_reauth() -> Self {
        Self::Conflict {
            code: "calendar_needs_reauth",
            detail: "Google no longer accepts this calendar connection. Connect Google Calendar again."
                .to_owned(),
        }
    }
}

impl From<AiError> for ApiError {
    /// A provider failure as the answer a person can act on.
    fn from(error: AiError) -> Self {
        match error {
            AiError::Declined(reason) => Self::AiDeclined(format!(
                "The AI declined this request ({reason}). Rephrase it and try again."
            )),
            AiError::BadOutput { .. } => Self::BadGateway(
                "The AI returned an answer that could not be used. Please try again.".to_owned(),
            ),
            AiError::ModelNotFound { model, fallbacks } => {
                let tried = if fallbacks.is_empty() {
                    String::new()
                } else {
                    format!(" (nor do the fallbacks {})", fallbacks.join(", "))
                };
                Self::Unavailable(format!(
                    "The AI model \"{model}\" does not exist or has been retired by Google{tried}. \
                     An operator must set ai.model (PLANWRIGHT__AI__MODEL) to a current model."
                ))
            }
            AiError::Unavailable(_) => Self::Unavailable(
                "The AI service is unavailable right now. Please try again in a minute.".to_owned(),
            ),
            AiError::Timeout => {
                Self::GatewayTimeout("The AI service did not answer in time. Please try again.".to_owned())
            }
            AiError::Upstream(_) => {
                Self::BadGateway("The AI service failed to answer. Please try again.".to_owned())
            }
        }
    }
}

// ---- the problem responses routes declare in the OpenAPI document --------------------------

/// Failures any route can answer with.
#[derive(Debug, IntoResponses)]
pub enum ServerProblems {
    /// An unexpected failure; the cause is logged under the `x-request-id`, never returned.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(Problem),
    /// The database is not answering; retry shortly.
    #[response(status = 503, content_type = "application/problem+json")]
    Unavailable(Problem),
}

/// Failures of routes that need a bearer token.
#[derive(Debug, IntoResponses)]
pub enum AuthProblems {
    /// No token, a malformed or expired one, or the account no longer exists.
    #[response(status = 401, content_type = "application/problem+json",
        headers(("WWW-Authenticate" = String, description = "Always `Bearer`.")))]
    Unauthorized(Problem),
}

/// Failures of routes that read a JSON body.
#[derive(Debug, IntoResponses)]
pub enum BodyProblems {
    /// The body is not valid JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(Problem),
    /// The body is larger than `server.json_body_limit_bytes`.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not sent as `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    NotJson(Problem),
    /// Fields are missing, mistyped or invalid (a control character in text, a date not
    /// `YYYY-MM-DD`, a date-time without an offset); `errors` names each one.
    #[response(status = 422, content_type = "application/problem+json")]
    Invalid(Problem),
}

/// Failures of routes that read query parameters (besides their own 400s for values out of range).
#[derive(Debug, IntoResponses)]
pub enum QueryProblems {
    /// A parameter holds U+0000 or another control character; `errors` names it.
    #[response(status = 422, content_type = "application/problem+json")]
    ControlCharacter(Problem),
}

/// Failures of routes that ask the AI (a request the AI declines is a 422, `code` `ai_declined`).
#[derive(Debug, IntoResponses)]
pub enum AiProblems {
    /// Too many AI requests in the current window (`rate_limited`), or the caller's daily AI
    /// token budget is spent (`ai_budget_exhausted`).
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds until the window ends or the budget renews (midnight UTC).")))]
    BudgetSpent(Problem),
    /// The AI's answer could not be used, even after one retry.
    #[response(status = 502, content_type = "application/problem+json")]
    BadAnswer(Problem),
    /// The AI service did not answer in time.
    #[response(status = 504, content_type = "application/problem+json")]
    TooSlow(Problem),
}

/// Failures of rate-limited routes.
#[derive(Debug, IntoResponses)]
pub enum RateLimitProblems {
    /// Too many requests from this address or for this account.
    #[response(status = 429, content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds until the limit resets.")))]
    TooMany(Problem),
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    fn body_of(error: &ApiError) -> serde_json::Value {
        let response = error.error_response();
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap_or_default()
    }

    #[test]
    fn validation_error_lists_every_field() {
        let errors = [FieldError::new("email", "bad"), FieldError::new("password", "short")];
        let body = body_of(&ApiError::Validation(errors.into_iter().collect()));
        assert_eq!(
            body,
            serde_json::json!({
                "type": "urn:planwright:problem:validation_failed",
                "title": "Unprocessable Entity",
                "status": 422,
                "detail": "The request has 2 invalid fields: email: bad; password: short.",
                "code": "validation_failed",
                "errors": [
                    {"field": "email", "message": "bad"},
                    {"field": "password", "message": "short"}
                ]
            })
        );
    }

    #[test]
    fn details_never_read_two_full_stops() {
        let errors = [
            FieldError::new("title", "At most 200 characters."),
            FieldError::new("due_at", "Use RFC 3339 with an offset."),
        ];
        let body = body_of(&ApiError::Validation(errors.into_iter().collect()));
        assert_eq!(
            body["detail"],
            "The request has 2 invalid fields: title: At most 200 characters; due_at: Use RFC 3339 with an offset."
        );
        let body = body_of(&ApiError::BadGateway("The upstream said: timed out.. Try later...".into()));
        assert_eq!(body["detail"], "The upstream said: timed out. Try later.");
    }

    #[test]
    fn internal_error_hides_its_cause() {
        let error = ApiError::internal(anyhow::anyhow!("password=hunter2 at db.rs:42"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
            Some(PROBLEM_JSON)
        );
        let text = body_of(&error).to_string();
        assert!(!text.contains("hunter2") && !text.contains("db.rs"), "{text}");
        assert_eq!(body_of(&error)["code"], "internal_error");
    }

    #[test]
    fn rate_limited_sets_retry_after() {
        let response = ApiError::RateLimited { retry_after_secs: 17 }.error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("17"));
    }

    #[test]
    fn unauthorized_asks_for_a_bearer_token() {
        let response = ApiError::unauthorized("no token").error_response();
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        assert_eq!(body_of(&ApiError::unauthorized("no token"))["detail"], "no token");
    }

    #[test]
    fn method_not_allowed_lists_allowed_methods() {
        let error =
            ApiError::MethodNotAllowed { method: "PUT".into(), allowed: vec!["GET".into(), "PATCH".into()] };
        let response = error.error_response();
        assert_eq!(response.headers().get(header::ALLOW).and_then(|v| v.to_str().ok()), Some("GET, PATCH"));
        assert_eq!(body_of(&error)["detail"], "This path does not answer to PUT; it answers to GET, PATCH.");
    }
}
