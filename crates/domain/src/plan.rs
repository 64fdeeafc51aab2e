//! Plans: a goal turned into dated tasks, and the AI's token usage.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    Priority, ScheduledBlock, Task, TaskStatus,
    error::{FieldError, ValidationErrors},
};

fn text(field: &str, raw: &str, max: usize, required: bool) -> Result<String, FieldError> {
    let value = raw.trim();
    if required && value.is_empty() {
        return Err(FieldError::new(field, "This field must not be blank."));
    }
    if raw.chars().count() > max {
        return Err(FieldError::new(field, format!("At most {max} characters.")));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err(FieldError::new(field, "Control characters are not allowed."));
    }
    Ok(value.to_owned())
}

/// What the person wants to achieve, 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Goal(String);

impl Goal {
    /// Most characters accepted.
    pub const MAX_LEN: usize = 500;

    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        text("goal", raw, Self::MAX_LEN, true).map(Self)
    }

    /// The goal as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many days a plan spans: 1 to 365.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DurationDays(u16);

impl DurationDays {
    /// Longest plan.
    pub const MAX: i64 = 365;

    /// Checks the range.
    pub fn parse(raw: i64) -> Result<Self, FieldError> {
        match u16::try_from(raw) {
            Ok(days @ 1..=365) => Ok(Self(days)),
            _ => Err(FieldError::new(
                "duration_days",
                format!("{raw} is not between 1 and {} days.", Self::MAX),
            )),
        }
    }

    /// The number of days.
    pub fn get(self) -> u16 {
        self.0
    }
}

/// Free-form notes the person adds to a goal, at most 4000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes(String);

impl Notes {
    /// Most characters accepted.
    pub const MAX_LEN: usize = 4000;

    /// Trims and checks the length; the field is named `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        text(field, raw, Self::MAX_LEN, false).map(Self)
    }

    /// The notes as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plan's life: a draft to review, then scheduled onto a calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Generated or edited, not yet on a calendar.
    Draft,
    /// Placed on a calendar.
    Scheduled,
}

impl PlanStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
        }
    }

    /// Parses a stored name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "draft" => Some(Self::Draft),
            "scheduled" => Some(Self::Scheduled),
            _ => None,
        }
    }
}

/// Tokens an AI call consumed (Gemini's `usageMetadata`). The two breakdown counts were added
/// later, so stored usages without them read as 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Tokens in the prompt (cached ones included).
    pub prompt_tokens: u32,
    /// Tokens generated (thoughts included).
    pub output_tokens: u32,
    /// Everything billed.
    pub total_tokens: u32,
    /// Of `output_tokens`, those spent thinking.
    #[serde(default)]
    pub thoughts_tokens: u32,
    /// Of `prompt_tokens`, those served from Gemini's context cache.
    #[serde(default)]
    pub cached_tokens: u32,
}

impl TokenUsage {
    /// The sum of two usages (a retried call costs both attempts).
    pub fn plus(self, other: Self) -> Self {
        Self {
            prompt_tokens: self.prompt_tokens.saturating_add(other.prompt_tokens),
            output_tokens: self.output_tokens.saturating_add(other.output_tokens),
            total_tokens: self.total_tokens.saturating_add(other.total_tokens),
            thoughts_tokens: self.thoughts_tokens.saturating_add(other.thoughts_tokens),
            cached_tokens: self.cached_tokens.saturating_add(other.cached_tokens),
        }
    }
}

/// One task of a plan as proposed or edited, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTaskDraft {
    /// Short title, 1 to 200 characters.
    pub title: String,
    /// What to do, up to 2000 characters.
    pub description: String,
    /// Day of the plan, 0 = the first day; below the plan's duration.
    pub day_offset: u16,
    /// Length of the work block, 15 to 480 minutes.
    pub duration_minutes: u16,
}

impl PlanTaskDraft {
    /// Longest title.
    pub const TITLE_MAX: usize = 200;
    /// Longest description.
    pub const DESCRIPTION_MAX: usize = 2000;
    /// Shortest block, in minutes.
    pub const MIN_MINUTES: i64 = 15;
    /// Longest block, in minutes.
    pub const MAX_MINUTES: i64 = 480;

    /// Checks one task of a plan lasting `duration`; fields are named `{prefix}.title` etc.
    pub fn parse(
        prefix: &str,
        title: &str,
        description: &str,
        day_offset: i64,
        duration_minutes: i64,
        duration: DurationDays,
    ) -> Result<Self, FieldError> {
        Ok(Self {
            title: Self::parse_title(prefix, title)?,
            description: Self::parse_description(prefix, description)?,
            day_offset: Self::parse_day_offset(prefix, day_offset, duration)?,
            duration_minutes: Self::parse_minutes(prefix, duration_minutes)?,
        })
    }

