//! The scheduler: tasks placed into free working time on a person's calendar.
//!
//! [`schedule`] is a pure function over plain data (tasks with estimates, deadlines and priorities, a
//! time zone, working hours, busy intervals, [`SchedulePreferences`] and the stretch of time to fill
//! in; a [`ScheduleOutcome`] out), so the same request always gives the same answer and the rules are
//! checked by property tests.

mod event_id;
mod free;
mod order;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
mod window;

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    ops::RangeInclusive,
};

use chrono::{DateTime, DurationRound, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use self::event_id::{event_id_for_chunk, event_id_for_task};
use self::{
    free::{Chunk, Found, FreeTime},
    order::Queue,
};
use crate::{TimeZone, ValidationErrors, WorkingHours, error::FieldError};

/// The first instant of `date` in `zone`: midnight, or the first instant after the clocks jump
/// over it (the scheduler's DST-exact reading of wall-clock times).
pub fn start_of_day(date: NaiveDate, zone: &TimeZone) -> DateTime<Utc> {
    window::start_of_day(zone.tz(), date)
}

/// How pressing a task is; serialised in `snake_case`, `normal` when not given.
///
/// Only [`Priority::Urgent`] outranks deadlines: among the others, the earlier deadline goes first
/// and priority breaks ties.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Placed before everything else, deadlines or not.
    Urgent,
    /// Before normal and low work with the same deadline.
    High,
    /// The default.
    #[default]
    Normal,
    /// After other work with the same deadline.
    Low,
}

impl Priority {
    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Urgent => "urgent",
            Self::High => "high",
            Self::Normal => "normal",
            Self::Low => "low",
        }
    }

    /// Parses a name; the error names `field`.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        match raw {
            "urgent" => Ok(Self::Urgent),
            "high" => Ok(Self::High),
            "normal" => Ok(Self::Normal),
            "low" => Ok(Self::Low),
            other => {
                Err(FieldError::new(field, format!("'{other}' is not one of urgent, high, normal, low.")))
            }
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A task to place: how much work it is, by when, how pressing, from when, in what pieces, and
/// where it stands in its plan's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskToPlace {
    /// The task's id; the outcome names the task by it. Ids are expected to be unique.
    pub id: Uuid,
    /// Minutes of work to place (a plan task's `duration_minutes`); 0 leaves the task out as
    /// [`UnscheduledReason::NoDuration`].
    pub estimate_minutes: u32,
    /// When the work should be finished; work that cannot be done by then is reported in
    /// [`ScheduleOutcome::at_risk`].
    pub due_at: Option<DateTime<Utc>>,
    /// How pressing it is.
    pub priority: Priority,
    /// No part of the task starts before this instant (a plan task's day).
    pub earliest_start: Option<DateTime<Utc>>,
    /// The shortest piece the work may be cut into (0 counts as 1); `None` places it as one block.
    pub min_chunk_minutes: Option<u16>,
    /// A finished task: never placed, reported as [`UnscheduledReason::Done`].
    pub done: bool,
    /// The task's plan and its position there: within one plan a task never starts before the
    /// previous one's last piece ends (plus the buffer). A predecessor that is done or not in the
    /// request imposes nothing, and one that cannot be placed does not hold back the later ones.
    pub sequence: Option<(Uuid, u32)>,
}

impl TaskToPlace {
    /// The shortest piece a task is cut into when the person has not chosen one.
    pub const DEFAULT_MIN_CHUNK_MINUTES: u16 = 30;
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
/// day, how far past the plan's last day a task may slip, whether blocks move by themselves and
/// whether they are written as focus time.
///
/// Stored and sent as `{"buffer_minutes":10,"daily_focus_cap_minutes":360,"horizon_days":60,
/// "auto_replan":true,"focus_time":false}`; a missing key takes its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawSchedulePreferences", into = "RawSchedulePreferences")]
pub struct SchedulePreferences {
    buffer_minutes: u16,
    daily_focus_cap_minutes: u16,
    horizon_days: u16,
    auto_replan: bool,
    focus_time: bool,
}

/// The wire and storage shape of [`SchedulePreferences`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(default)]
struct RawSchedulePreferences {
    buffer_minutes: i64,
    daily_focus_cap_minutes: i64,
    horizon_days: i64,
    auto_replan: bool,
    focus_time: bool,
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
            (Ok(buffer_minutes), Ok(daily_focus_cap_minutes), Ok(horizon_days)) => Ok(Self {
                buffer_minutes,
                daily_focus_cap_minutes,
                horizon_days,
                auto_replan: true,
                focus_time: false,
            }),
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

