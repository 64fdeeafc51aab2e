//! Google ↔ domain, in one place: an event from Google as stored here ([`event_data`]), the
//! private properties that link an event to its plan and task, and the event a scheduled task
//! should be ([`ScheduledTask`]). Text from Google is cleaned before storage: PostgreSQL refuses
//! U+0000 in text, so NUL characters are stripped.
//!
//! Event types decide busy time ([`is_free`]): an out-of-office event is busy over its whole range
//! whatever its transparency; working-location and birthday events are never busy; any other type
//! (`default`, `focusTime`, `fromGmail`, types Google adds later) is busy unless transparent. The
//! answer is stored as the event's `transparent` flag, which every busy-time reader honours.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use planwright_calendar::{
    AutoDeclineMode, Event, EventDateTime, EventStatus, EventType, FocusTimeProperties,
};
use planwright_domain::{EventData, Task, TimeZone, event_id_for_chunk};
use uuid::Uuid;

/// The private extended property linking an event to the plan task it was scheduled for.
pub const TASK_PROPERTY: &str = "planwright_task_id";
/// The private extended property linking an event to its plan.
pub const PLAN_PROPERTY: &str = "planwright_plan_id";
/// The private extended property naming the user an event was scheduled for (found again by a
/// run over tasks of no single plan).
pub const USER_PROPERTY: &str = "planwright_user_id";

/// One placed chunk of a task: everything its calendar event follows from.
#[derive(Debug, Clone, Copy)]
pub struct ScheduledTask<'a> {
    /// The task.
    pub task: &'a Task,
    /// Its plan's goal, when it belongs to a plan.
    pub goal: Option<&'a str>,
    /// Which chunk, from 0.
    pub chunk: u16,
    /// How many chunks the task has in this run.
    pub chunks: u16,
    /// Where the scheduler placed it.
    pub start: DateTime<Utc>,
    /// Its end.
    pub end: DateTime<Utc>,
    /// The zone it was scheduled in (Google shows the event in it).
    pub zone: &'a TimeZone,
}

impl ScheduledTask<'_> {
    /// The event's id: derived from the task and chunk, so a re-run finds the same event.
    pub fn event_id(&self) -> String {
        event_id_for_chunk(self.task.id, self.chunk)
    }

    /// The event's title: the task's, with the part (`(2/3)`) when it was split.
    pub fn title(&self) -> String {
        match self.chunks {
            0 | 1 => self.task.title.clone(),
            chunks => format!("{} ({}/{chunks})", self.task.title, self.chunk + 1),
        }
    }

    /// The event's description: the task's, then which plan it belongs to.
    pub fn description(&self) -> String {
        let own = self.task.description.trim();
        match (own, self.goal) {
            ("", Some(goal)) => format!("Part of the plan \"{goal}\"."),
            (own, Some(goal)) => format!("{own}\n\nPart of the plan \"{goal}\"."),
            ("", None) => "Scheduled by Planwright.".to_owned(),
            (own, None) => format!("{own}\n\nScheduled by Planwright."),
        }
    }

    /// The event as Google should hold it; with `focus_time`, a focus-time event that declines no
    /// invitation (a meeting that lands on a block moves the block, not the meeting).
    pub fn google_event_as(&self, focus_time: bool) -> Event {
        let event = self.google_event();
        match focus_time {
            true => event.with_focus_time(FocusTimeProperties {
                auto_decline_mode: Some(AutoDeclineMode::DeclineNone),
                ..FocusTimeProperties::default()
            }),
            false => event,
        }
    }

    /// The event as Google should hold it (an ordinary event).
    pub fn google_event(&self) -> Event {
        let at = |instant: DateTime<Utc>| {
            EventDateTime::at(instant.with_timezone(&self.zone.tz())).with_time_zone(self.zone.name())
        };
        let event = Event::default()
            .with_id(self.event_id())
            .with_summary(self.title())
            .with_description(self.description())
            .with_times(at(self.start), at(self.end))
            .with_private_property(TASK_PROPERTY, self.task.id.to_string())
            .with_private_property(USER_PROPERTY, self.task.user_id.to_string());
        match self.task.plan_id {
            Some(plan_id) => event.with_private_property(PLAN_PROPERTY, plan_id.to_string()),
            None => event,
        }
    }

    /// The event as the built-in calendar should hold it.
    pub fn local_event(&self) -> EventData {
        EventData {
            description: Some(self.description()),
            plan_task_id: Some(self.task.id),
            plan_id: self.task.plan_id,
            ..EventData::local(self.event_id(), self.title(), self.start, self.end)
        }
    }
}

/// Whether Google's copy already says what we would write. The event type is not compared:
/// Google never changes it after the event was created.
pub fn same_event(existing: &Event, desired: &Event) -> bool {
    let instant =
        |at: &Option<EventDateTime>| at.as_ref().and_then(|at| at.date_time).map(|t| t.with_timezone(&Utc));
    existing.summary == desired.summary
        && existing.description == desired.description
        && instant(&existing.start) == instant(&desired.start)
        && instant(&existing.end) == instant(&desired.end)
        && existing.extended_properties.as_ref().map(|p| &p.private)
            == desired.extended_properties.as_ref().map(|p| &p.private)
}