    fn parse_title(prefix: &str, raw: &str) -> Result<String, FieldError> {
        text(&format!("{prefix}.title"), raw, Self::TITLE_MAX, true)
    }

    fn parse_description(prefix: &str, raw: &str) -> Result<String, FieldError> {
        text(&format!("{prefix}.description"), raw, Self::DESCRIPTION_MAX, false)
    }

    fn parse_day_offset(prefix: &str, raw: i64, duration: DurationDays) -> Result<u16, FieldError> {
        u16::try_from(raw).ok().filter(|d| *d < duration.get()).ok_or_else(|| {
            FieldError::new(
                format!("{prefix}.day_offset"),
                format!("{raw} is not a day of this plan: use 0 to {}.", duration.get() - 1),
            )
        })
    }

    fn parse_minutes(prefix: &str, raw: i64) -> Result<u16, FieldError> {
        u16::try_from(raw)
            .ok()
            .filter(|m| (Self::MIN_MINUTES..=Self::MAX_MINUTES).contains(&i64::from(*m)))
            .ok_or_else(|| {
                FieldError::new(
                    format!("{prefix}.duration_minutes"),
                    format!("{raw} minutes is outside {}–{} minutes.", Self::MIN_MINUTES, Self::MAX_MINUTES),
                )
            })
    }
}

/// One task of a plan as it arrives, from a person's edit or from the AI, before it is checked.
#[derive(Debug, Clone, Copy)]
pub struct PlanTaskFields<'a> {
    /// Title as sent.
    pub title: &'a str,
    /// Description as sent.
    pub description: &'a str,
    /// Day of the plan as sent.
    pub day_offset: i64,
    /// Minutes as sent.
    pub duration_minutes: i64,
}

/// The rules of a plan's content — its summary and its task list — shared by every way a plan
/// is written (a person's edit, the AI's proposal), so both are held to the same limits.
#[derive(Debug, Clone, Copy)]
pub struct PlanContent;

impl PlanContent {
    /// Longest summary a plan may carry.
    pub const SUMMARY_MAX: usize = 20_000;
    /// Most tasks one plan may hold.
    pub const TASKS_MAX: usize = 500;

    /// Checks a summary's length (counted as sent).
    pub fn check_summary(summary: &str) -> Result<(), FieldError> {
        if summary.chars().count() > Self::SUMMARY_MAX {
            return Err(FieldError::new("summary", format!("At most {} characters.", Self::SUMMARY_MAX)));
        }
        Ok(())
    }

    /// Checks a task list for a plan lasting `duration`: at most [`Self::TASKS_MAX`] tasks, each
    /// by [`PlanTaskDraft::parse`] with fields named `tasks[i].title` etc. Every broken rule is
    /// reported, not only the first; on success the drafts come back in the order given.
    pub fn parse_tasks<'a>(
        tasks: impl IntoIterator<Item = PlanTaskFields<'a>>,
        duration: DurationDays,
    ) -> Result<Vec<PlanTaskDraft>, ValidationErrors> {
        let mut errors = Vec::new();
        let mut drafts = Vec::new();
        for (index, task) in tasks.into_iter().enumerate() {
            if index == Self::TASKS_MAX {
                errors.push(FieldError::new("tasks", format!("At most {} tasks.", Self::TASKS_MAX)));
            }
            match PlanTaskDraft::parse(
                &format!("tasks[{index}]"),
                task.title,
                task.description,
                task.day_offset,
                task.duration_minutes,
                duration,
            ) {
                Ok(draft) => drafts.push(draft),
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() { Ok(drafts) } else { Err(errors.into_iter().collect()) }
    }

    /// Checks an edited task list: a task with an `id` keeps every field it leaves out, a task
    /// without one is new and needs `title`, `day_offset` and `duration_minutes`. Fields are named
    /// `tasks[i].title` etc.; every broken rule is reported.
    pub fn parse_edits<'a>(
        tasks: impl IntoIterator<Item = PlanTaskEditFields<'a>>,
        duration: DurationDays,
    ) -> Result<Vec<PlanTaskEdit>, ValidationErrors> {
        let mut errors = Vec::new();
        let mut edits = Vec::new();
        for (index, task) in tasks.into_iter().enumerate() {
            if index == Self::TASKS_MAX {
                errors.push(FieldError::new("tasks", format!("At most {} tasks.", Self::TASKS_MAX)));
            }
            let prefix = format!("tasks[{index}]");
            match task.parse(&prefix, duration) {
                Ok(edit) => edits.push(edit),
                Err(broken) => errors.extend(broken),
            }
        }
        if errors.is_empty() { Ok(edits) } else { Err(errors.into_iter().collect()) }
    }
}

