//! Calendar v3 state and semantics: calendars, events (with recurring series and their
//! exceptions), list queries with pages and sync tokens, and free/busy.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

use super::World;
use super::error::ApiError;
use super::recurrence::{Recurrence, midnight};
use super::{format_millis, random_string};

/// Google's default and largest `maxResults` for `events.list`.
const DEFAULT_PAGE_SIZE: usize = 250;
const MAX_PAGE_SIZE: usize = 2500;
/// How far ahead an unbounded series is expanded when the query names no `timeMax`.
const EXPANSION_HORIZON: TimeDelta = TimeDelta::days(730);
/// Google's limits on `freeBusy.query`.
const FREE_BUSY_MAX_RANGE: TimeDelta = TimeDelta::days(90);
const FREE_BUSY_MAX_CALENDARS: usize = 50;
const FREE_BUSY_MAX_GROUP: u64 = 100;
/// Page snapshots kept for `pageToken`s (oldest dropped first).
const MAX_SNAPSHOTS: usize = 1_000;
/// Fields the server owns: a client's values for them are ignored on insert and update.
const SERVER_FIELDS: [&str; 9] =
    ["kind", "etag", "id", "htmlLink", "created", "updated", "creator", "organizer", "recurringEventId"];

/// One calendar and its events.
#[derive(Debug)]
pub(super) struct Calendar {
    pub id: String,
    pub owner: String,
    pub summary: String,
    pub time_zone: String,
    pub primary: bool,
    /// The account's access role: `owner`, `writer`, `writerWithoutPrivateAccess`, `reader` or
    /// `freeBusyReader`. Event writes need `owner` or one of the writers.
    pub access_role: String,
    /// Hidden from the calendar list unless `showHidden=true`.
    pub hidden: bool,
    /// The opaque `resourceId` of this calendar's events collection, for watch channels.
    pub resource_id: String,
    records: Vec<Record>,
    index: HashMap<String, usize>,
    /// The last change number; sync tokens point into this sequence.
    seq: u64,
}

/// One stored event: a single event, a recurring series' master, or one exception of a series.
#[derive(Debug, Clone)]
struct Record {
    body: Value,
    change_seq: u64,
}

impl Calendar {
    pub(super) fn new(id: &str, owner: &str, summary: &str, time_zone: &str, primary: bool) -> Self {
        Self {
            id: id.to_owned(),
            owner: owner.to_owned(),
            summary: summary.to_owned(),
            time_zone: time_zone.to_owned(),
            primary,
            access_role: "owner".to_owned(),
            hidden: false,
            resource_id: random_string(27),
            records: Vec::new(),
            index: HashMap::new(),
            seq: 0,
        }
    }

    fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    fn record(&self, id: &str) -> Option<&Record> {
        self.index.get(id).and_then(|index| self.records.get(*index))
    }

    /// Stores `body` under its id (new or replacing) as the newest change.
    fn store(&mut self, body: Value) {
        self.seq += 1;
        let id = text(&body, "id").to_owned();
        let record = Record { body, change_seq: self.seq };
        match self.index.get(&id) {
            Some(index) => {
                if let Some(slot) = self.records.get_mut(*index) {
                    *slot = record;
                }
            }
            None => {
                self.index.insert(id, self.records.len());
                self.records.push(record);
            }
        }
    }

    /// Every stored event (cancelled ones too), in insertion order.
    pub(super) fn events(&self) -> Vec<Value> {
        self.records.iter().map(|record| record.body.clone()).collect()
    }

    /// The `calendar#calendarListEntry` resource.
    pub(super) fn list_entry(&self) -> Value {
        let mut entry = json!({
            "kind": "calendar#calendarListEntry",
            "etag": format!("\"{}\"", 1_700_000_000_000_000_u64 + self.seq),
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.time_zone,
            "colorId": "14",
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
            "selected": !self.hidden,
            "accessRole": self.access_role,
            "defaultReminders": [{ "method": "popup", "minutes": 10 }],
            "conferenceProperties": { "allowedConferenceSolutionTypes": ["hangoutsMeet"] }
        });
        if self.hidden
            && let Value::Object(map) = &mut entry
        {
            map.insert("hidden".to_owned(), json!(true));
        }
        if self.primary
            && let Value::Object(map) = &mut entry
        {
            map.insert("primary".to_owned(), json!(true));
            map.insert(
                "notificationSettings".to_owned(),
                json!({ "notifications": [{ "type": "eventCreation", "method": "email" }] }),
            );
        }
        entry
    }

    /// Whether the account may write events here (Google's answer otherwise: 403
    /// `requiredAccessLevel`).
    pub(super) fn check_writable(&self) -> Result<(), ApiError> {
        match self.access_role.as_str() {
            "owner" | "writer" | "writerWithoutPrivateAccess" => Ok(()),
            _ => Err(ApiError::new(
                403,
                "calendar",
                "requiredAccessLevel",
                "You need to have writer access to this calendar.",
            )),
        }
    }

    /// The `calendar#calendar` resource.
    pub(super) fn resource(&self) -> Value {
        json!({
            "kind": "calendar#calendar",
            "etag": format!("\"{}\"", 1_700_000_000_000_000_u64 + self.seq),
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.time_zone,
            "conferenceProperties": { "allowedConferenceSolutionTypes": ["hangoutsMeet"] }
        })
    }
}

/// A pageable result, kept so that every `pageToken` of it can be asked for again (retries).
#[derive(Debug)]
pub(super) struct Snapshot {
    calendar_id: String,
    items: Vec<Value>,
    page_size: usize,
    /// The `nextSyncToken` of the last page.
    sync_token: String,
    time_zone: String,
}

// ---- Time -----------------------------------------------------------------------------------

