//! Keeping Google events in step: a full sync over the configured window, then incremental syncs
//! with Google's sync token (pages followed to the end, cancelled events removed, changed ones
//! updated in place, a 410 answered by a full sync that replaces the stored events only once it
//! has them all: a failed one leaves them as they were). One sync per connection at a time,
//! across replicas, through a database lease. Push channels (opened and renewed by
//! `jobs::channels`) make Google notify us whenever something changes; the sync they ask for runs
//! in the background (`jobs::calendar_sync`). A sync that brought changes asks for a re-plan
//! (`replan`).

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use planwright_calendar::{Client, Error as GoogleError, Event, EventListParams};
use planwright_domain::{CalendarConnection, CalendarProvider, ConnectionStatus};
use planwright_store::repo::{
    calendar::{self as repo, Applied, EventChange, Upserted},
    leases,
};
use serde::Serialize;
use uuid::Uuid;

use super::{GoogleCalendar, google_error, mapping::event_data, require_google, tokens};
use crate::{
    error::{ApiError, Missing, not_found},
    services::credentials::hash_token,
    state::AppState,
};

/// How long one sync may hold its lease.
const SYNC_LEASE: TimeDelta = TimeDelta::minutes(5);

/// How a sync of one connection went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Done.
    Ok,
    /// Another sync of this connection is running; this one was not started.
    InProgress,
    /// The connection needs a new consent; nothing was synced.
    NeedsReauth,
    /// Google failed; the error says how.
    Error,
}

/// The result of syncing one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The connection.
    pub connection_id: Uuid,
    /// How it went.
    pub status: SyncStatus,
    /// Events new here.
    pub added: u64,
    /// Events changed.
    pub updated: u64,
    /// Events removed.
    pub removed: u64,
    /// What went wrong, for people.
    pub error: Option<String>,
}

impl SyncReport {
    fn empty(connection_id: Uuid, status: SyncStatus) -> Self {
        Self { connection_id, status, added: 0, updated: 0, removed: 0, error: None }
    }
}

/// Syncs the caller's connections (or the one named; 404 when it is not theirs).
pub async fn sync_user(
    state: &AppState,
    user_id: Uuid,
    connection_id: Option<Uuid>,
) -> Result<Vec<SyncReport>, ApiError> {
    let connections = match connection_id {
        Some(id) => {
            vec![
                repo::find_connection(state.db.conn(), user_id, id)
                    .await
                    .map_err(not_found(Missing::CalendarConnection))?,
            ]
        }
        None => super::list_connections(state, user_id).await?,
    };
    let mut reports = Vec::with_capacity(connections.len());
    for connection in &connections {
        reports.push(sync_connection(state, connection).await);
    }
    Ok(reports)
}

/// Syncs one connection (the built-in calendar has nothing to fetch and reports `ok`).
#[tracing::instrument(skip_all, fields(connection_id = %connection.id))]
pub async fn sync_connection(state: &AppState, connection: &CalendarConnection) -> SyncReport {
    let id = connection.id;
    if connection.provider == CalendarProvider::Local {
        return SyncReport::empty(id, SyncStatus::Ok);
    }
    if connection.status != ConnectionStatus::Active {
        return SyncReport::empty(id, SyncStatus::NeedsReauth);
    }
    let Ok(google) = require_google(state) else {
        return SyncReport {
            error: Some("Google Calendar is not configured.".to_owned()),
            ..SyncReport::empty(id, SyncStatus::Error)
        };
    };
    let db = state.db.conn();
    let lease = format!("calendar-sync:{id}");
    let holder = Uuid::now_v7().to_string();
    let now = Utc::now();
    match leases::acquire(db, &lease, &holder, now, now + SYNC_LEASE).await {
        Ok(true) => {}
        Ok(false) => return SyncReport::empty(id, SyncStatus::InProgress),
        Err(error) => {
            return SyncReport { error: Some(error.to_string()), ..SyncReport::empty(id, SyncStatus::Error) };
        }
    }
    let report = run(state, google, connection).await;
    if let Err(error) = leases::release(db, &lease, &holder).await {
        tracing::warn!(error = %error, "could not release the sync lease");
    }
    report
}

