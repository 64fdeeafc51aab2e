//! The `/_fake/*` admin routes: the Rust controls over HTTP, for the `planwright-fakes` binary.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::{self, Bytes};
use actix_web::{HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Value, json};

use super::calendar::UpdateMode;
use super::error::ApiError;
use super::handlers::json_response;
use super::oauth::Consent;
use super::{FakeState, FaultRule, lock};

pub(super) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/_fake/faults", web::post().to(push_faults))
        .route("/_fake/faults", web::get().to(list_faults))
        .route("/_fake/faults", web::delete().to(clear_faults))
        .route("/_fake/latency", web::post().to(set_latency))
        .route("/_fake/latency", web::get().to(get_latency))
        .route("/_fake/reset", web::post().to(reset))
        .route("/_fake/requests", web::get().to(list_requests))
        .route("/_fake/consent", web::get().to(get_consent))
        .route("/_fake/consent", web::post().to(set_consent))
        .route("/_fake/settings", web::get().to(get_settings))
        .route("/_fake/settings", web::post().to(set_settings))
        .route("/_fake/expire-access-tokens", web::post().to(expire_access_tokens))
        .route("/_fake/invalidate-sync-tokens", web::post().to(invalidate_sync_tokens))
        .route("/_fake/revoke-all", web::post().to(revoke_all))
        .route("/_fake/grants", web::get().to(list_grants))
        .route("/_fake/tokens", web::post().to(issue_tokens))
        .route("/_fake/calendars/{calendar_id}/events", web::get().to(list_events))
        .route("/_fake/calendars/{calendar_id}/events", web::post().to(insert_event))
        .route("/_fake/calendars/{calendar_id}/events/{event_id}", web::patch().to(update_event))
        .route("/_fake/calendars/{calendar_id}/events/{event_id}", web::delete().to(delete_event))
        .route("/_fake/channels", web::get().to(list_channels))
        .route("/_fake/notifications", web::get().to(list_notifications));
}

fn ok(body: &impl serde::Serialize) -> HttpResponse {
    match serde_json::to_value(body) {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(error) => admin_error(&error.to_string()),
    }
}

fn admin_error(message: &str) -> HttpResponse {
    HttpResponse::BadRequest().content_type("application/json").body(json!({ "error": message }).to_string())
}

fn api_result(result: Result<Value, ApiError>) -> HttpResponse {
    match result {
        Ok(value) => json_response(StatusCode::OK, &value),
        Err(error) => error.response(),
    }
}

/// `POST /_fake/faults`: one rule or a list, e.g. `["backend_error", {"fault": "rate_limited",
/// "retry_after_secs": 1, "times": 2, "method": "GET", "path": "/events"}]`.
async fn push_faults(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let rules = serde_json::from_slice::<Value>(&body).and_then(|value| match value {
        Value::Array(_) => serde_json::from_value::<Vec<FaultRule>>(value),
        single => serde_json::from_value::<FaultRule>(single).map(|rule| vec![rule]),
    });
    match rules {
        Ok(rules) => {
            let mut queue = state.faults();
            queue.extend(rules);
            ok(&json!({ "pending": queue.iter().collect::<Vec<_>>() }))
        }
        Err(error) => admin_error(&format!(
            "expected a fault or a list like [\"backend_error\", {{\"fault\": \"rate_limited\", \"retry_after_secs\": 1, \
             \"times\": 3, \"method\": \"POST\", \"path\": \"/events\"}}, {{\"fault\": \"latency\", \"ms\": 200}}]: {error}"
        )),
    }
}

async fn list_faults(state: web::Data<FakeState>) -> HttpResponse {
    ok(&json!({ "pending": state.faults().iter().collect::<Vec<_>>() }))
}

async fn clear_faults(state: web::Data<FakeState>) -> HttpResponse {
    state.faults().clear();
    HttpResponse::NoContent().finish()
}

#[derive(Deserialize)]
struct Latency {
    ms: u64,
}

/// `POST /_fake/latency {"ms": 50}`.
async fn set_latency(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    match serde_json::from_slice::<Latency>(&body) {
        Ok(latency) => {
            *state.latency() = Duration::from_millis(latency.ms);
            ok(&json!({ "ms": latency.ms }))
        }
        Err(error) => admin_error(&format!("expected {{\"ms\": 50}}: {error}")),
    }
}

async fn get_latency(state: web::Data<FakeState>) -> HttpResponse {
    ok(&json!({ "ms": u64::try_from(state.latency().as_millis()).unwrap_or(u64::MAX) }))
}

/// `POST /_fake/reset`: no faults, no latency, empty request and notification logs.
async fn reset(state: web::Data<FakeState>) -> HttpResponse {
    state.reset();
    HttpResponse::NoContent().finish()
}

async fn list_requests(state: web::Data<FakeState>) -> HttpResponse {
    let requests = state.requests().clone();
    ok(&requests)
}

async fn get_consent(state: web::Data<FakeState>) -> HttpResponse {
    ok(&json!({ "consent": state.world().oauth.consent }))
}

