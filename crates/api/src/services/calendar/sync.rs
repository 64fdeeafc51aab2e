//! Keeping Google events in step: a full sync over the configured window, then incremental syncs
//! with Google's sync token (pages followed to the end, cancelled events removed, changed ones
//! updated in place, a 410 wiping the connection's events for a fresh full sync). One sync per
//! connection at a time, across replicas, through a database lease. Push channels, when a webhook
//! URL is configured, make Google ask for an incremental sync whenever something changes.

use std::collections::HashSet;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, NaiveTime, TimeDelta, Utc};
use planwright_calendar::{
    Error as GoogleError, Event, EventDateTime, EventListParams, EventStatus, WatchRequest,
};
use planwright_domain::{CalendarConnection, CalendarProvider, ConnectionStatus, EventData, WatchChannel};
use planwright_store::repo::{
    calendar::{self as repo, Applied, EventChange, Upserted},
    leases,
};
use rand::RngCore;
use serde::Serialize;
use uuid::Uuid;

use super::{GoogleCalendar, google_error, require_google};
use crate::{error::ApiError, services::credentials::hash_token, state::AppState};

/// How long one sync may hold its lease.
const SYNC_LEASE: TimeDelta = TimeDelta::minutes(5);
/// A channel is renewed when it has less than this left.
const CHANNEL_RENEW_BEFORE: TimeDelta = TimeDelta::days(1);
/// The private extended property linking an event to the plan task it was scheduled for.
pub const TASK_PROPERTY: &str = "planwright_task_id";
/// The private extended property linking an event to its plan.
pub const PLAN_PROPERTY: &str = "planwright_plan_id";

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
            vec![repo::find_connection(state.db.conn(), user_id, id).await.map_err(super::not_found)?]
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
    let result = match connection.sync_token.clone() {
        Some(token) => match incremental(state, google, &connection, token).await {
            Err(SyncFailure::Google(GoogleError::Gone { .. })) => {
                tracing::info!(connection_id = %id, "sync token expired (410): full sync");
                match repo::delete_all_events(db, id).await {
                    Ok(removed) => full(state, google, &connection).await.map(|mut counts| {
                        // Events that came back count as re-added, not as changes.
                        counts.removed += removed;
                        counts
                    }),
                    Err(error) => Err(SyncFailure::Store(error)),
                }
            }
            other => other,
        },
        None => full(state, google, &connection).await,
    };
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
                    let status = if super::tokens::needs_reauth(state, id).await {
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

async fn full(
    state: &AppState,
    google: &GoogleCalendar,
    connection: &CalendarConnection,
) -> Result<Counts, SyncFailure> {
    let settings = &state.settings.calendar;
    let now = Utc::now();
    let params = EventListParams::new()
        .with_single_events(true)
        .with_time_min(now - TimeDelta::days(i64::from(settings.sync_past_days)))
        .with_time_max(now + TimeDelta::days(i64::from(settings.sync_future_days)))
        .with_max_results(250);
    let client = google.client_for(state, connection.id);
    let result = client.events().sync(&connection.calendar_id, &params).await.map_err(SyncFailure::Google)?;
    let mut counts = Counts { sync_token: result.next_sync_token, ..Counts::default() };
    let seen: HashSet<String> = result
        .items
        .iter()
        .filter(|event| !event.is_cancelled())
        .filter_map(|event| event.id.clone())
        .collect();
    store_pages(state, connection, result.items, &mut counts).await?;
    counts.removed += repo::delete_events_except(state.db.conn(), connection.id, &seen)
        .await
        .map_err(SyncFailure::Store)?;
    Ok(counts)
}

async fn incremental(
    state: &AppState,
    google: &GoogleCalendar,
    connection: &CalendarConnection,
    sync_token: String,
) -> Result<Counts, SyncFailure> {
    let params =
        EventListParams::new().with_single_events(true).with_sync_token(sync_token).with_max_results(250);
    let client = google.client_for(state, connection.id);
    let result = client.events().sync(&connection.calendar_id, &params).await.map_err(SyncFailure::Google)?;
    let mut counts = Counts { sync_token: result.next_sync_token, ..Counts::default() };
    store_pages(state, connection, result.items, &mut counts).await?;
    Ok(counts)
}

/// Events stored per transaction: a page of Google's listing (`maxResults`).
const PAGE: usize = 250;

/// Stores events from Google a page at a time, each page in one transaction with batched
/// statements: cancelled ones are removed, others upserted by id; plan tasks follow their events.
async fn store_pages(
    state: &AppState,
    connection: &CalendarConnection,
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
        let applied = repo::apply_changes(state.db.conn(), connection.user_id, connection.id, changes)
            .await
            .map_err(SyncFailure::Store)?;
        for outcome in applied {
            follow(state, connection, outcome, counts).await;
        }
    }
    Ok(())
}

