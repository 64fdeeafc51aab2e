//! A hook told of every finished call, so an application can count and time them (metrics)
//! without wrapping each method. Set it with [`Config::with_observer`](crate::Config::with_observer)
//! and [`OAuthConfig::with_observer`](crate::OAuthConfig::with_observer).

use std::{fmt, time::Duration};

use crate::Error;

/// Which of Google's APIs a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Api {
    /// Calendar v3 (`events.insert`, `freeBusy.query`, ...).
    Calendar,
    /// The OAuth token and revocation endpoints.
    OAuth,
}

/// One finished call: every attempt it took, and how it ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct CallReport<'a> {
    /// The API.
    pub api: Api,
    /// The remote method: `events.insert`, `calendarList.list`, `token.exchange_code`,
    /// `token.refresh`, `token.revoke`...
    pub method: &'static str,
    /// `None` when the call succeeded; the final error otherwise.
    pub error: Option<&'a Error>,
    /// Attempts sent (retries and a retry with a fresh token included).
    pub attempts: u32,
    /// Time from the first attempt to the end, backoff included.
    pub elapsed: Duration,
}

/// Told of every finished call of the client it is configured on. Called inline, so keep it
/// quick (increment a counter, observe a histogram).
pub trait CallObserver: Send + Sync + fmt::Debug {
    /// One call finished.
    fn call_finished(&self, report: &CallReport<'_>);
}