/// The id in one of an event's private properties (`TASK_PROPERTY`, `PLAN_PROPERTY`).
pub fn private_id(event: &Event, key: &str) -> Option<Uuid> {
    event
        .extended_properties
        .as_ref()
        .and_then(|properties| properties.private.get(key))
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// An event from Google as stored here; `None` when it has no usable start or end.
pub fn event_data(event: Event) -> Option<EventData> {
    let (start, start_date) = instant(event.start.as_ref()?)?;
    let (end, end_date) = instant(event.end.as_ref()?)?;
    let transparent = is_free(&event);
    let (plan_task_id, plan_id) = (private_id(&event, TASK_PROPERTY), private_id(&event, PLAN_PROPERTY));
    let status = match &event.status {
        Some(EventStatus::Tentative) => "tentative",
        _ => "confirmed",
    };
    let title = event.summary.map(clean).filter(|s| !s.trim().is_empty());
    Some(EventData {
        ical_uid: event.ical_uid.map(clean),
        description: event.description.map(clean),
        location: event.location.map(clean),
        all_day: start_date.is_some(),
        start_date,
        end_date,
        time_zone: event.start.and_then(|s| s.time_zone).map(clean),
        recurrence: event.recurrence.map(|rules| rules.into_iter().map(clean).collect()),
        recurring_event_id: event.recurring_event_id.map(clean),
        status: status.to_owned(),
        transparent,
        html_link: event.html_link.map(clean),
        etag: event.etag.map(clean),
        provider_updated_at: event.updated,
        plan_task_id,
        plan_id,
        ..EventData::new(
            clean(event.id?),
            title.unwrap_or_else(|| "(no title)".to_owned()),
            start,
            end.max(start),
        )
    })
}

/// Whether an event leaves its time free: working-location and birthday events always, an
/// out-of-office event never, any other type when it is transparent.
pub fn is_free(event: &Event) -> bool {
    match event.kind() {
        EventType::WorkingLocation | EventType::Birthday => true,
        EventType::OutOfOffice => false,
        _ => event.is_transparent(),
    }
}

/// Text as PostgreSQL can store it: without NUL characters.
fn clean(text: String) -> String {
    if text.contains('\0') { text.replace('\0', "") } else { text }
}

/// A start or end as an instant (all-day: midnight UTC of the date, with the date kept).
fn instant(at: &EventDateTime) -> Option<(DateTime<Utc>, Option<NaiveDate>)> {
    match (at.date_time, at.date) {
        (Some(date_time), _) => Some((date_time.with_timezone(&Utc), None)),
        (None, Some(date)) => Some((date.and_time(NaiveTime::MIN).and_utc(), Some(date))),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeDelta, TimeZone as _};

    use super::*;

    #[test]
    fn all_day_events_keep_their_dates_and_timed_ones_their_instants() {
        let event = Event::default().with_id("abc123").with_summary("Trip").with_times(
            EventDateTime::all_day(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap()),
            EventDateTime::all_day(NaiveDate::from_ymd_opt(2026, 12, 27).unwrap()),
        );
        let data = event_data(event).unwrap();
        assert!(data.all_day);
        assert_eq!(data.start_date, NaiveDate::from_ymd_opt(2026, 12, 24));
        assert_eq!(data.end - data.start, TimeDelta::days(3));

        let berlin = FixedOffset::east_opt(3600).unwrap();
        let mut event = Event::default().with_id("def456").with_times(
            EventDateTime::at(berlin.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()),
            EventDateTime::at(berlin.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()),
        );
        event.extra.insert("transparency".into(), "transparent".into());
        let data = event_data(event).unwrap();
        assert_eq!(data.start, Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap());
        assert!(!data.all_day && data.transparent);
        assert_eq!(data.title, "(no title)");
    }

    #[test]
    fn event_types_decide_busy_time_and_unknown_types_follow_transparency() {
        let at = |hour| EventDateTime::at(Utc.with_ymd_and_hms(2026, 12, 1, hour, 0, 0).unwrap());
        let typed = |kind: &str, transparency: Option<&str>| {
            let mut event = Event::default().with_id("t1").with_times(at(9), at(10));
            event.event_type = Some(EventType::from(kind.to_owned()));
            if let Some(transparency) = transparency {
                event.extra.insert("transparency".into(), transparency.into());
            }
            event_data(event).unwrap().transparent
        };
        assert!(!typed("outOfOffice", Some("transparent")), "out of office is always busy");
        assert!(typed("workingLocation", None) && typed("workingLocation", Some("opaque")));
        assert!(typed("birthday", None));
        assert!(!typed("default", None) && typed("default", Some("transparent")));
        assert!(!typed("focusTime", None) && !typed("fromGmail", Some("opaque")));
        assert!(!typed("someFutureType", None) && typed("someFutureType", Some("transparent")));
    }

    #[test]
    fn nul_characters_from_google_are_stripped_before_storage() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        let mut event = Event::default()
            .with_id("nul1")
            .with_summary("Stand\0up")
            .with_description("Notes\0 here")
            .with_times(EventDateTime::all_day(day), EventDateTime::all_day(day + TimeDelta::days(1)));
        event.location = Some("\0Room 4".to_owned());
        let data = event_data(event).unwrap();
        assert_eq!(data.title, "Standup");
        assert_eq!(data.description.as_deref(), Some("Notes here"));
        assert_eq!(data.location.as_deref(), Some("Room 4"));
        let only_nul = Event::default()
            .with_id("nul2")
            .with_summary("\0")
            .with_times(EventDateTime::all_day(day), EventDateTime::all_day(day + TimeDelta::days(1)));
        assert_eq!(event_data(only_nul).unwrap().title, "(no title)");
    }

    #[test]
    fn plan_and_task_come_back_from_the_private_properties() {
        let (plan, task) = (Uuid::from_u128(7), Uuid::from_u128(9));
        let day = NaiveDate::from_ymd_opt(2026, 12, 24).unwrap();
        let event = Event::default()
            .with_id("p1")
            .with_times(EventDateTime::all_day(day), EventDateTime::all_day(day + TimeDelta::days(1)))
            .with_private_property(TASK_PROPERTY, task.to_string())
            .with_private_property(PLAN_PROPERTY, plan.to_string());
        let data = event_data(event).unwrap();
        assert_eq!((data.plan_id, data.plan_task_id), (Some(plan), Some(task)));
    }

    #[test]
    fn a_scheduled_task_becomes_the_same_event_on_google_and_here() {
        let at = |hour| Utc.with_ymd_and_hms(2027, 1, 4, hour, 0, 0).unwrap();
        let plan_id = Uuid::from_u128(42);
        let task = Task {
            id: Uuid::parse_str("0191f1c4-7a2b-7c3d-8e4f-a0b1c2d3e4f5").unwrap(),
            user_id: Uuid::from_u128(5),
            parent_id: None,
            plan_id: Some(plan_id),
            title: "Read chapter 1".to_owned(),
            description: "  Skim first. ".to_owned(),
            status: planwright_domain::TaskStatus::Todo,
            due_at: None,
            estimate_minutes: Some(60),
            priority: planwright_domain::Priority::Normal,
            min_chunk_minutes: Some(30),
            earliest_start: None,
            day_offset: Some(0),
            position: 0,
            created_at: at(0),
            updated_at: at(0),
            blocks: Vec::new(),
        };
        let zone = TimeZone::parse("Europe/Berlin").unwrap();
        let scheduled = ScheduledTask {
            task: &task,
            goal: Some("Learn graphs"),
            chunk: 0,
            chunks: 1,
            start: at(9),
            end: at(10),
            zone: &zone,
        };
        // The id every run derives for this task (a changed id would duplicate every event).
        assert_eq!(scheduled.event_id(), "pl068v3h3q5du3r3ifk2os5kv4uk");
        assert_eq!(scheduled.description(), "Skim first.\n\nPart of the plan \"Learn graphs\".");

        let google = scheduled.google_event();
        assert_eq!(google.id.as_deref(), Some("pl068v3h3q5du3r3ifk2os5kv4uk"));
        assert_eq!(google.start.as_ref().and_then(|s| s.time_zone.as_deref()), Some("Europe/Berlin"));
        let back = event_data(google.clone()).unwrap();
        assert_eq!((back.plan_id, back.plan_task_id), (Some(plan_id), Some(task.id)));
        assert_eq!(google.summary.as_deref(), Some("Read chapter 1"), "one chunk: the task's own title");
        assert_eq!((back.start, back.end), (at(9), at(10)));
        assert!(same_event(&google, &scheduled.google_event()));
        let focus = scheduled.google_event_as(true);
        assert_eq!(focus.kind(), EventType::FocusTime);
        assert_eq!(
            focus.focus_time_properties.as_ref().and_then(|p| p.auto_decline_mode.clone()),
            Some(AutoDeclineMode::DeclineNone)
        );
        assert!(same_event(&google, &focus), "the type is not part of the comparison");
        assert_eq!(scheduled.google_event_as(false), google);

        let local = scheduled.local_event();
        assert_eq!(local.provider_event_id, "pl068v3h3q5du3r3ifk2os5kv4uk");
        assert_eq!(local.ical_uid.as_deref(), Some("pl068v3h3q5du3r3ifk2os5kv4uk@planwright"));
        assert_eq!((local.title.as_str(), local.description), (back.title.as_str(), back.description));
        assert_eq!((local.plan_task_id, local.plan_id), (Some(task.id), Some(plan_id)));

        // A second chunk of a split task: an id of its own, the part in its title.
        let second = ScheduledTask { chunk: 1, chunks: 3, goal: None, ..scheduled };
        assert_ne!(second.event_id(), scheduled.event_id());
        assert!(second.event_id().starts_with(&scheduled.event_id()));
        assert_eq!(second.title(), "Read chapter 1 (2/3)");
        assert_eq!(second.description(), "Skim first.\n\nScheduled by Planwright.");
    }
}
