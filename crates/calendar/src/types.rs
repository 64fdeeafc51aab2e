//! Calendar v3 resources as they travel on the wire (camelCase JSON). Unknown fields are kept in
//! each type's `extra` map and sent back as they came, so a read-modify-write round trip loses
//! nothing this crate does not model.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Declares a string enum that keeps values it does not know in `Other`.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The value as sent on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $($wire => Self::$variant,)+
                    _ => Self::Other(value),
                }
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                match value {
                    $name::Other(value) => value,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

open_enum! {
    /// An event's `status`.
    EventStatus {
        /// `confirmed`: the default.
        Confirmed => "confirmed",
        /// `tentative`.
        Tentative => "tentative",
        /// `cancelled`: deleted (or a cancelled instance of a recurring event). Incremental sync
        /// and `showDeleted=true` return these, often with little more than `id` and `status`.
        Cancelled => "cancelled",
    }
}

open_enum! {
    /// An event's `eventType`, also the values of the `eventTypes` filter.
    EventType {
        /// `default`: a regular event.
        Default => "default",
        /// `birthday`: an all-day event recurring yearly.
        Birthday => "birthday",
        /// `focusTime`.
        FocusTime => "focusTime",
        /// `fromGmail`: an event created from Gmail.
        FromGmail => "fromGmail",
        /// `outOfOffice`.
        OutOfOffice => "outOfOffice",
        /// `workingLocation`.
        WorkingLocation => "workingLocation",
    }
}

open_enum! {
    /// Which meeting invitations a focus-time or out-of-office event declines by itself
    /// (`autoDeclineMode`).
    AutoDeclineMode {
        /// `declineNone`: none.
        DeclineNone => "declineNone",
        /// `declineAllConflictingInvitations`: every invitation that overlaps it.
        DeclineAllConflictingInvitations => "declineAllConflictingInvitations",
        /// `declineOnlyNewConflictingInvitations`: only invitations that arrive while it exists.
        DeclineOnlyNewConflictingInvitations => "declineOnlyNewConflictingInvitations",
    }
}

open_enum! {
    /// The person's status in Chat during a focus-time event (`chatStatus`).
    ChatStatus {
        /// `available`.
        Available => "available",
        /// `doNotDisturb`.
        DoNotDisturb => "doNotDisturb",
    }
}

/// `focusTimeProperties`: what a focus-time event (`eventType: focusTime`) does. Google refuses
/// them with any other event type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FocusTimeProperties {
    /// Which overlapping invitations are declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_decline_mode: Option<AutoDeclineMode>,
    /// The reply sent with a declined invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_message: Option<String>,
    /// The person's Chat status meanwhile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_status: Option<ChatStatus>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `outOfOfficeProperties`: what an out-of-office event (`eventType: outOfOffice`) does. Google
/// refuses them with any other event type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfOfficeProperties {
    /// Which overlapping invitations are declined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_decline_mode: Option<AutoDeclineMode>,
    /// The reply sent with a declined invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_message: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// When an event starts or ends: a `dateTime` (with an optional IANA `timeZone`, required for
/// recurring events), or a `date` for all-day events (the end date is exclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventDateTime {
    /// The day, for all-day events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// The instant with its UTC offset, for timed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_time: Option<DateTime<FixedOffset>>,
    /// The IANA time zone, e.g. `Europe/Paris`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

impl EventDateTime {
    /// A timed start or end.
    pub fn at<Tz: TimeZone>(date_time: DateTime<Tz>) -> Self {
        Self { date: None, date_time: Some(date_time.fixed_offset()), time_zone: None }
    }

    /// An all-day start or end (for the end, the day after the last day).
    pub fn all_day(date: NaiveDate) -> Self {
        Self { date: Some(date), date_time: None, time_zone: None }
    }

    /// Sets the IANA time zone the time is expressed in.
    pub fn with_time_zone(mut self, time_zone: impl Into<String>) -> Self {
        self.time_zone = Some(time_zone.into());
        self
    }

    /// Whether this is an all-day date.
    pub fn is_all_day(&self) -> bool {
        self.date.is_some() && self.date_time.is_none()
    }
}

/// `extendedProperties`: string key/value pairs private to this calendar's copy of the event, or
/// shared with every attendee. Handy for storing your own ids on an event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendedProperties {
    /// Visible only on this calendar.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub private: BTreeMap<String, String>,
    /// Visible to all attendees.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shared: BTreeMap<String, String>,
}