/// The value of a checked optional field, or `None` with its error kept.
fn collect_error<T>(checked: Result<Option<T>, FieldError>, errors: &mut Vec<FieldError>) -> Option<T> {
    checked.unwrap_or_else(|error| {
        errors.push(error);
        None
    })
}

/// One task of an edited plan as it arrives: fields the person left out are `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanTaskEditFields<'a> {
    /// The existing task to keep, if any.
    pub id: Option<Uuid>,
    /// Title as sent.
    pub title: Option<&'a str>,
    /// Description as sent.
    pub description: Option<&'a str>,
    /// Day of the plan as sent.
    pub day_offset: Option<i64>,
    /// Minutes as sent.
    pub duration_minutes: Option<i64>,
}

impl PlanTaskEditFields<'_> {
    fn parse(self, prefix: &str, duration: DurationDays) -> Result<PlanTaskEdit, Vec<FieldError>> {
        let mut errors = Vec::new();
        let title = self.title.map(|raw| PlanTaskDraft::parse_title(prefix, raw)).transpose();
        let description =
            self.description.map(|raw| PlanTaskDraft::parse_description(prefix, raw)).transpose();
        let day_offset =
            self.day_offset.map(|raw| PlanTaskDraft::parse_day_offset(prefix, raw, duration)).transpose();
        let minutes = self.duration_minutes.map(|raw| PlanTaskDraft::parse_minutes(prefix, raw)).transpose();
        let changes = PlanTaskPatch {
            title: collect_error(title, &mut errors),
            description: collect_error(description, &mut errors),
            day_offset: collect_error(day_offset, &mut errors),
            duration_minutes: collect_error(minutes, &mut errors),
        };
        let edit = match self.id {
            Some(id) => Some(PlanTaskEdit::Keep { id, changes }),
            None => {
                let missing = |field: &str, present: bool, sent: bool| {
                    (!present && !sent).then(|| {
                        FieldError::new(
                            format!("{prefix}.{field}"),
                            "A new task (one without an `id`) needs this field.",
                        )
                    })
                };
                let absent = [
                    missing("title", changes.title.is_some(), self.title.is_some()),
                    missing("day_offset", changes.day_offset.is_some(), self.day_offset.is_some()),
                    missing(
                        "duration_minutes",
                        changes.duration_minutes.is_some(),
                        self.duration_minutes.is_some(),
                    ),
                ];
                errors.extend(absent.into_iter().flatten());
                match changes {
                    PlanTaskPatch {
                        title: Some(title),
                        description,
                        day_offset: Some(day_offset),
                        duration_minutes: Some(duration_minutes),
                    } => Some(PlanTaskEdit::New(PlanTaskDraft {
                        title,
                        description: description.unwrap_or_default(),
                        day_offset,
                        duration_minutes,
                    })),
                    _ => None,
                }
            }
        };
        match edit {
            Some(edit) if errors.is_empty() => Ok(edit),
            _ => Err(errors),
        }
    }
}

/// A task of a plan, as a plan shows it: the plan's view of a [`Task`] with `plan_id` and no
/// parent (sub-tasks of a plan's task belong to the plan but are not listed in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanTask {
    /// Stable id (the same as the task's).
    pub id: Uuid,
    /// Order within the plan, from 0.
    pub position: u32,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Day of the plan, from 0.
    pub day_offset: u16,
    /// Minutes of work (the task's estimate; 0 when it has none).
    pub duration_minutes: u16,
    /// Where it stands.
    pub status: TaskStatus,
    /// How much it matters.
    pub priority: Priority,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// Shortest chunk the scheduler may split it into; `None`: never split.
    pub min_chunk_minutes: Option<u16>,
    /// Where it sits on the calendar, chunk by chunk.
    pub blocks: Vec<ScheduledBlock>,
}

impl PlanTask {
    /// The plan's view of one of its tasks, at `position` in the plan.
    pub fn from_task(task: Task, position: u32) -> Self {
        Self {
            id: task.id,
            position,
            title: task.title,
            description: task.description,
            day_offset: task.day_offset.unwrap_or(0),
            duration_minutes: task.estimate_minutes.map_or(0, |m| u16::try_from(m).unwrap_or(u16::MAX)),
            status: task.status,
            priority: task.priority,
            due_at: task.due_at,
            min_chunk_minutes: task.min_chunk_minutes,
            blocks: task.blocks,
        }
    }

