//! The chat: sessions grounded on the knowledge base, the caller's resources and plans.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::stream;
use planwright_domain::{
    ActionKind, ActionStatus, ChatAction, ChatRole, ChatSession, ChatSource, SourceKind, TokenUsage,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{AiProblems, AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    error::{ApiError, Problem},
    extract::{ApiJson, ApiQuery, AuthUser},
    routes::PageQuery,
    routes::{plans::PlanResponse, schedule::ScheduleResponse, tasks::TaskResponse},
    services::chat::{
        self, ChatInput, MessageWithActions,
        actions::{self, ActionOutcome},
        stream::StreamEvent,
    },
    state::AppState,
};

/// Default and largest number of messages a history read returns.
const HISTORY_DEFAULT: u64 = 200;
const HISTORY_MAX: u64 = 1_000;

/// A message to the assistant.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"message": "How should I revise graph algorithms before the exam?"}))]
pub struct ChatRequest {
    /// The message, 1–4000 characters.
    #[schema(min_length = 1, max_length = 4000)]
    pub message: String,
    /// The session to continue; left out, a new session starts. An unknown id is a 404.
    #[serde(default, deserialize_with = "crate::extract::strict_option")]
    pub session_id: Option<Uuid>,
}

/// Material an answer was grounded on.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"kind": "knowledge", "id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules"}))]
pub struct SourceResponse {
    /// `knowledge`, `resource` or `plan`.
    pub kind: SourceKindName,
    /// The document's, resource's or plan's id.
    pub id: Uuid,
    /// Its title (a document's title, a resource's name, a plan's goal); when the source matched
    /// by meaning, followed by the passage that did: "Leisure › Weekend", "Card › part 2",
    /// "Prepare for the exam › Day 2".
    pub title: String,
}

/// What kind of material a source is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKindName {
    /// A knowledge-base document.
    Knowledge,
    /// One of the caller's resources.
    Resource,
    /// One of the caller's plans.
    Plan,
}

/// Tokens an answer cost.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"prompt_tokens": 1210, "output_tokens": 86, "total_tokens": 1296}))]
pub struct UsageResponse {
    /// Tokens in the prompt.
    pub prompt_tokens: u32,
    /// Tokens generated.
    pub output_tokens: u32,
    /// Everything billed.
    pub total_tokens: u32,
}

/// The assistant's answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"response": "Bring your student card; phones are not allowed in the exam room.", "session_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a41", "message_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43", "timestamp": "2026-11-30T10:00:04Z", "sources": [{"kind": "knowledge", "id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules"}], "usage": {"prompt_tokens": 1210, "output_tokens": 86, "total_tokens": 1296}, "model": "gemini-3.5-flash", "actions": []}))]
pub struct ChatResponse {
    /// The answer, in Markdown.
    pub response: String,
    /// The session (new or continued).
    pub session_id: Uuid,
    /// The stored answer's id.
    pub message_id: Uuid,
    /// When the answer was stored.
    pub timestamp: DateTime<Utc>,
    /// What the answer was grounded on.
    pub sources: Vec<SourceResponse>,
    /// What the answer cost.
    pub usage: UsageResponse,
    /// The model that wrote it (`offline` for the built-in answerer).
    pub model: String,
    /// Changes the answer proposes; nothing happens until the caller confirms one
    /// (`POST /chat/{session_id}/actions/{action_id}/confirm`).
    pub actions: Vec<ActionResponse>,
}

