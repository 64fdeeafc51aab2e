//! Events across a user's calendars: the upcoming ones, and new ones written to Google or to the
//! built-in calendar.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use planwright_domain::{
    CalendarConnection, CalendarEvent, CalendarProvider, EventData, EventSpan, FieldError, TimeZone,
    ValidationErrors, start_of_day,
};
use planwright_store::repo::{calendar as repo, users};
use uuid::Uuid;

use super::target::{CalendarTarget, NewEventData};
use crate::{
    error::{ApiError, Missing, not_found},
    state::AppState,
};

/// An event with where it lives and its times as the user sees them.
#[derive(Debug, Clone)]
pub struct PlacedEvent {
    /// The event.
    pub event: CalendarEvent,
    /// Its calendar's provider.
    pub provider: CalendarProvider,
    /// Start (all-day events: midnight in the user's zone).
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

/// The next `limit` events of the next `days` days across the user's calendars, by start.
pub async fn upcoming(
    state: &AppState,
    user_id: Uuid,
    limit: usize,
    days: u32,
) -> Result<Vec<PlacedEvent>, ApiError> {
    let db = state.db.conn();
    let zone = users::find(db, user_id).await?.timezone;
    // Read-only: the built-in calendar is made at registration, and an event exists only on a
    // connection that does.
    let providers: HashMap<Uuid, CalendarProvider> = repo::list_connections(db, user_id)
        .await?
        .into_iter()
        .map(|connection| (connection.id, connection.provider))
        .collect();
    let now = Utc::now();
    let until = now + TimeDelta::days(i64::from(days));
    // All-day events come back by their UTC-midnight start; a few spare rows let one placed
    // earlier in the user's zone still make the cut.
    let rows = u64::try_from(limit.saturating_mul(2).saturating_add(10)).unwrap_or(u64::MAX);
    let candidates = repo::events_between(db, user_id, None, now, until, rows).await?;
    let mut placed: Vec<PlacedEvent> = candidates
        .into_iter()
        .filter_map(|event| {
            let (start, end) = placed_times(&event.data, &zone);
            let provider = *providers.get(&event.connection_id)?;
            (end > now && start < until).then_some(PlacedEvent { event, provider, start, end })
        })
        .collect();
    placed.sort_by_key(|p| (p.start, p.end, p.event.id));
    placed.truncate(limit);
    Ok(placed)
}

/// An event's start and end as instants, all-day events placed at midnight in `zone`.
pub fn placed_times(data: &EventData, zone: &TimeZone) -> (DateTime<Utc>, DateTime<Utc>) {
    placed(data.all_day, (data.start_date, data.end_date), (data.start, data.end), zone)
}

/// [`placed_times`] for the lean read of busy time.
pub fn span_times(span: &EventSpan, zone: &TimeZone) -> (DateTime<Utc>, DateTime<Utc>) {
    placed(span.all_day, (span.start_date, span.end_date), (span.start, span.end), zone)
}

fn placed(
    all_day: bool,
    dates: (Option<NaiveDate>, Option<NaiveDate>),
    instants: (DateTime<Utc>, DateTime<Utc>),
    zone: &TimeZone,
) -> (DateTime<Utc>, DateTime<Utc>) {
    match dates {
        (Some(start), Some(end)) if all_day => (start_of_day(start, zone), start_of_day(end, zone)),
        _ => instants,
    }
}

/// A new event.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Title.
    pub summary: String,
    /// Description.
    pub description: Option<String>,
    /// Start.
    pub start: DateTime<Utc>,
    /// End, after the start.
    pub end: DateTime<Utc>,
    /// The zone the times are meant in (Google shows the event in it).
    pub time_zone: Option<TimeZone>,
    /// The calendar; by default the user's Google calendar, else the built-in one.
    pub connection_id: Option<Uuid>,
}

/// Checks a new event's fields, naming each bad one.
pub fn check_new_event(event: &NewEvent) -> Result<(), ValidationErrors> {
    if event.end <= event.start {
        return Err(ValidationErrors::from_iter([FieldError::new(
            "end",
            "The end must be after the start.",
        )]));
    }
    if event.end - event.start > TimeDelta::days(366) {
        return Err(ValidationErrors::from_iter([FieldError::new("end", "An event lasts at most a year.")]));
    }
    Ok(())
}

/// Writes an event to the chosen calendar and keeps a copy here, so it shows among the upcoming
/// events at once.
pub async fn create(state: &AppState, user_id: Uuid, new: NewEvent) -> Result<PlacedEvent, ApiError> {
    check_new_event(&new).map_err(ApiError::Validation)?;
    let connection = target_connection(state, user_id, new.connection_id).await?;
    let target = CalendarTarget::open(state, &connection)?;
    let fields = NewEventData {
        summary: new.summary,
        description: new.description.filter(|d| !d.is_empty()),
        start: new.start,
        end: new.end,
        time_zone: new.time_zone,
    };
    let data = target.insert(fields).await?;
    let (event, _) = repo::upsert_event(state.db.conn(), user_id, target.source(), data).await?;
    let zone = users::find(state.db.conn(), user_id).await?.timezone;
    let (start, end) = placed_times(&event.data, &zone);
    Ok(PlacedEvent { event, provider: connection.provider, start, end })
}

/// One of the user's stored events (404 when not theirs), as `create` returned it.
pub async fn get(state: &AppState, user_id: Uuid, id: Uuid) -> Result<PlacedEvent, ApiError> {
    let event =
        repo::find_user_event(state.db.conn(), user_id, id).await.map_err(not_found(Missing::Event))?;
    let connection = repo::find_connection(state.db.conn(), user_id, event.connection_id)
        .await
        .map_err(not_found(Missing::Event))?;
    let zone = users::find(state.db.conn(), user_id).await?.timezone;
    let (start, end) = placed_times(&event.data, &zone);
    Ok(PlacedEvent { event, provider: connection.provider, start, end })
}

/// The connection named (404 when not the caller's), or the default: the caller's Google
/// connection when they have one, else the built-in calendar.
pub async fn target_connection(
    state: &AppState,
    user_id: Uuid,
    connection_id: Option<Uuid>,
) -> Result<CalendarConnection, ApiError> {
    if let Some(id) = connection_id {
        return repo::find_connection(state.db.conn(), user_id, id)
            .await
            .map_err(not_found(Missing::CalendarConnection));
    }
    let connections = super::list_connections(state, user_id).await?;
    let google = connections.iter().find(|c| c.provider == CalendarProvider::Google).cloned();
    match google {
        Some(google) => Ok(google),
        None => connections
            .into_iter()
            .find(|c| c.provider == CalendarProvider::Local)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the built-in calendar is missing"))),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveTime};

    use super::*;

    #[test]
    fn all_day_events_start_at_midnight_in_the_users_zone() {
        let zone = TimeZone::parse("America/New_York").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        let data = EventData {
            all_day: true,
            start_date: Some(day),
            end_date: Some(day + TimeDelta::days(1)),
            ..EventData::new(
                "x",
                "Holiday",
                day.and_time(NaiveTime::MIN).and_utc(),
                (day + TimeDelta::days(1)).and_time(NaiveTime::MIN).and_utc(),
            )
        };
        let (start, end) = placed_times(&data, &zone);
        assert_eq!(start.to_rfc3339(), "2026-12-24T05:00:00+00:00");
        assert_eq!(end - start, TimeDelta::hours(24));
    }
}
