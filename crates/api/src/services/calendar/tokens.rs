//! A connection's Google tokens as a [`TokenSource`]: read from the database and opened; when the
//! access token is about to expire (or Google answered 401), refreshed by exactly one holder
//! across all replicas (a database lease), sealed and stored again. A dead refresh token
//! (`invalid_grant`) marks the connection `needs_reauth`.

use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

use chrono::Utc;
use planwright_calendar::{AccessToken, Error as GoogleError, OAuthClient, TokenFuture, TokenSource};
use planwright_domain::{ConnectionStatus, EncryptedTokens};
use planwright_store::{
    Database,
    repo::{calendar as repo, leases},
};
use uuid::Uuid;

use crate::services::crypto::TokenCipher;

/// Refresh this long before the access token expires.
const EXPIRY_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(60);
/// How long a refresh lease lasts (a refresh takes a second or two).
const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// How long to wait for another holder's refresh.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(15);

/// The tokens of one connection.
pub struct StoredTokens {
    db: Database,
    cipher: TokenCipher,
    oauth: OAuthClient,
    connection_id: Uuid,
    /// The token Google last rejected with 401: never handed out again.
    rejected: Mutex<Option<AccessToken>>,
    holder: String,
}

impl std::fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredTokens").field("connection_id", &self.connection_id).finish_non_exhaustive()
    }
}

impl StoredTokens {
    /// The token source of connection `connection_id`.
    pub fn new(db: Database, cipher: TokenCipher, oauth: OAuthClient, connection_id: Uuid) -> Self {
        let holder = Uuid::now_v7().to_string();
        Self { db, cipher, oauth, connection_id, rejected: Mutex::new(None), holder }
    }

    async fn current(&self) -> Result<AccessToken, GoogleError> {
        let db = self.db.conn();
        let started = tokio::time::Instant::now();
        loop {
            let connection = repo::find_connection_by_id(db, self.connection_id)
                .await
                .map_err(|e| GoogleError::token_source("the connection could not be read", e))?;
            if connection.status != ConnectionStatus::Active {
                return Err(GoogleError::InvalidGrant {
                    description: Some("the connection needs to be authorised again".to_owned()),
                });
            }
            if let Some(token) = self.usable(&connection.tokens)? {
                return Ok(token);
            }
            let lease = format!("google-token:{}", self.connection_id);
            let now = Utc::now();
            let acquired = leases::acquire(db, &lease, &self.holder, now, now + LEASE)
                .await
                .map_err(|e| GoogleError::token_source("the refresh lease could not be taken", e))?;
            if acquired {
                let result = self.refresh().await;
                if let Err(error) = leases::release(db, &lease, &self.holder).await {
                    tracing::warn!(error = %error, "could not release the refresh lease");
                }
                return result;
            }
            // Another request (or replica) is refreshing: use its token when it lands.
            if started.elapsed() > WAIT_FOR_OTHER {
                return Err(GoogleError::TokenSource {
                    message: "timed out waiting for another token refresh".to_owned(),
                    source: None,
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The stored access token, if it is neither expiring nor the one Google rejected.
    fn usable(&self, tokens: &EncryptedTokens) -> Result<Option<AccessToken>, GoogleError> {
        let (Some(sealed), Some(expires_at)) = (&tokens.access, tokens.expires_at) else {
            return Ok(None);
        };
        if expires_at - EXPIRY_MARGIN <= Utc::now() {
            return Ok(None);
        }
        let secret = self
            .cipher
            .open(sealed)
            .map_err(|e| GoogleError::token_source("the stored access token cannot be opened", e))?;
        let token = AccessToken::new(secret).with_expires_at(expires_at);
        let rejected = self.rejected.lock().unwrap_or_else(PoisonError::into_inner);
        if rejected.as_ref().is_some_and(|r| r.same_token(&token)) {
            return Ok(None);
        }
        Ok(Some(token))
    }

    /// Refreshes under the lease. Re-reads first: the token may have been refreshed meanwhile.
    async fn refresh(&self) -> Result<AccessToken, GoogleError> {
        let db = self.db.conn();
        let cipher = &self.cipher;
        let connection = repo::find_connection_by_id(db, self.connection_id)
            .await
            .map_err(|e| GoogleError::token_source("the connection could not be read", e))?;
        if let Some(token) = self.usable(&connection.tokens)? {
            return Ok(token);
        }
        let Some(sealed_refresh) = connection.tokens.refresh.clone() else {
            mark_needs_reauth(&self.db, self.connection_id, "No refresh token is stored.").await;
            return Err(GoogleError::InvalidGrant { description: Some("no refresh token".to_owned()) });
        };
        let refresh_token = cipher
            .open(&sealed_refresh)
            .map_err(|e| GoogleError::token_source("the stored refresh token cannot be opened", e))?;
        let response = match self.oauth.refresh(&refresh_token).await {
            Ok(response) => response,
            Err(error @ GoogleError::InvalidGrant { .. }) => {
                mark_needs_reauth(
                    &self.db,
                    self.connection_id,
                    "Google refused the refresh token (invalid_grant): connect Google Calendar again.",
                )
                .await;
                return Err(error);
            }
            Err(error) => return Err(error),
        };
        let seal = |secret: &secrecy::SecretString| {
            use secrecy::ExposeSecret;
            cipher
                .seal(secret.expose_secret())
                .map_err(|e| GoogleError::token_source("cannot seal a token", e))
        };
        let expires_at = response.expires_at.unwrap_or_else(|| Utc::now() + chrono::TimeDelta::seconds(3600));
        let tokens = EncryptedTokens {
            access: Some(seal(&response.access_token)?),
            // Google rotates refresh tokens only sometimes: keep the old one otherwise.
            refresh: Some(match &response.refresh_token {
                Some(rotated) => seal(rotated)?,
                None => sealed_refresh,
            }),
            expires_at: Some(expires_at),
        };
        repo::update_tokens(db, self.connection_id, tokens)
            .await
            .map_err(|e| GoogleError::token_source("the refreshed token could not be stored", e))?;
        tracing::info!(connection_id = %self.connection_id, "Google access token refreshed");
        Ok(AccessToken::new(response.access_token).with_expires_at(expires_at))
    }
}

impl TokenSource for StoredTokens {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.current())
    }

    fn invalidate(&self, rejected: &AccessToken) -> bool {
        *self.rejected.lock().unwrap_or_else(PoisonError::into_inner) = Some(rejected.clone());
        true
    }
}

/// Whether a connection is marked as needing a new consent.
pub async fn needs_reauth(db: &Database, connection_id: Uuid) -> bool {
    repo::find_connection_by_id(db.conn(), connection_id)
        .await
        .is_ok_and(|connection| connection.status == ConnectionStatus::NeedsReauth)
}

/// Marks a connection as needing a new consent; its sync stops until then.
pub async fn mark_needs_reauth(db: &Database, connection_id: Uuid, why: &str) {
    if let Err(error) =
        repo::set_status(db.conn(), connection_id, ConnectionStatus::NeedsReauth, Some(why.to_owned())).await
    {
        tracing::error!(connection_id = %connection_id, error = %error, "could not mark the connection");
    }
}
