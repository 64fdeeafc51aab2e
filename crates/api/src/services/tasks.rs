//! The task manager: tasks and sub-tasks, and AI breakdown into steps. A change to what a plan
//! shows of its tasks (a top-level task of the plan created, edited, moved, reordered or
//! deleted) re-chunks the plan for search, as a plan update does.

use planwright_domain::{FieldError, NewTask, Subtask, Task, TaskChanges, TokenUsage};
use planwright_store::{
    StoreError,
    repo::{
        self,
        page::{Page, PageRequest},
        tasks::TaskFilter,
    },
};
use uuid::Uuid;

use crate::{
    error::{ApiError, Missing, not_found},
    services::{
        ai::{AiError, AiProvider, BreakdownPrompt, repair},
        budget, grounding,
    },
    state::AppState,
};

/// Fewest and most steps a breakdown gives.
pub const SUBTASKS: std::ops::RangeInclusive<usize> = repair::SUBTASKS;

/// Creates a task; `parent_id` and `plan_id` must be the caller's.
pub async fn create_task(state: &AppState, user_id: Uuid, task: NewTask) -> Result<Task, ApiError> {
    check_references(state, user_id, task.parent_id, task.plan_id).await?;
    let task = repo::tasks::create(state.db.conn(), user_id, task).await?;
    reindex_plans(state, user_id, [shown_in_plan(&task)]).await;
    Ok(task)
}

/// The caller's task.
pub async fn get_task(state: &AppState, user_id: Uuid, task_id: Uuid) -> Result<Task, ApiError> {
    repo::tasks::find(state.db.conn(), user_id, task_id).await.map_err(not_found(Missing::Task))
}

/// The caller's tasks matching `filter`.
pub async fn list_tasks(
    state: &AppState,
    user_id: Uuid,
    filter: &TaskFilter,
    page: &PageRequest,
) -> Result<Page<Task>, ApiError> {
    Ok(repo::tasks::list(state.db.conn(), user_id, filter, page).await?)
}

/// Applies a partial update; a new parent must be the caller's and not the task or one of its
/// descendants.
pub async fn update_task(
    state: &AppState,
    user_id: Uuid,
    task_id: Uuid,
    changes: TaskChanges,
) -> Result<Task, ApiError> {
    let before = get_task(state, user_id, task_id).await?;
    check_references(state, user_id, changes.parent_id.flatten(), changes.plan_id.flatten()).await?;
    if let Some(Some(parent_id)) = changes.parent_id {
        let ancestry = repo::tasks::ancestry(state.db.conn(), user_id, parent_id).await?;
        if ancestry.contains(&task_id) {
            return Err(FieldError::new(
                "parent_id",
                "A task cannot be moved under itself or one of its sub-tasks.",
            )
            .into());
        }
    }
    let shown = changes_plan_text(&changes);
    let task = repo::tasks::update(state.db.conn(), user_id, task_id, changes)
        .await
        .map_err(not_found(Missing::Task))?;
    if shown {
        reindex_plans(state, user_id, [shown_in_plan(&before), shown_in_plan(&task)]).await;
    }
    Ok(task)
}

/// Deletes the caller's task and all its sub-tasks.
pub async fn delete_task(state: &AppState, user_id: Uuid, task_id: Uuid) -> Result<(), ApiError> {
    let task = get_task(state, user_id, task_id).await?;
    repo::tasks::delete(state.db.conn(), user_id, task_id).await.map_err(not_found(Missing::Task))?;
    reindex_plans(state, user_id, [shown_in_plan(&task)]).await;
    Ok(())
}

/// The plan that shows `task` (a plan's tasks are its top-level tasks; sub-tasks are not shown).
fn shown_in_plan(task: &Task) -> Option<Uuid> {
    task.plan_id.filter(|_| task.parent_id.is_none())
}

