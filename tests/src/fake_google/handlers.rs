//! The HTTP side of the Google endpoints: one dispatcher that records the request, applies
//! latency and faults, then routes by method and path the way Google's front end does.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use chrono::Utc;
use serde_json::{Value, json};

use super::calendar::UpdateMode;
use super::error::{ApiError, oauth_error_page};
use super::oauth::{
    self, Access, Authorization, SCOPE_CALENDAR, SCOPE_CALENDAR_EVENTS, SCOPE_CALENDAR_READONLY,
};
use super::{FakeState, Fault, RecordedRequest, World, admin, percent_decode};

/// Headers copied into [`RecordedRequest::headers`].
const RECORDED_HEADERS: [&str; 7] = [
    "authorization",
    "content-type",
    "accept",
    "user-agent",
    "if-match",
    "x-goog-api-client",
    "x-request-id",
];

const AUTH: &str = "https://www.googleapis.com/auth/";

/// Scopes that allow reading events.
const READ_EVENTS: [&str; 6] = [
    SCOPE_CALENDAR,
    SCOPE_CALENDAR_READONLY,
    SCOPE_CALENDAR_EVENTS,
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.events.owned",
    "https://www.googleapis.com/auth/calendar.events.owned.readonly",
];
/// Scopes that allow writing events.
const WRITE_EVENTS: [&str; 3] =
    [SCOPE_CALENDAR, SCOPE_CALENDAR_EVENTS, "https://www.googleapis.com/auth/calendar.events.owned"];
/// Scopes that allow listing calendars.
const READ_CALENDAR_LIST: [&str; 4] = [
    SCOPE_CALENDAR,
    SCOPE_CALENDAR_READONLY,
    "https://www.googleapis.com/auth/calendar.calendarlist",
    "https://www.googleapis.com/auth/calendar.calendarlist.readonly",
];
/// Scopes that allow reading a calendar's metadata.
const READ_CALENDARS: [&str; 4] = [
    SCOPE_CALENDAR,
    SCOPE_CALENDAR_READONLY,
    "https://www.googleapis.com/auth/calendar.calendars",
    "https://www.googleapis.com/auth/calendar.calendars.readonly",
];
/// Scopes that allow `freeBusy.query`.
const FREE_BUSY: [&str; 6] = [
    SCOPE_CALENDAR,
    SCOPE_CALENDAR_READONLY,
    SCOPE_CALENDAR_EVENTS,
    "https://www.googleapis.com/auth/calendar.events.readonly",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.events.freebusy",
];

/// Registers the admin routes and the Google dispatcher.
pub(super) fn configure(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
        .configure(admin::configure)
        .route("/", web::get().to(admin::usage))
        .default_service(web::to(dispatch));
}

/// Every Google endpoint goes through here.
async fn dispatch(request: HttpRequest, body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let method = request.method().as_str().to_owned();
    let path = request.path().to_owned();
    let fault = state.take_fault(&method, &path);
    let index = {
        let mut requests = state.requests();
        requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: request.query_string().to_owned(),
            headers: recorded_headers(&request),
            body: recorded_body(&request, &body),
            status: None,
            fault: fault.clone(),
            received_at: Utc::now(),
        });
        requests.len() - 1
    };
    let delay = *state.latency() + fault.as_ref().map_or(Duration::ZERO, Fault::delay);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match fault.as_ref().and_then(Fault::error_response) {
        Some(response) => response,
        None => route(&state, &request, &body),
    };
    tracing::info!(method, path, status = response.status().as_u16(), fault = ?fault, "fake Google request");
    if let Some(recorded) = state.requests().get_mut(index) {
        recorded.status = Some(response.status().as_u16());
    }
    response
}

fn recorded_headers(request: &HttpRequest) -> BTreeMap<String, String> {
    RECORDED_HEADERS
        .iter()
        .filter_map(|name| {
            let value = request.headers().get(*name)?.to_str().ok()?;
            Some(((*name).to_owned(), value.to_owned()))
        })
        .collect()
}

