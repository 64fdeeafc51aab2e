//! The task manager: tasks, sub-tasks, and AI breakdown of a task into steps.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use planwright_domain::{
    DEFAULT_MIN_CHUNK_MINUTES, FieldError, NewTask, Priority, ScheduledBlock, Task, TaskChanges, TaskStatus,
    ValidationErrors, parse_description, parse_estimate, parse_min_chunk, parse_title,
};
use planwright_store::repo::tasks::TaskFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{AiProblems, AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    error::{ApiError, Problem},
    extract::{ApiJson, ApiJsonOrEmpty, ApiQuery, AuthUser},
    routes::{PageQuery, ai::SubtaskResponse, created},
    services::tasks,
    state::AppState,
};

/// A task's status.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatusBody {
    /// Not started.
    Todo,
    /// Being worked on.
    InProgress,
    /// Finished.
    Done,
}

impl From<TaskStatusBody> for TaskStatus {
    fn from(status: TaskStatusBody) -> Self {
        match status {
            TaskStatusBody::Todo => Self::Todo,
            TaskStatusBody::InProgress => Self::InProgress,
            TaskStatusBody::Done => Self::Done,
        }
    }
}

impl From<TaskStatus> for TaskStatusBody {
    fn from(status: TaskStatus) -> Self {
        match status {
            TaskStatus::Todo => Self::Todo,
            TaskStatus::InProgress => Self::InProgress,
            TaskStatus::Done => Self::Done,
        }
    }
}

/// How much a task matters to the scheduler: `urgent` work goes first, then the earliest deadline,
/// then `high` before `normal` before `low`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriorityBody {
    /// Before everything else, deadlines included.
    Urgent,
    /// Before normal work due at the same time.
    High,
    /// The default.
    Normal,
    /// After everything else due at the same time.
    Low,
}

impl From<PriorityBody> for Priority {
    fn from(priority: PriorityBody) -> Self {
        match priority {
            PriorityBody::Urgent => Self::Urgent,
            PriorityBody::High => Self::High,
            PriorityBody::Normal => Self::Normal,
            PriorityBody::Low => Self::Low,
        }
    }
}

impl From<Priority> for PriorityBody {
    fn from(priority: Priority) -> Self {
        match priority {
            Priority::Urgent => Self::Urgent,
            Priority::High => Self::High,
            Priority::Normal => Self::Normal,
            Priority::Low => Self::Low,
        }
    }
}

/// One block of a task on the calendar: a chunk of its work, `[start, end)`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"chunk": 0, "start": "2026-12-07T09:00:00Z", "end": "2026-12-07T10:30:00Z", "calendar_event_id": "pl0cdq9e0g5mfo8da45pr7hphss0", "pinned": false}))]
pub struct BlockResponse {
    /// Which chunk of the task, from 0 in time order.
    pub chunk: u16,
    /// Start.
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// The calendar event holding it.
    pub calendar_event_id: Option<String>,
    /// The person moved, lengthened or shortened it by hand in their calendar: re-planning and
    /// scheduling runs leave it there, and its minutes count toward the task's estimate.
    pub pinned: bool,
}

impl From<ScheduledBlock> for BlockResponse {
    fn from(block: ScheduledBlock) -> Self {
        Self {
            chunk: block.chunk,
            start: block.start,
            end: block.end,
            calendar_event_id: block.event_id,
            pinned: block.pinned,
        }
    }
}

