//! Putting a plan on a calendar: busy time from the chosen connection (its synced events and,
//! for Google, `freeBusy`), the pure scheduler from `planwright-domain`, then idempotent writes.
//!
//! Every task's event has a deterministic id (`event_id_for_task`) and carries the plan and task
//! in `extendedProperties.private` (see `mapping`), so running the schedule again updates, leaves
//! alone or deletes the same events and never duplicates one, even after a run that died half-way.
//! Writes go through one [`CalendarTarget`] per run.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use futures_util::StreamExt;
use planwright_calendar::FreeBusyRequest;
use planwright_domain::{
    BusyInterval, EventData, Plan, PlanStatus, PlanTask, ScheduleOutcome, ScheduleRequest, ScheduledBlock,
    TaskToPlace, TimeZone, event_id_for_task, schedule, start_of_day,
};
use planwright_store::repo::{calendar as calendar_repo, plans as plan_repo, tasks as task_repo, users};
use uuid::Uuid;

pub use super::target::WriteStatus;
use super::{
    events::{span_times, target_connection},
    google_error,
    mapping::ScheduledTask,
    target::{CalendarTarget, TargetError, stored_plan_events},
};
use crate::{
    error::{ApiError, Missing, not_found},
    state::AppState,
};

/// Writes to the calendar run this many at a time.
const WRITE_CONCURRENCY: usize = 4;
/// Google's free/busy query covers at most this much per request.
const FREE_BUSY_CHUNK: TimeDelta = TimeDelta::days(60);

/// What to schedule.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    /// The plan's first day, in the time zone.
    pub start_date: NaiveDate,
    /// The zone to schedule in (default: the user's).
    pub time_zone: Option<TimeZone>,
    /// The calendar (default: the user's Google calendar, else the built-in one).
    pub connection_id: Option<Uuid>,
    /// Compute only; write nothing.
    pub dry_run: bool,
}

/// One task's event after the run.
#[derive(Debug, Clone)]
pub struct EventWrite {
    /// The task.
    pub task_id: Uuid,
    /// The event's id at the provider (deterministic).
    pub event_id: String,
    /// Link to it.
    pub html_link: Option<String>,
    /// What happened.
    pub status: WriteStatus,
    /// Why it failed.
    pub error: Option<String>,
}

/// An event removed because its task is gone or could not be placed.
#[derive(Debug, Clone)]
pub struct RemovedEvent {
    /// The task it held.
    pub task_id: Option<Uuid>,
    /// The event's id at the provider.
    pub event_id: String,
}

/// The result of a scheduling run.
#[derive(Debug, Clone)]
pub struct ScheduleResult {
    /// Where each task goes, and what could not be placed.
    pub outcome: ScheduleOutcome,
    /// The events written (empty on a dry run).
    pub events: Vec<EventWrite>,
    /// Events deleted (empty on a dry run).
    pub removed: Vec<RemovedEvent>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The calendar used.
    pub connection_id: Uuid,
    /// The zone used.
    pub time_zone: TimeZone,
}

/// Schedules the caller's plan (404 when it is not theirs).
#[tracing::instrument(skip(state, input), fields(dry_run = input.dry_run))]
pub async fn schedule_plan(
    state: &AppState,
    user_id: Uuid,
    plan_id: Uuid,
    input: ScheduleInput,
) -> Result<ScheduleResult, ApiError> {
    let db = state.db.conn();
    let plan = plan_repo::find(db, user_id, plan_id).await.map_err(not_found(Missing::Plan))?;
    let user = users::find(db, user_id).await?;
    let zone = input.time_zone.unwrap_or(user.timezone);
    let connection = target_connection(state, user_id, input.connection_id).await?;
    let target = CalendarTarget::open(state, &connection)?;
    let now = Utc::now();
    let from = start_of_day(input.start_date, &zone).max(now);
    let last_day = input.start_date + TimeDelta::days(i64::from(plan.duration_days));
    let to = start_of_day(last_day, &zone)
        + TimeDelta::days(i64::from(user.schedule_preferences.horizon_days()) + 2);
    let window = (from, to.max(from + TimeDelta::days(1)));
    let busy = busy_time(state, &target, &plan, &zone, window).await?;
    let request = ScheduleRequest {
        tasks: plan.tasks.iter().map(TaskToPlace::from).collect(),
        start_date: input.start_date,
        time_zone: zone,
        working_hours: user.working_hours.clone(),
        busy,
        preferences: user.schedule_preferences,
        not_before: Some(now),
    };
    let outcome = schedule(&request);
    let mut result = ScheduleResult {
        outcome,
        events: Vec::new(),
        removed: Vec::new(),
        dry_run: input.dry_run,
        connection_id: connection.id,
        time_zone: zone,
    };
    if input.dry_run {
        return Ok(result);
    }
    write(state, user_id, &target, &plan, &mut result).await?;
    Ok(result)
}

