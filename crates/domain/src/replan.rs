//! Re-planning: which of a person's placed tasks must move because the calendar changed under
//! them, and the record of what moved and why. Pure: the caller brings the tasks, the busy time
//! and the clock.
//!
//! A task is re-placed when one of its future blocks overlaps busy time or the buffer around it
//! (a conflict), one of its blocks ended with the task not done (missed), or one of its future
//! blocks ends after the task's deadline (deadline: the due time moved earlier, or the work was
//! placed late for want of room; re-placing from now pulls it in when room has opened up). A task with a pinned
//! block (moved by hand in the calendar) is never re-placed: the person chose that place. Blocks
//! of other tasks are not busy time, except pinned ones: a block dragged onto another task's block
//! pushes that one away. The later tasks of the same plan follow a re-placed task, so the plan's
//! order holds.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{BusyInterval, Task, error::FieldError};

/// Why a block moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// Busy time (a meeting, a pinned block) landed on it or inside its buffer.
    Conflict,
    /// It ended with its task not done, so the work rolled forward.
    Missed,
    /// It moved to meet its task's deadline.
    Deadline,
    /// A scheduling run asked for by the person moved it.
    Edited,
}

impl ChangeReason {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Conflict => "conflict",
            Self::Missed => "missed",
            Self::Deadline => "deadline",
            Self::Edited => "edited",
        }
    }

    /// Parses a name; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "conflict" => Ok(Self::Conflict),
            "missed" => Ok(Self::Missed),
            "deadline" => Ok(Self::Deadline),
            "edited" => Ok(Self::Edited),
            other => Err(FieldError::new(
                field,
                format!("'{other}' is not one of conflict, missed, deadline, edited."),
            )),
        }
    }
}

/// One block that moved: chunk `chunk` of `task_id` went from `from` to `to` (its starts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleChange {
    /// Row id (time-ordered).
    pub id: Uuid,
    /// The task.
    pub task_id: Uuid,
    /// Which chunk of it.
    pub chunk: u16,
    /// Its start before; `None` when the chunk is new.
    pub from: Option<DateTime<Utc>>,
    /// Its start after; `None` when no free time was left for it.
    pub to: Option<DateTime<Utc>>,
    /// Why.
    pub reason: ChangeReason,
    /// When it moved.
    pub at: DateTime<Utc>,
}

/// The tasks to re-place, each with its reason, in `tasks` order.
///
/// `busy` is the calendar's busy time that is not ours (other people's events; Planwright's own
/// blocks are left out by the caller); `now` divides future blocks from ended ones. Done tasks and
/// tasks with a pinned block are never chosen.
pub fn tasks_to_replan(
    tasks: &[Task],
    busy: &[BusyInterval],
    buffer_minutes: u16,
    now: DateTime<Utc>,
) -> Vec<(Uuid, ChangeReason)> {
    let buffer = TimeDelta::minutes(i64::from(buffer_minutes));
    let movable = |task: &&Task| !task.is_done() && !task.blocks.iter().any(|block| block.pinned);
    let pinned: Vec<(Uuid, BusyInterval)> = tasks
        .iter()
        .filter(|task| !task.is_done())
        .flat_map(|task| {
            task.blocks
                .iter()
                .filter(|block| block.pinned)
                .map(|block| (task.id, BusyInterval { start: block.start, end: block.end }))
        })
        .collect();
    let mut chosen: Vec<(Uuid, ChangeReason)> = Vec::new();
    for task in tasks.iter().filter(movable) {
        if task.blocks.iter().any(|block| block.end <= now) {
            chosen.push((task.id, ChangeReason::Missed));
            continue;
        }
        let overlaps = |block_start: DateTime<Utc>, block_end: DateTime<Utc>, other: &BusyInterval| {
            other.start < block_end + buffer && block_start - buffer < other.end
        };
        let conflict = task.blocks.iter().filter(|block| block.start >= now).any(|block| {
            busy.iter().any(|other| overlaps(block.start, block.end, other))
                || pinned
                    .iter()
                    .any(|(owner, other)| *owner != task.id && overlaps(block.start, block.end, other))
        });
        if conflict {
            chosen.push((task.id, ChangeReason::Conflict));
            continue;
        }
        let late = task
            .due_at
            .is_some_and(|due| task.blocks.iter().any(|block| block.start >= now && block.end > due));
        if late {
            chosen.push((task.id, ChangeReason::Deadline));
        }
    }
    with_followers(tasks, chosen)
}