/// A new task.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Write the project report", "due_at": "2026-12-04T17:00:00Z", "estimate_minutes": 240}))]
pub struct CreateTaskRequest {
    /// Title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Description, up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
    /// Starting status (default `todo`).
    pub status: Option<TaskStatusBody>,
    /// When it is due (RFC 3339 with an offset).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub due_at: Option<DateTime<Utc>>,
    /// Estimated minutes, 1–10080.
    #[schema(minimum = 1, maximum = 10080)]
    pub estimate_minutes: Option<i64>,
    /// Make it a sub-task of one of your tasks.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub parent_id: Option<Uuid>,
    /// Tie it to one of your plans (it joins the end of the plan's task list).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub plan_id: Option<Uuid>,
    /// How much it matters (default `normal`).
    pub priority: Option<PriorityBody>,
    /// Shortest chunk the scheduler may split it into, 15–480 minutes (default 30); `null`: never
    /// split.
    #[serde(default, deserialize_with = "crate::routes::present")]
    #[schema(value_type = Option<i64>, minimum = 15, maximum = 480)]
    pub min_chunk_minutes: Option<Option<i64>>,
    /// Nothing of it is scheduled before this (RFC 3339 with an offset).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub earliest_start: Option<DateTime<Utc>>,
}

/// A partial update; fields left out stay as they are, `null` clears an optional one.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"status": "done"}))]
pub struct UpdateTaskRequest {
    /// New title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// New description.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// New status.
    pub status: Option<TaskStatusBody>,
    /// New due time; `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::strict_present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub due_at: Option<Option<DateTime<Utc>>>,
    /// New estimate; `null` clears it.
    #[serde(default, deserialize_with = "crate::routes::present")]
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 10080)]
    pub estimate_minutes: Option<Option<i64>>,
    /// New parent; `null` makes it a top-level task.
    #[serde(default, deserialize_with = "crate::extract::strict_present")]
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<Option<Uuid>>,
    /// New plan; `null` detaches it.
    #[serde(default, deserialize_with = "crate::extract::strict_present")]
    #[schema(value_type = Option<Uuid>)]
    pub plan_id: Option<Option<Uuid>>,
    /// New position among its siblings.
    pub position: Option<i64>,
    /// New priority.
    pub priority: Option<PriorityBody>,
    /// New shortest chunk, 15–480 minutes; `null`: never split.
    #[serde(default, deserialize_with = "crate::routes::present")]
    #[schema(value_type = Option<i64>, minimum = 15, maximum = 480)]
    pub min_chunk_minutes: Option<Option<i64>>,
    /// New earliest start; `null` clears it.
    #[serde(default, deserialize_with = "crate::extract::strict_present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub earliest_start: Option<Option<DateTime<Utc>>>,
}

/// Filters and paging of the task list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// Only tasks with this status.
    pub status: Option<TaskStatusBody>,
    /// Only sub-tasks of this task.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub parent_id: Option<Uuid>,
    /// Only tasks of this plan.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub plan_id: Option<Uuid>,
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Whether to keep the proposed steps.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"save": true}))]
pub struct BreakdownTaskRequest {
    /// Store the steps as sub-tasks (answer 201) instead of only proposing them (200).
    #[serde(default)]
    pub save: bool,
}

