//! The calendars of a connection's account (Google's `calendarList`) and which of them count as
//! busy time and which one receives the blocks.
//!
//! The target always counts as busy time: its other events are on the same calendar as the
//! blocks, and ignoring them would book the person twice there. Other calendars count when
//! chosen; each is synced with its own sync token (and watched by its own push channel), and
//! its events are busy time for scheduling, free/busy and re-planning. A calendar that no longer
//! counts loses its synced events at once. Changing the target moves nothing already written:
//! while the current target holds blocks that have not ended, the change is refused (409
//! `calendar_target_has_blocks`), so a block is never left behind on a calendar Planwright no
//! longer writes to (re-scheduling would then write a second copy on the new target).

use std::collections::HashSet;

use chrono::Utc;
use planwright_calendar::{CalendarListEntry, CalendarListParams};
use planwright_domain::{
    CalendarConnection, CalendarProvider, ConnectionStatus, FieldError, ValidationErrors,
};
use planwright_store::repo::calendar as repo;
use uuid::Uuid;

use super::{google_error, require_google};
use crate::{
    error::{ApiError, Missing, not_found},
    state::AppState,
};

/// Most calendars that may count as busy time: Google's `freeBusy` answers for at most 50.
pub const MAX_BUSY_CALENDARS: usize = 50;

/// One calendar of the account, with the person's choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountCalendar {
    /// Google's calendar id (the account's e-mail for its primary calendar; `local` for the
    /// built-in one).
    pub id: String,
    /// Title (the person's own name for it, when they gave one).
    pub summary: Option<String>,
    /// The account's primary calendar.
    pub primary: bool,
    /// `owner`, `writer`, `writerWithoutPrivateAccess`, `reader` or `freeBusyReader`.
    pub access_role: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// `#rrggbb`.
    pub background_color: Option<String>,
    /// Shown in Google Calendar's UI.
    pub selected: bool,
    /// Hidden from Google Calendar's list.
    pub hidden: bool,
    /// Counts as busy time.
    pub busy: bool,
    /// Receives the blocks.
    pub target: bool,
    /// Planwright may write events here.
    pub writable: bool,
}

/// A new choice; a field left out keeps the current one.
#[derive(Debug, Clone, Default)]
pub struct CalendarSelection {
    /// Every calendar that counts as busy time (the target counts whether listed or not).
    pub busy: Option<Vec<String>>,
    /// The calendar that receives the blocks.
    pub target: Option<String>,
}

/// The account's calendars with the current choice, primary first.
pub async fn list_calendars(
    state: &AppState,
    user_id: Uuid,
    connection_id: Uuid,
) -> Result<Vec<AccountCalendar>, ApiError> {
    let connection = find(state, user_id, connection_id).await?;
    let entries = account_calendars(state, &connection).await?;
    let busy = busy_ids(state, &connection).await?;
    Ok(entries.into_iter().map(|entry| describe(&connection, &busy, entry)).collect())
}

/// Stores a new choice and returns the calendars as they now stand. Calendars newly counted as
/// busy are synced and watched in the background; busy time changed, so a re-plan is asked for.
pub async fn select_calendars(
    state: &AppState,
    user_id: Uuid,
    connection_id: Uuid,
    selection: CalendarSelection,
) -> Result<Vec<AccountCalendar>, ApiError> {
    let connection = find(state, user_id, connection_id).await?;
    let entries = account_calendars(state, &connection).await?;
    let current_busy = busy_ids(state, &connection).await?;
    let (target, busy) = resolve(&connection, &entries, &current_busy, selection)?;
    if target != connection.target_calendar_id {
        let source = repo::EventSource { connection_id, calendar_id: connection.target_calendar_id.as_str() };
        if repo::has_future_blocks(state.db.conn(), source, Utc::now()).await? {
            return Err(target_has_blocks());
        }
    }
    let others: Vec<String> = busy.iter().filter(|id| **id != target).cloned().collect();
    let applied = repo::select_calendars(state.db.conn(), user_id, connection_id, &target, &others)
        .await
        .map_err(not_found(Missing::CalendarConnection))?;
    if let Some(client) = state.calendar.client_for(&state.db, connection_id) {
        for channel in &applied.stopped_channels {
            if let Err(error) = client.channels().stop(&channel.id, &channel.resource_id).await {
                tracing::warn!(connection_id = %connection_id, error = %error, "could not stop a push channel");
            }
        }
    }
    let connection = applied.connection.unwrap_or(connection);
    if connection.provider == CalendarProvider::Google {
        crate::jobs::calendar_sync::after_connect(state.clone(), connection.id);
    }
    super::replan::request(state, user_id);
    let busy = busy_ids(state, &connection).await?;
    Ok(entries.into_iter().map(|entry| describe(&connection, &busy, entry)).collect())
}

/// 409 `calendar_target_has_blocks`: the target cannot move while blocks ahead are on it.
pub fn target_has_blocks() -> ApiError {
    ApiError::Conflict {
        code: "calendar_target_has_blocks",
        detail: "Planned blocks that have not ended are on the current target calendar. Finish or \
                 unschedule them before blocks go to another calendar."
            .to_owned(),
    }
}

async fn find(state: &AppState, user_id: Uuid, connection_id: Uuid) -> Result<CalendarConnection, ApiError> {
    repo::find_connection(state.db.conn(), user_id, connection_id)
        .await
        .map_err(not_found(Missing::CalendarConnection))
}

