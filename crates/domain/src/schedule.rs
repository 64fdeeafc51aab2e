//! The scheduler: a plan's tasks placed into free working time on a person's calendar.
//!
//! [`schedule`] is a pure function over plain data (tasks, a start date, a time zone, working hours,
//! busy intervals and [`SchedulePreferences`] in; a [`ScheduleOutcome`] out), so the same request
//! always gives the same answer and the rules are checked by property tests.

mod event_id;
#[cfg(test)]
mod proptests;
mod window;

use std::{fmt, ops::RangeInclusive};

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::event_id::event_id_for_task;
use self::window::{Span, working_spans};

/// The first instant of `date` in `zone`: midnight, or the first instant after the clocks jump
/// over it (the scheduler's DST-exact reading of wall-clock times).
pub fn start_of_day(date: NaiveDate, zone: &TimeZone) -> DateTime<Utc> {
    window::start_of_day(zone.tz(), date)
}
use crate::{PlanTask, TimeZone, ValidationErrors, WorkingHours, error::FieldError};

/// A task to place: which one, on which day of the plan, for how long, and where in the plan's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskToPlace {
    /// The plan task's id; the outcome names the task by it.
    pub id: Uuid,
    /// Day of the plan the task belongs to, 0 = the start date.
    pub day_offset: u16,
    /// Length of the block in minutes; a block is never split.
    pub duration_minutes: u16,
    /// Order within the plan.
    pub position: u32,
}

impl From<&PlanTask> for TaskToPlace {
    fn from(task: &PlanTask) -> Self {
        Self {
            id: task.id,
            day_offset: task.day_offset,
            duration_minutes: task.duration_minutes,
            position: task.position,
        }
    }
}

/// Time the calendar is already taken, half-open: `[start, end)`. An interval that does not end
/// after it starts is empty and ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusyInterval {
    /// First busy instant.
    pub start: DateTime<Utc>,
    /// First free instant after it.
    pub end: DateTime<Utc>,
}

/// How a person likes plan blocks laid out: room around each block, a ceiling on focused work per
/// day, and how far past the plan's last day a task may slip.
///
/// Stored and sent as `{"buffer_minutes":10,"daily_focus_cap_minutes":360,"horizon_days":60}`;
/// a missing key takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSchedulePreferences", into = "RawSchedulePreferences")]
pub struct SchedulePreferences {
    buffer_minutes: u16,
    daily_focus_cap_minutes: u16,
    horizon_days: u16,
}

/// The wire and storage shape of [`SchedulePreferences`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
struct RawSchedulePreferences {
    buffer_minutes: i64,
    daily_focus_cap_minutes: i64,
    horizon_days: i64,
}

impl SchedulePreferences {
    /// Minutes kept free around each block when none is configured.
    pub const DEFAULT_BUFFER_MINUTES: u16 = 10;
    /// Allowed buffers, in minutes.
    pub const BUFFER_MINUTES: RangeInclusive<u16> = 0..=120;
    /// Most minutes of plan work per day when none is configured: six hours.
    pub const DEFAULT_DAILY_FOCUS_CAP_MINUTES: u16 = 360;
    /// Allowed daily caps, in minutes (the shortest task up to a whole day).
    pub const DAILY_FOCUS_CAP_MINUTES: RangeInclusive<u16> = 15..=1440;
    /// Days past the plan's last day a task may slip to when none is configured.
    pub const DEFAULT_HORIZON_DAYS: u16 = 60;
    /// Allowed horizons, in days.
    pub const HORIZON_DAYS: RangeInclusive<u16> = 0..=365;

    /// Checks each value against its range; fields are named `schedule_preferences.*`.
    pub fn parse(
        buffer_minutes: i64,
        daily_focus_cap_minutes: i64,
        horizon_days: i64,
    ) -> Result<Self, ValidationErrors> {
        let buffer = bounded("buffer_minutes", buffer_minutes, Self::BUFFER_MINUTES, "minutes");
        let cap = bounded(
            "daily_focus_cap_minutes",
            daily_focus_cap_minutes,
            Self::DAILY_FOCUS_CAP_MINUTES,
            "minutes",
        );
        let horizon = bounded("horizon_days", horizon_days, Self::HORIZON_DAYS, "days");
        match (buffer, cap, horizon) {
            (Ok(buffer_minutes), Ok(daily_focus_cap_minutes), Ok(horizon_days)) => {
                Ok(Self { buffer_minutes, daily_focus_cap_minutes, horizon_days })
            }
            (buffer, cap, horizon) => {
                Err([buffer.err(), cap.err(), horizon.err()].into_iter().flatten().collect())
            }
        }
    }