    /// Whether blocks move by themselves when a meeting lands on them or they pass with their
    /// task not done (default: yes).
    pub fn auto_replan(&self) -> bool {
        self.auto_replan
    }

    /// The same preferences with automatic re-planning on or off.
    #[must_use]
    pub fn with_auto_replan(self, auto_replan: bool) -> Self {
        Self { auto_replan, ..self }
    }

    /// Whether blocks are written to Google as focus time (`eventType: focusTime`) where the
    /// calendar accepts it (default: no, ordinary events).
    pub fn focus_time(&self) -> bool {
        self.focus_time
    }

    /// The same preferences with focus-time blocks on or off.
    #[must_use]
    pub fn with_focus_time(self, focus_time: bool) -> Self {
        Self { focus_time, ..self }
    }
}

impl Default for SchedulePreferences {
    /// A 10-minute buffer, at most 6 hours of plan work a day, up to 60 days of slip, re-planning
    /// on, ordinary events (not focus time).
    fn default() -> Self {
        Self {
            buffer_minutes: Self::DEFAULT_BUFFER_MINUTES,
            daily_focus_cap_minutes: Self::DEFAULT_DAILY_FOCUS_CAP_MINUTES,
            horizon_days: Self::DEFAULT_HORIZON_DAYS,
            auto_replan: true,
            focus_time: false,
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
        Ok(Self::parse(raw.buffer_minutes, raw.daily_focus_cap_minutes, raw.horizon_days)?
            .with_auto_replan(raw.auto_replan)
            .with_focus_time(raw.focus_time))
    }
}

impl From<SchedulePreferences> for RawSchedulePreferences {
    fn from(preferences: SchedulePreferences) -> Self {
        Self {
            buffer_minutes: i64::from(preferences.buffer_minutes),
            daily_focus_cap_minutes: i64::from(preferences.daily_focus_cap_minutes),
            horizon_days: i64::from(preferences.horizon_days),
            auto_replan: preferences.auto_replan,
            focus_time: preferences.focus_time,
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

/// Minutes between the marks a run may start at: a run started "now" places its first block on
/// the next mark, never at the second it was asked (every zone's offset is a multiple of them).
pub const START_MARK_MINUTES: i64 = 5;

/// `now` rounded up to the next [`START_MARK_MINUTES`] mark (itself when on one): the earliest
/// start of a run asked for at `now`. A dry run and the run that confirms it a moment later start
/// their first block at the same time.
#[must_use]
pub fn next_start_mark(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_round_up(TimeDelta::minutes(START_MARK_MINUTES)).unwrap_or(now)
}

/// A block of a task that the person placed by hand (moved, lengthened or shortened it at the
/// calendar), `[start, end)`. A run never moves it: its whole minutes count toward its task's
/// estimate, only the rest is placed, and it is busy time (with the buffer) for every new piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedBlock {
    /// The task.
    pub task_id: Uuid,
    /// Its chunk number; new pieces of the task never take it.
    pub chunk: u16,
    /// Start.
    pub start: DateTime<Utc>,
    /// End; a block that does not end after it starts is ignored.
    pub end: DateTime<Utc>,
}

impl PinnedBlock {
    /// Its whole minutes.
    pub fn minutes(&self) -> u32 {
        u32::try_from((self.end - self.start).num_minutes()).unwrap_or(0)
    }

    /// Its whole minutes before `due`.
    fn minutes_before(&self, due: DateTime<Utc>) -> u32 {
        if self.start >= due {
            return 0;
        }
        u32::try_from((self.end.min(due) - self.start).num_minutes()).unwrap_or(0)
    }
}

/// Everything [`schedule`] needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleRequest {
    /// The tasks, in any order; ids are expected to be unique.
    pub tasks: Vec<TaskToPlace>,
    /// The zone working hours are read in.
    pub time_zone: TimeZone,
    /// When tasks may be placed.
    pub working_hours: WorkingHours,
    /// Time already taken, in any order; intervals may overlap.
    pub busy: Vec<BusyInterval>,
    /// Blocks placed by hand, of any of `tasks`, in any order. Those of done tasks and of tasks
    /// not in the request are ignored (pass the latter in `busy`); a task's chunk numbers are
    /// expected to be unique (a repeated one is ignored).
    pub pinned: Vec<PinnedBlock>,
    /// Buffer and daily cap (the horizon is the caller's: it picks `until`).
    pub preferences: SchedulePreferences,
    /// No piece starts before this instant (the caller passes the later of now and the plan's start).
    pub from: DateTime<Utc>,
    /// No piece ends after this instant. The work done grows with the days between `from` and `until`.
    pub until: DateTime<Utc>,
}

/// One piece of a placed task, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The task.
    pub task_id: Uuid,
    /// Which piece: new pieces are numbered in time order with the smallest numbers that no
    /// pinned block of the task holds (from 0 when it has none); its calendar event id is
    /// [`event_id_for_chunk`]`(task_id, chunk)`.
    pub chunk: u16,
    /// How many pieces the task has, pinned ones included (1 when it is one block).
    pub chunks: u16,
    /// Start of the piece.
    pub start: DateTime<Utc>,
    /// End of the piece, a whole number of minutes after `start`.
    pub end: DateTime<Utc>,
    /// A block placed by hand ([`ScheduleRequest::pinned`]), where it was: the run keeps it.
    #[serde(default)]
    pub pinned: bool,
}

/// A placed task that will not be finished by its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AtRisk {
    /// The task.
    pub task_id: Uuid,
    /// Its deadline.
    pub due_at: DateTime<Utc>,
    /// Minutes of the estimate not done by `due_at`: placed after it, or not placed at all.
    pub minutes_missing: u32,
    /// The part of `minutes_missing` that found no free time before `until` and was not placed.
    pub minutes_unplaced: u32,
}

impl AtRisk {
    /// A sentence a person can act on.
    pub fn detail(&self) -> String {
        let due = self.due_at.format("%Y-%m-%d %H:%M UTC");
        let minutes = plural(self.minutes_missing, "minute");
        let unplaced = match self.minutes_unplaced {
            0 => String::new(),
            n if n == self.minutes_missing => {
                "; they found no free time within the scheduling window".to_owned()
            }
            n => format!("; {n} of them found no free time within the scheduling window"),
        };
        format!(
            "{minutes} of this task cannot be done before its deadline ({due}){unplaced}. Free some time \
             earlier, lower other work's priority or move the deadline."
        )
    }
}

/// A task that could not be placed, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unscheduled {
    /// The task.
    pub task_id: Uuid,
    /// Why it was left out.
    pub reason: UnscheduledReason,
}