/// A calendar event. Every field is optional so the same type serves as a full resource, an
/// insert body and a patch body (unset fields are not sent); unknown fields land in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The id. On insert you may choose it (see [`validate_event_id`](crate::validate_event_id));
    /// instances of recurring events have ids like `abc_20250101T090000Z`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `confirmed`, `tentative` or `cancelled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<EventStatus>,
    /// The title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The description (may contain HTML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Free-form location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Inclusive start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<EventDateTime>,
    /// Exclusive end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<EventDateTime>,
    /// RRULE, EXRULE, RDATE and EXDATE lines (RFC 5545) of a recurring event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Vec<String>>,
    /// For an instance of a recurring event: the recurring event's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_event_id: Option<String>,
    /// For an instance of a recurring event: its start per the recurrence rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_start_time: Option<EventDateTime>,
    /// Private and shared key/value pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_properties: Option<ExtendedProperties>,
    /// The event's page in Google Calendar (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html_link: Option<String>,
    /// The RFC 5545 UID, shared by all instances of a recurring event.
    #[serde(rename = "iCalUID", default, skip_serializing_if = "Option::is_none")]
    pub ical_uid: Option<String>,
    /// ETag of the resource (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Last modification time (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// Creation time (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// `default`, `focusTime`, `outOfOffice`, `workingLocation`, `birthday`, `fromGmail`, or a
    /// value this crate does not know yet ([`EventType::Other`]). Set it on insert only: Google
    /// refuses to change an event's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<EventType>,
    /// For `eventType: focusTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus_time_properties: Option<FocusTimeProperties>,
    /// For `eventType: outOfOffice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_office_properties: Option<OutOfOfficeProperties>,
    /// Every other field (`kind`, `attendees`, `reminders`, `transparency`, `colorId`...), as
    /// received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// An empty event, to fill with the `with_*` setters or struct update syntax.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the id (validated on insert).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the title.
    pub fn with_summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = Some(summary.into());
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the location.
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Sets start and end.
    pub fn with_times(mut self, start: EventDateTime, end: EventDateTime) -> Self {
        self.start = Some(start);
        self.end = Some(end);
        self
    }

    /// Sets the status.
    pub fn with_status(mut self, status: EventStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds a private extended property.
    pub fn with_private_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extended_properties
            .get_or_insert_with(Default::default)
            .private
            .insert(key.into(), value.into());
        self
    }

    /// Adds a shared extended property.
    pub fn with_shared_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extended_properties.get_or_insert_with(Default::default).shared.insert(key.into(), value.into());
        self
    }

    /// Makes it a focus-time event with these properties (Google accepts focus time only on
    /// primary calendars of some accounts, and only for timed events).
    pub fn with_focus_time(mut self, properties: FocusTimeProperties) -> Self {
        self.event_type = Some(EventType::FocusTime);
        self.focus_time_properties = Some(properties);
        self
    }

    /// The event type; an event without one is a `default` event.
    pub fn kind(&self) -> EventType {
        self.event_type.clone().unwrap_or(EventType::Default)
    }

    /// Whether the event shows as free (`transparency: transparent`).
    pub fn is_transparent(&self) -> bool {
        self.extra.get("transparency").and_then(Value::as_str) == Some("transparent")
    }

    /// Whether the event is cancelled (deleted).
    pub fn is_cancelled(&self) -> bool {
        self.status == Some(EventStatus::Cancelled)
    }

    /// A private extended property.
    pub fn private_property(&self, key: &str) -> Option<&str> {
        self.extended_properties.as_ref()?.private.get(key).map(String::as_str)
    }

    /// A shared extended property.
    pub fn shared_property(&self, key: &str) -> Option<&str> {
        self.extended_properties.as_ref()?.shared.get(key).map(String::as_str)
    }
}

