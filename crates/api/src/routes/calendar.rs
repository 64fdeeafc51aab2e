//! Calendars: connecting Google, connections, sync, upcoming events, new events, push
//! notifications.

use actix_web::{HttpRequest, HttpResponse, delete, get, http::header, post, web};
use chrono::{DateTime, TimeDelta, Utc};
use planwright_domain::{
    CalendarConnection, ConnectionStatus, TimeZone, ValidationErrors, parse_event_description,
    parse_event_summary,
};
use planwright_store::repo::replans;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{ApiError, Problem},
    error::{AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    extract::{ApiJson, ApiJsonOrEmpty, ApiQuery, AuthUser},
    jobs::calendar_sync,
    routes::created,
    services::calendar::{
        self as calendar,
        connect::{self, Callback},
        events::{self, NewEvent, PlacedEvent},
        sync::{self, SyncReport},
    },
    state::AppState,
};

/// Where to return after connecting.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// A URL on a configured frontend origin (default: the first configured origin).
    pub redirect_to: Option<String>,
}

/// Google's consent screen.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"authorization_url": "https://accounts.google.com/o/oauth2/v2/auth?client_id=1234-abc.apps.googleusercontent.com&response_type=code&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fcalendar&access_type=offline&prompt=consent&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=k3J9x0QeZ1m8Yw2v"}))]
pub struct AuthorizeResponse {
    /// Send the browser here.
    pub authorization_url: String,
}

/// What Google's redirect carries.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code (on consent).
    pub code: Option<String>,
    /// The state sent with the consent screen.
    pub state: Option<String>,
    /// Google's error, e.g. `access_denied`.
    pub error: Option<String>,
    /// Scopes granted (informational; the token response is what counts).
    pub scope: Option<String>,
}

/// A calendar connection (tokens are never returned).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a625-6e7f-7081-9c23-0d1e2f3a4b51", "provider": "google", "account_email": "ada@gmail.com", "calendar_id": "primary", "status": "active", "last_synced_at": "2026-11-30T08:15:00Z", "last_sync_status": "ok", "last_error": null, "writes_paused": null, "focus_time_refused": false, "created_at": "2026-11-21T09:40:00Z"}))]
pub struct ConnectionResponse {
    /// Id.
    pub id: Uuid,
    /// `google` or `local`.
    #[schema(example = "google")]
    pub provider: String,
    /// The Google account.
    pub account_email: Option<String>,
    /// The calendar (`primary`; `local` for the built-in one).
    pub calendar_id: String,
    /// `active`, `needs_reauth` or `revoked`.
    #[schema(example = "active")]
    pub status: String,
    /// When the last sync finished.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// `ok` or `error`; `null` before the first sync.
    pub last_sync_status: Option<String>,
    /// Why the last sync (or the connection) failed.
    pub last_error: Option<String>,
    /// Set while Google's Calendar usage limits stop writes to this calendar (`null`: writes run).
    pub writes_paused: Option<WritesPausedResponse>,
    /// Whether Google refused a focus-time block here, so blocks are written as ordinary events
    /// (see `schedule_preferences.focus_time`).
    pub focus_time_refused: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Google answered a write with its Calendar usage limits (403 `quotaExceeded`, "Calendar usage
/// limits exceeded"): Planwright writes nothing to the calendar until `until` (scheduling there
/// answers 503, re-planning leaves it alone). Reading and syncing go on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"since": "2026-12-07T10:02:00Z", "until": "2026-12-07T11:02:00Z", "detail": "Google Calendar answered: Calendar usage limits exceeded."}))]
pub struct WritesPausedResponse {
    /// When Google answered with its usage limits.
    pub since: DateTime<Utc>,
    /// When writes resume (`calendar.write_pause_secs` later).
    pub until: DateTime<Utc>,
    /// What Google said, for people.
    pub detail: String,
}

impl WritesPausedResponse {
    /// The pause of `connection` while it holds at `now`.
    fn of(connection: &CalendarConnection, cooldown: TimeDelta, now: DateTime<Utc>) -> Option<Self> {
        let paused = connection.writes_paused.as_ref().filter(|paused| paused.holds(cooldown, now))?;
        Some(Self { since: paused.at, until: paused.until(cooldown), detail: paused.detail.clone() })
    }
}

/// The caller's connections.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [
    {"id": "0193a5c4-8000-7a4b-9a51-3f1f2a8d9b20", "provider": "local", "account_email": null, "calendar_id": "local", "status": "active", "last_synced_at": null, "last_sync_status": null, "last_error": null, "writes_paused": null, "focus_time_refused": false, "created_at": "2026-11-21T09:30:00Z"},
    {"id": "0193a625-6e7f-7081-9c23-0d1e2f3a4b51", "provider": "google", "account_email": "ada@gmail.com", "calendar_id": "primary", "status": "active", "last_synced_at": "2026-11-30T08:15:00Z", "last_sync_status": "ok", "last_error": null, "writes_paused": null, "focus_time_refused": false, "created_at": "2026-11-21T09:40:00Z"}
], "next_cursor": null}))]
pub struct ConnectionList {
    /// The built-in calendar first, then Google.
    pub items: Vec<ConnectionResponse>,
    /// Always `null`: the list fits one page.
    pub next_cursor: Option<String>,
}