/// A task.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11", "title": "Write the project report", "description": "Ten pages on the scheduling algorithm.", "status": "todo", "due_at": "2026-12-04T17:00:00Z", "estimate_minutes": 240, "priority": "high", "min_chunk_minutes": 60, "earliest_start": null, "day_offset": null, "parent_id": null, "plan_id": null, "position": 0, "blocks": [{"chunk": 0, "start": "2026-12-02T09:00:00Z", "end": "2026-12-02T11:00:00Z", "calendar_event_id": "pl0cdq9e0g5mfo8da45pr7hphss0", "pinned": false}, {"chunk": 1, "start": "2026-12-02T13:00:00Z", "end": "2026-12-02T15:00:00Z", "calendar_event_id": "pl0cdq9e0g5mfo8da45pr7hphss0c1", "pinned": false}], "created_at": "2026-11-30T09:00:00Z", "updated_at": "2026-11-30T09:00:00Z"}))]
pub struct TaskResponse {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Status.
    pub status: TaskStatusBody,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
    /// Estimated minutes (for a plan's task, its `duration_minutes`); only tasks with an estimate
    /// are scheduled.
    pub estimate_minutes: Option<u32>,
    /// How much it matters to the scheduler.
    pub priority: PriorityBody,
    /// Shortest chunk the scheduler may split it into; `null`: never split.
    pub min_chunk_minutes: Option<u16>,
    /// Nothing of it is scheduled before this.
    pub earliest_start: Option<DateTime<Utc>>,
    /// For a task of a plan: its day of the plan, from 0 (the scheduler starts it no earlier).
    pub day_offset: Option<u16>,
    /// The task it is a step of.
    pub parent_id: Option<Uuid>,
    /// The plan it belongs to.
    pub plan_id: Option<Uuid>,
    /// Order among its siblings (a plan's tasks are ordered within the plan).
    pub position: i64,
    /// Where it sits on the calendar, block by block (empty until scheduled).
    pub blocks: Vec<BlockResponse>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of tasks, by position.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    /// The tasks.
    pub items: Vec<TaskResponse>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Proposed steps, and the sub-tasks made of them when saved.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"subtasks": [{"title": "Outline the report", "description": "List the sections and the one point each must make."}, {"title": "Write the draft", "description": "Two pages a day, following the outline."}, {"title": "Revise and submit", "description": "Read it aloud, fix the weak passages, export to PDF."}]}))]
pub struct BreakdownResponse {
    /// 2 to 5 steps, in order.
    pub subtasks: Vec<SubtaskResponse>,
    /// The created sub-tasks (only with `save`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tasks: Option<Vec<TaskResponse>>,
}

impl From<Task> for TaskResponse {
    fn from(task: Task) -> Self {
        Self {
            id: task.id,
            title: task.title,
            description: task.description,
            status: task.status.into(),
            due_at: task.due_at,
            estimate_minutes: task.estimate_minutes,
            priority: task.priority.into(),
            min_chunk_minutes: task.min_chunk_minutes,
            earliest_start: task.earliest_start,
            day_offset: task.day_offset,
            parent_id: task.parent_id,
            plan_id: task.plan_id,
            position: task.position,
            blocks: task.blocks.into_iter().map(Into::into).collect(),
            created_at: task.created_at,
            updated_at: task.updated_at,
        }
    }
}

impl CreateTaskRequest {
    fn parse(self) -> Result<NewTask, ValidationErrors> {
        let title = parse_title(&self.title);
        let description = parse_description(&self.description);
        let estimate = self.estimate_minutes.map(parse_estimate).transpose();
        let min_chunk = match self.min_chunk_minutes {
            None => Ok(Some(DEFAULT_MIN_CHUNK_MINUTES)),
            Some(None) => Ok(None),
            Some(Some(minutes)) => parse_min_chunk(minutes).map(Some),
        };
        match (title, description, estimate, min_chunk) {
            (Ok(title), Ok(description), Ok(estimate_minutes), Ok(min_chunk_minutes)) => Ok(NewTask {
                id: None,
                parent_id: self.parent_id,
                plan_id: self.plan_id,
                title,
                description,
                status: self.status.map_or(TaskStatus::Todo, Into::into),
                due_at: self.due_at,
                estimate_minutes,
                priority: self.priority.map_or(Priority::Normal, Into::into),
                min_chunk_minutes,
                earliest_start: self.earliest_start,
            }),
            (title, description, estimate, min_chunk) => {
                Err([title.err(), description.err(), estimate.err(), min_chunk.err()]
                    .into_iter()
                    .flatten()
                    .collect())
            }
        }
    }
}