/// Counts what a change did; a plan task follows its event (moved, or unscheduled when deleted
/// at Google).
async fn follow(state: &AppState, connection: &CalendarConnection, applied: Applied, counts: &mut Counts) {
    match applied {
        Applied::Removed(removed) => {
            counts.removed += 1;
            if let Some(task_id) = removed.data.plan_task_id {
                follow_task(state, connection.user_id, task_id, None).await;
            }
        }
        Applied::Upserted(stored, change) => {
            match change {
                Upserted::Added => counts.added += 1,
                Upserted::Updated => counts.updated += 1,
                Upserted::Unchanged => return,
            }
            if let Some(task_id) = stored.data.plan_task_id {
                let placement = Some((stored.data.start, stored.data.end, stored.data.provider_event_id));
                follow_task(state, connection.user_id, task_id, placement).await;
            }
        }
        Applied::Absent => {}
    }
}

/// Two-way binding: a plan task's schedule follows its event (moved, or cleared when deleted).
async fn follow_task(
    state: &AppState,
    user_id: Uuid,
    task_id: Uuid,
    placement: Option<(DateTime<Utc>, DateTime<Utc>, String)>,
) {
    let (times, event_ref) = match placement {
        Some((start, end, event_id)) => (Some((start, end)), Some(event_id)),
        None => (None, None),
    };
    match planwright_store::repo::plans::set_task_schedule(
        state.db.conn(),
        user_id,
        task_id,
        times,
        event_ref,
    )
    .await
    {
        Ok(()) | Err(planwright_store::StoreError::NotFound) => {}
        Err(error) => {
            tracing::warn!(task_id = %task_id, error = %error, "could not follow the event's change")
        }
    }
}

/// An event from Google as stored here; `None` when it has no usable start or end.
pub fn event_data(event: Event) -> Option<EventData> {
    let (start, start_date) = instant(event.start.as_ref()?)?;
    let (end, end_date) = instant(event.end.as_ref()?)?;
    let all_day = start_date.is_some();
    let transparent = event.extra.get("transparency").and_then(|v| v.as_str()) == Some("transparent");
    let private = |key: &str| {
        event
            .extended_properties
            .as_ref()
            .and_then(|properties| properties.private.get(key))
            .and_then(|id| Uuid::parse_str(id).ok())
    };
    let (plan_task_id, plan_id) = (private(TASK_PROPERTY), private(PLAN_PROPERTY));
    let status = match &event.status {
        Some(EventStatus::Tentative) => "tentative",
        _ => "confirmed",
    };
    Some(EventData {
        provider_event_id: event.id?,
        ical_uid: event.ical_uid,
        title: event.summary.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "(no title)".to_owned()),
        description: event.description,
        location: event.location,
        start,
        end: end.max(start),
        all_day,
        start_date,
        end_date,
        time_zone: event.start.and_then(|s| s.time_zone),
        recurrence: event.recurrence,
        recurring_event_id: event.recurring_event_id,
        status: status.to_owned(),
        transparent,
        html_link: event.html_link,
        etag: event.etag,
        provider_updated_at: event.updated,
        plan_task_id,
        plan_id,
    })
}

