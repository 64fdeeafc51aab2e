//! Test support for Planwright's end-to-end tests: stateful fake upstream servers (Gemini, and
//! Google OAuth 2.0 + Calendar v3) that speak the real wire formats, so the whole app can run over
//! HTTP with no network and no accounts. The fakes also run as a binary (`planwright-fakes`) for
//! local frontend work. This crate holds no application code and is never shipped.

pub mod fake_gemini;
pub mod fake_google;