/// One page of `events.list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventPage {
    /// The events on this page (may be empty even when more pages follow).
    #[serde(default)]
    pub items: Vec<Event>,
    /// Token for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// Token for the next incremental sync; present on the last page only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_token: Option<String>,
    /// The calendar's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The calendar's time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Last modification time of the calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    /// The user's access role on the calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_role: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What [`EventsResource::sync`](crate::EventsResource::sync) collected over all pages.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SyncResult {
    /// Every event of every page, in order. In an incremental sync, deleted events appear with
    /// status `cancelled`.
    pub items: Vec<Event>,
    /// Store this for the next incremental sync. `None` only if Google sent none (it does not
    /// for some filter combinations).
    pub next_sync_token: Option<String>,
    /// How many pages were fetched.
    pub pages: u32,
}

/// One entry of the user's calendar list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CalendarListEntry {
    /// The calendar id (for the primary calendar: the user's email address).
    pub id: String,
    /// The calendar's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The title the user gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary_override: Option<String>,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The IANA time zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// `freeBusyReader`, `reader`, `writerWithoutPrivateAccess`, `writer` or `owner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_role: Option<String>,
    /// Whether this is the user's primary calendar.
    #[serde(default)]
    pub primary: bool,
    /// Whether the calendar is shown in the UI.
    #[serde(default)]
    pub selected: bool,
    /// Whether the entry is hidden.
    #[serde(default)]
    pub hidden: bool,
    /// Whether the entry was removed (only with `showDeleted` or a sync token).
    #[serde(default)]
    pub deleted: bool,
    /// Background colour, `#rrggbb`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// ETag of the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CalendarListEntry {
    /// Whether the user may create and change events on this calendar: `accessRole` is `owner`,
    /// `writer` or `writerWithoutPrivateAccess` (`reader` and `freeBusyReader` calendars answer
    /// event writes with 403 `requiredAccessLevel`).
    pub fn can_write_events(&self) -> bool {
        matches!(self.access_role.as_deref(), Some("owner" | "writer" | "writerWithoutPrivateAccess"))
    }
}

/// One page of `calendarList.list`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CalendarListPage {
    /// The entries on this page.
    #[serde(default)]
    pub items: Vec<CalendarListEntry>,
    /// Token for the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    /// Token for the next incremental sync (last page only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_token: Option<String>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of `freeBusy.query`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FreeBusyRequest {
    /// Start of the interval.
    pub time_min: DateTime<Utc>,
    /// End of the interval.
    pub time_max: DateTime<Utc>,
    /// Time zone of the response (default UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Most calendar ids to return per group (max 100).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_expansion_max: Option<u32>,
    /// Most calendars to return free/busy for (max 50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calendar_expansion_max: Option<u32>,
    /// Calendars and groups to query.
    pub items: Vec<FreeBusyItem>,
}

impl FreeBusyRequest {
    /// Busy times of `calendar_ids` (`"primary"` works) between `time_min` and `time_max`.
    pub fn new<S: Into<String>>(
        time_min: DateTime<Utc>,
        time_max: DateTime<Utc>,
        calendar_ids: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            time_min,
            time_max,
            time_zone: None,
            group_expansion_max: None,
            calendar_expansion_max: None,
            items: calendar_ids.into_iter().map(|id| FreeBusyItem { id: id.into() }).collect(),
        }
    }

    /// Sets the response time zone.
    pub fn with_time_zone(mut self, time_zone: impl Into<String>) -> Self {
        self.time_zone = Some(time_zone.into());
        self
    }
}

/// A calendar or group to query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeBusyItem {
    /// Calendar or group id.
    pub id: String,
}

