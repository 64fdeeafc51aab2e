//! Confirming and rejecting proposed actions. A confirm claims the action in the database first,
//! so it is performed at most once however many confirms race; it then goes through the same
//! services the routes use, and its result is stored so a second confirm answers the same.

use planwright_domain::{ActionKind, ActionStatus, ChatAction, NewTask, Plan, Subtask, Task};
use planwright_store::{
    StoreError,
    repo::{self, chat_actions},
};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::tools::{self, ToolError, Write};
use crate::{
    error::{ApiError, Missing, not_found},
    services::{calendar::schedule, plans, tasks},
    state::AppState,
};

/// What confirming an action produced, for the caller to render as its API answer.
#[derive(Debug)]
pub enum ActionOutcome {
    /// The task created or changed.
    Task(Task),
    /// The sub-tasks created.
    Tasks(Vec<Task>),
    /// The plan created.
    Plan(Box<Plan>),
    /// The scheduling run.
    Schedule(Box<schedule::ScheduleResult>),
}

/// The stored steps of a proposed breakdown.
#[derive(Debug, Deserialize)]
struct BreakDownArguments {
    task_id: Uuid,
    subtasks: Vec<Subtask>,
}

/// One of the caller's actions in one of their sessions (404 otherwise).
pub async fn get(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    action_id: Uuid,
) -> Result<ChatAction, ApiError> {
    chat_actions::find(state.db.conn(), user_id, session_id, action_id)
        .await
        .map_err(not_found(Missing::ChatAction))
}

/// Performs a proposed action once and stores its result as `render` writes it; a confirmed
/// action answers its stored result again. 409 when it was rejected, is being confirmed right
/// now, or its target changed since it was proposed (it stays proposed then).
#[tracing::instrument(skip(state, render))]
pub async fn confirm(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    action_id: Uuid,
    render: impl FnOnce(ActionOutcome) -> Value,
) -> Result<ChatAction, ApiError> {
    let action = get(state, user_id, session_id, action_id).await?;
    let db = state.db.conn();
    match action.status {
        ActionStatus::Confirmed => return Ok(action),
        ActionStatus::Rejected => {
            return Err(conflict(
                "action_rejected",
                "This action was rejected; it cannot be confirmed any more.",
            ));
        }
        ActionStatus::Proposed | ActionStatus::Confirming => {}
    }
    if !chat_actions::claim(db, user_id, action_id).await? {
        // Someone else holds it, or it was just decided: answer what it is now.
        let now = get(state, user_id, session_id, action_id).await?;
        return match now.status {
            ActionStatus::Confirmed => Ok(now),
            ActionStatus::Rejected => {
                Err(conflict("action_rejected", "This action was rejected; it cannot be confirmed any more."))
            }
            _ => Err(conflict(
                "action_in_progress",
                "This action is being confirmed right now; try again in a moment.",
            )),
        };
    }
    match perform(state, user_id, &action).await {
        Ok(outcome) => {
            chat_actions::complete(db, user_id, action_id, render(outcome)).await?;
            get(state, user_id, session_id, action_id).await
        }
        Err(error) => {
            chat_actions::release(db, user_id, action_id).await?;
            Err(error)
        }
    }
}

/// Discards a proposed action (rejecting twice is fine); 409 once it is confirmed or being
/// confirmed.
pub async fn reject(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    action_id: Uuid,
) -> Result<ChatAction, ApiError> {
    let action = get(state, user_id, session_id, action_id).await?;
    if action.status == ActionStatus::Proposed {
        chat_actions::reject(state.db.conn(), user_id, action_id).await?;
    }
    let now = get(state, user_id, session_id, action_id).await?;
    match now.status {
        ActionStatus::Rejected => Ok(now),
        ActionStatus::Confirmed => {
            Err(conflict("action_confirmed", "This action was already confirmed; it cannot be rejected."))
        }
        _ => Err(conflict(
            "action_in_progress",
            "This action is being confirmed right now; it cannot be rejected.",
        )),
    }
}

