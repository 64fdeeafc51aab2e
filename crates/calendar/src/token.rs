//! Access tokens and where they come from: the [`TokenSource`] trait, a fixed token, and a source
//! that refreshes with an OAuth refresh token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// The future a [`TokenSource`] returns.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<AccessToken, Error>> + Send + 'a>>;

/// How long before its expiry a cached token is refreshed by the built-in sources.
pub const DEFAULT_EXPIRY_MARGIN: Duration = Duration::from_secs(60);

/// An OAuth access token (sent as `Authorization: Bearer ...`) and, when known, when it expires.
/// `Debug` never prints the token.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    expires_at: Option<DateTime<Utc>>,
}

impl AccessToken {
    /// A token with no known expiry.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self { secret: secret.into(), expires_at: None }
    }

    /// Sets when the token expires.
    pub fn with_expires_at(mut self, expires_at: DateTime<Utc>) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The token itself.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When the token expires, if known.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.expires_at
    }

    /// Whether the token is known to expire within `margin` from now (false when the expiry is
    /// unknown).
    pub fn expires_within(&self, margin: Duration) -> bool {
        let margin = chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX);
        self.expires_at.is_some_and(|at| at <= Utc::now().checked_add_signed(margin).unwrap_or(at))
    }

    /// Whether two tokens are the same token.
    pub fn same_token(&self, other: &AccessToken) -> bool {
        self.secret.expose_secret() == other.secret.expose_secret()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl From<&str> for AccessToken {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl From<String> for AccessToken {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

impl From<SecretString> for AccessToken {
    fn from(secret: SecretString) -> Self {
        Self::new(secret)
    }
}

/// Where a [`Client`](crate::Client) gets its access tokens.
///
/// The client calls [`token`](TokenSource::token) before every attempt, so a source should cache
/// and only go to the network (or database) when its token is about to expire. When Google answers
/// 401, the client calls [`invalidate`](TokenSource::invalidate) with the rejected token; if it
/// returns `true`, the client calls `token` again and retries the request once.
///
/// Implement it to plug in your own storage, e.g. a source that reads encrypted tokens from a
/// database, refreshes them with [`OAuthClient::refresh`](crate::OAuthClient::refresh) and writes the new ones back:
///
/// ```
/// use planwright_calendar::{AccessToken, TokenFuture, TokenSource};
///
/// struct FromEnv;
///
/// impl TokenSource for FromEnv {
///     fn token(&self) -> TokenFuture<'_> {
///         Box::pin(async {
///             let token = std::env::var("GOOGLE_ACCESS_TOKEN")
///                 .map_err(|e| planwright_calendar::Error::token_source("no token in env", e))?;
///             Ok(AccessToken::new(token))
///         })
///     }
/// }
/// ```
pub trait TokenSource: Send + Sync {
    /// A token to send now.
    ///
    /// # Errors
    /// Whatever prevents getting one: [`Error::InvalidGrant`] when the refresh token is dead,
    /// [`Error::TokenSource`] for the source's own failures, transport errors...
    fn token(&self) -> TokenFuture<'_>;

    /// Google rejected `rejected` with 401. Forget it if it is still cached, and return whether the
    /// next [`token`](TokenSource::token) call may yield a different, valid token (the client
    /// retries the request once if so). The default returns `false`: nothing to refresh.
    fn invalidate(&self, rejected: &AccessToken) -> bool {
        let _ = rejected;
        false
    }
}

impl<T: TokenSource + ?Sized> TokenSource for Arc<T> {
    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }

    fn invalidate(&self, rejected: &AccessToken) -> bool {
        (**self).invalidate(rejected)
    }
}

impl<T: TokenSource + ?Sized> TokenSource for Box<T> {
    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }

    fn invalidate(&self, rejected: &AccessToken) -> bool {
        (**self).invalidate(rejected)
    }
}

/// One fixed access token. It cannot be refreshed, so a 401 is returned to the caller at once.
#[derive(Debug, Clone)]
pub struct StaticToken {
    token: AccessToken,
}

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<AccessToken>) -> Self {
        Self { token: token.into() }
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        let token = self.token.clone();
        Box::pin(async move { Ok(token) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_checks_use_the_margin() {
        let soon = AccessToken::new("t").with_expires_at(Utc::now() + chrono::Duration::seconds(30));
        assert!(soon.expires_within(Duration::from_secs(60)));
        assert!(!soon.expires_within(Duration::from_secs(10)));
        assert!(!AccessToken::new("t").expires_within(Duration::from_secs(3600)));
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let token = AccessToken::new("ya29.secret-value");
        assert!(!format!("{token:?}").contains("secret-value"));
        let source = StaticToken::new(token);
        assert!(!format!("{source:?}").contains("secret-value"));
    }
}
