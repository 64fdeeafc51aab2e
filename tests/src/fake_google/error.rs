//! Google's two error shapes: the Calendar v3 envelope
//! (`{"error":{"code","message","errors":[{"domain","reason","message"}],"status"}}`) and the
//! OAuth endpoints' flat `{"error","error_description"}`.

use std::fmt;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// One Calendar API error, as Google reports it. Returned by the fake's seeding methods too, so a
/// test sees the same reason the API would have answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// HTTP status, e.g. 410.
    pub code: u16,
    /// `errors[0].domain`: `global`, `calendar`, `usageLimits`, `push`.
    pub domain: &'static str,
    /// `errors[0].reason`, e.g. `fullSyncRequired`, `duplicate`, `notFound`.
    pub reason: String,
    /// The human message (`error.message` and `errors[0].message`).
    pub message: String,
    /// `errors[0].locationType`: `parameter` or `header`, when Google names one.
    pub location_type: Option<&'static str>,
    /// `errors[0].location`, e.g. `syncToken`, `Authorization`.
    pub location: Option<String>,
    /// `Retry-After` seconds sent with the answer.
    #[serde(skip)]
    pub(super) retry_after: Option<u32>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// An error with no location.
    pub(super) fn new(code: u16, domain: &'static str, reason: &str, message: &str) -> Self {
        Self {
            code,
            domain,
            reason: reason.to_owned(),
            message: message.to_owned(),
            location_type: None,
            location: None,
            retry_after: None,
        }
    }

    /// Names the offending query parameter (`locationType: parameter`).
    pub(super) fn at_parameter(mut self, name: &str) -> Self {
        self.location_type = Some("parameter");
        self.location = Some(name.to_owned());
        self
    }

    /// Names the offending header (`locationType: header`).
    pub(super) fn at_header(mut self, name: &str) -> Self {
        self.location_type = Some("header");
        self.location = Some(name.to_owned());
        self
    }

    /// 400 `badRequest`.
    pub(super) fn bad_request(message: &str) -> Self {
        Self::new(400, "global", "badRequest", message)
    }

    /// 400 `invalid`: a value Google refuses.
    pub(super) fn invalid(message: &str) -> Self {
        Self::new(400, "global", "invalid", message)
    }

    /// 400 `required`: a missing field or parameter.
    pub(super) fn required(message: &str) -> Self {
        Self::new(400, "global", "required", message)
    }

    /// 400 `parseError`: a body that is not JSON.
    pub(super) fn parse_error() -> Self {
        Self::new(400, "global", "parseError", "Parse Error")
    }

    /// 400 `timeRangeEmpty` (`timeMax` not after `timeMin`, or an event ending before it starts).
    pub(super) fn time_range_empty(location: &str) -> Self {
        Self::new(400, "calendar", "timeRangeEmpty", "The specified time range is empty.")
            .at_parameter(location)
    }

    /// 401 `authError`: a missing, unknown, expired or revoked access token.
    pub(super) fn auth_error() -> Self {
        Self::new(401, "global", "authError", "Invalid Credentials").at_header("Authorization")
    }

    /// 403 `insufficientPermissions`: the token lacks a scope the method needs.
    pub(super) fn insufficient_scopes() -> Self {
        Self::new(403, "global", "insufficientPermissions", "Insufficient Permission")
    }

    /// 404 `notFound`.
    pub(super) fn not_found() -> Self {
        Self::new(404, "global", "notFound", "Not Found")
    }

    /// 409 `duplicate`: a client-chosen event id that is taken (deleted events keep theirs).
    pub(super) fn duplicate() -> Self {
        Self::new(409, "global", "duplicate", "The requested identifier already exists.")
    }

    /// 410 `deleted`: deleting an event that is already cancelled.
    pub(super) fn deleted() -> Self {
        Self::new(410, "global", "deleted", "Resource has been deleted")
    }

    /// 410 `fullSyncRequired`: a sync token that is stale, invalidated or not ours.
    pub(super) fn full_sync_required() -> Self {
        Self::new(
            410,
            "calendar",
            "fullSyncRequired",
            "Sync token is no longer valid, a full sync is required.",
        )
        .at_parameter("syncToken")
    }

    /// 412 `conditionNotMet`: `If-Match` named an older etag.
    pub(super) fn condition_not_met() -> Self {
        Self::new(412, "global", "conditionNotMet", "Precondition Failed").at_header("If-Match")
    }

    /// The message in `error.message`. Google words the 401 and 403-scope cases at length there.
    fn top_message(&self) -> &str {
        match self.reason.as_str() {
            "authError" => {
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie \
                 or other valid authentication credential. See \
                 https://developers.google.com/identity/sign-in/web/devconsole-project."
            }
            "insufficientPermissions" => "Request had insufficient authentication scopes.",
            _ => &self.message,
        }
    }

    /// The JSON body Google sends.
    pub fn to_json(&self) -> Value {
        let mut item = Map::new();
        item.insert("domain".to_owned(), json!(self.domain));
        item.insert("reason".to_owned(), json!(self.reason));
        item.insert("message".to_owned(), json!(self.message));
        if let Some(location_type) = &self.location_type {
            item.insert("locationType".to_owned(), json!(location_type));
        }
        if let Some(location) = &self.location {
            item.insert("location".to_owned(), json!(location));
        }
        let mut error = Map::new();
        error.insert("code".to_owned(), json!(self.code));
        error.insert("message".to_owned(), json!(self.top_message()));
        error.insert("errors".to_owned(), Value::Array(vec![Value::Object(item)]));
        if let Some(status) = canonical_status(self.code) {
            error.insert("status".to_owned(), json!(status));
        }
        json!({ "error": error })
    }

    /// The HTTP answer: JSON body, `WWW-Authenticate` on a 401, `Retry-After` when set.
    pub(super) fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut builder = HttpResponse::build(status);
        builder.content_type("application/json; charset=UTF-8");
        if self.code == 401 {
            builder.insert_header((
                "www-authenticate",
                "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
            ));
        }
        if self.code == 403 && self.reason == "insufficientPermissions" {
            builder.insert_header((
                "www-authenticate",
                "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\"",
            ));
        }
        if let Some(seconds) = self.retry_after {
            builder.insert_header(("retry-after", seconds.to_string()));
        }
        builder.body(self.to_json().to_string())
    }
}

