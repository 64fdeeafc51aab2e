//! Plans: a goal turned into dated tasks by the AI, then reviewed and edited.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use planwright_domain::{
    DurationDays, Goal, Notes, Plan, PlanChanges, PlanContent, PlanTask, PlanTaskEditFields, TokenUsage,
    ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{AiProblems, AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    error::{ApiError, Problem},
    extract::{ApiJson, ApiJsonOrEmpty, ApiQuery, AuthUser, IdempotencyHeader},
    routes::{
        PageQuery, created_once,
        schedule::{ScheduleResponse, parse_timezone},
        tasks::{BlockResponse, PriorityBody, TaskStatusBody},
    },
    services::{
        calendar::schedule::{self, MoveReasons, ScheduleInput, ScheduleScope},
        idempotency::{self, Created},
        plans::{self, PlanRequest},
    },
    state::AppState,
};

/// The `Idempotency-Key` header of plan creation.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKeyParam {
    /// Any unique string of 1–255 visible ASCII characters (a UUID is a good choice). A retry
    /// with the same key and body within 24 hours returns the first response (marked
    /// `Idempotent-Replayed: true`) instead of creating a second plan; the same key with another
    /// body is a 422 naming the header; while the first request is still running, a 409
    /// `idempotency_in_progress`. A failed request does not use up its key.
    #[param(
        rename = "Idempotency-Key",
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[\\x21-\\x7E]+$"
    )]
    pub idempotency_key: Option<String>,
}

/// A goal to plan for.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[schema(example = json!({"goal": "Learn FastAPI", "duration_days": 2, "context": {"notes": "I know Python; evenings only"}}))]
pub struct CreatePlanRequest {
    /// What to achieve, 1–500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub goal: String,
    /// Days the plan spans, 1–365.
    #[schema(minimum = 1, maximum = 365)]
    pub duration_days: i64,
    /// Anything that helps: `notes` (text, up to 4000 characters) is given to the AI; every key is
    /// kept with the plan.
    #[schema(schema_with = plan_context_request_schema)]
    pub context: Option<serde_json::Map<String, serde_json::Value>>,
    /// The plan's first day (`YYYY-MM-DD`), if known.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub start_date: Option<NaiveDate>,
}

/// The schema of a plan's `context` in a request: an object whose `notes` the AI reads and whose
/// other keys are kept as sent (so generated clients accept both), or null.
fn plan_context_request_schema() -> utoipa::openapi::schema::Object {
    plan_context_schema(true)
}

/// The schema of a plan's `context` in a response: what was sent (`{}` when nothing was).
fn plan_context_response_schema() -> utoipa::openapi::schema::Object {
    plan_context_schema(false)
}

fn plan_context_schema(nullable: bool) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, SchemaType, Type};
    let schema_type = if nullable {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::new(Type::Object)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(
            "Anything that helps: `notes` is given to the AI; every key is kept with the plan (16 KiB at most).",
        ))
        .property(
            "notes",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .max_length(Some(4000))
                .description(Some("Given to the AI with the goal: what you know, when you can work.")),
        )
        .additional_properties(Some(AdditionalProperties::FreeForm(true)))
        .examples([serde_json::json!({"notes": "I know Python; evenings only"})])
        .build()
}

/// One task of an edited plan. With `id`, an existing task of the plan is kept — its calendar
/// blocks, sub-tasks, status, priority and due time stay, and so does every field left out here.
/// Without `id` it is a new task and `title`, `day_offset` and `duration_minutes` are required.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "title": "Read the whole FastAPI tutorial"}))]
pub struct PlanTaskInput {
    /// An existing task to keep; leave out for a new task.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub id: Option<Uuid>,
    /// Title, 1–200 characters (required for a new task).
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// What to do, up to 2000 characters (a new task without it has none).
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Day of the plan, from 0, below `duration_days` (required for a new task).
    #[schema(minimum = 0)]
    pub day_offset: Option<i64>,
    /// Minutes of work, 15–480 (required for a new task).
    #[schema(minimum = 15, maximum = 480)]
    pub duration_minutes: Option<i64>,
}

/// An edit of a plan; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"summary": "## My plan", "tasks": [{"title": "Read the tutorial", "day_offset": 0, "duration_minutes": 90}]}))]
pub struct UpdatePlanRequest {
    /// New goal, 1–500 characters.
    #[schema(min_length = 1, max_length = 500)]
    pub goal: Option<String>,
    /// New markdown summary.
    #[schema(max_length = 20000)]
    pub summary: Option<String>,
    /// The complete new task list, in order: it replaces the old one.
    #[schema(max_items = 500)]
    pub tasks: Option<Vec<PlanTaskInput>>,
}

