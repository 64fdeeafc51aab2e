//! The chat: sessions grounded on the knowledge base, the caller's resources and plans.

use actix_web::web::Bytes;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use futures_util::stream;
use planwright_domain::{ChatMessage, ChatRole, ChatSession, ChatSource, SourceKind, TokenUsage};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{AiProblems, AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    error::{ApiError, Problem},
    extract::{ApiJson, ApiQuery, AuthUser},
    routes::PageQuery,
    services::chat::{self, ChatInput, stream::StreamEvent},
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
    /// Its title (a plan's goal, a resource's name).
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
#[schema(example = json!({"response": "Bring your student card; phones are not allowed in the exam room.", "session_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a41", "message_id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43", "timestamp": "2026-11-30T10:00:04Z", "sources": [{"kind": "knowledge", "id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules"}], "usage": {"prompt_tokens": 1210, "output_tokens": 86, "total_tokens": 1296}, "model": "gemini-3.5-flash"}))]
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
#[schema(example = json!({"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a42", "role": "user", "content": "What do I need to bring to the exam?", "timestamp": "2026-11-30T10:00:00Z", "sources": []}))]
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
}

/// One server-sent event of `POST /chat/stream`, as an SSE parser reads it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"event": "delta", "data": "{\"text\":\"Start with\"}"}))]
pub struct ChatStreamEvent {
    /// `session` (first), `delta` (a piece of the answer), then `done` or `error` (last).
    pub event: ChatStreamEventName,
    /// JSON: `{"session_id"}` for `session`; `{"text"}` for `delta`; `{"message_id", "session_id",
    /// "timestamp", "sources", "usage", "model"}` for `done`; `{"status", "detail"}` for `error`.
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
        {"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a42", "role": "user", "content": "What do I need to bring to the exam?", "timestamp": "2026-11-30T10:00:00Z", "sources": []},
        {"id": "0193a614-5d6e-7f70-8b12-9c0d1e2f3a43", "role": "assistant", "content": "Bring your student card; phones are not allowed in the exam room.", "timestamp": "2026-11-30T10:00:04Z", "sources": [{"kind": "knowledge", "id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules"}]}
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

impl From<ChatMessage> for MessageResponse {
    fn from(message: ChatMessage) -> Self {
        Self {
            id: message.id,
            role: message.role,
            sources: message.sources.iter().map(Into::into).collect(),
            content: message.content,
            timestamp: message.created_at,
        }
    }
}

impl ChatResponse {
    fn from_answer(session_id: Uuid, message: ChatMessage) -> Self {
        Self {
            session_id,
            message_id: message.id,
            timestamp: message.created_at,
            sources: message.sources.iter().map(Into::into).collect(),
            usage: message.usage.unwrap_or_default().into(),
            model: message.model.unwrap_or_default(),
            response: message.content,
        }
    }
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
    Ok(web::Json(ChatResponse::from_answer(answer.session_id, answer.message)))
}

/// Ask the assistant, streaming the answer as server-sent events.
///
/// Validation, an unknown session and a spent budget are answered as problems before the
/// stream starts. Then the events are: `session` `{"session_id"}`; `delta` `{"text"}` as the
/// model writes; and last either `done` `{"message_id", "session_id", "timestamp", "sources",
/// "usage", "model"}` once the answer is stored, or `error` `{"status", "detail"}` (nothing is
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
        StreamEvent::Done { message } => (
            "done",
            json!({
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
