//! How the clients retry transient failures (shared by the Calendar and the OAuth client).

use std::time::Duration;

use rand::Rng;

/// How the clients retry transient failures: rate limits (429, and 403 with reason
/// `rateLimitExceeded` / `userRateLimitExceeded`), 500, 502, 503, 504, connection errors and
/// timeouts. A 400, 401, 403 (other reasons, among them `quotaExceeded`: "Calendar usage limits
/// exceeded", see [`Error::is_usage_limit_exceeded`](crate::Error::is_usage_limit_exceeded)),
/// 404, 409, 410 or 412 is never retried. Requests that
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
}