    /// Start of its first block on the calendar, once scheduled.
    pub fn scheduled_start(&self) -> Option<DateTime<Utc>> {
        self.blocks.first().map(|block| block.start)
    }

    /// End of its last block on the calendar, once scheduled.
    pub fn scheduled_end(&self) -> Option<DateTime<Utc>> {
        self.blocks.last().map(|block| block.end)
    }

    /// The calendar event of its first block, once scheduled.
    pub fn calendar_event_id(&self) -> Option<&str> {
        self.blocks.first().and_then(|block| block.event_id.as_deref())
    }
}

/// A plan as stored, with its tasks in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Stable id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The goal.
    pub goal: String,
    /// Days the plan spans.
    pub duration_days: u16,
    /// The person's context (`notes` and any other keys they sent).
    pub context: serde_json::Value,
    /// First day, when the person gave one.
    pub start_date: Option<NaiveDate>,
    /// Human-readable markdown overview.
    pub summary: String,
    /// Draft or scheduled.
    pub status: PlanStatus,
    /// Which model wrote it (`offline` for the built-in planner).
    pub model: String,
    /// The exact model version that answered (Gemini's `modelVersion`), when the provider says.
    pub model_version: Option<String>,
    /// What was repaired in the AI's answer before it was stored, one sentence each.
    pub notes: Vec<String>,
    /// Tokens spent generating it.
    pub usage: TokenUsage,
    /// Tasks in order.
    pub tasks: Vec<PlanTask>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A plan ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPlan {
    /// The id to store it under; `None`: a fresh one (see [`crate::NewTask::id`]).
    pub id: Option<Uuid>,
    /// The goal.
    pub goal: Goal,
    /// Days the plan spans.
    pub duration_days: DurationDays,
    /// The person's context.
    pub context: serde_json::Value,
    /// First day, if given.
    pub start_date: Option<NaiveDate>,
    /// Markdown overview.
    pub summary: String,
    /// Model name.
    pub model: String,
    /// The exact model version that answered, if known.
    pub model_version: Option<String>,
    /// What was repaired in the AI's answer.
    pub notes: Vec<String>,
    /// Tokens spent.
    pub usage: TokenUsage,
    /// Tasks in order.
    pub tasks: Vec<PlanTaskDraft>,
}

/// One task of an edited plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanTaskEdit {
    /// An existing task of the plan, kept with its id, calendar blocks, sub-tasks and every field
    /// the edit leaves out.
    Keep {
        /// The task.
        id: Uuid,
        /// The fields that change.
        changes: PlanTaskPatch,
    },
    /// A new task.
    New(PlanTaskDraft),
}

/// The fields of a kept plan task that an edit changes; `None` keeps the stored value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanTaskPatch {
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New day of the plan.
    pub day_offset: Option<u16>,
    /// New minutes of work.
    pub duration_minutes: Option<u16>,
}