fn recorded_body(request: &HttpRequest, body: &Bytes) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    if let Ok(value) = serde_json::from_slice::<Value>(body) {
        return value;
    }
    let text = String::from_utf8_lossy(body).into_owned();
    if header(request, CONTENT_TYPE.as_str())
        .is_some_and(|kind| kind.starts_with("application/x-www-form-urlencoded"))
    {
        let fields: serde_json::Map<String, Value> =
            query_pairs(&text).into_iter().map(|(key, value)| (key, Value::String(value))).collect();
        return Value::Object(fields);
    }
    Value::String(text)
}

/// Decoded `key=value` pairs of a query string or form body, repeated keys kept.
pub(super) fn query_pairs(query: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(query).map(web::Query::into_inner).unwrap_or_default()
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|value| value.to_str().ok())
}

fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = header(request, AUTHORIZATION.as_str())?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

pub(super) fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status).content_type("application/json; charset=UTF-8").body(body.to_string())
}

fn route(state: &FakeState, request: &HttpRequest, body: &Bytes) -> HttpResponse {
    let segments: Vec<String> = request.path().split('/').skip(1).map(percent_decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = request.method().as_str();
    match (method, segments.as_slice()) {
        ("GET", ["o", "oauth2", "v2", "auth"] | ["o", "oauth2", "auth"]) => authorize(state, request),
        ("POST", ["token"] | ["o", "oauth2", "token"]) => token(state, request, body),
        ("POST" | "GET", ["revoke"] | ["o", "oauth2", "revoke"]) => revoke(state, request, body),
        ("GET" | "POST", ["oauth2", "v3", "userinfo"] | ["oauth2", "v2", "userinfo"] | ["v1", "userinfo"]) => {
            match state.world().oauth.userinfo(bearer(request)) {
                Ok(info) => json_response(StatusCode::OK, &info),
                Err(error) => error.response(),
            }
        }
        (_, ["calendar", "v3", rest @ ..]) => {
            calendar(state, request, body, rest).unwrap_or_else(|error| error.response())
        }
        _ => HttpResponse::NotFound().content_type("text/html; charset=UTF-8").body(format!(
            "<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>\n\
             <p><b>404.</b> <ins>That\u{2019}s an error.</ins>\n<p>The requested URL <code>{}</code> was not found \
             on this server. <ins>That\u{2019}s all we know.</ins>\n",
            request.path()
        )),
    }
}

// ---- OAuth ------------------------------------------------------------------------------------

fn authorize(state: &FakeState, request: &HttpRequest) -> HttpResponse {
    match state.world().oauth.authorize(&query_pairs(request.query_string())) {
        Authorization::Redirect(location) => {
            HttpResponse::Found().insert_header((LOCATION, location)).finish()
        }
        Authorization::Page { status, error, detail } => oauth_error_page(status, error, &detail),
    }
}

/// The fields of a token or revoke request: the form body (or a JSON one), then the query.
fn request_fields(request: &HttpRequest, body: &Bytes) -> Vec<(String, String)> {
    let mut fields = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map
            .into_iter()
            .filter_map(|(key, value)| match value {
                Value::String(text) => Some((key, text)),
                Value::Number(number) => Some((key, number.to_string())),
                _ => None,
            })
            .collect(),
        _ => query_pairs(&String::from_utf8_lossy(body)),
    };
    fields.extend(query_pairs(request.query_string()));
    fields
}

fn token(state: &FakeState, request: &HttpRequest, body: &Bytes) -> HttpResponse {
    let fields = request_fields(request, body);
    let basic = oauth::basic_credentials(header(request, AUTHORIZATION.as_str()));
    match state.world().oauth.token(&fields, basic) {
        Ok(answer) => HttpResponse::Ok()
            .content_type("application/json; charset=utf-8")
            .insert_header(("cache-control", "no-cache, no-store, max-age=0, must-revalidate"))
            .insert_header(("pragma", "no-cache"))
            .body(answer.to_string()),
        Err(error) => error.response(),
    }
}