    /// Minutes kept free between a block and busy time, and between two blocks.
    pub fn buffer_minutes(&self) -> u16 {
        self.buffer_minutes
    }

    /// Most minutes of plan work placed on one day.
    pub fn daily_focus_cap_minutes(&self) -> u16 {
        self.daily_focus_cap_minutes
    }

    /// Days after the plan's last day that a task may still be placed on.
    pub fn horizon_days(&self) -> u16 {
        self.horizon_days
    }
}

impl Default for SchedulePreferences {
    /// A 10-minute buffer, at most 6 hours of plan work a day, up to 60 days of slip.
    fn default() -> Self {
        Self {
            buffer_minutes: Self::DEFAULT_BUFFER_MINUTES,
            daily_focus_cap_minutes: Self::DEFAULT_DAILY_FOCUS_CAP_MINUTES,
            horizon_days: Self::DEFAULT_HORIZON_DAYS,
        }
    }
}

impl Default for RawSchedulePreferences {
    fn default() -> Self {
        SchedulePreferences::default().into()
    }
}

impl TryFrom<RawSchedulePreferences> for SchedulePreferences {
    type Error = ValidationErrors;

    fn try_from(raw: RawSchedulePreferences) -> Result<Self, Self::Error> {
        Self::parse(raw.buffer_minutes, raw.daily_focus_cap_minutes, raw.horizon_days)
    }
}

impl From<SchedulePreferences> for RawSchedulePreferences {
    fn from(preferences: SchedulePreferences) -> Self {
        Self {
            buffer_minutes: i64::from(preferences.buffer_minutes),
            daily_focus_cap_minutes: i64::from(preferences.daily_focus_cap_minutes),
            horizon_days: i64::from(preferences.horizon_days),
        }
    }
}

fn bounded(field: &str, raw: i64, range: RangeInclusive<u16>, unit: &str) -> Result<u16, FieldError> {
    u16::try_from(raw).ok().filter(|value| range.contains(value)).ok_or_else(|| {
        FieldError::new(
            format!("schedule_preferences.{field}"),
            format!("{raw} {unit} is outside {}–{} {unit}.", range.start(), range.end()),
        )
    })
}

/// Everything [`schedule`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRequest {
    /// The tasks, in any order; ids are expected to be unique.
    pub tasks: Vec<TaskToPlace>,
    /// The plan's first day, a date in `time_zone`.
    pub start_date: NaiveDate,
    /// The zone working hours are read in.
    pub time_zone: TimeZone,
    /// When tasks may be placed.
    pub working_hours: WorkingHours,
    /// Time already taken, in any order; intervals may overlap.
    pub busy: Vec<BusyInterval>,
    /// Buffer, daily cap and horizon.
    pub preferences: SchedulePreferences,
    /// No block starts before this instant (the caller passes "now" so nothing lands in the past).
    pub not_before: Option<DateTime<Utc>>,
}

/// Where a task was placed, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The task.
    pub task_id: Uuid,
    /// Start of the block.
    pub start: DateTime<Utc>,
    /// End of the block: `start` plus the task's duration.
    pub end: DateTime<Utc>,
}

/// A task that could not be placed, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unscheduled {
    /// The task.
    pub task_id: Uuid,
    /// Why it was left out.
    pub reason: UnscheduledReason,
}

/// Why a task was left out; serialised in `snake_case` (`longer_than_working_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnscheduledReason {
    /// The task lasts zero minutes.
    NoDuration,
    /// The task is longer than the working day as the clock reads it (end minus start).
    LongerThanWorkingDay,
    /// The task is longer than the daily focus cap.
    LongerThanDailyCap,
    /// No working day from the task's day to the horizon had a free stretch long enough after the
    /// tasks before it.
    NoFreeSlotWithinHorizon,
}

impl UnscheduledReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoDuration => "no_duration",
            Self::LongerThanWorkingDay => "longer_than_working_day",
            Self::LongerThanDailyCap => "longer_than_daily_cap",
            Self::NoFreeSlotWithinHorizon => "no_free_slot_within_horizon",
        }
    }

    /// A sentence a person can act on.
    pub fn message(self) -> &'static str {
        match self {
            Self::NoDuration => "The task has no duration.",
            Self::LongerThanWorkingDay => {
                "The task is longer than your working day; shorten it or split it into parts."
            }
            Self::LongerThanDailyCap => {
                "The task is longer than your daily focus limit; shorten it or raise the limit."
            }
            Self::NoFreeSlotWithinHorizon => {
                "No free time long enough was found within the scheduling horizon; free some time or start later."
            }
        }
    }
}

