//! Putting a plan on a calendar: busy time from the chosen connection (its synced events and,
//! for Google, `freeBusy`), the pure scheduler from `planwright-domain`, then idempotent writes.
//!
//! Every task's event has a deterministic id (`event_id_for_task`) and carries the plan and task
//! in `extendedProperties.private`, so running the schedule again updates, leaves alone or
//! deletes the same events and never duplicates one, even after a run that died half-way.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use futures_util::StreamExt;
use planwright_calendar::{
    Client, Error as GoogleError, Event, EventDateTime, EventListParams, FreeBusyRequest, WriteParams,
};
use planwright_domain::{
    BusyInterval, CalendarConnection, CalendarProvider, ConnectionStatus, EventData, Plan, PlanStatus,
    PlanTask, ScheduleOutcome, ScheduleRequest, TaskToPlace, TimeZone, event_id_for_task, schedule,
};
use planwright_store::repo::{calendar as calendar_repo, plans as plan_repo, users};
use uuid::Uuid;

use crate::{
    error::ApiError,
    services::calendar::{
        GoogleCalendar,
        events::midnight,
        events::placed_times,
        events::target_connection,
        google_error, require_google,
        sync::{PLAN_PROPERTY, TASK_PROPERTY},
    },
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

/// How writing one task's event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStatus {
    /// A new event.
    Created,
    /// An existing event was changed (moved, renamed, restored).
    Updated,
    /// The event already matched.
    Unchanged,
    /// The write failed; a re-run finishes it.
    Failed,
}

impl WriteStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Failed => "failed",
        }
    }
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
    let plan = plan_repo::find(db, user_id, plan_id).await.map_err(crate::services::plans::not_found)?;
    let user = users::find(db, user_id).await?;
    let zone = input.time_zone.unwrap_or(user.timezone);
    let connection = target_connection(state, user_id, input.connection_id).await?;
    if connection.status != ConnectionStatus::Active {
        return Err(ApiError::Conflict {
            code: "calendar_needs_reauth",
            detail: "Google no longer accepts this calendar connection. Connect Google Calendar again."
                .to_owned(),
        });
    }
    let google = match connection.provider {
        CalendarProvider::Google => Some(require_google(state)?),
        CalendarProvider::Local => None,
    };
    let now = Utc::now();
    let from = midnight(input.start_date, &zone).max(now);
    let last_day = input.start_date + TimeDelta::days(i64::from(plan.duration_days));
    let to =
        midnight(last_day, &zone) + TimeDelta::days(i64::from(user.schedule_preferences.horizon_days()) + 2);
    let busy =
        busy_time(state, google, &connection, &plan, &zone, from, to.max(from + TimeDelta::days(1))).await?;
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
    write(state, user_id, google, &connection, &plan, &mut result).await?;
    Ok(result)
}

/// Deletes the calendar events of the caller's plan on all their calendars (before the plan
/// itself goes, with `DELETE /plans/{id}?delete_events=true`).
pub async fn delete_plan_events(state: &AppState, user_id: Uuid, plan_id: Uuid) -> Result<(), ApiError> {
    let db = state.db.conn();
    plan_repo::find(db, user_id, plan_id).await.map_err(crate::services::plans::not_found)?;
    for connection in crate::services::calendar::list_connections(state, user_id).await? {
        let google = match connection.provider {
            CalendarProvider::Google if connection.status == ConnectionStatus::Active => {
                state.calendar.google.as_deref()
            }
            _ => None,
        };
        let ids = plan_event_ids(state, google, &connection, user_id, plan_id).await?;
        for (event_id, _) in ids {
            remove_event(state, google, &connection, &event_id).await?;
        }
    }
    Ok(())
}

// ---- busy time ------------------------------------------------------------------------------

