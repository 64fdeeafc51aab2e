//! A streamed answer: a background task relays the model's stream to the client and stores the
//! answer once it is complete.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use planwright_domain::{ChatAction, ChatMessage, TokenUsage};
use planwright_gemini::{Content, Role};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{Conversation, Finished, PreparedChat, finish, tools};
use crate::{
    error::ApiError,
    services::{
        ai::{AiProvider, calls_in},
        budget,
    },
    state::AppState,
};

/// Quiet streams get a comment this often, so proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// What a streamed answer tells the client, in order: the session, pieces of text, then the
/// stored message or an error.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The session the answer belongs to (first).
    Session {
        /// Its id.
        session_id: Uuid,
    },
    /// The next piece of the answer.
    Delta {
        /// The text.
        text: String,
    },
    /// An action the answer proposes, stored and waiting for the person's confirm (after the
    /// text, before `Done`).
    Action {
        /// The stored action.
        action: ChatAction,
    },
    /// The answer is complete and stored (last).
    Done {
        /// The stored answer.
        message: ChatMessage,
        /// The actions it proposes.
        actions: Vec<ChatAction>,
    },
    /// The answer failed; nothing was stored for it (last).
    Error {
        /// The HTTP status the failure would have had.
        status: u16,
        /// A human sentence.
        detail: String,
    },
    /// Nothing new; keeps idle connections open.
    KeepAlive,
}

/// Streams the answer to a prepared message: a background task relays the model's stream into
/// the returned channel and stores the answer once it is complete. When the receiver is dropped
/// (the client went away) the task stops at once and drops the upstream request with it.
pub fn start(state: AppState, user_id: Uuid, prepared: PreparedChat) -> mpsc::Receiver<StreamEvent> {
    let (events, receiver) = mpsc::channel(32);
    // On the worker's own thread: tool calls run services (scheduling) whose futures are not
    // `Send`, as every handler's are not.
    actix_web::rt::spawn(relay(state, user_id, prepared, events));
    receiver
}

async fn relay(state: AppState, user_id: Uuid, prepared: PreparedChat, events: mpsc::Sender<StreamEvent>) {
    let PreparedChat { session_id, prompt, sources, .. } = prepared;
    if events.send(StreamEvent::Session { session_id }).await.is_err() {
        return;
    }
    let tools = tools::declarations();
    let max_rounds = state.settings.chat.max_tool_rounds;
    let mut conversation = Conversation::default();
    let mut text = String::new();
    let mut usage = TokenUsage::default();
    let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
    // What the last round cost: counted with the stored answer.
    let unrecorded = loop {
        if conversation.is_follow_up()
            && let Err(error) = budget::ensure_available(&state, user_id).await
        {
            let _closed = events.send(failure(error)).await;
            return;
        }
        let turn = conversation.turn(&tools, max_rounds);
        let allow_calls = turn.allow_calls;
        let started = Instant::now();
        let opened = tokio::select! {
            biased;
            () = events.closed() => {
                state.ai.observe_stream::<()>(None, started, &state.metrics);
                return;
            }
            opened = state.ai.chat_round_stream(&prompt, turn) => opened,
        };
        let mut upstream = match opened {
            Ok(upstream) => upstream,
            Err(error) => {
                state.ai.observe_stream::<()>(Some(&Err(error.clone())), started, &state.metrics);
                let _recorded = budget::record(&state, user_id, AiProvider::usage_of_error(&error)).await;
                let _closed = events.send(failure(error.into())).await;
                return;
            }
        };
        let mut parts = Vec::new();
        let mut round_usage = TokenUsage::default();
        loop {
            let next = tokio::select! {
                biased;
                () = events.closed() => {
                    tracing::info!(session_id = %session_id, "client left mid-stream; upstream dropped");
                    state.ai.observe_stream::<()>(None, started, &state.metrics);
                    return;
                }
                next = upstream.next() => next,
                _ = keep_alive.tick() => {
                    if events.send(StreamEvent::KeepAlive).await.is_err() {
                        state.ai.observe_stream::<()>(None, started, &state.metrics);
                        return;
                    }
                    continue;
                }
            };
            match next {
                Some(Ok(delta)) => {
                    if let Some(reported) = delta.usage {
                        round_usage = reported;
                    }
                    parts.extend(delta.parts);
                    if delta.text.is_empty() {
                        continue;
                    }
                    text.push_str(&delta.text);
                    if events.send(StreamEvent::Delta { text: delta.text }).await.is_err() {
                        state.ai.observe_stream::<()>(None, started, &state.metrics);
                        return;
                    }
                }
                Some(Err(error)) => {
                    state.ai.observe_stream::<()>(Some(&Err(error.clone())), started, &state.metrics);
                    let _recorded = budget::record(&state, user_id, round_usage).await;
                    let _closed = events.send(failure(error.into())).await;
                    return;
                }
                None => break,
            }
        }
        state.ai.observe_stream(Some(&Ok::<(), _>(())), started, &state.metrics);
        drop(upstream);
        usage = usage.plus(round_usage);
        let calls = if allow_calls { calls_in(&parts) } else { Vec::new() };
        if calls.is_empty() {
            break round_usage;
        }
        if let Err(error) = budget::record(&state, user_id, round_usage).await {
            let _closed = events.send(failure(error)).await;
            return;
        }
        let model = Content::new(Role::Model, parts);
        if let Err(error) = conversation.run_calls(&state, user_id, model, calls).await {
            let _closed = events.send(failure(error)).await;
            return;
        }
    };
    let model = state.ai.model().to_owned();
    let finished = Finished { text, usage, unrecorded, model, sources, proposals: conversation.proposals };
    match finish(&state, user_id, session_id, finished).await {
        Ok((message, actions)) => {
            for action in &actions {
                if events.send(StreamEvent::Action { action: action.clone() }).await.is_err() {
                    return;
                }
            }
            let _closed = events.send(StreamEvent::Done { message, actions }).await;
        }
        Err(error) => {
            let _closed = events.send(failure(error)).await;
        }
    }
}

fn failure(error: ApiError) -> StreamEvent {
    let problem = error.problem();
    if problem.status >= 500 {
        tracing::warn!(error = %error, "chat stream failed");
    }
    StreamEvent::Error { status: problem.status, detail: problem.detail }
}
