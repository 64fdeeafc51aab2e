//! Automatic re-planning: the calendar keeps the plan true. After a sync that brought changes (a
//! push or the periodic sync) and on a periodic tick, the person's open tasks whose future blocks
//! now overlap busy time or its buffer (conflict) and whose blocks ended with the task not done
//! (missed) are re-placed by the one scheduling engine ([`schedule_tasks`] over just those tasks,
//! plus the later tasks of their plans), on the connection holding their blocks. What moved is
//! recorded with its reason (`GET /schedule/changes`), and the connection's sync status shows the
//! last re-plan.
//!
//! Guarantees:
//! - One re-plan per user at a time across replicas: a database lease (`replan:{user}`).
//! - A burst of pushes leads to one re-plan: each sync with changes leaves a per-user mark due
//!   `replan_debounce_ms` later (a pending mark keeps its time); whoever takes the due mark under
//!   the lease re-plans, everyone else finds nothing to take.
//! - Only our events move: the engine writes and deletes only events whose private properties say
//!   Planwright made them for this user, and our own blocks are never busy time for ourselves.
//! - A pinned block (moved, lengthened or shortened by hand at the calendar) stays: its task is
//!   never re-placed, and it is busy time for the other tasks. A scheduling run the person asks
//!   for keeps it too: it counts its minutes toward the task's estimate and places only the rest.
//! - `auto_replan = false` in the person's schedule preferences: nothing moves by itself.
//! - A connection whose writes Google's usage limits stopped (`quotaExceeded`) is left alone until
//!   `calendar.write_pause_secs` have passed: no call to Google, no loop.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, SubsecRound as _, TimeDelta, Utc};
use planwright_domain::{
    BusyInterval, CalendarConnection, ChangeReason, ScheduleChange, Task, event_id_for_task, tasks_to_replan,
};
use planwright_store::repo::{calendar as calendar_repo, leases, replans, tasks as task_repo, users};
use uuid::Uuid;

use super::{
    events::{span_times, target_connection},
    schedule::{MAX_TASKS, MoveReasons, ScheduleInput, ScheduleScope, schedule_tasks},
};
use crate::{error::ApiError, state::AppState};

/// How long one re-plan may hold its lease.
const REPLAN_LEASE: TimeDelta = TimeDelta::minutes(5);
/// How often a re-plan blocked by another one's lease tries again.
const LEASE_RETRIES: u32 = 20;
/// Most stored events read to find conflicts.
const MAX_EVENTS: u64 = 20_000;

/// What one re-plan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplanReport {
    /// Tasks re-placed.
    pub tasks: usize,
    /// The moves, as recorded.
    pub changes: Vec<ScheduleChange>,
}

/// Asks for a re-plan of the user's blocks after a sync that brought changes: leaves the mark and
/// runs the re-plan in the background once the debounce has passed.
pub fn request(state: &AppState, user_id: Uuid) {
    let state = state.clone();
    tokio::spawn(async move {
        let debounce = Duration::from_millis(state.settings.calendar.replan_debounce_ms);
        let due = Utc::now() + TimeDelta::from_std(debounce).unwrap_or(TimeDelta::zero());
        if let Err(error) = replans::request(state.db.conn(), user_id, due).await {
            tracing::warn!(user_id = %user_id, error = %error, "could not ask for a re-plan");
            return;
        }
        tokio::time::sleep(debounce).await;
        run_if_due(&state, user_id).await;
    });
}

/// Re-plans the user if their mark is due and no other re-plan of theirs runs; waits a little for
/// a running one to finish (its mark may have come after that one started).
pub async fn run_if_due(state: &AppState, user_id: Uuid) {
    let db = state.db.conn();
    let lease = format!("replan:{user_id}");
    let holder = Uuid::now_v7().to_string();
    let wait = Duration::from_millis(state.settings.calendar.replan_debounce_ms.max(50));
    for _ in 0..LEASE_RETRIES {
        let now = Utc::now();
        match leases::acquire(db, &lease, &holder, now, now + REPLAN_LEASE).await {
            Ok(true) => {
                let taken = replans::take_due(db, user_id, now).await;
                if matches!(taken, Ok(true))
                    && let Err(error) = replan_user(state, user_id).await
                {
                    tracing::warn!(user_id = %user_id, error = %error, "re-plan failed");
                }
                if let Err(error) = leases::release(db, &lease, &holder).await {
                    tracing::warn!(error = %error, "could not release the re-plan lease");
                }
                return;
            }
            Ok(false) => tokio::time::sleep(wait).await,
            Err(error) => {
                tracing::warn!(error = %error, "could not take the re-plan lease");
                return;
            }
        }
    }
}