async fn busy_time(
    state: &AppState,
    google: Option<&GoogleCalendar>,
    connection: &CalendarConnection,
    plan: &Plan,
    zone: &TimeZone,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<BusyInterval>, ApiError> {
    let own: HashSet<String> = plan.tasks.iter().map(|task| event_id_for_task(task.id)).collect();
    let stored = calendar_repo::events_between(
        state.db.conn(),
        connection.user_id,
        Some(connection.id),
        from - TimeDelta::days(1),
        to + TimeDelta::days(1),
        20_000,
    )
    .await?;
    let (mine, others): (Vec<_>, Vec<_>) =
        stored.into_iter().partition(|event| own.contains(&event.data.provider_event_id));
    let mut busy: Vec<BusyInterval> = others
        .iter()
        .filter(|event| !event.data.transparent)
        .map(|event| {
            let (start, end) = placed_times(&event.data, zone);
            BusyInterval { start, end }
        })
        .collect();
    if let Some(google) = google {
        // Free/busy also sees what the last sync has not brought in yet. It cannot tell this
        // plan's own events apart, so their stored times are cut out of its blocks.
        let own_times: Vec<(DateTime<Utc>, DateTime<Utc>)> =
            mine.iter().map(|event| (event.data.start, event.data.end)).collect();
        let client = google.client_for(state, connection.id);
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
    google: Option<&GoogleCalendar>,
    connection: &CalendarConnection,
    plan: &Plan,
    result: &mut ScheduleResult,
) -> Result<(), ApiError> {
    let tasks: HashMap<Uuid, &PlanTask> = plan.tasks.iter().map(|task| (task.id, task)).collect();
    let client = google.map(|google| google.client_for(state, connection.id));
    let zone = result.time_zone;
    let writes = futures_util::stream::iter(result.outcome.placements.iter().filter_map(|placement| {
        let task = *tasks.get(&placement.task_id)?;
        Some(write_task(
            state,
            user_id,
            client.as_ref(),
            connection,
            plan,
            task,
            placement.start,
            placement.end,
            &zone,
        ))
    }))
    .buffer_unordered(WRITE_CONCURRENCY)
    .collect::<Vec<EventWrite>>()
    .await;
    let order: HashMap<Uuid, usize> = plan.tasks.iter().enumerate().map(|(i, task)| (task.id, i)).collect();
    result.events = writes;
    result.events.sort_by_key(|write| order.get(&write.task_id).copied().unwrap_or(usize::MAX));

    // Events of tasks that are gone, or that could not be placed this time, are removed.
    let placed: HashSet<Uuid> = result.outcome.placements.iter().map(|p| p.task_id).collect();
    for (event_id, task_id) in plan_event_ids(state, google, connection, user_id, plan.id).await? {
        if task_id.is_some_and(|id| placed.contains(&id)) {
            continue;
        }
        remove_event(state, google, connection, &event_id).await?;
        if let Some(task_id) = task_id.filter(|id| tasks.contains_key(id)) {
            plan_repo::set_task_schedule(state.db.conn(), user_id, task_id, None, None).await?;
        }
        result.removed.push(RemovedEvent { task_id, event_id });
    }
    let failed = result.events.iter().any(|write| write.status == WriteStatus::Failed);
    if !failed && !result.outcome.placements.is_empty() {
        plan_repo::set_status(state.db.conn(), user_id, plan.id, PlanStatus::Scheduled).await?;
    }
    Ok(())
}

/// The events of plan `plan_id` on a connection, with the task each holds: the stored copies,
/// and for Google also what Google lists for the plan (an event written by a run that died
/// before storing its copy is found too).
async fn plan_event_ids(
    state: &AppState,
    google: Option<&GoogleCalendar>,
    connection: &CalendarConnection,
    user_id: Uuid,
    plan_id: Uuid,
) -> Result<Vec<(String, Option<Uuid>)>, ApiError> {
    let mut found: HashMap<String, Option<Uuid>> =
        calendar_repo::events_of_plan(state.db.conn(), user_id, plan_id)
            .await?
            .into_iter()
            .filter(|event| event.connection_id == connection.id)
            .map(|event| (event.data.provider_event_id, event.data.plan_task_id))
            .collect();
    if let Some(google) = google {
        let client = google.client_for(state, connection.id);
        let params = EventListParams::new()
            .with_private_extended_property(PLAN_PROPERTY, plan_id.to_string())
            .with_max_results(250);
        let listed = match client.events().sync(&connection.calendar_id, &params).await {
            Ok(listed) => listed,
            Err(error) => return Err(google_error(state, connection.id, error).await),
        };
        for event in listed.items.into_iter().filter(|event| !event.is_cancelled()) {
            let task_id = event
                .extended_properties
                .as_ref()
                .and_then(|properties| properties.private.get(TASK_PROPERTY))
                .and_then(|id| Uuid::parse_str(id).ok());
            if let Some(id) = event.id {
                found.entry(id).or_insert(task_id);
            }
        }
    }
    let mut found: Vec<(String, Option<Uuid>)> = found.into_iter().collect();
    found.sort();
    Ok(found)
}

async fn remove_event(
    state: &AppState,
    google: Option<&GoogleCalendar>,
    connection: &CalendarConnection,
    event_id: &str,
) -> Result<(), ApiError> {
    if let Some(google) = google {
        let client = google.client_for(state, connection.id);
        match client.events().delete(&connection.calendar_id, event_id, &WriteParams::default()).await {
            Ok(()) | Err(GoogleError::NotFound { .. } | GoogleError::Gone { .. }) => {}
            Err(error) => return Err(google_error(state, connection.id, error).await),
        }
    }
    calendar_repo::delete_event(state.db.conn(), connection.id, event_id).await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn write_task(
    state: &AppState,
    user_id: Uuid,
    client: Option<&Client>,
    connection: &CalendarConnection,
    plan: &Plan,
    task: &PlanTask,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: &TimeZone,
) -> EventWrite {
    let event_id = event_id_for_task(task.id);
    let description = if task.description.trim().is_empty() {
        format!("Part of the plan \"{}\".", plan.goal.as_str())
    } else {
        format!("{}\n\nPart of the plan \"{}\".", task.description.trim(), plan.goal.as_str())
    };
    let written = match client {
        Some(client) => {
            write_google(client, connection, plan, task, &event_id, &description, start, end, zone).await
        }
        None => write_local(state, connection, &event_id, task, &description, start, end).await,
    };
    let (status, data) = match written {
        Ok(written) => written,
        Err(error) => {
            let detail = match error {
                WriteError::Google(error) => google_error(state, connection.id, error).await.problem().detail,
                WriteError::Store(error) => {
                    tracing::error!(error = %error, "could not store a scheduled event");
                    "The event could not be stored.".to_owned()
                }
            };
            return EventWrite {
                task_id: task.id,
                event_id,
                html_link: None,
                status: WriteStatus::Failed,
                error: Some(detail),
            };
        }
    };
    let data = EventData { plan_task_id: Some(task.id), plan_id: Some(plan.id), ..data };
    let html_link = data.html_link.clone();
    let stored = calendar_repo::upsert_event(state.db.conn(), user_id, connection.id, data).await;
    let scheduled = plan_repo::set_task_schedule(
        state.db.conn(),
        user_id,
        task.id,
        Some((start, end)),
        Some(event_id.clone()),
    )
    .await;
    if let Err(error) = stored.map(|_| ()).and(scheduled) {
        tracing::error!(error = %error, "could not record a scheduled event");
        return EventWrite {
            task_id: task.id,
            event_id,
            html_link,
            status: WriteStatus::Failed,
            error: Some(
                "The event was written but could not be recorded here; run the schedule again.".to_owned(),
            ),
        };
    }
    EventWrite { task_id: task.id, event_id, html_link, status, error: None }
}

#[derive(Debug)]
enum WriteError {
    Google(GoogleError),
    Store(planwright_store::StoreError),
}

#[allow(clippy::too_many_arguments)]
async fn write_google(
    client: &Client,
    connection: &CalendarConnection,
    plan: &Plan,
    task: &PlanTask,
    event_id: &str,
    description: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    zone: &TimeZone,
) -> Result<(WriteStatus, EventData), WriteError> {
    let calendar = connection.calendar_id.as_str();
    let at = |instant: DateTime<Utc>| {
        EventDateTime::at(instant.with_timezone(&zone.tz())).with_time_zone(zone.name())
    };
    let desired = Event::default()
        .with_id(event_id)
        .with_summary(task.title.clone())
        .with_description(description)
        .with_times(at(start), at(end))
        .with_private_property(TASK_PROPERTY, task.id.to_string())
        .with_private_property(PLAN_PROPERTY, plan.id.to_string());
    let existing = match client.events().get(calendar, event_id).await {
        Ok(existing) => Some(existing),
        Err(GoogleError::NotFound { .. } | GoogleError::Gone { .. }) => None,
        Err(error) => return Err(WriteError::Google(error)),
    };
    let (status, event) = match existing {
        Some(existing) if !existing.is_cancelled() && same_event(&existing, &desired) => {
            (WriteStatus::Unchanged, existing)
        }
        Some(_) => (WriteStatus::Updated, patch(client, calendar, event_id, &desired).await?),
        None => match client.events().insert(calendar, &desired, &WriteParams::default()).await {
            Ok(created) => (WriteStatus::Created, created),
            // The id belongs to an event the person deleted: bring that one back.
            Err(GoogleError::Conflict { .. }) => {
                (WriteStatus::Updated, patch(client, calendar, event_id, &desired).await?)
            }
            Err(error) => return Err(WriteError::Google(error)),
        },
    };
    let data = super::calendar::sync::event_data(event).ok_or_else(|| {
        WriteError::Google(GoogleError::InvalidRequest { message: "event without times".to_owned() })
    })?;
    Ok((status, data))
}

async fn patch(
    client: &Client,
    calendar: &str,
    event_id: &str,
    desired: &Event,
) -> Result<Event, WriteError> {
    let mut body = serde_json::to_value(desired).map_err(|e| {
        WriteError::Google(GoogleError::InvalidRequest { message: format!("event cannot be encoded: {e}") })
    })?;
    if let Some(object) = body.as_object_mut() {
        object.remove("id");
        object.insert("status".to_owned(), serde_json::Value::String("confirmed".to_owned()));
    }
    client
        .events()
        .patch(calendar, event_id, &body, &WriteParams::default())
        .await
        .map_err(WriteError::Google)
}

/// Whether Google's copy already says what we would write.
fn same_event(existing: &Event, desired: &Event) -> bool {
    let instant =
        |at: &Option<EventDateTime>| at.as_ref().and_then(|at| at.date_time).map(|t| t.with_timezone(&Utc));
    existing.summary == desired.summary
        && existing.description == desired.description
        && instant(&existing.start) == instant(&desired.start)
        && instant(&existing.end) == instant(&desired.end)
        && existing.extended_properties.as_ref().map(|p| &p.private)
            == desired.extended_properties.as_ref().map(|p| &p.private)
}

async fn write_local(
    state: &AppState,
    connection: &CalendarConnection,
    event_id: &str,
    task: &PlanTask,
    description: &str,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<(WriteStatus, EventData), WriteError> {
    let existing = calendar_repo::find_event(state.db.conn(), connection.id, event_id)
        .await
        .map_err(WriteError::Store)?;
    let desired = EventData {
        provider_event_id: event_id.to_owned(),
        ical_uid: Some(format!("{event_id}@planwright")),
        title: task.title.clone(),
        description: Some(description.to_owned()),
        location: None,
        start,
        end,
        all_day: false,
        start_date: None,
        end_date: None,
        time_zone: None,
        recurrence: None,
        recurring_event_id: None,
        status: "confirmed".to_owned(),
        transparent: false,
        html_link: None,
        etag: None,
        provider_updated_at: None,
        plan_task_id: Some(task.id),
        plan_id: None,
    };
    let status = match existing {
        None => WriteStatus::Created,
        Some(existing)
            if existing.data.title == desired.title
                && existing.data.description == desired.description
                && existing.data.start == start
                && existing.data.end == end =>
        {
            return Ok((WriteStatus::Unchanged, existing.data));
        }
        Some(_) => WriteStatus::Updated,
    };
    Ok((status, EventData { provider_updated_at: Some(Utc::now()), ..desired }))
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
