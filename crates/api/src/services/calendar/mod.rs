//! Calendars: the built-in one every user has, and Google Calendar through `planwright-calendar`
//! (OAuth connection with encrypted tokens, sync, push channels, events).

pub mod calendars;
pub mod connect;
pub mod events;
pub mod google;
pub mod mapping;
pub mod replan;
pub mod schedule;
pub mod sync;
pub mod target;
pub mod tokens;

use chrono::{TimeDelta, Utc};
use planwright_calendar::Error as GoogleError;
use planwright_domain::{CalendarConnection, CalendarProvider, WritesPaused};
use planwright_store::repo::calendar as repo;
use uuid::Uuid;

pub use self::google::{CalendarServices, GoogleCalendar};
use crate::{
    error::{ApiError, Missing, not_found},
    state::AppState,
};

/// The caller's connections, the built-in calendar first (created on first use).
pub async fn list_connections(state: &AppState, user_id: Uuid) -> Result<Vec<CalendarConnection>, ApiError> {
    repo::ensure_local(state.db.conn(), user_id).await?;
    Ok(repo::list_connections(state.db.conn(), user_id).await?)
}

/// Disconnects a Google calendar: the grant is revoked at Google (best effort: a connection
/// Google already forgot still goes), its push channel stopped, and the row with its tokens and
/// synced events deleted. The built-in calendar cannot be removed (409).
pub async fn delete_connection(state: &AppState, user_id: Uuid, id: Uuid) -> Result<(), ApiError> {
    let connection = repo::find_connection(state.db.conn(), user_id, id)
        .await
        .map_err(not_found(Missing::CalendarConnection))?;
    if connection.provider == CalendarProvider::Local {
        return Err(ApiError::Conflict {
            code: "local_calendar",
            detail: "The built-in calendar belongs to every account and cannot be removed.".to_owned(),
        });
    }
    release_at_google(state, &connection).await;
    repo::delete_connection(state.db.conn(), user_id, id)
        .await
        .map_err(not_found(Missing::CalendarConnection))
}

/// Stops a connection's push channels (the target's and every busy calendar's) and revokes its
/// grant at Google. Failures are logged, not returned: the person asked to be disconnected, and
/// the local side goes regardless.
pub async fn release_at_google(state: &AppState, connection: &CalendarConnection) {
    let Some(google) = state.calendar.google.as_deref() else { return };
    let mut channels: Vec<_> = connection.channel.iter().cloned().collect();
    match repo::busy_calendars(state.db.conn(), connection.id).await {
        Ok(busy) => channels.extend(busy.into_iter().filter_map(|calendar| calendar.channel)),
        Err(error) => {
            tracing::warn!(connection_id = %connection.id, error = %error, "could not read the busy calendars")
        }
    }
    if !channels.is_empty() {
        let client = google.client_for(&state.db, &state.calendar.cipher, connection.id);
        for channel in channels {
            if let Err(error) = client.channels().stop(&channel.id, &channel.resource_id).await {
                tracing::warn!(connection_id = %connection.id, error = %error, "could not stop a push channel");
            }
        }
    }
    let token = connection.tokens.refresh.as_ref().or(connection.tokens.access.as_ref());
    match token.map(|sealed| state.calendar.cipher.open(sealed)) {
        Some(Ok(token)) => {
            if let Err(error) = google.oauth().revoke(&token).await {
                tracing::warn!(connection_id = %connection.id, error = %error, "could not revoke the Google grant");
            }
        }
        Some(Err(error)) => {
            tracing::warn!(connection_id = %connection.id, error = %error, "stored token cannot be opened");
        }
        None => {}
    }
}

/// Revokes every Google grant of a user who is deleting their account.
pub async fn release_all(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    for connection in repo::list_connections(state.db.conn(), user_id).await? {
        if connection.provider == CalendarProvider::Google {
            release_at_google(state, &connection).await;
        }
    }
    Ok(())
}

/// The caller's Google connection to act on: the one named, or their first Google connection.
pub(crate) fn require_google(state: &AppState) -> Result<&GoogleCalendar, ApiError> {
    state
        .calendar
        .google
        .as_deref()
        .ok_or_else(|| ApiError::Unavailable("Google Calendar is not configured on this server.".to_owned()))
}

/// How long Google's usage limits stop writes to a connection (`calendar.write_pause_secs`).
pub fn write_pause(state: &AppState) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(state.settings.calendar.write_pause_secs).unwrap_or(i64::MAX / 1000))
}

