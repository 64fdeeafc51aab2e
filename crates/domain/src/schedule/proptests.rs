//! Property tests: the scheduler's rules hold for random tasks, calendars, zones and clock changes.

use std::collections::{BTreeMap, HashSet};

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

const PRIORITIES: [Priority; 4] = [Priority::Urgent, Priority::High, Priority::Normal, Priority::Low];

fn minute_of_day(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn minutes(count: i64) -> TimeDelta {
    TimeDelta::minutes(count)
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

/// What a generated task looks like before it gets its id and instants: estimate, deadline and
/// earliest start (minutes after the request's base), priority, smallest piece, done, plan.
type Draft = (u32, Option<i64>, Option<i64>, Priority, Option<u16>, bool, Option<u128>);

prop_compose! {
    fn draft()(
        estimate in prop_oneof![4 => 15u32..=240, 1 => 0u32..=900],
        due in prop::option::weighted(0.5, -1440i64..10_080),
        earliest in prop::option::weighted(0.3, 0i64..5760),
        priority in prop::sample::select(PRIORITIES.to_vec()),
        min_chunk in prop::option::weighted(0.6, prop_oneof![3 => 15u16..=60, 1 => 0u16..=500]),
        done in prop::bool::weighted(0.1),
        plan in prop::option::weighted(0.5, 0u128..3),
    ) -> Draft {
        (estimate, due, earliest, priority, min_chunk, done, plan)
    }
}

/// Tasks from drafts: ids from the index (unique, in no particular order), plan positions from the
/// index too, instants from `base`.
fn tasks(drafts: Vec<Draft>, base: DateTime<Utc>) -> Vec<TaskToPlace> {
    drafts
        .into_iter()
        .enumerate()
        .map(|(n, (estimate_minutes, due, earliest, priority, min_chunk_minutes, done, plan))| {
            let n = u32::try_from(n).unwrap();
            TaskToPlace {
                id: Uuid::from_u128(u128::from(n) * 7919 % 1009),
                estimate_minutes,
                due_at: due.map(|at| base + minutes(at)),
                priority,
                earliest_start: earliest.map(|at| base + minutes(at)),
                min_chunk_minutes,
                done,
                sequence: plan.map(|plan| (Uuid::from_u128(plan + 1), n)),
            }
        })
        .collect()
}

prop_compose! {
    fn request()(
        (time_zone, start_date) in zone_and_start(),
        working_hours in working_hours(),
        drafts in prop::collection::vec(draft(), 0..20),
        busy in prop::collection::vec((-1440i64..14_400, 1i64..=300), 0..30),
        (buffer, cap) in (0i64..=60, 15i64..=600),
        from in prop_oneof![Just(0i64), -1440i64..4320],
        length in prop_oneof![3 => 1440i64..=14_400, 1 => -60i64..1440],
    ) -> ScheduleRequest {
        let midnight = start_date.and_time(NaiveTime::MIN).and_utc();
        let at = |minutes: i64| midnight + TimeDelta::minutes(minutes);
        ScheduleRequest {
            tasks: tasks(drafts, midnight),
            time_zone,
            working_hours,
            busy: busy.into_iter().map(|(start, length)| BusyInterval { start: at(start), end: at(start + length) }).collect(),
            pinned: Vec::new(),
            preferences: SchedulePreferences::parse(buffer, cap, 60).unwrap(),
            from: at(from),
            until: at(from + length),
        }
    }
}

prop_compose! {
    /// A request starting on a clock-change day, with working hours around the change (between
    /// 01:00 and 05:00, or from late evening into it) and short tasks, so pieces land next to,
    /// inside and across the skipped or repeated time.
    fn change_night_request()(
        (zone, day) in prop::sample::select(CLOCK_CHANGES[..12].to_vec()),
        (start, length) in prop_oneof![(60u32..240, 45u32..200), (1380u32..1400, 20u32..40)],
        drafts in prop::collection::vec(
            (15u32..=90, prop::option::of(10u16..=30), prop::option::weighted(0.3, 0i64..2880), 0u128..2),
            1..12,
        ),
        busy in prop::collection::vec((0i64..2880, 1i64..=60), 0..4),
        buffer in 0i64..=15,
    ) -> ScheduleRequest {
        let start_date: NaiveDate = day.parse().unwrap();
        // Late-evening windows belong to the day before the change.
        let start_date = if start >= 1380 { start_date.pred_opt().unwrap() } else { start_date };
        let end = (start + length).min(1439);
        let base = start_date.and_time(NaiveTime::MIN).and_utc() - TimeDelta::hours(14);
        let drafts = drafts
            .into_iter()
            .map(|(estimate, min_chunk, due, plan)| (estimate, due, None, Priority::Normal, min_chunk, false, Some(plan)))
            .collect();
        ScheduleRequest {
            tasks: tasks(drafts, base),
            time_zone: TimeZone::parse(zone).unwrap(),
            working_hours: WorkingHours::parse(&minute_of_day(start), &minute_of_day(end), &[1, 2, 3, 4, 5, 6, 7])
                .unwrap(),
            busy: busy
                .into_iter()
                .map(|(from, length)| {
                    let from = base + TimeDelta::minutes(from);
                    BusyInterval { start: from, end: from + TimeDelta::minutes(length) }
                })
                .collect(),
            pinned: Vec::new(),
            preferences: SchedulePreferences::parse(buffer, 1440, 3).unwrap(),
            from: base,
            until: base + TimeDelta::days(4),
        }
    }
}

fn reading(request: &ScheduleRequest, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&request.time_zone.tz()).naive_local()
}

/// Whether `estimate` minutes can be cut into pieces of `piece` to `longest` minutes, by trying
/// every number of pieces.
fn can_be_cut(estimate: u32, piece: u32, longest: u32) -> bool {
    (1..=estimate / piece.max(1)).any(|count| count * piece <= estimate && estimate <= count * longest)
}

/// The shortest piece a task may have: its whole estimate unless it may be split.
fn smallest_piece(task: &TaskToPlace) -> u32 {
    match task.min_chunk_minutes {
        Some(piece) => u32::from(piece.max(1)).min(task.estimate_minutes),
        None => task.estimate_minutes,
    }
}

/// The working day whose window holds `at` (the date `at` reads).
fn window_day(request: &ScheduleRequest, at: DateTime<Utc>) -> NaiveDate {
    reading(request, at).date()
}

/// The day a deadline's work counts for: the date it reads, or the day before at the first instant.
fn due_day(request: &ScheduleRequest, due: DateTime<Utc>) -> NaiveDate {
    let date = reading(request, due).date();
    if reading(request, due - TimeDelta::seconds(1)).date() < date { date.pred_opt().unwrap() } else { date }
}

/// Checks every rule of [`schedule`] on one request and its outcome.
fn check_rules(request: &ScheduleRequest, outcome: &ScheduleOutcome) -> Result<(), TestCaseError> {
    let hours = &request.working_hours;
    let preferences = request.preferences;
    let buffer = minutes(i64::from(preferences.buffer_minutes()));
    let cap = u32::from(preferences.daily_focus_cap_minutes());
    let working_day = u32::try_from((hours.end() - hours.start()).num_minutes()).unwrap();
    let by_id: BTreeMap<Uuid, &TaskToPlace> = request.tasks.iter().map(|task| (task.id, task)).collect();

    // Every task appears exactly once: placed (with pieces 0..n in time order) or left out.
    let mut pieces: BTreeMap<Uuid, Vec<&Placement>> = BTreeMap::new();
    for placement in &outcome.placements {
        prop_assert!(by_id.contains_key(&placement.task_id), "unknown task placed");
        pieces.entry(placement.task_id).or_default().push(placement);
    }
    let left_out: BTreeMap<Uuid, UnscheduledReason> =
        outcome.unscheduled.iter().map(|unscheduled| (unscheduled.task_id, unscheduled.reason)).collect();
    prop_assert_eq!(left_out.len(), outcome.unscheduled.len(), "a task is left out twice");
    prop_assert_eq!(
        pieces.len() + left_out.len(),
        request.tasks.len(),
        "a task is missing or both placed and left out"
    );
    prop_assert!(
        outcome.placements.windows(2).all(|w| w[0].start < w[1].start),
        "placements out of time order"
    );

    let risks: BTreeMap<Uuid, &AtRisk> = outcome.at_risk.iter().map(|risk| (risk.task_id, risk)).collect();
    prop_assert_eq!(risks.len(), outcome.at_risk.len());
    let mut expected_load: BTreeMap<NaiveDate, u32> = BTreeMap::new();

    for task in &request.tasks {
        let deadline = task.due_at.filter(|due| *due < request.until);
        let piece = smallest_piece(task);
        let refused = if task.done {
            Some(UnscheduledReason::Done)
        } else if task.estimate_minutes == 0 {
            Some(UnscheduledReason::NoDuration)
        } else if !can_be_cut(task.estimate_minutes, piece, working_day) {
            Some(UnscheduledReason::LongerThanWorkingDay)
        } else if !can_be_cut(task.estimate_minutes, piece, cap) {
            Some(UnscheduledReason::LongerThanDailyCap)
        } else {
            None
        };
        if let Some(&reason) = left_out.get(&task.id) {
            prop_assert!(!risks.contains_key(&task.id), "{} is at risk but not placed", task.id);
            let expected = refused.unwrap_or(if deadline.is_some() {
                UnscheduledReason::DeadlineUnreachable
            } else {
                UnscheduledReason::NoFreeSlotWithinHorizon
            });
            prop_assert_eq!(reason, expected, "{:?}", task);
            if let (UnscheduledReason::DeadlineUnreachable, Some(due)) = (reason, task.due_at) {
                *expected_load.entry(due_day(request, due)).or_default() += task.estimate_minutes;
            }
            continue;
        }
        prop_assert_eq!(refused, None, "{} should have been left out", task.id);
        let Some(chunks) = pieces.get(&task.id) else {
            return Err(TestCaseError::fail(format!("{} is neither placed nor left out", task.id)));
        };
        let count = u16::try_from(chunks.len()).unwrap();
        let mut placed = 0u32;
        let mut before_due = 0i64;
        for (n, chunk) in chunks.iter().enumerate() {
            prop_assert_eq!((chunk.chunk, chunk.chunks), (u16::try_from(n).unwrap(), count));
            let length = chunk.end - chunk.start;
            prop_assert!(length > TimeDelta::zero() && length.num_seconds() % 60 == 0);
            let length = u32::try_from(length.num_minutes()).unwrap();
            prop_assert!(length >= piece, "a piece of {} minutes, smallest {}", length, piece);
            prop_assert!(chunk.start >= request.from && chunk.end <= request.until);
            prop_assert!(task.earliest_start.is_none_or(|earliest| chunk.start >= earliest));
            if let Some(due) = deadline {
                before_due += (chunk.end.min(due) - chunk.start).num_minutes().max(0);
            }
            placed += length;
        }
        if task.min_chunk_minutes.is_none() {
            prop_assert_eq!(count, 1, "{} may not be split", task.id);
        }
        match (deadline, risks.get(&task.id)) {
            (Some(due), Some(risk)) => {
                let missing = task.estimate_minutes - u32::try_from(before_due).unwrap();
                prop_assert!(before_due > 0, "{} is placed without a minute before its deadline", task.id);
                prop_assert_eq!(
                    (risk.due_at, risk.minutes_missing, risk.minutes_unplaced),
                    (due, missing, task.estimate_minutes - placed)
                );
                prop_assert!(missing > 0);
                *expected_load.entry(due_day(request, due)).or_default() += missing;
            }
            (_, Some(_)) => prop_assert!(false, "{} is at risk without a deadline before until", task.id),
            (deadline, None) => {
                // Not at risk: all of it is placed, and by the deadline.
                prop_assert_eq!(placed, task.estimate_minutes, "{} is placed in part", task.id);
                if let Some(due) = deadline {
                    prop_assert!(
                        chunks.iter().all(|chunk| chunk.end <= due),
                        "{} ends after its deadline",
                        task.id
                    );
                }
            }
        }
    }

    // Pieces keep the buffer from each other (the same task's too) and from busy time.
    for pair in outcome.placements.windows(2) {
        prop_assert!(pair[1].start >= pair[0].end + buffer, "{:?} is too close to {:?}", pair[1], pair[0]);
    }
    let mut minutes_per_day: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for placement in &outcome.placements {
        let (start, end) = (placement.start, placement.end);
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
        // Every minute of the piece reads inside that day's working hours (clock changes in these
        // zones fall on whole minutes, like every bound here).
        let day = window_day(request, start);
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
        *minutes_per_day.entry(day).or_default() += u32::try_from((end - start).num_minutes()).unwrap();
    }
    for (&day, &total) in &minutes_per_day {
        prop_assert!(total <= cap, "{} minutes on {}", total, day);
        *expected_load.entry(day).or_default() += total;
    }

    // Plan order: within a plan, each placed task starts after the previous placed one ends.
    let mut plans: BTreeMap<Uuid, Vec<(u32, Uuid)>> = BTreeMap::new();
    for task in request.tasks.iter().filter(|task| pieces.contains_key(&task.id)) {
        if let Some((plan, position)) = task.sequence {
            plans.entry(plan).or_default().push((position, task.id));
        }
    }
    for members in plans.values_mut() {
        members.sort_unstable();
        for pair in members.windows(2) {
            let previous_end = pieces[&pair[0].1].last().unwrap().end;
            let next_start = pieces[&pair[1].1][0].start;
            prop_assert!(next_start >= previous_end + buffer, "plan order broken: {:?}", pair);
        }
    }

    // Overcommitted days: every day from `from`'s date on whose load exceeds the cap.
    let first_day = reading(request, request.from).date();
    let overcommitted: Vec<OvercommittedDay> = expected_load
        .into_iter()
        .filter(|&(date, load)| date >= first_day && load > cap)
        .map(|(date, load_minutes)| OvercommittedDay { date, load_minutes, cap_minutes: cap })
        .collect();
    prop_assert_eq!(&outcome.overcommitted_days, &overcommitted);
    Ok(())
}

/// The same request with its tasks and busy time in another order.
fn shuffled(request: &ScheduleRequest, rotate: usize) -> ScheduleRequest {
    let mut shuffled = request.clone();
    shuffled.tasks.reverse();
    shuffled.busy.reverse();
    let (task_count, busy_count) = (shuffled.tasks.len().max(1), shuffled.busy.len().max(1));
    shuffled.tasks.rotate_left(rotate % task_count);
    shuffled.busy.rotate_left(rotate % busy_count);
    shuffled
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn every_rule_holds_for_random_tasks_and_calendars(request in request()) {
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
        prop_assert_eq!(&schedule(&shuffled(&request, rotate)), &outcome);
    }

    /// With no busy time, nothing else in the way and a long enough working day, a task lands on
    /// the first working day from its earliest start, at the start of working hours.
    #[test]
    fn a_lone_task_lands_on_its_own_working_day(
        (time_zone, start_date) in zone_and_start(),
        day_offset in 0u64..10,
        estimate_minutes in 15u32..=240,
        min_chunk_minutes in prop::option::of(15u16..=240),
    ) {
        let from = start_of_day(start_date, &time_zone);
        let own_day = start_date + chrono::Days::new(day_offset);
        let request = ScheduleRequest {
            tasks: vec![TaskToPlace {
                id: Uuid::nil(),
                estimate_minutes,
                due_at: None,
                priority: Priority::Normal,
                earliest_start: Some(start_of_day(own_day, &time_zone)),
                min_chunk_minutes,
                done: false,
                sequence: None,
            }],
            until: from + TimeDelta::days(30),
            from,
            time_zone,
            working_hours: WorkingHours::default(),
            busy: Vec::new(),
            pinned: Vec::new(),
            preferences: SchedulePreferences::default(),
        };
        let outcome = schedule(&request);
        check_rules(&request, &outcome)?;
        let next_working_day = own_day.iter_days().find(|d| d.weekday().number_from_monday() <= 5).unwrap();
        prop_assert_eq!(outcome.placements.len(), 1);
        prop_assert_eq!(reading(&request, outcome.placements[0].start), next_working_day.and_hms_opt(9, 0, 0).unwrap());
    }

    /// With plenty of free time before every deadline, no task is at risk or left out, and every
    /// piece ends by its task's deadline.
    #[test]
    fn with_room_before_every_deadline_nothing_is_at_risk(
        (time_zone, start_date) in zone_and_start(),
        drafts in prop::collection::vec(
            (15u32..=120, prop::sample::select(PRIORITIES.to_vec()), prop::option::of(15u16..=60), 0i64..5760, prop::option::of(0u128..2)),
            1..6,
        ),
        busy in prop::collection::vec((0i64..14_400, 1i64..=30), 0..5),
    ) {
        // At most 600 minutes of work and 150 busy; each task is due 8 days or more after the start,
        // when at least 5 working days of 8 hours (6 under the cap) have passed.
        let base = start_of_day(start_date, &time_zone);
        let drafts = drafts
            .into_iter()
            .map(|(estimate, priority, min_chunk, due, plan)| (estimate, Some(11_520 + due), None, priority, min_chunk, false, plan))
            .collect();
        let request = ScheduleRequest {
            tasks: tasks(drafts, base),
            time_zone,
            working_hours: WorkingHours::default(),
            busy: busy
                .into_iter()
                .map(|(start, length)| BusyInterval { start: base + minutes(start), end: base + minutes(start + length) })
                .collect(),
            pinned: Vec::new(),
            preferences: SchedulePreferences::default(),
            from: base,
            until: base + TimeDelta::days(30),
        };
        let outcome = schedule(&request);
        check_rules(&request, &outcome)?;
        prop_assert!(outcome.at_risk.is_empty() && outcome.unscheduled.is_empty(), "{:?}", outcome);
        prop_assert!(outcome.overcommitted_days.is_empty());
    }
}

/// 500 tasks, 60 days and 2,000 busy intervals: the rules still hold (and the run is quick enough for
/// a unit test, since nothing works minute by minute).
#[test]
fn every_rule_holds_for_a_large_request() {
    let base = "2026-06-15T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
    // A small deterministic generator, so the case is the same on every run.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let days = 60;
    let busy: Vec<BusyInterval> = (0..2000)
        .map(|_| {
            let start = base + minutes(i64::try_from(next(days * 1440)).unwrap());
            BusyInterval { start, end: start + minutes(i64::try_from(10 + next(30)).unwrap()) }
        })
        .collect();
    let tasks: Vec<TaskToPlace> = (0..500u32)
        .map(|n| TaskToPlace {
            id: Uuid::from_u128(u128::from(n) + 1),
            estimate_minutes: u32::try_from(15 + next(240)).unwrap(),
            due_at: (next(2) == 0).then(|| base + minutes(i64::try_from(next(days * 1440)).unwrap())),
            priority: PRIORITIES[usize::try_from(next(4)).unwrap()],
            earliest_start: (next(4) == 0).then(|| base + minutes(i64::try_from(next(days * 1440)).unwrap())),
            min_chunk_minutes: (next(3) > 0).then(|| u16::try_from(15 + next(60)).unwrap()),
            done: next(20) == 0,
            sequence: (next(2) == 0).then(|| (Uuid::from_u128(u128::from(next(20))), n)),
        })
        .collect();
    let request = ScheduleRequest {
        tasks,
        time_zone: TimeZone::parse("Europe/Berlin").unwrap(),
        working_hours: WorkingHours::default(),
        busy,
        pinned: Vec::new(),
        preferences: SchedulePreferences::parse(5, 360, 60).unwrap(),
        from: base + TimeDelta::hours(10),
        until: base + TimeDelta::days(i64::try_from(days).unwrap()),
    };
    let outcome = schedule(&request);
    check_rules(&request, &outcome).unwrap();
    // The case exercises every kind of decision.
    let reasons: HashSet<UnscheduledReason> = outcome.unscheduled.iter().map(|u| u.reason).collect();
    assert!(reasons.contains(&UnscheduledReason::DeadlineUnreachable), "{reasons:?}");
    assert!(reasons.contains(&UnscheduledReason::NoFreeSlotWithinHorizon), "{reasons:?}");
    assert!(outcome.placements.iter().any(|p| p.chunks > 2));
    assert!(!outcome.at_risk.is_empty() && !outcome.overcommitted_days.is_empty());
    assert_eq!(schedule(&shuffled(&request, 7)), outcome);
}

prop_compose! {
    /// A random request whose open tasks have some blocks placed by hand: up to two each, anywhere
    /// from a day before `from` to ten days after it (outside working hours too), of 5 to 300
    /// minutes, with chunk numbers up to 3.
    fn request_with_pins()(
        request in request(),
        pins in prop::collection::vec((0usize..20, 0u16..4, -1440i64..14_400, 5i64..=300), 0..12),
    ) -> ScheduleRequest {
        let mut request = request;
        let open: Vec<Uuid> = request.tasks.iter().filter(|task| !task.done).map(|task| task.id).collect();
        if !open.is_empty() {
            let mut taken: HashSet<(Uuid, u16)> = HashSet::new();
            for (task, chunk, start, length) in pins {
                let task_id = open[task % open.len()];
                if taken.insert((task_id, chunk)) {
                    let start = request.from + minutes(start);
                    request.pinned.push(PinnedBlock { task_id, chunk, start, end: start + minutes(length) });
                }
            }
        }
        request
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    /// Pinned blocks stay as they are, count toward their task's estimate (only the rest is
    /// placed), are busy time with the buffer for every new piece, count toward their day's cap,
    /// and leave their chunk numbers to themselves.
    #[test]
    fn pinned_blocks_stay_and_only_the_rest_is_placed(request in request_with_pins(), rotate in 0usize..20) {
        let outcome = schedule(&request);
        let buffer = minutes(i64::from(request.preferences.buffer_minutes()));
        let cap = u32::from(request.preferences.daily_focus_cap_minutes());
        let left_out: BTreeMap<Uuid, UnscheduledReason> =
            outcome.unscheduled.iter().map(|u| (u.task_id, u.reason)).collect();
        let risky: HashSet<Uuid> = outcome.at_risk.iter().map(|risk| risk.task_id).collect();
        // Pinned blocks come back exactly, and nothing else is pinned.
        let mut given: Vec<PinnedBlock> = request.pinned.clone();
        given.sort_unstable_by_key(|pin| (pin.task_id, pin.chunk));
        let mut back: Vec<PinnedBlock> = outcome
            .placements
            .iter()
            .filter(|p| p.pinned)
            .map(|p| PinnedBlock { task_id: p.task_id, chunk: p.chunk, start: p.start, end: p.end })
            .collect();
        back.sort_unstable_by_key(|pin| (pin.task_id, pin.chunk));
        prop_assert_eq!(&back, &given);
        let new: Vec<&Placement> = outcome.placements.iter().filter(|p| !p.pinned).collect();
        for piece in &new {
            prop_assert!(piece.start >= request.from && piece.end <= request.until);
            for pin in &request.pinned {
                prop_assert!(
                    piece.end + buffer <= pin.start || pin.end + buffer <= piece.start,
                    "{:?} is within the buffer of pinned {:?}", piece, pin
                );
            }
        }
        for task in &request.tasks {
            let mine: Vec<&Placement> = outcome.placements.iter().filter(|p| p.task_id == task.id).collect();
            prop_assert!(!mine.is_empty() || left_out.contains_key(&task.id), "{} is missing", task.id);
            let chunks: HashSet<u16> = mine.iter().map(|p| p.chunk).collect();
            prop_assert_eq!(chunks.len(), mine.len(), "a chunk number repeats");
            prop_assert!(mine.iter().all(|p| usize::from(p.chunks) == mine.len()));
            let pinned: u32 = mine.iter().filter(|p| p.pinned).map(|p| u32::try_from((p.end - p.start).num_minutes()).unwrap()).sum();
            let placed: u32 = mine.iter().filter(|p| !p.pinned).map(|p| u32::try_from((p.end - p.start).num_minutes()).unwrap()).sum();
            let rest = task.estimate_minutes.saturating_sub(pinned);
            prop_assert!(placed <= rest, "{} got {} new minutes for {} left", task.id, placed, rest);
            if mine.iter().any(|p| p.pinned) && rest == 0 {
                prop_assert_eq!(placed, 0);
                prop_assert!(!left_out.contains_key(&task.id), "{} is covered by its pinned blocks", task.id);
            }
            if !left_out.contains_key(&task.id) && !risky.contains(&task.id) && !task.done {
                prop_assert_eq!(placed, rest, "{} is placed in part", task.id);
            }
        }
        // The cap holds for new work on top of the pinned minutes of its day.
        let mut per_day: BTreeMap<NaiveDate, (u32, u32)> = BTreeMap::new();
        for placement in &outcome.placements {
            let entry = per_day.entry(window_day(&request, placement.start)).or_default();
            let length = u32::try_from((placement.end - placement.start).num_minutes()).unwrap();
            if placement.pinned { entry.0 += length } else { entry.1 += length }
        }
        for (day, (pinned, placed)) in per_day {
            prop_assert!(placed == 0 || pinned + placed <= cap, "{}: {} pinned + {} new > {}", day, pinned, placed, cap);
        }
        // Deterministic, whatever the order of the pinned blocks.
        let mut reordered = shuffled(&request, rotate);
        reordered.pinned.reverse();
        prop_assert_eq!(&schedule(&reordered), &outcome);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// A run cut short at any instant, holding the busy time up to a day past the cut, whose
    /// outcome is settled gives the outcome of the whole run: a run may read a short reach of the
    /// calendar first.
    #[test]
    fn a_settled_short_run_is_the_whole_run(
        request in request_with_pins(),
        cut in 0i64..14_400,
        past_last in 0i64..1440,
    ) {
        let whole = schedule(&request);
        let buffer = minutes(i64::from(request.preferences.buffer_minutes()));
        // Anywhere, and just past the whole run's last piece (where a cut is most often settled).
        let last_end = whole.placements.iter().map(|piece| piece.end).max().unwrap_or(request.from);
        for until in [request.from + minutes(cut), last_end + buffer + minutes(past_last)] {
            let mut short = request.clone();
            short.until = until.min(request.until);
            let read_until = short.until + TimeDelta::days(1);
            short.busy.retain(|busy| busy.start < read_until);
            let outcome = schedule(&short);
            if is_settled(&short, &outcome) {
                prop_assert_eq!(&outcome, &whole);
            }
        }
    }
}

#[test]
fn a_short_run_is_settled_only_with_room_to_spare() {
    let monday = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
    let from = monday.and_hms_opt(9, 0, 0).unwrap().and_utc();
    let task = |n: u128, estimate: u32| TaskToPlace {
        id: Uuid::from_u128(n),
        estimate_minutes: estimate,
        due_at: None,
        priority: Priority::Normal,
        earliest_start: None,
        min_chunk_minutes: Some(30),
        done: false,
        sequence: Some((Uuid::from_u128(99), u32::try_from(n).unwrap())),
    };
    let request = ScheduleRequest {
        tasks: vec![task(1, 120), task(2, 240)],
        time_zone: TimeZone::parse("UTC").unwrap(),
        working_hours: WorkingHours::parse("09:00", "17:00", &[1, 2, 3, 4, 5]).unwrap(),
        busy: vec![BusyInterval { start: from + minutes(60), end: from + minutes(120) }],
        pinned: Vec::new(),
        preferences: SchedulePreferences::default(),
        from,
        until: from + TimeDelta::days(60),
    };
    let whole = schedule(&request);
    assert_eq!(whole.placements.len(), 3, "{whole:?}");
    // Two days hold both tasks with room to spare: settled, and the same as the whole run.
    let two_days = ScheduleRequest { until: from + TimeDelta::days(2), ..request.clone() };
    let outcome = schedule(&two_days);
    assert!(is_settled(&two_days, &outcome));
    assert_eq!(outcome, whole);
    // Cut in the middle of the second task: it is not placed whole, so not settled.
    let three_hours = ScheduleRequest { until: from + minutes(180), ..request.clone() };
    let outcome = schedule(&three_hours);
    assert!(!is_settled(&three_hours, &outcome), "{outcome:?}");
    // Cut right after the last piece, inside the buffer: not settled either.
    let last_end = whole.placements.iter().map(|piece| piece.end).max().unwrap();
    let tight = ScheduleRequest { until: last_end + minutes(5), ..request.clone() };
    let outcome = schedule(&tight);
    assert_eq!(outcome.placements, whole.placements);
    assert!(!is_settled(&tight, &outcome));
    // A pinned block past the cut keeps the run open.
    let pinned = ScheduleRequest {
        pinned: vec![PinnedBlock {
            task_id: Uuid::from_u128(2),
            chunk: 3,
            start: from + TimeDelta::days(3),
            end: from + TimeDelta::days(3) + minutes(30),
        }],
        ..two_days
    };
    assert!(!is_settled(&pinned, &schedule(&pinned)));
}