/// Deletes the caller's plan with its calendar events on all their calendars
/// (`DELETE /plans/{id}?delete_events=true`). Nothing is deleted, the plan included, unless every
/// calendar holding its events can be written: a Google connection that needs a new consent
/// answers 409 `calendar_needs_reauth`, one while Google is not configured 503, so no event is
/// ever left on Google without its plan.
pub async fn delete_plan_with_events(state: &AppState, user_id: Uuid, plan_id: Uuid) -> Result<(), ApiError> {
    let db = state.db.conn();
    plan_repo::find(db, user_id, plan_id).await.map_err(not_found(Missing::Plan))?;
    let connections = super::list_connections(state, user_id).await?;
    let mut targets = Vec::with_capacity(connections.len());
    for connection in &connections {
        match CalendarTarget::open(state, connection) {
            Ok(target) => targets.push(target),
            // A calendar that cannot be written blocks the deletion only if it holds the plan's events.
            Err(refused) => {
                if !stored_plan_events(state, connection, user_id, plan_id).await?.is_empty() {
                    return Err(refused);
                }
            }
        }
    }
    for target in &targets {
        for (event_id, _) in target.plan_events(user_id, plan_id).await? {
            target.delete(&event_id).await?;
        }
    }
    plan_repo::delete(db, user_id, plan_id).await.map_err(not_found(Missing::Plan))
}

// ---- busy time ------------------------------------------------------------------------------