/// A task of a plan. It is also a task of the task manager (`/api/v1/tasks/{id}`, same id): tick
/// it off, give it a due time or a priority, or break it down there.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "position": 0, "title": "Read the FastAPI tutorial", "description": "Sections 1–4: path operations, query parameters, request bodies.", "day_offset": 0, "duration_minutes": 90, "status": "todo", "priority": "normal", "due_at": null, "min_chunk_minutes": 30, "scheduled_start": "2026-12-07T09:00:00Z", "scheduled_end": "2026-12-07T10:30:00Z", "calendar_event_id": "pl0cdq9e0g5mfo8da45pr7hphss0", "blocks": [{"chunk": 0, "start": "2026-12-07T09:00:00Z", "end": "2026-12-07T10:30:00Z", "calendar_event_id": "pl0cdq9e0g5mfo8da45pr7hphss0", "pinned": false}]}))]
pub struct PlanTaskResponse {
    /// Id.
    pub id: Uuid,
    /// Order in the plan, from 0.
    pub position: u32,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Day of the plan, from 0.
    pub day_offset: u16,
    /// Minutes of work (the task's `estimate_minutes`; 0 when it has none).
    pub duration_minutes: u16,
    /// Where it stands; `done` tasks are never scheduled.
    pub status: TaskStatusBody,
    /// How much it matters to the scheduler.
    pub priority: PriorityBody,
    /// When it is due; the scheduler places it before then whenever it can.
    pub due_at: Option<DateTime<Utc>>,
    /// Shortest chunk the scheduler may split it into; `null`: never split.
    pub min_chunk_minutes: Option<u16>,
    /// Start of its first block on the calendar, once scheduled.
    pub scheduled_start: Option<DateTime<Utc>>,
    /// End of its last block on the calendar, once scheduled.
    pub scheduled_end: Option<DateTime<Utc>>,
    /// The calendar event of its first block, once scheduled.
    pub calendar_event_id: Option<String>,
    /// Every block on the calendar, in time order (several when the scheduler split it).
    pub blocks: Vec<BlockResponse>,
}

/// Tokens the AI spent on a plan, from Gemini's `usageMetadata`, summed over every call that
/// made it (a retried answer costs both attempts). All 0 for the offline planner.
// `PlanUsage` in the document: the chat's `UsageResponse` is another type of the same name.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PlanUsage, example = json!({
    "prompt_tokens": 412, "output_tokens": 935, "total_tokens": 1347, "thoughts_tokens": 120, "cached_tokens": 0
}))]
pub struct UsageResponse {
    /// Prompt tokens (cached ones included).
    pub prompt_tokens: u32,
    /// Generated tokens, thoughts included.
    pub output_tokens: u32,
    /// Everything billed; this is what the daily token budget counts.
    pub total_tokens: u32,
    /// Of `output_tokens`, those the model spent thinking.
    pub thoughts_tokens: u32,
    /// Of `prompt_tokens`, those served from Gemini's context cache.
    pub cached_tokens: u32,
}