impl Unscheduled {
    /// A sentence a person can act on: the reason's [`UnscheduledReason::message`].
    pub fn detail(&self) -> String {
        self.reason.message().to_owned()
    }
}

/// Why a task was left out; serialised in `snake_case` (`longer_than_working_day`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnscheduledReason {
    /// The task's estimate is zero minutes.
    NoDuration,
    /// The task cannot be cut into pieces that fit the working day as the clock reads it
    /// (end minus start): it may not be split and is longer, or its smallest piece is.
    LongerThanWorkingDay,
    /// The task cannot be cut into pieces within the daily focus cap: it may not be split and is
    /// longer, or its smallest piece is.
    LongerThanDailyCap,
    /// The task (without a deadline before `until`) did not fit whole into the free time from its
    /// earliest start to `until`; nothing of it was placed.
    NoFreeSlotWithinHorizon,
    /// Not one minute of the task fits before its deadline (it has passed, or the time before it
    /// is taken); nothing of it was placed.
    DeadlineUnreachable,
    /// The task is done.
    Done,
}

impl UnscheduledReason {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoDuration => "no_duration",
            Self::LongerThanWorkingDay => "longer_than_working_day",
            Self::LongerThanDailyCap => "longer_than_daily_cap",
            Self::NoFreeSlotWithinHorizon => "no_free_slot_within_horizon",
            Self::DeadlineUnreachable => "deadline_unreachable",
            Self::Done => "done",
        }
    }

    /// A sentence a person can act on.
    pub fn message(self) -> &'static str {
        match self {
            Self::NoDuration => "The task has no duration.",
            Self::LongerThanWorkingDay => {
                "The task, or its smallest allowed part, is longer than your working day; allow smaller parts or shorten it."
            }
            Self::LongerThanDailyCap => {
                "The task, or its smallest allowed part, is longer than your daily focus limit; allow smaller parts or raise the limit."
            }
            Self::NoFreeSlotWithinHorizon => {
                "No free time long enough was found within the scheduling horizon; free some time or start later."
            }
            Self::DeadlineUnreachable => {
                "No free time is left before the task's deadline; move the deadline or free some time before it."
            }
            Self::Done => "The task is done.",
        }
    }
}

