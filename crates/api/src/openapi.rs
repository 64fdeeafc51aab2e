//! The OpenAPI document: paths come from the registered services (utoipa-actix-web), this file
//! adds the document's metadata, the bearer scheme and the reusable problem responses.

use actix_web::App;
use utoipa::{
    IntoResponses, Modify, OpenApi,
    openapi::security::{Http, HttpAuthScheme, SecurityScheme},
};
use utoipa_actix_web::AppExt;

use crate::error::{Problem, ProblemField};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Planwright API",
        description = "Backend of the Planwright planning assistant. Every `/api/v1` route needs \
            `Authorization: Bearer <access_token>` unless marked public; get a token from \
            `POST /api/v1/auth/register` or `POST /api/v1/auth/login`. Errors are RFC 9457 \
            `application/problem+json` with a human `detail` and a machine `code`. Input rules for \
            every route: text (in bodies, object keys and query parameters) carries no U+0000 or \
            other C0 control character except tab and line breaks (else a 422 naming the field); \
            dates are `YYYY-MM-DD` with a four-digit year; date-times are RFC 3339 with an offset.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem, ProblemField)),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, login, token rotation and the caller's profile."),
        (name = "plans", description = "Goal to plan: generate, review, edit, delete."),
        (name = "tasks", description = "The task manager, with AI breakdown into sub-tasks."),
        (name = "calendar", description = "Calendars: the built-in one and Google (OAuth connection, sync, push), upcoming events, new events, the ICS feed."),
        (name = "chat", description = "Chat sessions grounded on the knowledge base and the caller's resources and plans, with streaming."),
        (name = "knowledge", description = "The knowledge base: your documents and read-only global ones, ranked search."),
        (name = "resources", description = "The caller's own material (any JSON), by class and type."),
        (name = "system", description = "Liveness, readiness and metrics (public).")
    )
)]
struct ApiDoc;

/// Name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description =
            Some("An access token from `POST /api/v1/auth/login` (valid 30 minutes).".to_owned());
        components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    }
}

/// The whole document, collected from the same route registration the server uses.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, openapi) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes::configure)
        .split_for_parts();
    openapi
}

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
