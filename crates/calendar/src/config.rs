//! Client configuration: where to send requests, with which credentials, and how to retry
//! ([`RetryPolicy`], in its own module so the OAuth client can use it without the Calendar
//! client's configuration).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{
    observe::CallObserver,
    retry::RetryPolicy,
    token::{AccessToken, StaticToken, TokenSource},
};

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
    /// Told of every finished call (for metrics); `None` tells no one.
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("token_source", &self.token_source.as_ref().map(|_| "<dyn TokenSource>"))
            .field("timeout", &self.timeout)
            .field("retry_policy", &self.retry_policy)
            .field("observer", &self.observer)
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
            observer: None,
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

    /// Sets who is told of every finished call (see [`CallObserver`]).
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_print_the_token() {
        let config = Config::new().with_access_token("ya29.very-secret");
        assert!(!format!("{config:?}").contains("very-secret"));
    }
}
