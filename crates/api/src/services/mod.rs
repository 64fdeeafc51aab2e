//! Orchestration of the store and the AI; handlers call exactly one service.

pub mod accounts;
pub mod ai;
pub mod budget;
pub mod calendar;
pub mod chat;
pub mod credentials;
pub mod crypto;
pub mod feed;
pub mod grounding;
pub mod idempotency;
pub mod knowledge;
pub mod known_accounts;
pub mod plans;
pub mod rate_limit;
pub mod resources;
pub mod tasks;