impl fmt::Display for UnscheduledReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A day asked for more focused work than the daily cap allows: the minutes placed on it plus the
/// minutes due that day that could not be done in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OvercommittedDay {
    /// The day, in the request's time zone.
    pub date: NaiveDate,
    /// Minutes placed on it, plus the missing minutes of at-risk tasks and the estimates of
    /// unreachable tasks due that day.
    pub load_minutes: u32,
    /// The daily focus cap it exceeds.
    pub cap_minutes: u32,
}

impl OvercommittedDay {
    /// A sentence a person can act on.
    pub fn detail(&self) -> String {
        format!(
            "{} asks for {} of focused work, {} more than your daily limit of {}; move deadlines or \
             raise the limit.",
            self.date.format("%Y-%m-%d"),
            plural(self.load_minutes, "minute"),
            plural(self.load_minutes.saturating_sub(self.cap_minutes), "minute"),
            plural(self.cap_minutes, "minute"),
        )
    }
}

/// What [`schedule`] decided: every task of the request appears in `placements` (with one entry
/// per piece) or in `unscheduled`, and only a task with pinned blocks in both (its pinned blocks
/// stay while the rest of its work found no place).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleOutcome {
    /// The pieces of placed tasks, in time order.
    pub placements: Vec<Placement>,
    /// Tasks left out, in the order they were considered.
    pub unscheduled: Vec<Unscheduled>,
    /// Placed tasks that will not be finished by their deadline, in the order they were considered.
    pub at_risk: Vec<AtRisk>,
    /// Days whose load exceeds the daily cap, by date.
    pub overcommitted_days: Vec<OvercommittedDay>,
}

