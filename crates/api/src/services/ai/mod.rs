//! The AI behind plans and breakdowns: Gemini, or the built-in `offline` planner, chosen by
//! configuration.
//!
//! Providers return raw proposals; [`repair`] makes what can be used usable (noting each change)
//! and [`crate::services::plans`] and [`crate::services::tasks`] validate the result, so a
//! provider cannot put an invalid plan in the database. [`models`] builds the provider from the
//! settings and checks at start-up that the configured Gemini model exists.

pub mod embeddings;
pub mod gemini;
pub mod intents;
pub mod models;
pub mod offline;
pub mod repair;
pub mod schema;

use std::{pin::Pin, time::Instant};

use futures_util::Stream;
use planwright_domain::{ChatRole, SourceKind, Subtask, TokenUsage};

use crate::metrics::Metrics;
use serde::{Deserialize, Serialize};

/// What a plan is generated from.
#[derive(Debug, Clone)]
pub struct PlanPrompt {
    /// The goal, validated.
    pub goal: String,
    /// Days the plan spans.
    pub duration_days: u16,
    /// The person's notes, if any.
    pub notes: Option<String>,
    /// Most tasks the plan may have (the schema's `maxItems`).
    pub max_tasks: usize,
    /// Problems with an earlier answer, fed back on the retry.
    pub corrections: Vec<String>,
}

/// A proposed plan, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedPlan {
    /// Markdown overview.
    pub summary: String,
    /// Tasks in order.
    pub tasks: Vec<ProposedTask>,
}

/// A proposed task, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedTask {
    /// Short title.
    pub title: String,
    /// What to do.
    pub description: String,
    /// Day of the plan, from 0.
    pub day_offset: i64,
    /// Minutes of work, 15–480.
    pub duration_minutes: i64,
}

/// What a task is broken down from.
#[derive(Debug, Clone)]
pub struct BreakdownPrompt {
    /// The task's title.
    pub title: String,
    /// Its description, possibly empty.
    pub description: String,
    /// Problems with an earlier answer, fed back on the retry.
    pub corrections: Vec<String>,
}

/// What a chat answer is written from.
#[derive(Debug, Clone)]
pub struct ChatPrompt {
    /// Instructions and the retrieved material, for `systemInstruction`.
    pub instruction: String,
    /// The conversation, oldest first, ending with the person's new message. Consecutive turns
    /// of one role are already merged.
    pub turns: Vec<ChatTurn>,
    /// The retrieved material itself (the offline provider answers from it).
    pub context: Vec<ContextItem>,
    /// Most tokens the answer may have.
    pub max_output_tokens: u32,
    /// When the message was sent (the offline provider reads "tomorrow" and "Friday" from it).
    pub now: chrono::DateTime<chrono::Utc>,
    /// The person's time zone.
    pub time_zone: chrono_tz::Tz,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatTurn {
    /// Who spoke.
    pub role: ChatRole,
    /// What they said.
    pub text: String,
}

/// One piece of retrieved material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextItem {
    /// What it is.
    pub kind: SourceKind,
    /// Its title.
    pub title: String,
    /// The part of it that matched, short.
    pub excerpt: String,
}

/// A function call the chat model asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The call's id, when the model gave one (echoed in the result).
    pub id: Option<String>,
    /// The tool's name (may be one that was never declared).
    pub name: String,
    /// The arguments as the model wrote them (`{}` when it gave none).
    pub args: serde_json::Value,
}

/// One finished round of tool calls: the model's turn exactly as received (Gemini's thought
/// signatures must go back unchanged) and what each call returned, in order.
#[derive(Debug, Clone)]
pub struct ToolRound {
    /// The model's turn, verbatim.
    pub model: planwright_gemini::Content,
    /// Each call with the JSON object sent back as its `functionResponse`.
    pub results: Vec<(ToolCall, serde_json::Value)>,
}

/// What the tools of a chat request are and how far the conversation got.
#[derive(Debug, Clone, Copy)]
pub struct ToolTurn<'a> {
    /// The declared tools.
    pub tools: &'a [planwright_gemini::FunctionDeclaration],
    /// The rounds so far for this message, oldest first.
    pub rounds: &'a [ToolRound],
    /// Whether the model may call tools in this round (`false`: it must answer in text).
    pub allow_calls: bool,
}

/// What one round of the chat model gave: text, tool calls, or both.
#[derive(Debug, Clone)]
pub struct RoundOutput {
    /// The text (possibly empty when it called tools).
    pub text: String,
    /// The calls, in order.
    pub calls: Vec<ToolCall>,
    /// The model's turn verbatim, to send back with the results.
    pub model: planwright_gemini::Content,
}

/// A piece of a streamed round: text, tool-call parts, and on the last piece what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundDelta {
    /// The next piece of text (possibly empty).
    pub text: String,
    /// The parts of the model's turn in this chunk, verbatim (signatures included).
    pub parts: Vec<planwright_gemini::Part>,
    /// Set once, when the provider reports it.
    pub usage: Option<TokenUsage>,
}

/// A streamed round; it ends after the last piece, or with an error.
pub type RoundStream = Pin<Box<dyn Stream<Item = Result<RoundDelta, AiError>> + Send>>;

/// The calls among `parts`, in order.
pub fn calls_in(parts: &[planwright_gemini::Part]) -> Vec<ToolCall> {
    parts
        .iter()
        .filter_map(|part| part.function_call.as_ref())
        .map(|call| ToolCall {
            id: call.id.clone(),
            name: call.name.clone(),
            args: call.args.clone().unwrap_or_else(|| serde_json::json!({})),
        })
        .collect()
}

