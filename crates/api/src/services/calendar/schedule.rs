//! Putting tasks on a calendar: busy time from the chosen connection (its synced events and, for
//! Google, `freeBusy`), the pure scheduler from `planwright-domain`, then idempotent writes. One
//! engine serves both routes: a plan's tasks (`POST /plans/{id}/schedule`) and any of the
//! person's tasks (`POST /schedule`).
//!
//! Every chunk's event has a deterministic id (`event_id_for_chunk`: task id and chunk) and
//! carries the task, its plan and its owner in `extendedProperties.private` (see `mapping`), so
//! running the schedule again updates, leaves alone or deletes the same events and never
//! duplicates one, even after a run that died half-way. Writes go through one [`CalendarTarget`]
//! per run.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, SubsecRound as _, TimeDelta, Utc};
use futures_util::StreamExt;
use planwright_calendar::FreeBusyRequest;
use planwright_domain::{
    BusyInterval, ChangeReason, EventData, FieldError, PinnedBlock, PlanStatus, ScheduleChange,
    ScheduleOutcome, ScheduleRequest, ScheduledBlock, Task, TaskToPlace, TimeZone, User, event_id_for_chunk,
    event_id_for_task, is_settled, next_start_mark, schedule, start_of_day,
};
use planwright_store::repo::{calendar as calendar_repo, plans as plan_repo, tasks as task_repo, users};
use uuid::Uuid;

pub use super::target::WriteStatus;
use super::{
    events::{span_times, target_connection},
    google_error,
    mapping::ScheduledTask,
    target::{CalendarTarget, EventScope, TargetError, stored_events},
};
use crate::{
    error::{ApiError, Missing, not_found},
    state::AppState,
};

/// Writes to the calendar run this many at a time.
const WRITE_CONCURRENCY: usize = 4;
/// Google's free/busy query covers at most this much per request.
const FREE_BUSY_CHUNK: TimeDelta = TimeDelta::days(60);

/// The first stretch of a run's window whose busy time is read; each further read reaches four
/// times as far, until the outcome is settled (see [`is_settled`]) or the window is read whole.
const FIRST_REACH: TimeDelta = TimeDelta::days(7);
/// Most tasks one run places.
pub const MAX_TASKS: usize = 500;
/// Longest window one run over tasks may cover, in days.
pub const MAX_WINDOW_DAYS: i64 = 366;

/// Which tasks to schedule, and within what.
#[derive(Debug, Clone)]
pub enum ScheduleScope {
    /// One plan's tasks, each from its day of the plan.
    Plan {
        /// The plan.
        plan_id: Uuid,
        /// Its first day in the time zone (default: the one it was last scheduled from, else today).
        start_date: Option<NaiveDate>,
    },
    /// Any of the person's tasks.
    Tasks {
        /// These tasks (default: every open task with an estimate).
        task_ids: Option<Vec<Uuid>>,
        /// Nothing starts before this (default and at the earliest: now, on the next five-minute
        /// mark).
        from: Option<DateTime<Utc>>,
        /// Nothing ends after this (default: `from` plus the horizon).
        until: Option<DateTime<Utc>>,
    },
}

/// What to schedule.
#[derive(Debug, Clone)]
pub struct ScheduleInput {
    /// Which tasks.
    pub scope: ScheduleScope,
    /// The zone to schedule in (default: the user's).
    pub time_zone: Option<TimeZone>,
    /// The calendar (default: the user's Google calendar, else the built-in one).
    pub connection_id: Option<Uuid>,
    /// Compute only; write nothing.
    pub dry_run: bool,
    /// How the blocks this run moves are remembered in the history.
    pub reasons: MoveReasons,
}

/// Why a run's blocks moved, as the history of moves (`GET /schedule/changes`) records it, in
/// the same transaction as the blocks themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoveReasons {
    /// A run the person asked for: each block that moved or went away is recorded as `edited`
    /// (a block placed for the first time is not a move).
    Edited,
    /// A re-plan: every move of these tasks, with its task's reason; other tasks' moves are not
    /// recorded.
    Replan(HashMap<Uuid, ChangeReason>),
}

