//! Hand-written queries, one module per aggregate. Every function takes the connection first
//! (a pool or a transaction), takes the owning `user_id` for user data, and returns domain types.

pub mod ai_usage;
pub mod chat;
pub mod knowledge;
mod matching;
pub mod page;
pub mod plans;
pub mod rate_limits;
pub mod refresh_tokens;
pub mod resources;
pub mod tasks;
pub mod users;