async fn run(state: &AppState, google: &GoogleCalendar, connection: &CalendarConnection) -> SyncReport {
    let id = connection.id;
    let db = state.db.conn();
    // Re-read under the lease: the sync token may have moved since the caller looked.
    let connection = match repo::find_connection_by_id(db, id).await {
        Ok(connection) => connection,
        Err(error) => {
            return SyncReport { error: Some(error.to_string()), ..SyncReport::empty(id, SyncStatus::Error) };
        }
    };
    let client = google.client_for(&state.db, &state.calendar.cipher, id);
    let result = sync_all(state, &client, &connection).await;
    let at = Utc::now();
    match result {
        Ok(counts) => {
            if let Err(error) = repo::record_sync(db, id, Ok(counts.sync_token.clone()), at).await {
                tracing::error!(error = %error, "could not record the sync");
            }
            tracing::info!(
                added = counts.added,
                updated = counts.updated,
                removed = counts.removed,
                "synced"
            );
            if counts.added + counts.updated + counts.removed > 0 {
                super::replan::request(state, connection.user_id);
            }
            SyncReport {
                connection_id: id,
                status: SyncStatus::Ok,
                added: counts.added,
                updated: counts.updated,
                removed: counts.removed,
                error: None,
            }
        }
        Err(failure) => {
            let (status, message) = match failure {
                SyncFailure::Google(error) => {
                    let problem = google_error(state, id, error).await.problem();
                    let status = if tokens::needs_reauth(&state.db, id).await {
                        SyncStatus::NeedsReauth
                    } else {
                        SyncStatus::Error
                    };
                    (status, problem.detail)
                }
                SyncFailure::Store(error) => {
                    tracing::error!(error = %error, "sync could not store events");
                    (SyncStatus::Error, "The events could not be stored.".to_owned())
                }
            };
            if let Err(error) = repo::record_sync(db, id, Err(message.clone()), at).await {
                tracing::error!(error = %error, "could not record the sync");
            }
            SyncReport { error: Some(message), ..SyncReport::empty(id, status) }
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    added: u64,
    updated: u64,
    removed: u64,
    sync_token: Option<String>,
}

#[derive(Debug)]
enum SyncFailure {
    Google(GoogleError),
    Store(planwright_store::StoreError),
}

/// Syncs the target calendar, then every other calendar that counts as busy time, each with its
/// own sync token. The counts add up; the sync token returned is the target's (the others' are
/// recorded as each finishes).
async fn sync_all(
    state: &AppState,
    client: &Client,
    connection: &CalendarConnection,
) -> Result<Counts, SyncFailure> {
    let target = connection.target_calendar_id.as_str();
    let mut total = sync_calendar(state, client, connection, target, connection.sync_token.clone()).await?;
    let busy = repo::busy_calendars(state.db.conn(), connection.id).await.map_err(SyncFailure::Store)?;
    for calendar in busy {
        let calendar_id = calendar.calendar_id.as_str();
        let counts = match sync_calendar(state, client, connection, calendar_id, calendar.sync_token).await {
            Ok(counts) => counts,
            // The person left the calendar (or lost access to its events) at Google: it adds no
            // busy time until it can be read again. A quota or rate limit is not that.
            Err(SyncFailure::Google(GoogleError::NotFound { .. })) => {
                lost(state, connection, calendar_id).await?
            }
            Err(SyncFailure::Google(GoogleError::Forbidden { reason, .. }))
                if matches!(reason.as_str(), "forbidden" | "requiredAccessLevel") =>
            {
                lost(state, connection, calendar_id).await?
            }
            Err(failure) => return Err(failure),
        };
        repo::record_calendar_sync(state.db.conn(), connection.id, calendar_id, counts.sync_token)
            .await
            .map_err(SyncFailure::Store)?;
        total.added += counts.added;
        total.updated += counts.updated;
        total.removed += counts.removed;
    }
    Ok(total)
}

/// Drops the events of a busy calendar Google no longer lets us read (its sync token too).
async fn lost(
    state: &AppState,
    connection: &CalendarConnection,
    calendar_id: &str,
) -> Result<Counts, SyncFailure> {
    tracing::warn!(calendar_id, "a busy calendar cannot be read at Google; its events are dropped");
    let source = repo::EventSource { connection_id: connection.id, calendar_id };
    let removed = repo::delete_foreign_events(state.db.conn(), source).await.map_err(SyncFailure::Store)?;
    Ok(Counts { removed, ..Counts::default() })
}

/// Syncs one calendar: incremental with its token, full without one or when Google says the
/// token expired (410).
async fn sync_calendar(
    state: &AppState,
    client: &Client,
    connection: &CalendarConnection,
    calendar_id: &str,
    sync_token: Option<String>,
) -> Result<Counts, SyncFailure> {
    match sync_token {
        Some(token) => match incremental(state, client, connection, calendar_id, token).await {
            // The full sync removes what Google no longer has; until it has succeeded, the
            // stored events stay as they are (busy time and upcoming events keep working).
            Err(SyncFailure::Google(GoogleError::Gone { .. })) => {
                tracing::info!(connection_id = %connection.id, calendar_id, "sync token expired (410): full sync");
                full(state, client, connection, calendar_id).await
            }
            other => other,
        },
        None => full(state, client, connection, calendar_id).await,
    }
}

async fn full(
    state: &AppState,
    client: &Client,
    connection: &CalendarConnection,
    calendar_id: &str,
) -> Result<Counts, SyncFailure> {
    let settings = &state.settings.calendar;
    let now = Utc::now();
    let params = EventListParams::new()
        .with_single_events(true)
        .with_time_min(now - TimeDelta::days(i64::from(settings.sync_past_days)))
        .with_time_max(now + TimeDelta::days(i64::from(settings.sync_future_days)))
        .with_max_results(250);
    let result = client.events().sync(calendar_id, &params).await.map_err(SyncFailure::Google)?;
    let mut counts = Counts { sync_token: result.next_sync_token, ..Counts::default() };
    let seen: HashSet<String> = result
        .items
        .iter()
        .filter(|event| !event.is_cancelled())
        .filter_map(|event| event.id.clone())
        .collect();
    let source = repo::EventSource { connection_id: connection.id, calendar_id };
    store_pages(state, connection, source, result.items, &mut counts).await?;
    counts.removed +=
        repo::delete_events_except(state.db.conn(), source, &seen).await.map_err(SyncFailure::Store)?;
    Ok(counts)
}

async fn incremental(
    state: &AppState,
    client: &Client,
    connection: &CalendarConnection,
    calendar_id: &str,
    sync_token: String,
) -> Result<Counts, SyncFailure> {
    let params =
        EventListParams::new().with_single_events(true).with_sync_token(sync_token).with_max_results(250);
    let result = client.events().sync(calendar_id, &params).await.map_err(SyncFailure::Google)?;
    let mut counts = Counts { sync_token: result.next_sync_token, ..Counts::default() };
    let source = repo::EventSource { connection_id: connection.id, calendar_id };
    store_pages(state, connection, source, result.items, &mut counts).await?;
    Ok(counts)
}

/// Events stored per transaction: a page of Google's listing (`maxResults`).
const PAGE: usize = 250;

/// Stores events from Google a page at a time, each page in one transaction with batched
/// statements: cancelled ones are removed, others upserted by id; plan tasks follow their events.
async fn store_pages(
    state: &AppState,
    connection: &CalendarConnection,
    source: repo::EventSource<'_>,
    events: Vec<Event>,
    counts: &mut Counts,
) -> Result<(), SyncFailure> {
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let changes: Vec<EventChange> = events
            .by_ref()
            .take(PAGE)
            .filter_map(|event| {
                let event_id = event.id.clone()?;
                if event.is_cancelled() {
                    return Some(EventChange::Delete(event_id));
                }
                let data = event_data(event);
                if data.is_none() {
                    tracing::warn!(event_id, "event without usable start/end skipped");
                }
                data.map(|data| EventChange::Upsert(Box::new(data)))
            })
            .collect();
        let applied = repo::apply_changes(state.db.conn(), connection.user_id, source, changes)
            .await
            .map_err(SyncFailure::Store)?;
        for outcome in applied {
            follow(state, connection, outcome, counts).await;
        }
    }
    Ok(())
}

/// Counts what a change did; a task's block follows its event (moved, or unscheduled when deleted
/// at Google).
async fn follow(state: &AppState, connection: &CalendarConnection, applied: Applied, counts: &mut Counts) {
    match applied {
        Applied::Removed(removed) => {
            counts.removed += 1;
            if let Some(task_id) = removed.data.plan_task_id {
                follow_task(state, connection.user_id, task_id, &removed.data.provider_event_id, None).await;
            }
        }
        Applied::Upserted(stored, change) => {
            match change {
                Upserted::Added => counts.added += 1,
                Upserted::Updated => counts.updated += 1,
                Upserted::Unchanged => return,
            }
            if let Some(task_id) = stored.data.plan_task_id {
                let times = Some((stored.data.start, stored.data.end));
                follow_task(state, connection.user_id, task_id, &stored.data.provider_event_id, times).await;
            }
        }
        Applied::Absent => {}
    }
}

/// Two-way binding: a task's block follows its event (moved, or gone when deleted).
async fn follow_task(
    state: &AppState,
    user_id: Uuid,
    task_id: Uuid,
    event_id: &str,
    times: Option<(DateTime<Utc>, DateTime<Utc>)>,
) {
    let followed =
        planwright_store::repo::tasks::follow_block(state.db.conn(), user_id, task_id, event_id, times).await;
    if let Err(error) = followed {
        tracing::warn!(task_id = %task_id, error = %error, "could not follow the event's change");
    }
}

/// A push notification from Google. Checked by channel id and token (anything else is a 404,
/// revealing nothing). Returns the connection to sync when something changed (`exists`,
/// `not_exists`); `sync` only confirms a new channel.
pub async fn notification(
    state: &AppState,
    channel_id: Option<&str>,
    token: Option<&str>,
    resource_state: Option<&str>,
) -> Result<Option<CalendarConnection>, ApiError> {
    let unknown = || ApiError::NotFound("No push channel matches this notification.".to_owned());
    let channel_id = channel_id.filter(|id| !id.is_empty()).ok_or_else(unknown)?;
    // The target calendar's channel is on the connection; each other busy calendar has its own.
    let (connection, channel) = match repo::find_by_channel(state.db.conn(), channel_id).await? {
        Some(connection) => {
            let channel = connection.channel.clone();
            (connection, channel)
        }
        None => {
            let (connection, calendar) = repo::find_busy_calendar_by_channel(state.db.conn(), channel_id)
                .await?
                .ok_or_else(unknown)?;
            (connection, calendar.channel)
        }
    };
    let expected = channel.as_ref().map(|c| c.token_hash.as_str()).unwrap_or_default();
    let given = hash_token(token.unwrap_or_default());
    if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(unknown());
    }
    Ok((resource_state != Some("sync")).then_some(connection))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_tokens_compare_by_hash() {
        assert!(constant_time_eq(hash_token("t").as_bytes(), hash_token("t").as_bytes()));
        assert!(!constant_time_eq(hash_token("t").as_bytes(), hash_token("u").as_bytes()));
    }
}