/// The zone an event's local times live in.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Zone {
    fn instant(self, local: NaiveDateTime) -> DateTime<Utc> {
        let resolved = match self {
            Self::Named(tz) => tz
                .from_local_datetime(&local)
                .earliest()
                .or_else(|| tz.from_local_datetime(&(local + TimeDelta::hours(1))).earliest())
                .map(|at| at.with_timezone(&Utc)),
            Self::Fixed(offset) => {
                offset.from_local_datetime(&local).earliest().map(|at| at.with_timezone(&Utc))
            }
        };
        resolved.unwrap_or_else(|| Utc.from_utc_datetime(&local))
    }

    fn offset_at(self, instant: DateTime<Utc>) -> FixedOffset {
        match self {
            Self::Named(tz) => instant.with_timezone(&tz).offset().fix(),
            Self::Fixed(offset) => offset,
        }
    }

    fn local(self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.offset_at(instant)).naive_local()
    }

    /// RFC 3339 with this zone's offset at that instant (`Z` for UTC), as Google writes it.
    fn format(self, instant: DateTime<Utc>) -> String {
        instant.with_timezone(&self.offset_at(instant)).to_rfc3339_opts(SecondsFormat::Secs, true)
    }
}

/// One end of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

/// An event's parsed start and end.
#[derive(Debug, Clone, Copy)]
struct Times {
    start: When,
    end: When,
    zone: Zone,
    /// The `timeZone` of `start`, when it names one.
    named: Option<Tz>,
}

impl Times {
    fn all_day(&self) -> bool {
        matches!(self.start, When::Date(_))
    }

    fn instant(&self, when: When) -> DateTime<Utc> {
        match when {
            When::Time(at) => at,
            When::Date(date) => self.zone.instant(date.and_time(midnight())),
        }
    }

    fn start_instant(&self) -> DateTime<Utc> {
        self.instant(self.start)
    }

    fn end_instant(&self) -> DateTime<Utc> {
        self.instant(self.end)
    }

    fn start_local(&self) -> NaiveDateTime {
        match self.start {
            When::Date(date) => date.and_time(midnight()),
            When::Time(at) => self.zone.local(at),
        }
    }

    fn overlaps(&self, min: Option<DateTime<Utc>>, max: Option<DateTime<Utc>>) -> bool {
        let (start, end) = (self.start_instant(), self.end_instant());
        min.is_none_or(|min| end > min || (start == end && start >= min)) && max.is_none_or(|max| start < max)
    }

    /// The `start`/`end`/`originalStartTime` JSON of `when`.
    fn json(&self, when: When) -> Value {
        match when {
            When::Date(date) => json!({ "date": date.format("%Y-%m-%d").to_string() }),
            When::Time(at) => {
                let mut value = json!({ "dateTime": self.zone.format(at) });
                if let (Some(tz), Value::Object(map)) = (self.named, &mut value) {
                    map.insert("timeZone".to_owned(), json!(tz.name()));
                }
                value
            }
        }
    }
}

fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

/// Parses one end (`start` or `end`) of an event; `field` names it in errors.
fn parse_when(
    value: Option<&Value>,
    field: &str,
    calendar_tz: Tz,
) -> Result<(When, Zone, Option<Tz>), ApiError> {
    let missing = || ApiError::required(&format!("Missing {field} time."));
    let value = value.filter(|value| value.is_object()).ok_or_else(missing)?;
    let named = match value.get("timeZone").and_then(Value::as_str) {
        Some(name) => Some(
            name.parse::<Tz>()
                .map_err(|_| ApiError::invalid(&format!("Invalid time zone definition for {field} time.")))?,
        ),
        None => None,
    };
    if let Some(date) = value.get("date").and_then(Value::as_str) {
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid(&format!("Invalid {field} time.")))?;
        return Ok((When::Date(date), Zone::Named(named.unwrap_or(calendar_tz)), named));
    }
    let text = value.get("dateTime").and_then(Value::as_str).ok_or_else(missing)?;
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        let zone = named.map_or(Zone::Fixed(*at.offset()), Zone::Named);
        return Ok((When::Time(at.with_timezone(&Utc)), zone, named));
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|_| ApiError::invalid(&format!("Invalid {field} time.")))?;
    let tz = named
        .ok_or_else(|| ApiError::required(&format!("Missing time zone definition for {field} time.")))?;
    Ok((When::Time(Zone::Named(tz).instant(local)), Zone::Named(tz), named))
}

fn parse_times(event: &Value, calendar_tz: Tz) -> Result<Times, ApiError> {
    let (start, zone, named) = parse_when(event.get("start"), "start", calendar_tz)?;
    let (end, _, _) = parse_when(event.get("end"), "end", calendar_tz)?;
    let times = Times { start, end, zone, named };
    match (start, end) {
        (When::Date(start), When::Date(end)) if end <= start => Err(ApiError::time_range_empty("end")),
        (When::Time(start), When::Time(end)) if end < start => Err(ApiError::time_range_empty("end")),
        (When::Date(_), When::Time(_)) | (When::Time(_), When::Date(_)) => {
            Err(ApiError::bad_request("Start and end times must either both be date or both be dateTime."))
        }
        _ => Ok(times),
    }
}

fn recurrence_lines(event: &Value) -> Vec<String> {
    event
        .get("recurrence")
        .and_then(Value::as_array)
        .map(|lines| lines.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn parse_recurrence(event: &Value) -> Result<Option<Recurrence>, ApiError> {
    match event.get("recurrence") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(lines)) if lines.iter().all(Value::is_string) => {
            Recurrence::parse(&recurrence_lines(event)).map_err(|message| ApiError::invalid(&message))
        }
        Some(_) => Err(ApiError::invalid("Invalid recurrence rule.")),
    }
}

// ---- Event JSON helpers ---------------------------------------------------------------------

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn is_cancelled(event: &Value) -> bool {
    text(event, "status") == "cancelled"
}

fn is_master(event: &Value) -> bool {
    event.get("recurrence").and_then(Value::as_array).is_some_and(|lines| !lines.is_empty())
}

/// Google's event id alphabet: base32hex, lower case, 5 to 1024 characters.
pub(super) fn valid_event_id(id: &str) -> bool {
    (5..=1024).contains(&id.len()) && id.bytes().all(|byte| matches!(byte, b'a'..=b'v' | b'0'..=b'9'))
}

/// A fresh 26-character base32hex id, as Google generates them.
fn new_event_id() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    let bits = uuid::Uuid::new_v4().as_u128();
    (0..26)
        .map(|index| {
            let shift = 128_u32.saturating_sub(5 * (index + 1));
            let digit = usize::try_from((bits >> shift) & 31).unwrap_or(0);
            char::from(ALPHABET.get(digit).copied().unwrap_or(b'0'))
        })
        .collect()
}