/// Whether Google's usage limits still stop writes to `connection`.
pub(crate) fn writes_paused(state: &AppState, connection: &CalendarConnection) -> bool {
    connection.writes_paused.as_ref().is_some_and(|paused| paused.holds(write_pause(state), Utc::now()))
}

/// The 503 answered while Google's usage limits stop writes to a calendar.
pub(crate) fn writes_paused_error(paused: &WritesPaused, cooldown: TimeDelta) -> ApiError {
    let until = paused.until(cooldown).format("%Y-%m-%d %H:%M UTC");
    ApiError::Unavailable(format!(
        "Google Calendar's usage limits for this account were reached, so Planwright stopped writing to \
         this calendar; writes resume after {until}. Nothing was changed."
    ))
}

/// What a Google failure means for the person waiting. A 401 that survived a token refresh and
/// a dead refresh token (`invalid_grant`) mark the connection `needs_reauth` and answer 409.
/// Google's Calendar usage limits (`quotaExceeded`) stop writes to the connection for
/// `calendar.write_pause_secs` and answer 503.
pub(crate) async fn google_error(state: &AppState, connection_id: Uuid, error: GoogleError) -> ApiError {
    tracing::warn!(connection_id = %connection_id, error = %error, "Google Calendar call failed");
    if error.is_usage_limit_exceeded() {
        let message = match &error {
            GoogleError::Forbidden { message, .. } => message.trim().to_owned(),
            _ => String::new(),
        };
        let paused = WritesPaused { at: Utc::now(), detail: format!("Google Calendar answered: {message}") };
        if let Err(store) =
            repo::set_writes_paused(state.db.conn(), connection_id, Some(paused.clone())).await
        {
            tracing::warn!(error = %store, "could not record that Google's usage limits stopped writes");
        }
        return writes_paused_error(&paused, write_pause(state));
    }
    match error {
        GoogleError::Unauthorized { .. } | GoogleError::InvalidGrant { .. } => {
            tokens::mark_needs_reauth(
                &state.db,
                connection_id,
                "Google no longer accepts this connection's grant.",
            )
            .await;
            ApiError::calendar_needs_reauth()
        }
        GoogleError::TokenSource { .. } => match tokens::needs_reauth(&state.db, connection_id).await {
            true => ApiError::calendar_needs_reauth(),
            false => ApiError::Unavailable(
                "Google's sign-in service did not answer. Please try again in a minute.".to_owned(),
            ),
        },
        GoogleError::Forbidden { reason, .. } => {
            ApiError::BadGateway(format!("Google Calendar refused the request ({reason})."))
        }
        GoogleError::NotFound { .. } => {
            ApiError::BadGateway("Google Calendar does not know this calendar or event.".to_owned())
        }
        GoogleError::RateLimited { .. } => ApiError::Unavailable(
            "Google Calendar is rate limiting requests right now. Please try again in a minute.".to_owned(),
        ),
        GoogleError::Timeout => {
            ApiError::GatewayTimeout("Google Calendar did not answer in time. Please try again.".to_owned())
        }
        GoogleError::Transport(_) => {
            ApiError::Unavailable("Google Calendar cannot be reached right now.".to_owned())
        }
        GoogleError::Api { status, message, .. } if status.as_u16() == 400 => {
            let field = field_named_in(&message);
            ApiError::Validation(planwright_domain::ValidationErrors::from_iter([
                planwright_domain::FieldError::new(field, format!("Google Calendar refused it: {message}")),
            ]))
        }
        GoogleError::Api { status, .. } if status.is_server_error() => ApiError::Unavailable(
            "Google Calendar is having problems right now. Please try again.".to_owned(),
        ),
        _ => ApiError::BadGateway("Google Calendar gave an answer that could not be used.".to_owned()),
    }
}

/// The request field a Google 400 message is about (Google names its own fields in prose).
fn field_named_in(message: &str) -> &'static str {
    let message = message.to_lowercase();
    if message.contains("time zone") || message.contains("timezone") {
        "time_zone"
    } else if message.contains("start") {
        "start"
    } else if message.contains("end") || message.contains("time range") {
        "end"
    } else if message.contains("summary") {
        "summary"
    } else if message.contains("description") {
        "description"
    } else {
        "body"
    }
}