async fn perform(state: &AppState, user_id: Uuid, action: &ChatAction) -> Result<ActionOutcome, ApiError> {
    if let Some(outcome) = performed_before(state, user_id, action).await? {
        return Ok(outcome);
    }
    if action.kind == ActionKind::BreakDownTask {
        let args = breakdown_arguments(action)?;
        let task = tasks::get_task(state, user_id, args.task_id).await.map_err(gone)?;
        ensure_fresh(action, &tools::fingerprint([&task]), &task.title)?;
        let created = repo::tasks::create_children(state.db.conn(), user_id, &task, args.subtasks, |n| {
            Some(action.created_id(n))
        })
        .await?;
        return Ok(ActionOutcome::Tasks(created));
    }
    let write = tools::check_write(state, user_id, action.kind, &action.arguments).await.map_err(
        |error| match error {
            ToolError::Api(error) => gone(error),
            ToolError::Invalid(errors) => {
                let reasons: Vec<String> =
                    errors.errors().iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
                conflict(
                    "action_invalid",
                    &format!("This action is no longer valid ({}).", reasons.join("; ")),
                )
            }
            ToolError::Message(message) => conflict("action_invalid", &message),
        },
    )?;
    match write {
        Write::CreateTask(task) => {
            let task = NewTask { id: Some(action.created_id(0)), ..task };
            Ok(ActionOutcome::Task(tasks::create_task(state, user_id, task).await?))
        }
        Write::UpdateTask { task, changes } => {
            ensure_fresh(action, &tools::fingerprint([&task]), &task.title)?;
            Ok(ActionOutcome::Task(tasks::update_task(state, user_id, task.id, changes).await?))
        }
        Write::BreakDownTask { .. } => {
            Err(ApiError::Internal(anyhow::anyhow!("breakdowns are performed above")))
        }
        Write::CreatePlan(request) => {
            let request = plans::PlanRequest { id: Some(action.created_id(0)), ..request };
            Ok(ActionOutcome::Plan(Box::new(plans::create_plan(state, user_id, request).await?)))
        }
        Write::Schedule { task_ids, until } => {
            let ids = task_ids.unwrap_or_default();
            let current = tools::tasks_by_id(state, user_id, &ids).await?;
            if current.len() != ids.len() {
                return Err(stale("Some of the tasks to schedule were deleted after this was proposed."));
            }
            ensure_fresh(action, &tools::fingerprint(&current), "")?;
            let result =
                schedule::schedule_tasks(state, user_id, tools::schedule_input(Some(ids), until, false))
                    .await?;
            Ok(ActionOutcome::Schedule(Box::new(result)))
        }
    }
}

/// What an earlier attempt at this action created, when it stored its rows but died before
/// storing its result (the rows carry ids derived from the action's, all written in one
/// transaction): performing it again answers them instead of creating them twice.
async fn performed_before(
    state: &AppState,
    user_id: Uuid,
    action: &ChatAction,
) -> Result<Option<ActionOutcome>, ApiError> {
    if action.status != ActionStatus::Confirming {
        return Ok(None);
    }
    let db = state.db.conn();
    let found = match action.kind {
        ActionKind::CreateTask => {
            existing(repo::tasks::find(db, user_id, action.created_id(0)).await)?.map(ActionOutcome::Task)
        }
        ActionKind::CreatePlan => existing(repo::plans::find(db, user_id, action.created_id(0)).await)?
            .map(|plan| ActionOutcome::Plan(Box::new(plan))),
        ActionKind::BreakDownTask => {
            let steps = u32::try_from(breakdown_arguments(action)?.subtasks.len()).unwrap_or(u32::MAX);
            let ids: Vec<Uuid> = (0..steps).map(|n| action.created_id(n)).collect();
            let created = repo::tasks::find_many(db, user_id, &ids).await?;
            (!created.is_empty()).then_some(ActionOutcome::Tasks(created))
        }
        ActionKind::UpdateTask | ActionKind::Schedule => None,
    };
    Ok(found)
}

fn existing<T>(found: Result<T, StoreError>) -> Result<Option<T>, ApiError> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::NotFound) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

fn breakdown_arguments(action: &ChatAction) -> Result<BreakDownArguments, ApiError> {
    serde_json::from_value(action.arguments.clone())
        .map_err(|error| ApiError::Internal(anyhow::anyhow!("stored breakdown arguments: {error}")))
}

fn ensure_fresh(action: &ChatAction, now: &str, title: &str) -> Result<(), ApiError> {
    match &action.target_version {
        Some(then) if then != now => Err(stale(&if title.is_empty() {
            "Some of the tasks to schedule changed after this was proposed; ask again for a fresh proposal."
                .to_owned()
        } else {
            format!("The task \"{title}\" changed after this was proposed; ask again for a fresh proposal.")
        })),
        _ => Ok(()),
    }
}

/// A target that is gone is stale too.
fn gone(error: ApiError) -> ApiError {
    match error {
        ApiError::NotFound(_) => stale("What this action changes no longer exists."),
        other => other,
    }
}

fn stale(detail: &str) -> ApiError {
    conflict("action_stale", detail)
}

fn conflict(code: &'static str, detail: &str) -> ApiError {
    ApiError::Conflict { code, detail: detail.to_owned() }
}