/// An edit of a plan: `None` leaves a field alone; `tasks` replaces the whole list (tasks left
/// out are deleted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanChanges {
    /// New goal.
    pub goal: Option<Goal>,
    /// New summary.
    pub summary: Option<String>,
    /// The new task list, replacing the old.
    pub tasks: Option<Vec<PlanTaskEdit>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(n: i64) -> DurationDays {
        DurationDays::parse(n).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fields(title: &str, day_offset: i64) -> PlanTaskFields<'_> {
        PlanTaskFields { title, description: "", day_offset, duration_minutes: 30 }
    }

    #[test]
    fn plan_content_reports_every_broken_task_by_index() {
        let tasks = [fields("Read", 0), fields(" ", 0), fields("Write", 9)];
        let errors = PlanContent::parse_tasks(tasks, days(3)).expect_err("two tasks are broken");
        let named: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["tasks[1].title", "tasks[2].day_offset"]);
    }

    #[test]
    fn plan_content_keeps_order_and_caps_the_list() {
        let drafts =
            PlanContent::parse_tasks([fields("A", 2), fields("B", 0)], days(3)).expect("valid tasks");
        assert_eq!(drafts.iter().map(|d| d.title.as_str()).collect::<Vec<_>>(), ["A", "B"]);
        let too_many = vec![fields("T", 0); PlanContent::TASKS_MAX + 1];
        let errors = PlanContent::parse_tasks(too_many, days(1)).expect_err("one task too many");
        assert_eq!(errors.errors().iter().map(|e| e.field.as_str()).collect::<Vec<_>>(), ["tasks"]);
        assert!(PlanContent::parse_tasks(vec![fields("T", 0); PlanContent::TASKS_MAX], days(1)).is_ok());
    }

    #[test]
    fn an_edit_keeps_what_it_leaves_out_and_a_new_task_needs_its_fields() {
        let kept = Uuid::from_u128(7);
        let edits = [
            PlanTaskEditFields { id: Some(kept), title: Some("Renamed"), ..Default::default() },
            PlanTaskEditFields {
                title: Some("New"),
                day_offset: Some(1),
                duration_minutes: Some(45),
                ..Default::default()
            },
        ];
        let parsed = PlanContent::parse_edits(edits, days(3)).expect("valid edits");
        assert_eq!(
            parsed,
            [
                PlanTaskEdit::Keep {
                    id: kept,
                    changes: PlanTaskPatch { title: Some("Renamed".to_owned()), ..Default::default() }
                },
                PlanTaskEdit::New(PlanTaskDraft {
                    title: "New".to_owned(),
                    description: String::new(),
                    day_offset: 1,
                    duration_minutes: 45
                }),
            ]
        );
        let broken = [
            PlanTaskEditFields { title: Some("No day"), duration_minutes: Some(30), ..Default::default() },
            PlanTaskEditFields { id: Some(kept), day_offset: Some(5), ..Default::default() },
        ];
        let errors = PlanContent::parse_edits(broken, days(3)).expect_err("two broken edits");
        let named: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["tasks[0].day_offset", "tasks[1].day_offset"]);
    }

    #[test]
    fn a_summary_is_counted_as_sent() {
        assert!(PlanContent::check_summary(&"x".repeat(PlanContent::SUMMARY_MAX)).is_ok());
        let padded = format!("x{}", " ".repeat(PlanContent::SUMMARY_MAX));
        assert_eq!(PlanContent::check_summary(&padded).map_err(|e| e.field), Err("summary".to_owned()));
    }

    #[test]
    fn duration_is_one_to_365_days() {
        assert!(DurationDays::parse(0).is_err());
        assert!(DurationDays::parse(1).is_ok());
        assert!(DurationDays::parse(365).is_ok());
        assert!(DurationDays::parse(366).is_err());
        assert!(DurationDays::parse(-3).is_err());
    }

    #[test]
    fn goal_is_trimmed_and_bounded() {
        assert_eq!(Goal::parse("  learn Rust ").map(|g| g.as_str().to_owned()), Ok("learn Rust".to_owned()));
        assert!(Goal::parse(" ").is_err());
        assert!(Goal::parse(&"g".repeat(501)).is_err());
    }

    #[test]
    fn plan_task_fits_inside_the_plan() {
        let ok = PlanTaskDraft::parse("tasks[0]", "Read", "", 1, 60, days(2));
        assert_eq!(ok.map(|t| (t.day_offset, t.duration_minutes)), Ok((1, 60)));
        let late = PlanTaskDraft::parse("tasks[0]", "Read", "", 2, 60, days(2)).err();
        assert_eq!(late.map(|e| e.field), Some("tasks[0].day_offset".to_owned()));
        let short = PlanTaskDraft::parse("tasks[3]", "Read", "", 0, 10, days(2)).err();
        assert_eq!(short.map(|e| e.field), Some("tasks[3].duration_minutes".to_owned()));
        let long = PlanTaskDraft::parse("t", "Read", "", 0, 481, days(2)).err();
        assert_eq!(long.map(|e| e.field), Some("t.duration_minutes".to_owned()));
        let blank = PlanTaskDraft::parse("t", "  ", "", 0, 60, days(2)).err();
        assert_eq!(blank.map(|e| e.field), Some("t.title".to_owned()));
    }

    #[test]
    fn usage_adds_up_without_overflow() {
        let a = TokenUsage {
            prompt_tokens: 10,
            output_tokens: 5,
            total_tokens: 15,
            thoughts_tokens: 2,
            cached_tokens: 1,
        };
        let b = TokenUsage { prompt_tokens: u32::MAX, output_tokens: 1, total_tokens: 1, ..a };
        assert_eq!(
            a.plus(a),
            TokenUsage {
                prompt_tokens: 20,
                output_tokens: 10,
                total_tokens: 30,
                thoughts_tokens: 4,
                cached_tokens: 2
            }
        );
        assert_eq!(a.plus(b).prompt_tokens, u32::MAX);
    }
}