impl fmt::Display for UnscheduledReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// What [`schedule`] decided: every task of the request appears exactly once, in one of the lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleOutcome {
    /// Placed tasks, in plan order (which is also time order).
    pub placements: Vec<Placement>,
    /// Tasks left out, in plan order.
    pub unscheduled: Vec<Unscheduled>,
}

/// Places the request's tasks into free working time, as early as the rules allow, and says why any
/// task could not be placed.
///
/// The rules (each checked by a property test):
/// - **Order.** Tasks are taken by `(day_offset, position, id)`. Each starts no earlier than the
///   buffer after the end of the task placed before it, so blocks keep their order and never
///   overlap. A task that cannot be placed does not hold back the ones after it.
/// - **Day.** A task's earliest day is `start_date + day_offset`. It goes on the first day from
///   then that is a working day (its ISO weekday is in `working_hours.days`), has room under the
///   daily cap and has a free stretch long enough, up to `horizon_days` after the last task's day.
///   Nothing starts before `start_date`'s working hours or before `not_before`.
/// - **Working hours.** A block lies inside one day's window: every instant of it reads, on the
///   wall clock of `time_zone`, a time in `[start, end)` of that day.
/// - **Busy time.** A block keeps the buffer clear on both sides of every busy interval (busy time
///   is half-open; intervals may overlap, be unsorted or lie outside working hours). The buffer
///   does not apply at the edges of working hours.
/// - **Daily cap.** The minutes placed in one day's window add up to at most the cap.
/// - **Whole blocks.** A task is never split: one lasting zero minutes, longer than the working day
///   as the clock reads it (`end - start`), or longer than the daily cap is left out at once.
/// - **Clock changes.** Where the clocks jump forward over a bound of the working hours, the bound
///   becomes the first instant after the jump (Berlin, 2026-03-29, 01:00–05:00 lasts 3 hours);
///   where they go back over a bound, the day's window is every instant that reads inside the
///   working hours, which may be two stretches (Berlin, 2026-10-25, 02:00–02:30 happens twice).
///   A block never straddles the gap between such stretches.
/// - **Deterministic.** The outcome depends only on the request's contents, not on the order of
///   `tasks` or `busy`.
pub fn schedule(request: &ScheduleRequest) -> ScheduleOutcome {
    let mut tasks: Vec<&TaskToPlace> = request.tasks.iter().collect();
    tasks.sort_by_key(|task| (task.day_offset, task.position, task.id));
    let preferences = request.preferences;
    let buffer = TimeDelta::minutes(i64::from(preferences.buffer_minutes));
    let cap = u32::from(preferences.daily_focus_cap_minutes);
    let working_day = request.working_hours.end() - request.working_hours.start();
    let last_offset = tasks.last().map_or(0, |task| task.day_offset);
    let search = Search {
        tz: request.time_zone.tz(),
        hours: &request.working_hours,
        blocked: blocked_time(&request.busy, buffer),
        cap,
        last_day: after_days(
            request.start_date,
            u64::from(last_offset) + u64::from(preferences.horizon_days),
        )
        .unwrap_or(NaiveDate::MAX),
    };

    let mut outcome = ScheduleOutcome::default();
    let mut not_before = request.not_before;
    let mut booked: Option<(NaiveDate, u32)> = None;
    for task in tasks {
        let minutes = u32::from(task.duration_minutes);
        let length = TimeDelta::minutes(i64::from(minutes));
        let refused = if minutes == 0 {
            Some(UnscheduledReason::NoDuration)
        } else if length > working_day {
            Some(UnscheduledReason::LongerThanWorkingDay)
        } else if minutes > cap {
            Some(UnscheduledReason::LongerThanDailyCap)
        } else {
            None
        };
        let found = match refused {
            Some(reason) => Err(reason),
            None => after_days(request.start_date, u64::from(task.day_offset))
                .and_then(|first_day| search.first_slot(first_day, length, not_before, booked))
                .ok_or(UnscheduledReason::NoFreeSlotWithinHorizon),
        };
        match found {
            Ok((day, block)) => {
                let used = booked.filter(|(booked_day, _)| *booked_day == day).map_or(0, |(_, used)| used);
                booked = Some((day, used + minutes));
                not_before = Some(block.end.checked_add_signed(buffer).unwrap_or(DateTime::<Utc>::MAX_UTC));
                outcome.placements.push(Placement { task_id: task.id, start: block.start, end: block.end });
            }
            Err(reason) => outcome.unscheduled.push(Unscheduled { task_id: task.id, reason }),
        }
    }
    outcome
}

