//! The events kept from a user's calendars: upserts by the provider's id (one at a time, or a
//! whole sync page in one transaction), and reads by time window that use the
//! `idx_calendar_events_window` index so their cost follows what they return.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use futures_util::StreamExt;
use planwright_domain::{
    CalendarEvent, CalendarProvider, EventData, EventSpan, ListedEvent, TimeZone, start_of_day,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Statement, StreamTrait, Value,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, UnionType},
};
use uuid::Uuid;

use super::Upserted;
use crate::{
    StoreError,
    entities::{calendar_connections as connections, calendar_events as events},
};

/// Inserts or updates an event by its provider id within one calendar of a connection.
pub async fn upsert_event(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    source: EventSource<'_>,
    data: EventData,
) -> Result<(CalendarEvent, Upserted), StoreError> {
    let EventSource { connection_id, calendar_id } = source;
    let now = Utc::now();
    let existing = events::Entity::find()
        .filter(events::Column::ConnectionId.eq(connection_id))
        .filter(events::Column::CalendarId.eq(calendar_id))
        .filter(events::Column::ProviderEventId.eq(data.provider_event_id.as_str()))
        .one(db)
        .await?;
    match existing {
        Some(row) => {
            let current = to_event(row.clone())?;
            // A synced copy keeps the plan task it was scheduled for unless the new data says.
            let data = EventData {
                plan_task_id: data.plan_task_id.or(current.data.plan_task_id),
                plan_id: data.plan_id.or(current.data.plan_id),
                ..data
            };
            if current.data == data {
                return Ok((current, Upserted::Unchanged));
            }
            let mut active: events::ActiveModel = row.into();
            fill(&mut active, data)?;
            active.updated_at = Set(now);
            Ok((to_event(active.update(db).await?)?, Upserted::Updated))
        }
        None => {
            let mut active = events::ActiveModel {
                id: Set(Uuid::now_v7()),
                connection_id: Set(connection_id),
                calendar_id: Set(calendar_id.to_owned()),
                user_id: Set(user_id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            fill(&mut active, data)?;
            Ok((to_event(active.insert(db).await?)?, Upserted::Added))
        }
    }
}

/// Which calendar of which connection an event is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSource<'a> {
    /// The connection.
    pub connection_id: Uuid,
    /// The calendar of the connection's account.
    pub calendar_id: &'a str,
}

impl<'a> EventSource<'a> {
    /// The calendar of `connection` that receives the blocks.
    pub fn target(connection: &'a planwright_domain::CalendarConnection) -> Self {
        Self { connection_id: connection.id, calendar_id: connection.target_calendar_id.as_str() }
    }
}

/// One change a calendar sync found for an event.
#[derive(Debug, Clone)]
pub enum EventChange {
    /// The event exists at the provider with this data.
    Upsert(Box<EventData>),
    /// The event with this provider id was deleted at the provider.
    Delete(String),
}

/// What applying one [`EventChange`] did.
#[derive(Debug, Clone)]
pub enum Applied {
    /// The event is stored as given.
    Upserted(CalendarEvent, Upserted),
    /// The event was stored and is now removed.
    Removed(CalendarEvent),
    /// A deletion of an event that was not stored.
    Absent,
}

/// Rows per multi-row statement: 500 rows × 28 columns stays under SQLite's 32,766 variables.
const BATCH_ROWS: usize = 500;

/// Applies a page of sync changes in one transaction with batched statements: one read of the
/// stored rows, one multi-row insert of the new events, one delete of the removed ones, and an
/// update per changed event. Results come back in the order of `changes`; when a provider id
/// appears twice, the later change wins and the earlier one reports the same outcome.
pub async fn apply_changes(
    db: &crate::Conn,
    user_id: Uuid,
    source: EventSource<'_>,
    changes: Vec<EventChange>,
) -> Result<Vec<Applied>, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    let applied = apply_in(&txn, user_id, source, changes).await?;
    txn.commit().await?;
    Ok(applied)
}

