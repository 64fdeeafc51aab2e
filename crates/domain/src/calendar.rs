//! Calendars a person reaches (the built-in one and Google) and the events kept from them.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::error::FieldError;

/// Where a connection's events live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CalendarProvider {
    /// Planwright's own calendar (exported as an ICS feed).
    Local,
    /// Google Calendar.
    Google,
}

impl CalendarProvider {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Google => "google",
        }
    }

    /// The provider a stored name stands for.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "local" => Some(Self::Local),
            "google" => Some(Self::Google),
            _ => None,
        }
    }
}

/// Whether a connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    /// Working.
    Active,
    /// Google refused the stored grant (`invalid_grant`, or a 401 after a refresh): the person
    /// has to connect again. Sync stops.
    NeedsReauth,
    /// Disconnected at Google.
    Revoked,
}

impl ConnectionStatus {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::NeedsReauth => "needs_reauth",
            Self::Revoked => "revoked",
        }
    }

    /// The status a stored name stands for.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "needs_reauth" => Some(Self::NeedsReauth),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }
}

/// OAuth tokens as stored: AES-256-GCM ciphertexts (with their key id), never plain text.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct EncryptedTokens {
    /// The access token's ciphertext.
    pub access: Option<String>,
    /// The refresh token's ciphertext.
    pub refresh: Option<String>,
    /// When the access token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for EncryptedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedTokens")
            .field("access", &self.access.as_ref().map(|_| "<encrypted>"))
            .field("refresh", &self.refresh.as_ref().map(|_| "<encrypted>"))
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A calendar of a connection's account that counts as busy time besides the target, with its
/// own sync state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusyCalendar {
    /// The connection.
    pub connection_id: Uuid,
    /// Google's calendar id.
    pub calendar_id: String,
    /// Google's `nextSyncToken` from this calendar's last sync.
    pub sync_token: Option<String>,
    /// The push channel watching this calendar.
    pub channel: Option<WatchChannel>,
}

/// A push-notification channel Google was asked to open for a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchChannel {
    /// Our id for it (a UUID).
    pub id: String,
    /// Google's id of the watched resource (needed to stop it).
    pub resource_id: String,
    /// SHA-256 (hex) of the token Google echoes in `X-Goog-Channel-Token`.
    pub token_hash: String,
    /// When Google stops sending.
    pub expires_at: DateTime<Utc>,
}

/// A calendar a person reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarConnection {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Local or Google.
    pub provider: CalendarProvider,
    /// The Google account's email.
    pub account_email: Option<String>,
    /// The calendar within the account the connection was made for (`primary`; `local` for the
    /// built-in one). It names the connection; blocks go to [`target_calendar_id`](Self::target_calendar_id).
    pub calendar_id: String,
    /// The calendar that receives the blocks and whose sync state (`sync_token`, `channel`) is
    /// kept here: `calendar_id` unless the person chose another one.
    pub target_calendar_id: String,
    /// Whether it works.
    pub status: ConnectionStatus,
    /// The stored tokens.
    pub tokens: EncryptedTokens,
    /// Scopes Google granted, space-separated.
    pub scopes: Option<String>,
    /// Google's `nextSyncToken` from the last sync.
    pub sync_token: Option<String>,
    /// When the last sync finished.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// `ok` or `error` (none before the first sync).
    pub last_sync_status: Option<String>,
    /// The last sync's error, for people.
    pub last_error: Option<String>,
    /// The open push channel.
    pub channel: Option<WatchChannel>,
    /// When Google refused a focus-time event on this calendar: blocks are written as ordinary
    /// events there from then on.
    pub focus_time_refused_at: Option<DateTime<Utc>>,
    /// When Google's Calendar usage limits stopped writes to this calendar, and Google's words.
    pub writes_paused: Option<WritesPaused>,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Google answered a write with its Calendar usage limits (`quotaExceeded`, "Calendar usage
/// limits exceeded"): writes to the connection stop until a cool-down has passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritesPaused {
    /// When the limit was hit.
    pub at: DateTime<Utc>,
    /// What Google said, for people.
    pub detail: String,
}