/// Busy time on the target's calendar in `(from, to)`: its stored events (this plan's own left
/// out) and, for Google, `freeBusy`.
async fn busy_time(
    state: &AppState,
    target: &CalendarTarget<'_>,
    plan: &Plan,
    zone: &TimeZone,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<BusyInterval>, ApiError> {
    let connection = target.connection();
    let own: HashSet<String> = plan.tasks.iter().map(|task| event_id_for_task(task.id)).collect();
    let stored = calendar_repo::spans_between(
        state.db.conn(),
        connection.user_id,
        Some(connection.id),
        from - TimeDelta::days(1),
        to + TimeDelta::days(1),
        20_000,
    )
    .await?;
    let (mine, others): (Vec<_>, Vec<_>) =
        stored.into_iter().partition(|event| own.contains(&event.provider_event_id));
    let mut busy: Vec<BusyInterval> = others
        .iter()
        .filter(|event| !event.transparent)
        .map(|event| {
            let (start, end) = span_times(event, zone);
            BusyInterval { start, end }
        })
        .collect();
    if let Some(client) = target.google() {
        // Free/busy also sees what the last sync has not brought in yet. It cannot tell this
        // plan's own events apart, so their stored times are cut out of its blocks.
        let own_times: Vec<(DateTime<Utc>, DateTime<Utc>)> =
            mine.iter().map(|event| (event.start, event.end)).collect();
        let mut start = from;
        while start < to {
            let end = (start + FREE_BUSY_CHUNK).min(to);
            let request = FreeBusyRequest::new(start, end, [connection.calendar_id.clone()]);
            let answer = match client.free_busy(&request).await {
                Ok(answer) => answer,
                Err(error) => return Err(google_error(state, connection.id, error).await),
            };
            for calendar in answer.calendars.values() {
                for block in &calendar.busy {
                    for (start, end) in subtract((block.start, block.end), &own_times) {
                        busy.push(BusyInterval { start, end });
                    }
                }
            }
            start = end;
        }
    }
    Ok(busy)
}

/// `block` without the parts covered by `holes`.
fn subtract(
    block: (DateTime<Utc>, DateTime<Utc>),
    holes: &[(DateTime<Utc>, DateTime<Utc>)],
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let mut pieces = vec![block];
    for &(hole_start, hole_end) in holes {
        pieces = pieces
            .into_iter()
            .flat_map(|(start, end)| {
                if hole_end <= start || hole_start >= end {
                    return vec![(start, end)];
                }
                let mut kept = Vec::new();
                if hole_start > start {
                    kept.push((start, hole_start));
                }
                if hole_end < end {
                    kept.push((hole_end, end));
                }
                kept
            })
            .collect();
    }
    pieces
}

// ---- writing --------------------------------------------------------------------------------

async fn write(
    state: &AppState,
    user_id: Uuid,
    target: &CalendarTarget<'_>,
    plan: &Plan,
    result: &mut ScheduleResult,
) -> Result<(), ApiError> {
    let tasks: HashMap<Uuid, &PlanTask> = plan.tasks.iter().map(|task| (task.id, task)).collect();
    let zone = result.time_zone;
    let writes = futures_util::stream::iter(result.outcome.placements.iter().filter_map(|placement| {
        let task = *tasks.get(&placement.task_id)?;
        let scheduled = ScheduledTask { plan, task, start: placement.start, end: placement.end, zone: &zone };
        Some(write_task(state, user_id, target, scheduled))
    }))
    .buffer_unordered(WRITE_CONCURRENCY)
    .collect::<Vec<EventWrite>>()
    .await;
    let order: HashMap<Uuid, usize> = plan.tasks.iter().enumerate().map(|(i, task)| (task.id, i)).collect();
    result.events = writes;
    result.events.sort_by_key(|write| order.get(&write.task_id).copied().unwrap_or(usize::MAX));

    // Events of tasks that are gone, or that could not be placed this time, are removed.
    let placed: HashSet<Uuid> = result.outcome.placements.iter().map(|p| p.task_id).collect();
    for (event_id, task_id) in target.plan_events(user_id, plan.id).await? {
        if task_id.is_some_and(|id| placed.contains(&id)) {
            continue;
        }
        target.delete(&event_id).await?;
        if let Some(task_id) = task_id.filter(|id| tasks.contains_key(id)) {
            task_repo::set_blocks(state.db.conn(), user_id, task_id, &[]).await?;
        }
        result.removed.push(RemovedEvent { task_id, event_id });
    }
    let failed = result.events.iter().any(|write| write.status == WriteStatus::Failed);
    if !failed && !result.outcome.placements.is_empty() {
        plan_repo::set_status(state.db.conn(), user_id, plan.id, PlanStatus::Scheduled).await?;
    }
    Ok(())
}

/// Writes one task's event and records it (the local copy, the task's schedule).
async fn write_task(
    state: &AppState,
    user_id: Uuid,
    target: &CalendarTarget<'_>,
    scheduled: ScheduledTask<'_>,
) -> EventWrite {
    let (task, event_id) = (scheduled.task, scheduled.event_id());
    let failed = |html_link, detail: String| EventWrite {
        task_id: task.id,
        event_id: event_id.clone(),
        html_link,
        status: WriteStatus::Failed,
        error: Some(detail),
    };
    let (status, data) = match target.put(&scheduled).await {
        Ok(written) => written,
        Err(TargetError::Google(error)) => {
            let detail = google_error(state, target.connection().id, error).await.problem().detail;
            return failed(None, detail);
        }
        Err(TargetError::Store(error)) => {
            tracing::error!(error = %error, "could not store a scheduled event");
            return failed(None, "The event could not be stored.".to_owned());
        }
    };
    let data = EventData { plan_task_id: Some(task.id), plan_id: Some(scheduled.plan.id), ..data };
    let html_link = data.html_link.clone();
    let connection_id = target.connection().id;
    let stored = calendar_repo::upsert_event(state.db.conn(), user_id, connection_id, data).await;
    let block = ScheduledBlock {
        chunk: 0,
        start: scheduled.start,
        end: scheduled.end,
        event_id: Some(event_id.clone()),
    };
    let scheduled = task_repo::set_blocks(state.db.conn(), user_id, task.id, &[block]).await;
    if let Err(error) = stored.map(|_| ()).and(scheduled) {
        tracing::error!(error = %error, "could not record a scheduled event");
        return failed(
            html_link,
            "The event was written but could not be recorded here; run the schedule again.".to_owned(),
        );
    }
    EventWrite { task_id: task.id, event_id, html_link, status, error: None }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap()
    }

    #[test]
    fn own_events_are_cut_out_of_busy_blocks() {
        assert_eq!(subtract((at(9), at(12)), &[(at(10), at(11))]), vec![(at(9), at(10)), (at(11), at(12))]);
        assert_eq!(subtract((at(9), at(10)), &[(at(9), at(10))]), vec![]);
        assert_eq!(subtract((at(9), at(10)), &[(at(11), at(12))]), vec![(at(9), at(10))]);
        assert_eq!(subtract((at(9), at(12)), &[(at(8), at(10)), (at(11), at(13))]), vec![(at(10), at(11))]);
    }
}