fn html_link(event_id: &str, calendar_id: &str) -> String {
    let eid = STANDARD_NO_PAD.encode(format!("{event_id} {calendar_id}"));
    format!("https://www.google.com/calendar/event?eid={eid}")
}

/// What a deleted event looks like in a list: Google guarantees only the id.
fn tombstone(event: &Value) -> Value {
    let mut minimal = Map::new();
    for key in ["kind", "etag", "id", "status", "updated", "recurringEventId", "originalStartTime"] {
        if let Some(value) = event.get(key) {
            minimal.insert(key.to_owned(), value.clone());
        }
    }
    Value::Object(minimal)
}

/// Google's patch semantics: objects merge key by key, `null` removes, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

/// Splits an instance id `{seriesId}_{20250102T090000Z}` (or `_{20250102}` for all-day).
fn split_instance_id(id: &str) -> Option<(&str, &str)> {
    let (series, stamp) = id.rsplit_once('_')?;
    (!series.is_empty() && !stamp.is_empty()).then_some((series, stamp))
}

fn instance_stamp(start: When) -> String {
    match start {
        When::Date(date) => date.format("%Y%m%d").to_string(),
        When::Time(at) => at.format("%Y%m%dT%H%M%SZ").to_string(),
    }
}

// ---- List queries ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrderBy {
    StartTime,
    Updated,
}

/// The query of one `events.list` call.
#[derive(Debug, Default)]
struct ListQuery {
    max_results: Option<usize>,
    page_token: Option<String>,
    sync_token: Option<String>,
    time_min: Option<DateTime<Utc>>,
    time_max: Option<DateTime<Utc>>,
    single_events: bool,
    order_by: Option<OrderBy>,
    show_deleted: Option<bool>,
    q: Option<String>,
    private_properties: Vec<(String, String)>,
    shared_properties: Vec<(String, String)>,
    updated_min: Option<DateTime<Utc>>,
    ical_uid: Option<String>,
    time_zone: Option<String>,
}

fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ApiError::invalid(&format!("Invalid boolean value: '{value}'.")).at_parameter(name)),
    }
}

fn parse_time_param(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    parse_rfc3339(value).ok_or_else(|| ApiError::bad_request("Bad Request").at_parameter(name))
}

fn parse_property(name: &str, value: &str) -> Result<(String, String), ApiError> {
    value
        .split_once('=')
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .ok_or_else(|| ApiError::invalid(&format!("Invalid value for: {name}")).at_parameter(name))
}

impl ListQuery {
    fn parse(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let mut query = Self::default();
        for (name, value) in pairs {
            match name.as_str() {
                "maxResults" => {
                    let size = value.parse::<usize>().ok().filter(|size| (1..=MAX_PAGE_SIZE).contains(size));
                    query.max_results = Some(size.ok_or_else(|| {
                        ApiError::invalid(&format!(
                            "Invalid value '{value}'. Values must be within the range: [1, {MAX_PAGE_SIZE}]"
                        ))
                        .at_parameter("maxResults")
                    })?);
                }
                "pageToken" => query.page_token = Some(value.clone()),
                "syncToken" => query.sync_token = Some(value.clone()),
                "timeMin" => query.time_min = Some(parse_time_param(name, value)?),
                "timeMax" => query.time_max = Some(parse_time_param(name, value)?),
                "updatedMin" => query.updated_min = Some(parse_time_param(name, value)?),
                "singleEvents" => query.single_events = parse_bool(name, value)?,
                "showDeleted" => query.show_deleted = Some(parse_bool(name, value)?),
                "orderBy" => {
                    query.order_by = Some(match value.as_str() {
                        "startTime" => OrderBy::StartTime,
                        "updated" => OrderBy::Updated,
                        _ => {
                            return Err(ApiError::invalid(&format!("Invalid value for: orderBy: {value}"))
                                .at_parameter("orderBy"));
                        }
                    });
                }
                "q" => query.q = Some(value.clone()),
                "privateExtendedProperty" => query.private_properties.push(parse_property(name, value)?),
                "sharedExtendedProperty" => query.shared_properties.push(parse_property(name, value)?),
                "iCalUID" => query.ical_uid = Some(value.clone()),
                "timeZone" => query.time_zone = Some(value.clone()),
                _ => {}
            }
        }
        if query.sync_token.is_some() {
            let restricted = query.time_min.is_some()
                || query.time_max.is_some()
                || query.updated_min.is_some()
                || query.order_by.is_some()
                || query.q.is_some()
                || query.ical_uid.is_some()
                || !query.private_properties.is_empty()
                || !query.shared_properties.is_empty()
                || query.show_deleted == Some(false);
            if restricted {
                return Err(ApiError::new(
                    400,
                    "calendar",
                    "syncTokenWithRequestRestrictions",
                    "Sync token cannot be used with other request restrictions.",
                )
                .at_parameter("syncToken"));
            }
        }
        if query.order_by == Some(OrderBy::StartTime) && !query.single_events {
            return Err(ApiError::bad_request(
                "The requested ordering is not available for the particular query.",
            ));
        }
        if let (Some(min), Some(max)) = (query.time_min, query.time_max)
            && max <= min
        {
            return Err(ApiError::time_range_empty("timeMax"));
        }
        Ok(query)
    }