impl UpdateTaskRequest {
    fn parse(self) -> Result<TaskChanges, ValidationErrors> {
        let title = self.title.as_deref().map(parse_title).transpose();
        let description = self.description.as_deref().map(parse_description).transpose();
        let estimate = match self.estimate_minutes {
            Some(Some(minutes)) => parse_estimate(minutes).map(|m| Some(Some(m))),
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        let position = match self.position {
            Some(p) if !(0..=1_000_000_000).contains(&p) => {
                Err(FieldError::new("position", "The position must be between 0 and 1000000000."))
            }
            other => Ok(other),
        };
        let min_chunk = match self.min_chunk_minutes {
            Some(Some(minutes)) => parse_min_chunk(minutes).map(|m| Some(Some(m))),
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        match (title, description, estimate, position, min_chunk) {
            (Ok(title), Ok(description), Ok(estimate_minutes), Ok(position), Ok(min_chunk_minutes)) => {
                Ok(TaskChanges {
                    title,
                    description,
                    status: self.status.map(Into::into),
                    due_at: self.due_at,
                    estimate_minutes,
                    parent_id: self.parent_id,
                    plan_id: self.plan_id,
                    position,
                    priority: self.priority.map(Into::into),
                    min_chunk_minutes,
                    earliest_start: self.earliest_start,
                })
            }
            (title, description, estimate, position, min_chunk) => {
                Err([title.err(), description.err(), estimate.err(), position.err(), min_chunk.err()]
                    .into_iter()
                    .flatten()
                    .collect())
            }
        }
    }
}

/// Create a task (or, with `parent_id`, a sub-task), last among its siblings.
///
/// Only `title` is required; the task starts as `todo` unless `status` says otherwise. `parent_id`
/// must be one of the caller's tasks and `plan_id` one of the caller's plans (else a 422 naming the
/// field). `due_at` is RFC 3339 with an offset and is returned in UTC.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    request_body = CreateTaskRequest,
    responses(
        (status = 201, description = "The task.", body = TaskResponse, headers(
            ("Location" = String, description = "The task's path: `/api/v1/tasks/{id}`.")
        )),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/tasks")]
pub async fn create_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateTaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let task = tasks::create_task(&state, auth.user_id, body.parse()?).await?;
    Ok(created(format!("/api/v1/tasks/{}", task.id), &TaskResponse::from(task)))
}

/// The caller's tasks, by position; filter by `status`, `parent_id` or `plan_id`.
///
/// Filters combine (`?status=todo&plan_id=…`). Pages hold `limit` items (1–200, default 50); pass
/// the answer's `next_cursor` as `cursor` to get the next page, until it is `null`. Only the
/// caller's own tasks are ever listed.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(TaskListQuery),
    responses(
        (status = 200, description = "A page of tasks.", body = TaskList),
        (status = 400, description = "A query parameter is not valid.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/tasks")]
pub async fn list_tasks(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<TaskListQuery>,
) -> Result<web::Json<TaskList>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, cursor: query.cursor }.page()?;
    let filter = TaskFilter {
        status: query.status.map(Into::into),
        parent_id: query.parent_id,
        plan_id: query.plan_id,
    };
    let page = tasks::list_tasks(&state, auth.user_id, &filter, &page).await?;
    Ok(web::Json(TaskList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of the caller's tasks.
///
/// Another user's task answers 404, exactly as a task that does not exist (its existence is never
/// revealed).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task's id.")),
    responses(
        (status = 200, description = "The task.", body = TaskResponse),
        (status = 404, description = "No such task (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/tasks/{id}")]
pub async fn get_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<TaskResponse>, ApiError> {
    Ok(web::Json(tasks::get_task(&state, auth.user_id, id.into_inner()).await?.into()))
}

/// Change any field of a task.
///
/// Fields left out stay as they are; `null` clears `due_at`, `estimate_minutes`, `parent_id` or
/// `plan_id`. Setting `status` to `done` is how a frontend ticks a task off. Nothing changes unless
/// every given field is valid (a 422 names each bad one).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task's id.")),
    request_body = UpdateTaskRequest,
    responses(
        (status = 200, description = "The updated task.", body = TaskResponse),
        (status = 404, description = "No such task (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[patch("/tasks/{id}")]
pub async fn update_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<UpdateTaskRequest>,
) -> Result<web::Json<TaskResponse>, ApiError> {
    let task = tasks::update_task(&state, auth.user_id, id.into_inner(), body.parse()?).await?;
    Ok(web::Json(task.into()))
}

/// Delete a task and all its sub-tasks.
///
/// The sub-tasks go with it, at every depth. Another user's task answers 404 and is left alone.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task's id.")),
    responses(
        (status = 204, description = "Deleted, with its sub-tasks."),
        (status = 404, description = "No such task (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[delete("/tasks/{id}")]
pub async fn delete_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    tasks::delete_task(&state, auth.user_id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Break a task into 2–5 steps; with `save` they become its sub-tasks.
///
/// The AI (Gemini, or the built-in `offline` provider) reads the task's title and description and
/// proposes 2 to 5 ordered steps. Without `save` (or with `save: false`) nothing is stored and the
/// answer is 200; with `save: true` the steps are stored as sub-tasks of this task and the answer
/// is 201 with them in `tasks`. AI calls count against the caller's rate limit and daily token
/// budget (429 with `Retry-After`).
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The task's id.")),
    request_body = BreakdownTaskRequest,
    responses(
        (status = 200, description = "The proposed steps (nothing stored).", body = BreakdownResponse),
        (status = 201, description = "The steps, stored as sub-tasks (`tasks`).", body = BreakdownResponse,
            headers(("Location" = String, description = "The task's sub-tasks: `/api/v1/tasks?parent_id={id}`.")),
            example = json!({"subtasks": [{"title": "Outline the report", "description": "List the sections and the one point each must make."}, {"title": "Write the draft", "description": "Two pages a day, following the outline."}, {"title": "Revise and submit", "description": "Read it aloud, fix the weak passages, export to PDF."}], "tasks": [{"id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e12", "title": "Outline the report", "description": "List the sections and the one point each must make.", "status": "todo", "due_at": null, "estimate_minutes": null, "priority": "normal", "min_chunk_minutes": 30, "earliest_start": null, "day_offset": null, "parent_id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11", "plan_id": null, "position": 0, "blocks": [], "created_at": "2026-11-30T09:05:00Z", "updated_at": "2026-11-30T09:05:00Z"}, {"id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e13", "title": "Write the draft", "description": "Two pages a day, following the outline.", "status": "todo", "due_at": null, "estimate_minutes": null, "priority": "normal", "min_chunk_minutes": 30, "earliest_start": null, "day_offset": null, "parent_id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11", "plan_id": null, "position": 1, "blocks": [], "created_at": "2026-11-30T09:05:00Z", "updated_at": "2026-11-30T09:05:00Z"}, {"id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e14", "title": "Revise and submit", "description": "Read it aloud, fix the weak passages, export to PDF.", "status": "todo", "due_at": null, "estimate_minutes": null, "priority": "normal", "min_chunk_minutes": 30, "earliest_start": null, "day_offset": null, "parent_id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11", "plan_id": null, "position": 2, "blocks": [], "created_at": "2026-11-30T09:05:00Z", "updated_at": "2026-11-30T09:05:00Z"}]})),
        (status = 404, description = "No such task (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, AiProblems, ServerProblems
    )
)]
#[post("/tasks/{id}/breakdown")]
pub async fn break_down_task(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<BreakdownTaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (steps, saved) = tasks::break_down_task(&state, auth.user_id, id, body.save).await?;
    let subtasks = steps.into_iter().map(Into::into).collect();
    Ok(match saved {
        Some(saved) => created(
            format!("/api/v1/tasks?parent_id={id}"),
            &BreakdownResponse { subtasks, tasks: Some(saved.into_iter().map(Into::into).collect()) },
        ),
        None => HttpResponse::Ok().json(BreakdownResponse { subtasks, tasks: None }),
    })
}