/// A change the assistant proposed. It is performed only when the caller confirms it, through
/// the same rules as the matching route, and at most once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a51",
    "kind": "create_task",
    "status": "proposed",
    "summary": "Create the task \"Call the bank\" (15 min, due Fri 2026-12-04 00:00 UTC).",
    "arguments": {"title": "Call the bank", "description": "", "due_at": "2026-12-04T00:00:00Z", "estimate_minutes": 15, "priority": "normal"},
    "preview": {"task": {"title": "Call the bank", "description": "", "due_at": "2026-12-04T00:00:00Z", "estimate_minutes": 15, "priority": "normal"}},
    "result": null,
    "message_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43",
    "created_at": "2026-11-30T10:00:04Z",
    "decided_at": null
}))]
pub struct ActionResponse {
    /// The action's id (for confirm and reject).
    pub id: Uuid,
    /// What it does: `create_task`, `update_task`, `break_down_task`, `create_plan` or `schedule`.
    pub kind: ActionKindName,
    /// `proposed`, `confirming` (a confirm is running), `confirmed` or `rejected`.
    pub status: ActionStatusName,
    /// A sentence to show before confirming.
    pub summary: String,
    /// The checked arguments it will be performed with.
    pub arguments: serde_json::Value,
    /// What it would look like: `{"task"}` for `create_task`; `{"task_id", "title", "before",
    /// "after"}` for `update_task`; `{"task_id", "title", "subtasks"}` for `break_down_task`;
    /// the goal and days for `create_plan`; for `schedule`, the dry run (`placements`,
    /// `unscheduled`, `at_risk`, `timezone`, `connection_id`).
    pub preview: serde_json::Value,
    /// Once confirmed, what it produced: `{"task": Task}` (`create_task`, `update_task`),
    /// `{"tasks": [Task]}` (`break_down_task`), `{"plan": Plan}` or `{"schedule": Schedule}`;
    /// `null` before.
    pub result: Option<serde_json::Value>,
    /// The assistant message that proposed it.
    pub message_id: Uuid,
    /// When it was proposed.
    pub created_at: DateTime<Utc>,
    /// When it was confirmed or rejected (or a confirm started).
    pub decided_at: Option<DateTime<Utc>>,
}

/// What a proposed action does.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKindName {
    /// Create a task.
    CreateTask,
    /// Change a task's title, due time, estimate, priority or status.
    UpdateTask,
    /// Add the previewed steps as sub-tasks.
    BreakDownTask,
    /// Generate and store a plan.
    CreatePlan,
    /// Put tasks on the calendar as previewed.
    Schedule,
}

/// Where a proposed action stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatusName {
    /// Waiting for the caller.
    Proposed,
    /// A confirm is performing it.
    Confirming,
    /// Performed; `result` holds what it produced.
    Confirmed,
    /// Discarded.
    Rejected,
}

/// The answer of confirm and reject.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"action": {
    "id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a51",
    "kind": "create_task",
    "status": "confirmed",
    "summary": "Create the task \"Call the bank\" (15 min).",
    "arguments": {"title": "Call the bank", "description": "", "due_at": null, "estimate_minutes": 15, "priority": "normal"},
    "preview": {"task": {"title": "Call the bank", "description": "", "due_at": null, "estimate_minutes": 15, "priority": "normal"}},
    "result": {"task": {"id": "0193a620-0a1b-7c2d-8e3f-405162738495", "title": "Call the bank", "description": "", "status": "todo", "due_at": null, "estimate_minutes": 15, "priority": "normal", "min_chunk_minutes": 30, "earliest_start": null, "day_offset": null, "parent_id": null, "plan_id": null, "position": 0, "blocks": [], "created_at": "2026-11-30T10:01:00Z", "updated_at": "2026-11-30T10:01:00Z"}},
    "message_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43",
    "created_at": "2026-11-30T10:00:04Z",
    "decided_at": "2026-11-30T10:01:00Z"
}}))]
pub struct ActionDecision {
    /// The action as it now stands.
    pub action: ActionResponse,
}

/// A chat session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a41", "title": "What do I need to bring to the exam?", "created_at": "2026-11-30T10:00:00Z", "updated_at": "2026-11-30T10:00:04Z", "message_count": 2}))]
pub struct SessionResponse {
    /// Id.
    pub id: Uuid,
    /// Taken from the first message.
    pub title: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When the last message was added.
    pub updated_at: DateTime<Utc>,
    /// Messages in it.
    pub message_count: u64,
}