/// The fixed inputs of a search for one task's slot.
struct Search<'a> {
    tz: chrono_tz::Tz,
    hours: &'a WorkingHours,
    /// Busy time widened by the buffer on both sides, sorted, merged, never touching.
    blocked: Vec<Span>,
    cap: u32,
    last_day: NaiveDate,
}

impl Search<'_> {
    /// The first day from `first_day` with a free block of `length` starting at or after
    /// `not_before`, and that block; `booked` holds the minutes already placed on the latest day used.
    fn first_slot(
        &self,
        first_day: NaiveDate,
        length: TimeDelta,
        not_before: Option<DateTime<Utc>>,
        booked: Option<(NaiveDate, u32)>,
    ) -> Option<(NaiveDate, Span)> {
        let minutes = u32::try_from(length.num_minutes()).unwrap_or(u32::MAX);
        // A day's window lies within a day either side of its UTC date, whatever the zone's offset,
        // so days more than one before `not_before`'s UTC date cannot hold a block after it.
        let skip_to = not_before.and_then(|at| at.date_naive().pred_opt()).unwrap_or(NaiveDate::MIN);
        let mut day = first_day.max(skip_to);
        while day <= self.last_day {
            let used = booked.filter(|(booked_day, _)| *booked_day == day).map_or(0, |(_, used)| used);
            if self.is_working_day(day) && used.saturating_add(minutes) <= self.cap {
                for span in working_spans(self.tz, day, self.hours).into_iter().flatten() {
                    let earliest = not_before.map_or(span.start, |at| at.max(span.start));
                    if let Some(block) = first_fit(&self.blocked, earliest, span.end, length) {
                        return Some((day, block));
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
    }

    fn is_working_day(&self, day: NaiveDate) -> bool {
        let weekday = day.weekday().number_from_monday();
        self.hours.days().iter().any(|&worked| u32::from(worked) == weekday)
    }
}

/// The earliest block of `length` starting at or after `earliest`, ending by `until`, clear of `blocked`.
fn first_fit(
    blocked: &[Span],
    earliest: DateTime<Utc>,
    until: DateTime<Utc>,
    length: TimeDelta,
) -> Option<Span> {
    let mut start = earliest;
    let mut next = blocked.partition_point(|span| span.end <= start);
    loop {
        let end = start.checked_add_signed(length)?;
        if end > until {
            return None;
        }
        match blocked.get(next) {
            Some(span) if span.start < end => {
                start = start.max(span.end);
                next += 1;
            }
            _ => return Some(Span { start, end }),
        }
    }
}

/// Busy time widened by `buffer` on both sides, sorted and merged into disjoint spans.
fn blocked_time(busy: &[BusyInterval], buffer: TimeDelta) -> Vec<Span> {
    let mut spans: Vec<Span> = busy
        .iter()
        .filter(|interval| interval.start < interval.end)
        .map(|interval| Span {
            start: interval.start.checked_sub_signed(buffer).unwrap_or(DateTime::<Utc>::MIN_UTC),
            end: interval.end.checked_add_signed(buffer).unwrap_or(DateTime::<Utc>::MAX_UTC),
        })
        .collect();
    spans.sort_unstable_by_key(|span| (span.start, span.end));
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

fn after_days(date: NaiveDate, days: u64) -> Option<NaiveDate> {
    date.checked_add_days(Days::new(days))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn task(n: u128, day_offset: u16, duration_minutes: u16) -> TaskToPlace {
        TaskToPlace {
            id: Uuid::from_u128(n),
            day_offset,
            duration_minutes,
            position: u32::try_from(n).unwrap(),
        }
    }

    fn busy(start: &str, end: &str) -> BusyInterval {
        BusyInterval { start: utc(start), end: utc(end) }
    }

    fn preferences(buffer: i64, cap: i64, horizon: i64) -> SchedulePreferences {
        SchedulePreferences::parse(buffer, cap, horizon).unwrap()
    }

    /// 09:00–17:00 Monday to Friday in `zone`, default preferences, nothing busy.
    fn request(zone: &str, start_date: &str, tasks: Vec<TaskToPlace>) -> ScheduleRequest {
        ScheduleRequest {
            tasks,
            start_date: date(start_date),
            time_zone: TimeZone::parse(zone).unwrap(),
            working_hours: WorkingHours::default(),
            busy: Vec::new(),
            preferences: SchedulePreferences::default(),
            not_before: None,
        }
    }

    fn placed(outcome: &ScheduleOutcome) -> Vec<(u128, DateTime<Utc>, DateTime<Utc>)> {
        outcome.placements.iter().map(|p| (p.task_id.as_u128(), p.start, p.end)).collect()
    }

    fn left_out(outcome: &ScheduleOutcome) -> Vec<(u128, UnscheduledReason)> {
        outcome.unscheduled.iter().map(|u| (u.task_id.as_u128(), u.reason)).collect()
    }

    #[test]
    fn tasks_fill_the_day_in_order_with_a_buffer_between_them() {
        // 2026-06-15 is a Monday; Berlin is on summer time (UTC+2).
        let outcome = schedule(&request("Europe/Berlin", "2026-06-15", vec![task(2, 0, 30), task(1, 0, 60)]));
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-06-15T07:00:00Z"), utc("2026-06-15T08:00:00Z")),
                (2, utc("2026-06-15T08:10:00Z"), utc("2026-06-15T08:40:00Z")),
            ]
        );
        assert!(outcome.unscheduled.is_empty());
    }

    #[test]
    fn position_orders_tasks_within_a_day_and_id_breaks_ties() {
        let mut tasks = vec![task(1, 0, 15), task(2, 0, 15), task(3, 0, 15)];
        tasks[0].position = 9;
        tasks[1].position = 0;
        tasks[2].position = 0;
        let outcome = schedule(&request("UTC", "2026-06-15", tasks));
        let order: Vec<u128> = placed(&outcome).iter().map(|p| p.0).collect();
        assert_eq!(order, [2, 3, 1]);
    }

    #[test]
    fn busy_time_is_avoided_with_the_buffer_on_both_sides() {
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 60), task(2, 0, 45)]);
        req.busy = vec![
            busy("2026-06-15T10:30:00Z", "2026-06-15T11:00:00Z"),
            // Overlapping and out of order.
            busy("2026-06-15T09:30:00Z", "2026-06-15T10:00:00Z"),
            busy("2026-06-15T09:45:00Z", "2026-06-15T10:15:00Z"),
        ];
        let outcome = schedule(&req);
        // 09:00–09:20 is too short, and the buffers leave no gap between the meetings.
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-06-15T11:10:00Z"), utc("2026-06-15T12:10:00Z")),
                (2, utc("2026-06-15T12:20:00Z"), utc("2026-06-15T13:05:00Z")),
            ]
        );
    }

    #[test]
    fn a_block_may_end_exactly_where_the_buffer_before_busy_time_begins() {
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 50)]);
        req.busy = vec![busy("2026-06-15T10:00:00Z", "2026-06-15T11:00:00Z")];
        assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T09:50:00Z"))]);
    }

    #[test]
    fn the_buffer_does_not_apply_at_the_edges_of_working_hours() {
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 480)]);
        req.preferences = preferences(10, 480, 60);
        req.busy = vec![busy("2026-06-15T08:00:00Z", "2026-06-15T09:00:00Z")];
        // Busy time just before the day starts does push the block by the buffer.
        assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T17:00:00Z"))]);
        req.busy.clear();
        assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T17:00:00Z"))]);
    }

    #[test]
    fn a_task_on_a_weekend_moves_to_the_next_working_day() {
        // 2026-06-20 is a Saturday.
        let outcome = schedule(&request("UTC", "2026-06-20", vec![task(1, 0, 60), task(2, 1, 60)]));
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z")),
                (2, utc("2026-06-22T10:10:00Z"), utc("2026-06-22T11:10:00Z")),
            ]
        );
    }

    #[test]
    fn the_daily_cap_moves_work_to_the_next_day() {
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 120), task(2, 0, 120), task(3, 0, 60)]);
        req.preferences = preferences(0, 240, 60);
        let outcome = schedule(&req);
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-06-15T09:00:00Z"), utc("2026-06-15T11:00:00Z")),
                (2, utc("2026-06-15T11:00:00Z"), utc("2026-06-15T13:00:00Z")),
                (3, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T10:00:00Z")),
            ]
        );
    }

    #[test]
    fn a_later_task_never_jumps_ahead_of_an_earlier_one() {
        // Task 1 only fits after the meeting; task 2 would fit before it but must follow task 1.
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 240), task(2, 0, 30)]);
        req.busy = vec![busy("2026-06-15T11:00:00Z", "2026-06-15T12:00:00Z")];
        assert_eq!(
            placed(&schedule(&req)),
            [
                (1, utc("2026-06-15T12:10:00Z"), utc("2026-06-15T16:10:00Z")),
                (2, utc("2026-06-15T16:20:00Z"), utc("2026-06-15T16:50:00Z")),
            ]
        );
    }

    #[test]
    fn a_task_whose_day_is_full_goes_to_the_nearest_later_working_day() {
        let mut req = request("UTC", "2026-06-19", vec![task(1, 0, 60)]);
        req.busy = vec![busy("2026-06-19T09:00:00Z", "2026-06-19T16:30:00Z")];
        // Friday is full; Saturday and Sunday are not working days.
        assert_eq!(placed(&schedule(&req)), [(1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z"))]);
    }

    #[test]
    fn tasks_that_cannot_fit_are_left_out_with_a_reason_and_do_not_block_the_rest() {
        let mut req = request(
            "UTC",
            "2026-06-15",
            vec![task(1, 0, 0), task(2, 0, 481), task(3, 0, 420), task(4, 0, 60), task(5, 1, 30)],
        );
        req.working_hours = WorkingHours::parse("09:00", "17:00", &[1, 2, 3, 4, 5]).unwrap();
        let mut blocked = req.clone();
        let outcome = schedule(&req);
        assert_eq!(
            left_out(&outcome),
            [
                (1, UnscheduledReason::NoDuration),
                (2, UnscheduledReason::LongerThanWorkingDay),
                (3, UnscheduledReason::LongerThanDailyCap),
            ]
        );
        assert_eq!(outcome.placements.len(), 2);

        blocked.preferences = preferences(10, 360, 3);
        blocked.busy = vec![busy("2026-06-01T00:00:00Z", "2026-06-20T00:00:00Z")];
        let outcome = schedule(&blocked);
        assert!(outcome.placements.is_empty());
        assert_eq!(
            left_out(&outcome)[3..],
            [
                (4, UnscheduledReason::NoFreeSlotWithinHorizon),
                (5, UnscheduledReason::NoFreeSlotWithinHorizon)
            ]
        );
    }

    #[test]
    fn the_horizon_counts_from_the_last_task_day() {
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 60), task(2, 2, 60)]);
        req.preferences = preferences(10, 360, 4);
        // Busy Monday to Friday; a 4-day horizon after day 2 ends on Sunday 2026-06-21.
        req.busy = vec![busy("2026-06-15T00:00:00Z", "2026-06-20T00:00:00Z")];
        assert_eq!(schedule(&req).unscheduled.len(), 2);
        req.preferences = preferences(10, 360, 5);
        assert_eq!(
            placed(&schedule(&req)),
            [
                (1, utc("2026-06-22T09:00:00Z"), utc("2026-06-22T10:00:00Z")),
                (2, utc("2026-06-22T10:10:00Z"), utc("2026-06-22T11:10:00Z")),
            ]
        );
    }

    #[test]
    fn nothing_is_placed_before_not_before() {
        let mut req = request("UTC", "2026-06-15", vec![task(1, 0, 60), task(2, 0, 360)]);
        req.not_before = Some(utc("2026-06-15T13:07:00Z"));
        assert_eq!(
            placed(&schedule(&req)),
            [
                (1, utc("2026-06-15T13:07:00Z"), utc("2026-06-15T14:07:00Z")),
                (2, utc("2026-06-16T09:00:00Z"), utc("2026-06-16T15:00:00Z")),
            ]
        );
    }

    #[test]
    fn an_empty_plan_gives_an_empty_outcome() {
        assert_eq!(schedule(&request("UTC", "2026-06-15", Vec::new())), ScheduleOutcome::default());
    }

    #[test]
    fn dates_at_the_end_of_the_calendar_do_not_panic() {
        let mut req = request("Europe/Berlin", "2026-06-15", vec![task(1, 0, 60), task(2, u16::MAX, 60)]);
        req.start_date = NaiveDate::MAX - Days::new(3);
        req.not_before = Some(DateTime::<Utc>::MAX_UTC);
        req.busy = vec![BusyInterval { start: DateTime::<Utc>::MIN_UTC, end: DateTime::<Utc>::MAX_UTC }];
        let outcome = schedule(&req);
        assert_eq!(outcome.unscheduled.len(), 2);
        req.not_before = None;
        req.busy.clear();
        let outcome = schedule(&req);
        assert_eq!(outcome.placements.len() + outcome.unscheduled.len(), 2);
    }

    // Named clock-change cases: a 09:00–17:00 day on each change has the right UTC instants.

    fn whole_day(zone: &str, day: &str) -> Vec<(u128, DateTime<Utc>, DateTime<Utc>)> {
        let mut req = request(zone, day, vec![task(1, 0, 480)]);
        req.working_hours = WorkingHours::parse("09:00", "17:00", &[1, 2, 3, 4, 5, 6, 7]).unwrap();
        req.preferences = preferences(0, 480, 0);
        placed(&schedule(&req))
    }

    #[test]
    fn berlin_spring_forward_day_is_seven_to_fifteen_utc() {
        assert_eq!(
            whole_day("Europe/Berlin", "2026-03-28"),
            [(1, utc("2026-03-28T08:00:00Z"), utc("2026-03-28T16:00:00Z"))]
        );
        assert_eq!(
            whole_day("Europe/Berlin", "2026-03-29"),
            [(1, utc("2026-03-29T07:00:00Z"), utc("2026-03-29T15:00:00Z"))]
        );
    }

    #[test]
    fn berlin_fall_back_day_is_eight_to_sixteen_utc() {
        assert_eq!(
            whole_day("Europe/Berlin", "2026-10-24"),
            [(1, utc("2026-10-24T07:00:00Z"), utc("2026-10-24T15:00:00Z"))]
        );
        assert_eq!(
            whole_day("Europe/Berlin", "2026-10-25"),
            [(1, utc("2026-10-25T08:00:00Z"), utc("2026-10-25T16:00:00Z"))]
        );
    }

    #[test]
    fn new_york_spring_forward_day_is_thirteen_to_twenty_one_utc() {
        assert_eq!(
            whole_day("America/New_York", "2026-03-07"),
            [(1, utc("2026-03-07T14:00:00Z"), utc("2026-03-07T22:00:00Z"))]
        );
        assert_eq!(
            whole_day("America/New_York", "2026-03-08"),
            [(1, utc("2026-03-08T13:00:00Z"), utc("2026-03-08T21:00:00Z"))]
        );
    }

    #[test]
    fn new_york_fall_back_day_is_fourteen_to_twenty_two_utc() {
        assert_eq!(
            whole_day("America/New_York", "2026-10-31"),
            [(1, utc("2026-10-31T13:00:00Z"), utc("2026-10-31T21:00:00Z"))]
        );
        assert_eq!(
            whole_day("America/New_York", "2026-11-01"),
            [(1, utc("2026-11-01T14:00:00Z"), utc("2026-11-01T22:00:00Z"))]
        );
    }

    fn night(zone: &str, day: &str, start: &str, end: &str, tasks: Vec<TaskToPlace>) -> ScheduleOutcome {
        let mut req = request(zone, day, tasks);
        req.working_hours = WorkingHours::parse(start, end, &[1, 2, 3, 4, 5, 6, 7]).unwrap();
        req.preferences = preferences(0, 1440, 5);
        schedule(&req)
    }

    #[test]
    fn berlin_spring_forward_night_has_one_hour_less() {
        // 01:00–05:00 lasts 3 hours on 2026-03-29, so a 4-hour task waits a day.
        let outcome =
            night("Europe/Berlin", "2026-03-29", "01:00", "05:00", vec![task(1, 0, 180), task(2, 0, 240)]);
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-03-29T00:00:00Z"), utc("2026-03-29T03:00:00Z")),
                (2, utc("2026-03-29T23:00:00Z"), utc("2026-03-30T03:00:00Z")),
            ]
        );
        // A window that falls inside the skipped hour does not exist that day.
        let outcome = night("Europe/Berlin", "2026-03-29", "02:00", "02:45", vec![task(1, 0, 15)]);
        assert_eq!(placed(&outcome), [(1, utc("2026-03-30T00:00:00Z"), utc("2026-03-30T00:15:00Z"))]);
    }

    #[test]
    fn berlin_fall_back_night_uses_both_passes_through_the_repeated_hour() {
        // 02:00–02:30 happens at 00:00Z (summer time) and again at 01:00Z (winter time).
        let outcome = night(
            "Europe/Berlin",
            "2026-10-25",
            "02:00",
            "02:30",
            vec![task(1, 0, 20), task(2, 0, 20), task(3, 0, 20)],
        );
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-10-25T00:00:00Z"), utc("2026-10-25T00:20:00Z")),
                (2, utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:20:00Z")),
                (3, utc("2026-10-26T01:00:00Z"), utc("2026-10-26T01:20:00Z")),
            ]
        );
        // 01:00–05:00 lasts 5 hours that night: the whole stretch is one window.
        let outcome =
            night("Europe/Berlin", "2026-10-25", "01:00", "05:00", vec![task(1, 0, 240), task(2, 0, 60)]);
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-10-24T23:00:00Z"), utc("2026-10-25T03:00:00Z")),
                (2, utc("2026-10-25T03:00:00Z"), utc("2026-10-25T04:00:00Z")),
            ]
        );
    }

    #[test]
    fn new_york_spring_forward_starts_at_the_first_instant_after_the_gap() {
        // 02:30 does not exist on 2026-03-08: the day starts at 03:00 EDT (07:00Z).
        let outcome =
            night("America/New_York", "2026-03-08", "02:30", "04:00", vec![task(1, 0, 60), task(2, 0, 30)]);
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-03-08T07:00:00Z"), utc("2026-03-08T08:00:00Z")),
                (2, utc("2026-03-09T06:30:00Z"), utc("2026-03-09T07:00:00Z")),
            ]
        );
    }

    #[test]
    fn new_york_fall_back_never_places_work_in_the_repeat_before_the_start() {
        // 01:30–03:00 on 2026-11-01: 01:30 EDT is 05:30Z, clocks go back at 06:00Z to 01:00 EST,
        // which reads before 01:30 until 06:30Z.
        let outcome =
            night("America/New_York", "2026-11-01", "01:30", "03:00", vec![task(1, 0, 30), task(2, 0, 60)]);
        assert_eq!(
            placed(&outcome),
            [
                (1, utc("2026-11-01T05:30:00Z"), utc("2026-11-01T06:00:00Z")),
                (2, utc("2026-11-01T06:30:00Z"), utc("2026-11-01T07:30:00Z")),
            ]
        );
    }

    #[test]
    fn preferences_default_and_parse_within_their_ranges() {
        let defaults = SchedulePreferences::default();
        assert_eq!(
            (defaults.buffer_minutes(), defaults.daily_focus_cap_minutes(), defaults.horizon_days()),
            (10, 360, 60)
        );
        assert_eq!(SchedulePreferences::parse(0, 15, 0).map(|p| p.buffer_minutes()), Ok(0));
        assert!(SchedulePreferences::parse(120, 1440, 365).is_ok());
        let errors = SchedulePreferences::parse(-1, 14, 366).unwrap_err();
        let fields: Vec<&str> = errors.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "schedule_preferences.buffer_minutes",
                "schedule_preferences.daily_focus_cap_minutes",
                "schedule_preferences.horizon_days"
            ]
        );
    }

    #[test]
    fn preferences_round_trip_through_json_and_fill_in_defaults() {
        let json = serde_json::to_string(&preferences(15, 240, 30)).unwrap();
        assert_eq!(json, r#"{"buffer_minutes":15,"daily_focus_cap_minutes":240,"horizon_days":30}"#);
        let back: SchedulePreferences = serde_json::from_str(&json).unwrap();
        assert_eq!(back, preferences(15, 240, 30));
        let partial: SchedulePreferences = serde_json::from_str(r#"{"buffer_minutes":5}"#).unwrap();
        assert_eq!(partial, preferences(5, 360, 60));
        assert!(serde_json::from_str::<SchedulePreferences>(r#"{"buffer_minutes":500}"#).is_err());
    }

    #[test]
    fn outcome_serialises_in_the_api_shape() {
        let outcome = ScheduleOutcome {
            placements: vec![Placement {
                task_id: Uuid::nil(),
                start: utc("2026-06-15T09:00:00Z"),
                end: utc("2026-06-15T10:00:00Z"),
            }],
            unscheduled: vec![Unscheduled {
                task_id: Uuid::max(),
                reason: UnscheduledReason::LongerThanDailyCap,
            }],
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "placements": [{
                    "task_id": "00000000-0000-0000-0000-000000000000",
                    "start": "2026-06-15T09:00:00Z",
                    "end": "2026-06-15T10:00:00Z"
                }],
                "unscheduled": [{"task_id": "ffffffff-ffff-ffff-ffff-ffffffffffff", "reason": "longer_than_daily_cap"}]
            })
        );
        for reason in [
            UnscheduledReason::NoDuration,
            UnscheduledReason::LongerThanWorkingDay,
            UnscheduledReason::LongerThanDailyCap,
            UnscheduledReason::NoFreeSlotWithinHorizon,
        ] {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
            assert!(reason.to_string().ends_with('.'));
        }
    }

    #[test]
    fn plan_tasks_convert_to_tasks_to_place() {
        let plan_task = PlanTask {
            id: Uuid::from_u128(7),
            position: 3,
            title: "Read".to_owned(),
            description: String::new(),
            day_offset: 2,
            duration_minutes: 45,
            scheduled_start: None,
            scheduled_end: None,
            calendar_event_id: None,
        };
        assert_eq!(
            TaskToPlace::from(&plan_task),
            TaskToPlace { id: Uuid::from_u128(7), day_offset: 2, duration_minutes: 45, position: 3 }
        );
    }
}