    /// Whether a stored event passes the filters that do not depend on time.
    fn matches(&self, event: &Value) -> bool {
        if let Some(uid) = &self.ical_uid
            && text(event, "iCalUID") != uid
        {
            return false;
        }
        if let Some(min) = self.updated_min
            && event.get("updated").and_then(Value::as_str).and_then(parse_rfc3339).is_none_or(|at| at < min)
        {
            return false;
        }
        let property = |scope: &str, key: &str| {
            event
                .get("extendedProperties")
                .and_then(|props| props.get(scope))
                .and_then(|props| props.get(key))
        };
        let properties_ok =
            self.private_properties
                .iter()
                .all(|(key, value)| property("private", key).and_then(Value::as_str) == Some(value.as_str()))
                && self.shared_properties.iter().all(|(key, value)| {
                    property("shared", key).and_then(Value::as_str) == Some(value.as_str())
                });
        if !properties_ok {
            return false;
        }
        match &self.q {
            None => true,
            Some(terms) => {
                let mut haystack = ["summary", "description", "location"]
                    .map(|key| text(event, key).to_lowercase())
                    .join(" ");
                for attendee in event.get("attendees").and_then(Value::as_array).into_iter().flatten() {
                    haystack.push(' ');
                    haystack.push_str(&text(attendee, "email").to_lowercase());
                    haystack.push(' ');
                    haystack.push_str(&text(attendee, "displayName").to_lowercase());
                }
                terms.split_whitespace().all(|term| haystack.contains(&term.to_lowercase()))
            }
        }
    }
}

/// What a sync token says: which calendar, which generation, which change.
fn encode_sync_token(epoch: u64, seq: u64, calendar_id: &str) -> String {
    format!("CPfake{}", URL_SAFE_NO_PAD.encode(format!("{epoch}:{seq}:{calendar_id}")))
}

fn decode_sync_token(token: &str) -> Option<(u64, u64, String)> {
    let raw = URL_SAFE_NO_PAD.decode(token.strip_prefix("CPfake")?).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.splitn(3, ':');
    let epoch = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    Some((epoch, seq, parts.next()?.to_owned()))
}

fn encode_page_token(snapshot: u64, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("page:{snapshot}:{offset}"))
}

fn decode_page_token(token: &str) -> Option<(u64, usize)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let rest = text.strip_prefix("page:")?;
    let (snapshot, offset) = rest.split_once(':')?;
    Some((snapshot.parse().ok()?, offset.parse().ok()?))
}

fn compare_start(a: &Value, b: &Value, tz: Tz) -> Ordering {
    let start = |event: &Value| parse_times(event, tz).ok().map(|times| times.start_instant());
    start(a).cmp(&start(b))
}

// ---- The world's calendar operations ---------------------------------------------------------

/// How an update treats the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum UpdateMode {
    /// `PATCH`: merge into the stored event.
    Patch,
    /// `PUT`: replace the stored event's writable fields.
    Put,
}

impl World {
    /// The primary calendar of `email`, created on first use.
    pub(super) fn ensure_primary(&mut self, email: &str) -> &mut Calendar {
        let time_zone = self.default_time_zone.clone();
        self.calendars
            .entry(email.to_owned())
            .or_insert_with(|| Calendar::new(email, email, email, &time_zone, true))
    }

    /// Resolves a calendar id of an API call (`primary` included) to a calendar the account owns.
    pub(super) fn resolve_calendar(&mut self, account: &str, calendar_id: &str) -> Result<String, ApiError> {
        let id = if calendar_id == "primary" { account } else { calendar_id };
        if id == account {
            self.ensure_primary(account);
        }
        match self.calendars.get(id) {
            Some(calendar) if calendar.owner == account => Ok(id.to_owned()),
            _ => Err(ApiError::not_found()),
        }
    }

    /// Resolves a calendar id given by a test: `primary` is the current account's; an unknown
    /// id that looks like an email becomes that account's primary calendar.
    pub(super) fn resolve_seed_calendar(&mut self, calendar_id: &str) -> Result<String, ApiError> {
        let id =
            if calendar_id == "primary" { self.oauth.account_email.clone() } else { calendar_id.to_owned() };
        if !self.calendars.contains_key(&id) {
            if !id.contains('@') {
                return Err(ApiError::not_found());
            }
            self.ensure_primary(&id);
        }
        Ok(id)
    }

    fn calendar(&self, calendar_id: &str) -> Result<&Calendar, ApiError> {
        self.calendars.get(calendar_id).ok_or_else(ApiError::not_found)
    }

    fn calendar_mut(&mut self, calendar_id: &str) -> Result<&mut Calendar, ApiError> {
        self.calendars.get_mut(calendar_id).ok_or_else(ApiError::not_found)
    }

    /// A fresh etag, strictly increasing.
    fn next_etag(&mut self) -> String {
        let micros = u64::try_from(Utc::now().timestamp_micros()).unwrap_or_default();
        self.last_etag = micros.max(self.last_etag + 1);
        format!("\"{}\"", self.last_etag * 2)
    }

