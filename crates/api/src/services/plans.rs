//! Goal to plan: ask the AI, repair what it proposes where that can be done deterministically
//! (noting each change on the plan), retry once with the problems fed back when the answer
//! cannot be used, store the plan with its usage; then read, edit and delete it.

use planwright_domain::{
    DurationDays, Goal, NewPlan, Plan, PlanChanges, PlanContent, PlanTaskDraft, PlanTaskEdit, PlanTaskFields,
    TokenUsage, ValidationErrors,
};
use planwright_store::repo::{
    self,
    page::{Page, PageRequest},
};
use uuid::Uuid;

use crate::{
    error::{ApiError, Missing, not_found},
    services::{
        ai::{AiError, AiProvider, PlanPrompt, repair},
        budget, grounding,
    },
    state::AppState,
};

/// Most tasks one plan may hold.
pub const TASKS_MAX: usize = PlanContent::TASKS_MAX;
/// Most tasks a generated plan gets per day of the plan.
pub const GENERATED_TASKS_PER_DAY: usize = 8;

/// Most tasks the AI may propose for a plan of `days` days (the schema's `maxItems`; more are
/// dropped): [`GENERATED_TASKS_PER_DAY`] a day, at most [`TASKS_MAX`].
pub fn max_generated_tasks(days: u16) -> usize {
    (usize::from(days.max(1)) * GENERATED_TASKS_PER_DAY).min(TASKS_MAX)
}

/// A validated request for a new plan.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    /// The id to store it under; `None`: a fresh one (a confirmed chat action derives it).
    pub id: Option<Uuid>,
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
    let days = request.duration.get();
    let mut prompt = PlanPrompt {
        goal: request.goal.as_str().to_owned(),
        duration_days: days,
        notes: request.notes.clone(),
        max_tasks: max_generated_tasks(days),
        corrections: Vec::new(),
    };
    let mut usage = TokenUsage::default();
    let mut attempt = 0;
    let (repaired, generated) = loop {
        attempt += 1;
        let outcome = state.ai.propose_plan(&prompt, &state.metrics).await;
        usage = usage.plus(match &outcome {
            Ok(generated) => generated.usage,
            Err(error) => AiProvider::usage_of_error(error),
        });
        let problems = match outcome {
            Ok(generated) => {
                let proposal = generated.value.clone();
                match repair::plan(proposal, request.goal.as_str(), days, prompt.max_tasks) {
                    Ok(repaired) => break (repaired, generated),
                    Err(problems) => problems,
                }
            }
            Err(AiError::BadOutput { problem, .. }) => vec![problem],
            Err(error) => {
                budget::record(state, user_id, usage).await?;
                return Err(error.into());
            }
        };
        if attempt >= 2 {
            budget::record(state, user_id, usage).await?;
            tracing::warn!(?problems, "the AI's answer was unusable twice");
            return Err(ApiError::BadGateway(
                "The AI returned an unusable plan twice. Please try again, perhaps with a simpler goal."
                    .to_owned(),
            ));
        }
        tracing::warn!(?problems, "the AI's answer was unusable; asking again");
        prompt.corrections = problems;
    };
    if !repaired.notes.is_empty() {
        tracing::info!(notes = ?repaired.notes, "the AI's plan was repaired");
    }
    let tasks = match check(&repaired.tasks, request.duration) {
        Ok(tasks) => tasks,
        Err(error) => {
            budget::record(state, user_id, usage).await?;
            return Err(error);
        }
    };
    let plan = NewPlan {
        id: request.id,
        goal: request.goal,
        duration_days: request.duration,
        context: request.context,
        start_date: request.start_date,
        summary: repaired.summary,
        model: generated.model,
        model_version: generated.model_version,
        notes: repaired.notes,
        usage,
        tasks,
    };
    // The plan and what it cost are stored in one write.
    let plan = match repo::plans::create(state.db.conn(), user_id, plan, (budget::today(), &usage)).await {
        Ok(plan) => plan,
        Err(error) => {
            budget::record_after_failed_write(state, user_id, usage).await;
            return Err(error.into());
        }
    };
    grounding::index::index_plan(state, &plan).await;
    Ok(plan)
}

/// The domain's own check of repaired tasks: a repair that still broke a rule is a bug of
/// ours, answered 502 rather than stored.
fn check(tasks: &[PlanTaskDraft], duration: DurationDays) -> Result<Vec<PlanTaskDraft>, ApiError> {
    let fields = tasks.iter().map(|task| PlanTaskFields {
        title: &task.title,
        description: &task.description,
        day_offset: i64::from(task.day_offset),
        duration_minutes: i64::from(task.duration_minutes),
    });
    PlanContent::parse_tasks(fields, duration).map_err(|error| {
        tracing::error!(%error, "a repaired plan still broke a rule");
        ApiError::BadGateway("The AI returned a plan that could not be used. Please try again.".to_owned())
    })
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
            .filter(|(_, edit)| match edit {
                PlanTaskEdit::Keep { id, .. } => !current.tasks.iter().any(|task| task.id == *id),
                PlanTaskEdit::New(_) => false,
            })
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
    let plan = repo::plans::update(state.db.conn(), user_id, plan_id, changes)
        .await
        .map_err(not_found(Missing::Plan))?;
    grounding::index::index_plan(state, &plan).await;
    Ok(plan)
}

/// Deletes the caller's plan (its chunks and vectors go with it, by cascade).
pub async fn delete_plan(state: &AppState, user_id: Uuid, plan_id: Uuid) -> Result<(), ApiError> {
    repo::plans::delete(state.db.conn(), user_id, plan_id).await.map_err(not_found(Missing::Plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_plans_are_capped_per_day_and_overall() {
        assert_eq!(max_generated_tasks(1), 8);
        assert_eq!(max_generated_tasks(2), 16);
        assert_eq!(max_generated_tasks(365), TASKS_MAX);
    }

    #[test]
    fn a_model_that_is_gone_is_a_503_naming_the_model_and_the_key() {
        let error =
            ApiError::from(AiError::ModelNotFound { model: "gemini-1.5-flash".into(), fallbacks: vec![] });
        let ApiError::Unavailable(detail) = error else { panic!("expected 503, got {error:?}") };
        assert!(detail.contains("gemini-1.5-flash") && detail.contains("ai.model"), "{detail}");
    }
}
