//! Hand-written queries, one module per aggregate. Every function takes the connection first
//! (a pool or a transaction), takes the owning `user_id` for user data, and returns domain types.

pub mod ai_usage;
pub mod calendar;
pub mod chat;
pub mod chat_actions;
pub mod embeddings;
pub mod feeds;
pub mod idempotency;
pub mod knowledge;
pub mod leases;
mod matching;
pub mod oauth_states;
pub mod page;
pub mod plans;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod replans;
pub mod resources;
pub mod tasks;
pub mod users;

/// Rows per multi-row insert: with at most 16 columns a row, each statement's parameters stay
/// well under every engine's limit.
const INSERT_BATCH: usize = 500;

/// `rows` in batches of [`INSERT_BATCH`], moved (not copied) into each batch.
fn insert_batches<T>(rows: Vec<T>) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || rows.peek().is_some().then(|| rows.by_ref().take(INSERT_BATCH).collect()))
}