    /// Validates `input` and builds the stored event around it, keeping what the server owns
    /// from `previous`.
    fn build_event(
        &mut self,
        calendar_id: &str,
        id: &str,
        mut input: Map<String, Value>,
        previous: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let (tz, owner, summary, primary) = {
            let calendar = self.calendar(calendar_id)?;
            (calendar.tz(), calendar.owner.clone(), calendar.summary.clone(), calendar.primary)
        };
        for field in SERVER_FIELDS {
            input.remove(field);
        }
        if previous.is_some() {
            input.remove("iCalUID");
        }
        input.retain(|_, value| !value.is_null());
        let mut event = Value::Object(input);
        let times = parse_times(&event, tz)?;
        let recurrence = parse_recurrence(&event)?;
        if recurrence.is_some() && !times.all_day() && times.named.is_none() {
            return Err(ApiError::required("Missing time zone definition for start time."));
        }
        if recurrence.is_none()
            && let Value::Object(map) = &mut event
        {
            map.remove("recurrence");
        }
        let status = match event.get("status").and_then(Value::as_str) {
            None => previous
                .map(|previous| text(previous, "status"))
                .filter(|status| !status.is_empty() && *status != "cancelled")
                .unwrap_or("confirmed")
                .to_owned(),
            Some(status @ ("confirmed" | "tentative" | "cancelled")) => status.to_owned(),
            Some(other) => return Err(ApiError::invalid(&format!("Invalid value for: status: {other}"))),
        };
        if let Some(transparency) = event.get("transparency").and_then(Value::as_str)
            && !matches!(transparency, "opaque" | "transparent")
        {
            return Err(ApiError::invalid(&format!("Invalid value for: transparency: {transparency}")));
        }
        let kind = self.check_event_type(&mut event, previous, primary, times.all_day())?;
        let time_changed = previous.is_some_and(|previous| {
            ["start", "end", "recurrence"].iter().any(|key| previous.get(*key) != event.get(*key))
        });
        let sequence = match event.get("sequence").and_then(Value::as_u64) {
            Some(sequence) => sequence,
            None => {
                let before = previous.and_then(|previous| previous.get("sequence")).and_then(Value::as_u64);
                before.map_or(0, |sequence| sequence + u64::from(time_changed))
            }
        };
        let now = format_millis(Utc::now());
        let etag = self.next_etag();
        let Value::Object(map) = &mut event else { return Err(ApiError::parse_error()) };
        map.insert("start".to_owned(), times.json(times.start));
        map.insert("end".to_owned(), times.json(times.end));
        map.insert("kind".to_owned(), json!("calendar#event"));
        map.insert("etag".to_owned(), json!(etag));
        map.insert("id".to_owned(), json!(id));
        map.insert("status".to_owned(), json!(status));
        map.insert("htmlLink".to_owned(), json!(html_link(id, calendar_id)));
        let keep = |key: &str| previous.and_then(|previous| previous.get(key)).cloned();
        map.insert("created".to_owned(), keep("created").unwrap_or_else(|| json!(now)));
        map.insert("updated".to_owned(), json!(now));
        map.insert(
            "creator".to_owned(),
            keep("creator").unwrap_or_else(|| json!({ "email": owner, "self": true })),
        );
        let organizer = if primary {
            json!({ "email": calendar_id, "self": true })
        } else {
            json!({ "email": calendar_id, "displayName": summary, "self": true })
        };
        map.insert("organizer".to_owned(), keep("organizer").unwrap_or(organizer));
        if !map.contains_key("iCalUID") {
            map.insert(
                "iCalUID".to_owned(),
                keep("iCalUID").unwrap_or_else(|| json!(format!("{id}@google.com"))),
            );
        }
        for key in ["recurringEventId", "originalStartTime"] {
            if let Some(value) = keep(key) {
                map.insert(key.to_owned(), value);
            }
        }
        map.insert("sequence".to_owned(), json!(sequence));
        if !map.contains_key("reminders") {
            map.insert("reminders".to_owned(), json!({ "useDefault": true }));
        }
        map.insert("eventType".to_owned(), json!(kind));
        Ok(event)
    }

