//! Scheduling any of the person's tasks, and the answer both scheduling routes give
//! (`POST /schedule` here, `POST /plans/{id}/schedule` in `plans`).

use actix_web::{get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use planwright_domain::{ChangeReason, FieldError, ScheduleChange, TimeZone, ValidationErrors};
use planwright_store::repo::replans;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{ApiError, AuthProblems, BodyProblems, Problem, QueryProblems, ServerProblems},
    extract::{ApiJsonOrEmpty, ApiQuery, AuthUser},
    routes::PageQuery,
    services::calendar::schedule::{
        self, MAX_TASKS, MoveReasons, ScheduleInput, ScheduleResult, ScheduleScope,
    },
    state::AppState,
};

/// Which tasks to schedule, and where.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"task_ids": ["0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11"], "until": "2026-12-14T00:00:00Z", "dry_run": true}))]
pub struct ScheduleTasksRequest {
    /// The tasks to place, at most 500 (default: every open task that has an estimate). Done tasks
    /// named here are reported, never placed.
    #[serde(default, deserialize_with = "crate::extract::strict_list")]
    #[schema(max_items = 500)]
    pub task_ids: Option<Vec<Uuid>>,
    /// Nothing starts before this (RFC 3339 with an offset; default, and at the earliest: now,
    /// rounded up to the next five-minute mark).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub from: Option<DateTime<Utc>>,
    /// Nothing ends after this (default: `from` plus your scheduling horizon; at most 366 days
    /// after `from`).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub until: Option<DateTime<Utc>>,
    /// IANA zone to schedule in (default: the caller's).
    pub timezone: Option<String>,
    /// The calendar (default: the caller's Google calendar, else the built-in one).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub connection_id: Option<Uuid>,
    /// Compute the placements and write nothing (default `false`).
    pub dry_run: Option<bool>,
}

/// Where one chunk of a task goes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "chunk": 0, "chunks": 2, "start": "2026-12-07T08:00:00Z", "end": "2026-12-07T09:30:00Z", "pinned": false}))]
pub struct PlacementResponse {
    /// The task.
    pub task_id: Uuid,
    /// Which chunk of the task: new chunks are numbered in time order from 0, skipping the
    /// numbers of the task's pinned blocks; the chunk's event id follows from task and number.
    pub chunk: u16,
    /// How many chunks the task has, pinned ones included (1: not split).
    pub chunks: u16,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// A block you moved, lengthened or shortened by hand in your calendar: it stays where you
    /// put it, the run neither writes nor deletes its event, and its minutes count toward the
    /// task's estimate.
    pub pinned: bool,
}

/// A task that could not be placed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f03", "reason": "deadline_unreachable", "detail": "No free time was found before the task's deadline; move the deadline or free some time."}))]
pub struct UnscheduledResponse {
    /// The task.
    pub task_id: Uuid,
    /// `no_duration`, `longer_than_working_day`, `longer_than_daily_cap`,
    /// `no_free_slot_within_horizon`, `deadline_unreachable` or `done`.
    #[schema(example = "deadline_unreachable")]
    pub reason: String,
    /// The reason for people.
    pub detail: String,
}

/// A task placed, but not all of it before its deadline.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f04", "due_at": "2026-12-08T17:00:00Z", "minutes_missing": 45, "detail": "45 minutes of this task fall after its deadline."}))]
pub struct AtRiskResponse {
    /// The task.
    pub task_id: Uuid,
    /// Its deadline.
    pub due_at: DateTime<Utc>,
    /// Minutes of work not finished by the deadline (placed after it, or not placed at all).
    pub minutes_missing: u32,
    /// What that means, for people.
    pub detail: String,
}

/// A day that would need more focused work than the daily cap allows.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"date": "2026-12-08", "load_minutes": 480, "cap_minutes": 360, "detail": "2026-12-08 needs 480 minutes of focused work but your daily cap is 360 minutes."}))]
pub struct OvercommittedDayResponse {
    /// The day, in the time zone.
    pub date: NaiveDate,
    /// Minutes placed on it plus the minutes missing of work due that day.
    pub load_minutes: u32,
    /// The daily focus cap.
    pub cap_minutes: u32,
    /// What that means, for people.
    pub detail: String,
}

