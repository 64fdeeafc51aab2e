//! Access tokens and where they come from: the [`TokenSource`] trait, a fixed token, and a source
//! that refreshes with an OAuth refresh token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;
use crate::oauth::{OAuthClient, TokenResponse};

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
/// database, refreshes them with [`OAuthClient::refresh`] and writes the new ones back:
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

/// Called with every successful refresh, so the caller can persist the new access token and, when
/// Google rotated it, the new refresh token. It runs synchronously inside the refresh: send the
/// response to a channel or spawn a task for slow work.
pub type RefreshCallback = Arc<dyn Fn(&TokenResponse) + Send + Sync>;

/// A [`TokenSource`] for a user who connected through the OAuth web-server flow: it keeps the
/// current access token in memory and refreshes it with the refresh token (through
/// [`OAuthClient::refresh`]) when it is about to expire or Google rejected it. Concurrent callers
/// share one refresh. When Google sends a new refresh token it replaces the old one.
///
/// A dead refresh token surfaces as [`Error::InvalidGrant`] from every call until the user
/// authorizes again. `Debug` never prints a token.
pub struct RefreshingTokenSource {
    oauth: OAuthClient,
    state: Mutex<RefreshState>,
    refresh_lock: tokio::sync::Mutex<()>,
    on_refresh: Option<RefreshCallback>,
    margin: Duration,
}

struct RefreshState {
    refresh_token: SecretString,
    access: Option<AccessToken>,
}

impl fmt::Debug for RefreshingTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expires_at = self.lock_state().access.as_ref().and_then(AccessToken::expires_at);
        f.debug_struct("RefreshingTokenSource")
            .field("oauth", &self.oauth)
            .field("cached_token_expires_at", &expires_at)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl RefreshingTokenSource {
    /// A source that refreshes with `refresh_token`; the first call refreshes unless
    /// [`with_access_token`](Self::with_access_token) supplies a current token.
    pub fn new(oauth: OAuthClient, refresh_token: impl Into<SecretString>) -> Self {
        Self {
            oauth,
            state: Mutex::new(RefreshState { refresh_token: refresh_token.into(), access: None }),
            refresh_lock: tokio::sync::Mutex::new(()),
            on_refresh: None,
            margin: DEFAULT_EXPIRY_MARGIN,
        }
    }

    /// Starts with a known access token (e.g. the one stored with the connection).
    pub fn with_access_token(self, token: AccessToken) -> Self {
        self.lock_state().access = Some(token);
        self
    }

    /// Calls `callback` after every successful refresh (to persist the new tokens).
    pub fn on_refresh(mut self, callback: impl Fn(&TokenResponse) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Arc::new(callback));
        self
    }

    /// Refreshes tokens this long before they expire (default 60 s).
    pub fn with_expiry_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    fn lock_state(&self) -> std::sync::MutexGuard<'_, RefreshState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn cached(&self) -> Option<AccessToken> {
        self.lock_state().access.clone().filter(|token| !token.expires_within(self.margin))
    }

    async fn current(&self) -> Result<AccessToken, Error> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let _refreshing = self.refresh_lock.lock().await;
        // Another caller may have refreshed while we waited.
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let refresh_token = self.lock_state().refresh_token.clone();
        let response = self.oauth.refresh(&refresh_token).await?;
        let token = response.access();
        {
            let mut state = self.lock_state();
            if let Some(rotated) = &response.refresh_token {
                state.refresh_token = rotated.clone();
            }
            state.access = Some(token.clone());
        }
        if let Some(callback) = &self.on_refresh {
            callback(&response);
        }
        Ok(token)
    }
}

impl TokenSource for RefreshingTokenSource {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.current())
    }

    fn invalidate(&self, rejected: &AccessToken) -> bool {
        let mut state = self.lock_state();
        if state.access.as_ref().is_some_and(|cached| cached.same_token(rejected)) {
            state.access = None;
        }
        true
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
