//! Behaviour of the Calendar and OAuth clients against a fake server speaking Google's wire format.

// clippy.toml's allow-*-in-tests covers `#[test]` functions only, not the shared helpers here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod auth;
mod calendar_list;
mod client_secret;
mod errors;
mod events;
mod free_busy;
mod helpers;
mod oauth;
mod observe;
mod retries;
mod service_account;
mod sync;
mod watch;