/// Places the request's tasks into free working time, as early as the rules allow, cutting long
/// tasks into pieces, and says which will miss their deadline and why any task could not be placed.
///
/// The rules (each checked by a unit or property test):
/// - **Order.** Tasks are placed one at a time, each wholly before the next is taken: always the
///   best *ready* task (its plan predecessor placed, left out, or absent) by urgent first, then the
///   earliest `due_at` (none last), then priority (high, normal, low), then the earliest
///   `earliest_start`, then `sequence`, then id. A deadline beats priority, except `urgent`.
/// - **Plan order.** Within one plan (`sequence`, ordered by position then id) a task starts no
///   earlier than the buffer after the end of the last piece of the plan's latest placed task.
/// - **As early as possible.** A task's pieces go into the earliest free time from the latest of
///   `from`, its `earliest_start` and its plan predecessor's end plus the buffer; nothing ends after
///   `until`.
/// - **Working hours.** A piece lies inside one working day's window (the day's ISO weekday is in
///   `working_hours.days`): every instant of it reads, on the wall clock of `time_zone`, a time in
///   `[start, end)` of that day.
/// - **Busy time and buffer.** A piece keeps the buffer clear on both sides of every busy interval
///   (busy time is half-open; intervals may overlap, be unsorted or lie outside working hours) and
///   of every other piece placed in this run, of the same task too. The buffer does not apply at
///   the edges of working hours.
/// - **Daily cap.** The minutes placed in one day's window, all tasks together, add up to at most
///   the cap.
/// - **Pieces.** A task with `min_chunk_minutes: None`, or shorter than its smallest piece, is one
///   block. Otherwise free stretches are filled in time order with pieces of at least
///   `min_chunk_minutes`, never leaving a remainder shorter than that (the piece is shortened, or
///   the stretch skipped). Pieces are numbered from 0 in time order.
/// - **Left out at once.** A done task (`done`), one of zero minutes (`no_duration`), and one that
///   cannot be cut into pieces no longer than the working day as the clock reads it
///   (`longer_than_working_day`) or than the daily cap (`longer_than_daily_cap`).
/// - **Deadlines.** A task with `due_at` before `until` that is placed wholly before it is fine.
///   When only part fits before it, the rest is still placed as early as possible after it (or not
///   at all when it does not fit by `until`) and the task is in `at_risk` with the minutes not done
///   by `due_at`. When no minute fits before it, nothing is placed (`deadline_unreachable`).
/// - **All or nothing otherwise.** A task without a deadline before `until` is placed wholly or not
///   at all (`no_free_slot_within_horizon`).
/// - **Overcommitted days.** A day's load is the minutes placed on it, plus the missing minutes of
///   at-risk tasks and the estimates of `deadline_unreachable` tasks due that day (in `time_zone`;
///   a deadline at the first instant of a day counts for the day before). Days from `from`'s date on
///   whose load exceeds the cap are reported, working days or not.
/// - **Clock changes.** Where the clocks jump forward over a bound of the working hours, the bound
///   becomes the first instant after the jump (Berlin, 2026-03-29, 01:00–05:00 lasts 3 hours);
///   where they go back over a bound, the day's window is every instant that reads inside the
///   working hours, which may be two stretches (Berlin, 2026-10-25, 02:00–02:30 happens twice).
///   A piece never straddles the gap between such stretches.
/// - **Pinned blocks.** A block the person placed by hand ([`ScheduleRequest::pinned`]) of an open
///   task is in `placements` as it is (`pinned`), whatever happens to the rest of its task. Its
///   whole minutes count toward the task's estimate: only the rest (the estimate minus the pinned
///   minutes, at least 0) is placed, by the rules above (a task whose pinned blocks cover its
///   estimate gets no new piece and is not left out). It is busy time, with the buffer, for every
///   new piece, of its own task too; its minutes count toward its day's cap and load. New pieces
///   take the smallest chunk numbers the task's pinned blocks do not hold. The minutes done by a
///   deadline include the pinned minutes before it; `deadline_unreachable` needs a rest to place.
/// - **Deterministic.** The outcome depends only on the request's contents, not on the order of
///   `tasks`, `busy` or `pinned`.
pub fn schedule(request: &ScheduleRequest) -> ScheduleOutcome {
    let tz = request.time_zone.tz();
    let buffer = TimeDelta::minutes(i64::from(request.preferences.buffer_minutes));
    let cap = u32::from(request.preferences.daily_focus_cap_minutes);
    let working_day =
        u32::try_from((request.working_hours.end() - request.working_hours.start()).num_minutes())
            .unwrap_or(0);
    let pins = pins_by_task(request);
    let pinned_busy: Vec<BusyInterval> =
        pins.values().flatten().map(|pin| BusyInterval { start: pin.start, end: pin.end }).collect();
    let mut free = FreeTime::new(request, &pinned_busy, buffer, cap);
    let mut queue = Queue::new(&request.tasks);
    let mut outcome = ScheduleOutcome::default();
    let mut pieces: Vec<Placement> = Vec::new();
    let mut loads: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    for pin in pins.values().flatten() {
        if let Some(date) = local_date(tz, pin.start) {
            free.count(date, pin.minutes());
            let load = loads.entry(date).or_default();
            *load = load.saturating_add(pin.minutes());
        }
    }

    while let Some(index) = queue.pop() {
        let task = &request.tasks[index];
        let earliest =
            [Some(request.from), task.earliest_start, queue.plan_end(index).map(|end| later(end, buffer))]
                .into_iter()
                .flatten()
                .max()
                .unwrap_or(request.from);
        let pinned = pins.get(&task.id).map(Vec::as_slice).unwrap_or_default();
        let rest = rest_of(task, pinned);
        let refused = if task.done {
            Some(UnscheduledReason::Done)
        } else if !pinned.is_empty() && rest.estimate_minutes == 0 {
            None
        } else {
            refusal(&rest, working_day, cap)
        };
        let decision =
            refused.map_or_else(|| place(task, pinned, &free, earliest, request.until), Decision::LeftOut);
        let pinned_end = pinned.iter().map(|pin| pin.end).max();
        let (new, end) = match decision {
            Decision::Placed { chunks, at_risk } => {
                free.book(&chunks);
                if let Some(risk) = at_risk {
                    add_due_load(&mut loads, tz, risk.due_at, risk.minutes_missing);
                    outcome.at_risk.push(risk);
                }
                let end = chunks.last().map(|chunk| chunk.end).max(pinned_end);
                (chunks, end)
            }
            Decision::LeftOut(reason) => {
                if let (UnscheduledReason::DeadlineUnreachable, Some(due)) = (reason, task.due_at) {
                    add_due_load(&mut loads, tz, due, rest.estimate_minutes);
                }
                outcome.unscheduled.push(Unscheduled { task_id: task.id, reason });
                (Vec::new(), pinned_end)
            }
        };
        let count = u16::try_from(pinned.len() + new.len()).unwrap_or(u16::MAX);
        for pin in pinned {
            pieces.push(Placement {
                task_id: task.id,
                chunk: pin.chunk,
                chunks: count,
                start: pin.start,
                end: pin.end,
                pinned: true,
            });
        }
        let mut numbers = (0..=u16::MAX).filter(|n| !pinned.iter().any(|pin| pin.chunk == *n));
        for chunk in &new {
            let load = loads.entry(free.date(chunk)).or_default();
            *load = load.saturating_add(chunk.minutes);
            pieces.push(Placement {
                task_id: task.id,
                chunk: numbers.next().unwrap_or(u16::MAX),
                chunks: count,
                start: chunk.start,
                end: chunk.end,
                pinned: false,
            });
        }
        queue.finish(index, end);
    }

    pieces.sort_unstable_by_key(|piece| (piece.start, piece.task_id, piece.chunk));
    outcome.placements = pieces;
    let first_day = local_date(tz, request.from).unwrap_or(NaiveDate::MIN);
    outcome.overcommitted_days = loads
        .into_iter()
        .filter(|&(date, load)| date >= first_day && load > cap)
        .map(|(date, load_minutes)| OvercommittedDay { date, load_minutes, cap_minutes: cap })
        .collect();
    outcome
}