/// A chunk's calendar event after the run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "chunk": 0, "event_id": "pl069qbk0s5dv4v2kgbdm7r3kv08", "html_link": "https://www.google.com/calendar/event?eid=cGwwNjlxYmswczVkdjR2Mmtn", "status": "created", "error": null}))]
pub struct ScheduledEventResponse {
    /// The task.
    pub task_id: Uuid,
    /// Which chunk of it.
    pub chunk: u16,
    /// The event's id at the provider (the same on every run).
    pub event_id: String,
    /// Link to the event.
    pub html_link: Option<String>,
    /// `created`, `updated`, `unchanged` or `failed`.
    #[schema(example = "created")]
    pub status: String,
    /// Why it failed; running the schedule again finishes the job.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An event removed because its task is gone, could not be placed, or has fewer chunks now.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event_id": "pl069qbk0s5dv4v2kgbdm7r3kv14", "task_id": null}))]
pub struct RemovedEventResponse {
    /// The task it held, when it still exists.
    pub task_id: Option<Uuid>,
    /// The event's id at the provider.
    pub event_id: String,
}

/// The result of a scheduling run.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "placements": [
        {"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "chunk": 0, "chunks": 1, "start": "2026-12-07T08:00:00Z", "end": "2026-12-07T09:30:00Z", "pinned": false},
        {"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f03", "chunk": 0, "chunks": 2, "start": "2026-12-08T08:00:00Z", "end": "2026-12-08T10:00:00Z", "pinned": false},
        {"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f03", "chunk": 1, "chunks": 2, "start": "2026-12-08T12:00:00Z", "end": "2026-12-08T13:00:00Z", "pinned": false}
    ],
    "unscheduled": [],
    "at_risk": [],
    "overcommitted_days": [],
    "events": [
        {"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "chunk": 0, "event_id": "pl069qbk0s5dv4v2kgbdm7r3kv08", "html_link": "https://www.google.com/calendar/event?eid=cGwwNjlxYmswczVkdjR2Mmtn", "status": "created", "error": null},
        {"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f03", "chunk": 0, "event_id": "pl069qbk0s5dv4v2kgbdm7r3kv0c", "html_link": "https://www.google.com/calendar/event?eid=cGwwNjlxYmswczVkdjR2Mmth", "status": "created", "error": null},
        {"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f03", "chunk": 1, "event_id": "pl069qbk0s5dv4v2kgbdm7r3kv0c0001", "html_link": "https://www.google.com/calendar/event?eid=cGwwNjlxYmswczVkdjR2Mmti", "status": "created", "error": null}
    ],
    "removed_events": [],
    "dry_run": false,
    "connection_id": "0193a625-6e7f-7081-9c23-0d1e2f3a4b51",
    "timezone": "Europe/Berlin",
    "start_date": "2026-12-07"
}))]
pub struct ScheduleResponse {
    /// Where each chunk goes, in time order, pinned blocks included.
    pub placements: Vec<PlacementResponse>,
    /// Tasks that could not be placed, with the reason.
    pub unscheduled: Vec<UnscheduledResponse>,
    /// Placed tasks that will not be finished by their deadline.
    pub at_risk: Vec<AtRiskResponse>,
    /// Days that would need more focused work than the daily cap.
    pub overcommitted_days: Vec<OvercommittedDayResponse>,
    /// One entry per chunk written, i.e. per placement that is not pinned (empty on a dry run).
    pub events: Vec<ScheduledEventResponse>,
    /// Events deleted (empty on a dry run).
    pub removed_events: Vec<RemovedEventResponse>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The calendar used.
    pub connection_id: Uuid,
    /// The time zone used.
    pub timezone: String,
    /// The plan's first day (a plan's run only; `null` otherwise).
    pub start_date: Option<NaiveDate>,
}

