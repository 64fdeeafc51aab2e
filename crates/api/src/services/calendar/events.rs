//! Events across a user's calendars: the upcoming ones, and new ones written to Google or to the
//! built-in calendar.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use chrono_tz::Tz;
use planwright_calendar::{Event, EventDateTime, WriteParams};
use planwright_domain::{
    CalendarConnection, CalendarEvent, CalendarProvider, ConnectionStatus, EventData, FieldError, TimeZone,
    ValidationErrors,
};
use planwright_store::repo::{calendar as repo, users};
use uuid::Uuid;

use super::{google_error, require_google, sync::event_data};
use crate::{error::ApiError, state::AppState};

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
    match (data.start_date, data.end_date) {
        (Some(start), Some(end)) if data.all_day => (midnight(start, zone), midnight(end, zone)),
        _ => (data.start, data.end),
    }
}

/// The first instant of `date` in `zone` (after a gap, if midnight does not exist there).
pub(crate) fn midnight(date: NaiveDate, zone: &TimeZone) -> DateTime<Utc> {
    let tz: Tz = zone.tz();
    use chrono::TimeZone as _;
    let mut time = date.and_time(NaiveTime::MIN);
    for _ in 0..48 {
        if let Some(at) = tz.from_local_datetime(&time).earliest() {
            return at.with_timezone(&Utc);
        }
        time += TimeDelta::minutes(30);
    }
    date.and_time(NaiveTime::MIN).and_utc()
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
    let data = match connection.provider {
        CalendarProvider::Local => {
            let id = Uuid::new_v4().simple().to_string();
            EventData {
                ical_uid: Some(format!("{id}@planwright")),
                provider_event_id: id,
                title: new.summary,
                description: new.description.filter(|d| !d.is_empty()),
                location: None,
                start: new.start,
                end: new.end,
                all_day: false,
                start_date: None,
                end_date: None,
                time_zone: new.time_zone.map(|zone| zone.name().to_owned()),
                recurrence: None,
                recurring_event_id: None,
                status: "confirmed".to_owned(),
                transparent: false,
                html_link: None,
                etag: None,
                provider_updated_at: Some(Utc::now()),
                plan_task_id: None,
                plan_id: None,
            }
        }
        CalendarProvider::Google => {
            if connection.status != ConnectionStatus::Active {
                return Err(ApiError::Conflict {
                    code: "calendar_needs_reauth",
                    detail:
                        "Google no longer accepts this calendar connection. Connect Google Calendar again."
                            .to_owned(),
                });
            }
            let google = require_google(state)?;
            let at = |instant: DateTime<Utc>| match &new.time_zone {
                Some(zone) => {
                    EventDateTime::at(instant.with_timezone(&zone.tz())).with_time_zone(zone.name())
                }
                None => EventDateTime::at(instant),
            };
            let mut event = Event::default().with_summary(new.summary).with_times(at(new.start), at(new.end));
            if let Some(description) = new.description.filter(|d| !d.is_empty()) {
                event = event.with_description(description);
            }
            let client = google.client_for(state, connection.id);
            let created =
                client.events().insert(&connection.calendar_id, &event, &WriteParams::default()).await;
            let created = match created {
                Ok(created) => created,
                Err(error) => return Err(google_error(state, connection.id, error).await),
            };
            event_data(created).ok_or_else(|| {
                ApiError::BadGateway("Google Calendar returned the event without its times.".to_owned())
            })?
        }
    };
    let (event, _) = repo::upsert_event(state.db.conn(), user_id, connection.id, data).await?;
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
        return repo::find_connection(state.db.conn(), user_id, id).await.map_err(super::not_found);
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
    use super::*;

    #[test]
    fn all_day_events_start_at_midnight_in_the_users_zone() {
        let zone = TimeZone::parse("America/New_York").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        let data = EventData {
            provider_event_id: "x".into(),
            ical_uid: None,
            title: "Holiday".into(),
            description: None,
            location: None,
            start: day.and_time(NaiveTime::MIN).and_utc(),
            end: (day + TimeDelta::days(1)).and_time(NaiveTime::MIN).and_utc(),
            all_day: true,
            start_date: Some(day),
            end_date: Some(day + TimeDelta::days(1)),
            time_zone: None,
            recurrence: None,
            recurring_event_id: None,
            status: "confirmed".into(),
            transparent: false,
            html_link: None,
            etag: None,
            provider_updated_at: None,
            plan_task_id: None,
            plan_id: None,
        };
        let (start, end) = placed_times(&data, &zone);
        assert_eq!(start.to_rfc3339(), "2026-12-24T05:00:00+00:00");
        assert_eq!(end - start, TimeDelta::hours(24));
    }

    #[test]
    fn midnight_that_does_not_exist_moves_to_the_first_instant_of_the_day() {
        // Clocks in America/Santiago jumped from 00:00 to 01:00 on 2026-09-06.
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = midnight(day, &TimeZone::parse("America/Santiago").unwrap());
        assert_eq!(start.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }
}
