//! Connecting Google Calendar: the authorization URL (PKCE S256, a random single-use `state`
//! bound to the user and stored hashed for ten minutes, the verifier sealed) and the callback
//! (state checked, code exchanged, granted scopes checked, tokens sealed and stored).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{TimeDelta, Utc};
use planwright_calendar::{AuthorizationRequest, CalendarListParams, scopes};
use planwright_domain::{EncryptedTokens, FieldError, ValidationErrors};
use planwright_store::repo::{
    calendar as repo,
    oauth_states::{self, PendingAuthorization},
};
use rand::RngCore;
use secrecy::ExposeSecret;
use url::Url;
use uuid::Uuid;

use super::{GoogleCalendar, require_google};
use crate::{error::ApiError, services::credentials::hash_token, state::AppState};

/// How long a consent screen may stay open.
const STATE_TTL: TimeDelta = TimeDelta::minutes(10);
/// The scopes a connection cannot work without: reading and writing events.
const REQUIRED_SCOPES: &[&str] = &[scopes::CALENDAR_EVENTS];

/// The URL of Google's consent screen for the caller; afterwards Google sends the browser to the
/// callback, which redirects to `redirect_to` (a configured frontend origin; the first one when
/// left out).
pub async fn authorize(
    state: &AppState,
    user_id: Uuid,
    redirect_to: Option<&str>,
) -> Result<String, ApiError> {
    let google = require_google(state)?;
    let redirect_to = allowed_redirect(google, redirect_to)?;
    let mut random = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut random);
    let state_token = URL_SAFE_NO_PAD.encode(random);
    let authorization = google.oauth().authorization_url(
        &AuthorizationRequest::new(scopes::RECOMMENDED.iter().copied()).with_state(&state_token),
    );
    let verifier = state
        .calendar
        .cipher
        .seal(authorization.pkce_verifier.expose_secret())
        .map_err(ApiError::internal)?;
    oauth_states::create(
        state.db.conn(),
        &hash_token(&state_token),
        PendingAuthorization {
            user_id,
            pkce_verifier_enc: verifier,
            redirect_to: redirect_to.to_string(),
            expires_at: Utc::now() + STATE_TTL,
        },
    )
    .await?;
    Ok(authorization.url)
}

/// What Google's redirect carried.
#[derive(Debug, Default)]
pub struct Callback {
    /// The authorization code, on consent.
    pub code: Option<String>,
    /// The `state` we sent.
    pub state: Option<String>,
    /// Google's error (`access_denied`), when the person declined.
    pub error: Option<String>,
}

/// Finishes a connection and returns where to send the browser, with the connection made (its
/// first sync is `jobs::calendar_sync::after_connect`'s): the frontend with
/// `?calendar=connected`, or `?calendar=error&reason=...` (`invalid_state`, `expired`,
/// `access_denied`, `scope_denied`, `exchange_failed`). Never fails: the person always lands on
/// the frontend.
pub async fn callback(state: &AppState, callback: Callback) -> (String, Option<Uuid>) {
    let Ok(google) = require_google(state) else {
        return (with_outcome(None, Err("not_configured")), None);
    };
    let fallback = default_origin(google);
    let pending = match callback.state.as_deref() {
        Some(token) if !token.is_empty() => oauth_states::take(state.db.conn(), &hash_token(token)).await,
        _ => Ok(None),
    };
    let pending = match pending {
        Ok(Some(pending)) => pending,
        Ok(None) => return (with_outcome(fallback.as_ref(), Err("invalid_state")), None),
        Err(error) => {
            tracing::error!(error = %error, "the OAuth state could not be read");
            return (with_outcome(fallback.as_ref(), Err("server_error")), None);
        }
    };
    let target = Url::parse(&pending.redirect_to).ok().or(fallback);
    let target = target.as_ref();
    if pending.expires_at < Utc::now() {
        return (with_outcome(target, Err("expired")), None);
    }
    if let Some(error) = callback.error {
        let reason = if error == "access_denied" { "access_denied" } else { "google_error" };
        return (with_outcome(target, Err(reason)), None);
    }
    let Some(code) = callback.code.filter(|code| !code.is_empty()) else {
        return (with_outcome(target, Err("missing_code")), None);
    };
    match connect(state, google, pending.user_id, &pending.pkce_verifier_enc, &code).await {
        Ok(connection_id) => (with_outcome(target, Ok(())), Some(connection_id)),
        Err(reason) => (with_outcome(target, Err(reason)), None),
    }
}

