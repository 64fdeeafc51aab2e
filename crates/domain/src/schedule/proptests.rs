//! Property tests: the scheduler's rules hold for random plans, calendars, zones and clock changes.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

/// Zones with the days their clocks change in 2025–2026 (or an ordinary day, for zones without
/// changes); shared with the window tests.
pub(super) const CLOCK_CHANGES: [(&str, &str); 18] = [
    ("America/New_York", "2026-03-08"),
    ("America/New_York", "2026-11-01"),
    ("America/New_York", "2025-11-02"),
    ("Europe/Berlin", "2026-03-29"),
    ("Europe/Berlin", "2026-10-25"),
    ("Europe/Berlin", "2025-10-26"),
    // Half-hour changes.
    ("Australia/Lord_Howe", "2026-04-05"),
    ("Australia/Lord_Howe", "2026-10-04"),
    ("Australia/Lord_Howe", "2025-10-05"),
    // Changes at 02:45 and 03:45.
    ("Pacific/Chatham", "2026-04-05"),
    ("Pacific/Chatham", "2026-09-27"),
    ("Pacific/Chatham", "2025-09-28"),
    ("Asia/Kolkata", "2026-03-29"),
    ("Asia/Kolkata", "2026-11-01"),
    ("UTC", "2026-03-29"),
    ("UTC", "2026-10-25"),
    ("Europe/Berlin", "2026-06-15"),
    ("America/New_York", "2027-01-10"),
];

fn minute_of_day(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

prop_compose! {
    fn working_hours()(
        (start, length) in prop_oneof![
            // Windows in the small hours, where the clocks change.
            3 => (0u32..300, 15u32..300),
            1 => (0u32..1400, 15u32..1000),
        ],
        days in prop::collection::btree_set(1i64..=7, 1..=7),
    ) -> WorkingHours {
        let end = (start + length).min(1439);
        let days: Vec<i64> = days.into_iter().collect();
        WorkingHours::parse(&minute_of_day(start), &minute_of_day(end), &days).unwrap()
    }
}

prop_compose! {
    /// A zone and a start date a few days before (or just after) one of its clock changes.
    fn zone_and_start()(
        (zone, day) in prop::sample::select(CLOCK_CHANGES.to_vec()),
        shift in prop_oneof![Just(0i64), -4i64..=1],
    ) -> (TimeZone, NaiveDate) {
        (TimeZone::parse(zone).unwrap(), day.parse::<NaiveDate>().unwrap() + TimeDelta::days(shift))
    }
}

prop_compose! {
    fn request()(
        (time_zone, start_date) in zone_and_start(),
        working_hours in working_hours(),
        tasks in prop::collection::vec(
            (0u16..4, prop_oneof![4 => 15u16..=120, 1 => 0u16..=500], 0u32..8),
            0..20,
        ),
        busy in prop::collection::vec((-1440i64..14_400, 1i64..=300), 0..30),
        (buffer, cap, horizon) in (0i64..=60, 15i64..=600, 0i64..=14),
        not_before in prop::option::weighted(0.2, -1440i64..4320),
    ) -> ScheduleRequest {
        let midnight = start_date.and_time(NaiveTime::MIN).and_utc();
        let at = |minutes: i64| midnight + TimeDelta::minutes(minutes);
        ScheduleRequest {
            tasks: tasks
                .into_iter()
                .enumerate()
                .map(|(n, (day_offset, duration_minutes, position))| TaskToPlace {
                    id: Uuid::from_u128(u128::try_from(n).unwrap() * 7919 % 101),
                    day_offset,
                    duration_minutes,
                    position,
                })
                .collect(),
            start_date,
            time_zone,
            working_hours,
            busy: busy.into_iter().map(|(start, length)| BusyInterval { start: at(start), end: at(start + length) }).collect(),
            preferences: SchedulePreferences::parse(buffer, cap, horizon).unwrap(),
            not_before: not_before.map(at),
        }
    }
}

prop_compose! {
    /// A plan that starts on a clock-change day, with working hours around the change (between
    /// 01:00 and 05:00, or from late evening into it) and short tasks, so blocks land next to,
    /// inside and across the skipped or repeated time.
    fn change_night_request()(
        (zone, day) in prop::sample::select(CLOCK_CHANGES[..12].to_vec()),
        (start, length) in prop_oneof![(60u32..240, 45u32..200), (1380u32..1400, 20u32..40)],
        tasks in prop::collection::vec((0u16..2, 15u16..=45), 1..12),
        busy in prop::collection::vec((0i64..2880, 1i64..=60), 0..4),
        buffer in 0i64..=15,
    ) -> ScheduleRequest {
        let start_date: NaiveDate = day.parse().unwrap();
        // Late-evening windows belong to the day before the change.
        let start_date = if start >= 1380 { start_date.pred_opt().unwrap() } else { start_date };
        let end = (start + length).min(1439);
        let midnight = start_date.and_time(NaiveTime::MIN).and_utc() - TimeDelta::hours(14);
        ScheduleRequest {
            tasks: tasks
                .into_iter()
                .enumerate()
                .map(|(n, (day_offset, duration_minutes))| TaskToPlace {
                    id: Uuid::from_u128(u128::try_from(n).unwrap()),
                    day_offset,
                    duration_minutes,
                    position: u32::try_from(n).unwrap(),
                })
                .collect(),
            start_date,
            time_zone: TimeZone::parse(zone).unwrap(),
            working_hours: WorkingHours::parse(&minute_of_day(start), &minute_of_day(end), &[1, 2, 3, 4, 5, 6, 7])
                .unwrap(),
            busy: busy
                .into_iter()
                .map(|(from, length)| {
                    let from = midnight + TimeDelta::minutes(from);
                    BusyInterval { start: from, end: from + TimeDelta::minutes(length) }
                })
                .collect(),
            preferences: SchedulePreferences::parse(buffer, 1440, 3).unwrap(),
            not_before: None,
        }
    }
}

fn reading(request: &ScheduleRequest, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&request.time_zone.tz()).naive_local()
}

