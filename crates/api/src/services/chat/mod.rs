//! The chat: sessions of messages, answers grounded on the knowledge base and the person's own
//! resources and plans, in one piece or streamed.
//!
//! Every message is stored before the model is called, so a failed call leaves the person's
//! words in the history. An answer is stored only once it is complete; a stream that fails or is
//! abandoned stores nothing that could pass for a finished answer.
//!
//! This module is the service (store, retrieve, answer); [`prompt`] builds what the model is
//! given (pure), [`stream`] relays a streamed answer.

pub mod actions;
pub mod prompt;
pub mod stream;
pub mod tools;

use chrono::Utc;
use planwright_domain::{
    ChatAction, ChatMessage, ChatRole, ChatSession, ChatSource, NewChatAction, NewChatMessage, TokenUsage,
    ValidationErrors, parse_chat_message, session_title,
};
use planwright_gemini::{Content, FunctionDeclaration};
use planwright_store::repo::{chat, chat_actions, page::Page, page::PageRequest, plans as plan_repo, users};
use uuid::Uuid;

use self::prompt::{Retrieved, estimate_tokens, fit_history, ground};
use self::tools::Executed;
use crate::{
    error::{ApiError, Missing, not_found},
    services::{
        ai::{AiProvider, ChatPrompt, ToolCall, ToolRound, ToolTurn},
        budget, grounding,
    },
    state::AppState,
};

/// Most actions one message may propose; further write calls get an error result.
const MAX_PROPOSALS: usize = 10;

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
    /// The actions it proposes, as stored.
    pub actions: Vec<ChatAction>,
}

/// A stored message with the actions it proposed (none for the person's messages).
#[derive(Debug)]
pub struct MessageWithActions {
    /// The message.
    pub message: ChatMessage,
    /// Its actions, in the order proposed.
    pub actions: Vec<ChatAction>,
}

/// The tool rounds of one message so far.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    rounds: Vec<ToolRound>,
    proposals: Vec<NewChatAction>,
}

impl Conversation {
    /// The tools and rounds for the next model call; calls are allowed for `max_rounds` rounds.
    fn turn<'a>(&'a self, tools: &'a [FunctionDeclaration], max_rounds: u32) -> ToolTurn<'a> {
        let allow_calls = u32::try_from(self.rounds.len()).unwrap_or(u32::MAX) < max_rounds;
        ToolTurn { tools, rounds: &self.rounds, allow_calls }
    }

    /// Whether this is a later round (one more model call, checked against the budget).
    fn is_follow_up(&self) -> bool {
        !self.rounds.is_empty()
    }

    /// Runs a round of calls: reads answered, writes proposed; the model's turn is kept verbatim.
    async fn run_calls(
        &mut self,
        state: &AppState,
        user_id: Uuid,
        model: Content,
        calls: Vec<ToolCall>,
    ) -> Result<(), ApiError> {
        let mut results = Vec::with_capacity(calls.len());
        for call in calls {
            let result = match tools::execute(state, user_id, &call).await? {
                Executed::Answer(result) => result,
                Executed::Proposal(_) if self.proposals.len() >= MAX_PROPOSALS => serde_json::json!({
                    "error": format!("At most {MAX_PROPOSALS} actions can be proposed for one message.")
                }),
                Executed::Proposal(action) => {
                    let result = tools::proposal_result(&action);
                    self.proposals.push(action);
                    result
                }
            };
            tracing::info!(tool = %call.name, error = result.get("error").is_some(), "chat tool call");
            results.push((call, result));
        }
        self.rounds.push(ToolRound { model, results });
        Ok(())
    }
}

/// What one message's answer is stored with.
#[derive(Debug)]
pub(crate) struct Finished {
    text: String,
    usage: TokenUsage,
    /// What the last round cost, not yet counted in the budget: it is counted in the write that
    /// stores the answer (earlier rounds were counted as they ended).
    unrecorded: TokenUsage,
    model: String,
    sources: Vec<ChatSource>,
    proposals: Vec<NewChatAction>,
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
    let time_zone = users::time_zone(db, user_id).await?.tz();
    let (session_id, user_message, new_session) = match input.session_id {
        Some(session_id) => {
            let message = chat::add_message(db, user_id, session_id, NewChatMessage::from_user(text.clone()))
                .await
                .map_err(not_found(Missing::ChatSession))?;
            (session_id, message, false)
        }
        None => {
            let (session, message) = chat::create_session(
                db,
                user_id,
                session_title(&text),
                NewChatMessage::from_user(text.clone()),
            )
            .await?;
            (session.id, message, true)
        }
    };
    let retrieved = retrieve(state, user_id, &text).await?;
    // A session made by this very message holds just that message: nobody else knows its id yet.
    let history = if new_session {
        vec![user_message.clone()]
    } else {
        chat::recent_messages(db, user_id, session_id, HISTORY_WINDOW).await?.0
    };
    let budget = state.settings.chat.context_tokens;
    let (instruction, context, sources) = ground(retrieved, budget / 2, Utc::now().date_naive());
    let turns = fit_history(&history, budget.saturating_sub(estimate_tokens(&instruction)));
    let prompt = ChatPrompt {
        instruction,
        turns,
        context,
        max_output_tokens: state.settings.chat.max_output_tokens,
        now: Utc::now(),
        time_zone,
    };
    Ok(PreparedChat { session_id, user_message, prompt, sources })
}

