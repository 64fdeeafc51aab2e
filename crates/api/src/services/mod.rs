//! Orchestration of the store and (later) upstream clients; handlers call exactly one service.

pub mod accounts;
pub mod credentials;
pub mod rate_limit;
