//! A streamed answer: a background task relays the model's stream to the client and stores the
//! answer once it is complete.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use planwright_domain::{ChatMessage, TokenUsage};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{PreparedChat, finish};
use crate::{error::ApiError, state::AppState};

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
    /// The answer is complete and stored (last).
    Done {
        /// The stored answer.
        message: ChatMessage,
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
    tokio::spawn(relay(state, user_id, prepared, events));
    receiver
}

async fn relay(state: AppState, user_id: Uuid, prepared: PreparedChat, events: mpsc::Sender<StreamEvent>) {
    let PreparedChat { session_id, prompt, sources, .. } = prepared;
    let started = Instant::now();
    if events.send(StreamEvent::Session { session_id }).await.is_err() {
        return;
    }
    let opened = tokio::select! {
        biased;
        () = events.closed() => {
            state.ai.observe_stream::<()>(None, started, &state.metrics);
            return;
        }
        opened = state.ai.chat_stream(&prompt) => opened,
    };
    let mut upstream = match opened {
        Ok(upstream) => upstream,
        Err(error) => {
            state.ai.observe_stream::<()>(Some(&Err(error.clone())), started, &state.metrics);
            let _closed = events.send(failure(error.into())).await;
            return;
        }
    };
    let mut text = String::new();
    let mut usage = TokenUsage::default();
    let mut keep_alive = tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
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
                    usage = reported;
                }
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
                let _closed = events.send(failure(error.into())).await;
                return;
            }
            None => break,
        }
    }
    state.ai.observe_stream(Some(&Ok::<(), _>(())), started, &state.metrics);
    drop(upstream);
    let model = state.ai.model().to_owned();
    let event = match finish(&state, user_id, session_id, text, usage, model, sources).await {
        Ok(message) => StreamEvent::Done { message },
        Err(error) => failure(error),
    };
    let _closed = events.send(event).await;
}

fn failure(error: ApiError) -> StreamEvent {
    let problem = error.problem();
    if problem.status >= 500 {
        tracing::warn!(error = %error, "chat stream failed");
    }
    StreamEvent::Error { status: problem.status, detail: problem.detail }
}