/// Which connection to sync.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SyncRequest {
    /// One connection; left out, all of the caller's.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub connection_id: Option<Uuid>,
}

/// How syncing one connection went.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"connection_id": "0193a625-6e7f-7081-9c23-0d1e2f3a4b51", "status": "ok", "added": 3, "updated": 1, "removed": 0, "error": null}))]
pub struct SyncResultResponse {
    /// The connection.
    pub connection_id: Uuid,
    /// `ok`, `in_progress` (another sync is running), `needs_reauth` or `error`.
    #[schema(example = "ok")]
    pub status: String,
    /// Events new here.
    pub added: u64,
    /// Events changed.
    pub updated: u64,
    /// Events removed.
    pub removed: u64,
    /// What went wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The results of a sync.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResponse {
    /// One per connection.
    pub results: Vec<SyncResultResponse>,
}

/// A connection's sync state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatusResponse {
    /// The connection.
    pub connection_id: Uuid,
    /// `never`, `ok`, `error` or `needs_reauth`.
    #[schema(example = "ok")]
    pub status: String,
    /// When the last sync finished.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// The last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When re-planning last moved blocks on this calendar (`null`: never).
    #[schema(example = "2026-12-06T18:02:11Z")]
    pub last_replan_at: Option<DateTime<Utc>>,
    /// How many blocks that re-plan moved (`0` before the first).
    #[schema(example = 2)]
    pub last_replan_moved: u32,
    /// Set while Google's Calendar usage limits stop writes to this calendar (`null`: writes run).
    pub writes_paused: Option<WritesPausedResponse>,
}

/// Sync states of the caller's connections.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatusList {
    /// One per connection.
    pub items: Vec<SyncStatusResponse>,
    /// Always `null`.
    pub next_cursor: Option<String>,
}

/// Which events to show.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpcomingQuery {
    /// How many, 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// How many days ahead, 1–365 (default 7).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<i64>,
}