async fn apply_in(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    source: EventSource<'_>,
    changes: Vec<EventChange>,
) -> Result<Vec<Applied>, StoreError> {
    let EventSource { connection_id, calendar_id } = source;
    let key = |change: &EventChange| match change {
        EventChange::Upsert(data) => data.provider_event_id.clone(),
        EventChange::Delete(id) => id.clone(),
    };
    let ids: Vec<String> = changes.iter().map(key).collect();
    let mut stored: HashMap<String, events::Model> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH_ROWS) {
        let rows = events::Entity::find()
            .filter(events::Column::ConnectionId.eq(connection_id))
            .filter(events::Column::CalendarId.eq(calendar_id))
            .filter(events::Column::ProviderEventId.is_in(chunk.iter().cloned()))
            .all(db)
            .await?;
        stored.extend(rows.into_iter().map(|row| (row.provider_event_id.clone(), row)));
    }
    // The last change per provider id is the one that counts.
    let mut last: HashMap<String, usize> = HashMap::with_capacity(ids.len());
    for (index, id) in ids.iter().enumerate() {
        last.insert(id.clone(), index);
    }
    let now = Utc::now();
    let mut outcome: Vec<Option<Applied>> = vec![None; changes.len()];
    let (mut inserts, mut removals) = (Vec::new(), Vec::new());
    for (index, change) in changes.into_iter().enumerate() {
        if last.get(&ids[index]) != Some(&index) {
            continue;
        }
        let existing = stored.remove(&ids[index]);
        outcome[index] = Some(match (change, existing) {
            (EventChange::Delete(_), None) => Applied::Absent,
            (EventChange::Delete(_), Some(row)) => {
                removals.push(row.id);
                Applied::Removed(to_event(row)?)
            }
            (EventChange::Upsert(data), Some(row)) => {
                let data = *data;
                let current = to_event(row.clone())?;
                // A synced copy keeps the plan task it was scheduled for unless the new data says.
                let data = EventData {
                    plan_task_id: data.plan_task_id.or(current.data.plan_task_id),
                    plan_id: data.plan_id.or(current.data.plan_id),
                    ..data
                };
                if current.data == data {
                    Applied::Upserted(current, Upserted::Unchanged)
                } else {
                    let mut active: events::ActiveModel = row.into();
                    fill(&mut active, data)?;
                    active.updated_at = Set(now);
                    Applied::Upserted(to_event(active.update(db).await?)?, Upserted::Updated)
                }
            }
            (EventChange::Upsert(data), None) => {
                let event = CalendarEvent {
                    id: Uuid::now_v7(),
                    connection_id,
                    calendar_id: calendar_id.to_owned(),
                    data: *data,
                    created_at: now,
                    updated_at: now,
                };
                let mut active = events::ActiveModel {
                    id: Set(event.id),
                    connection_id: Set(connection_id),
                    calendar_id: Set(calendar_id.to_owned()),
                    user_id: Set(user_id),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                };
                fill(&mut active, event.data.clone())?;
                inserts.push(active);
                Applied::Upserted(event, Upserted::Added)
            }
        });
    }
    while !inserts.is_empty() {
        let rest = inserts.split_off(inserts.len().min(BATCH_ROWS));
        events::Entity::insert_many(std::mem::replace(&mut inserts, rest)).exec_without_returning(db).await?;
    }
    for chunk in removals.chunks(BATCH_ROWS) {
        events::Entity::delete_many()
            .filter(events::Column::Id.is_in(chunk.iter().copied()))
            .exec(db)
            .await?;
    }
    // A repeated provider id reports what its last change did.
    Ok(ids
        .iter()
        .enumerate()
        .map(|(index, id)| {
            outcome[index].clone().or_else(|| last.get(id).and_then(|&at| outcome[at].clone()))
        })
        .map(|applied| applied.unwrap_or(Applied::Absent))
        .collect())
}

/// Removes an event by its provider id; returns it when there was one.
pub async fn delete_event(
    db: &impl ConnectionTrait,
    source: EventSource<'_>,
    provider_event_id: &str,
) -> Result<Option<CalendarEvent>, StoreError> {
    let existing = events::Entity::find()
        .filter(events::Column::ConnectionId.eq(source.connection_id))
        .filter(events::Column::CalendarId.eq(source.calendar_id))
        .filter(events::Column::ProviderEventId.eq(provider_event_id))
        .one(db)
        .await?;
    let Some(row) = existing else { return Ok(None) };
    let result = events::Entity::delete_by_id(row.id).exec(db).await?;
    if result.rows_affected == 0 {
        return Ok(None);
    }
    to_event(row).map(Some)
}