impl MoveReasons {
    /// `moved` as the history records it at `at`, or `None` when it is not recorded.
    pub fn change(&self, moved: &BlockMove, at: DateTime<Utc>) -> Option<ScheduleChange> {
        let reason = match self {
            Self::Edited => moved.from.map(|_| ChangeReason::Edited)?,
            Self::Replan(reasons) => *reasons.get(&moved.task_id)?,
        };
        Some(ScheduleChange {
            id: Uuid::now_v7(),
            task_id: moved.task_id,
            chunk: moved.chunk,
            from: moved.from,
            to: moved.to,
            reason,
            at,
        })
    }
}

/// One chunk's event after the run.
#[derive(Debug, Clone)]
pub struct EventWrite {
    /// The task.
    pub task_id: Uuid,
    /// Which chunk of it.
    pub chunk: u16,
    /// The event's id at the provider (deterministic).
    pub event_id: String,
    /// Link to it.
    pub html_link: Option<String>,
    /// What happened.
    pub status: WriteStatus,
    /// Why it failed.
    pub error: Option<String>,
}

/// An event removed because its task is gone, could not be placed, or has fewer chunks now.
#[derive(Debug, Clone)]
pub struct RemovedEvent {
    /// The task it held.
    pub task_id: Option<Uuid>,
    /// The event's id at the provider.
    pub event_id: String,
}

/// One chunk whose place changed in a run: its start before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMove {
    /// The task.
    pub task_id: Uuid,
    /// Which chunk of it.
    pub chunk: u16,
    /// Its start before the run; `None` when it had no block.
    pub from: Option<DateTime<Utc>>,
    /// Its start after; `None` when it lost its block (unplaced, or a failed write).
    pub to: Option<DateTime<Utc>>,
}

/// The chunks whose start differs between `old` and `new` blocks of one task, by chunk.
pub fn block_moves(task_id: Uuid, old: &[ScheduledBlock], new: &[ScheduledBlock]) -> Vec<BlockMove> {
    let start_of =
        |blocks: &[ScheduledBlock], chunk: u16| blocks.iter().find(|b| b.chunk == chunk).map(|b| b.start);
    let mut chunks: Vec<u16> = old.iter().chain(new).map(|block| block.chunk).collect();
    chunks.sort_unstable();
    chunks.dedup();
    chunks
        .into_iter()
        .filter_map(|chunk| {
            let (from, to) = (start_of(old, chunk), start_of(new, chunk));
            (from != to).then_some(BlockMove { task_id, chunk, from, to })
        })
        .collect()
}

/// The result of a scheduling run.
#[derive(Debug, Clone)]
pub struct ScheduleResult {
    /// Where each chunk goes, what could not be placed, what is at risk.
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
    /// The plan's first day, for a plan.
    pub start_date: Option<NaiveDate>,
    /// The moves of blocks this run recorded in the history (empty on a dry run).
    pub changes: Vec<ScheduleChange>,
    /// When the run stored its blocks, the time its `changes` carry (`None` on a dry run).
    pub stored_at: Option<DateTime<Utc>>,
}

/// The tasks of one run, ready for the scheduler and the writes.
struct Run {
    tasks: Vec<Task>,
    /// Plan goals by plan id (event descriptions).
    goals: HashMap<Uuid, String>,
    /// Plan start dates by plan id (a plan task's earliest start is its day).
    starts: HashMap<Uuid, NaiveDate>,
    window: (DateTime<Utc>, DateTime<Utc>),
    scope_plan: Option<Uuid>,
    start_date: Option<NaiveDate>,
}