/// An event on one of the caller's calendars.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a636-7f80-7192-8d34-1e2f3a4b5c61", "connection_id": "0193a5c4-8000-7a4b-9a51-3f1f2a8d9b20", "provider": "local", "provider_event_id": "pl069qbk0s5dv4v2kgbdm7r3kv08", "title": "Read the FastAPI tutorial", "description": "Sections 1–4: path operations, query parameters, request bodies.", "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T09:30:00Z", "all_day": false, "location": null, "html_link": null, "plan_task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02"}))]
pub struct EventResponse {
    /// Our id.
    pub id: Uuid,
    /// The calendar's connection.
    pub connection_id: Uuid,
    /// `google` or `local`.
    #[schema(example = "google")]
    pub provider: String,
    /// The provider's event id.
    pub provider_event_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Start (all-day events: midnight in the caller's time zone).
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// Whether it spans whole days.
    pub all_day: bool,
    /// Location.
    pub location: Option<String>,
    /// Link to the event at the provider.
    pub html_link: Option<String>,
    /// The plan task it was scheduled for.
    pub plan_task_id: Option<Uuid>,
}

/// Upcoming events.
#[derive(Debug, Serialize, ToSchema)]
pub struct UpcomingResponse {
    /// By start.
    pub events: Vec<EventResponse>,
}

/// A new event.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"summary": "Study session", "start": "2026-12-01T09:00:00+01:00", "end": "2026-12-01T10:30:00+01:00", "time_zone": "Europe/Berlin"}))]
pub struct CreateEventRequest {
    /// Title, 1–1024 characters.
    #[schema(min_length = 1, max_length = 1024)]
    pub summary: String,
    /// Description, up to 8000 characters.
    #[schema(max_length = 8000)]
    pub description: Option<String>,
    /// Start, RFC 3339 with offset.
    #[serde(deserialize_with = "crate::extract::strict")]
    pub start: DateTime<Utc>,
    /// End, after the start (RFC 3339 with offset).
    #[serde(deserialize_with = "crate::extract::strict")]
    pub end: DateTime<Utc>,
    /// IANA zone the event is shown in at Google.
    pub time_zone: Option<String>,
    /// The calendar; default: the caller's Google calendar, else the built-in one.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub connection_id: Option<Uuid>,
}

impl ConnectionResponse {
    /// The connection as shown, with the write pause that holds at `now`.
    fn new(connection: CalendarConnection, cooldown: TimeDelta, now: DateTime<Utc>) -> Self {
        Self {
            writes_paused: WritesPausedResponse::of(&connection, cooldown, now),
            focus_time_refused: connection.focus_time_refused_at.is_some(),
            id: connection.id,
            provider: connection.provider.as_str().to_owned(),
            account_email: connection.account_email,
            calendar_id: connection.calendar_id,
            status: connection.status.as_str().to_owned(),
            last_synced_at: connection.last_synced_at,
            last_sync_status: connection.last_sync_status,
            last_error: connection.last_error,
            created_at: connection.created_at,
        }
    }
}

impl From<SyncReport> for SyncResultResponse {
    fn from(report: SyncReport) -> Self {
        let status = match report.status {
            sync::SyncStatus::Ok => "ok",
            sync::SyncStatus::InProgress => "in_progress",
            sync::SyncStatus::NeedsReauth => "needs_reauth",
            sync::SyncStatus::Error => "error",
        };
        Self {
            connection_id: report.connection_id,
            status: status.to_owned(),
            added: report.added,
            updated: report.updated,
            removed: report.removed,
            error: report.error,
        }
    }
}

impl From<PlacedEvent> for EventResponse {
    fn from(placed: PlacedEvent) -> Self {
        let event = placed.event;
        Self {
            id: event.id,
            connection_id: event.connection_id,
            provider: event.provider.as_str().to_owned(),
            provider_event_id: event.provider_event_id,
            title: event.title,
            description: event.description,
            start: placed.start,
            end: placed.end,
            all_day: event.all_day,
            location: event.location,
            html_link: event.html_link,
            plan_task_id: event.plan_task_id,
        }
    }
}

impl CreateEventRequest {
    fn parse(self) -> Result<NewEvent, ValidationErrors> {
        let summary = parse_event_summary(&self.summary);
        let description = self.description.as_deref().map(parse_event_description).transpose();
        let time_zone = self
            .time_zone
            .as_deref()
            .map(|zone| {
                TimeZone::parse(zone).map_err(|e| planwright_domain::FieldError::new("time_zone", e.message))
            })
            .transpose();
        match (summary, description, time_zone) {
            (Ok(summary), Ok(description), Ok(time_zone)) => Ok(NewEvent {
                summary,
                description,
                start: self.start,
                end: self.end,
                time_zone,
                connection_id: self.connection_id,
            }),
            (summary, description, time_zone) => {
                Err([summary.err(), description.err(), time_zone.err()].into_iter().flatten().collect())
            }
        }
    }
}

/// Start connecting Google Calendar.
///
/// Returns Google's consent screen URL (PKCE, offline access). After consent Google sends the
/// browser to the callback, which stores the connection and redirects to `redirect_to`.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(AuthorizeQuery),
    responses(
        (status = 200, description = "Where to send the browser.", body = AuthorizeResponse),
        (status = 422, description = "`redirect_to` is not on a configured frontend origin, or holds a control character.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/calendar/google/authorize")]
pub async fn authorize_google(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<AuthorizeQuery>,
) -> Result<web::Json<AuthorizeResponse>, ApiError> {
    let url = connect::authorize(&state, auth.user_id, query.redirect_to.as_deref()).await?;
    Ok(web::Json(AuthorizeResponse { authorization_url: url }))
}

/// Google's redirect after consent (public).
///
/// Always answers 302 to the frontend: `?calendar=connected`, or `?calendar=error&reason=`
/// (`invalid_state`, `expired`, `access_denied`, `scope_denied`, `exchange_failed`, ...).
#[utoipa::path(
    tag = "calendar",
    params(CallbackQuery),
    responses(
        (status = 302, description = "To the frontend, with the outcome in the query.",
            headers(("Location" = String, description = "The frontend URL."))),
        ServerProblems
    )
)]
#[get("/calendar/google/callback")]
// The browser arrives here from Google, so every outcome is a redirect: this route reads its
// query with actix's extractor, not `ApiQuery` (whose 422 would strand the user on a JSON page).
// Nothing of it is stored: `state` is looked up by its hash, `error` is mapped to a fixed reason,
// and `code` goes only to Google.
pub async fn google_callback(state: web::Data<AppState>, query: web::Query<CallbackQuery>) -> HttpResponse {
    let query = query.into_inner();
    let (location, connected) =
        connect::callback(&state, Callback { code: query.code, state: query.state, error: query.error })
            .await;
    if let Some(connection_id) = connected {
        calendar_sync::after_connect(state.get_ref().clone(), connection_id);
    }
    HttpResponse::Found().insert_header((header::LOCATION, location)).finish()
}

