//! Where calendar writes go: one [`CalendarTarget`] per request and connection, either Google
//! (one Calendar client, built once, and the calendar id) or the built-in calendar. Every write
//! keeps the local copy in step, so nothing above this module asks "Google or built-in?".

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use planwright_calendar::{Client, Error as GoogleError, Event, EventListParams, WriteParams};
use planwright_domain::{CalendarConnection, CalendarProvider, ConnectionStatus, EventData, WritesPaused};
use planwright_store::{StoreError, repo::calendar as repo};
use uuid::Uuid;

use super::{
    google_error,
    mapping::{self, PLAN_PROPERTY, ScheduledTask, TASK_PROPERTY, USER_PROPERTY},
    require_google, writes_paused_error,
};
use crate::{error::ApiError, state::AppState};

/// How writing one event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStatus {
    /// A new event.
    Created,
    /// An existing event was changed (moved, renamed, restored).
    Updated,
    /// The event already matched.
    Unchanged,
    /// The write failed; a re-run finishes it.
    Failed,
}

impl WriteStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Unchanged => "unchanged",
            Self::Failed => "failed",
        }
    }
}

/// Why a write failed, before it is told to a person ([`CalendarTarget::explain`]).
#[derive(Debug)]
pub enum TargetError {
    /// Google refused or did not answer.
    Google(GoogleError),
    /// The local copy could not be read or written.
    Store(StoreError),
    /// Google's usage limits stopped writes to this calendar; nothing was sent.
    Paused,
}

/// One connection's calendar, ready to be written.
#[derive(Debug)]
pub struct CalendarTarget<'a> {
    state: &'a AppState,
    connection: &'a CalendarConnection,
    /// The Calendar client acting for the connection; `None` for the built-in calendar.
    google: Option<Client>,
    /// Write new blocks as focus time: the person asked for it and the calendar has not refused
    /// it (turned off at the first refusal).
    focus_time: AtomicBool,
    /// Google answered a write with its usage limits during this request: nothing more is sent.
    stopped: AtomicBool,
}

impl<'a> CalendarTarget<'a> {
    /// The target of `connection`: 409 `calendar_needs_reauth` when Google no longer accepts its
    /// grant, 503 when it is a Google connection and Google is not configured here.
    pub fn open(state: &'a AppState, connection: &'a CalendarConnection) -> Result<Self, ApiError> {
        if connection.status != ConnectionStatus::Active {
            return Err(ApiError::calendar_needs_reauth());
        }
        let google = match connection.provider {
            CalendarProvider::Google => {
                Some(require_google(state)?.client_for(&state.db, &state.calendar.cipher, connection.id))
            }
            CalendarProvider::Local => None,
        };
        Ok(Self {
            state,
            connection,
            google,
            focus_time: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
        })
    }

    /// Writes new blocks as focus time when `wanted`, the calendar is Google's and it has not
    /// refused focus time before.
    #[must_use]
    pub fn with_focus_time(self, wanted: bool) -> Self {
        let allowed = wanted && self.google.is_some() && self.connection.focus_time_refused_at.is_none();
        self.focus_time.store(allowed, Ordering::Relaxed);
        self
    }

    /// 503 when Google's usage limits stopped writes to this calendar (during this request, or
    /// less than `calendar.write_pause_secs` ago).
    pub fn check_writable(&self) -> Result<(), ApiError> {
        let (cooldown, now) = (super::write_pause(self.state), chrono::Utc::now());
        let stored = self.connection.writes_paused.as_ref().filter(|paused| paused.holds(cooldown, now));
        match (stored, self.stopped()) {
            (Some(paused), _) => Err(writes_paused_error(paused, cooldown)),
            (None, true) => {
                Err(writes_paused_error(&WritesPaused { at: now, detail: String::new() }, cooldown))
            }
            (None, false) => Ok(()),
        }
    }

