//! Client configuration: where to send requests, with which credentials, and how to retry.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;

use crate::token::{AccessToken, StaticToken, TokenSource};

/// The public Calendar v3 endpoint (scheme, host and the `/calendar/v3` prefix).
pub const DEFAULT_BASE_URL: &str = "https://www.googleapis.com/calendar/v3";

/// The default per-attempt timeout (see [`Config::with_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a [`Client`](crate::Client) needs to know. `Debug` never prints a token.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// Scheme, host and path prefix up to and including `/calendar/v3`. A trailing `/` is ignored.
    pub base_url: String,
    /// Where access tokens come from; `None` sends no `Authorization` header (e.g. behind an
    /// authenticating proxy).
    pub token_source: Option<Arc<dyn TokenSource>>,
    /// Per-attempt time limit; `None` waits forever.
    pub timeout: Option<Duration>,
    /// When and how often to retry.
    pub retry_policy: RetryPolicy,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("token_source", &self.token_source.as_ref().map(|_| "<dyn TokenSource>"))
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .finish()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token_source: None,
            timeout: Some(DEFAULT_TIMEOUT),
            retry_policy: RetryPolicy::default(),
        }
    }
}

impl Config {
    /// The defaults: public endpoint, 30 s timeout, retries on, no credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the base URL, e.g. `http://127.0.0.1:8080/calendar/v3` for a local fake.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets where access tokens come from (see [`TokenSource`]).
    pub fn with_token_source(mut self, source: impl TokenSource + 'static) -> Self {
        self.token_source = Some(Arc::new(source));
        self
    }

    /// Sets an already shared token source.
    pub fn with_shared_token_source(mut self, source: Arc<dyn TokenSource>) -> Self {
        self.token_source = Some(source);
        self
    }

    /// Uses one fixed access token ([`StaticToken`]); a 401 is returned as
    /// [`Error::Unauthorized`](crate::Error::Unauthorized) without a second attempt.
    pub fn with_access_token(self, token: impl Into<AccessToken>) -> Self {
        self.with_token_source(StaticToken::new(token))
    }

    /// Sets the per-attempt time limit (sending the request and reading the whole response).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Removes the per-attempt time limit.
    pub fn without_timeout(mut self) -> Self {
        self.timeout = None;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = retry_policy;
        self
    }
}

/// How the clients retry transient failures: rate limits (429, and 403 with reason
/// `rateLimitExceeded` / `userRateLimitExceeded`), 500, 502, 503, 504, connection errors and
/// timeouts. A 400, 401, 403 (other reasons), 404, 409, 410 or 412 is never retried. Requests that
/// are not safe to repeat are retried more narrowly; see [`Client`](crate::Client).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Whether to retry at all.
    pub enabled: bool,
    /// Retries after the first attempt (so at most `max_retries + 1` requests).
    pub max_retries: u32,
    /// Backoff before the first retry; it doubles on each further retry.
    pub initial_backoff: Duration,
    /// Upper bound for any wait, including a server-provided `Retry-After`.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            max_retries: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(32),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn disabled() -> Self {
        Self { enabled: false, ..Self::default() }
    }

    /// Sets `enabled`.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets `max_retries`.
    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets `initial_backoff`.
    pub fn with_initial_backoff(mut self, initial_backoff: Duration) -> Self {
        self.initial_backoff = initial_backoff;
        self
    }

    /// Sets `max_backoff`.
    pub fn with_max_backoff(mut self, max_backoff: Duration) -> Self {
        self.max_backoff = max_backoff;
        self
    }

    /// Whether retry number `retry` (1-based) is allowed.
    pub(crate) fn allows(&self, retry: u32) -> bool {
        self.enabled && retry <= self.max_retries
    }

    /// The wait before retry number `retry` (1-based). A server-provided delay wins (capped by
    /// `max_backoff`); otherwise exponential backoff with "equal jitter": a random value between
    /// half and all of `initial_backoff * 2^(retry-1)`, capped by `max_backoff`.
    pub fn delay_for(&self, retry: u32, server_hint: Option<Duration>) -> Duration {
        if let Some(hint) = server_hint {
            return hint.min(self.max_backoff);
        }
        let factor = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self.initial_backoff.saturating_mul(factor).min(self.max_backoff);
        let half = ceiling / 2;
        half + half.mul_f64(rand::thread_rng().gen_range(0.0..=1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let policy = RetryPolicy::default()
            .with_initial_backoff(Duration::from_millis(100))
            .with_max_backoff(Duration::from_millis(350));
        for _ in 0..50 {
            let first = policy.delay_for(1, None);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let second = policy.delay_for(2, None);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
            let capped = policy.delay_for(10, None);
            assert!(capped >= Duration::from_millis(175) && capped <= Duration::from_millis(350));
        }
    }

    #[test]
    fn server_hint_wins_but_is_capped() {
        let policy = RetryPolicy::default().with_max_backoff(Duration::from_secs(5));
        assert_eq!(policy.delay_for(1, Some(Duration::from_secs(2))), Duration::from_secs(2));
        assert_eq!(policy.delay_for(1, Some(Duration::from_secs(60))), Duration::from_secs(5));
    }

    #[test]
    fn allows_counts_retries_not_attempts() {
        let policy = RetryPolicy::default().with_max_retries(2);
        assert!(policy.allows(1) && policy.allows(2) && !policy.allows(3));
        assert!(!RetryPolicy::disabled().allows(1));
    }

    #[test]
    fn debug_does_not_print_the_token() {
        let config = Config::new().with_access_token("ya29.very-secret");
        assert!(!format!("{config:?}").contains("very-secret"));
    }
}
