//! Tasks: the person's own to-do items, nested by `parent_id`, optionally tied to a plan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Priority;
use crate::{error::FieldError, plan::PlanTaskDraft};

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Finished.
    Done,
}

impl TaskStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::InProgress => "in_progress",
            Self::Done => "done",
        }
    }

    /// Parses a name; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "todo" => Ok(Self::Todo),
            "in_progress" => Ok(Self::InProgress),
            "done" => Ok(Self::Done),
            other => Err(FieldError::new(field, format!("'{other}' is not one of todo, in_progress, done."))),
        }
    }
}

/// Where one chunk of a task sits on the calendar, `[start, end)`: a task the scheduler split has
/// several, numbered from 0 in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledBlock {
    /// Which chunk, from 0.
    pub chunk: u16,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The calendar event holding it.
    pub event_id: Option<String>,
    /// The person moved, lengthened or shortened it by hand in their calendar: re-planning leaves
    /// it (and its task) there, and a scheduling run keeps it and places only the rest of the task.
    #[serde(default)]
    pub pinned: bool,
}

/// Shortest chunk a task is split into when none is given, in minutes.
pub const DEFAULT_MIN_CHUNK_MINUTES: u16 = crate::TaskToPlace::DEFAULT_MIN_CHUNK_MINUTES;

/// The shortest chunk a task may be split into: 15 to 480 minutes.
pub fn parse_min_chunk(raw: i64) -> Result<u16, FieldError> {
    u16::try_from(raw).ok().filter(|m| (15..=480).contains(m)).ok_or_else(|| {
        FieldError::new("min_chunk_minutes", format!("{raw} is not between 15 and 480 minutes."))
    })
}

/// A task's title: 1 to 200 characters after trimming.
pub fn parse_title(raw: &str) -> Result<String, FieldError> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(FieldError::new("title", "The title must not be blank."));
    }
    if raw.chars().count() > PlanTaskDraft::TITLE_MAX {
        return Err(FieldError::new(
            "title",
            format!("A title has at most {} characters.", PlanTaskDraft::TITLE_MAX),
        ));
    }
    Ok(title.to_owned())
}

/// A task's description: up to 2000 characters.
pub fn parse_description(raw: &str) -> Result<String, FieldError> {
    if raw.chars().count() > PlanTaskDraft::DESCRIPTION_MAX {
        return Err(FieldError::new(
            "description",
            format!("A description has at most {} characters.", PlanTaskDraft::DESCRIPTION_MAX),
        ));
    }
    Ok(raw.trim().to_owned())
}

/// An estimate in minutes: 1 to 10 080 (a week).
pub fn parse_estimate(raw: i64) -> Result<u32, FieldError> {
    u32::try_from(raw).ok().filter(|m| (1..=10_080).contains(m)).ok_or_else(|| {
        FieldError::new("estimate_minutes", format!("{raw} is not between 1 and 10080 minutes."))
    })
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Stable id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The task this one is a step of.
    pub parent_id: Option<Uuid>,
    /// The plan it belongs to.
    pub plan_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Where it stands.
    pub status: TaskStatus,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// Estimated minutes (for a plan's task, its `duration_minutes`).
    pub estimate_minutes: Option<u32>,
    /// How much it matters.
    pub priority: Priority,
    /// Shortest chunk the scheduler may split it into; `None`: never split.
    pub min_chunk_minutes: Option<u16>,
    /// Nothing of it is placed before this.
    pub earliest_start: Option<DateTime<Utc>>,
    /// For a task of a plan: its day of the plan, from 0.
    pub day_offset: Option<u16>,
    /// Order among its siblings (the tasks of a plan are siblings of one another).
    pub position: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Where it sits on the calendar, chunk by chunk (empty until scheduled).
    pub blocks: Vec<ScheduledBlock>,
}

impl Task {
    /// Whether it is finished.
    pub fn is_done(&self) -> bool {
        self.status == TaskStatus::Done
    }
}

/// A task ready to be stored (its position is given by the store: last among its siblings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    /// The id to store it under; `None`: a fresh one. A caller that must find the task again
    /// after a crash (a confirmed chat action) derives it from its own id.
    pub id: Option<Uuid>,
    /// Parent task, if a sub-task.
    pub parent_id: Option<Uuid>,
    /// Plan, if any.
    pub plan_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Starting status.
    pub status: TaskStatus,
    /// Due time.
    pub due_at: Option<DateTime<Utc>>,
    /// Estimate.
    pub estimate_minutes: Option<u32>,
    /// Priority.
    pub priority: Priority,
    /// Shortest chunk; `None`: never split.
    pub min_chunk_minutes: Option<u16>,
    /// Nothing of it is placed before this.
    pub earliest_start: Option<DateTime<Utc>>,
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New status.
    pub status: Option<TaskStatus>,
    /// New due time, or cleared.
    pub due_at: Option<Option<DateTime<Utc>>>,
    /// New estimate, or cleared.
    pub estimate_minutes: Option<Option<u32>>,
    /// New parent, or none.
    pub parent_id: Option<Option<Uuid>>,
    /// New plan, or none.
    pub plan_id: Option<Option<Uuid>>,
    /// New position among siblings.
    pub position: Option<i64>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New shortest chunk, or never split.
    pub min_chunk_minutes: Option<Option<u16>>,
    /// New earliest start, or none.
    pub earliest_start: Option<Option<DateTime<Utc>>>,
}

/// A step an AI proposes for a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subtask {
    /// Short title.
    pub title: String,
    /// What to do.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_round_trips_through_its_name() {
        for status in [TaskStatus::Todo, TaskStatus::InProgress, TaskStatus::Done] {
            assert_eq!(TaskStatus::parse("status", status.as_str()), Ok(status));
        }
        assert_eq!(TaskStatus::parse("status", "later").map_err(|e| e.field), Err("status".to_owned()));
    }

    #[test]
    fn min_chunk_is_15_to_480_minutes() {
        assert_eq!(parse_min_chunk(15), Ok(15));
        assert_eq!(parse_min_chunk(480), Ok(480));
        assert!(parse_min_chunk(14).is_err());
        assert!(parse_min_chunk(481).is_err());
        assert!(parse_min_chunk(-1).is_err());
    }

    #[test]
    fn title_description_and_estimate_are_bounded() {
        assert_eq!(parse_title("  Write intro "), Ok("Write intro".to_owned()));
        assert!(parse_title("   ").is_err());
        assert!(parse_title(&"t".repeat(201)).is_err());
        assert!(parse_description(&"d".repeat(2001)).is_err());
        assert_eq!(parse_estimate(90), Ok(90));
        assert!(parse_estimate(0).is_err());
        assert!(parse_estimate(10_081).is_err());
    }
}
