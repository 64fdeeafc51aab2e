//! Proposed chat actions: a change the assistant suggested, stored with its answer, that happens
//! only when the person confirms it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// What a proposed action would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// Create one task.
    CreateTask,
    /// Change a task's title, due time, estimate, priority or status.
    UpdateTask,
    /// Add the previewed steps to a task as sub-tasks.
    BreakDownTask,
    /// Generate and store a plan for a goal.
    CreatePlan,
    /// Put tasks on the calendar (the preview is the dry run).
    Schedule,
}

impl ActionKind {
    /// Every kind, in the order the documentation lists them.
    pub const ALL: [Self; 5] =
        [Self::CreateTask, Self::UpdateTask, Self::BreakDownTask, Self::CreatePlan, Self::Schedule];

    /// The stored and wire name, which is also the name of the chat tool proposing it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateTask => "create_task",
            Self::UpdateTask => "update_task",
            Self::BreakDownTask => "break_down_task",
            Self::CreatePlan => "create_plan",
            Self::Schedule => "schedule",
        }
    }

    /// The kind a stored or tool name stands for.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// Where a proposed action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionStatus {
    /// Waiting for the person.
    Proposed,
    /// Being performed right now (claimed by one confirm).
    Confirming,
    /// Performed; its result is stored.
    Confirmed,
    /// Discarded by the person.
    Rejected,
}

impl ActionStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Confirming => "confirming",
            Self::Confirmed => "confirmed",
            Self::Rejected => "rejected",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Proposed, Self::Confirming, Self::Confirmed, Self::Rejected]
            .into_iter()
            .find(|status| status.as_str() == raw)
    }
}

/// An action the assistant proposed, ready to be stored with its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChatAction {
    /// What it would do.
    pub kind: ActionKind,
    /// Its arguments, already checked with the API's own rules (normalised JSON).
    pub arguments: serde_json::Value,
    /// A sentence a person reads before confirming.
    pub summary: String,
    /// What it would look like (the task as it would be, the dry-run placements, ...).
    pub preview: serde_json::Value,
    /// A fingerprint of what it acts on when it was proposed (`None`: nothing to go stale); a
    /// confirm whose fingerprint differs is refused as stale.
    pub target_version: Option<String>,
}

/// A stored proposed action.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatAction {
    /// Its id.
    pub id: Uuid,
    /// The session it was proposed in.
    pub session_id: Uuid,
    /// The assistant message that proposed it.
    pub message_id: Uuid,
    /// What it does.
    pub kind: ActionKind,
    /// Its checked arguments.
    pub arguments: serde_json::Value,
    /// A human sentence.
    pub summary: String,
    /// What it would look like.
    pub preview: serde_json::Value,
    /// The fingerprint of its target when proposed.
    pub target_version: Option<String>,
    /// Where it stands.
    pub status: ActionStatus,
    /// What confirming it produced (set once confirmed).
    pub result: Option<serde_json::Value>,
    /// Proposed.
    pub created_at: DateTime<Utc>,
    /// When it was claimed, confirmed or rejected.
    pub decided_at: Option<DateTime<Utc>>,
}

impl ChatAction {
    /// The id of the `n`-th row that performing this action creates. It is derived from the
    /// action's own id, so performing it again after a crash (between the write and storing its
    /// result) finds what the first attempt stored instead of creating it twice.
    #[must_use]
    pub fn created_id(&self, n: u32) -> Uuid {
        Uuid::new_v5(&self.id, &n.to_be_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ActionKind::ALL {
            assert_eq!(ActionKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(ActionKind::parse("delete_everything"), None);
        for status in ["proposed", "confirming", "confirmed", "rejected"] {
            assert_eq!(ActionStatus::parse(status).map(ActionStatus::as_str), Some(status));
        }
        assert_eq!(ActionStatus::parse("done"), None);
    }
}