/// An answer and what it cost.
#[derive(Debug, Clone)]
pub struct Generated<T> {
    /// The answer.
    pub value: T,
    /// The model that wrote it (a fallback model when the configured one is gone).
    pub model: String,
    /// The exact version that answered (Gemini's `modelVersion`), when the provider says.
    pub model_version: Option<String>,
    /// Tokens spent.
    pub usage: TokenUsage,
}

impl<T> Generated<T> {
    /// The same call's model and usage with another value.
    pub fn with_value<U>(self, value: U) -> Generated<U> {
        Generated { value, model: self.model, model_version: self.model_version, usage: self.usage }
    }
}

/// Why the AI gave no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AiError {
    /// The model refused the request (safety): nothing to retry.
    #[error("the AI declined this request: {0}")]
    Declined(String),
    /// The answer could not be used (not JSON, wrong types, cut off, empty); `problem` is a
    /// sentence for the retry, `usage` what the unusable answer still cost.
    #[error("the AI's answer could not be used: {problem}")]
    BadOutput {
        /// What was wrong, for the model.
        problem: String,
        /// Tokens the call used.
        usage: TokenUsage,
    },
    /// Google says the configured model (and every fallback) does not exist: a typo, or retired.
    #[error("the AI model {model} does not exist or has been retired")]
    ModelNotFound {
        /// The configured model (`ai.model`).
        model: String,
        /// The fallbacks tried after it (`ai.fallback_models`).
        fallbacks: Vec<String>,
    },
    /// The provider is not reachable or overloaded right now.
    #[error("the AI service is unavailable: {0}")]
    Unavailable(String),
    /// The provider did not answer in time.
    #[error("the AI service did not answer in time")]
    Timeout,
    /// The provider answered with an error we cannot act on.
    #[error("the AI service failed: {0}")]
    Upstream(String),
}

/// The configured provider.
#[derive(Debug, Clone)]
pub enum AiProvider {
    /// The deterministic, rule-based planner: no network, no tokens.
    Offline(offline::OfflinePlanner),
    /// Google's Gemini.
    Gemini(gemini::GeminiPlanner),
}

impl AiProvider {
    /// The provider's name, for start-up logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Offline(_) => "offline",
            Self::Gemini(_) => "gemini",
        }
    }

    /// The model answers come from.
    pub fn model(&self) -> &str {
        match self {
            Self::Offline(_) => offline::MODEL,
            Self::Gemini(planner) => planner.model(),
        }
    }

    /// What an unusable answer cost (0 for other failures).
    pub fn usage_of_error(error: &AiError) -> TokenUsage {
        match error {
            AiError::BadOutput { usage, .. } => *usage,
            _ => TokenUsage::default(),
        }
    }

    /// Proposes a plan for a goal, counting the call in `metrics`.
    pub async fn propose_plan(
        &self,
        prompt: &PlanPrompt,
        metrics: &Metrics,
    ) -> Result<Generated<ProposedPlan>, AiError> {
        let started = Instant::now();
        let result = match self {
            Self::Offline(planner) => Ok(planner.propose_plan(prompt)),
            Self::Gemini(planner) => planner.propose_plan(prompt).await,
        };
        metrics.observe_upstream(self.name(), outcome(&result), started.elapsed().as_secs_f64());
        result
    }

    /// Proposes 2–5 sub-tasks for a task, counting the call in `metrics`.
    pub async fn propose_subtasks(
        &self,
        prompt: &BreakdownPrompt,
        metrics: &Metrics,
    ) -> Result<Generated<Vec<Subtask>>, AiError> {
        let started = Instant::now();
        let result = match self {
            Self::Offline(planner) => Ok(planner.propose_subtasks(prompt)),
            Self::Gemini(planner) => planner.propose_subtasks(prompt).await,
        };
        metrics.observe_upstream(self.name(), outcome(&result), started.elapsed().as_secs_f64());
        result
    }

    /// One round of a chat with tools, in one piece, counting the call in `metrics`.
    pub async fn chat_round(
        &self,
        prompt: &ChatPrompt,
        turn: ToolTurn<'_>,
        metrics: &Metrics,
    ) -> Result<Generated<RoundOutput>, AiError> {
        let started = Instant::now();
        let result = match self {
            Self::Offline(planner) => Ok(planner.chat_round(prompt, turn)),
            Self::Gemini(planner) => planner.chat_round(prompt, turn).await,
        };
        metrics.observe_upstream(self.name(), outcome(&result), started.elapsed().as_secs_f64());
        result
    }

    /// Starts one streamed round of a chat with tools. The caller reports how the stream ended
    /// with [`AiProvider::observe_stream`].
    pub async fn chat_round_stream(
        &self,
        prompt: &ChatPrompt,
        turn: ToolTurn<'_>,
    ) -> Result<RoundStream, AiError> {
        match self {
            Self::Offline(planner) => Ok(planner.chat_round_stream(prompt, turn)),
            Self::Gemini(planner) => planner.chat_round_stream(prompt, turn).await,
        }
    }

    /// Counts a finished (or failed, or abandoned) stream in `metrics`.
    pub fn observe_stream<T>(
        &self,
        result: Option<&Result<T, AiError>>,
        started: Instant,
        metrics: &Metrics,
    ) {
        let label = result.map_or("cancelled", outcome);
        metrics.observe_upstream(self.name(), label, started.elapsed().as_secs_f64());
    }
}

/// The `outcome` label of a call.
fn outcome<T>(result: &Result<T, AiError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(AiError::Declined(_)) => "declined",
        Err(AiError::BadOutput { .. }) => "bad_output",
        Err(AiError::ModelNotFound { .. }) => "model_not_found",
        Err(AiError::Unavailable(_)) => "unavailable",
        Err(AiError::Timeout) => "timeout",
        Err(AiError::Upstream(_)) => "error",
    }
}