/// Schedules the caller's tasks: a plan's (404 when it is not theirs) or any of theirs.
#[tracing::instrument(skip(state, input), fields(dry_run = input.dry_run))]
pub async fn schedule_tasks(
    state: &AppState,
    user_id: Uuid,
    input: ScheduleInput,
) -> Result<ScheduleResult, ApiError> {
    let db = state.db.conn();
    let user = users::find(db, user_id).await?;
    let zone = input.time_zone.unwrap_or(user.timezone);
    let now = next_start_mark(Utc::now());
    let run = match &input.scope {
        ScheduleScope::Plan { plan_id, start_date } => {
            plan_run(state, &user, &zone, *plan_id, *start_date, now).await?
        }
        ScheduleScope::Tasks { task_ids, from, until } => {
            tasks_run(state, &user, task_ids.as_deref(), (*from, *until), now).await?
        }
    };
    let connection = target_connection(state, user_id, input.connection_id).await?;
    let target =
        CalendarTarget::open(state, &connection)?.with_focus_time(user.schedule_preferences.focus_time());
    let run_ids: HashSet<Uuid> = run.tasks.iter().map(|task| task.id).collect();
    let mut request = ScheduleRequest {
        tasks: run.tasks.iter().map(|task| to_place(task, &run.starts, &zone)).collect(),
        time_zone: zone,
        working_hours: user.working_hours.clone(),
        busy: Vec::new(),
        pinned: run.tasks.iter().filter(|task| !task.is_done()).flat_map(pinned_blocks).collect(),
        preferences: user.schedule_preferences,
        from: run.window.0,
        until: run.window.0,
    };
    // Busy time is read a reach at a time: most runs settle in the first days of their window,
    // and a dense calendar costs what those days hold, not what the whole horizon does. Runs
    // take turns: each holds its busy time until it is placed, and a crowd of runs over dense
    // calendars would hold many calendars in memory at once for no gain in speed.
    let turn = state.calendar.schedule_runs.acquire().await.ok();
    let mut reach = FIRST_REACH;
    let outcome = loop {
        let until = run.window.0.checked_add_signed(reach).unwrap_or(run.window.1).min(run.window.1);
        let more = busy_time(state, &target, &run_ids, &zone, (request.until, until)).await?;
        request.busy.extend(more);
        request.until = until;
        let outcome = schedule(&request);
        if until >= run.window.1 || is_settled(&request, &outcome) {
            break outcome;
        }
        reach = reach * 4;
    };
    drop(request);
    drop(turn);
    let mut result = ScheduleResult {
        outcome,
        events: Vec::new(),
        removed: Vec::new(),
        dry_run: input.dry_run,
        connection_id: connection.id,
        time_zone: zone,
        start_date: run.start_date,
        changes: Vec::new(),
        stored_at: None,
    };
    if input.dry_run {
        return Ok(result);
    }
    target.check_writable()?;
    write(state, user_id, &target, (&run, &run_ids), &input.reasons, &mut result).await?;
    if let (Some(plan_id), Some(start_date)) = (run.scope_plan, run.start_date) {
        plan_repo::set_start_date(db, user_id, plan_id, start_date).await?;
        let failed = result.events.iter().any(|write| write.status == WriteStatus::Failed);
        if !failed && !result.outcome.placements.is_empty() {
            plan_repo::set_status(db, user_id, plan_id, PlanStatus::Scheduled).await?;
        }
    }
    Ok(result)
}