/// Re-plans the user under the lease whether or not a mark is pending (the periodic tick); does
/// nothing when another re-plan of theirs runs.
pub async fn run_now(state: &AppState, user_id: Uuid) {
    let db = state.db.conn();
    let lease = format!("replan:{user_id}");
    let holder = Uuid::now_v7().to_string();
    let now = Utc::now();
    if !matches!(leases::acquire(db, &lease, &holder, now, now + REPLAN_LEASE).await, Ok(true)) {
        return;
    }
    if let Err(error) = replans::take_due(db, user_id, now).await {
        tracing::warn!(error = %error, "could not clear the re-plan mark");
    }
    if let Err(error) = replan_user(state, user_id).await {
        tracing::warn!(user_id = %user_id, error = %error, "periodic re-plan failed");
    }
    if let Err(error) = leases::release(db, &lease, &holder).await {
        tracing::warn!(error = %error, "could not release the re-plan lease");
    }
}

/// Finds the user's conflicted and missed tasks and re-places them, connection by connection.
/// Callers hold the user's re-plan lease.
#[tracing::instrument(skip(state))]
pub async fn replan_user(state: &AppState, user_id: Uuid) -> Result<ReplanReport, ApiError> {
    let db = state.db.conn();
    let user = users::find(db, user_id).await?;
    let preferences = user.schedule_preferences;
    if !preferences.auto_replan() {
        return Ok(ReplanReport::default());
    }
    let tasks = task_repo::schedulable(db, user_id, MAX_TASKS as u64).await?;
    if tasks.iter().all(|task| task.blocks.is_empty()) {
        return Ok(ReplanReport::default());
    }
    let now = Utc::now();
    let (from, to) = span_of(&tasks, now);
    let connections = super::list_connections(state, user_id).await?;
    let fallback = target_connection(state, user_id, None).await?.id;
    // Our own events: those of any of these tasks (every chunk's id starts with its task's).
    let prefixes: HashMap<String, Uuid> =
        tasks.iter().map(|task| (event_id_for_task(task.id), task.id)).collect();
    let prefix_len = event_id_for_task(Uuid::nil()).len();
    let owner = |event_id: &str| event_id.get(..prefix_len).and_then(|prefix| prefixes.get(prefix)).copied();

    let mut home: HashMap<Uuid, Uuid> = HashMap::new();
    let mut busy: HashMap<Uuid, Vec<BusyInterval>> = HashMap::new();
    for connection in &connections {
        let spans =
            calendar_repo::spans_between(db, user_id, Some(connection.id), from, to, MAX_EVENTS).await?;
        let entry = busy.entry(connection.id).or_default();
        for span in spans {
            match owner(&span.provider_event_id) {
                Some(task_id) => {
                    home.insert(task_id, connection.id);
                }
                None if !span.transparent => {
                    let (start, end) = span_times(&span, &user.timezone);
                    entry.push(BusyInterval { start, end });
                }
                None => {}
            }
        }
    }
    let mut report = ReplanReport::default();
    for connection in &connections {
        if super::writes_paused(state, connection) {
            tracing::info!(connection_id = %connection.id, "re-plan skipped: Google's usage limits stopped writes");
            continue;
        }
        let mine: Vec<Task> = tasks
            .iter()
            .filter(|task| home.get(&task.id).copied().unwrap_or(fallback) == connection.id)
            .cloned()
            .collect();
        let intervals = busy.get(&connection.id).map(Vec::as_slice).unwrap_or_default();
        let chosen = tasks_to_replan(&mine, intervals, preferences.buffer_minutes(), now);
        if chosen.is_empty() {
            continue;
        }
        // Missed and late work is placed again from now; work pushed by a conflict moves no
        // earlier than it was planned (a block set for next week stays next week).
        let (missed, conflicted): (Vec<_>, Vec<_>) =
            chosen.iter().copied().partition(|(_, reason)| *reason != ChangeReason::Conflict);
        let planned_from = mine
            .iter()
            .filter(|task| conflicted.iter().any(|(id, _)| *id == task.id))
            .flat_map(|task| task.blocks.iter().map(|block| block.start))
            .min();
        for (group, from) in [(missed, None), (conflicted, planned_from)] {
            if group.is_empty() {
                continue;
            }
            let changes = replace(state, user_id, connection, &group, from).await?;
            report.tasks += group.len();
            report.changes.extend(changes);
        }
    }
    Ok(report)
}

