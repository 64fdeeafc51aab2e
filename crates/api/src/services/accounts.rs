//! Accounts: registration, login, token rotation, logout and the profile.

use chrono::{Duration, Utc};
use planwright_domain::{DisplayName, Email, NewUser, Password, TimeZone, User, UserChanges, WorkingHours};
use planwright_store::{StoreError, repo};
use uuid::Uuid;

use crate::{
    error::ApiError,
    services::{
        credentials::{hash_token, new_refresh_token},
        rate_limit::Subject,
    },
    state::AppState,
};

/// A signed-in session: a short-lived access token and the refresh token that renews it.
#[derive(Debug, Clone)]
pub struct Session {
    /// JWT for the `Authorization: Bearer` header.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque token for `POST /auth/refresh`; shown once, stored only as a hash.
    pub refresh_token: String,
    /// The account.
    pub user: User,
}

/// A validated registration.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Login address.
    pub email: Email,
    /// The new password.
    pub password: Password,
    /// Optional display name.
    pub name: Option<DisplayName>,
    /// Time zone, `UTC` when not given.
    pub timezone: TimeZone,
    /// Working hours, the default when not given.
    pub working_hours: WorkingHours,
}

fn invalid_credentials() -> ApiError {
    ApiError::Unauthorized {
        code: "invalid_credentials",
        detail: "The email or password is wrong.".to_owned(),
    }
}

/// Creates an account and signs it in.
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    registration: Registration,
    client_ip: &str,
) -> Result<Session, ApiError> {
    state.rate_limiter.check("register", Subject::Ip(client_ip)).await?;
    state.rate_limiter.check("register", Subject::Account(registration.email.as_str())).await?;
    let password_hash = state.passwords.hash(registration.password).await.map_err(ApiError::internal)?;
    let new_user = NewUser {
        email: registration.email,
        password_hash,
        name: registration.name,
        timezone: registration.timezone,
        working_hours: registration.working_hours,
    };
    let user = repo::users::create(state.db.conn(), new_user).await.map_err(|e| match e {
        StoreError::Conflict(_) => ApiError::Conflict {
            code: "email_taken",
            detail: "An account with this email already exists. Log in instead.".to_owned(),
        },
        other => other.into(),
    })?;
    tracing::info!(user_id = %user.id, "account registered");
    // Every account has the built-in calendar from the start.
    repo::calendar::ensure_local(state.db.conn(), user.id).await?;
    start_session(state, user, Uuid::now_v7()).await
}

/// Checks an email and password and signs the account in. Unknown emails and wrong passwords get
/// the same answer, after the same work.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: String,
    client_ip: &str,
) -> Result<Session, ApiError> {
    state.rate_limiter.check("login", Subject::Ip(client_ip)).await?;
    let account_key = email.trim().to_lowercase();
    state.rate_limiter.check("login", Subject::Account(&account_key)).await?;
    let credentials = match Email::parse(email) {
        Ok(email) => match repo::users::find_credentials(state.db.conn(), &email).await {
            Ok(found) => Some(found),
            Err(StoreError::NotFound) => None,
            Err(other) => return Err(other.into()),
        },
        Err(_) => None,
    };
    let hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let matched = state.passwords.verify(password, hash).await.map_err(ApiError::internal)?;
    match credentials {
        Some(credentials) if matched => start_session(state, credentials.user, Uuid::now_v7()).await,
        _ => Err(invalid_credentials()),
    }
}

