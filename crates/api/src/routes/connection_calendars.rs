//! The calendars of a connected account: which count as busy time, which receives the blocks.

use actix_web::{get, patch, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::{ApiError, AuthProblems, BodyProblems, Problem, ServerProblems},
    extract::{ApiJsonOrEmpty, AuthUser},
    services::calendar::calendars::{self, AccountCalendar, CalendarSelection},
    state::AppState,
};

/// One calendar of the account and how Planwright uses it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "ada@gmail.com", "summary": "Ada Lovelace", "primary": true, "access_role": "owner", "time_zone": "Europe/London", "background_color": "#9fe1e7", "selected": true, "hidden": false, "busy": true, "target": true, "writable": true}))]
pub struct AccountCalendarResponse {
    /// Google's calendar id (the account's e-mail for the primary calendar; `local` for the
    /// built-in one). Use it in `PATCH`.
    pub id: String,
    /// Title (the person's own name for it at Google, when they gave one).
    pub summary: Option<String>,
    /// The account's primary calendar.
    pub primary: bool,
    /// The account's access: `owner`, `writer`, `writerWithoutPrivateAccess`, `reader` or
    /// `freeBusyReader`.
    #[schema(example = "owner")]
    pub access_role: Option<String>,
    /// IANA time zone of the calendar.
    pub time_zone: Option<String>,
    /// Colour at Google, `#rrggbb`.
    pub background_color: Option<String>,
    /// Shown in Google Calendar's own UI.
    pub selected: bool,
    /// Hidden from Google Calendar's list (it can still count as busy time).
    pub hidden: bool,
    /// Its events count as busy time (always true for the target).
    pub busy: bool,
    /// Planwright writes the blocks here.
    pub target: bool,
    /// Planwright may write here (`owner` or a writer role): only such a calendar can be the target.
    pub writable: bool,
}

/// The account's calendars.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": [
    {"id": "ada@gmail.com", "summary": "Ada Lovelace", "primary": true, "access_role": "owner", "time_zone": "Europe/London", "background_color": "#9fe1e7", "selected": true, "hidden": false, "busy": true, "target": true, "writable": true},
    {"id": "c_8f2k1m@group.calendar.google.com", "summary": "Team", "primary": false, "access_role": "writer", "time_zone": "Europe/London", "background_color": "#f691b2", "selected": true, "hidden": false, "busy": true, "target": false, "writable": true},
    {"id": "en.uk#holiday@group.v.calendar.google.com", "summary": "Holidays in the United Kingdom", "primary": false, "access_role": "reader", "time_zone": "Europe/London", "background_color": "#16a765", "selected": true, "hidden": false, "busy": false, "target": false, "writable": false}
], "next_cursor": null}))]
pub struct AccountCalendarList {
    /// The primary calendar first, then the others in Google's order.
    pub items: Vec<AccountCalendarResponse>,
    /// Always `null`: the list fits one page.
    pub next_cursor: Option<String>,
}

/// A new choice: a field left out keeps the current choice (an empty body changes nothing).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"busy": ["ada@gmail.com", "c_8f2k1m@group.calendar.google.com"], "target": "ada@gmail.com"}))]
pub struct SelectCalendarsRequest {
    /// Every calendar whose events count as busy time (ids from the list; `primary` names the
    /// primary calendar), at most 50. The target counts whether listed or not, so `[]` means
    /// "only the target calendar".
    #[schema(max_items = 50)]
    pub busy: Option<Vec<String>>,
    /// The calendar that receives the blocks: it must be writable (`owner` or a writer role).
    pub target: Option<String>,
}

impl From<AccountCalendar> for AccountCalendarResponse {
    fn from(calendar: AccountCalendar) -> Self {
        Self {
            id: calendar.id,
            summary: calendar.summary,
            primary: calendar.primary,
            access_role: calendar.access_role,
            time_zone: calendar.time_zone,
            background_color: calendar.background_color,
            selected: calendar.selected,
            hidden: calendar.hidden,
            busy: calendar.busy,
            target: calendar.target,
            writable: calendar.writable,
        }
    }
}

fn list(calendars: Vec<AccountCalendar>) -> web::Json<AccountCalendarList> {
    web::Json(AccountCalendarList {
        items: calendars.into_iter().map(Into::into).collect(),
        next_cursor: None,
    })
}

/// The calendars of a connection's account, with which count as busy time and which receives
/// the blocks.
///
/// Read from Google's calendar list each time (hidden calendars included). Until the person
/// chooses, the connection's own calendar (the primary one) is both the only busy calendar and
/// the target. The built-in connection has one calendar, `local`. Google's failures answer 502,
/// 503 or 504 with a human `detail`.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection's id.")),
    responses(
        (status = 200, description = "The account's calendars.", body = AccountCalendarList),
        (status = 404, description = "Not one of the caller's connections.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Google no longer accepts the connection (`calendar_needs_reauth`).", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google refused or answered badly.", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Google did not answer in time.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/calendar/connections/{id}/calendars")]
pub async fn list_connection_calendars(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<web::Json<AccountCalendarList>, ApiError> {
    Ok(list(calendars::list_calendars(&state, auth.user_id, path.into_inner()).await?))
}

/// Choose which calendars count as busy time and which receives the blocks.
///
/// `busy` replaces the set of busy calendars (the target always counts); `target` moves where
/// new blocks are written; a field left out keeps the current choice. Scheduling, free/busy and automatic re-planning use the choice at
/// once: a newly chosen calendar is synced in the background (free/busy sees it before that), a
/// calendar no longer chosen stops counting and its synced events are removed here (never at
/// Google). Blocks already written are not moved: while the current target holds blocks that
/// have not ended, changing the target answers 409 `calendar_target_has_blocks`.
#[utoipa::path(
    tag = "calendar",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The connection's id.")),
    request_body = SelectCalendarsRequest,
    responses(
        (status = 200, description = "The account's calendars with the new choice.", body = AccountCalendarList),
        (status = 404, description = "Not one of the caller's connections.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The current target still holds blocks that have not ended (`calendar_target_has_blocks`), or Google no longer accepts the connection (`calendar_needs_reauth`).", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An id the account does not have (`busy[i]`, `target`), a read-only target, or more than 50 busy calendars.", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google refused or answered badly.", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Google did not answer in time.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[patch("/calendar/connections/{id}/calendars")]
pub async fn select_connection_calendars(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<SelectCalendarsRequest>,
) -> Result<web::Json<AccountCalendarList>, ApiError> {
    let selection = CalendarSelection { busy: body.busy, target: body.target };
    Ok(list(calendars::select_calendars(&state, auth.user_id, path.into_inner(), selection).await?))
}
