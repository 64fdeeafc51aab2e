//! Hand-written queries, one module per aggregate. Every function takes the connection first
//! (a pool or a transaction) and returns domain types.

pub mod rate_limits;
pub mod refresh_tokens;
pub mod users;