impl WritesPaused {
    /// When writes may run again, after `cooldown`.
    pub fn until(&self, cooldown: chrono::TimeDelta) -> DateTime<Utc> {
        self.at + cooldown
    }

    /// Whether writes are still stopped at `now`.
    pub fn holds(&self, cooldown: chrono::TimeDelta, now: DateTime<Utc>) -> bool {
        now < self.until(cooldown)
    }
}

/// An event's title: 1 to 1024 characters.
pub fn parse_event_summary(raw: &str) -> Result<String, FieldError> {
    let summary = raw.trim();
    if summary.is_empty() || raw.chars().count() > 1024 {
        return Err(FieldError::new("summary", "A summary has 1 to 1024 characters."));
    }
    Ok(summary.to_owned())
}

/// An event's description: at most 8 000 characters.
pub fn parse_event_description(raw: &str) -> Result<String, FieldError> {
    if raw.chars().count() > 8_000 {
        return Err(FieldError::new("description", "A description has at most 8000 characters."));
    }
    Ok(raw.trim().to_owned())
}

/// The part of a stored event that busy time needs: when it is, and whether it blocks time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpan {
    /// The provider's id (tells a plan's own events apart).
    pub provider_event_id: String,
    /// Start (all-day events: UTC midnight of `start_date`).
    pub start: DateTime<Utc>,
    /// End.
    pub end: DateTime<Utc>,
    /// A whole-day event.
    pub all_day: bool,
    /// First day, for all-day events.
    pub start_date: Option<NaiveDate>,
    /// Day after the last, for all-day events.
    pub end_date: Option<NaiveDate>,
    /// Shown as free: it does not block time.
    pub transparent: bool,
}

/// An event as kept from a calendar (or written to the local one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Our id.
    pub id: Uuid,
    /// The connection it came from.
    pub connection_id: Uuid,
    /// The calendar of the connection's account it is on.
    pub calendar_id: String,
    /// Its details.
    pub data: EventData,
    /// Created here.
    pub created_at: DateTime<Utc>,
    /// Changed here.
    pub updated_at: DateTime<Utc>,
}

/// What a listing shows of an event (the API's event): the fields people see and its
/// calendar's provider, without what only sync uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedEvent {
    /// Our id.
    pub id: Uuid,
    /// The connection it came from.
    pub connection_id: Uuid,
    /// That connection's provider.
    pub provider: CalendarProvider,
    /// The provider's id.
    pub provider_event_id: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Stored start (all-day events: UTC midnight of `start_date`).
    pub start: DateTime<Utc>,
    /// Stored end.
    pub end: DateTime<Utc>,
    /// Whether it spans whole days.
    pub all_day: bool,
    /// First day, for all-day events.
    pub start_date: Option<NaiveDate>,
    /// Day after the last, for all-day events.
    pub end_date: Option<NaiveDate>,
    /// The provider's page for it.
    pub html_link: Option<String>,
    /// The task it was placed for, if any.
    pub plan_task_id: Option<Uuid>,
}

impl ListedEvent {
    /// The listing of a stored event on a calendar of `provider`.
    #[must_use]
    pub fn new(event: CalendarEvent, provider: CalendarProvider) -> Self {
        let data = event.data;
        Self {
            id: event.id,
            connection_id: event.connection_id,
            provider,
            provider_event_id: data.provider_event_id,
            title: data.title,
            description: data.description,
            location: data.location,
            start: data.start,
            end: data.end,
            all_day: data.all_day,
            start_date: data.start_date,
            end_date: data.end_date,
            html_link: data.html_link,
            plan_task_id: data.plan_task_id,
        }
    }
}

