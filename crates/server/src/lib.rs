//! The `planwright` binary's library half: configuration loading, telemetry and database
//! preparation, shared by `main.rs` and the end-to-end tests.

pub mod backup;
pub mod configuration;
pub mod database;
pub mod telemetry;