/// The answer of `freeBusy.query`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FreeBusyResponse {
    /// Start of the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_min: Option<DateTime<Utc>>,
    /// End of the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_max: Option<DateTime<Utc>>,
    /// Busy times per calendar id.
    #[serde(default)]
    pub calendars: BTreeMap<String, FreeBusyCalendar>,
    /// Expansion of groups into calendar ids.
    #[serde(default)]
    pub groups: BTreeMap<String, FreeBusyGroup>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Free/busy of one calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FreeBusyCalendar {
    /// Busy intervals, in order.
    #[serde(default)]
    pub busy: Vec<TimePeriod>,
    /// Why this calendar could not be queried (e.g. reason `notFound`), if it could not.
    #[serde(default)]
    pub errors: Vec<FreeBusyError>,
}

/// A group's calendars.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FreeBusyGroup {
    /// Calendar ids in the group.
    #[serde(default)]
    pub calendars: Vec<String>,
    /// Why the group could not be expanded, if it could not.
    #[serde(default)]
    pub errors: Vec<FreeBusyError>,
}

/// A per-calendar free/busy failure.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FreeBusyError {
    /// Error domain, e.g. `global`.
    #[serde(default)]
    pub domain: String,
    /// Reason, e.g. `notFound`, `internalError`.
    #[serde(default)]
    pub reason: String,
}

/// A busy interval `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimePeriod {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// The body of `events.watch`: open a push channel that POSTs to `address` when events change.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WatchRequest {
    /// Your id for the channel (a UUID), unique per channel.
    pub id: String,
    /// The HTTPS URL Google will POST notifications to.
    pub address: String,
    /// Echoed in the `X-Goog-Channel-Token` header of every notification: use it to check that a
    /// notification is genuine. `Debug` never prints it.
    pub token: Option<SecretString>,
    /// Requested lifetime (Google caps it; the answer's `expiration` is authoritative).
    pub ttl: Option<Duration>,
    /// Only watch events of these types.
    pub event_types: Vec<EventType>,
}

impl WatchRequest {
    /// A `web_hook` channel `id` delivering to `address`.
    pub fn new(id: impl Into<String>, address: impl Into<String>) -> Self {
        Self { id: id.into(), address: address.into(), token: None, ttl: None, event_types: Vec::new() }
    }

    /// Sets the verification token.
    pub fn with_token(mut self, token: impl Into<SecretString>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the requested lifetime.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Restricts the channel to some event types.
    pub fn with_event_types(mut self, event_types: impl IntoIterator<Item = EventType>) -> Self {
        self.event_types = event_types.into_iter().collect();
        self
    }
}

impl Serialize for WatchRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: &'a str,
            #[serde(rename = "type")]
            kind: &'static str,
            address: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            token: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            params: Option<BTreeMap<&'static str, String>>,
        }
        Wire {
            id: &self.id,
            kind: "web_hook",
            address: &self.address,
            token: self.token.as_ref().map(|token| token.expose_secret()),
            params: self.ttl.map(|ttl| BTreeMap::from([("ttl", ttl.as_secs().to_string())])),
        }
        .serialize(serializer)
    }
}

/// A push channel, as returned by `events.watch`. Keep `id` and `resource_id` to stop it.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Channel {
    /// Your channel id.
    pub id: String,
    /// Google's id of the watched resource (needed by `channels.stop`).
    pub resource_id: String,
    /// The watched resource's URI.
    #[serde(default)]
    pub resource_uri: Option<String>,
    /// The verification token you set. `Debug` never prints it.
    #[serde(default)]
    pub token: Option<SecretString>,
    /// When the channel stops delivering (renew before).
    #[serde(default, deserialize_with = "millis_since_epoch")]
    pub expiration: Option<DateTime<Utc>>,
    /// Every other field, as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Parses `expiration`: milliseconds since the epoch, as a string (or a number).