/// The caller's calendar connections (tokens are never returned).
///
/// Every account has the built-in `local` calendar from the start, so the list is never empty;
/// connected Google accounts follow, with their `status` (`needs_reauth` means the person must
/// connect Google again) and when they last synced. `writes_paused` is set while Google's
/// Calendar usage limits stop Planwright's writes to a calendar (with when they resume);
/// `focus_time_refused` says Google refused a focus-time block there, so blocks are ordinary
/// events.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    responses((status = 200, description = "The connections.", body = ConnectionList), AuthProblems, ServerProblems)
)]
#[get("/calendar/connections")]
pub async fn list_connections(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<web::Json<ConnectionList>, ApiError> {
    let connections = calendar::list_connections(&state, auth.user_id).await?;
    let (cooldown, now) = (calendar::write_pause(&state), Utc::now());
    Ok(web::Json(ConnectionList {
        items: connections.into_iter().map(|c| ConnectionResponse::new(c, cooldown, now)).collect(),
        next_cursor: None,
    }))
}

/// Disconnect a calendar: revoke the grant at Google, delete the tokens, channel and events.
///
/// The grant is revoked at Google (best effort: a connection Google already forgot is still
/// removed), its push channel stopped and the synced events deleted here; the events stay in the
/// person's Google Calendar. The built-in calendar cannot be removed (409 `local_calendar`).
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection's id.")),
    responses(
        (status = 204, description = "Disconnected."),
        (status = 404, description = "Not one of the caller's connections.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The built-in calendar cannot be removed.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[delete("/calendar/connections/{id}")]
pub async fn delete_connection(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    calendar::delete_connection(&state, auth.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sync now: one connection, or all of the caller's.
///
/// Pulls the changes since the last sync from Google (incrementally, with Google's sync token) and
/// answers with what was added, updated and removed per connection. Without `connection_id` every
/// connection of the caller is synced, each with its own `status` (`ok`, `in_progress` when another
/// sync is running, `needs_reauth` or `error`). Background sync runs on its own; this is the "refresh" button.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    request_body = SyncRequest,
    responses(
        (status = 200, description = "How each sync went.", body = SyncResponse),
        (status = 404, description = "`connection_id` is not one of the caller's connections.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/calendar/sync")]
pub async fn sync_now(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<SyncRequest>,
) -> Result<web::Json<SyncResponse>, ApiError> {
    let reports = sync::sync_user(&state, auth.user_id, body.connection_id).await?;
    Ok(web::Json(SyncResponse { results: reports.into_iter().map(Into::into).collect() }))
}

/// The sync state of each of the caller's connections.
///
/// One item per connection: the outcome of its last sync (`never` before the first one, or
/// `needs_reauth`/`revoked` when Google no longer accepts it), when it happened and the error, if
/// any, and the last re-plan that moved blocks on it (`last_replan_at`, `last_replan_moved`; see
/// `GET /schedule/changes`), and `writes_paused` while Google's usage limits stop writes to it.
/// Cheap: nothing is asked of Google.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    responses((status = 200, description = "One entry per connection.", body = SyncStatusList), AuthProblems, ServerProblems)
)]
#[get("/calendar/sync/status")]
pub async fn sync_status(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<web::Json<SyncStatusList>, ApiError> {
    let connections = calendar::list_connections(&state, auth.user_id).await?;
    let replans = replans::last_runs(state.db.conn(), auth.user_id).await?;
    let (cooldown, now) = (calendar::write_pause(&state), Utc::now());
    let items = connections
        .into_iter()
        .map(|connection| {
            let (last_replan_at, last_replan_moved) =
                replans.get(&connection.id).map_or((None, 0), |(at, moved)| (Some(*at), *moved));
            let status = match (connection.status, connection.last_sync_status.as_deref()) {
                (ConnectionStatus::NeedsReauth, _) => "needs_reauth".to_owned(),
                (ConnectionStatus::Revoked, _) => "revoked".to_owned(),
                (_, Some(status)) => status.to_owned(),
                (_, None) => "never".to_owned(),
            };
            SyncStatusResponse {
                writes_paused: WritesPausedResponse::of(&connection, cooldown, now),
                connection_id: connection.id,
                status,
                last_synced_at: connection.last_synced_at,
                error: connection.last_error,
                last_replan_at,
                last_replan_moved,
            }
        })
        .collect();
    Ok(web::Json(SyncStatusList { items, next_cursor: None }))
}

/// The next events across the caller's calendars, by start.
///
/// Events from every connection (the built-in calendar and Google) that have not ended yet, within
/// the next `days` days (1–365, default 7), at most `limit` of them (1–100, default 10), ordered by
/// start. An event placed by plan scheduling carries its `plan_task_id`. Reads the synced copy:
/// nothing is asked of Google.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(UpcomingQuery),
    responses(
        (status = 200, description = "Events by start.", body = UpcomingResponse),
        (status = 400, description = "`limit` or `days` out of range.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/calendar/events/upcoming")]
pub async fn upcoming_events(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<UpcomingQuery>,
) -> Result<web::Json<UpcomingResponse>, ApiError> {
    let limit = crate::routes::bounded_param(query.limit, 10, 100, "limit")?;
    let days = crate::routes::bounded_param(query.days, 7, 365, "days")?;
    let placed = events::upcoming(
        &state,
        auth.user_id,
        usize::try_from(limit).unwrap_or(10),
        u32::try_from(days).unwrap_or(7),
    )
    .await?;
    Ok(web::Json(UpcomingResponse { events: placed.into_iter().map(Into::into).collect() }))
}

/// Create an event on Google (by default the caller's Google calendar) or the built-in calendar.
///
/// Google's refusals map to problems: a grant Google no longer accepts → 409
/// `calendar_needs_reauth`; a 403 → 502 with Google's reason; a 400 → 422 naming the field.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    request_body = CreateEventRequest,
    responses(
        (status = 201, description = "The event as stored.", body = EventResponse, headers(
            ("Location" = String, description = "The event's path: `/api/v1/calendar/events/{id}`.")
        )),
        (status = 404, description = "`connection_id` is not one of the caller's connections.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Google connection needs to be authorised again.", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google refused or answered badly.", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Google did not answer in time.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/calendar/events")]
pub async fn create_event(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateEventRequest>,
) -> Result<HttpResponse, ApiError> {
    let new = body.parse()?;
    let placed = events::create(&state, auth.user_id, new).await?;
    Ok(created(format!("/api/v1/calendar/events/{}", placed.event.id), &EventResponse::from(placed)))
}

/// One of the caller's stored events (from any of their calendars), as its creation returned it.
///
/// This is where the `Location` of `POST /calendar/events` points. It reads the stored copy: a
/// Google event shows as of the last sync (or as written by Planwright), with its start and end
/// in UTC and an all-day event at midnight in the caller's time zone. Someone else's event, or one
/// removed since, is a 404.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The event's id.")),
    responses(
        (status = 200, description = "The event.", body = EventResponse),
        (status = 404, description = "No such event (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/calendar/events/{id}")]
pub async fn get_event(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<EventResponse>, ApiError> {
    Ok(web::Json(events::get(&state, auth.user_id, id.into_inner()).await?.into()))
}

/// Google's push notification for a watched calendar (public; checked by channel id and token).
///
/// Answers at once; an incremental sync of that connection runs in the background.
#[utoipa::path(
    tag = "calendar",
    params(
        ("X-Goog-Channel-ID" = Option<String>, Header, description = "The channel's id."),
        ("X-Goog-Channel-Token" = Option<String>, Header, description = "The channel's token."),
        ("X-Goog-Resource-State" = Option<String>, Header, description = "`sync`, `exists` or `not_exists`."),
    ),
    responses(
        (status = 200, description = "Accepted."),
        (status = 404, description = "No channel matches.", body = Problem, content_type = "application/problem+json"),
        ServerProblems
    )
)]
#[post("/calendar/google/notifications")]
pub async fn google_notification(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let header = |name: &str| req.headers().get(name).and_then(|value| value.to_str().ok());
    let changed = sync::notification(
        &state,
        header("x-goog-channel-id"),
        header("x-goog-channel-token"),
        header("x-goog-resource-state"),
    )
    .await?;
    if let Some(connection) = changed {
        calendar_sync::sync_in_background(state.get_ref().clone(), connection);
    }
    Ok(HttpResponse::Ok().finish())
}
