//! Calendar sync in the background: periodically (every `calendar.sync_interval_secs` plus
//! jitter, each active Google connection whose last sync is older than the interval is synced and
//! its push channel renewed when it is about to end; expired OAuth states are pruned on the way),
//! right after a connection is made, and after a push notification.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use planwright_domain::CalendarConnection;
use planwright_store::repo::{calendar as repo, oauth_states};
use rand::Rng;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::channels;
use crate::{services::calendar::sync, state::AppState};

/// Starts the loop when background sync is on (and Google is configured); the handle stops it.
pub fn spawn(state: AppState) -> Option<JoinHandle<()>> {
    let interval = state.settings.calendar.sync_interval_secs;
    if interval == 0 || state.calendar.google.is_none() {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            let jitter = rand::thread_rng().gen_range(0..=state.settings.calendar.sync_jitter_secs);
            tokio::time::sleep(Duration::from_secs(interval.saturating_add(jitter))).await;
            run_once(&state).await;
        }
    }))
}

/// One pass: sync the connections that are due, renew their channels, prune old states.
pub async fn run_once(state: &AppState) {
    let now = Utc::now();
    let interval =
        TimeDelta::seconds(i64::try_from(state.settings.calendar.sync_interval_secs).unwrap_or(i64::MAX));
    if let Err(error) = oauth_states::prune(state.db.conn(), now).await {
        tracing::warn!(error = %error, "could not prune OAuth states");
    }
    let connections = match repo::active_google_connections(state.db.conn()).await {
        Ok(connections) => connections,
        Err(error) => {
            tracing::warn!(error = %error, "background sync could not list connections");
            return;
        }
    };
    for connection in connections {
        let due = connection.last_synced_at.is_none_or(|at| now - at >= interval);
        if due {
            let report = sync::sync_connection(state, &connection).await;
            tracing::debug!(connection_id = %connection.id, status = ?report.status, "background sync");
        }
        channels::ensure_channel(state, connection.id).await;
    }
}

/// In the background after a connection is made: the first full sync, then a push channel.
pub fn after_connect(state: AppState, connection_id: Uuid) {
    tokio::spawn(async move {
        let Ok(connection) = repo::find_connection_by_id(state.db.conn(), connection_id).await else {
            return;
        };
        let report = sync::sync_connection(&state, &connection).await;
        tracing::info!(connection_id = %connection_id, status = ?report.status, "first sync after connecting");
        channels::ensure_channel(&state, connection_id).await;
    });
}

/// In the background after a push notification: an incremental sync of the connection.
pub fn sync_in_background(state: AppState, connection: CalendarConnection) {
    tokio::spawn(async move {
        let report = sync::sync_connection(&state, &connection).await;
        tracing::info!(connection_id = %connection.id, status = ?report.status, "sync after push notification");
    });
}