fn millis_since_epoch<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Millis {
        Text(String),
        Number(i64),
    }
    let millis = match Option::<Millis>::deserialize(deserializer)? {
        None => return Ok(None),
        Some(Millis::Number(millis)) => millis,
        Some(Millis::Text(text)) => text.trim().parse().map_err(serde::de::Error::custom)?,
    };
    DateTime::from_timestamp_millis(millis)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("expiration out of range: {millis}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_enum_values_round_trip() {
        let status: EventStatus = serde_json::from_value(json!("someday")).unwrap();
        assert_eq!(status, EventStatus::Other("someday".to_owned()));
        assert_eq!(serde_json::to_value(&status).unwrap(), json!("someday"));
        assert_eq!(serde_json::to_value(EventType::FocusTime).unwrap(), json!("focusTime"));
    }

    #[test]
    fn an_event_body_has_only_the_fields_that_are_set() {
        let start = Utc.with_ymd_and_hms(2025, 3, 1, 9, 0, 0).unwrap();
        let event = Event::new()
            .with_id("plan0task1")
            .with_summary("Study")
            .with_times(EventDateTime::at(start).with_time_zone("UTC"), EventDateTime::at(start))
            .with_private_property("planTaskId", "42");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "id": "plan0task1",
                "summary": "Study",
                "start": {"dateTime": "2025-03-01T09:00:00Z", "timeZone": "UTC"},
                "end": {"dateTime": "2025-03-01T09:00:00Z"},
                "extendedProperties": {"private": {"planTaskId": "42"}}
            })
        );
    }

    #[test]
    fn event_types_and_their_properties_round_trip_and_unknown_types_are_kept() {
        let wire = json!({
            "id": "ft1",
            "eventType": "focusTime",
            "focusTimeProperties": {"autoDeclineMode": "declineNone", "chatStatus": "doNotDisturb",
                                    "futureField": 1}
        });
        let event: Event = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(event.kind(), EventType::FocusTime);
        let properties = event.focus_time_properties.as_ref().unwrap();
        assert_eq!(properties.auto_decline_mode, Some(AutoDeclineMode::DeclineNone));
        assert_eq!(properties.chat_status, Some(ChatStatus::DoNotDisturb));
        assert_eq!(serde_json::to_value(&event).unwrap(), wire, "nothing lost on the way back");

        let ooo: Event = serde_json::from_value(json!({
            "eventType": "outOfOffice",
            "outOfOfficeProperties": {"autoDeclineMode": "declineOnlyNewConflictingInvitations",
                                      "declineMessage": "Away"}
        }))
        .unwrap();
        assert_eq!(ooo.kind(), EventType::OutOfOffice);
        assert_eq!(ooo.out_of_office_properties.unwrap().decline_message.as_deref(), Some("Away"));

        let future: Event = serde_json::from_value(json!({"eventType": "travelTime"})).unwrap();
        assert_eq!(future.kind(), EventType::Other("travelTime".to_owned()));
        assert_eq!(Event::new().kind(), EventType::Default);
        let built = Event::new().with_focus_time(FocusTimeProperties::default());
        assert_eq!(
            serde_json::to_value(&built).unwrap(),
            json!({"eventType": "focusTime", "focusTimeProperties": {}})
        );
    }

    #[test]
    fn watch_request_uses_the_wire_names() {
        let request = WatchRequest::new("chan-1", "https://example.com/hook")
            .with_token("verify-me")
            .with_ttl(Duration::from_secs(3600));
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({"id": "chan-1", "type": "web_hook", "address": "https://example.com/hook",
                   "token": "verify-me", "params": {"ttl": "3600"}})
        );
        assert!(!format!("{request:?}").contains("verify-me"));
    }

    #[test]
    fn channel_expiration_is_millis() {
        let channel: Channel = serde_json::from_value(json!({
            "kind": "api#channel", "id": "c", "resourceId": "r", "expiration": "1735689600000"
        }))
        .unwrap();
        assert_eq!(channel.expiration, Some(Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()));
        assert_eq!(channel.extra.get("kind"), Some(&json!("api#channel")));
    }
}
