//! Push channels: each active Google connection's channel is opened after connecting and renewed
//! before it ends, so Google notifies `POST /calendar/google/notifications` of every change.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{TimeDelta, Utc};
use planwright_calendar::WatchRequest;
use planwright_domain::{CalendarProvider, ConnectionStatus, WatchChannel};
use planwright_store::repo::calendar as repo;
use rand::RngCore;
use uuid::Uuid;

use crate::{
    services::{calendar::require_google, credentials::hash_token},
    state::AppState,
};

/// A channel is renewed when it has less than this left.
const CHANNEL_RENEW_BEFORE: TimeDelta = TimeDelta::days(1);

/// Opens (or renews, a day before it ends) the connection's push channel, when a webhook URL is
/// configured. The old channel is stopped after the new one is open, so no change goes unseen.
pub async fn ensure_channel(state: &AppState, connection_id: Uuid) {
    let Some(address) = state.settings.calendar.webhook_url.clone().filter(|url| !url.trim().is_empty())
    else {
        return;
    };
    let Ok(google) = require_google(state) else { return };
    let Ok(connection) = repo::find_connection_by_id(state.db.conn(), connection_id).await else { return };
    if connection.provider != CalendarProvider::Google || connection.status != ConnectionStatus::Active {
        return;
    }
    // Renew a day before the end (or half-way, for channels shorter than two days).
    let ttl_hours = i64::from(state.settings.calendar.channel_ttl_hours.max(1));
    let renew_before = CHANNEL_RENEW_BEFORE.min(TimeDelta::hours(ttl_hours) / 2);
    if connection.channel.as_ref().is_some_and(|c| c.expires_at - renew_before > Utc::now()) {
        return;
    }
    let mut random = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut random);
    let token = URL_SAFE_NO_PAD.encode(random);
    let ttl = std::time::Duration::from_secs(u64::from(state.settings.calendar.channel_ttl_hours) * 3600);
    let request =
        WatchRequest::new(Uuid::new_v4().to_string(), address).with_token(token.clone()).with_ttl(ttl);
    let client = google.client_for(&state.db, &state.calendar.cipher, connection_id);
    let channel = match client.events().watch(&connection.calendar_id, &request).await {
        Ok(channel) => channel,
        Err(error) => {
            tracing::warn!(connection_id = %connection_id, error = %error, "could not open a push channel");
            return;
        }
    };
    let stored = WatchChannel {
        id: channel.id.clone(),
        resource_id: channel.resource_id.clone(),
        token_hash: hash_token(&token),
        expires_at: channel.expiration.unwrap_or_else(|| Utc::now() + TimeDelta::hours(1)),
    };
    if let Err(error) = repo::set_channel(state.db.conn(), connection_id, Some(stored)).await {
        tracing::error!(error = %error, "could not store the push channel");
        return;
    }
    if let Some(old) = connection.channel
        && let Err(error) = client.channels().stop(&old.id, &old.resource_id).await
    {
        tracing::warn!(error = %error, "could not stop the replaced push channel");
    }
    tracing::info!(connection_id = %connection_id, channel_id = %channel.id, "push channel open");
}