impl From<ScheduleResult> for ScheduleResponse {
    fn from(result: ScheduleResult) -> Self {
        let outcome = result.outcome;
        Self {
            placements: outcome
                .placements
                .iter()
                .map(|p| PlacementResponse {
                    task_id: p.task_id,
                    chunk: p.chunk,
                    chunks: p.chunks,
                    start: p.start,
                    end: p.end,
                    pinned: p.pinned,
                })
                .collect(),
            unscheduled: outcome
                .unscheduled
                .iter()
                .map(|u| UnscheduledResponse {
                    task_id: u.task_id,
                    reason: u.reason.as_str().to_owned(),
                    detail: u.detail(),
                })
                .collect(),
            at_risk: outcome
                .at_risk
                .iter()
                .map(|a| AtRiskResponse {
                    task_id: a.task_id,
                    due_at: a.due_at,
                    minutes_missing: a.minutes_missing,
                    detail: a.detail(),
                })
                .collect(),
            overcommitted_days: outcome
                .overcommitted_days
                .iter()
                .map(|d| OvercommittedDayResponse {
                    date: d.date,
                    load_minutes: d.load_minutes,
                    cap_minutes: d.cap_minutes,
                    detail: d.detail(),
                })
                .collect(),
            events: result
                .events
                .into_iter()
                .map(|e| ScheduledEventResponse {
                    task_id: e.task_id,
                    chunk: e.chunk,
                    event_id: e.event_id,
                    html_link: e.html_link,
                    status: e.status.as_str().to_owned(),
                    error: e.error,
                })
                .collect(),
            removed_events: result
                .removed
                .into_iter()
                .map(|r| RemovedEventResponse { task_id: r.task_id, event_id: r.event_id })
                .collect(),
            dry_run: result.dry_run,
            connection_id: result.connection_id,
            timezone: result.time_zone.name().to_owned(),
            start_date: result.start_date,
        }
    }
}

/// The `timezone` of a scheduling request, checked (422 naming it).
pub fn parse_timezone(raw: Option<&str>) -> Result<Option<TimeZone>, ApiError> {
    raw.map(TimeZone::parse).transpose().map_err(|error| {
        ApiError::Validation(ValidationErrors::from_iter([FieldError::new("timezone", error.message)]))
    })
}

/// Plan my week: put any of your tasks on a calendar.
///
/// Places the named tasks (default: every open task with an `estimate_minutes`, plan tasks
/// included) into free time between `from` and `until`: inside your working hours and time zone,
/// around busy time on the chosen calendar with your buffer, under your daily focus cap. `urgent`
/// work goes first, then the earliest `due_at`, then `high` before `normal` before `low`; a plan's
/// tasks keep their order and start no earlier than their day of the plan (when the plan has been
/// scheduled); nothing starts before a task's `earliest_start`. A long task is split into chunks of
/// at least its `min_chunk_minutes` (`null`: never split). A task that cannot be finished before
/// its deadline is still placed as early as possible and listed in `at_risk` with the minutes
/// missing, or, when nothing of it fits before the deadline, in `unscheduled` with
/// `deadline_unreachable`; days that would need more than the cap are listed in
/// `overcommitted_days`. Writes are idempotent as for a plan: each chunk's event id follows from
/// the task and chunk, so running it again updates, keeps or deletes events — never duplicates.
/// A block you moved, lengthened or shortened by hand in your calendar is pinned: the run keeps it
/// where it is (its event is never updated or deleted), counts its minutes toward the task's
/// estimate and places only the rest (estimate minus pinned minutes, none when they cover it) as
/// new chunks with numbers of their own; it is busy time for every other chunk and counts toward
/// its day's focus cap. Blocks it moves are listed in `GET /schedule/changes` with reason `edited`. With
/// `schedule_preferences.focus_time`, new blocks on Google are focus-time events where Google
/// allows them. While Google's usage limits stop writes to the calendar (`writes_paused` on the
/// connection), a run that would write answers 503 and writes nothing; a run that meets them
/// half-way stops writing and reports the rest as `failed`.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    request_body = ScheduleTasksRequest,
    responses(
        (status = 200, description = "Placements and what was written.", body = ScheduleResponse),
        (status = 404, description = "No such connection (or someone else's).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Google connection needs to be authorised again.", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google refused or answered badly.", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Google did not answer in time.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/schedule")]