/// Whether `outcome`, the schedule of `request`, is also the schedule of the same request with a
/// later `until` and busy time added after `until`: so a run may read busy time for a short reach
/// first and look further only when this says no.
///
/// It holds when every task is placed or left out for a reason of its own (`done`, `no_duration`,
/// `longer_than_working_day`, `longer_than_daily_cap`), nothing is at risk, and every piece and
/// pinned block ends more than the buffer before `until`. Busy time starting up to the buffer
/// after `until` must be in the request already. (Placement is earliest-first: room found before
/// `until` is the earliest with a later `until` too, and pieces, loads and days beyond it stay
/// empty; a property test checks the claim on random requests.)
pub fn is_settled(request: &ScheduleRequest, outcome: &ScheduleOutcome) -> bool {
    let buffer = TimeDelta::minutes(i64::from(request.preferences.buffer_minutes));
    let clear = |end: DateTime<Utc>| later(end, buffer) < request.until;
    outcome.at_risk.is_empty()
        && outcome.unscheduled.iter().all(|left_out| {
            !matches!(
                left_out.reason,
                UnscheduledReason::NoFreeSlotWithinHorizon | UnscheduledReason::DeadlineUnreachable
            )
        })
        && outcome.placements.iter().all(|piece| clear(piece.end))
        && request.pinned.iter().all(|pin| clear(pin.end))
}

/// What happens to one task.
enum Decision {
    /// Its pieces, in time order, and whether it misses its deadline.
    Placed { chunks: Vec<Chunk>, at_risk: Option<AtRisk> },
    /// Nothing of it is placed.
    LeftOut(UnscheduledReason),
}

/// Why `task` (an open one, with the minutes left to place) is left out before any free time is
/// looked at, if it is.
fn refusal(task: &TaskToPlace, working_day: u32, cap: u32) -> Option<UnscheduledReason> {
    let estimate = task.estimate_minutes;
    if estimate == 0 {
        return Some(UnscheduledReason::NoDuration);
    }
    let piece = min_piece(task);
    if !can_cut(estimate, piece, working_day) {
        Some(UnscheduledReason::LongerThanWorkingDay)
    } else if !can_cut(estimate, piece, cap) {
        Some(UnscheduledReason::LongerThanDailyCap)
    } else {
        None
    }
}

/// The shortest piece of `task`: its whole estimate when it may not be split or is shorter than
/// its smallest piece.
fn min_piece(task: &TaskToPlace) -> u32 {
    task.min_chunk_minutes
        .map_or(task.estimate_minutes, |minutes| u32::from(minutes.max(1)))
        .min(task.estimate_minutes)
}