/// The `google.rpc.Code` name Google puts in `error.status` for an HTTP status. 410 has none,
/// and Google's 410 bodies carry no `status`.
fn canonical_status(code: u16) -> Option<&'static str> {
    Some(match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => return None,
    })
}

/// An error of the OAuth endpoints (`/token`, `/revoke`, `userinfo`): RFC 6749's flat shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub(super) fn new(status: u16, error: &'static str, description: &str) -> Self {
        Self { status, error, description: description.to_owned() }
    }

    /// 400 `invalid_grant` with Google's description.
    pub(super) fn invalid_grant(description: &str) -> Self {
        Self::new(400, "invalid_grant", description)
    }

    /// 400 `invalid_request`.
    pub(super) fn invalid_request(description: &str) -> Self {
        Self::new(400, "invalid_request", description)
    }

    pub(super) fn response(&self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        HttpResponse::build(status)
            .content_type("application/json; charset=utf-8")
            .insert_header(("cache-control", "no-cache, no-store, max-age=0, must-revalidate"))
            .body(json!({ "error": self.error, "error_description": self.description }).to_string())
    }
}

/// Google's HTML error page, as the authorization endpoint shows it for a request it will not
/// redirect (unknown client, unregistered `redirect_uri`, malformed request).
pub(super) fn oauth_error_page(status: u16, error: &str, detail: &str) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let detail = html_escape(detail);
    HttpResponse::build(status).content_type("text/html; charset=utf-8").body(format!(
        "<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error {code}: {error}</title>\n\
         <h1>Access blocked: Authorization Error</h1>\n<p>{detail}</p>\n<p>Error {code}: {error}</p>\n",
        code = status.as_u16(),
    ))
}

/// Google's front-end HTML 500 page (not JSON).
pub(super) fn server_error_html() -> HttpResponse {
    HttpResponse::InternalServerError().content_type("text/html; charset=UTF-8").body(
        "<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 500 (Server Error)!!1</title>\n  \
         <p><b>500.</b> <ins>That\u{2019}s an error.</ins>\n  <p>There was an error. Please try again later. \
         <ins>That\u{2019}s all we know.</ins>\n",
    )
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