/// One of the user's stored events, by its id.
pub async fn find_user_event(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<CalendarEvent, StoreError> {
    let row = events::Entity::find_by_id(id)
        .filter(events::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_event(row)
}

/// An event of one calendar of a connection, by its provider id.
pub async fn find_event(
    db: &impl ConnectionTrait,
    source: EventSource<'_>,
    provider_event_id: &str,
) -> Result<Option<CalendarEvent>, StoreError> {
    events::Entity::find()
        .filter(events::Column::ConnectionId.eq(source.connection_id))
        .filter(events::Column::CalendarId.eq(source.calendar_id))
        .filter(events::Column::ProviderEventId.eq(provider_event_id))
        .one(db)
        .await?
        .map(to_event)
        .transpose()
}

/// The user's stored events scheduled for plan `plan_id`, on any connection.
pub async fn events_of_plan(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    plan_id: Uuid,
) -> Result<Vec<CalendarEvent>, StoreError> {
    events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::PlanId.eq(plan_id))
        .order_by_asc(events::Column::StartAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_event)
        .collect()
}

/// The user's stored events scheduled for any of `task_ids`, on any connection.
pub async fn events_of_tasks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    task_ids: &[Uuid],
) -> Result<Vec<CalendarEvent>, StoreError> {
    let mut found = Vec::new();
    // Bound the statement's parameter count well under every engine's limit.
    for ids in task_ids.chunks(500) {
        let rows = events::Entity::find()
            .filter(events::Column::UserId.eq(user_id))
            .filter(events::Column::PlanTaskId.is_in(ids.iter().copied()))
            .order_by_asc(events::Column::StartAt)
            .all(db)
            .await?;
        for row in rows {
            found.push(to_event(row)?);
        }
    }
    Ok(found)
}

