//! The secret ICS feed of the caller's scheduled tasks and built-in calendar events.

use actix_web::{
    HttpMessage, HttpRequest, HttpResponse, get,
    http::header::{self, CacheControl, CacheDirective, ETag, EntityTag, IfNoneMatch},
    post, web,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    error::{ApiError, Problem},
    error::{AuthProblems, ServerProblems},
    extract::AuthUser,
    services::feed,
    settings::Settings,
    state::AppState,
};

/// Where the feed is served, below the server's base URL.
const FEED_PATH: &str = "/api/v1/calendar/feed/";
/// Seconds a calendar app (or a proxy it shares with nobody) may reuse a fetched feed.
const MAX_AGE_SECS: u32 = 300;

/// The secret feed URL.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"url": "https://api.example.com/api/v1/calendar/feed/q3Jk0w8cZf1mTqQd2rM4u7bS9yXv6nE5aLpH1oGkWcI.ics", "token": "q3Jk0w8cZf1mTqQd2rM4u7bS9yXv6nE5aLpH1oGkWcI"}))]
pub struct FeedResponse {
    /// Subscribe to it in a calendar app; anyone holding it can read the feed. It stops working
    /// when a new one is issued.
    pub url: String,
    /// The secret part of the URL (the `{token}` of `GET /calendar/feed/{token}.ics`).
    pub token: String,
}

/// Issue a secret ICS feed URL of the caller's scheduled tasks and built-in calendar events.
///
/// Each call issues a new URL and revokes the previous one at once. The feed covers 90 days back
/// to two years ahead, at most 5000 items.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new feed URL; the previous one no longer works.", body = FeedResponse, headers(
            ("Location" = String, description = "The feed's path: `/api/v1/calendar/feed/{token}.ics`.")
        )),
        AuthProblems, ServerProblems
    )
)]
#[post("/calendar/feed")]
pub async fn create_calendar_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let token = feed::issue_feed(&state, auth.user_id).await?;
    let url = format!("{}{FEED_PATH}{token}.ics", base_url(&req, &state.settings));
    Ok(HttpResponse::Created()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::LOCATION, format!("{FEED_PATH}{token}.ics")))
        .json(FeedResponse { url, token }))
}

/// The ICS feed (RFC 5545) behind a secret URL from `POST /api/v1/calendar/feed`; public, the
/// token in the path is the credential.
///
/// Plan tasks appear as `task-{id}@planwright`, built-in calendar events under their iCalendar
/// UID (or `event-{id}@planwright`); times are UTC, all-day events are dates. Send the `ETag` back
/// in `If-None-Match` to get a 304 when nothing changed.
#[utoipa::path(
    tag = "calendar",
    params(("token" = String, Path, description = "The feed's secret token.")),
    responses(
        (status = 200, description = "The calendar.", body = String, content_type = "text/calendar",
            headers(
                ("ETag" = String, description = "Validator for `If-None-Match`."),
                ("Cache-Control" = String, description = "`private, max-age=300`.")
            ),
            example = json!("BEGIN:VCALENDAR\r\nPRODID:-//Planwright//Planwright Calendar Feed//EN\r\nVERSION:2.0\r\nCALSCALE:GREGORIAN\r\nX-WR-CALNAME:Planwright\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\nX-PUBLISHED-TTL:PT1H\r\nBEGIN:VEVENT\r\nUID:task-0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02@planwright\r\nDTSTAMP:20261130T090000Z\r\nLAST-MODIFIED:20261130T090000Z\r\nDTSTART:20261201T080000Z\r\nDTEND:20261201T093000Z\r\nSUMMARY:Read the FastAPI tutorial\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag."),
        (status = 404, description = "No live feed has this token (unknown, replaced or malformed).", body = Problem, content_type = "application/problem+json"),
        ServerProblems
    )
)]
#[get("/calendar/feed/{token}.ics")]
pub async fn get_calendar_feed(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let feed = feed::render_feed(&state, &token).await?;
    let etag = EntityTag::new_strong(feed.etag);
    let cache = CacheControl(vec![CacheDirective::Private, CacheDirective::MaxAge(MAX_AGE_SECS)]);
    let unchanged = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|tag| tag.weak_eq(&etag)),
        None => false,
    };
    if unchanged {
        return Ok(HttpResponse::NotModified().insert_header(ETag(etag)).insert_header(cache).finish());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header(ETag(etag))
        .insert_header(cache)
        .insert_header((header::CONTENT_DISPOSITION, "inline; filename=\"planwright.ics\""))
        .body(feed.body))
}

/// The server's public base URL: `server.public_base_url`, else the request's scheme and host
/// (forwarded ones only behind a trusted proxy, as for client addresses).
fn base_url(req: &HttpRequest, settings: &Settings) -> String {
    if let Some(base) = settings.server.public_base_url.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        return base.trim_end_matches('/').to_owned();
    }
    if settings.server.trust_proxy_headers {
        let info = req.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let scheme = if req.app_config().secure() { "https" } else { "http" };
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri().authority().map(|authority| authority.to_string()))
        .unwrap_or_else(|| req.app_config().host().to_owned());
    format!("{scheme}://{host}")
}