/// Answers a prepared message in one piece, running tool rounds (reads answered, writes
/// proposed; at most `chat.max_tool_rounds`, each counted in the AI budget), and stores the answer
/// with its proposed actions. When the model fails, the person's message stays and the error says
/// what happened (502/503/504, or 422 when declined).
pub async fn answer(state: &AppState, user_id: Uuid, prepared: PreparedChat) -> Result<ChatAnswer, ApiError> {
    let tools = tools::declarations();
    let max_rounds = state.settings.chat.max_tool_rounds;
    let mut conversation = Conversation::default();
    let mut text = String::new();
    let mut usage = TokenUsage::default();
    let (model, unrecorded) = loop {
        if conversation.is_follow_up() {
            budget::ensure_available(state, user_id).await?;
        }
        let turn = conversation.turn(&tools, max_rounds);
        let allow_calls = turn.allow_calls;
        let generated = match state.ai.chat_round(&prepared.prompt, turn, &state.metrics).await {
            Ok(generated) => generated,
            Err(error) => {
                // Unusable answers (empty twice) cost tokens all the same.
                budget::record(state, user_id, AiProvider::usage_of_error(&error)).await?;
                return Err(error.into());
            }
        };
        usage = usage.plus(generated.usage);
        let round = generated.value;
        if !round.text.trim().is_empty() {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(round.text.trim_end());
        }
        if round.calls.is_empty() || !allow_calls {
            break (generated.model, generated.usage);
        }
        budget::record(state, user_id, generated.usage).await?;
        conversation.run_calls(state, user_id, round.model, round.calls).await?;
    };
    let finished = Finished {
        text,
        usage,
        unrecorded,
        model,
        sources: prepared.sources,
        proposals: conversation.proposals,
    };
    let (message, actions) = finish(state, user_id, prepared.session_id, finished).await?;
    Ok(ChatAnswer { session_id: prepared.session_id, message, actions })
}

/// Stores a complete answer with the actions it proposes, counting the last round's cost in
/// the same write. The cost is counted when nothing is stored too.
pub(crate) async fn finish(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    finished: Finished,
) -> Result<(ChatMessage, Vec<ChatAction>), ApiError> {
    let Finished { mut text, usage, unrecorded, model, sources, proposals } = finished;
    if text.trim().is_empty() {
        if proposals.is_empty() {
            budget::record(state, user_id, unrecorded).await?;
            return Err(ApiError::BadGateway(
                "The AI returned an empty answer. Please try again.".to_owned(),
            ));
        }
        text = format!(
            "I have prepared {} for you; nothing changes until you confirm.",
            if proposals.len() == 1 {
                "an action".to_owned()
            } else {
                format!("{} actions", proposals.len())
            }
        );
    }
    let message = NewChatMessage {
        role: ChatRole::Assistant,
        content: text,
        sources,
        usage: Some(usage),
        model: Some(model),
    };
    let charge = (budget::today(), &unrecorded);
    match chat_actions::add_message_with_actions(
        state.db.conn(),
        user_id,
        session_id,
        message,
        proposals,
        charge,
    )
    .await
    {
        Ok(stored) => Ok(stored),
        Err(error) => {
            // The session was deleted meanwhile, or the database failed.
            budget::record_after_failed_write(state, user_id, unrecorded).await;
            Err(not_found(Missing::ChatSession)(error))
        }
    }
}

/// The caller's sessions, most recently active first.
pub async fn list_sessions(
    state: &AppState,
    user_id: Uuid,
    page: &PageRequest,
) -> Result<Page<ChatSession>, ApiError> {
    Ok(chat::list_sessions(state.db.conn(), user_id, page).await?)
}

/// The latest `limit` messages of one of the caller's sessions, oldest first, each with the
/// actions it proposed, and whether older ones exist.
pub async fn history(
    state: &AppState,
    user_id: Uuid,
    session_id: Uuid,
    limit: u64,
) -> Result<(Vec<MessageWithActions>, bool), ApiError> {
    let db = state.db.conn();
    let (messages, more) = chat::recent_messages(db, user_id, session_id, limit)
        .await
        .map_err(not_found(Missing::ChatSession))?;
    let ids: Vec<Uuid> =
        messages.iter().filter(|m| m.role == ChatRole::Assistant).map(|message| message.id).collect();
    let mut actions = chat_actions::for_messages(db, user_id, &ids).await?;
    let messages = messages
        .into_iter()
        .map(|message| MessageWithActions {
            actions: actions.remove(&message.id).unwrap_or_default(),
            message,
        })
        .collect();
    Ok((messages, more))
}

/// Deletes one of the caller's sessions with its messages.
pub async fn delete_session(state: &AppState, user_id: Uuid, session_id: Uuid) -> Result<(), ApiError> {
    chat::delete_session(state.db.conn(), user_id, session_id).await.map_err(not_found(Missing::ChatSession))
}

async fn retrieve(state: &AppState, user_id: Uuid, text: &str) -> Result<Retrieved, ApiError> {
    let limits = grounding::ChatLimits {
        knowledge: KNOWLEDGE_SOURCES,
        resources: RESOURCE_SOURCES,
        plans: PLAN_SOURCES,
    };
    let grounding::ChatGrounding { knowledge, resources, mut plans, .. } =
        grounding::retrieve_for_chat(state, user_id, text, limits).await?;
    // A planning question often names no plan ("what should I do today?"): the current plan
    // is then the relevant one.
    if plans.is_empty() {
        plans.extend(plan_repo::latest(state.db.conn(), user_id).await?);
    }
    Ok(Retrieved { knowledge, resources, plans })
}
