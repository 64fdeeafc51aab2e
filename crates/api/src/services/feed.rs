//! The secret ICS feed: a URL a calendar app subscribes to, showing the person's scheduled plan
//! tasks and the events of their built-in calendar as RFC 5545 iCalendar.
//!
//! The URL carries a random token; only its SHA-256 is stored, and issuing a new one replaces it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use planwright_domain::{CalendarEvent, CalendarProvider};
use planwright_store::repo::{self, feeds::ScheduledTaskBlock};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{error::ApiError, services::credentials::hash_token, state::AppState};

/// Days of past items a feed keeps.
pub const PAST_DAYS: i64 = 90;
/// Days of future items a feed shows.
pub const FUTURE_DAYS: i64 = 730;
/// Most items (tasks and events together) in one feed; the earliest are kept.
pub const MAX_ITEMS: usize = 5000;

/// A rendered feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// The `text/calendar` document.
    pub body: String,
    /// A strong validator of `body` (hex, unquoted).
    pub etag: String,
}

/// Issues the caller's feed token, replacing (and so revoking) any earlier one.
#[tracing::instrument(skip(state))]
pub async fn issue_feed(state: &AppState, user_id: Uuid) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    repo::feeds::replace(state.db.conn(), user_id, &hash_token(&token)).await?;
    Ok(token)
}