pub async fn schedule_tasks(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<ScheduleTasksRequest>,
) -> Result<web::Json<ScheduleResponse>, ApiError> {
    if body.task_ids.as_ref().is_some_and(|ids| ids.len() > MAX_TASKS) {
        return Err(FieldError::new("task_ids", format!("At most {MAX_TASKS} tasks per run.")).into());
    }
    let input = ScheduleInput {
        scope: ScheduleScope::Tasks { task_ids: body.task_ids, from: body.from, until: body.until },
        time_zone: parse_timezone(body.timezone.as_deref())?,
        connection_id: body.connection_id,
        dry_run: body.dry_run.unwrap_or(false),
        reasons: MoveReasons::Edited,
    };
    let result = schedule::schedule_tasks(&state, auth.user_id, input).await?;
    Ok(web::Json(result.into()))
}

/// Which block moves to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScheduleChangesQuery {
    /// Only moves at or after this instant (RFC 3339 with an offset, e.g. `2026-12-07T00:00:00Z`).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub since: Option<DateTime<Utc>>,
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Why a block moved.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReasonBody {
    /// A meeting (or a block pinned by hand) landed on it or inside its buffer.
    Conflict,
    /// It ended with its task not done; the work rolled forward.
    Missed,
    /// It ended after its task's deadline (the due time moved earlier, or room opened up), so it
    /// was placed again from now.
    Deadline,
    /// A scheduling run asked for by the person moved it.
    Edited,
}

impl From<ChangeReason> for ChangeReasonBody {
    fn from(reason: ChangeReason) -> Self {
        match reason {
            ChangeReason::Conflict => Self::Conflict,
            ChangeReason::Missed => Self::Missed,
            ChangeReason::Deadline => Self::Deadline,
            ChangeReason::Edited => Self::Edited,
        }
    }
}

/// One block that moved by itself.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"task_id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "chunk": 0, "from": "2026-12-07T09:00:00Z", "to": "2026-12-07T13:00:00Z", "reason": "conflict", "at": "2026-12-06T18:02:11Z"}))]
pub struct ScheduleChangeResponse {
    /// The task.
    pub task_id: Uuid,
    /// Which chunk of it, from 0 in time order.
    pub chunk: u16,
    /// Its start before; `null` when the chunk is new (the task was cut differently).
    pub from: Option<DateTime<Utc>>,
    /// Its start after; `null` when no free time was left for it before your horizon.
    pub to: Option<DateTime<Utc>>,
    /// Why it moved.
    pub reason: ChangeReasonBody,
    /// When it moved.
    pub at: DateTime<Utc>,
}

impl From<ScheduleChange> for ScheduleChangeResponse {
    fn from(change: ScheduleChange) -> Self {
        Self {
            task_id: change.task_id,
            chunk: change.chunk,
            from: change.from,
            to: change.to,
            reason: change.reason.into(),
            at: change.at,
        }
    }
}

/// A page of block moves, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleChangeList {
    /// The moves.
    pub items: Vec<ScheduleChangeResponse>,
    /// Pass as `cursor` to read on; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// What moved on your calendar, and why.
///
/// Re-planning (your `auto_replan` preference, on by default) moves a block when a meeting lands
/// on it or inside your buffer (`conflict`), when it ended with its task not done (`missed`), or
/// when it ends after its task's deadline (`deadline`); the later tasks of the same plan move
/// with it to keep the plan's order. A scheduling run you ask for (`POST /schedule`, `POST
/// /plans/{id}/schedule`, or a confirmed chat action) that moves or removes a block lists it as
/// `edited`; a block placed for the first time is not a move. Each moved chunk is
/// listed once per move with its start before (`from`) and after (`to`), newest first, from
/// `since` on (RFC 3339). Blocks you moved by hand in your calendar are pinned and never moved
/// back; events Planwright did not create are never touched. Pages hold `limit` items (1–200,
/// default 50); pass `next_cursor` as `cursor` to read on.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(ScheduleChangesQuery),
    responses(
        (status = 200, description = "A page of moves, newest first.", body = ScheduleChangeList),
        (status = 400, description = "A query parameter is not valid (`since` not RFC 3339, a bad cursor).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/schedule/changes")]
pub async fn list_schedule_changes(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<ScheduleChangesQuery>,
) -> Result<web::Json<ScheduleChangeList>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, cursor: query.cursor }.page()?;
    let page = replans::changes(state.db.conn(), auth.user_id, query.since, &page).await?;
    Ok(web::Json(ScheduleChangeList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}