/// A page of sessions, most recently active first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    /// The sessions.
    pub items: Vec<SessionResponse>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// One message of a session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a42", "role": "user", "content": "What do I need to bring to the exam?", "timestamp": "2026-11-30T10:00:00Z", "sources": [], "actions": []}))]
pub struct MessageResponse {
    /// Id.
    pub id: Uuid,
    /// `user` or `assistant`.
    #[schema(value_type = String, example = "user")]
    pub role: ChatRole,
    /// The text.
    pub content: String,
    /// When it was stored.
    pub timestamp: DateTime<Utc>,
    /// What an answer was grounded on (empty for the caller's messages).
    pub sources: Vec<SourceResponse>,
    /// The actions an answer proposed, as they stand now (empty for the caller's messages).
    pub actions: Vec<ActionResponse>,
}

/// One server-sent event of `POST /chat/stream`, as an SSE parser reads it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "delta", "data": "{\"text\":\"Start with\"}"}))]
pub struct ChatStreamEvent {
    /// `session` (first), `delta` (a piece of the answer), `action` (one per proposed action, once
    /// stored), then `done` or `error` (last).
    pub event: ChatStreamEventName,
    /// JSON: `{"session_id"}` for `session`; `{"text"}` for `delta`; an Action for `action`;
    /// `{"message_id", "session_id", "timestamp", "sources", "usage", "model", "actions"}` for
    /// `done`; `{"status", "detail"}` for `error`.
    #[schema(example = "{\"text\":\"Start with\"}")]
    pub data: String,
}

/// The names of the chat stream's events.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChatStreamEventName {
    /// The session the answer belongs to.
    Session,
    /// The next piece of the answer.
    Delta,
    /// An action the answer proposes (stored; confirm or reject it by id).
    Action,
    /// The answer is complete and stored.
    Done,
    /// The answer failed; nothing was stored for it.
    Error,
}

/// A session's messages, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "session_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a41",
    "messages": [
        {"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a42", "role": "user", "content": "What do I need to bring to the exam?", "timestamp": "2026-11-30T10:00:00Z", "sources": [], "actions": []},
        {"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43", "role": "assistant", "content": "Bring your student card; phones are not allowed in the exam room.", "timestamp": "2026-11-30T10:00:04Z", "sources": [{"kind": "knowledge", "id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules"}], "actions": []}
    ],
    "has_more": false
}))]
pub struct HistoryResponse {
    /// The session.
    pub session_id: Uuid,
    /// The latest `limit` messages, oldest first.
    pub messages: Vec<MessageResponse>,
    /// Whether older messages were left out.
    pub has_more: bool,
}

/// How much history to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// The latest this many messages, 1–1000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

impl From<&ChatSource> for SourceResponse {
    fn from(source: &ChatSource) -> Self {
        let kind = match source.kind {
            SourceKind::Knowledge => SourceKindName::Knowledge,
            SourceKind::Resource => SourceKindName::Resource,
            SourceKind::Plan => SourceKindName::Plan,
        };
        Self { kind, id: source.id, title: source.title.clone() }
    }
}

impl From<TokenUsage> for UsageResponse {
    fn from(usage: TokenUsage) -> Self {
        Self {
            prompt_tokens: usage.prompt_tokens,
            output_tokens: usage.output_tokens,
            total_tokens: usage.total_tokens,
        }
    }
}

impl From<ChatSession> for SessionResponse {
    fn from(session: ChatSession) -> Self {
        Self {
            id: session.id,
            title: session.title,
            created_at: session.created_at,
            updated_at: session.updated_at,
            message_count: session.message_count,
        }
    }
}

impl From<MessageWithActions> for MessageResponse {
    fn from(entry: MessageWithActions) -> Self {
        let MessageWithActions { message, actions } = entry;
        Self {
            id: message.id,
            role: message.role,
            sources: message.sources.iter().map(Into::into).collect(),
            content: message.content,
            timestamp: message.created_at,
            actions: actions.iter().map(Into::into).collect(),
        }
    }
}