/// A plan.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f01",
    "goal": "Learn FastAPI",
    "duration_days": 2,
    "context": {"notes": "I know Python; evenings only"},
    "start_date": "2026-12-01",
    "summary": "## Learn FastAPI in 2 days\n\nDay 1: the tutorial. Day 2: a small API of your own.",
    "tasks": [
        {"id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f02", "position": 0, "title": "Read the FastAPI tutorial", "description": "Sections 1–4: path operations, query parameters, request bodies.", "day_offset": 0, "duration_minutes": 90, "status": "todo", "priority": "normal", "due_at": null, "min_chunk_minutes": 30, "scheduled_start": null, "scheduled_end": null, "calendar_event_id": null, "blocks": []},
        {"id": "0193a5d0-1c2b-7e4f-8a90-5b6c7d8e9f03", "position": 1, "title": "Build a to-do API", "description": "CRUD routes with Pydantic models and tests.", "day_offset": 1, "duration_minutes": 120, "status": "todo", "priority": "normal", "due_at": null, "min_chunk_minutes": 30, "scheduled_start": null, "scheduled_end": null, "calendar_event_id": null, "blocks": []}
    ],
    "status": "draft",
    "model": "gemini-3.5-flash",
    "model_version": "gemini-3.5-flash-001",
    "notes": [],
    "usage": {"prompt_tokens": 412, "output_tokens": 935, "total_tokens": 1347, "thoughts_tokens": 120, "cached_tokens": 0},
    "created_at": "2026-11-30T09:00:00Z",
    "updated_at": "2026-11-30T09:00:00Z"
}))]
pub struct PlanResponse {
    /// Id.
    pub id: Uuid,
    /// The goal.
    pub goal: String,
    /// Days it spans.
    pub duration_days: u16,
    /// The context as sent.
    #[schema(schema_with = plan_context_response_schema)]
    pub context: serde_json::Value,
    /// First day, if given.
    pub start_date: Option<NaiveDate>,
    /// Human-readable markdown overview.
    pub summary: String,
    /// The tasks in order.
    pub tasks: Vec<PlanTaskResponse>,
    /// `draft` until placed on a calendar.
    #[schema(example = "draft")]
    pub status: String,
    /// The model that wrote it (`offline` for the built-in planner; a fallback model from
    /// `ai.fallback_models` when the configured one is gone).
    #[schema(example = "gemini-3.5-flash")]
    pub model: String,
    /// The exact model version that answered (Gemini's `modelVersion`); `null` for the offline
    /// planner and for plans made before it was recorded.
    #[schema(example = "gemini-3.5-flash-001")]
    pub model_version: Option<String>,
    /// What Planwright repaired in the AI's answer before storing it (a day past the plan moved
    /// to its last day, a duration clamped to 15–480 minutes, surplus tasks dropped, a blank
    /// title filled from the description, control characters removed), one sentence each;
    /// empty when the answer was used as given.
    #[schema(example = json!(["task 3: day_offset 6 is past the plan's last day; moved to day_offset 1"]))]
    pub notes: Vec<String>,
    /// Tokens spent generating it.
    pub usage: UsageResponse,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of plans, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanList {
    /// The plans.
    pub items: Vec<PlanResponse>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl From<PlanTask> for PlanTaskResponse {
    fn from(task: PlanTask) -> Self {
        let (scheduled_start, scheduled_end) = (task.scheduled_start(), task.scheduled_end());
        let calendar_event_id = task.calendar_event_id().map(str::to_owned);
        Self {
            id: task.id,
            position: task.position,
            title: task.title,
            description: task.description,
            day_offset: task.day_offset,
            duration_minutes: task.duration_minutes,
            status: task.status.into(),
            priority: task.priority.into(),
            due_at: task.due_at,
            min_chunk_minutes: task.min_chunk_minutes,
            scheduled_start,
            scheduled_end,
            calendar_event_id,
            blocks: task.blocks.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<TokenUsage> for UsageResponse {
    fn from(usage: TokenUsage) -> Self {
        Self {
            prompt_tokens: usage.prompt_tokens,
            output_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens,
            thoughts_tokens: usage.thoughts_tokens,
            cached_tokens: usage.cached_tokens,
        }
    }
}

impl From<Plan> for PlanResponse {
    fn from(plan: Plan) -> Self {
        Self {
            id: plan.id,
            goal: plan.goal,
            duration_days: plan.duration_days,
            context: plan.context,
            start_date: plan.start_date,
            summary: plan.summary,
            tasks: plan.tasks.into_iter().map(Into::into).collect(),
            status: plan.status.as_str().to_owned(),
            model: plan.model,
            model_version: plan.model_version,
            notes: plan.notes,
            usage: plan.usage.into(),
            created_at: plan.created_at,
            updated_at: plan.updated_at,
        }
    }
}

impl CreatePlanRequest {
    fn parse(self) -> Result<PlanRequest, ValidationErrors> {
        let goal = Goal::parse(&self.goal);
        let duration = DurationDays::parse(self.duration_days);
        let context = self.context.unwrap_or_default();
        let notes = match context.get("notes") {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(raw)) => Notes::parse("context.notes", raw).map(Some),
            Some(_) => Err(planwright_domain::FieldError::new("context.notes", "Notes must be text.")),
        };
        let size = serde_json::to_string(&context).map_or(0, |text| text.len());
        let context_size = if size > 16_384 {
            Err(planwright_domain::FieldError::new("context", "The context is larger than 16 KiB."))
        } else {
            Ok(())
        };
        match (goal, duration, notes, context_size) {
            (Ok(goal), Ok(duration), Ok(notes), Ok(())) => Ok(PlanRequest {
                id: None,
                goal,
                duration,
                notes: notes.map(|n| n.as_str().to_owned()),
                context: serde_json::Value::Object(context),
                start_date: self.start_date,
            }),
            (goal, duration, notes, size) => {
                Err([goal.err(), duration.err(), notes.err(), size.err()].into_iter().flatten().collect())
            }
        }
    }
}

impl UpdatePlanRequest {
    fn parse(self, duration: DurationDays) -> Result<PlanChanges, ValidationErrors> {
        let mut errors = Vec::new();
        let goal = self.goal.as_deref().map(Goal::parse).transpose().unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        if let Some(summary) = &self.summary
            && let Err(error) = PlanContent::check_summary(summary)
        {
            errors.push(error);
        }
        let tasks = self.tasks.and_then(|tasks| {
            let fields = tasks.iter().map(|task| PlanTaskEditFields {
                id: task.id,
                title: task.title.as_deref(),
                description: task.description.as_deref(),
                day_offset: task.day_offset,
                duration_minutes: task.duration_minutes,
            });
            match PlanContent::parse_edits(fields, duration) {
                Ok(edits) => Some(edits),
                Err(invalid) => {
                    errors.extend(invalid.errors().iter().cloned());
                    None
                }
            }
        });
        if errors.is_empty() {
            Ok(PlanChanges { goal, summary: self.summary, tasks })
        } else {
            Err(errors.into_iter().collect())
        }
    }
}

/// Turn a goal into a plan.
///
/// The AI (Gemini, or the built-in `offline` planner) proposes a markdown summary and tasks, each
/// on a day of the plan and 15–480 minutes long. What can be repaired is repaired and listed in
/// `notes` (a day past the plan moved to its last day, a duration clamped, surplus tasks dropped,
/// a blank title filled, a Markdown-fenced answer unwrapped); an answer that cannot be used (not
/// JSON, no tasks) is asked for once more with the problems pointed out, and only a second one is
/// a 502. A configured model Google no longer serves is a 503 naming the model and `ai.model`.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(IdempotencyKeyParam),
    request_body = CreatePlanRequest,
    responses(
        (status = 201, description = "The plan, stored as a draft.", body = PlanResponse, headers(
            ("Location" = String, description = "The plan's path: `/api/v1/plans/{id}`."),
            ("Idempotent-Replayed" = String, description = "`true` when this is the stored response of an earlier request with the same `Idempotency-Key`.")
        )),
        (status = 409, description = "A request with the same `Idempotency-Key` is still being processed (`idempotency_in_progress`).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, AiProblems, ServerProblems
    )
)]
#[post("/plans")]
pub async fn create_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    IdempotencyHeader(key): IdempotencyHeader,
    ApiJson(body): ApiJson<CreatePlanRequest>,
) -> Result<HttpResponse, ApiError> {
    let fingerprint = idempotency::fingerprint(&body);
    let request = body.parse()?;
    let created =
        idempotency::create_once(&state, auth.user_id, key.as_ref(), "create_plan", &fingerprint, || async {
            let plan = plans::create_plan(&state, auth.user_id, request).await?;
            Created::new(format!("/api/v1/plans/{}", plan.id), &PlanResponse::from(plan))
        })
        .await?;
    Ok(created_once(created))
}

/// The caller's plans, newest first.
///
/// Each plan comes whole, with its tasks. Pages hold `limit` plans (1–200, default 50); pass the
/// answer's `next_cursor` as `cursor` for the next page, until it is `null`.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of plans.", body = PlanList),
        (status = 400, description = "`limit` or `cursor` is not valid.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/plans")]
pub async fn list_plans(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<PageQuery>,
) -> Result<web::Json<PlanList>, ApiError> {
    let page = plans::list_plans(&state, auth.user_id, &query.page()?).await?;
    Ok(web::Json(PlanList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of the caller's plans.
///
/// The plan with its tasks in order; once scheduled, each task carries its `scheduled_start`,
/// `scheduled_end` and `calendar_event_id`. Another user's plan answers 404, exactly as a plan that
/// does not exist.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The plan's id.")),
    responses(
        (status = 200, description = "The plan.", body = PlanResponse),
        (status = 404, description = "No such plan (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/plans/{id}")]
pub async fn get_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<PlanResponse>, ApiError> {
    Ok(web::Json(plans::get_plan(&state, auth.user_id, id.into_inner()).await?.into()))
}

/// Review and edit a plan.
///
/// `tasks` replaces the whole list: tasks sent with their `id` are kept (and stay linked to their
/// calendar events), tasks without one are added, tasks left out are deleted.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The plan's id.")),
    request_body = UpdatePlanRequest,
    responses(
        (status = 200, description = "The edited plan.", body = PlanResponse),
        (status = 404, description = "No such plan (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[patch("/plans/{id}")]
pub async fn update_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<UpdatePlanRequest>,
) -> Result<web::Json<PlanResponse>, ApiError> {
    let plan_id = id.into_inner();
    let current = plans::get_plan(&state, auth.user_id, plan_id).await?;
    let duration = DurationDays::parse(i64::from(current.duration_days))?;
    let changes = body.parse(duration)?;
    Ok(web::Json(plans::update_plan(&state, auth.user_id, plan_id, changes).await?.into()))
}

/// Whether deleting a plan also deletes its calendar events.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeletePlanQuery {
    /// Also delete the plan's events on every calendar (default `false`: they stay, unlinked).
    pub delete_events: Option<bool>,
}

/// Delete a plan and its tasks.
///
/// Tasks of the task manager that pointed at it are kept, detached. With `delete_events=true` its
/// calendar events go too (at Google and on the built-in calendar); when a calendar holding them
/// cannot be written (Google needs a new consent: 409 `calendar_needs_reauth`; Google is not
/// configured: 503), nothing is deleted, the plan included.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The plan's id."), DeletePlanQuery),
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "`delete_events` is not a boolean.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such plan (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "With `delete_events`: the Google connection holding its events needs to be authorised again (`calendar_needs_reauth`); nothing was deleted.", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google refused to delete an event.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[delete("/plans/{id}")]
pub async fn delete_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    query: ApiQuery<DeletePlanQuery>,
) -> Result<HttpResponse, ApiError> {
    let plan_id = id.into_inner();
    if query.delete_events == Some(true) {
        schedule::delete_plan_with_events(&state, auth.user_id, plan_id).await?;
    } else {
        plans::delete_plan(&state, auth.user_id, plan_id).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// When and where to schedule a plan.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"start_date": "2026-12-07", "timezone": "Europe/Berlin", "dry_run": true}))]
pub struct ScheduleRequestBody {
    /// The plan's first day (`YYYY-MM-DD`, in the time zone; today or later). Default: the day it
    /// was last scheduled from, else today.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub start_date: Option<NaiveDate>,
    /// IANA zone to schedule in (default: the caller's).
    pub timezone: Option<String>,
    /// The calendar (default: the caller's Google calendar, else the built-in one).
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub connection_id: Option<Uuid>,
    /// Compute the placements and write nothing (default `false`).
    pub dry_run: Option<bool>,
}

/// Put a plan on a calendar.
///
/// The same engine as `POST /api/v1/schedule`, restricted to this plan's tasks: each task starts
/// no earlier than its day of the plan and after the task before it, inside the caller's working
/// hours and time zone, never over busy time on the chosen calendar, with the caller's buffer and
/// daily focus cap; urgent and earliest-deadline work first, long tasks split into chunks of at
/// least their `min_chunk_minutes`, done tasks never placed. A task that cannot finish before its
/// `due_at` is placed as early as possible and listed in `at_risk`. With `dry_run` nothing is
/// written. Otherwise each chunk's event is created or updated under an id derived from the task
/// and chunk, so running it again after an edit moves the same events, leaves unchanged ones alone
/// and deletes those of removed tasks and dropped chunks: never a duplicate. A block you moved,
/// lengthened or shortened by hand in your calendar is pinned: it stays (its event is never
/// updated or deleted), its minutes count toward the task's estimate, only the rest is placed as
/// new chunks, and it is busy time for every other chunk. A failed write is
/// reported per chunk; running it again finishes the job. `start_date` is remembered as the plan's.
/// While Google's usage limits stop writes to the calendar (`writes_paused` on the connection), a
/// run that would write answers 503 and writes nothing.
#[utoipa::path(
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The plan's id.")),
    request_body = ScheduleRequestBody,
    responses(
        (status = 200, description = "Placements and what was written.", body = ScheduleResponse),
        (status = 404, description = "No such plan or connection (or someone else's).", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Google connection needs to be authorised again.", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google refused or answered badly.", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "Google did not answer in time.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/plans/{id}/schedule")]
pub async fn schedule_plan(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<ScheduleRequestBody>,
) -> Result<web::Json<ScheduleResponse>, ApiError> {
    let input = ScheduleInput {
        scope: ScheduleScope::Plan { plan_id: id.into_inner(), start_date: body.start_date },
        time_zone: parse_timezone(body.timezone.as_deref())?,
        connection_id: body.connection_id,
        dry_run: body.dry_run.unwrap_or(false),
        reasons: MoveReasons::Edited,
    };
    let result = schedule::schedule_tasks(&state, auth.user_id, input).await?;
    Ok(web::Json(result.into()))
}