/// A plan's run: its top-level tasks, from its start date (a date in the past is a 422) to the
/// horizon after its last day.
async fn plan_run(
    state: &AppState,
    user: &User,
    zone: &TimeZone,
    plan_id: Uuid,
    start_date: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Run, ApiError> {
    let db = state.db.conn();
    let plan = plan_repo::find(db, user.id, plan_id).await.map_err(not_found(Missing::Plan))?;
    let today = now.with_timezone(&zone.tz()).date_naive();
    let start_date = match start_date {
        Some(date) if date < today => {
            return Err(FieldError::new(
                "start_date",
                format!("{date} is in the past in {}; use {today} or later.", zone.name()),
            )
            .into());
        }
        Some(date) => date,
        None => plan.start_date.filter(|date| *date >= today).unwrap_or(today),
    };
    let tasks = task_repo::of_plans(db, user.id, &[plan_id]).await?;
    let last_offset = tasks.iter().filter_map(|task| task.day_offset).max().unwrap_or(0);
    let last_day = start_date
        + TimeDelta::days(i64::from(last_offset) + i64::from(user.schedule_preferences.horizon_days()) + 1);
    let from = start_of_day(start_date, zone).max(now);
    let until = start_of_day(last_day, zone).max(from + TimeDelta::days(1));
    Ok(Run {
        tasks,
        goals: HashMap::from([(plan.id, plan.goal)]),
        starts: HashMap::from([(plan.id, start_date)]),
        window: (from, until),
        scope_plan: Some(plan.id),
        start_date: Some(start_date),
    })
}

/// A run over any of the person's tasks, within `[from, until)`.
async fn tasks_run(
    state: &AppState,
    user: &User,
    task_ids: Option<&[Uuid]>,
    (from, until): (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    now: DateTime<Utc>,
) -> Result<Run, ApiError> {
    let db = state.db.conn();
    let from = from.map_or(now, |from| from.max(now));
    let horizon = TimeDelta::days(i64::from(user.schedule_preferences.horizon_days().max(1)));
    let until = until.unwrap_or(from + horizon);
    if until <= from {
        return Err(FieldError::new("until", "`until` must be later than `from` and than now.").into());
    }
    if until - from > TimeDelta::days(MAX_WINDOW_DAYS) {
        return Err(FieldError::new("until", format!("A run covers at most {MAX_WINDOW_DAYS} days.")).into());
    }
    let tasks = match task_ids {
        Some(ids) => {
            let found = task_repo::find_many(db, user.id, ids).await?;
            let known: HashSet<Uuid> = found.iter().map(|task| task.id).collect();
            let unknown: Vec<FieldError> = ids
                .iter()
                .enumerate()
                .filter(|(_, id)| !known.contains(id))
                .map(|(index, _)| {
                    FieldError::new(format!("task_ids[{index}]"), "You have no task with this id.")
                })
                .collect();
            if !unknown.is_empty() {
                return Err(ApiError::Validation(unknown.into_iter().collect()));
            }
            found
        }
        None => task_repo::schedulable(db, user.id, MAX_TASKS as u64 + 1).await?,
    };
    if tasks.len() > MAX_TASKS {
        return Err(FieldError::new(
            "task_ids",
            format!("One run places at most {MAX_TASKS} tasks; name the ones to schedule in `task_ids`."),
        )
        .into());
    }
    let plan_ids: Vec<Uuid> =
        tasks.iter().filter_map(|task| task.plan_id).collect::<HashSet<_>>().into_iter().collect();
    let mut goals = HashMap::new();
    let mut starts = HashMap::new();
    for (plan_id, (goal, start)) in plan_repo::goals_and_start_dates(db, user.id, &plan_ids).await? {
        if let Some(start) = start {
            starts.insert(plan_id, start);
        }
        goals.insert(plan_id, goal);
    }
    Ok(Run { tasks, goals, starts, window: (from, until), scope_plan: None, start_date: None })
}

/// What the scheduler knows about a task. A plan's task starts no earlier than its day of the
/// plan (when the plan has a start date) and keeps its place in the plan's order.
fn to_place(task: &Task, starts: &HashMap<Uuid, NaiveDate>, zone: &TimeZone) -> TaskToPlace {
    let plan_day = match (task.plan_id.and_then(|plan| starts.get(&plan)), task.day_offset) {
        (Some(start), Some(offset)) if task.parent_id.is_none() => {
            start.checked_add_days(chrono::Days::new(u64::from(offset))).map(|day| start_of_day(day, zone))
        }
        _ => None,
    };
    TaskToPlace {
        id: task.id,
        estimate_minutes: task.estimate_minutes.unwrap_or(0),
        due_at: task.due_at,
        priority: task.priority,
        earliest_start: plan_day.max(task.earliest_start),
        min_chunk_minutes: task.min_chunk_minutes,
        done: task.is_done(),
        sequence: task
            .plan_id
            .filter(|_| task.parent_id.is_none())
            .map(|plan| (plan, u32::try_from(task.position).unwrap_or(u32::MAX))),
    }
}

/// The blocks of `task` that the person placed by hand: a run keeps them where they are.
fn pinned_blocks(task: &Task) -> impl Iterator<Item = PinnedBlock> + '_ {
    task.blocks.iter().filter(|block| block.pinned).map(|block| PinnedBlock {
        task_id: task.id,
        chunk: block.chunk,
        start: block.start,
        end: block.end,
    })
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
    let scope = EventScope::Plan(plan_id);
    let mut targets = Vec::with_capacity(connections.len());
    for connection in &connections {
        match CalendarTarget::open(state, connection).and_then(|target| {
            target.check_writable()?;
            Ok(target)
        }) {
            Ok(target) => targets.push(target),
            // A calendar that cannot be written (no grant, Google not configured, writes paused by
            // Google's usage limits) blocks the deletion only if it holds the plan's events.
            Err(refused) => {
                if !stored_events(state, connection, user_id, &scope).await?.is_empty() {
                    return Err(refused);
                }
            }
        }
    }
    for target in &targets {
        for (event_id, _) in target.owned_events(user_id, &scope).await? {
            target.delete(&event_id).await?;
        }
    }
    plan_repo::delete(db, user_id, plan_id).await.map_err(not_found(Missing::Plan))
}

// ---- busy time ------------------------------------------------------------------------------

/// Busy time of the target's connection in `(from, to)`: the stored events of every calendar
/// that counts as busy (the target and the others selected; the run's own tasks' events left
/// out: they are about to move) and, for Google, `freeBusy` over the same calendars.
async fn busy_time(
    state: &AppState,
    target: &CalendarTarget<'_>,
    run_ids: &HashSet<Uuid>,
    zone: &TimeZone,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<BusyInterval>, ApiError> {
    let connection = target.connection();
    // Every chunk's event id starts with the task's first-chunk id.
    let own: HashSet<String> = run_ids.iter().map(|id| event_id_for_task(*id)).collect();
    let first_chunk_len = event_id_for_task(Uuid::nil()).len();
    let is_own = |event_id: &str| event_id.get(..first_chunk_len).is_some_and(|prefix| own.contains(prefix));
    let stored = calendar_repo::spans_between(
        state.db.conn(),
        connection.user_id,
        Some(connection.id),
        from - TimeDelta::days(1),
        to + TimeDelta::days(1),
        20_000,
    )
    .await?;
    let mut busy = Vec::with_capacity(stored.len());
    let mut own_times = Vec::new();
    for event in &stored {
        if is_own(&event.provider_event_id) {
            own_times.push((event.start, event.end));
        } else if !event.transparent {
            let (start, end) = span_times(event, zone);
            busy.push(BusyInterval { start, end });
        }
    }
    drop(stored);
    if let Some(client) = target.google() {
        let calendars: Vec<String> = std::iter::once(connection.target_calendar_id.clone())
            .chain(
                calendar_repo::busy_calendars(state.db.conn(), connection.id)
                    .await?
                    .into_iter()
                    .map(|calendar| calendar.calendar_id),
            )
            .collect();
        // Free/busy also sees what the last sync has not brought in yet. It cannot tell the run's
        // own events apart, so their stored times are cut out of its blocks.
        let mut start = from;
        while start < to {
            let end = (start + FREE_BUSY_CHUNK).min(to);
            let request = FreeBusyRequest::new(start, end, calendars.iter().cloned());
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
    (run, run_ids): (&Run, &HashSet<Uuid>),
    reasons: &MoveReasons,
    result: &mut ScheduleResult,
) -> Result<(), ApiError> {
    let tasks: HashMap<Uuid, &Task> = run.tasks.iter().map(|task| (task.id, task)).collect();
    let zone = result.time_zone;
    // Collected first: a lazy filter-map inside the stream makes the future not `Send` for every
    // lifetime, and re-planning runs it on a spawned task.
    let pending: Vec<_> = result
        .outcome
        .placements
        .iter()
        .filter(|placement| !placement.pinned)
        .filter_map(|placement| {
            let task = *tasks.get(&placement.task_id)?;
            let scheduled = ScheduledTask {
                task,
                goal: task.plan_id.and_then(|plan| run.goals.get(&plan)).map(String::as_str),
                chunk: placement.chunk,
                chunks: placement.chunks,
                start: placement.start,
                end: placement.end,
                zone: &zone,
            };
            Some(write_chunk(state, user_id, target, scheduled))
        })
        .collect();
    let writes = futures_util::stream::iter(pending)
        .buffer_unordered(WRITE_CONCURRENCY)
        .collect::<Vec<(EventWrite, Option<ScheduledBlock>)>>()
        .await;
    let order: HashMap<Uuid, usize> = run.tasks.iter().enumerate().map(|(i, task)| (task.id, i)).collect();
    let mut blocks: HashMap<Uuid, Vec<ScheduledBlock>> = HashMap::new();
    for (write, block) in writes {
        if let Some(block) = block {
            blocks.entry(write.task_id).or_default().push(block);
        }
        result.events.push(write);
    }
    result
        .events
        .sort_by_key(|write| (order.get(&write.task_id).copied().unwrap_or(usize::MAX), write.chunk));

    // Each task's blocks become its pinned blocks (never moved, never rewritten) and what this
    // run wrote; a done task keeps its record. When Google's usage limits stopped the run, a
    // chunk that was not written keeps its old block: its event is still where that block says.
    let stopped = target.stopped();
    // Whole microseconds: what both databases keep, so page cursors compare exactly.
    let at = Utc::now().trunc_subsecs(6);
    result.stored_at = Some(at);
    let mut stored = Vec::with_capacity(run.tasks.len());
    for task in &run.tasks {
        if task.is_done() {
            continue;
        }
        let mut placed = blocks.remove(&task.id).unwrap_or_default();
        placed.extend(task.blocks.iter().filter(|block| block.pinned).cloned());
        if stopped {
            let unwritten: Vec<ScheduledBlock> = task
                .blocks
                .iter()
                .filter(|old| !placed.iter().any(|new| new.chunk == old.chunk))
                .cloned()
                .collect();
            placed.extend(unwritten);
        }
        placed.sort_by_key(|block| block.chunk);
        let moves = block_moves(task.id, &task.blocks, &placed);
        result.changes.extend(moves.iter().filter_map(|moved| reasons.change(moved, at)));
        stored.push((task.id, placed));
    }
    task_repo::store_run_blocks(state.db.conn(), user_id, &stored, &result.changes).await?;

    // Events of the scope that this run did not write are removed: tasks that are gone, could
    // not be placed this time, or have fewer chunks now. A done task's events and pinned blocks'
    // events stay. A run that Google's usage limits stopped removes nothing (the next run does).
    if stopped {
        return Ok(());
    }
    let written: HashSet<&str> = result.events.iter().map(|write| write.event_id.as_str()).collect();
    let pinned: HashSet<String> = run
        .tasks
        .iter()
        .flat_map(|task| {
            task.blocks.iter().filter(|block| block.pinned).map(|block| {
                block.event_id.clone().unwrap_or_else(|| event_id_for_chunk(task.id, block.chunk))
            })
        })
        .collect();
    let scope = match run.scope_plan {
        Some(plan_id) => EventScope::Plan(plan_id),
        None => EventScope::Tasks(run_ids),
    };
    let mut removed = Vec::new();
    for (event_id, task_id) in target.owned_events(user_id, &scope).await? {
        let done = task_id.and_then(|id| tasks.get(&id)).is_some_and(|task| task.is_done());
        if written.contains(event_id.as_str()) || pinned.contains(&event_id) || done {
            continue;
        }
        target.delete(&event_id).await?;
        removed.push(RemovedEvent { task_id, event_id });
    }
    result.removed = removed;
    Ok(())
}

/// Writes one chunk's event and records its local copy; the block to record when it was written.
async fn write_chunk(
    state: &AppState,
    user_id: Uuid,
    target: &CalendarTarget<'_>,
    scheduled: ScheduledTask<'_>,
) -> (EventWrite, Option<ScheduledBlock>) {
    let (task, event_id) = (scheduled.task, scheduled.event_id());
    let failed = |html_link, detail: String| EventWrite {
        task_id: task.id,
        chunk: scheduled.chunk,
        event_id: event_id.clone(),
        html_link,
        status: WriteStatus::Failed,
        error: Some(detail),
    };
    let (status, data) = match target.put(&scheduled).await {
        Ok(written) => written,
        Err(TargetError::Google(error)) => {
            let detail = google_error(state, target.connection().id, error).await.problem().detail;
            return (failed(None, detail), None);
        }
        Err(TargetError::Store(error)) => {
            tracing::error!(error = %error, "could not store a scheduled event");
            return (failed(None, "The event could not be stored.".to_owned()), None);
        }
        Err(paused @ TargetError::Paused) => {
            let detail = target.explain(paused).await.problem().detail;
            return (failed(None, detail), None);
        }
    };
    let data = EventData { plan_task_id: Some(task.id), plan_id: task.plan_id, ..data };
    let html_link = data.html_link.clone();
    let source = target.source();
    // A sync prompted by this very write (Google's push) may store the event between our read
    // and insert; the second attempt then finds it and updates it.
    let mut recorded = calendar_repo::upsert_event(state.db.conn(), user_id, source, data.clone()).await;
    if recorded.is_err() {
        recorded = calendar_repo::upsert_event(state.db.conn(), user_id, source, data).await;
    }
    if let Err(error) = recorded {
        tracing::error!(error = %error, "could not record a scheduled event");
        return (
            failed(
                html_link,
                "The event was written but could not be recorded here; run the schedule again.".to_owned(),
            ),
            None,
        );
    }
    let block = ScheduledBlock {
        chunk: scheduled.chunk,
        start: scheduled.start,
        end: scheduled.end,
        event_id: Some(event_id.clone()),
        pinned: false,
    };
    let write =
        EventWrite { task_id: task.id, chunk: scheduled.chunk, event_id, html_link, status, error: None };
    (write, Some(block))
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
