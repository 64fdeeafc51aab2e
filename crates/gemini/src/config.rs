//! Client configuration: where to send requests, with which key and model, and how to retry.

use std::time::Duration;

use rand::Rng;
use secrecy::SecretString;

/// The public Gemini API endpoint.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

/// The model used when none is configured.
pub const DEFAULT_MODEL: &str = "gemini-3.5-flash";

/// The embedding model used when none is configured (see [`Config::with_embedding_model`]): Google's
/// text embedding model, which takes a `taskType` and returns 3072 values unless asked for fewer.
pub const DEFAULT_EMBEDDING_MODEL: &str = "gemini-embedding-001";

/// The default per-attempt timeout (see [`Config::with_timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Everything a [`Client`](crate::Client) needs to know. `Debug` never prints the API key.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Scheme, host and optional path prefix, without the `/v1beta` part.
    pub base_url: String,
    /// Sent as `x-goog-api-key`; when `None` no key header is sent (e.g. behind an auth proxy).
    pub api_key: Option<SecretString>,
    /// Model id such as `gemini-3.5-flash` (a `models/` prefix is accepted too).
    pub model: String,
    /// Model id for `embedContent` and `batchEmbedContents`, e.g. `gemini-embedding-001`.
    pub embedding_model: String,
    /// Per-attempt time limit; `None` waits forever. See [`Config::with_timeout`].
    pub timeout: Option<Duration>,
    /// When and how often to retry.
    pub retry_policy: RetryPolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            model: DEFAULT_MODEL.to_owned(),
            embedding_model: DEFAULT_EMBEDDING_MODEL.to_owned(),
            timeout: Some(DEFAULT_TIMEOUT),
            retry_policy: RetryPolicy::default(),
        }
    }
}

impl Config {
    /// The defaults: public endpoint, `gemini-3.5-flash` (`gemini-embedding-001` for embeddings),
    /// 120 s timeout, retries on, no key.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the base URL (e.g. a local fake server in tests). A trailing `/` is ignored.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Sets the API key sent in the `x-goog-api-key` header.
    pub fn with_api_key(mut self, api_key: impl Into<SecretString>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// Sets the model id.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// Sets the model the embedding calls use ([`Client::embed_content`](crate::Client::embed_content)
    /// and [`Client::batch_embed_contents`](crate::Client::batch_embed_contents)); the generation
    /// model is unaffected.
    pub fn with_embedding_model(mut self, model: impl Into<String>) -> Self {
        self.embedding_model = model.into();
        self
    }

    /// Sets the per-attempt time limit. For unary calls it bounds sending the request and reading
    /// the whole response; for streams it bounds the wait for the first bytes of the body, and then
    /// each wait for the next bytes (an idle timeout), so long generations are not cut off.
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

/// How the client retries transient failures: 429 (unless a per-day quota is exhausted), 500,
/// 502, 503, 504, connection errors and timeouts. A 400 is never retried; a stream is retried only
/// before the first byte of its body arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Whether to retry at all.
    pub enabled: bool,
    /// Retries after the first attempt (so at most `max_retries + 1` requests).
    pub max_retries: u32,
    /// Backoff before the first retry; it doubles on each further retry.
    pub initial_backoff: Duration,
    /// Upper bound for any wait, including a server-provided `RetryInfo` / `Retry-After` delay.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            max_retries: 3,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
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
    fn debug_does_not_print_the_key() {
        let config = Config::new().with_api_key("AIza-very-secret");
        assert!(!format!("{config:?}").contains("very-secret"));
    }
}