    /// Whether Google's usage limits stopped writes during this request.
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }

    /// Notes a failed write: Google's usage limits stop every later write of this request.
    fn failed(&self, error: GoogleError) -> TargetError {
        if error.is_usage_limit_exceeded() {
            self.stopped.store(true, Ordering::Relaxed);
        }
        TargetError::Google(error)
    }

    /// The connection written to.
    pub fn connection(&self) -> &CalendarConnection {
        self.connection
    }

    /// Where the local copies of this target's events are kept.
    pub fn source(&self) -> repo::EventSource<'a> {
        repo::EventSource {
            connection_id: self.connection.id,
            calendar_id: self.connection.target_calendar_id.as_str(),
        }
    }

    /// The Calendar client, for a Google connection.
    pub fn google(&self) -> Option<&Client> {
        self.google.as_ref()
    }

    /// A failure as the answer a person can act on (a Google 401 marks the connection).
    pub async fn explain(&self, error: TargetError) -> ApiError {
        match error {
            TargetError::Google(error) => google_error(self.state, self.connection.id, error).await,
            TargetError::Store(error) => error.into(),
            TargetError::Paused => match self.check_writable() {
                Err(paused) => paused,
                Ok(()) => ApiError::Unavailable("Writes to this calendar are stopped for now.".to_owned()),
            },
        }
    }

    /// The live event with id `event_id`, if the calendar has one.
    pub async fn get(&self, event_id: &str) -> Result<Option<EventData>, TargetError> {
        match &self.google {
            Some(client) => Ok(self
                .fetch(client, event_id)
                .await?
                .filter(|event| !event.is_cancelled())
                .and_then(mapping::event_data)),
            None => Ok(repo::find_event(self.state.db.conn(), self.source(), event_id)
                .await
                .map_err(TargetError::Store)?
                .map(|event| event.data)),
        }
    }

    /// Writes a scheduled task's event (created, updated, or left alone when it already matches;
    /// an event the person deleted at Google is brought back) and returns it as Google or the
    /// built-in calendar now holds it. The local copy is the caller's to store.
    pub async fn put(&self, task: &ScheduledTask<'_>) -> Result<(WriteStatus, EventData), TargetError> {
        let Some(client) = &self.google else {
            let desired = task.local_event();
            let status = match self.get(&desired.provider_event_id).await? {
                None => WriteStatus::Created,
                Some(existing)
                    if existing.title == desired.title
                        && existing.description == desired.description
                        && existing.start == desired.start
                        && existing.end == desired.end =>
                {
                    return Ok((WriteStatus::Unchanged, existing));
                }
                Some(_) => WriteStatus::Updated,
            };
            let written = EventData { provider_updated_at: Some(chrono::Utc::now()), ..desired };
            return Ok((status, written));
        };
        if self.stopped() {
            return Err(TargetError::Paused);
        }
        let calendar = self.connection.target_calendar_id.as_str();
        let (event_id, desired) = (task.event_id(), task.google_event());
        let (id, body) = (event_id.as_str(), &desired);
        let patched =
            || async move { patch(client, calendar, id, body).await.map_err(|error| self.failed(error)) };
        let (status, event) = match self.fetch(client, &event_id).await? {
            Some(existing) if !existing.is_cancelled() && mapping::same_event(&existing, &desired) => {
                (WriteStatus::Unchanged, existing)
            }
            Some(_) => (WriteStatus::Updated, patched().await?),
            None => match self.insert_block(client, task).await {
                Ok(created) => (WriteStatus::Created, created),
                // The id belongs to an event the person deleted: bring that one back.
                Err(GoogleError::Conflict { .. }) => (WriteStatus::Updated, patched().await?),
                Err(error) => return Err(self.failed(error)),
            },
        };
        let data = mapping::event_data(event).ok_or_else(|| {
            TargetError::Google(GoogleError::InvalidRequest { message: "event without times".to_owned() })
        })?;
        Ok((status, data))
    }

    /// Inserts a block's event: as focus time when asked for and not refused here before. Google
    /// refuses focus time on calendars and accounts without it (a 400, whatever its reason: the
    /// type is the only difference from an ordinary event); then the block is written as an
    /// ordinary event and the connection remembers the refusal, so later blocks go straight to
    /// ordinary events.
    async fn insert_block(&self, client: &Client, task: &ScheduledTask<'_>) -> Result<Event, GoogleError> {
        let calendar = self.connection.target_calendar_id.as_str();
        if !self.focus_time.load(Ordering::Relaxed) {
            return client.events().insert(calendar, &task.google_event(), &WriteParams::default()).await;
        }
        match client.events().insert(calendar, &task.google_event_as(true), &WriteParams::default()).await {
            Err(GoogleError::Api { status, reason, message, .. }) if status.as_u16() == 400 => {
                let created =
                    client.events().insert(calendar, &task.google_event(), &WriteParams::default()).await?;
                tracing::info!(connection_id = %self.connection.id, %reason, %message,
                    "Google refused a focus-time event; blocks here are ordinary events from now on");
                self.focus_time.store(false, Ordering::Relaxed);
                if let Err(error) =
                    repo::set_focus_time_refused(self.state.db.conn(), self.connection.id, chrono::Utc::now())
                        .await
                {
                    tracing::warn!(error = %error, "could not remember the focus-time refusal");
                }
                Ok(created)
            }
            other => other,
        }
    }

    /// Writes a new event that is not a task's (`POST /calendar/events`); the local copy is
    /// the caller's to store.
    pub async fn insert(&self, event: NewEventData) -> Result<EventData, ApiError> {
        let data = match &self.google {
            None => {
                let id = Uuid::new_v4().simple().to_string();
                EventData {
                    description: event.description,
                    time_zone: event.time_zone.map(|zone| zone.name().to_owned()),
                    provider_updated_at: Some(chrono::Utc::now()),
                    ..EventData::local(id, event.summary, event.start, event.end)
                }
            }
            Some(client) => {
                let at = |instant: chrono::DateTime<chrono::Utc>| match &event.time_zone {
                    Some(zone) => planwright_calendar::EventDateTime::at(instant.with_timezone(&zone.tz()))
                        .with_time_zone(zone.name()),
                    None => planwright_calendar::EventDateTime::at(instant),
                };
                let mut desired =
                    Event::default().with_summary(event.summary).with_times(at(event.start), at(event.end));
                if let Some(description) = event.description {
                    desired = desired.with_description(description);
                }
                self.check_writable()?;
                let calendar = self.connection.target_calendar_id.as_str();
                let created = match client.events().insert(calendar, &desired, &WriteParams::default()).await
                {
                    Ok(created) => created,
                    Err(error) => return Err(self.explain(TargetError::Google(error)).await),
                };
                mapping::event_data(created).ok_or_else(|| {
                    ApiError::BadGateway("Google Calendar returned the event without its times.".to_owned())
                })?
            }
        };
        Ok(data)
    }

    /// Deletes an event (one Google no longer has counts as deleted) and its local copy.
    pub async fn delete(&self, event_id: &str) -> Result<(), ApiError> {
        if let Some(client) = &self.google {
            self.check_writable()?;
            let calendar = self.connection.target_calendar_id.as_str();
            match client.events().delete(calendar, event_id, &WriteParams::default()).await {
                Ok(()) | Err(GoogleError::NotFound { .. } | GoogleError::Gone { .. }) => {}
                Err(error) => {
                    let failed = self.failed(error);
                    return Err(self.explain(failed).await);
                }
            }
        }
        repo::delete_event(self.state.db.conn(), self.source(), event_id).await?;
        Ok(())
    }

    /// The events Planwright wrote for `scope` on this calendar, with the task each holds, by
    /// event id: the stored copies, and for Google also what Google lists by the private
    /// properties (an event written by a run that died before storing its copy is found too).
    pub async fn owned_events(
        &self,
        user_id: Uuid,
        scope: &EventScope<'_>,
    ) -> Result<Vec<(String, Option<Uuid>)>, ApiError> {
        let mut found: HashMap<String, Option<Uuid>> =
            stored_events(self.state, self.connection, user_id, scope).await?.into_iter().collect();
        if let Some(client) = &self.google {
            let params =
                match scope {
                    EventScope::Plan(plan_id) => EventListParams::new()
                        .with_private_extended_property(PLAN_PROPERTY, plan_id.to_string()),
                    EventScope::Tasks(_) => EventListParams::new()
                        .with_private_extended_property(USER_PROPERTY, user_id.to_string()),
                }
                .with_max_results(250);
            let listed = match client.events().sync(&self.connection.target_calendar_id, &params).await {
                Ok(listed) => listed,
                Err(error) => return Err(self.explain(TargetError::Google(error)).await),
            };
            for event in listed.items.into_iter().filter(|event| !event.is_cancelled()) {
                let task_id = mapping::private_id(&event, TASK_PROPERTY);
                if let Some(id) = event.id.filter(|_| scope.holds(task_id)) {
                    found.entry(id).or_insert(task_id);
                }
            }
        }
        let mut found: Vec<(String, Option<Uuid>)> = found.into_iter().collect();
        found.sort();
        Ok(found)
    }

    async fn fetch(&self, client: &Client, event_id: &str) -> Result<Option<Event>, TargetError> {
        match client.events().get(&self.connection.target_calendar_id, event_id).await {
            Ok(existing) => Ok(Some(existing)),
            Err(GoogleError::NotFound { .. } | GoogleError::Gone { .. }) => Ok(None),
            Err(error) => Err(TargetError::Google(error)),
        }
    }
}