/// Whether `estimate` minutes can be cut into pieces of `piece` to `longest` minutes: with the
/// fewest pieces that are short enough, each must still be long enough.
fn can_cut(estimate: u32, piece: u32, longest: u32) -> bool {
    if longest == 0 {
        return false;
    }
    let fewest = u64::from(estimate).div_ceil(u64::from(longest));
    fewest * u64::from(piece) <= u64::from(estimate)
}

/// `task` with the minutes its `pinned` blocks leave to place (at least 0).
fn rest_of(task: &TaskToPlace, pinned: &[PinnedBlock]) -> TaskToPlace {
    let pinned_minutes = pinned.iter().map(PinnedBlock::minutes).fold(0, u32::saturating_add);
    TaskToPlace { estimate_minutes: task.estimate_minutes.saturating_sub(pinned_minutes), ..*task }
}

/// Finds room for the part of `task` its `pinned` blocks leave from `earliest` and applies the
/// deadline and all-or-nothing rules.
fn place(
    task: &TaskToPlace,
    pinned: &[PinnedBlock],
    free: &FreeTime,
    earliest: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Decision {
    let rest = rest_of(task, pinned);
    let found = if rest.estimate_minutes == 0 {
        Found { chunks: Vec::new(), unplaced: 0 }
    } else {
        free.find(earliest, rest.estimate_minutes, min_piece(&rest))
    };
    match task.due_at.filter(|due| *due < until) {
        Some(due) => {
            let done_by_due: u32 = found.chunks.iter().map(|chunk| chunk.minutes_before(due)).sum::<u32>()
                + pinned.iter().map(|pin| pin.minutes_before(due)).sum::<u32>();
            if done_by_due == 0 && rest.estimate_minutes > 0 {
                return Decision::LeftOut(UnscheduledReason::DeadlineUnreachable);
            }
            let minutes_missing = task.estimate_minutes.saturating_sub(done_by_due);
            let at_risk = (minutes_missing > 0).then_some(AtRisk {
                task_id: task.id,
                due_at: due,
                minutes_missing,
                minutes_unplaced: found.unplaced,
            });
            Decision::Placed { chunks: found.chunks, at_risk }
        }
        None if found.unplaced > 0 => Decision::LeftOut(UnscheduledReason::NoFreeSlotWithinHorizon),
        None => Decision::Placed { chunks: found.chunks, at_risk: None },
    }
}

/// The pinned blocks of the request's open tasks, by task, each task's by chunk (a repeated chunk
/// once), empty ones left out.
fn pins_by_task(request: &ScheduleRequest) -> HashMap<Uuid, Vec<PinnedBlock>> {
    let open: std::collections::HashSet<Uuid> =
        request.tasks.iter().filter(|task| !task.done).map(|task| task.id).collect();
    let mut pins: HashMap<Uuid, Vec<PinnedBlock>> = HashMap::new();
    for pin in request.pinned.iter().filter(|pin| pin.start < pin.end && open.contains(&pin.task_id)) {
        pins.entry(pin.task_id).or_default().push(*pin);
    }
    for blocks in pins.values_mut() {
        blocks.sort_unstable_by_key(|pin| (pin.chunk, pin.start, pin.end));
        blocks.dedup_by_key(|pin| pin.chunk);
    }
    pins
}

/// Adds `minutes` due at `due` to the load of the day the deadline falls on.
fn add_due_load(loads: &mut BTreeMap<NaiveDate, u32>, tz: chrono_tz::Tz, due: DateTime<Utc>, minutes: u32) {
    let Some(date) = local_date(tz, due) else {
        return;
    };
    // A deadline at the first instant of a day is the end of the day before.
    let date = if window::start_of_day(tz, date) == due { date.pred_opt().unwrap_or(date) } else { date };
    let load = loads.entry(date).or_default();
    *load = load.saturating_add(minutes);
}

/// The date `at` reads in `tz` (none at the edges of the calendar).
fn local_date(tz: chrono_tz::Tz, at: DateTime<Utc>) -> Option<NaiveDate> {
    use chrono::{Offset, TimeZone as _};
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc().checked_add_offset(offset).map(|local| local.date())
}

/// `at + delta`, or the end of time.
fn later(at: DateTime<Utc>, delta: TimeDelta) -> DateTime<Utc> {
    at.checked_add_signed(delta).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// "1 minute", "45 minutes".
fn plural(count: u32, unit: &str) -> String {
    if count == 1 { format!("1 {unit}") } else { format!("{count} {unit}s") }
}
