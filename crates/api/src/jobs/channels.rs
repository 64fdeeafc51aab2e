//! Push channels: each active Google connection's calendars (the target and every other one that
//! counts as busy time) are watched by a channel opened after connecting (or choosing the
//! calendar) and renewed before it ends, so Google notifies `POST /calendar/google/notifications`
//! of every change.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{TimeDelta, Utc};
use planwright_calendar::{Client, WatchRequest};
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

/// Opens (or renews, a day before it ends) the push channels of the connection's calendars, when
/// a webhook URL is configured. An old channel is stopped after the new one is open, so no change
/// goes unseen.
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
    let client = google.client_for(&state.db, &state.calendar.cipher, connection_id);
    let watcher = Watcher { state, client: &client, address: &address };
    if let Some(stored) = watcher.open(&connection.target_calendar_id, connection.channel.as_ref()).await {
        if let Err(error) = repo::set_channel(state.db.conn(), connection_id, Some(stored)).await {
            tracing::error!(error = %error, "could not store the push channel");
        } else {
            watcher.stop_old(connection.channel.as_ref()).await;
        }
    }
    let busy = match repo::busy_calendars(state.db.conn(), connection_id).await {
        Ok(busy) => busy,
        Err(error) => {
            tracing::warn!(error = %error, "could not read the busy calendars");
            return;
        }
    };
    for calendar in busy {
        let Some(stored) = watcher.open(&calendar.calendar_id, calendar.channel.as_ref()).await else {
            continue;
        };
        match repo::set_calendar_channel(state.db.conn(), connection_id, &calendar.calendar_id, Some(stored))
            .await
        {
            Ok(()) => watcher.stop_old(calendar.channel.as_ref()).await,
            Err(error) => tracing::error!(error = %error, "could not store a busy calendar's push channel"),
        }
    }
}

/// Opens channels for one connection.
struct Watcher<'a> {
    state: &'a AppState,
    client: &'a Client,
    address: &'a str,
}

impl Watcher<'_> {
    /// A new channel on `calendar_id`, unless `current` has more than a day (or half its life)
    /// left; `None` also when Google refused (logged).
    async fn open(&self, calendar_id: &str, current: Option<&WatchChannel>) -> Option<WatchChannel> {
        let settings = &self.state.settings.calendar;
        // Renew a day before the end (or half-way, for channels shorter than two days).
        let ttl_hours = i64::from(settings.channel_ttl_hours.max(1));
        let renew_before = CHANNEL_RENEW_BEFORE.min(TimeDelta::hours(ttl_hours) / 2);
        if current.is_some_and(|c| c.expires_at - renew_before > Utc::now()) {
            return None;
        }
        let mut random = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut random);
        let token = URL_SAFE_NO_PAD.encode(random);
        let ttl = std::time::Duration::from_secs(u64::from(settings.channel_ttl_hours) * 3600);
        let request = WatchRequest::new(Uuid::new_v4().to_string(), self.address)
            .with_token(token.clone())
            .with_ttl(ttl);
        let channel = match self.client.events().watch(calendar_id, &request).await {
            Ok(channel) => channel,
            Err(error) => {
                tracing::warn!(calendar_id, error = %error, "could not open a push channel");
                return None;
            }
        };
        tracing::info!(calendar_id, channel_id = %channel.id, "push channel open");
        Some(WatchChannel {
            id: channel.id.clone(),
            resource_id: channel.resource_id.clone(),
            token_hash: hash_token(&token),
            expires_at: channel.expiration.unwrap_or_else(|| Utc::now() + TimeDelta::hours(1)),
        })
    }

    /// Stops a replaced channel (best effort).
    async fn stop_old(&self, old: Option<&WatchChannel>) {
        if let Some(old) = old
            && let Err(error) = self.client.channels().stop(&old.id, &old.resource_id).await
        {
            tracing::warn!(error = %error, "could not stop the replaced push channel");
        }
    }
}