/// The feed whose token is `token`. Unknown, replaced and malformed tokens get the same 404.
#[tracing::instrument(skip_all)]
pub async fn render_feed(state: &AppState, token: &str) -> Result<Feed, ApiError> {
    let not_found = || {
        ApiError::NotFound("No calendar feed has this address (a newer one may have replaced it).".to_owned())
    };
    if !is_well_formed(token) {
        return Err(not_found());
    }
    let db = state.db.conn();
    let user_id = repo::feeds::find_user(db, &hash_token(token)).await?.ok_or_else(not_found)?;
    let now = Utc::now();
    let (from, to) = (now - Duration::days(PAST_DAYS), now + Duration::days(FUTURE_DAYS));
    let limit = MAX_ITEMS as u64;
    let tasks = repo::feeds::scheduled_blocks(db, user_id, from, to, limit).await?;
    let local = repo::calendar::list_connections(db, user_id)
        .await?
        .into_iter()
        .find(|connection| connection.provider == CalendarProvider::Local);
    let events = match local {
        Some(local) => repo::calendar::events_between(db, user_id, Some(local.id), from, to, limit).await?,
        None => Vec::new(),
    };
    let body = render_calendar(&tasks, &events);
    let etag = hex(&Sha256::digest(body.as_bytes())[..16]);
    Ok(Feed { body, etag })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` looks like one [`issue_feed`] made: 32 bytes of unpadded base64url.
fn is_well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// When an item happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum When {
    /// From one instant to another (UTC).
    Timed(DateTime<Utc>, DateTime<Utc>),
    /// Whole days: the first and the day after the last.
    AllDay(NaiveDate, NaiveDate),
}

/// One `VEVENT`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    uid: String,
    summary: String,
    description: Option<String>,
    location: Option<String>,
    when: When,
    /// Sort key: the start instant.
    start: DateTime<Utc>,
    /// Last change, for `DTSTAMP` and `LAST-MODIFIED` (so the same data gives the same bytes).
    changed: DateTime<Utc>,
    status: Option<&'static str>,
    transparent: bool,
}

impl From<&ScheduledTaskBlock> for Item {
    /// A task's block; its first keeps the uid it had before tasks were split into chunks.
    fn from(task: &ScheduledTaskBlock) -> Self {
        let description = match (task.description.trim(), &task.goal) {
            ("", Some(goal)) => Some(format!("Plan: {goal}")),
            (text, Some(goal)) => Some(format!("{text}\n\nPlan: {goal}")),
            ("", None) => None,
            (text, None) => Some(text.to_owned()),
        };
        let uid = match task.chunk {
            0 => format!("task-{}@planwright", task.task_id),
            chunk => format!("task-{}-{chunk}@planwright", task.task_id),
        };
        Self {
            uid,
            summary: task.title.clone(),
            description,
            location: None,
            when: When::Timed(task.start, task.end),
            start: task.start,
            changed: task.updated_at,
            status: Some("CONFIRMED"),
            transparent: false,
        }
    }
}

impl Item {
    /// The item for a built-in calendar event; `None` for a cancelled one.
    fn from_event(event: &CalendarEvent) -> Option<Self> {
        let data = &event.data;
        let status = match data.status.as_str() {
            "cancelled" => return None,
            "tentative" => Some("TENTATIVE"),
            "confirmed" => Some("CONFIRMED"),
            _ => None,
        };
        let when = if data.all_day {
            let first = data.start_date.unwrap_or_else(|| data.start.date_naive());
            let after = data.end_date.filter(|end| *end > first).unwrap_or_else(|| first + Duration::days(1));
            When::AllDay(first, after)
        } else {
            When::Timed(data.start, data.end)
        };
        Some(Self {
            uid: data
                .ical_uid
                .clone()
                .filter(|uid| !uid.trim().is_empty())
                .unwrap_or_else(|| format!("event-{}@planwright", event.id)),
            summary: data.title.clone(),
            description: data.description.clone().filter(|d| !d.trim().is_empty()),
            location: data.location.clone().filter(|l| !l.trim().is_empty()),
            when,
            start: data.start,
            changed: event.updated_at,
            status,
            transparent: data.transparent,
        })
    }
}

/// The iCalendar document of `tasks` and built-in calendar `events`, by start, at most
/// [`MAX_ITEMS`]. An event written for a task that is itself in the feed is left out, so the task
/// shows once.
fn render_calendar(tasks: &[ScheduledTaskBlock], events: &[CalendarEvent]) -> String {
    let mut items: Vec<Item> = tasks.iter().map(Item::from).collect();
    items.extend(
        events
            .iter()
            .filter(|event| {
                event.data.plan_task_id.is_none_or(|id| !tasks.iter().any(|task| task.task_id == id))
            })
            .filter_map(Item::from_event),
    );
    items.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.uid.cmp(&b.uid)));
    items.truncate(MAX_ITEMS);

    let mut ics = Ics::default();
    ics.line("BEGIN:VCALENDAR");
    ics.line("PRODID:-//Planwright//Planwright Calendar Feed//EN");
    ics.line("VERSION:2.0");
    ics.line("CALSCALE:GREGORIAN");
    ics.text("X-WR-CALNAME", "Planwright");
    ics.text("X-WR-CALDESC", "Your scheduled tasks and built-in calendar events from Planwright.");
    ics.line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    ics.line("X-PUBLISHED-TTL:PT1H");
    for item in &items {
        ics.line("BEGIN:VEVENT");
        ics.text("UID", &item.uid);
        ics.utc("DTSTAMP", item.changed);
        ics.utc("LAST-MODIFIED", item.changed);
        match item.when {
            When::Timed(start, end) => {
                ics.utc("DTSTART", start);
                // DTEND must be later than DTSTART; without it the event ends where it starts.
                if end > start {
                    ics.utc("DTEND", end);
                }
            }
            When::AllDay(first, after) => {
                ics.date("DTSTART", first);
                ics.date("DTEND", after);
            }
        }
        ics.text("SUMMARY", &item.summary);
        if let Some(description) = &item.description {
            ics.text("DESCRIPTION", description);
        }
        if let Some(location) = &item.location {
            ics.text("LOCATION", location);
        }
        if let Some(status) = item.status {
            ics.line(&format!("STATUS:{status}"));
        }
        ics.line(if item.transparent { "TRANSP:TRANSPARENT" } else { "TRANSP:OPAQUE" });
        ics.line("END:VEVENT");
    }
    ics.line("END:VCALENDAR");
    ics.out
}

/// An iCalendar writer: CRLF line ends, lines folded at 75 octets, TEXT values escaped.
///
/// Hand-written because the `icalendar` crate (0.17) can emit 76-octet lines and passes carriage
/// returns through unescaped; both break strict readers.
#[derive(Debug, Default)]
struct Ics {
    out: String,
}

impl Ics {
    /// Writes one content line, folded.
    fn line(&mut self, content: &str) {
        fold_into(&mut self.out, content);
    }

    /// `NAME:value` with `value` escaped as TEXT.
    fn text(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{}", escape_text(value)));
    }

    /// `NAME:YYYYMMDDTHHMMSSZ`.
    fn utc(&mut self, name: &str, at: DateTime<Utc>) {
        self.line(&format!("{name}:{}", at.format("%Y%m%dT%H%M%SZ")));
    }

    /// `NAME;VALUE=DATE:YYYYMMDD`.
    fn date(&mut self, name: &str, day: NaiveDate) {
        self.line(&format!("{name};VALUE=DATE:{}", day.format("%Y%m%d")));
    }
}

/// Escapes a TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma get a backslash, line
/// breaks (LF, CRLF or CR) become `\n`, and other control characters, which TEXT may not hold,
/// are dropped.
fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `line` with CRLF, folded (RFC 5545 §3.1): no physical line longer than 75 octets,
/// each continuation starting with one space, never splitting a UTF-8 character.
fn fold_into(out: &mut String, line: &str) {
    const LIMIT: usize = 75;
    let mut rest = line;
    // The first line holds 75 octets; each continuation holds 74 after its leading space.
    let mut room = LIMIT;
    while rest.len() > room {
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        room = LIMIT - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use planwright_domain::EventData;

    use super::*;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, h, m, 0).single().unwrap_or_default()
    }

    fn folded(line: &str) -> String {
        let mut out = String::new();
        fold_into(&mut out, line);
        out
    }

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    #[test]
    fn text_escaping_covers_the_special_characters() {
        assert_eq!(escape_text(r"a\b;c,d:e"), r"a\\b\;c\,d:e");
        assert_eq!(escape_text("one\ntwo\r\nthree\rfour"), r"one\ntwo\nthree\nfour");
        assert_eq!(escape_text("tab\there\u{0}\u{7}bell"), "tab\therebell");
        assert_eq!(escape_text("é ☃"), "é ☃");
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(folded("SUMMARY:short"), "SUMMARY:short\r\n");
        let exactly = "X".repeat(75);
        assert_eq!(folded(&exactly), format!("{exactly}\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets_and_unfold_to_the_original() {
        for length in [76, 149, 150, 151, 224, 1000] {
            let line = format!("DESCRIPTION:{}", "a".repeat(length - 12));
            let out = folded(&line);
            assert!(out.ends_with("\r\n"));
            for physical in out.trim_end_matches("\r\n").split("\r\n") {
                assert!(physical.len() <= 75, "{length}: a line of {} octets", physical.len());
            }
            assert!(out.split("\r\n").skip(1).filter(|l| !l.is_empty()).all(|l| l.starts_with(' ')));
            assert_eq!(unfold(&out).trim_end_matches("\r\n"), line);
        }
    }

    #[test]
    fn folding_never_splits_a_character() {
        let line = format!("SUMMARY:{}", "é☃😀".repeat(40));
        let out = folded(&line);
        for physical in out.trim_end_matches("\r\n").split("\r\n") {
            assert!(physical.len() <= 75);
        }
        assert_eq!(unfold(&out).trim_end_matches("\r\n"), line);
    }

    fn task() -> ScheduledTaskBlock {
        ScheduledTaskBlock {
            task_id: Uuid::nil(),
            chunk: 0,
            plan_id: Some(Uuid::nil()),
            goal: Some("Learn Rust, fast".to_owned()),
            title: "Read; then write".to_owned(),
            description: "Chapter 1\nChapter 2".to_owned(),
            start: at(9, 0),
            end: at(10, 30),
            updated_at: at(8, 0),
        }
    }

    fn event(all_day: bool, plan_task_id: Option<Uuid>) -> CalendarEvent {
        CalendarEvent {
            id: Uuid::max(),
            connection_id: Uuid::nil(),
            calendar_id: "local".to_owned(),
            data: EventData {
                location: Some("Home".to_owned()),
                all_day,
                start_date: all_day.then(|| at(0, 0).date_naive()),
                end_date: all_day.then(|| at(0, 0).date_naive() + Duration::days(2)),
                transparent: true,
                plan_task_id,
                ..EventData::new("local-1", "Holiday", at(0, 0), at(0, 0) + Duration::days(2))
            },
            created_at: at(7, 0),
            updated_at: at(7, 0),
        }
    }

    #[test]
    fn a_calendar_lists_tasks_and_events_in_utc_and_dates() {
        let body = render_calendar(&[task()], &[event(true, None)]);
        assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"));
        let lines: Vec<&str> = body.split("\r\n").collect();
        assert!(lines.contains(&"VERSION:2.0") && lines.contains(&"CALSCALE:GREGORIAN"));
        assert!(lines.contains(&"UID:task-00000000-0000-0000-0000-000000000000@planwright"));
        assert!(lines.contains(&"DTSTART:20261201T090000Z") && lines.contains(&"DTEND:20261201T103000Z"));
        assert!(lines.contains(&r"SUMMARY:Read\; then write"));
        assert!(lines.contains(&r"DESCRIPTION:Chapter 1\nChapter 2\n\nPlan: Learn Rust\, fast"));
        assert!(
            lines.contains(&"DTSTART;VALUE=DATE:20261201") && lines.contains(&"DTEND;VALUE=DATE:20261203")
        );
        assert!(lines.contains(&"UID:event-ffffffff-ffff-ffff-ffff-ffffffffffff@planwright"));
        // The all-day event starts first.
        let event_at = lines.iter().position(|l| l.starts_with("UID:event-"));
        let task_at = lines.iter().position(|l| l.starts_with("UID:task-"));
        assert!(event_at < task_at);
        assert_eq!(body, render_calendar(&[task()], &[event(true, None)]), "same data, same bytes");
    }

    #[test]
    fn an_event_written_for_a_listed_task_is_left_out() {
        let body = render_calendar(&[task()], &[event(false, Some(Uuid::nil()))]);
        assert_eq!(body.matches("BEGIN:VEVENT").count(), 1);
        let body = render_calendar(&[], &[event(false, Some(Uuid::nil()))]);
        assert_eq!(body.matches("BEGIN:VEVENT").count(), 1);
    }

    #[test]
    fn cancelled_events_are_left_out() {
        let mut cancelled = event(false, None);
        cancelled.data.status = "cancelled".to_owned();
        assert_eq!(render_calendar(&[], &[cancelled]).matches("BEGIN:VEVENT").count(), 0);
    }

    #[test]
    fn only_tokens_shaped_like_issued_ones_are_looked_up() {
        assert!(is_well_formed(&URL_SAFE_NO_PAD.encode([7u8; 32])));
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed(&"a".repeat(42)));
        assert!(!is_well_formed(&format!("{}=", "a".repeat(42))));
        assert!(!is_well_formed(&format!("{}/", "a".repeat(42))));
    }
}
