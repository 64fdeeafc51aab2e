//! Events across a user's calendars: the upcoming ones, and new ones written to Google or to the
//! built-in calendar.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use planwright_domain::{
    CalendarConnection, CalendarProvider, EventData, EventSpan, FieldError, ListedEvent, TimeZone,
    ValidationErrors, start_of_day,
};
use planwright_store::repo::{calendar as repo, users};
use uuid::Uuid;

use super::target::{CalendarTarget, NewEventData};
use crate::{
    error::{ApiError, Missing, not_found},
    state::AppState,
};

/// An event as a listing shows it, with its times as the user sees them.
#[derive(Debug, Clone)]
pub struct PlacedEvent {
    /// The event.
    pub event: ListedEvent,
    /// Start (all-day events: midnight in the user's zone).
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
}

impl PlacedEvent {
    fn new(event: ListedEvent, zone: &TimeZone) -> Self {
        let (start, end) =
            placed(event.all_day, (event.start_date, event.end_date), (event.start, event.end), zone);
        Self { event, start, end }
    }
}

/// The next `limit` events of the next `days` days across the user's calendars, by start: two
/// statements (the user's zone, then the events with their calendars' providers), each term of
/// the window read exactly as far as the answer needs, so the cost follows `limit`, not the
/// calendar's size.
pub async fn upcoming(
    state: &AppState,
    user_id: Uuid,
    limit: usize,
    days: u32,
) -> Result<Vec<PlacedEvent>, ApiError> {
    let db = state.db.conn();
    let zone = users::time_zone(db, user_id).await?;
    let now = Utc::now();
    let until = now + TimeDelta::days(i64::from(days));
    // In the zone's window, all-day events keep their stored order once placed, so every term
    // needs at most `limit` rows.
    let window = repo::EventWindow::in_zone(now, until, &zone);
    let rows = u64::try_from(limit).unwrap_or(u64::MAX);
    let mut placed: Vec<PlacedEvent> = repo::listed_between(db, user_id, &window, rows)
        .await?
        .into_iter()
        .map(|event| PlacedEvent::new(event, &zone))
        .filter(|placed| placed.end > now && placed.start < until)
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
    let zone = users::time_zone(state.db.conn(), user_id).await?;
    Ok(PlacedEvent::new(ListedEvent::new(event, connection.provider), &zone))
}

/// One of the user's stored events (404 when not theirs), as `create` returned it.
pub async fn get(state: &AppState, user_id: Uuid, id: Uuid) -> Result<PlacedEvent, ApiError> {
    let event =
        repo::find_user_event(state.db.conn(), user_id, id).await.map_err(not_found(Missing::Event))?;
    let connection = repo::find_connection(state.db.conn(), user_id, event.connection_id)
        .await
        .map_err(not_found(Missing::Event))?;
    let zone = users::time_zone(state.db.conn(), user_id).await?;
    Ok(PlacedEvent::new(ListedEvent::new(event, connection.provider), &zone))
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
