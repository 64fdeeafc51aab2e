//! Goal to plan: ask the AI, validate what it proposes (retrying once with the problems fed
//! back), store the plan with its usage; then read, edit and delete it.

use planwright_domain::{
    DurationDays, Goal, NewPlan, Plan, PlanChanges, PlanTaskDraft, TokenUsage, ValidationErrors,
};
use planwright_store::repo::{
    self,
    page::{Page, PageRequest},
};
use uuid::Uuid;

use crate::{
    error::{ApiError, Missing, not_found},
    services::{
        ai::{AiError, PlanPrompt, ProposedPlan},
        budget,
    },
    state::AppState,
};

/// Longest summary a plan may carry.
pub const SUMMARY_MAX: usize = 20_000;
/// Most tasks one plan may hold.
pub const TASKS_MAX: usize = 500;

/// A validated request for a new plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The goal.
    pub goal: Goal,
    /// Days it spans.
    pub duration: DurationDays,
    /// The person's context, stored as sent (`notes` is passed to the AI).
    pub context: serde_json::Value,
    /// The notes from the context.
    pub notes: Option<String>,
    /// First day, if given.
    pub start_date: Option<chrono::NaiveDate>,
}

/// Generates and stores a plan.
#[tracing::instrument(skip_all, fields(%user_id, days = request.duration.get()))]
pub async fn create_plan(state: &AppState, user_id: Uuid, request: PlanRequest) -> Result<Plan, ApiError> {
    budget::ensure_available(state, user_id).await?;
    let mut prompt = PlanPrompt {
        goal: request.goal.as_str().to_owned(),
        duration_days: request.duration.get(),
        notes: request.notes.clone(),
        corrections: Vec::new(),
    };
    let mut usage = TokenUsage::default();
    let mut attempts = 0;
    let (proposal, model) = loop {
        attempts += 1;
        let generated = match state.ai.propose_plan(&prompt, &state.metrics).await {
            Ok(generated) => generated,
            Err(AiError::BadOutput(problem)) if attempts < 2 => {
                tracing::warn!(problem, "the AI's answer was unusable; asking again");
                prompt.corrections = vec![problem];
                continue;
            }
            Err(error) => {
                budget::record(state, user_id, usage).await?;
                return Err(error.into());
            }
        };
        usage = usage.plus(generated.usage);
        match validate(&generated.value, request.duration) {
            Ok(tasks) => break ((generated.value.summary, tasks), generated.model),
            Err(problems) if attempts < 2 => {
                tracing::warn!(problems = ?problems, "the AI proposed an invalid plan; asking again");
                prompt.corrections = problems;
            }
            Err(problems) => {
                budget::record(state, user_id, usage).await?;
                tracing::warn!(problems = ?problems, "the AI proposed an invalid plan twice");
                return Err(ApiError::BadGateway(
                    "The AI returned an invalid plan twice. Please try again, perhaps with a simpler goal."
                        .to_owned(),
                ));
            }
        }
    };
    budget::record(state, user_id, usage).await?;
    let (summary, tasks) = proposal;
    let plan = NewPlan {
        goal: request.goal,
        duration_days: request.duration,
        context: request.context,
        start_date: request.start_date,
        summary,
        model,
        usage,
        tasks,
    };
    Ok(repo::plans::create(state.db.conn(), user_id, plan).await?)
}

/// Checks a proposal against the plan's rules; each problem is a sentence for the AI.
fn validate(proposal: &ProposedPlan, duration: DurationDays) -> Result<Vec<PlanTaskDraft>, Vec<String>> {
    let mut problems = Vec::new();
    if proposal.summary.trim().is_empty() {
        problems.push("summary must not be empty".to_owned());
    }
    if proposal.summary.chars().count() > SUMMARY_MAX {
        problems.push(format!("summary must have at most {SUMMARY_MAX} characters"));
    }
    if proposal.tasks.is_empty() || proposal.tasks.len() > TASKS_MAX {
        problems.push(format!("tasks must hold 1 to {TASKS_MAX} tasks"));
    }
    let mut drafts = Vec::with_capacity(proposal.tasks.len());
    for (index, task) in proposal.tasks.iter().enumerate() {
        match PlanTaskDraft::parse(
            &format!("tasks[{index}]"),
            &task.title,
            &task.description,
            task.day_offset,
            task.duration_minutes,
            duration,
        ) {
            Ok(draft) => drafts.push(draft),
            Err(error) => problems.push(error.to_string()),
        }
    }
    if problems.is_empty() { Ok(drafts) } else { Err(problems) }
}

/// The caller's plan.
pub async fn get_plan(state: &AppState, user_id: Uuid, plan_id: Uuid) -> Result<Plan, ApiError> {
    repo::plans::find(state.db.conn(), user_id, plan_id).await.map_err(not_found(Missing::Plan))
}

/// The caller's plans, newest first.
pub async fn list_plans(state: &AppState, user_id: Uuid, page: &PageRequest) -> Result<Page<Plan>, ApiError> {
    Ok(repo::plans::list(state.db.conn(), user_id, page).await?)
}

/// Applies an edit; task ids must be tasks of this plan.
pub async fn update_plan(
    state: &AppState,
    user_id: Uuid,
    plan_id: Uuid,
    changes: PlanChanges,
) -> Result<Plan, ApiError> {
    let current = get_plan(state, user_id, plan_id).await?;
    if let Some(tasks) = &changes.tasks {
        let errors: ValidationErrors = tasks
            .iter()
            .enumerate()
            .filter(|(_, edit)| edit.id.is_some_and(|id| !current.tasks.iter().any(|t| t.id == id)))
            .map(|(index, _)| {
                planwright_domain::FieldError::new(
                    format!("tasks[{index}].id"),
                    "This plan has no task with this id.",
                )
            })
            .collect();
        if !errors.errors().is_empty() {
            return Err(errors.into());
        }
    }
    repo::plans::update(state.db.conn(), user_id, plan_id, changes).await.map_err(not_found(Missing::Plan))
}

/// Deletes the caller's plan.
pub async fn delete_plan(state: &AppState, user_id: Uuid, plan_id: Uuid) -> Result<(), ApiError> {
    repo::plans::delete(state.db.conn(), user_id, plan_id).await.map_err(not_found(Missing::Plan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::ai::ProposedTask;

    fn task(day: i64, minutes: i64) -> ProposedTask {
        ProposedTask {
            title: "Read".into(),
            description: String::new(),
            day_offset: day,
            duration_minutes: minutes,
        }
    }

    #[test]
    fn valid_proposals_become_drafts() {
        let days = DurationDays::parse(2).map_err(|e| e.to_string());
        let proposal = ProposedPlan { summary: "## Plan".into(), tasks: vec![task(0, 60), task(1, 30)] };
        let drafts = days.and_then(|d| validate(&proposal, d).map_err(|p| p.join("; ")));
        assert_eq!(drafts.map(|d| d.len()), Ok(2));
    }

    #[test]
    fn every_problem_is_reported_for_the_retry() {
        let Ok(days) = DurationDays::parse(2) else { return };
        let proposal = ProposedPlan { summary: " ".into(), tasks: vec![task(2, 60), task(0, 5)] };
        let problems = validate(&proposal, days).err().unwrap_or_default();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("tasks[0].day_offset")));
        assert!(problems.iter().any(|p| p.contains("tasks[1].duration_minutes")));
    }
}