impl From<&ChatAction> for ActionResponse {
    fn from(action: &ChatAction) -> Self {
        let kind = match action.kind {
            ActionKind::CreateTask => ActionKindName::CreateTask,
            ActionKind::UpdateTask => ActionKindName::UpdateTask,
            ActionKind::BreakDownTask => ActionKindName::BreakDownTask,
            ActionKind::CreatePlan => ActionKindName::CreatePlan,
            ActionKind::Schedule => ActionKindName::Schedule,
        };
        let status = match action.status {
            ActionStatus::Proposed => ActionStatusName::Proposed,
            ActionStatus::Confirming => ActionStatusName::Confirming,
            ActionStatus::Confirmed => ActionStatusName::Confirmed,
            ActionStatus::Rejected => ActionStatusName::Rejected,
        };
        Self {
            id: action.id,
            kind,
            status,
            summary: action.summary.clone(),
            arguments: action.arguments.clone(),
            preview: action.preview.clone(),
            result: action.result.clone(),
            message_id: action.message_id,
            created_at: action.created_at,
            decided_at: action.decided_at,
        }
    }
}

impl ChatResponse {
    fn from_answer(answer: chat::ChatAnswer) -> Self {
        let message = answer.message;
        Self {
            session_id: answer.session_id,
            message_id: message.id,
            timestamp: message.created_at,
            sources: message.sources.iter().map(Into::into).collect(),
            usage: message.usage.unwrap_or_default().into(),
            model: message.model.unwrap_or_default(),
            response: message.content,
            actions: answer.actions.iter().map(Into::into).collect(),
        }
    }
}

/// What a confirmed action produced, in the API's own shapes.
fn render_outcome(outcome: ActionOutcome) -> serde_json::Value {
    let rendered = match outcome {
        ActionOutcome::Task(task) => {
            serde_json::to_value(TaskResponse::from(task)).map(|t| json!({ "task": t }))
        }
        ActionOutcome::Tasks(tasks) => {
            let tasks: Vec<TaskResponse> = tasks.into_iter().map(Into::into).collect();
            serde_json::to_value(tasks).map(|t| json!({ "tasks": t }))
        }
        ActionOutcome::Plan(plan) => {
            serde_json::to_value(PlanResponse::from(*plan)).map(|p| json!({ "plan": p }))
        }
        ActionOutcome::Schedule(result) => {
            serde_json::to_value(ScheduleResponse::from(*result)).map(|s| json!({ "schedule": s }))
        }
    };
    rendered.unwrap_or_else(|error| json!({ "error": error.to_string() }))
}

impl From<ChatRequest> for ChatInput {
    fn from(request: ChatRequest) -> Self {
        Self { message: request.message, session_id: request.session_id }
    }
}

/// Ask the assistant.
///
/// The message is stored first; the answer is grounded on the best-matching knowledge documents,
/// the caller's resources and plans (returned as `sources`) and on the session's recent turns.
/// Without `session_id` a new session starts, titled by this message. If the AI fails, the
/// answer is a 5xx problem and the message stays in the history.
///
/// The assistant may read the caller's tasks, plans, upcoming events and knowledge, and may
/// propose changes: they come back in `actions` and happen only when confirmed
/// (`POST /chat/{session_id}/actions/{action_id}/confirm`). Offline, the phrases listed in
/// docs/API.md ("add a task …", "mark … done", "move … to <day>", "break down …", "schedule my
/// week") propose the same actions.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The answer, stored in the session.", body = ChatResponse),
        (status = 404, description = "`session_id` is not one of the caller's sessions.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, AiProblems, ServerProblems
    )
)]
#[post("/chat")]
pub async fn send_message(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<ChatRequest>,
) -> Result<web::Json<ChatResponse>, ApiError> {
    let prepared = chat::prepare(&state, auth.user_id, body.into()).await?;
    let answer = chat::answer(&state, auth.user_id, prepared).await?;
    Ok(web::Json(ChatResponse::from_answer(answer)))
}