/// A start or end as an instant (all-day: midnight UTC of the date, with the date kept).
fn instant(at: &EventDateTime) -> Option<(DateTime<Utc>, Option<chrono::NaiveDate>)> {
    match (at.date_time, at.date) {
        (Some(date_time), _) => Some((date_time.with_timezone(&Utc), None)),
        (None, Some(date)) => Some((date.and_time(NaiveTime::MIN).and_utc(), Some(date))),
        (None, None) => None,
    }
}

// ---- after connecting, push channels -------------------------------------------------------

/// In the background after a connection is made: the first full sync, then a push channel.
pub fn after_connect(state: AppState, connection_id: Uuid) {
    tokio::spawn(async move {
        let Ok(connection) = repo::find_connection_by_id(state.db.conn(), connection_id).await else {
            return;
        };
        let report = sync_connection(&state, &connection).await;
        tracing::info!(connection_id = %connection_id, status = ?report.status, "first sync after connecting");
        ensure_channel(&state, connection_id).await;
    });
}

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
    let client = google.client_for(state, connection_id);
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

/// A push notification from Google. Checked by channel id and token (anything else is a 404,
/// revealing nothing); answered at once, the incremental sync runs in the background.
pub async fn notification(
    state: &AppState,
    channel_id: Option<&str>,
    token: Option<&str>,
    resource_state: Option<&str>,
) -> Result<(), ApiError> {
    let unknown = || ApiError::NotFound("No push channel matches this notification.".to_owned());
    let channel_id = channel_id.filter(|id| !id.is_empty()).ok_or_else(unknown)?;
    let connection = repo::find_by_channel(state.db.conn(), channel_id).await?.ok_or_else(unknown)?;
    let expected = connection.channel.as_ref().map(|c| c.token_hash.as_str()).unwrap_or_default();
    let given = hash_token(token.unwrap_or_default());
    if !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        return Err(unknown());
    }
    // `sync` only confirms a new channel; `exists` / `not_exists` mean something changed.
    if resource_state != Some("sync") {
        let state = state.clone();
        tokio::spawn(async move {
            let report = sync_connection(&state, &connection).await;
            tracing::info!(connection_id = %connection.id, status = ?report.status, "sync after push notification");
        });
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, NaiveDate, TimeZone};

    use super::*;

    #[test]
    fn all_day_events_keep_their_dates_and_timed_ones_their_instants() {
        let event = Event::default().with_id("abc123").with_summary("Trip").with_times(
            EventDateTime::all_day(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()),
            EventDateTime::all_day(NaiveDate::from_ymd_opt(2026, 12, 27).unwrap()),
        );
        let data = event_data(event).unwrap();
        assert!(data.all_day);
        assert_eq!(data.start_date, NaiveDate::from_ymd_opt(2026, 12, 24));
        assert_eq!(data.end - data.start, TimeDelta::days(3));

        let berlin = FixedOffset::east_opt(3600).unwrap();
        let mut event = Event::default().with_id("def456").with_times(
            EventDateTime::at(berlin.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()),
            EventDateTime::at(berlin.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()),
        );
        event.extra.insert("transparency".into(), "transparent".into());
        let data = event_data(event).unwrap();
        assert_eq!(data.start, Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
        assert!(!data.all_day && data.transparent);
        assert_eq!(data.title, "(no title)");
    }

    #[test]
    fn channel_tokens_compare_by_hash() {
        assert!(constant_time_eq(hash_token("t").as_bytes(), hash_token("t").as_bytes()));
        assert!(!constant_time_eq(hash_token("t").as_bytes(), hash_token("u").as_bytes()));
    }
}
