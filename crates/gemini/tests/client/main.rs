//! Behaviour of the Gemini client against a fake server speaking the real wire format.

// clippy.toml's allow-*-in-tests covers `#[test]` functions only, not the shared helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod embed;
mod errors;
mod generate;
mod helpers;
mod models;
mod retries;
mod stream;
mod structured;
mod tools;