/// Ask the assistant, streaming the answer as server-sent events.
///
/// Validation, an unknown session and a spent budget are answered as problems before the
/// stream starts. Then the events are: `session` `{"session_id"}`; `delta` `{"text"}` as the
/// model writes; `action` (an Action, as in `actions` of `POST /chat`) for each proposed action
/// once stored; and last either `done` `{"message_id", "session_id", "timestamp", "sources",
/// "usage", "model", "actions"}` once the answer is stored, or `error` `{"status", "detail"}` (nothing is
/// stored for a failed answer; the message stays). Lines starting with `:` are keep-alives.
/// Closing the connection stops the model.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    request_body = ChatRequest,
    responses(
        (status = 200, description = "The answer as `text/event-stream`: a sequence of events, each described by this schema.", body = ChatStreamEvent, content_type = "text/event-stream"),
        (status = 404, description = "`session_id` is not one of the caller's sessions.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, AiProblems, ServerProblems
    )
)]
#[post("/chat/stream")]
pub async fn stream_message(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<ChatRequest>,
) -> Result<HttpResponse, ApiError> {
    let prepared = chat::prepare(&state, auth.user_id, body.into()).await?;
    let events = chat::stream::start(state.get_ref().clone(), auth.user_id, prepared);
    let body = stream::unfold(events, |mut events| async move {
        let event = events.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(sse_frame(&event)), events))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        // nginx would otherwise buffer the stream.
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

/// One event in the `text/event-stream` format.
fn sse_frame(event: &StreamEvent) -> Bytes {
    let (name, data) = match event {
        StreamEvent::Session { session_id } => ("session", json!({ "session_id": session_id })),
        StreamEvent::Delta { text } => ("delta", json!({ "text": text })),
        StreamEvent::Action { action } => ("action", json!(ActionResponse::from(action))),
        StreamEvent::Done { message, actions } => (
            "done",
            json!({
                "actions": actions.iter().map(ActionResponse::from).collect::<Vec<_>>(),
                "message_id": message.id,
                "session_id": message.session_id,
                "timestamp": message.created_at,
                "sources": message.sources.iter().map(SourceResponse::from).collect::<Vec<_>>(),
                "usage": UsageResponse::from(message.usage.unwrap_or_default()),
                "model": message.model,
            }),
        ),
        StreamEvent::Error { status, detail } => ("error", json!({ "status": status, "detail": detail })),
        StreamEvent::KeepAlive => return Bytes::from_static(b": keep-alive\n\n"),
    };
    // serde_json never writes a raw newline, so the data stays on one line.
    Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// The caller's chat sessions, most recently active first.
///
/// Each session has the title of its first message and a `message_count`. Pages hold `limit`
/// sessions (1–200, default 50); pass `next_cursor` as `cursor` for the next page, until it is
/// `null`.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of sessions.", body = SessionList),
        (status = 400, description = "`limit` or `cursor` is not valid.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/chat/sessions")]
pub async fn list_sessions(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<PageQuery>,
) -> Result<web::Json<SessionList>, ApiError> {
    let page = chat::list_sessions(&state, auth.user_id, &query.page()?).await?;
    Ok(web::Json(SessionList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A session's messages, oldest first.
///
/// Both sides of the conversation (`role` `user` or `assistant`), oldest first, with the `sources`
/// each answer was grounded on. `limit` (1–1000, default 200) keeps the most recent messages. An
/// unknown session, or another user's, answers 404.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "The session's id."), HistoryQuery),
    responses(
        (status = 200, description = "The latest messages, oldest first.", body = HistoryResponse),
        (status = 400, description = "`limit` is not valid.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not one of the caller's sessions.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/chat/{session_id}/history")]
pub async fn get_chat_history(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    query: ApiQuery<HistoryQuery>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    let limit = crate::routes::bounded_param(query.limit, HISTORY_DEFAULT, HISTORY_MAX, "limit")?;
    let session_id = path.into_inner();
    let (messages, has_more) = chat::history(&state, auth.user_id, session_id, limit).await?;
    Ok(web::Json(HistoryResponse {
        session_id,
        messages: messages.into_iter().map(Into::into).collect(),
        has_more,
    }))
}

/// Reset: delete a session and all its messages.
///
/// What a "new conversation" button calls. The session's id answers 404 afterwards; another user's
/// session answers 404 and is left alone.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(("session_id" = Uuid, Path, description = "The session's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "Not one of the caller's sessions.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[delete("/chat/{session_id}")]
pub async fn delete_session(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    chat::delete_session(&state, auth.user_id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Confirm a proposed action: perform it.
///
/// Performs the action exactly as previewed, through the same rules as the matching route
/// (`POST /tasks`, `PATCH /tasks/{id}`, a breakdown saved as sub-tasks, `POST /plans`,
/// `POST /schedule`), and stores what it produced in `result`. Confirming again answers the same
/// stored result and changes nothing. 409 `action_stale` when what it changes was edited or
/// deleted since it was proposed (the action stays proposed; reject it or ask again),
/// `action_rejected` after a reject, `action_in_progress` while another confirm runs. Another
/// user's action, or one from another session, is 404.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("session_id" = Uuid, Path, description = "The session the action was proposed in."),
        ("action_id" = Uuid, Path, description = "The action's id, from `actions` in an answer.")
    ),
    responses(
        (status = 200, description = "The action, confirmed, with its `result`.", body = ActionDecision),
        (status = 404, description = "Not one of the caller's actions in this session.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Stale, no longer valid under the API's rules, rejected, or being confirmed right now.", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://planwright.dev/problems/action_stale", "title": "Conflict", "status": 409, "detail": "The task \"Write the essay\" changed after this was proposed; ask again for a fresh proposal.", "code": "action_stale"})),
        AuthProblems, AiProblems, ServerProblems
    )
)]
#[post("/chat/{session_id}/actions/{action_id}/confirm")]
pub async fn confirm_action(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<ActionDecision>, ApiError> {
    let (session_id, action_id) = path.into_inner();
    let action = actions::confirm(&state, auth.user_id, session_id, action_id, render_outcome).await?;
    Ok(web::Json(ActionDecision { action: (&action).into() }))
}

/// Reject a proposed action: discard it.
///
/// Nothing is written but the action's status. Rejecting twice is fine; a confirmed action is a
/// 409 `action_confirmed`. Another user's action, or one from another session, is 404.
#[utoipa::path(
    tag = "chat",
    security(("bearer" = [])),
    params(
        ("session_id" = Uuid, Path, description = "The session the action was proposed in."),
        ("action_id" = Uuid, Path, description = "The action's id, from `actions` in an answer.")
    ),
    responses(
        (status = 200, description = "The action, rejected.", body = ActionDecision,
            example = json!({"action": {"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a51", "kind": "update_task", "status": "rejected", "summary": "Update the task \"Write the essay\": mark it done.", "arguments": {"task_id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11", "status": "done"}, "preview": {"task_id": "0193a5e1-2a3b-7c4d-9e5f-6a7b8c9d0e11", "title": "Write the essay", "before": {"status": "todo"}, "after": {"status": "done"}}, "result": null, "message_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43", "created_at": "2026-11-30T10:00:04Z", "decided_at": "2026-11-30T10:02:00Z"}})),
        (status = 404, description = "Not one of the caller's actions in this session.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed, or being confirmed right now.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[post("/chat/{session_id}/actions/{action_id}/reject")]
pub async fn reject_action(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<ActionDecision>, ApiError> {
    let (session_id, action_id) = path.into_inner();
    let action = actions::reject(&state, auth.user_id, session_id, action_id).await?;
    Ok(web::Json(ActionDecision { action: (&action).into() }))
}