/// A new event's fields, checked by the events service.
#[derive(Debug, Clone)]
pub struct NewEventData {
    /// Title.
    pub summary: String,
    /// Description (never empty).
    pub description: Option<String>,
    /// Start.
    pub start: chrono::DateTime<chrono::Utc>,
    /// End.
    pub end: chrono::DateTime<chrono::Utc>,
    /// The zone the times are meant in.
    pub time_zone: Option<planwright_domain::TimeZone>,
}

/// Whose events a scheduling run owns: a whole plan's, or those of some tasks.
#[derive(Debug, Clone, Copy)]
pub enum EventScope<'a> {
    /// Every event written for the plan, whatever its task.
    Plan(Uuid),
    /// The events of these tasks.
    Tasks(&'a HashSet<Uuid>),
}

impl EventScope<'_> {
    /// Whether an event holding `task_id` belongs to the scope (for a plan, the listing already
    /// chose).
    fn holds(&self, task_id: Option<Uuid>) -> bool {
        match self {
            Self::Plan(_) => true,
            Self::Tasks(tasks) => task_id.is_some_and(|id| tasks.contains(&id)),
        }
    }
}

/// The stored copies of the scope's events on `connection`, by event id with their task.
pub async fn stored_events(
    state: &AppState,
    connection: &CalendarConnection,
    user_id: Uuid,
    scope: &EventScope<'_>,
) -> Result<Vec<(String, Option<Uuid>)>, ApiError> {
    let events = match scope {
        EventScope::Plan(plan_id) => repo::events_of_plan(state.db.conn(), user_id, *plan_id).await?,
        EventScope::Tasks(tasks) => {
            let ids: Vec<Uuid> = tasks.iter().copied().collect();
            repo::events_of_tasks(state.db.conn(), user_id, &ids).await?
        }
    };
    Ok(events
        .into_iter()
        .filter(|event| {
            event.connection_id == connection.id && event.calendar_id == connection.target_calendar_id
        })
        .map(|event| (event.data.provider_event_id, event.data.plan_task_id))
        .collect())
}

/// Changes an existing event to `desired` (and un-cancels it). The event type is never sent:
/// Google refuses to change it.
async fn patch(
    client: &Client,
    calendar: &str,
    event_id: &str,
    desired: &Event,
) -> Result<Event, GoogleError> {
    let mut body = serde_json::to_value(desired)
        .map_err(|e| GoogleError::InvalidRequest { message: format!("event cannot be encoded: {e}") })?;
    if let Some(object) = body.as_object_mut() {
        for field in ["id", "eventType", "focusTimeProperties", "outOfOfficeProperties"] {
            object.remove(field);
        }
        object.insert("status".to_owned(), serde_json::Value::String("confirmed".to_owned()));
    }
    client.events().patch(calendar, event_id, &body, &WriteParams::default()).await
}