/// Runs the engine over `chosen` on `connection`, from `from` (default and at the earliest: now);
/// the engine records what moved, with its reason, together with the blocks.
async fn replace(
    state: &AppState,
    user_id: Uuid,
    connection: &CalendarConnection,
    chosen: &[(Uuid, ChangeReason)],
    from: Option<DateTime<Utc>>,
) -> Result<Vec<ScheduleChange>, ApiError> {
    let ids: Vec<Uuid> = chosen.iter().map(|(id, _)| *id).collect();
    let input = ScheduleInput {
        scope: ScheduleScope::Tasks { task_ids: Some(ids.clone()), from, until: None },
        time_zone: None,
        connection_id: Some(connection.id),
        dry_run: false,
        reasons: MoveReasons::Replan(chosen.iter().copied().collect()),
    };
    let result = schedule_tasks(state, user_id, input).await?;
    let at = result.stored_at.unwrap_or_else(|| Utc::now().trunc_subsecs(6));
    let moved = u32::try_from(result.changes.len()).unwrap_or(u32::MAX);
    replans::record_run(state.db.conn(), user_id, result.connection_id, at, moved).await?;
    tracing::info!(user_id = %user_id, tasks = ids.len(), moved, "re-planned");
    Ok(result.changes)
}

/// The stretch of stored events to read: from a day before the earliest block (missed ones are in
/// the past) to a day after the latest.
fn span_of(tasks: &[Task], now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let blocks = tasks.iter().flat_map(|task| &task.blocks);
    let from = blocks.clone().map(|block| block.start).min().unwrap_or(now).min(now);
    let to = blocks.map(|block| block.end).max().unwrap_or(now).max(now);
    (from - TimeDelta::days(1), to + TimeDelta::days(1))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use planwright_domain::ScheduledBlock;

    use super::*;
    use crate::services::calendar::schedule::block_moves;

    fn blocks(spec: &[(u16, u32)]) -> Vec<ScheduledBlock> {
        spec.iter()
            .map(|&(chunk, hour)| ScheduledBlock {
                chunk,
                start: Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap(),
                end: Utc.with_ymd_and_hms(2026, 12, 7, hour + 1, 0, 0).unwrap(),
                event_id: None,
                pinned: false,
            })
            .collect()
    }

    #[test]
    fn only_chunks_whose_start_changed_are_moves() {
        let found: Vec<(u16, bool, bool)> =
            block_moves(Uuid::nil(), &blocks(&[(0, 9), (1, 11)]), &blocks(&[(0, 9), (1, 14), (2, 15)]))
                .iter()
                .map(|moved| (moved.chunk, moved.from.is_some(), moved.to.is_some()))
                .collect();
        assert_eq!(found, vec![(1, true, true), (2, false, true)]);
        let gone = block_moves(Uuid::nil(), &blocks(&[(0, 9), (1, 11)]), &[]);
        assert!(gone.iter().all(|moved| moved.to.is_none()) && gone.len() == 2);
        let at = Utc::now();
        let replan = MoveReasons::Replan(HashMap::from([(Uuid::nil(), ChangeReason::Missed)]));
        let recorded = replan.change(&gone[0], at).unwrap();
        assert_eq!((recorded.chunk, recorded.reason, recorded.at), (0, ChangeReason::Missed, at));
        let other_task = crate::services::calendar::schedule::BlockMove { task_id: Uuid::max(), ..gone[0] };
        assert_eq!(replan.change(&other_task, at), None, "a re-plan records only its own tasks");
        let edited = MoveReasons::Edited.change(&gone[0], at).unwrap();
        assert_eq!(edited.reason, ChangeReason::Edited);
        let placed_first = block_moves(Uuid::nil(), &[], &blocks(&[(0, 9)]));
        assert_eq!(MoveReasons::Edited.change(&placed_first[0], at), None, "a first placement is no move");
    }
}