/// Trades a refresh token for a new pair. The old token is spent; presenting a spent token
/// again revokes every token of its login, because it has leaked.
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, refresh_token: &str, client_ip: &str) -> Result<Session, ApiError> {
    state.rate_limiter.check("refresh", Subject::Ip(client_ip)).await?;
    let refused = |code, detail: &str| ApiError::Unauthorized { code, detail: detail.to_owned() };
    let record = match repo::refresh_tokens::find_by_hash(state.db.conn(), &hash_token(refresh_token)).await {
        Ok(record) => record,
        Err(StoreError::NotFound) => {
            return Err(refused("invalid_refresh_token", "The refresh token is not valid. Log in again."));
        }
        Err(other) => return Err(other.into()),
    };
    state.rate_limiter.check("refresh", Subject::Account(&record.user_id.to_string())).await?;
    let now = Utc::now();
    let reused = || async {
        let revoked =
            repo::refresh_tokens::revoke_family(state.db.conn(), record.user_id, record.family_id, now)
                .await?;
        tracing::warn!(user_id = %record.user_id, revoked, "spent refresh token presented again; its family is revoked");
        Err::<Session, ApiError>(refused(
            "refresh_token_reused",
            "This refresh token was already used, so every session of that login has been signed out. Log in again.",
        ))
    };
    if record.revoked_at.is_some() {
        return reused().await;
    }
    if record.expires_at <= now {
        return Err(refused("refresh_token_expired", "The refresh token has expired. Log in again."));
    }
    let user = repo::users::find(state.db.conn(), record.user_id).await?;
    let (refresh_token, refresh_hash) = new_refresh_token();
    let expires_at = refresh_expiry(state, now);
    if repo::refresh_tokens::rotate(state.db.conn(), &record, &refresh_hash, expires_at, now).await?.is_none()
    {
        return reused().await;
    }
    with_access_token(state, user, refresh_token)
}

/// Signs out the login that `refresh_token` belongs to, if it is the caller's. Idempotent.
#[tracing::instrument(skip(state, refresh_token))]
pub async fn logout(state: &AppState, user_id: Uuid, refresh_token: &str) -> Result<(), ApiError> {
    match repo::refresh_tokens::find_by_hash(state.db.conn(), &hash_token(refresh_token)).await {
        Ok(record) if record.user_id == user_id => {
            repo::refresh_tokens::revoke_family(state.db.conn(), user_id, record.family_id, Utc::now())
                .await?;
            Ok(())
        }
        Ok(_) | Err(StoreError::NotFound) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

/// The caller's profile.
pub async fn profile(state: &AppState, user_id: Uuid) -> Result<User, ApiError> {
    repo::users::find(state.db.conn(), user_id).await.map_err(account_gone)
}

/// Applies a partial profile update.
pub async fn update_profile(state: &AppState, user_id: Uuid, changes: UserChanges) -> Result<User, ApiError> {
    repo::users::update(state.db.conn(), user_id, changes).await.map_err(account_gone)
}

/// Deletes the account and everything it owns.
#[tracing::instrument(skip(state))]
pub async fn delete_account(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    // Google grants are revoked first: once the rows are gone, so are the tokens to revoke with.
    crate::services::calendar::release_all(state, user_id).await?;
    repo::users::delete(state.db.conn(), user_id).await.map_err(account_gone)?;
    state.known_accounts.forget(user_id);
    tracing::info!(%user_id, "account deleted");
    Ok(())
}

fn account_gone(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound => ApiError::unauthorized("The account of this token no longer exists."),
        other => other.into(),
    }
}

async fn start_session(state: &AppState, user: User, family_id: Uuid) -> Result<Session, ApiError> {
    if rand::random::<u16>().is_multiple_of(SWEEP_ONE_IN) {
        // Expired tokens can never be used again; sweeping them now and then on login keeps the
        // table small without a scheduler. Reuse detection only needs unexpired tokens.
        if let Err(error) = repo::refresh_tokens::delete_expired(state.db.conn(), Utc::now()).await {
            tracing::warn!(error = %error, "sweeping expired refresh tokens failed");
        }
    }
    let (refresh_token, refresh_hash) = new_refresh_token();
    let expires_at = refresh_expiry(state, Utc::now());
    repo::refresh_tokens::insert(state.db.conn(), user.id, family_id, &refresh_hash, expires_at).await?;
    with_access_token(state, user, refresh_token)
}

fn refresh_expiry(state: &AppState, now: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    now + Duration::days(state.settings.auth.refresh_token_ttl_days)
}

/// Completes a session whose refresh token is stored: signs the access token.
fn with_access_token(state: &AppState, user: User, refresh_token: String) -> Result<Session, ApiError> {
    let access_token = state.tokens.issue(user.id).map_err(ApiError::internal)?;
    Ok(Session { access_token, expires_in: state.tokens.ttl_secs(), refresh_token, user })
}

/// On average, one login in this many sweeps expired refresh tokens.
const SWEEP_ONE_IN: u16 = 256;
