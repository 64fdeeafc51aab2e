//! Middleware: request ids, metrics, `HEAD` as `GET`, panic containment and problem+json for every error.

pub mod access_log;
pub mod head;
pub mod metrics;
pub mod problems;
pub mod request_id;
pub mod root_span;
