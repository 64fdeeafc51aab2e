//! End-to-end tests: the real application over HTTP, on a fresh database per test (a temporary
//! SQLite file, or a new PostgreSQL database when `TEST_DATABASE_URL` is set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod accounts;
mod ai_properties;
mod backup;
mod calendar;
mod calendars;
mod chat;
mod chat_actions;
mod errors;
mod event_types;
mod feed;
mod gemini;
mod grounding;
mod grounding_eval;
mod helpers;
mod http_conventions;
mod idempotency;
mod input;
mod isolation;
mod knowledge;
mod me;
mod metrics;
mod openapi;
mod openapi_docs;
mod performance;
mod plans;
mod rate_limits;
mod replan;
mod resources;
mod schedule;
mod system;
mod task_model;
mod tasks;