/// Removes a calendar's events whose provider ids are not in `keep` (after a full sync);
/// returns how many went.
pub async fn delete_events_except(
    db: &impl ConnectionTrait,
    source: EventSource<'_>,
    keep: &HashSet<String>,
) -> Result<u64, StoreError> {
    let EventSource { connection_id, calendar_id } = source;
    let stored: Vec<String> = events::Entity::find()
        .select_only()
        .column(events::Column::ProviderEventId)
        .filter(events::Column::ConnectionId.eq(connection_id))
        .filter(events::Column::CalendarId.eq(calendar_id))
        .into_tuple()
        .all(db)
        .await?;
    let gone: Vec<String> = stored.into_iter().filter(|id| !keep.contains(id)).collect();
    let mut removed = 0;
    for chunk in gone.chunks(500) {
        removed += events::Entity::delete_many()
            .filter(events::Column::ConnectionId.eq(connection_id))
            .filter(events::Column::CalendarId.eq(calendar_id))
            .filter(events::Column::ProviderEventId.is_in(chunk.iter().cloned()))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(removed)
}

/// Removes the events synced from one calendar that are not Planwright's blocks (a calendar that
/// no longer counts as busy time); returns how many went.
pub async fn delete_foreign_events(
    db: &impl ConnectionTrait,
    source: EventSource<'_>,
) -> Result<u64, StoreError> {
    Ok(events::Entity::delete_many()
        .filter(events::Column::ConnectionId.eq(source.connection_id))
        .filter(events::Column::CalendarId.eq(source.calendar_id))
        .filter(events::Column::PlanTaskId.is_null())
        .exec(db)
        .await?
        .rows_affected)
}

/// Whether a calendar holds Planwright blocks that have not ended by `now`.
pub async fn has_future_blocks(
    db: &impl ConnectionTrait,
    source: EventSource<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(events::Entity::find()
        .filter(events::Column::ConnectionId.eq(source.connection_id))
        .filter(events::Column::CalendarId.eq(source.calendar_id))
        .filter(events::Column::PlanTaskId.is_not_null())
        .filter(events::Column::EndAt.gt(now))
        .one(db)
        .await?
        .is_some())
}

/// Removes all of a connection's events; returns how many went.
pub async fn delete_all_events(db: &impl ConnectionTrait, connection_id: Uuid) -> Result<u64, StoreError> {
    Ok(events::Entity::delete_many()
        .filter(events::Column::ConnectionId.eq(connection_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Bounds, in seconds, of the span classes 0..=7 (each four times the one before, from an hour to
/// about 22 months); an event longer than the last is in the unbounded class 8. Migration
/// `m20261130_000011` backfills the same classes.
pub const SPAN_CLASS_LIMITS_SECS: [i64; 8] =
    [3_600, 14_400, 57_600, 230_400, 921_600, 3_686_400, 14_745_600, 58_982_400];
const UNBOUNDED_CLASS: i16 = 8;

/// The span class of an event from `start` to `end`: the first class whose bound it fits in.
pub fn span_class(start: DateTime<Utc>, end: DateTime<Utc>) -> i16 {
    let millis = (end - start).num_milliseconds();
    SPAN_CLASS_LIMITS_SECS
        .iter()
        .position(|&limit| millis <= limit * 1000)
        .and_then(|class| i16::try_from(class).ok())
        .unwrap_or(UNBOUNDED_CLASS)
}

/// All-day events are stored at UTC midnight; a day either side of a window covers every zone.
const ALL_DAY_SLACK: TimeDelta = TimeDelta::days(1);

/// What a window read matches: timed events overlapping `timed`, all-day events whose stored
/// UTC-midnight span overlaps `all_day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventWindow {
    /// `[from, to)` for timed events.
    pub timed: (DateTime<Utc>, DateTime<Utc>),
    /// `[from, to)` for all-day events' stored UTC-midnight instants.
    pub all_day: (DateTime<Utc>, DateTime<Utc>),
}

impl EventWindow {
    /// `[from, to)` for timed events, and a day more either side for all-day ones, which covers
    /// them in every zone (callers place them in the user's zone and drop what falls outside).
    pub fn with_slack(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self { timed: (from, to), all_day: (from - ALL_DAY_SLACK, to + ALL_DAY_SLACK) }
    }

    /// Exactly the events that overlap `[from, to)` in `zone`: an all-day event's days are
    /// placed from midnight in the zone, so it overlaps when its end date is after the zone's
    /// date at `from` and its start date is before the first day that starts at or after `to`.
    pub fn in_zone(from: DateTime<Utc>, to: DateTime<Utc>, zone: &TimeZone) -> Self {
        let first = from.with_timezone(&zone.tz()).date_naive();
        let last = to.with_timezone(&zone.tz()).date_naive();
        let end = if start_of_day(last, zone) < to { last.succ_opt().unwrap_or(last) } else { last };
        Self { timed: (from, to), all_day: (utc_midnight(first), utc_midnight(end)) }
    }
}

fn utc_midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// The columns a listing of events shows (see [`ListedEvent`]).
const LISTED_COLUMNS: [events::Column; 13] = [
    events::Column::Id,
    events::Column::ConnectionId,
    events::Column::ProviderEventId,
    events::Column::Title,
    events::Column::Description,
    events::Column::Location,
    events::Column::StartAt,
    events::Column::EndAt,
    events::Column::AllDay,
    events::Column::StartDate,
    events::Column::EndDate,
    events::Column::HtmlLink,
    events::Column::PlanTaskId,
];

/// What [`listed_between`] reads of each event, with its calendar's provider.
#[derive(Debug, FromQueryResult)]
struct ListedRow {
    id: Uuid,
    connection_id: Uuid,
    provider: String,
    provider_event_id: String,
    title: String,
    description: Option<String>,
    location: Option<String>,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    all_day: bool,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    html_link: Option<String>,
    plan_task_id: Option<Uuid>,
}

/// The user's events in `window` across their calendars, as a listing shows them: the first
/// `limit` timed events by (start, end, id), and the first `limit` by start of each all-day
/// range of [`events_between`] (one per length class), in one statement joined to each event's
/// calendar for its provider, reading only the listed columns. The all-day events are not cut
/// to `limit` overall: they move once placed in the user's zone, so the caller places, orders
/// and cuts.
pub async fn listed_between(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    window: &EventWindow,
    limit: u64,
) -> Result<Vec<ListedEvent>, StoreError> {
    let statement = window_statement(db, WindowRead::Listed, user_id, None, window, limit);
    let rows = ListedRow::find_by_statement(statement).all(db).await?;
    rows.into_iter()
        .map(|row| {
            Ok(ListedEvent {
                id: row.id,
                connection_id: row.connection_id,
                provider: CalendarProvider::parse(&row.provider).ok_or_else(|| StoreError::Corrupt {
                    table: "calendar_connections",
                    message: format!("unknown provider {:?}", row.provider),
                })?,
                provider_event_id: row.provider_event_id,
                title: row.title,
                description: row.description,
                location: row.location,
                start: row.start_at,
                end: row.end_at,
                all_day: row.all_day,
                start_date: row.start_date,
                end_date: row.end_date,
                html_link: row.html_link,
                plan_task_id: row.plan_task_id,
            })
        })
        .collect()
}

/// The user's events that overlap `[from, to)` — all-day events when their UTC-midnight dates
/// overlap `[from − 1 day, to + 1 day)`, so callers place them in the user's zone — by start,
/// at most `limit`.
///
/// The cost follows the answer, not the calendar: for each (all-day, span class) it reads the
/// `idx_calendar_events_window` index from `from` minus that class's longest span, at most
/// `limit` rows, so it touches the events it returns plus a few that ended just before `from`.
pub async fn events_between(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    connection_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<CalendarEvent>, StoreError> {
    let window = EventWindow::with_slack(from, to);
    let statement = window_statement(db, WindowRead::Events, user_id, connection_id, &window, limit);
    let mut rows = events::Entity::find().from_raw_sql(statement).all(db).await?;
    // Each term comes back in index order; merging the few terms here costs less than a sort
    // in the database over their union.
    rows.sort_unstable_by_key(|row| (row.start_at, row.id));
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    rows.into_iter().map(to_event).collect()
}

/// What [`spans_between`] reads of each event.
#[derive(Debug, FromQueryResult)]
struct SpanRow {
    provider_event_id: String,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    all_day: bool,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    transparent: bool,
}

/// As [`events_between`] (the same window and index, at most `limit`, by start), but only the
/// columns busy time needs: a scheduling horizon holds thousands of events, and their titles,
/// descriptions and links were most of what the read carried and kept in memory.
///
/// The rows stream in and are kept only as spans: a dense horizon's rows, held whole as the
/// driver returns them, weighed ten times more and stayed behind in the allocator's arenas.
pub async fn spans_between(
    db: &(impl ConnectionTrait + StreamTrait),
    user_id: Uuid,
    connection_id: Option<Uuid>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<EventSpan>, StoreError> {
    let window = EventWindow::with_slack(from, to);
    let statement = window_statement(db, WindowRead::Spans, user_id, connection_id, &window, limit);
    let mut spans: Vec<(Uuid, EventSpan)> = Vec::new();
    let rows = db.stream_raw(statement).await?;
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.next().await {
        let row = row?;
        let id: Uuid = row.try_get("", "id")?;
        let row = SpanRow::from_query_result(&row, "")?;
        spans.push((
            id,
            EventSpan {
                provider_event_id: row.provider_event_id,
                start: row.start_at,
                end: row.end_at,
                all_day: row.all_day,
                start_date: row.start_date,
                end_date: row.end_date,
                transparent: row.transparent,
            },
        ));
    }
    spans.sort_unstable_by_key(|(id, span)| (span.start, *id));
    spans.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(spans.into_iter().map(|(_, span)| span).collect())
}

/// The database's plan for [`events_between`] (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on
/// PostgreSQL), one line per step, so a test or an operator can check which index it uses.
pub async fn explain_events_between(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<String>, StoreError> {
    let backend = db.get_database_backend();
    let window = EventWindow::with_slack(from, to);
    let mut statement = window_statement(db, WindowRead::Events, user_id, None, &window, limit);
    let (prefix, column) = match backend {
        DatabaseBackend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN ", "detail"),
    };
    statement.sql = format!("{prefix}{}", statement.sql);
    db.query_all_raw(statement)
        .await?
        .iter()
        .map(|row| row.try_get::<String>("", column).map_err(StoreError::from))
        .collect()
}

/// The columns busy time reads (see [`spans_between`]).
const SPAN_COLUMNS: [events::Column; 8] = [
    events::Column::Id,
    events::Column::ProviderEventId,
    events::Column::StartAt,
    events::Column::EndAt,
    events::Column::AllDay,
    events::Column::StartDate,
    events::Column::EndDate,
    events::Column::Transparent,
];

/// What a window read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum WindowRead {
    /// Whole rows ([`events_between`]).
    Events,
    /// The busy-time columns ([`spans_between`]).
    Spans,
    /// The listed columns and each event's provider ([`listed_between`]).
    Listed,
}

/// A window read's statement. Its text depends only on the engine, what it returns and whether
/// one calendar is asked for, so it is built once per process and only the values are made per
/// call: building the eighteen-term statement with the query builder each time cost more than
/// running it (about 60 % of an upcoming request's instructions under callgrind).
fn window_statement(
    db: &impl ConnectionTrait,
    read: WindowRead,
    user_id: Uuid,
    connection_id: Option<Uuid>,
    window: &EventWindow,
    limit: u64,
) -> Statement {
    type Key = (u8, WindowRead, bool);
    static TEXTS: OnceLock<Mutex<HashMap<Key, Arc<str>>>> = OnceLock::new();
    let backend = db.get_database_backend();
    let key = (backend_key(backend), read, connection_id.is_some());
    let texts = TEXTS.get_or_init(Mutex::default);
    let cached = texts.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
    let sql = match cached {
        Some(sql) => sql,
        None => {
            let built: Arc<str> =
                backend.build(&window_select(read, user_id, connection_id, window, limit)).sql.into();
            texts.lock().unwrap_or_else(PoisonError::into_inner).insert(key, Arc::clone(&built));
            built
        }
    };
    Statement::from_sql_and_values(backend, &*sql, window_values(read, user_id, connection_id, window, limit))
}

fn backend_key(backend: DatabaseBackend) -> u8 {
    match backend {
        DatabaseBackend::Postgres => 0,
        DatabaseBackend::Sqlite => 1,
        _ => 2,
    }
}

/// The statement of a window read, built with the query builder.
fn window_select(
    read: WindowRead,
    user_id: Uuid,
    connection_id: Option<Uuid>,
    window: &EventWindow,
    limit: u64,
) -> SelectStatement {
    match read {
        WindowRead::Events => window_query(user_id, connection_id, window, limit, &[]),
        WindowRead::Spans => window_query(user_id, connection_id, window, limit, &SPAN_COLUMNS),
        WindowRead::Listed => {
            // The timed events overlapping the window are placed where they are stored, so the
            // first `limit` of them by (start, end, id), the listing's order, are cut in SQL;
            // all-day events move once placed in the user's zone, so their terms stay whole.
            let timed = window_terms(user_id, connection_id, window, false, limit, &LISTED_COLUMNS);
            let mut cut = Query::select();
            cut.column(Asterisk)
                .from_subquery(union_all(timed), Alias::new("timed"))
                .order_by(events::Column::StartAt, Order::Asc)
                .order_by(events::Column::EndAt, Order::Asc)
                .order_by(events::Column::Id, Order::Asc)
                .limit(limit);
            let mut first = Query::select();
            first.column(Asterisk).from_subquery(cut, Alias::new("first_timed"));
            let all_day = window_terms(user_id, connection_id, window, true, limit, &LISTED_COLUMNS);
            let terms = union_all(std::iter::once(first).chain(all_day).collect());
            let listed = Alias::new("listed");
            let mut query = Query::select();
            query
                .column((listed.clone(), Asterisk))
                .column((connections::Entity, connections::Column::Provider))
                .from_subquery(terms, listed.clone())
                .inner_join(
                    connections::Entity,
                    Expr::col((connections::Entity, connections::Column::Id))
                        .equals((listed, events::Column::ConnectionId)),
                );
            query
        }
    }
}

/// The values of [`window_select`]'s placeholders, in the order it writes them (a test holds the
/// two to the same order).
fn window_values(
    read: WindowRead,
    user_id: Uuid,
    connection_id: Option<Uuid>,
    window: &EventWindow,
    limit: u64,
) -> Vec<Value> {
    let mut values = Vec::with_capacity(2 * (SPAN_CLASS_LIMITS_SECS.len() + 1) * 8 + 1);
    for all_day in [false, true] {
        let (from, to) = if all_day { window.all_day } else { window.timed };
        for class in 0..=UNBOUNDED_CLASS {
            values.extend([Value::from(user_id), Value::from(all_day), Value::from(class)]);
            if let Some(&longest) = SPAN_CLASS_LIMITS_SECS.get(usize::from(class.unsigned_abs())) {
                values.push(Value::from(from - TimeDelta::seconds(longest)));
            }
            values.extend([Value::from(to), Value::from(from)]);
            if let Some(connection_id) = connection_id {
                values.push(Value::from(connection_id));
            }
            values.push(Value::from(limit));
        }
        if !all_day && read == WindowRead::Listed {
            values.push(Value::from(limit)); // the cut of the timed terms
        }
    }
    values
}

/// `SELECT * FROM (one indexed range per class, ordered by the index and limited) UNION ALL …`,
/// timed events' terms first; the caller merges the terms.
pub(crate) fn window_query(
    user_id: Uuid,
    connection_id: Option<Uuid>,
    window: &EventWindow,
    limit: u64,
    columns: &[events::Column],
) -> SelectStatement {
    let mut terms = window_terms(user_id, connection_id, window, false, limit, columns);
    terms.extend(window_terms(user_id, connection_id, window, true, limit, columns));
    union_all(terms)
}

/// One term per span class of the timed or the all-day events: an indexed range, ordered by the
/// index and limited, wrapped so that it can stand in a `UNION ALL`.
fn window_terms(
    user_id: Uuid,
    connection_id: Option<Uuid>,
    window: &EventWindow,
    all_day: bool,
    limit: u64,
    columns: &[events::Column],
) -> Vec<SelectStatement> {
    let (from, to) = if all_day { window.all_day } else { window.timed };
    let first_alias = if all_day { SPAN_CLASS_LIMITS_SECS.len() + 1 } else { 0 };
    (0..=UNBOUNDED_CLASS)
        .map(|class| {
            let mut term = Query::select();
            if columns.is_empty() {
                term.column(Asterisk);
            } else {
                term.columns(columns.iter().copied());
            }
            term.from(events::Entity)
                .and_where(events::Column::UserId.eq(user_id))
                .and_where(events::Column::AllDay.eq(all_day))
                .and_where(events::Column::SpanClass.eq(class));
            if let Some(&longest) = SPAN_CLASS_LIMITS_SECS.get(usize::from(class.unsigned_abs())) {
                term.and_where(events::Column::StartAt.gte(from - TimeDelta::seconds(longest)));
            }
            term.and_where(events::Column::StartAt.lt(to)).and_where(events::Column::EndAt.gt(from));
            if let Some(connection_id) = connection_id {
                term.and_where(events::Column::ConnectionId.eq(connection_id));
            }
            term.order_by(events::Column::StartAt, Order::Asc)
                .order_by(events::Column::Id, Order::Asc)
                .limit(limit);
            let alias = first_alias + usize::from(class.unsigned_abs());
            let mut wrapped = Query::select();
            wrapped.column(Asterisk).from_subquery(term, Alias::new(format!("w{alias}")));
            wrapped
        })
        .collect()
}

/// `first UNION ALL second UNION ALL …`.
fn union_all(terms: Vec<SelectStatement>) -> SelectStatement {
    let mut terms = terms.into_iter();
    let mut query = terms.next().unwrap_or_else(Query::select);
    for term in terms {
        query.union(UnionType::All, term);
    }
    query
}

fn fill(active: &mut events::ActiveModel, data: EventData) -> Result<(), StoreError> {
    active.provider_event_id = Set(data.provider_event_id);
    active.ical_uid = Set(data.ical_uid);
    active.title = Set(data.title);
    active.description = Set(data.description);
    active.location = Set(data.location);
    active.start_at = Set(data.start);
    active.end_at = Set(data.end);
    active.all_day = Set(data.all_day);
    active.start_date = Set(data.start_date);
    active.end_date = Set(data.end_date);
    active.time_zone = Set(data.time_zone);
    active.recurrence = Set(data
        .recurrence
        .map(|rules| serde_json::to_value(rules).map_err(|e| corrupt_event(e.to_string())))
        .transpose()?);
    active.recurring_event_id = Set(data.recurring_event_id);
    active.status = Set(data.status);
    active.transparent = Set(data.transparent);
    active.html_link = Set(data.html_link);
    active.etag = Set(data.etag);
    active.provider_updated_at = Set(data.provider_updated_at);
    active.plan_task_id = Set(data.plan_task_id);
    active.plan_id = Set(data.plan_id);
    active.span_class = Set(span_class(data.start, data.end));
    Ok(())
}

fn corrupt_event(message: String) -> StoreError {
    StoreError::Corrupt { table: "calendar_events", message }
}

fn to_event(row: events::Model) -> Result<CalendarEvent, StoreError> {
    let recurrence = row
        .recurrence
        .map(serde_json::from_value::<Vec<String>>)
        .transpose()
        .map_err(|e| corrupt_event(e.to_string()))?;
    Ok(CalendarEvent {
        id: row.id,
        connection_id: row.connection_id,
        calendar_id: row.calendar_id,
        data: EventData {
            provider_event_id: row.provider_event_id,
            ical_uid: row.ical_uid,
            title: row.title,
            description: row.description,
            location: row.location,
            start: row.start_at,
            end: row.end_at,
            all_day: row.all_day,
            start_date: row.start_date,
            end_date: row.end_date,
            time_zone: row.time_zone,
            recurrence,
            recurring_event_id: row.recurring_event_id,
            status: row.status,
            transparent: row.transparent,
            html_link: row.html_link,
            etag: row.etag,
            provider_updated_at: row.provider_updated_at,
            plan_task_id: row.plan_task_id,
            plan_id: row.plan_id,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use migration::{Migrator, MigratorTrait};
    use sea_orm::Statement;

    use super::*;
    use crate::Database;

    /// The cached text of a window read is only right if the values made per call fill its
    /// placeholders in the builder's order, with the builder's types: compare them over many
    /// windows, limits, engines and reads.
    #[test]
    fn window_values_fill_the_builders_placeholders_in_order() {
        let mut seed: u64 = 7;
        let mut next = |below: i64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            i64::try_from(seed >> 33).unwrap_or(0) % below
        };
        for round in 0..50 {
            let from = Utc.timestamp_opt(1_700_000_000 + next(100_000_000), 0).unwrap();
            let to = from + TimeDelta::minutes(next(600_000) + 1);
            let window = if round % 2 == 0 {
                EventWindow::with_slack(from, to)
            } else {
                EventWindow::in_zone(from, to, &planwright_domain::TimeZone::parse("Asia/Kolkata").unwrap())
            };
            let limit = u64::try_from(next(1_000)).unwrap_or(0);
            let user_id = Uuid::new_v4();
            for connection_id in [None, Some(Uuid::new_v4())] {
                for backend in [DatabaseBackend::Sqlite, DatabaseBackend::Postgres] {
                    for read in [WindowRead::Events, WindowRead::Spans, WindowRead::Listed] {
                        let built =
                            backend.build(&window_select(read, user_id, connection_id, &window, limit));
                        let values = built.values.map(|values| values.0).unwrap_or_default();
                        assert_eq!(
                            values,
                            window_values(read, user_id, connection_id, &window, limit),
                            "{read:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn span_classes_grow_four_times_and_end_unbounded() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).single().expect("start");
        let class = |seconds: i64| span_class(start, start + TimeDelta::seconds(seconds));
        assert_eq!((class(0), class(3_600), class(3_601)), (0, 0, 1));
        assert_eq!((class(14_400), class(86_400), class(7 * 86_400)), (1, 3, 4));
        assert_eq!((class(58_982_400), class(58_982_401), class(-60)), (7, 8, 0));
    }

    /// The migration gives rows written before it the same class the store writes.
    #[tokio::test]
    async fn the_migration_backfills_the_span_class_of_existing_events() {
        let db =
            Database::connect("sqlite::memory:", 1, std::time::Duration::from_secs(5)).await.expect("db");
        let pending = Migrator::get_pending_migrations(db.writer()).await.expect("pending");
        let before = pending
            .iter()
            .position(|migration| migration.name().ends_with("add_event_span_index"))
            .expect("the span-class migration is pending");
        Migrator::up(db.writer(), Some(u32::try_from(before).expect("few"))).await.expect("up to it");
        db.conn().execute_unprepared("PRAGMA foreign_keys = OFF").await.expect("pragma");
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).single().expect("start");
        let spans = [1_800_i64, 7_200, 86_400, 40 * 86_400, 1_000 * 86_400];
        for (i, seconds) in spans.iter().enumerate() {
            let end = start + TimeDelta::seconds(*seconds);
            db.conn()
                .execute_raw(Statement::from_sql_and_values(
                    sea_orm::DatabaseBackend::Sqlite,
                    "INSERT INTO calendar_events (id, connection_id, user_id, provider_event_id, title, start_at, \
                     end_at, all_day, status, transparent, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, 'x', ?, ?, false, 'confirmed', false, ?, ?)",
                    [
                        Uuid::now_v7().into(),
                        Uuid::nil().into(),
                        Uuid::nil().into(),
                        format!("e{i}").into(),
                        start.into(),
                        end.into(),
                        start.into(),
                        start.into(),
                    ],
                ))
                .await
                .expect("old row");
        }
        Migrator::up(db.writer(), None).await.expect("span class migration");
        let rows = events::Entity::find().order_by_asc(events::Column::ProviderEventId).all(db.conn()).await;
        let classes: Vec<i16> = rows.expect("rows").into_iter().map(|row| row.span_class).collect();
        let expected: Vec<i16> =
            spans.iter().map(|seconds| span_class(start, start + TimeDelta::seconds(*seconds))).collect();
        assert_eq!(classes, expected);
        assert_eq!(expected, [0, 1, 3, 5, 8]);
    }
}