/// What an event says, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventData {
    /// The provider's id (Google's event id; ours for local events).
    pub provider_event_id: String,
    /// The iCalendar UID.
    pub ical_uid: Option<String>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Start instant (for all-day events: midnight UTC of the start date).
    pub start: DateTime<Utc>,
    /// End instant, exclusive (for all-day events: midnight UTC of the end date).
    pub end: DateTime<Utc>,
    /// Whether it spans whole days.
    pub all_day: bool,
    /// First day of an all-day event.
    pub start_date: Option<NaiveDate>,
    /// Day after the last day of an all-day event.
    pub end_date: Option<NaiveDate>,
    /// The event's time zone, when it names one.
    pub time_zone: Option<String>,
    /// Recurrence rules (`RRULE:...`) of a recurring series.
    pub recurrence: Option<Vec<String>>,
    /// The series an instance belongs to.
    pub recurring_event_id: Option<String>,
    /// `confirmed` or `tentative`.
    pub status: String,
    /// Shown as free (does not block time).
    pub transparent: bool,
    /// Link to the event in the provider's UI.
    pub html_link: Option<String>,
    /// The provider's version tag.
    pub etag: Option<String>,
    /// When the provider last changed it.
    pub provider_updated_at: Option<DateTime<Utc>>,
    /// The plan task it was scheduled for.
    pub plan_task_id: Option<Uuid>,
    /// The plan it was scheduled for.
    pub plan_id: Option<Uuid>,
}

impl EventData {
    /// A confirmed, timed, busy event with nothing else set: the start of every event this
    /// service builds (fields are public; set the others with struct update syntax).
    pub fn new(
        provider_event_id: impl Into<String>,
        title: impl Into<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        Self {
            provider_event_id: provider_event_id.into(),
            ical_uid: None,
            title: title.into(),
            description: None,
            location: None,
            start,
            end,
            all_day: false,
            start_date: None,
            end_date: None,
            time_zone: None,
            recurrence: None,
            recurring_event_id: None,
            status: "confirmed".to_owned(),
            transparent: false,
            html_link: None,
            etag: None,
            provider_updated_at: None,
            plan_task_id: None,
            plan_id: None,
        }
    }

    /// An event of the built-in calendar: its iCalendar UID follows from its id
    /// ([`local_ical_uid`]).
    pub fn local(
        provider_event_id: impl Into<String>,
        title: impl Into<String>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Self {
        let data = Self::new(provider_event_id, title, start, end);
        Self { ical_uid: Some(local_ical_uid(&data.provider_event_id)), ..data }
    }
}

/// The iCalendar UID of a built-in calendar event with id `provider_event_id`. Feeds publish it:
/// changing the format would make every subscriber's calendar show each event twice.
pub fn local_ical_uid(provider_event_id: &str) -> String {
    format!("{provider_event_id}@planwright")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_summary_is_counted_as_sent() {
        assert_eq!(parse_event_summary("  Standup  ").as_deref(), Ok("Standup"));
        assert!(parse_event_summary(&"x".repeat(1024)).is_ok());
        assert!(parse_event_summary(&format!("x{}", " ".repeat(1024))).is_err());
    }

    #[test]
    fn names_round_trip() {
        for provider in [CalendarProvider::Local, CalendarProvider::Google] {
            assert_eq!(CalendarProvider::parse(provider.as_str()), Some(provider));
        }
        for status in [ConnectionStatus::Active, ConnectionStatus::NeedsReauth, ConnectionStatus::Revoked] {
            assert_eq!(ConnectionStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(CalendarProvider::parse("outlook"), None);
    }

    #[test]
    fn token_ciphertexts_stay_out_of_debug_output() {
        let tokens = EncryptedTokens {
            access: Some("v1.abc.secret".into()),
            refresh: Some("v1.abc.other".into()),
            expires_at: None,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("secret") && !shown.contains("other"), "{shown}");
    }

    #[test]
    fn summaries_are_required_and_bounded() {
        assert_eq!(parse_event_summary("  Study "), Ok("Study".to_owned()));
        assert!(parse_event_summary(" ").is_err());
        assert!(parse_event_description(&"x".repeat(8_001)).is_err());
    }

    #[test]
    fn local_events_have_a_fixed_ical_uid() {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let data = EventData::local("pl068v3h3q5du3r3ifk2os5kv4uk", "Read", at, at);
        assert_eq!(data.ical_uid.as_deref(), Some("pl068v3h3q5du3r3ifk2os5kv4uk@planwright"));
        assert_eq!((data.status.as_str(), data.all_day, data.transparent), ("confirmed", false, false));
    }
}
