//! The chat: sessions of messages, answers grounded on the knowledge base and the person's own
//! resources and plans, in one piece or streamed.
//!
//! Every message is stored before the model is called, so a failed call leaves the person's
//! words in the history. An answer is stored only once it is complete; a stream that fails or is
//! abandoned stores nothing that could pass for a finished answer.
//!
//! This module is the service (store, retrieve, answer); [`prompt`] builds what the model is
//! given (pure), [`stream`] relays a streamed answer.

pub mod prompt;
pub mod stream;

use chrono::Utc;
use planwright_domain::{
    ChatMessage, ChatRole, ChatSession, ChatSource, NewChatMessage, TokenUsage, ValidationErrors,
    parse_chat_message, session_title,
};
use planwright_store::repo::{
    chat, page::Page, page::PageRequest, plans as plan_repo, resources as resource_repo,
};
use uuid::Uuid;

use self::prompt::{Retrieved, estimate_tokens, fit_history, ground};
use crate::{
    error::{ApiError, Missing, not_found},
    services::{
        ai::{AiProvider, ChatPrompt},
        budget, grounding,
    },
    state::AppState,
};

/// Knowledge documents, resources and plans retrieved per message, at most.
const KNOWLEDGE_SOURCES: u64 = 3;
const RESOURCE_SOURCES: usize = 3;
const PLAN_SOURCES: usize = 2;
/// Newest messages read from the database to fill the context window; the token budget then
/// decides how many of them go to the model.
const HISTORY_WINDOW: u64 = 60;
/// A message the person sent, and the session it belongs to (`None` starts a new one).
#[derive(Debug, Clone)]
pub struct ChatInput {
    /// The message as sent.
    pub message: String,
    /// The session to continue.
    pub session_id: Option<Uuid>,
}

/// A message stored and ready to be answered.
#[derive(Debug)]
pub struct PreparedChat {
    /// The session (new or continued).
    pub session_id: Uuid,
    /// The person's message as stored.
    pub user_message: ChatMessage,
    /// What the model is given.
    pub prompt: ChatPrompt,
    /// What the answer is grounded on.
    pub sources: Vec<ChatSource>,
}

/// A completed answer.
#[derive(Debug)]
pub struct ChatAnswer {
    /// The session.
    pub session_id: Uuid,
    /// The assistant's message as stored.
    pub message: ChatMessage,
}

/// Validates and stores the person's message, retrieves the sources and builds the model's
/// context. Fails with 422 (blank or long message), 404 (not the caller's session) or 429 (the
/// day's AI budget is spent) before anything is stored.
#[tracing::instrument(skip(state, input), fields(session_id = ?input.session_id))]
pub async fn prepare(state: &AppState, user_id: Uuid, input: ChatInput) -> Result<PreparedChat, ApiError> {
    let text = parse_chat_message(&input.message)
        .map_err(|error| ApiError::Validation(ValidationErrors::from_iter([error])))?;
    let db = state.db.conn();
    if let Some(session_id) = input.session_id {
        chat::find_session(db, user_id, session_id).await.map_err(not_found(Missing::ChatSession))?;
    }
    budget::ensure_available(state, user_id).await?;
    let (session_id, user_message) = match input.session_id {
        Some(session_id) => {
            let message = chat::add_message(db, user_id, session_id, NewChatMessage::from_user(text.clone()))
                .await
                .map_err(not_found(Missing::ChatSession))?;
            (session_id, message)
        }
        None => {
            let (session, message) = chat::create_session(
                db,
                user_id,
                session_title(&text),
                NewChatMessage::from_user(text.clone()),
            )
            .await?;
            (session.id, message)
        }
    };
    let retrieved = retrieve(state, user_id, &text).await?;
    let (history, _) = chat::recent_messages(db, user_id, session_id, HISTORY_WINDOW).await?;
    let budget = state.settings.chat.context_tokens;
    let (instruction, context, sources) = ground(retrieved, budget / 2, Utc::now().date_naive());
    let turns = fit_history(&history, budget.saturating_sub(estimate_tokens(&instruction)));
    let prompt =
        ChatPrompt { instruction, turns, context, max_output_tokens: state.settings.chat.max_output_tokens };
    Ok(PreparedChat { session_id, user_message, prompt, sources })
}

/// Answers a prepared message in one piece and stores the answer. When the model fails, the
/// person's message stays and the error says what happened (502/503/504, or 422 when declined).
pub async fn answer(state: &AppState, user_id: Uuid, prepared: PreparedChat) -> Result<ChatAnswer, ApiError> {
    let generated = match state.ai.chat(&prepared.prompt, &state.metrics).await {
        Ok(generated) => generated,
        Err(error) => {
            // Unusable answers (empty twice) cost tokens all the same.
            budget::record(state, user_id, AiProvider::usage_of_error(&error)).await?;
            return Err(error.into());
        }
    };
    let message = finish(
        state,
        user_id,
        prepared.session_id,
        generated.value,
        generated.usage,
        generated.model,
        prepared.sources,
    )
    .await?;
    Ok(ChatAnswer { session_id: prepared.session_id, message })
}

/// Stores a complete answer and counts what it cost.
pub(super) async fn finish(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    text: String,
    usage: TokenUsage,
    model: String,
    sources: Vec<ChatSource>,
) -> Result<ChatMessage, ApiError> {
    budget::record(state, user_id, usage).await?;
    if text.trim().is_empty() {
        return Err(ApiError::BadGateway("The AI returned an empty answer. Please try again.".to_owned()));
    }
    let message = NewChatMessage {
        role: ChatRole::Assistant,
        content: text,
        sources,
        usage: Some(usage),
        model: Some(model),
    };
    chat::add_message(state.db.conn(), user_id, session_id, message)
        .await
        .map_err(not_found(Missing::ChatSession))
}

/// The caller's sessions, most recently active first.
pub async fn list_sessions(
    state: &AppState,
    user_id: Uuid,
    page: &PageRequest,
) -> Result<Page<ChatSession>, ApiError> {
    Ok(chat::list_sessions(state.db.conn(), user_id, page).await?)
}

/// The latest `limit` messages of one of the caller's sessions, oldest first, and whether
/// older ones exist.
pub async fn history(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    limit: u64,
) -> Result<(Vec<ChatMessage>, bool), ApiError> {
    chat::recent_messages(state.db.conn(), user_id, session_id, limit)
        .await
        .map_err(not_found(Missing::ChatSession))
}

/// Deletes one of the caller's sessions with its messages.
pub async fn delete_session(state: &AppState, user_id: Uuid, session_id: Uuid) -> Result<(), ApiError> {
    chat::delete_session(state.db.conn(), user_id, session_id).await.map_err(not_found(Missing::ChatSession))
}

async fn retrieve(state: &AppState, user_id: Uuid, text: &str) -> Result<Retrieved, ApiError> {
    let db = state.db.conn();
    let knowledge = grounding::retrieve_for_chat(state, user_id, text, KNOWLEDGE_SOURCES).await?;
    let resources = resource_repo::search(db, user_id, text, RESOURCE_SOURCES).await?;
    let mut plans = plan_repo::search(db, user_id, text, PLAN_SOURCES).await?;
    // A planning question often names no plan ("what should I do today?"): the current plan
    // is then the relevant one.
    if plans.is_empty() {
        plans.extend(plan_repo::latest(db, user_id).await?);
    }
    Ok(Retrieved { knowledge, resources, plans })
}
