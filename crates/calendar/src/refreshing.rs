//! The token source of a user who connected through the OAuth web-server flow: refreshed with
//! [`OAuthClient::refresh`]. Apart from `token` so the token types do not depend on the OAuth
//! client, which depends on them.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use secrecy::SecretString;

use crate::error::Error;
use crate::oauth::{OAuthClient, TokenResponse};
use crate::token::{AccessToken, DEFAULT_EXPIRY_MARGIN, TokenFuture, TokenSource};

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
