//! Planwright's HTTP API: actix-web routes, the services they call, the error type, middleware,
//! the OpenAPI document and the server start-up.
//!
//! Handlers stay thin: parse input into domain types, call one service, map the result to a
//! response type. Services orchestrate the store and the Gemini and calendar clients; `jobs` runs background work.
//! This crate does not load configuration or run migrations: the `planwright` binary does.

pub mod error;
pub mod extract;
pub mod jobs;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod route_table;
pub mod routes;
pub mod services;
pub mod settings;
pub mod startup;
pub mod state;

pub use startup::Application;
