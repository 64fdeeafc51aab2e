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