fn revoke(state: &FakeState, request: &HttpRequest, body: &Bytes) -> HttpResponse {
    let fields = oauth::first_values(&request_fields(request, body));
    match state.world().oauth.revoke(fields.get("token").map(String::as_str)) {
        Ok(()) => json_response(StatusCode::OK, &json!({})),
        Err(error) => error.response(),
    }
}

// ---- Calendar v3 ------------------------------------------------------------------------------

fn require(access: &Access, allowed: &[&str]) -> Result<(), ApiError> {
    if access.scopes.iter().any(|scope| allowed.contains(&scope.as_str())) {
        Ok(())
    } else {
        Err(ApiError::insufficient_scopes())
    }
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| ApiError::parse_error())
}

fn ok(body: &Value) -> Result<HttpResponse, ApiError> {
    Ok(json_response(StatusCode::OK, body))
}

fn calendar(
    state: &FakeState,
    request: &HttpRequest,
    body: &Bytes,
    rest: &[&str],
) -> Result<HttpResponse, ApiError> {
    let mut world = state.world();
    let access =
        bearer(request).and_then(|token| world.oauth.check(token)).ok_or_else(ApiError::auth_error)?;
    let account = access.email.clone();
    let if_match = header(request, "if-match");
    let method = request.method().as_str();
    match (method, rest) {
        ("GET", ["users", "me", "calendarList"]) => {
            require(&access, &READ_CALENDAR_LIST)?;
            ok(&calendar_list(&mut world, &account, &query_pairs(request.query_string()))?)
        }
        ("GET", ["users", "me", "calendarList", calendar_id]) => {
            require(&access, &READ_CALENDAR_LIST)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            ok(&world.calendars.get(&id).ok_or_else(ApiError::not_found)?.list_entry())
        }
        ("GET", ["calendars", calendar_id]) => {
            require(&access, &READ_CALENDARS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            ok(&world.calendars.get(&id).ok_or_else(ApiError::not_found)?.resource())
        }
        ("GET", ["calendars", calendar_id, "events"]) => {
            require(&access, &READ_EVENTS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            ok(&world.list_events(&id, &query_pairs(request.query_string()))?)
        }
        ("POST", ["calendars", calendar_id, "events"]) => {
            require(&access, &WRITE_EVENTS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            writable(&world, &id)?;
            let event = parse_body(body)?;
            ok(&world.insert_event(&id, event)?)
        }
        ("POST", ["calendars", calendar_id, "events", "watch"]) => {
            require(&access, &READ_EVENTS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            let channel = parse_body(body)?;
            ok(&world.watch(&account, &id, calendar_id, &channel)?)
        }
        ("GET", ["calendars", calendar_id, "events", event_id]) => {
            require(&access, &READ_EVENTS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            ok(&world.get_event(&id, event_id)?)
        }
        ("PUT" | "PATCH", ["calendars", calendar_id, "events", event_id]) => {
            require(&access, &WRITE_EVENTS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            writable(&world, &id)?;
            let mode = if method == "PUT" { UpdateMode::Put } else { UpdateMode::Patch };
            let event = parse_body(body)?;
            ok(&world.update_event(&id, event_id, event, mode, if_match)?)
        }
        ("DELETE", ["calendars", calendar_id, "events", event_id]) => {
            require(&access, &WRITE_EVENTS)?;
            let id = world.resolve_calendar(&account, calendar_id)?;
            writable(&world, &id)?;
            world.delete_event(&id, event_id, if_match)?;
            Ok(HttpResponse::NoContent().finish())
        }
        ("POST", ["freeBusy"]) => {
            require(&access, &FREE_BUSY)?;
            let query = parse_body(body)?;
            ok(&world.free_busy(&account, &query)?)
        }
        ("POST", ["channels", "stop"]) => {
            if !access.scopes.iter().any(|scope| scope.starts_with(&format!("{AUTH}calendar"))) {
                return Err(ApiError::insufficient_scopes());
            }
            let channel = parse_body(body)?;
            world.stop_channel(&account, &channel)?;
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(ApiError::not_found()),
    }
}

/// Event writes need write access to the calendar (403 `requiredAccessLevel` otherwise).
fn writable(world: &World, calendar_id: &str) -> Result<(), ApiError> {
    world.calendars.get(calendar_id).ok_or_else(ApiError::not_found)?.check_writable()
}

/// Google's default and largest `maxResults` for `calendarList.list`.
const CALENDAR_LIST_PAGE: usize = 100;
const CALENDAR_LIST_MAX_PAGE: usize = 250;

/// Access roles from least to most.
const ACCESS_ROLES: [&str; 5] = ["freeBusyReader", "reader", "writerWithoutPrivateAccess", "writer", "owner"];

fn role_rank(role: &str) -> Option<usize> {
    ACCESS_ROLES.iter().position(|known| *known == role)
}

/// `calendarList.list`: the account's calendars, primary first, with `maxResults` pages,
/// `minAccessRole` and `showHidden` (hidden entries are left out by default); a `syncToken`
/// together with `minAccessRole` is refused as Google does.
fn calendar_list(world: &mut World, account: &str, query: &[(String, String)]) -> Result<Value, ApiError> {
    world.ensure_primary(account);
    let param = |name: &str| query.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    let page_size = match param("maxResults") {
        None => CALENDAR_LIST_PAGE,
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|size| (1..=CALENDAR_LIST_MAX_PAGE).contains(size))
            .ok_or_else(|| {
            ApiError::invalid(&format!("Invalid value '{text}'. Values must be within the range: [1, 250]"))
                .at_parameter("maxResults")
        })?,
    };
    let min_rank = match param("minAccessRole") {
        None => 0,
        Some(role) => role_rank(role).ok_or_else(|| {
            ApiError::invalid(&format!("Invalid value for: {role} is not a valid value"))
                .at_parameter("minAccessRole")
        })?,
    };
    if param("syncToken").is_some() && param("minAccessRole").is_some() {
        return Err(ApiError::invalid("The minAccessRole parameter cannot be used with syncToken.")
            .at_parameter("minAccessRole"));
    }
    let show_hidden = param("showHidden") == Some("true") || param("syncToken").is_some();
    let offset = match param("pageToken") {
        None => 0,
        Some(token) => decode_list_page(token)
            .ok_or_else(|| ApiError::invalid("Invalid page token value.").at_parameter("pageToken"))?,
    };
    let mut calendars: Vec<_> = world
        .calendars
        .values()
        .filter(|calendar| calendar.owner == account)
        .filter(|calendar| show_hidden || !calendar.hidden)
        .filter(|calendar| role_rank(&calendar.access_role).unwrap_or(0) >= min_rank)
        .collect();
    calendars.sort_by_key(|calendar| !calendar.primary);
    let items: Vec<Value> =
        calendars.iter().skip(offset).take(page_size).map(|calendar| calendar.list_entry()).collect();
    let mut page = json!({
        "kind": "calendar#calendarList",
        "etag": format!("\"p{}\"", Utc::now().timestamp_micros()),
        "items": items,
    });
    if let Value::Object(map) = &mut page {
        if offset + page_size < calendars.len() {
            map.insert("nextPageToken".to_owned(), json!(encode_list_page(offset + page_size)));
        } else {
            map.insert(
                "nextSyncToken".to_owned(),
                json!(format!("CPfakelist{}", Utc::now().timestamp_micros())),
            );
        }
    }
    Ok(page)
}

fn encode_list_page(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("calendars:{offset}"))
}

fn decode_list_page(token: &str) -> Option<usize> {
    use base64::Engine;
    let text =
        String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    text.strip_prefix("calendars:")?.parse().ok()
}