    /// Checks the event type and its properties as Google does, and returns the type: `default`
    /// when none is given (an update keeps the stored one, and refuses to change it); focus time,
    /// out of office and working location only on primary calendars, focus time never all-day;
    /// each `*Properties` field only with its type; `fromGmail` never created through the API;
    /// focus time refused outright while [`World::focus_time_available`] is off.
    fn check_event_type(
        &self,
        event: &mut Value,
        previous: Option<&Value>,
        primary: bool,
        all_day: bool,
    ) -> Result<&'static str, ApiError> {
        let restriction = |message: &str| ApiError::new(400, "calendar", "eventTypeRestriction", message);
        let before = previous.map(|previous| text(previous, "eventType")).filter(|kind| !kind.is_empty());
        let given = event.get("eventType").and_then(Value::as_str).map(str::to_owned);
        let kind: &'static str = match given.as_deref().or(before).unwrap_or("default") {
            "default" => "default",
            "focusTime" => "focusTime",
            "outOfOffice" => "outOfOffice",
            "workingLocation" => "workingLocation",
            "birthday" => "birthday",
            "fromGmail" => "fromGmail",
            other => return Err(ApiError::invalid(&format!("Invalid value for: eventType: {other}"))),
        };
        if let Some(before) = before
            && before != kind
        {
            return Err(restriction("The event type cannot be changed."));
        }
        if previous.is_none() && kind == "fromGmail" {
            return Err(restriction("Events of type fromGmail cannot be created through the API."));
        }
        for (field, owner) in [
            ("focusTimeProperties", "focusTime"),
            ("outOfOfficeProperties", "outOfOffice"),
            ("workingLocationProperties", "workingLocation"),
        ] {
            if event.get(field).is_some() && kind != owner {
                return Err(ApiError::invalid(&format!(
                    "{field} can only be set on events of type {owner}."
                )));
            }
        }
        if matches!(kind, "focusTime" | "outOfOffice" | "workingLocation") && !primary {
            return Err(restriction(&format!(
                "Events of type {kind} can only be created on primary calendars."
            )));
        }
        if kind == "focusTime" && all_day {
            return Err(ApiError::invalid("Focus time events cannot be all-day events."));
        }
        if kind == "workingLocation" && event.get("workingLocationProperties").is_none() {
            return Err(ApiError::required("Missing workingLocationProperties."));
        }
        if kind == "focusTime" && previous.is_none() && !self.focus_time_available {
            return Err(restriction("Focus time events are not available for this calendar."));
        }
        if kind == "focusTime"
            && let Value::Object(map) = event
        {
            map.entry("focusTimeProperties").or_insert(json!({}));
        }
        Ok(kind)
    }

    /// `events.insert`.
    pub(super) fn insert_event(&mut self, calendar_id: &str, input: Value) -> Result<Value, ApiError> {
        let Value::Object(input) = input else { return Err(ApiError::parse_error()) };
        let id = match input.get("id") {
            None | Some(Value::Null) => new_event_id(),
            Some(Value::String(id)) if valid_event_id(id) => id.clone(),
            Some(_) => return Err(ApiError::invalid("Invalid resource id value.")),
        };
        if self.calendar(calendar_id)?.record(&id).is_some() {
            return Err(ApiError::duplicate());
        }
        let event = self.build_event(calendar_id, &id, input, None)?;
        self.calendar_mut(calendar_id)?.store(event.clone());
        self.notify(calendar_id);
        Ok(event)
    }

    /// `events.get`: a stored event (a cancelled one too, with `status: cancelled`) or an
    /// instance of a series.
    pub(super) fn get_event(&self, calendar_id: &str, event_id: &str) -> Result<Value, ApiError> {
        let calendar = self.calendar(calendar_id)?;
        if let Some(record) = calendar.record(event_id) {
            return Ok(record.body.clone());
        }
        self.virtual_instance(calendar, event_id).ok_or_else(ApiError::not_found)
    }

    /// An instance of a stored series that has no exception record of its own.
    fn virtual_instance(&self, calendar: &Calendar, event_id: &str) -> Option<Value> {
        let (series_id, _) = split_instance_id(event_id)?;
        let series = calendar.record(series_id)?;
        if is_cancelled(&series.body) || !is_master(&series.body) {
            return None;
        }
        expand(&series.body, calendar, None, None, Some(event_id))
            .into_iter()
            .find(|instance| text(instance, "id") == event_id)
    }

    /// `events.patch` / `events.update`. An instance id creates (or updates) an exception.
    pub(super) fn update_event(
        &mut self,
        calendar_id: &str,
        event_id: &str,
        input: Value,
        mode: UpdateMode,
        if_match: Option<&str>,
    ) -> Result<Value, ApiError> {
        let Value::Object(input_map) = input else { return Err(ApiError::parse_error()) };
        let previous = self.get_event(calendar_id, event_id)?;
        if let Some(expected) = if_match
            && expected != "*"
            && expected != text(&previous, "etag")
        {
            return Err(ApiError::condition_not_met());
        }
        if let Some(Value::String(id)) = input_map.get("id")
            && id != event_id
        {
            return Err(ApiError::invalid("Invalid resource id value."));
        }
        let merged = match mode {
            UpdateMode::Patch => {
                let mut merged = previous.clone();
                if let Value::Object(map) = &mut merged {
                    for field in SERVER_FIELDS {
                        map.remove(field);
                    }
                    map.remove("iCalUID");
                    // A patch that leaves `status` alone keeps a cancelled event cancelled.
                    if !input_map.contains_key("status") && is_cancelled(&previous) {
                        map.insert("status".to_owned(), json!("cancelled"));
                    }
                }
                merge(&mut merged, &Value::Object(input_map));
                merged
            }
            UpdateMode::Put => Value::Object(input_map),
        };
        let Value::Object(merged) = merged else { return Err(ApiError::parse_error()) };
        let event = self.build_event(calendar_id, event_id, merged, Some(&previous))?;
        if is_master(&previous) && is_cancelled(&event) {
            self.cancel_exceptions(calendar_id, event_id)?;
        }
        self.calendar_mut(calendar_id)?.store(event.clone());
        self.notify(calendar_id);
        Ok(event)
    }

    /// `events.delete`: marks the event cancelled (a series' exceptions too).
    pub(super) fn delete_event(
        &mut self,
        calendar_id: &str,
        event_id: &str,
        if_match: Option<&str>,
    ) -> Result<(), ApiError> {
        let previous = self.get_event(calendar_id, event_id)?;
        if is_cancelled(&previous) {
            return Err(ApiError::deleted());
        }
        if let Some(expected) = if_match
            && expected != "*"
            && expected != text(&previous, "etag")
        {
            return Err(ApiError::condition_not_met());
        }
        let mut cancelled = previous.clone();
        let etag = self.next_etag();
        if let Value::Object(map) = &mut cancelled {
            map.insert("status".to_owned(), json!("cancelled"));
            map.insert("updated".to_owned(), json!(format_millis(Utc::now())));
            map.insert("etag".to_owned(), json!(etag));
        }
        if is_master(&previous) {
            self.cancel_exceptions(calendar_id, event_id)?;
        }
        self.calendar_mut(calendar_id)?.store(cancelled);
        self.notify(calendar_id);
        Ok(())
    }

    fn cancel_exceptions(&mut self, calendar_id: &str, series_id: &str) -> Result<(), ApiError> {
        let exceptions: Vec<Value> = self
            .calendar(calendar_id)?
            .records
            .iter()
            .filter(|record| {
                text(&record.body, "recurringEventId") == series_id && !is_cancelled(&record.body)
            })
            .map(|record| record.body.clone())
            .collect();
        for mut exception in exceptions {
            let etag = self.next_etag();
            if let Value::Object(map) = &mut exception {
                map.insert("status".to_owned(), json!("cancelled"));
                map.insert("updated".to_owned(), json!(format_millis(Utc::now())));
                map.insert("etag".to_owned(), json!(etag));
            }
            self.calendar_mut(calendar_id)?.store(exception);
        }
        Ok(())
    }

    /// `events.list`.
    pub(super) fn list_events(
        &mut self,
        calendar_id: &str,
        pairs: &[(String, String)],
    ) -> Result<Value, ApiError> {
        let query = ListQuery::parse(pairs)?;
        if let Some(token) = &query.page_token {
            let (snapshot_id, offset) = decode_page_token(token)
                .ok_or_else(|| ApiError::invalid("Invalid page token value.").at_parameter("pageToken"))?;
            let snapshot = self
                .snapshots
                .get(&snapshot_id)
                .filter(|snapshot| snapshot.calendar_id == calendar_id)
                .cloned()
                .ok_or_else(|| ApiError::invalid("Invalid page token value.").at_parameter("pageToken"))?;
            return Ok(self.page(calendar_id, snapshot_id, &snapshot, offset));
        }
        let calendar = self.calendar(calendar_id)?;
        let items = match &query.sync_token {
            Some(token) => {
                let (epoch, seq, token_calendar) =
                    decode_sync_token(token).ok_or_else(ApiError::full_sync_required)?;
                if epoch != self.sync_epoch || token_calendar != calendar_id || seq > calendar.seq {
                    return Err(ApiError::full_sync_required());
                }
                incremental_items(calendar, seq, query.single_events)
            }
            None => full_items(calendar, &query),
        };
        let sync_token = encode_sync_token(self.sync_epoch, calendar.seq, calendar_id);
        let time_zone = query.time_zone.clone().unwrap_or_else(|| calendar.time_zone.clone());
        let snapshot = Arc::new(Snapshot {
            calendar_id: calendar_id.to_owned(),
            items,
            page_size: query.max_results.unwrap_or(DEFAULT_PAGE_SIZE),
            sync_token,
            time_zone,
        });
        self.next_snapshot += 1;
        let snapshot_id = self.next_snapshot;
        if snapshot.items.len() > snapshot.page_size {
            self.snapshots.insert(snapshot_id, Arc::clone(&snapshot));
            while self.snapshots.len() > MAX_SNAPSHOTS {
                self.snapshots.pop_first();
            }
        }
        Ok(self.page(calendar_id, snapshot_id, &snapshot, 0))
    }

    fn page(&mut self, calendar_id: &str, snapshot_id: u64, snapshot: &Snapshot, offset: usize) -> Value {
        let end = offset.saturating_add(snapshot.page_size).min(snapshot.items.len());
        let items: Vec<Value> = snapshot.items.get(offset..end).map(<[Value]>::to_vec).unwrap_or_default();
        let etag = self.next_etag();
        let (summary, updated) = match self.calendars.get(calendar_id) {
            Some(calendar) => (
                calendar.summary.clone(),
                calendar
                    .records
                    .iter()
                    .filter_map(|record| record.body.get("updated").and_then(Value::as_str))
                    .max()
                    .map(str::to_owned),
            ),
            None => (String::new(), None),
        };
        let mut body = json!({
            "kind": "calendar#events",
            "etag": etag,
            "summary": summary,
            "description": "",
            "updated": updated.unwrap_or_else(|| format_millis(Utc::now())),
            "timeZone": snapshot.time_zone,
            "accessRole": "owner",
            "defaultReminders": [{ "method": "popup", "minutes": 10 }],
            "items": items,
        });
        if let Value::Object(map) = &mut body {
            if end < snapshot.items.len() {
                map.insert("nextPageToken".to_owned(), json!(encode_page_token(snapshot_id, end)));
            } else {
                map.insert("nextSyncToken".to_owned(), json!(snapshot.sync_token));
            }
        }
        body
    }

    /// `freeBusy.query`.
    pub(super) fn free_busy(&mut self, account: &str, body: &Value) -> Result<Value, ApiError> {
        let time = |name: &str| -> Result<DateTime<Utc>, ApiError> {
            let value = body.get(name).and_then(Value::as_str).ok_or_else(|| {
                ApiError::required(&format!("Missing {name} parameter.")).at_parameter(name)
            })?;
            parse_time_param(name, value)
        };
        let (min, max) = (time("timeMin")?, time("timeMax")?);
        if max <= min {
            return Err(ApiError::time_range_empty("timeMax"));
        }
        if max - min > FREE_BUSY_MAX_RANGE {
            return Err(ApiError::new(
                400,
                "calendar",
                "timeRangeTooLong",
                "The requested time range is too long.",
            )
            .at_parameter("timeMax"));
        }
        let zone = match body.get("timeZone").and_then(Value::as_str) {
            None => Zone::Fixed(Utc.fix()),
            Some(name) => Zone::Named(
                name.parse::<Tz>()
                    .map_err(|_| ApiError::invalid("Invalid time zone.").at_parameter("timeZone"))?,
            ),
        };
        let limit = |name: &str, max: u64| -> Result<Option<u64>, ApiError> {
            match body.get(name).and_then(Value::as_u64) {
                Some(value) if value > max => Err(ApiError::invalid(&format!(
                    "Invalid value '{value}'. Values must be within the range: [1, {max}]"
                ))
                .at_parameter(name)),
                other => Ok(other),
            }
        };
        let expansion = limit("calendarExpansionMax", FREE_BUSY_MAX_CALENDARS as u64)?
            .and_then(|value| usize::try_from(value).ok())
            .unwrap_or(FREE_BUSY_MAX_CALENDARS);
        limit("groupExpansionMax", FREE_BUSY_MAX_GROUP)?;
        let ids: Vec<String> = body
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| item.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let mut calendars = Map::new();
        for (position, id) in ids.iter().enumerate() {
            let entry = if position >= expansion {
                json!({ "errors": [{ "domain": "usageLimits", "reason": "tooManyCalendarsRequested" }], "busy": [] })
            } else {
                match self.resolve_calendar(account, id) {
                    Ok(resolved) => {
                        let calendar = self.calendar(&resolved)?;
                        let busy: Vec<Value> = busy_intervals(calendar, min, max)
                            .into_iter()
                            .map(|(start, end)| json!({ "start": zone.format(start), "end": zone.format(end) }))
                            .collect();
                        json!({ "busy": busy })
                    }
                    Err(_) => json!({ "errors": [{ "domain": "global", "reason": "notFound" }], "busy": [] }),
                }
            };
            calendars.insert(id.clone(), entry);
        }
        Ok(json!({
            "kind": "calendar#freeBusy",
            "timeMin": format_millis(min),
            "timeMax": format_millis(max),
            "calendars": calendars,
        }))
    }

    /// Makes every sync token issued so far answer 410 `fullSyncRequired`.
    pub(super) fn invalidate_sync_tokens(&mut self) {
        self.sync_epoch += 1;
    }
}