async fn connect(
    state: &AppState,
    google: &GoogleCalendar,
    user_id: Uuid,
    sealed_verifier: &str,
    code: &str,
) -> Result<Uuid, &'static str> {
    let cipher = &state.calendar.cipher;
    let verifier = cipher.open(sealed_verifier).map_err(|error| {
        tracing::error!(error = %error, "the PKCE verifier cannot be opened");
        "server_error"
    })?;
    let tokens = google.oauth().exchange_code(code, &verifier).await.map_err(|error| {
        tracing::warn!(error = %error, "Google refused the authorization code");
        "exchange_failed"
    })?;
    let granted = tokens.scopes.clone().unwrap_or_default();
    let has_full = granted.iter().any(|scope| scope == scopes::CALENDAR);
    if !has_full && !tokens.has_scopes(REQUIRED_SCOPES) {
        // The person unticked calendar access: connect nothing, and give the grant back.
        tracing::info!(granted = ?granted, "calendar scope not granted; not connecting");
        let _revoked = google.oauth().revoke(&tokens.access_token).await;
        return Err("scope_denied");
    }
    let seal = |secret: &secrecy::SecretString| {
        cipher.seal(secret.expose_secret()).map_err(|error| {
            tracing::error!(error = %error, "a token cannot be sealed");
            "server_error"
        })
    };
    let sealed = EncryptedTokens {
        access: Some(seal(&tokens.access_token)?),
        refresh: tokens.refresh_token.as_ref().map(seal).transpose()?,
        expires_at: Some(tokens.expires_at.unwrap_or_else(|| Utc::now() + TimeDelta::seconds(3600))),
    };
    // The primary calendar's id is the account's email.
    let client = google.client_for_token(tokens.access());
    let email = match client.calendar_list().list_all(&CalendarListParams::new()).await {
        Ok(entries) => entries.into_iter().find(|entry| entry.primary).map(|entry| entry.id),
        Err(error) => {
            tracing::warn!(error = %error, "could not read the calendar list; connecting without the email");
            None
        }
    };
    let connection =
        repo::upsert_google(state.db.conn(), user_id, email, "primary", sealed, granted.join(" "))
            .await
            .map_err(|error| {
                tracing::error!(error = %error, "the connection could not be stored");
                "server_error"
            })?;
    tracing::info!(connection_id = %connection.id, "Google Calendar connected");
    Ok(connection.id)
}

/// `redirect_to` when it is on a configured frontend origin (else 422), or the first origin.
fn allowed_redirect(google: &GoogleCalendar, redirect_to: Option<&str>) -> Result<Url, ApiError> {
    let invalid = || {
        ApiError::Validation(ValidationErrors::from_iter([FieldError::new(
            "redirect_to",
            "redirect_to must be a URL on one of the configured frontend origins.",
        )]))
    };
    let Some(raw) = redirect_to.filter(|raw| !raw.trim().is_empty()) else {
        return default_origin(google).ok_or_else(invalid);
    };
    let url = Url::parse(raw.trim()).map_err(|_| invalid())?;
    let origin = url.origin().ascii_serialization();
    let allowed = google
        .settings()
        .frontend_origins
        .iter()
        .filter_map(|o| Url::parse(o).ok())
        .any(|o| o.origin().ascii_serialization() == origin);
    if allowed { Ok(url) } else { Err(invalid()) }
}

fn default_origin(google: &GoogleCalendar) -> Option<Url> {
    google.settings().frontend_origins.iter().find_map(|origin| Url::parse(origin).ok())
}

/// `target` with `calendar=connected`, or `calendar=error&reason=...` (a relative URL when no
/// frontend origin is configured).
fn with_outcome(target: Option<&Url>, outcome: Result<(), &str>) -> String {
    let Some(target) = target else {
        return match outcome {
            Ok(()) => "/?calendar=connected".to_owned(),
            Err(reason) => format!("/?calendar=error&reason={reason}"),
        };
    };
    let mut url = target.clone();
    {
        let mut query = url.query_pairs_mut();
        match outcome {
            Ok(()) => {
                query.append_pair("calendar", "connected");
            }
            Err(reason) => {
                query.append_pair("calendar", "error").append_pair("reason", reason);
            }
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_added_to_the_frontend_url() {
        let url = Url::parse("https://app.example.com/settings?tab=calendar").unwrap();
        assert_eq!(
            with_outcome(Some(&url), Ok(())),
            "https://app.example.com/settings?tab=calendar&calendar=connected"
        );
        assert_eq!(
            with_outcome(Some(&url), Err("scope_denied")),
            "https://app.example.com/settings?tab=calendar&calendar=error&reason=scope_denied"
        );
        assert_eq!(with_outcome(None, Err("expired")), "/?calendar=error&reason=expired");
    }

    #[test]
    fn states_are_stored_as_hashes() {
        assert_eq!(hash_token("abc").len(), 64);
        assert_ne!(hash_token("abc"), "abc");
    }
}