fn minutes(task: &TaskToPlace) -> TimeDelta {
    TimeDelta::minutes(i64::from(task.duration_minutes))
}

/// Checks every rule of [`schedule`] on one request and its outcome.
fn check_rules(request: &ScheduleRequest, outcome: &ScheduleOutcome) -> Result<(), TestCaseError> {
    let hours = &request.working_hours;
    let preferences = request.preferences;
    let buffer = TimeDelta::minutes(i64::from(preferences.buffer_minutes()));
    let mut order: Vec<&TaskToPlace> = request.tasks.iter().collect();
    order.sort_by_key(|t| (t.day_offset, t.position, t.id));

    // Every task appears exactly once, and both lists follow the plan's order.
    let (mut placed, mut left_out) =
        (outcome.placements.iter().peekable(), outcome.unscheduled.iter().peekable());
    let mut placed_tasks = Vec::new();
    for task in &order {
        if placed.peek().is_some_and(|p| p.task_id == task.id) {
            placed_tasks.push((*task, placed.next().copied().unwrap()));
        } else if let Some(unscheduled) = left_out.next_if(|u| u.task_id == task.id) {
            let length = minutes(task);
            let expected = if length.is_zero() {
                UnscheduledReason::NoDuration
            } else if length > hours.end() - hours.start() {
                UnscheduledReason::LongerThanWorkingDay
            } else if task.duration_minutes > preferences.daily_focus_cap_minutes() {
                UnscheduledReason::LongerThanDailyCap
            } else {
                UnscheduledReason::NoFreeSlotWithinHorizon
            };
            prop_assert_eq!(unscheduled.reason, expected);
        } else {
            prop_assert!(false, "task {} is missing or out of order", task.id);
        }
    }
    prop_assert!(placed.next().is_none() && left_out.next().is_none(), "the outcome names unknown tasks");

    let mut minutes_per_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    let mut previous_end: Option<DateTime<Utc>> = None;
    for (task, placement) in placed_tasks {
        let (start, end) = (placement.start, placement.end);
        prop_assert_eq!(end - start, minutes(task));
        prop_assert!(task.duration_minutes <= preferences.daily_focus_cap_minutes());
        if let Some(previous_end) = previous_end {
            prop_assert!(
                start >= previous_end + buffer,
                "{} starts too soon after the previous block",
                task.id
            );
        }
        previous_end = Some(end);
        if let Some(not_before) = request.not_before {
            prop_assert!(start >= not_before);
        }
        for busy in request.busy.iter().filter(|b| b.start < b.end) {
            prop_assert!(
                end + buffer <= busy.start || busy.end + buffer <= start,
                "[{}, {}) is within the buffer of busy [{}, {})",
                start,
                end,
                busy.start,
                busy.end
            );
        }

        // Every minute of the block reads inside that day's working hours (clock changes in these
        // zones fall on whole minutes, like every bound here).
        let day = reading(request, start).date();
        let window = (day.and_time(hours.start()), day.and_time(hours.end()));
        let mut instant = start;
        while instant < end {
            let local = reading(request, instant);
            prop_assert!(
                window.0 <= local && local < window.1,
                "{} reads {} outside {:?}",
                instant,
                local,
                window
            );
            instant += TimeDelta::minutes(1);
        }
        let weekday = u8::try_from(day.weekday().number_from_monday()).unwrap();
        prop_assert!(hours.days().contains(&weekday), "{} is not a working day", day);
        prop_assert!(day >= request.start_date + TimeDelta::days(i64::from(task.day_offset)));
        *minutes_per_day.entry(day).or_default() += i64::from(task.duration_minutes);
    }
    for (day, total) in minutes_per_day {
        prop_assert!(
            total <= i64::from(preferences.daily_focus_cap_minutes()),
            "{} minutes on {}",
            total,
            day
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn every_rule_holds_for_random_plans_and_calendars(request in request()) {
        let outcome = schedule(&request);
        check_rules(&request, &outcome)?;
    }

    #[test]
    fn every_rule_holds_around_clock_changes(request in change_night_request()) {
        let outcome = schedule(&request);
        check_rules(&request, &outcome)?;
    }

    #[test]
    fn the_outcome_depends_only_on_the_request_contents(request in request(), rotate in 0usize..20) {
        let outcome = schedule(&request);
        prop_assert_eq!(&schedule(&request), &outcome);
        let mut shuffled = request.clone();
        shuffled.tasks.reverse();
        shuffled.busy.reverse();
        let (task_count, busy_count) = (shuffled.tasks.len().max(1), shuffled.busy.len().max(1));
        shuffled.tasks.rotate_left(rotate % task_count);
        shuffled.busy.rotate_left(rotate % busy_count);
        prop_assert_eq!(&schedule(&shuffled), &outcome);
    }

    /// With no busy time, nothing else in the way and a long enough working day, a task lands on
    /// its own day when that is a working day.
    #[test]
    fn a_lone_task_lands_on_its_own_working_day(
        (time_zone, start_date) in zone_and_start(),
        day_offset in 0u16..10,
        duration_minutes in 15u16..=240,
    ) {
        let request = ScheduleRequest {
            tasks: vec![TaskToPlace { id: Uuid::nil(), day_offset, duration_minutes, position: 0 }],
            start_date,
            time_zone,
            working_hours: WorkingHours::default(),
            busy: Vec::new(),
            preferences: SchedulePreferences::default(),
            not_before: None,
        };
        let outcome = schedule(&request);
        check_rules(&request, &outcome)?;
        let own_day = start_date + TimeDelta::days(i64::from(day_offset));
        let next_working_day = own_day
            .iter_days()
            .find(|d| d.weekday().number_from_monday() <= 5)
            .unwrap();
        prop_assert_eq!(outcome.placements.len(), 1);
        prop_assert_eq!(reading(&request, outcome.placements[0].start), next_working_day.and_hms_opt(9, 0, 0).unwrap());
    }
}