/// Whether `changes` touch what a plan shows of a task: its text, estimate, place or plan (the
/// status, priority and dates are not in the plan's text).
fn changes_plan_text(changes: &TaskChanges) -> bool {
    changes.title.is_some()
        || changes.description.is_some()
        || changes.estimate_minutes.is_some()
        || changes.parent_id.is_some()
        || changes.plan_id.is_some()
        || changes.position.is_some()
}

/// Re-chunks each of these plans once (see [`grounding::index::reindex_plan`]).
async fn reindex_plans(state: &AppState, user_id: Uuid, plans: impl IntoIterator<Item = Option<Uuid>>) {
    let mut done: Vec<Uuid> = Vec::new();
    for plan_id in plans.into_iter().flatten() {
        if !done.contains(&plan_id) {
            done.push(plan_id);
            grounding::index::reindex_plan(state, user_id, plan_id).await;
        }
    }
}

/// Asks the AI for 2–5 steps of a task; with `save` they become its sub-tasks.
#[tracing::instrument(skip(state))]
pub async fn break_down_task(
    state: &AppState,
    user_id: Uuid,
    task_id: Uuid,
    save: bool,
) -> Result<(Vec<Subtask>, Option<Vec<Task>>), ApiError> {
    let task = get_task(state, user_id, task_id).await?;
    let prompt = BreakdownPrompt {
        title: task.title.clone(),
        description: task.description.clone(),
        corrections: Vec::new(),
    };
    let subtasks = break_down(state, user_id, &prompt).await?;
    if !save {
        return Ok((subtasks, None));
    }
    let created =
        repo::tasks::create_children(state.db.conn(), user_id, &task, subtasks.clone(), |_| None).await?;
    Ok((subtasks, Some(created)))
}

/// Asks the AI for 2–5 steps of a title and description (nothing is stored). Steps are repaired
/// (blank titles filled, text cleaned, surplus dropped); too few steps is asked for once more,
/// with the problem fed back, and only a second such answer is a 502.
pub async fn break_down(
    state: &AppState,
    user_id: Uuid,
    prompt: &BreakdownPrompt,
) -> Result<Vec<Subtask>, ApiError> {
    budget::ensure_available(state, user_id).await?;
    let mut prompt = prompt.clone();
    let mut usage = TokenUsage::default();
    for attempt in 1..=2 {
        let outcome = state.ai.propose_subtasks(&prompt, &state.metrics).await;
        usage = usage.plus(match &outcome {
            Ok(generated) => generated.usage,
            Err(error) => AiProvider::usage_of_error(error),
        });
        let problem = match outcome {
            Ok(generated) => match repair::subtasks(generated.value) {
                Ok((steps, notes)) => {
                    budget::record(state, user_id, usage).await?;
                    if !notes.is_empty() {
                        tracing::info!(?notes, "the AI's breakdown was repaired");
                    }
                    return Ok(steps);
                }
                Err(problem) => problem,
            },
            Err(AiError::BadOutput { problem, .. }) => problem,
            Err(error) => {
                budget::record(state, user_id, usage).await?;
                return Err(error.into());
            }
        };
        tracing::warn!(attempt, problem, "the AI's breakdown was unusable");
        prompt.corrections = vec![problem];
    }
    budget::record(state, user_id, usage).await?;
    Err(ApiError::BadGateway("The AI did not return enough usable steps twice. Please try again.".to_owned()))
}

async fn check_references(
    state: &AppState,
    user_id: Uuid,
    parent_id: Option<Uuid>,
    plan_id: Option<Uuid>,
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if let Some(parent_id) = parent_id {
        match repo::tasks::find(state.db.conn(), user_id, parent_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                errors.push(FieldError::new("parent_id", "You have no task with this id."))
            }
            Err(other) => return Err(other.into()),
        }
    }
    if let Some(plan_id) = plan_id {
        match repo::plans::find(state.db.conn(), user_id, plan_id).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                errors.push(FieldError::new("plan_id", "You have no plan with this id."))
            }
            Err(other) => return Err(other.into()),
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(errors.into_iter().collect())) }
}