/// `POST /_fake/consent`: `"deny"`, `"grant"`, `{"withhold": [...]}`, `{"only": [...]}`, or
/// any of those under a `consent` key.
async fn set_consent(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let parsed = serde_json::from_slice::<Value>(&body).and_then(|value| {
        let value = value.get("consent").cloned().unwrap_or(value);
        serde_json::from_value::<Consent>(value)
    });
    match parsed {
        Ok(consent) => {
            state.world().oauth.consent = consent.clone();
            ok(&json!({ "consent": consent }))
        }
        Err(error) => admin_error(&format!(
            "expected \"grant\", \"deny\", {{\"withhold\": [..]}} or {{\"only\": [..]}}: {error}"
        )),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    account_email: Option<String>,
    access_token_lifetime_secs: Option<u64>,
    rotate_refresh_tokens: Option<bool>,
    force_invalid_grant: Option<bool>,
    push_enabled: Option<bool>,
    focus_time_available: Option<bool>,
    redirect_uris: Option<Vec<String>>,
}

fn settings(state: &FakeState) -> Value {
    let world = state.world();
    json!({
        "account_email": world.oauth.account_email,
        "client_id": world.oauth.client_id,
        "client_secret": world.oauth.client_secret,
        "redirect_uris": world.oauth.redirect_uris,
        "access_token_lifetime_secs": world.oauth.access_token_lifetime.as_secs(),
        "rotate_refresh_tokens": world.oauth.rotate_refresh_tokens,
        "force_invalid_grant": world.oauth.force_invalid_grant,
        "push_enabled": world.push_enabled,
        "focus_time_available": world.focus_time_available,
        "consent": world.oauth.consent,
        "token_requests": world.oauth.token_requests,
    })
}

async fn get_settings(state: web::Data<FakeState>) -> HttpResponse {
    ok(&settings(&state))
}

/// `POST /_fake/settings`: any subset of `account_email`, `access_token_lifetime_secs`,
/// `rotate_refresh_tokens`, `force_invalid_grant`, `push_enabled`, `focus_time_available`,
/// `redirect_uris`.
async fn set_settings(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let update = match serde_json::from_slice::<Settings>(&body) {
        Ok(update) => update,
        Err(error) => return admin_error(&format!("bad settings: {error}")),
    };
    {
        let mut world = state.world();
        if let Some(email) = update.account_email {
            world.oauth.account_email = email;
        }
        if let Some(secs) = update.access_token_lifetime_secs {
            world.oauth.access_token_lifetime = Duration::from_secs(secs);
        }
        if let Some(rotate) = update.rotate_refresh_tokens {
            world.oauth.rotate_refresh_tokens = rotate;
        }
        if let Some(force) = update.force_invalid_grant {
            world.oauth.force_invalid_grant = force;
        }
        if let Some(enabled) = update.push_enabled {
            world.push_enabled = enabled;
        }
        if let Some(available) = update.focus_time_available {
            world.focus_time_available = available;
        }
        if let Some(uris) = update.redirect_uris {
            world.oauth.redirect_uris = uris;
        }
    }
    ok(&settings(&state))
}

async fn expire_access_tokens(state: web::Data<FakeState>) -> HttpResponse {
    state.world().oauth.expire_access_tokens();
    HttpResponse::NoContent().finish()
}

async fn invalidate_sync_tokens(state: web::Data<FakeState>) -> HttpResponse {
    state.world().invalidate_sync_tokens();
    HttpResponse::NoContent().finish()
}

async fn revoke_all(state: web::Data<FakeState>) -> HttpResponse {
    state.world().oauth.revoke_all();
    HttpResponse::NoContent().finish()
}

async fn list_grants(state: web::Data<FakeState>) -> HttpResponse {
    let world = state.world();
    ok(&json!({
        "grants": world.oauth.grants(),
        "revoked_tokens": world.oauth.revoked,
        "token_requests": world.oauth.token_requests,
    }))
}

#[derive(Deserialize)]
struct IssueRequest {
    scopes: Vec<String>,
}

/// `POST /_fake/tokens {"scopes": ["calendar"]}`: a token pair for the current account.
async fn issue_tokens(body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    match serde_json::from_slice::<IssueRequest>(&body) {
        Ok(request) => {
            let mut world = state.world();
            let email = world.oauth.account_email.clone();
            world.ensure_primary(&email);
            let scopes: Vec<&str> = request.scopes.iter().map(String::as_str).collect();
            ok(&world.oauth.issue(&email, &scopes))
        }
        Err(error) => admin_error(&format!("expected {{\"scopes\": [\"calendar\"]}}: {error}")),
    }
}

/// `GET /_fake/calendars/{id}/events`: every stored event, cancelled ones included.
async fn list_events(path: web::Path<String>, state: web::Data<FakeState>) -> HttpResponse {
    let mut world = state.world();
    let result = world.resolve_seed_calendar(&path).map(|id| {
        let events = world.calendars.get(&id).map(super::Calendar::events).unwrap_or_default();
        json!({ "calendarId": id, "items": events })
    });
    api_result(result)
}

/// `POST /_fake/calendars/{id}/events`: insert as if another device did (sync and push follow).
async fn insert_event(path: web::Path<String>, body: Bytes, state: web::Data<FakeState>) -> HttpResponse {
    let Ok(event) = serde_json::from_slice::<Value>(&body) else { return ApiError::parse_error().response() };
    let mut world = state.world();
    api_result(world.resolve_seed_calendar(&path).and_then(|id| world.insert_event(&id, event)))
}

/// `PATCH /_fake/calendars/{id}/events/{eventId}`: patch as if another device did.
async fn update_event(
    path: web::Path<(String, String)>,
    body: Bytes,
    state: web::Data<FakeState>,
) -> HttpResponse {
    let (calendar_id, event_id) = path.into_inner();
    let Ok(patch) = serde_json::from_slice::<Value>(&body) else { return ApiError::parse_error().response() };
    let mut world = state.world();
    api_result(
        world
            .resolve_seed_calendar(&calendar_id)
            .and_then(|id| world.update_event(&id, &event_id, patch, UpdateMode::Patch, None)),
    )
}

/// `DELETE /_fake/calendars/{id}/events/{eventId}`: delete as if another device did.
async fn delete_event(path: web::Path<(String, String)>, state: web::Data<FakeState>) -> HttpResponse {
    let (calendar_id, event_id) = path.into_inner();
    let mut world = state.world();
    match world.resolve_seed_calendar(&calendar_id).and_then(|id| world.delete_event(&id, &event_id, None)) {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(error) => error.response(),
    }
}

async fn list_channels(state: web::Data<FakeState>) -> HttpResponse {
    let channels = state.world().channels.clone();
    ok(&channels)
}

async fn list_notifications(state: web::Data<FakeState>) -> HttpResponse {
    let notifications = lock(&state.notifications).clone();
    ok(&notifications)
}

/// `GET /`: what this server is and how to drive it.
pub(super) async fn usage(request: HttpRequest, state: web::Data<FakeState>) -> HttpResponse {
    let (client_id, client_secret, email) = {
        let world = state.world();
        (world.oauth.client_id.clone(), world.oauth.client_secret.clone(), world.oauth.account_email.clone())
    };
    let host = request.connection_info().host().to_owned();
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body(format!(
        "Fake Google (OAuth 2.0 + Calendar v3) at http://{host}\n\
         client_id={client_id} client_secret={client_secret} account={email}\n\n\
         GET    /o/oauth2/v2/auth?client_id&redirect_uri&response_type=code&scope&state&code_challenge&code_challenge_method=S256\n\
         \x20      (instant consent: 302 to redirect_uri; per-call overrides _fake_consent=deny|grant, _fake_withhold=.., _fake_only=.., _fake_email=..)\n\
         POST   /token            grant_type=authorization_code|refresh_token\n\
         POST   /revoke           token=..\n\
         GET    /oauth2/v3/userinfo\n\
         GET    /calendar/v3/users/me/calendarList[/{{calendarId}}]\n\
         GET    /calendar/v3/calendars/{{calendarId}}\n\
         GET    /calendar/v3/calendars/{{calendarId}}/events   (maxResults pageToken syncToken timeMin timeMax singleEvents orderBy showDeleted q privateExtendedProperty updatedMin)\n\
         POST   /calendar/v3/calendars/{{calendarId}}/events\n\
         POST   /calendar/v3/calendars/{{calendarId}}/events/watch\n\
         GET|PUT|PATCH|DELETE /calendar/v3/calendars/{{calendarId}}/events/{{eventId}}\n\
         POST   /calendar/v3/freeBusy\n\
         POST   /calendar/v3/channels/stop\n\n\
         Controls:\n\
         POST   /_fake/faults     [\"backend_error\", {{\"fault\": \"rate_limited\", \"retry_after_secs\": 1, \"times\": 2, \"method\": \"GET\", \"path\": \"/events\"}}]\n\
         GET|DELETE /_fake/faults\n\
         POST   /_fake/latency    {{\"ms\": 50}}          GET /_fake/latency\n\
         POST   /_fake/consent    \"grant\" | \"deny\" | {{\"withhold\": [\"calendar\"]}} | {{\"only\": [\"openid\", \"email\"]}}\n\
         GET|POST /_fake/settings {{\"account_email\", \"access_token_lifetime_secs\", \"rotate_refresh_tokens\", \"force_invalid_grant\", \"push_enabled\", \"focus_time_available\", \"redirect_uris\"}}\n\
         POST   /_fake/expire-access-tokens | /_fake/invalidate-sync-tokens | /_fake/revoke-all | /_fake/reset\n\
         POST   /_fake/tokens     {{\"scopes\": [\"calendar\"]}}\n\
         GET    /_fake/grants | /_fake/requests | /_fake/channels | /_fake/notifications\n\
         GET|POST /_fake/calendars/{{calendarId}}/events     PATCH|DELETE /_fake/calendars/{{calendarId}}/events/{{eventId}}\n\
         Faults: latency {{ms}}, rate_limited {{retry_after_secs}}, rate_limit_exceeded, user_rate_limit_exceeded, quota_exceeded,\n\
         backend_error, server_error, unauthorized, error {{code, reason, message}}\n",
    ))
}