/// The account's calendar list: Google's (hidden entries included: the person may still want
/// their events to count), or the built-in calendar alone.
async fn account_calendars(
    state: &AppState,
    connection: &CalendarConnection,
) -> Result<Vec<CalendarListEntry>, ApiError> {
    match connection.provider {
        CalendarProvider::Local => {
            let mut entry = CalendarListEntry::default();
            entry.id = connection.calendar_id.clone();
            entry.summary = Some("Planwright".to_owned());
            entry.access_role = Some("owner".to_owned());
            entry.primary = true;
            entry.selected = true;
            Ok(vec![entry])
        }
        CalendarProvider::Google => {
            if connection.status != ConnectionStatus::Active {
                return Err(ApiError::calendar_needs_reauth());
            }
            let client = require_google(state)?.client_for(&state.db, &state.calendar.cipher, connection.id);
            let params = CalendarListParams::new().with_show_hidden(true).with_max_results(250);
            let mut entries = match client.calendar_list().list_all(&params).await {
                Ok(entries) => entries,
                Err(error) => return Err(google_error(state, connection.id, error).await),
            };
            entries.retain(|entry| !entry.deleted);
            entries.sort_by_key(|entry| !entry.primary);
            Ok(entries)
        }
    }
}

/// The calendar ids (as stored) that count as busy: the target and the chosen others.
async fn busy_ids(state: &AppState, connection: &CalendarConnection) -> Result<HashSet<String>, ApiError> {
    let mut ids: HashSet<String> = repo::busy_calendars(state.db.conn(), connection.id)
        .await?
        .into_iter()
        .map(|calendar| calendar.calendar_id)
        .collect();
    ids.insert(connection.target_calendar_id.clone());
    Ok(ids)
}

/// The id a calendar is stored under: the connection's own calendar keeps the name it was
/// connected with (`primary`), so existing connections and their events stay as they were.
fn stored_id(connection: &CalendarConnection, entry: &CalendarListEntry) -> String {
    if entry.primary && connection.calendar_id == "primary" {
        connection.calendar_id.clone()
    } else {
        entry.id.clone()
    }
}

/// The entry a person's id names: Google's id, or `primary` for the primary calendar.
fn named<'a>(entries: &'a [CalendarListEntry], id: &str) -> Option<&'a CalendarListEntry> {
    entries.iter().find(|entry| entry.id == id || (id == "primary" && entry.primary))
}

fn describe(
    connection: &CalendarConnection,
    busy: &HashSet<String>,
    entry: CalendarListEntry,
) -> AccountCalendar {
    let id = stored_id(connection, &entry);
    AccountCalendar {
        busy: busy.contains(&id),
        target: id == connection.target_calendar_id,
        writable: entry.can_write_events(),
        summary: entry.summary_override.or(entry.summary),
        primary: entry.primary,
        access_role: entry.access_role,
        time_zone: entry.time_zone,
        background_color: entry.background_color,
        selected: entry.selected,
        hidden: entry.hidden,
        id: entry.id,
    }
}

/// Checks a choice against the account's calendars: the stored ids of the new target and of
/// every busy calendar (the target included), or 422 naming each bad field.
fn resolve(
    connection: &CalendarConnection,
    entries: &[CalendarListEntry],
    current_busy: &HashSet<String>,
    selection: CalendarSelection,
) -> Result<(String, Vec<String>), ApiError> {
    let mut errors = Vec::new();
    let target = match &selection.target {
        None => Some(connection.target_calendar_id.clone()),
        Some(id) => match named(entries, id) {
            None => {
                errors.push(FieldError::new("target", format!("The account has no calendar {id:?}.")));
                None
            }
            Some(entry) if !entry.can_write_events() => {
                errors.push(FieldError::new(
                    "target",
                    "Planwright cannot write to this calendar (it is read-only for this account).",
                ));
                None
            }
            Some(entry) => Some(stored_id(connection, entry)),
        },
    };
    let mut busy: Vec<String> = Vec::new();
    match &selection.busy {
        None => busy.extend(current_busy.iter().cloned()),
        Some(ids) if ids.len() > MAX_BUSY_CALENDARS => errors.push(FieldError::new(
            "busy",
            format!("At most {MAX_BUSY_CALENDARS} calendars can count as busy time."),
        )),
        Some(ids) => {
            for (index, id) in ids.iter().enumerate() {
                match named(entries, id) {
                    None => errors.push(FieldError::new(
                        format!("busy[{index}]"),
                        format!("The account has no calendar {id:?}."),
                    )),
                    Some(entry) => {
                        let stored = stored_id(connection, entry);
                        if !busy.contains(&stored) {
                            busy.push(stored);
                        }
                    }
                }
            }
        }
    }
    if let Some(target) = &target
        && !busy.contains(target)
    {
        busy.push(target.clone());
    }
    if busy.len() > MAX_BUSY_CALENDARS && errors.is_empty() {
        errors.push(FieldError::new(
            "busy",
            format!("At most {MAX_BUSY_CALENDARS} calendars, the target included, can count as busy time."),
        ));
    }
    match target {
        Some(target) if errors.is_empty() => {
            busy.sort();
            Ok((target, busy))
        }
        _ => Err(ApiError::Validation(errors.into_iter().collect::<ValidationErrors>())),
    }
}
