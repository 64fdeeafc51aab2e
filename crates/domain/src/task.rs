//! Tasks: the person's own to-do items, nested by `parent_id`, optionally tied to a plan.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

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
    /// Estimated minutes.
    pub estimate_minutes: Option<u32>,
    /// Order among its siblings.
    pub position: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A task ready to be stored (its position is given by the store: last among its siblings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
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
