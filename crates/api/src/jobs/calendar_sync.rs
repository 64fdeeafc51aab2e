//! Calendar sync in the background: periodically (every `calendar.sync_interval_secs` plus
//! jitter, each active Google connection whose last sync is older than the interval is synced and
//! its push channel renewed when it is about to end; expired OAuth states are pruned on the way),
//! right after a connection is made, and after a push notification (again after the running sync,
//! when one was running).

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use planwright_domain::CalendarConnection;
use planwright_store::repo::{calendar as repo, leases, oauth_states};
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

/// In the background after a connection is made (or its calendars chosen): a sync (the first,
/// full one for a calendar new to it), then its push channels. Calendars chosen while the first
/// sync still runs are synced once it ends (see [`sync_now_or_after`]).
pub fn after_connect(state: AppState, connection_id: Uuid) {
    tokio::spawn(async move {
        let Ok(connection) = repo::find_connection_by_id(state.db.conn(), connection_id).await else {
            return;
        };
        let report = sync_now_or_after(&state, &connection).await;
        tracing::info!(connection_id = %connection_id, status = ?report.status, "first sync after connecting");
        channels::ensure_channel(&state, connection_id).await;
    });
}

/// In the background after a push notification: an incremental sync of the connection (see
/// [`sync_now_or_after`]).
pub fn sync_in_background(state: AppState, connection: CalendarConnection) {
    tokio::spawn(async move {
        let report = sync_now_or_after(&state, &connection).await;
        tracing::info!(connection_id = %connection.id, status = ?report.status, "sync after push notification");
    });
}

/// Syncs the connection now, or, when another sync runs, once that one ends: the running sync
/// may have read past the change that asked for this one (a push, or calendars just chosen), so
/// one waiter per connection syncs again (see [`sync_after_running`]).
async fn sync_now_or_after(state: &AppState, connection: &CalendarConnection) -> sync::SyncReport {
    let report = sync::sync_connection(state, connection).await;
    if report.status == sync::SyncStatus::InProgress
        && let Some(again) = sync_after_running(state, connection).await
    {
        return again;
    }
    report
}

/// How long a waiter sleeps between looks at the running sync.
const RESYNC_POLL: Duration = Duration::from_millis(100);
/// How many looks before a waiter gives up (the periodic sync catches up then).
const RESYNC_ATTEMPTS: u32 = 3000;

/// Syncs the connection again once the running sync has ended, unless another push already
/// waits for that (a lease per connection, across replicas): a burst of pushes during one sync
/// leads to one more sync, not one each. `None` when another waiter took over.
async fn sync_after_running(state: &AppState, connection: &CalendarConnection) -> Option<sync::SyncReport> {
    let db = state.db.conn();
    let name = format!("calendar-resync:{}", connection.id);
    let holder = Uuid::now_v7().to_string();
    let take = || async {
        let now = Utc::now();
        matches!(leases::acquire(db, &name, &holder, now, now + TimeDelta::minutes(1)).await, Ok(true))
    };
    if !take().await {
        return None;
    }
    for _ in 0..RESYNC_ATTEMPTS {
        tokio::time::sleep(RESYNC_POLL).await;
        // Given back before syncing: a push during this sync needs one more after it.
        if let Err(error) = leases::release(db, &name, &holder).await {
            tracing::warn!(error = %error, "could not release the re-sync mark");
        }
        let report = sync::sync_connection(state, connection).await;
        if report.status != sync::SyncStatus::InProgress {
            return Some(report);
        }
        if !take().await {
            return None;
        }
    }
    if let Err(error) = leases::release(db, &name, &holder).await {
        tracing::warn!(error = %error, "could not release the re-sync mark");
    }
    None
}