/// The items of a full (not incremental) listing, filters and order applied.
fn full_items(calendar: &Calendar, query: &ListQuery) -> Vec<Value> {
    let tz = calendar.tz();
    let show_deleted = query.show_deleted.unwrap_or(false);
    let exceptions: HashSet<&str> = calendar
        .records
        .iter()
        .filter(|record| !text(&record.body, "recurringEventId").is_empty())
        .map(|record| text(&record.body, "id"))
        .collect();
    let mut items = Vec::new();
    for record in &calendar.records {
        let event = &record.body;
        if !query.matches(event) {
            continue;
        }
        let is_exception = !text(event, "recurringEventId").is_empty();
        if is_cancelled(event) {
            let recently_deleted = query.updated_min.is_some();
            // Google keeps cancelled exceptions in a plain listing so the client can tell which
            // occurrences of a series are gone.
            let cancelled_instance = is_exception && !show_deleted && !query.single_events;
            if !(show_deleted || recently_deleted || cancelled_instance) {
                continue;
            }
            let in_window =
                parse_times(event, tz).is_ok_and(|times| times.overlaps(query.time_min, query.time_max));
            if in_window || (query.time_min.is_none() && query.time_max.is_none()) {
                items.push(tombstone(event));
            }
            continue;
        }
        if is_master(event) {
            let instances = expand(event, calendar, query.time_min, query.time_max, None);
            let instances: Vec<Value> =
                instances.into_iter().filter(|instance| !exceptions.contains(text(instance, "id"))).collect();
            if query.single_events {
                items.extend(instances);
            } else if !instances.is_empty() || (query.time_min.is_none() && query.time_max.is_none()) {
                items.push(event.clone());
            }
            continue;
        }
        if parse_times(event, tz).is_ok_and(|times| times.overlaps(query.time_min, query.time_max)) {
            items.push(event.clone());
        }
    }
    match query.order_by {
        Some(OrderBy::StartTime) => items.sort_by(|a, b| compare_start(a, b, tz)),
        Some(OrderBy::Updated) => items.sort_by(|a, b| text(a, "updated").cmp(text(b, "updated"))),
        None => {}
    }
    items
}