/// `chosen` and, after each, the later placed tasks of its plan (top-level, open, not pinned),
/// which move with it to keep the plan's order; a follower takes the reason of the first task it
/// follows.
fn with_followers(tasks: &[Task], chosen: Vec<(Uuid, ChangeReason)>) -> Vec<(Uuid, ChangeReason)> {
    let reasons: HashMap<Uuid, ChangeReason> = chosen.iter().copied().collect();
    // Per plan, the earliest position among the chosen tasks and its reason.
    let mut lead: HashMap<Uuid, (i64, ChangeReason)> = HashMap::new();
    for task in tasks.iter().filter(|task| reasons.contains_key(&task.id) && task.parent_id.is_none()) {
        if let (Some(plan), Some(reason)) = (task.plan_id, reasons.get(&task.id)) {
            let entry = lead.entry(plan).or_insert((task.position, *reason));
            if task.position < entry.0 {
                *entry = (task.position, *reason);
            }
        }
    }
    let mut seen: HashSet<Uuid> = HashSet::new();
    tasks
        .iter()
        .filter_map(|task| {
            if let Some(reason) = reasons.get(&task.id) {
                return Some((task.id, *reason));
            }
            let (position, reason) = lead.get(&task.plan_id?)?;
            let follows = task.parent_id.is_none()
                && task.position > *position
                && !task.is_done()
                && !task.blocks.is_empty()
                && !task.blocks.iter().any(|block| block.pinned);
            follows.then_some((task.id, *reason))
        })
        .filter(|(id, _)| seen.insert(*id))
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::{Priority, ScheduledBlock, TaskStatus};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap()
    }

    fn task(position: i64, plan: Option<Uuid>, blocks: &[(u32, u32, bool)]) -> Task {
        Task {
            id: Uuid::now_v7(),
            user_id: Uuid::nil(),
            parent_id: None,
            plan_id: plan,
            title: format!("task {position}"),
            description: String::new(),
            status: TaskStatus::Todo,
            due_at: None,
            estimate_minutes: Some(60),
            position,
            created_at: at(0),
            updated_at: at(0),
            day_offset: None,
            priority: Priority::Normal,
            min_chunk_minutes: None,
            earliest_start: None,
            blocks: blocks
                .iter()
                .enumerate()
                .map(|(chunk, &(start, end, pinned))| ScheduledBlock {
                    chunk: u16::try_from(chunk).unwrap(),
                    start: at(start),
                    end: at(end),
                    event_id: None,
                    pinned,
                })
                .collect(),
        }
    }

    fn busy(start: u32, end: u32) -> BusyInterval {
        BusyInterval { start: at(start), end: at(end) }
    }

    #[test]
    fn a_meeting_on_a_future_block_or_its_buffer_is_a_conflict() {
        let hit = task(0, None, &[(10, 11, false)]);
        let near = task(1, None, &[(13, 14, false)]);
        let clear = task(2, None, &[(16, 17, false)]);
        let tasks = [hit.clone(), near.clone(), clear];
        let meetings = [busy(10, 11), busy(14, 15)];
        assert_eq!(tasks_to_replan(&tasks, &meetings, 0, at(8)), vec![(hit.id, ChangeReason::Conflict)]);
        assert_eq!(
            tasks_to_replan(&tasks, &meetings, 10, at(8)),
            vec![(hit.id, ChangeReason::Conflict), (near.id, ChangeReason::Conflict)],
            "a meeting right after a block leaves no buffer"
        );
    }

    #[test]
    fn an_ended_block_of_an_open_task_is_missed_and_a_done_one_is_not() {
        let missed = task(0, None, &[(8, 9, false)]);
        let mut done = task(1, None, &[(8, 9, false)]);
        done.status = TaskStatus::Done;
        let later = task(2, None, &[(12, 13, false)]);
        let found = tasks_to_replan(&[missed.clone(), done, later], &[], 10, at(10));
        assert_eq!(found, vec![(missed.id, ChangeReason::Missed)]);
    }

    #[test]
    fn pinned_tasks_stay_and_push_other_blocks_away() {
        let pinned = task(0, None, &[(10, 11, true)]);
        let under = task(1, None, &[(10, 11, false)]);
        let found = tasks_to_replan(&[pinned.clone(), under.clone()], &[busy(10, 11)], 0, at(8));
        assert_eq!(found, vec![(under.id, ChangeReason::Conflict)], "the pinned task is never chosen");
        let past_pinned = task(0, None, &[(6, 7, true)]);
        assert!(tasks_to_replan(&[past_pinned], &[], 0, at(8)).is_empty());
    }

    #[test]
    fn our_own_blocks_are_not_busy_for_each_other() {
        let one = task(0, None, &[(10, 11, false)]);
        let two = task(1, None, &[(10, 11, false)]);
        assert!(tasks_to_replan(&[one, two], &[], 10, at(8)).is_empty());
    }

    #[test]
    fn later_tasks_of_the_plan_follow_to_keep_its_order() {
        let plan = Uuid::now_v7();
        let first = task(0, Some(plan), &[(9, 10, false)]);
        let hit = task(1, Some(plan), &[(10, 11, false)]);
        let next = task(2, Some(plan), &[(12, 13, false)]);
        let unplaced = task(3, Some(plan), &[]);
        let other_plan = task(4, Some(Uuid::now_v7()), &[(14, 15, false)]);
        let tasks = [first, hit.clone(), next.clone(), unplaced, other_plan];
        assert_eq!(
            tasks_to_replan(&tasks, &[busy(10, 11)], 0, at(8)),
            vec![(hit.id, ChangeReason::Conflict), (next.id, ChangeReason::Conflict)]
        );
    }

    #[test]
    fn a_block_ending_after_the_deadline_is_re_placed_for_the_deadline() {
        let mut late = task(0, None, &[(14, 15, false)]);
        late.due_at = Some(at(12));
        let mut on_time = task(1, None, &[(10, 11, false)]);
        on_time.due_at = Some(at(12));
        let mut late_and_hit = task(2, None, &[(16, 17, false)]);
        late_and_hit.due_at = Some(at(12));
        let found =
            tasks_to_replan(&[late.clone(), on_time, late_and_hit.clone()], &[busy(16, 17)], 0, at(8));
        assert_eq!(
            found,
            vec![(late.id, ChangeReason::Deadline), (late_and_hit.id, ChangeReason::Conflict)],
            "a conflict is the first reason; a block on time stays"
        );
        let mut pinned_late = task(3, None, &[(14, 15, true)]);
        pinned_late.due_at = Some(at(12));
        assert!(tasks_to_replan(&[pinned_late], &[], 0, at(8)).is_empty(), "a pinned block stays");
    }

    #[test]
    fn reasons_round_trip_through_their_names() {
        for reason in
            [ChangeReason::Conflict, ChangeReason::Missed, ChangeReason::Deadline, ChangeReason::Edited]
        {
            assert_eq!(ChangeReason::parse("reason", reason.as_str()), Ok(reason));
        }
        assert!(ChangeReason::parse("reason", "moved").is_err());
    }
}