/// The changes since change number `since`, oldest change first.
fn incremental_items(calendar: &Calendar, since: u64, single_events: bool) -> Vec<Value> {
    let exceptions: HashSet<&str> = calendar
        .records
        .iter()
        .filter(|record| !text(&record.body, "recurringEventId").is_empty())
        .map(|record| text(&record.body, "id"))
        .collect();
    let mut changed: Vec<&Record> =
        calendar.records.iter().filter(|record| record.change_seq > since).collect();
    changed.sort_by_key(|record| record.change_seq);
    let mut items = Vec::new();
    for record in changed {
        let event = &record.body;
        if is_cancelled(event) {
            items.push(tombstone(event));
        } else if single_events && is_master(event) {
            items.extend(
                expand(event, calendar, None, None, None)
                    .into_iter()
                    .filter(|instance| !exceptions.contains(text(instance, "id"))),
            );
        } else {
            items.push(event.clone());
        }
    }
    items
}

/// The instances of a series overlapping `[min, max)` (all of them up to a horizon when
/// unbounded). With `wanted`, the expansion stops just after that instance's start.
fn expand(
    master: &Value,
    calendar: &Calendar,
    min: Option<DateTime<Utc>>,
    max: Option<DateTime<Utc>>,
    wanted: Option<&str>,
) -> Vec<Value> {
    let (Ok(times), Ok(Some(recurrence))) = (parse_times(master, calendar.tz()), parse_recurrence(master))
    else {
        return Vec::new();
    };
    let zone = times.zone;
    let duration = times.end_instant() - times.start_instant();
    let date_span = match (times.start, times.end) {
        (When::Date(start), When::Date(end)) => end - start,
        _ => TimeDelta::zero(),
    };
    let wanted_at = wanted.and_then(split_instance_id).and_then(|(_, stamp)| {
        NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
            .map(|at| Utc.from_utc_datetime(&at))
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(stamp, "%Y%m%d")
                    .ok()
                    .map(|date| zone.instant(date.and_time(midnight())))
            })
    });
    let horizon = match (wanted_at, max) {
        (Some(at), _) => at + TimeDelta::days(2),
        (None, Some(max)) => max,
        (None, None) => times.start_instant().max(Utc::now()) + EXPANSION_HORIZON,
    };
    let series_id = text(master, "id");
    let to_instant = |local: NaiveDateTime| zone.instant(local);
    recurrence
        .occurrences(times.start_local(), times.all_day(), horizon, &to_instant)
        .into_iter()
        .filter_map(|local| {
            let (start, end) = if times.all_day() {
                let date = local.date();
                (When::Date(date), When::Date(date + date_span))
            } else {
                let at = zone.instant(local);
                (When::Time(at), When::Time(at + duration))
            };
            let instance_times = Times { start, end, ..times };
            if !instance_times.overlaps(min, max) {
                return None;
            }
            let id = format!("{series_id}_{}", instance_stamp(start));
            let mut instance = master.clone();
            let Value::Object(map) = &mut instance else { return None };
            map.remove("recurrence");
            map.insert("id".to_owned(), json!(id));
            map.insert("recurringEventId".to_owned(), json!(series_id));
            map.insert("originalStartTime".to_owned(), times.json(start));
            map.insert("start".to_owned(), times.json(start));
            map.insert("end".to_owned(), times.json(end));
            map.insert("htmlLink".to_owned(), json!(html_link(&id, &calendar.id)));
            Some(instance)
        })
        .collect()
}

/// Busy time of a calendar in `[min, max)`: opaque, confirmed or tentative events the owner has
/// not declined (out of office whatever its transparency; never working locations or birthdays),
/// series expanded, clipped to the range and merged.
fn busy_intervals(
    calendar: &Calendar,
    min: DateTime<Utc>,
    max: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = calendar.tz();
    let exceptions: HashSet<&str> = calendar
        .records
        .iter()
        .filter(|record| !text(&record.body, "recurringEventId").is_empty())
        .map(|record| text(&record.body, "id"))
        .collect();
    let blocks = |event: &Value| {
        let declined =
            event.get("attendees").and_then(Value::as_array).into_iter().flatten().any(|attendee| {
                attendee.get("self").and_then(Value::as_bool) == Some(true)
                    && text(attendee, "responseStatus") == "declined"
            });
        // Working locations and birthdays never block time, out of office always does, whatever
        // their `transparency` says.
        let free = match text(event, "eventType") {
            "workingLocation" | "birthday" => true,
            "outOfOffice" => false,
            _ => text(event, "transparency") == "transparent",
        };
        !is_cancelled(event) && !free && !declined
    };
    let mut intervals = Vec::new();
    for record in &calendar.records {
        let event = &record.body;
        if !blocks(event) {
            continue;
        }
        let occurrences = if is_master(event) {
            expand(event, calendar, Some(min), Some(max), None)
                .into_iter()
                .filter(|instance| !exceptions.contains(text(instance, "id")))
                .collect()
        } else {
            vec![event.clone()]
        };
        for occurrence in occurrences {
            if let Ok(times) = parse_times(&occurrence, tz)
                && times.overlaps(Some(min), Some(max))
                && times.end_instant() > times.start_instant()
            {
                intervals.push((times.start_instant().max(min), times.end_instant().min(max)));
            }
        }
    }
    intervals.sort();
    let mut merged: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for (start, end) in intervals {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Page snapshots by id, oldest first.
pub(super) type Snapshots = BTreeMap<u64, Arc<Snapshot>>;
