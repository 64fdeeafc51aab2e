//! The free working time of one scheduling run, and the search for room in it.
//!
//! Free time is kept as disjoint stretches in time order, each inside one working day's window,
//! clear of busy time widened by the buffer and of the pieces booked so far (also widened by the
//! buffer). Every search and booking works with these stretches, never minute by minute.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use super::{
    BusyInterval, ScheduleRequest, later,
    window::{Span, working_spans},
};

/// The most pieces one task is cut into (the count must fit a [`super::Placement`]).
const MAX_CHUNKS: usize = u16::MAX as usize;

/// A free stretch `[start, end)` inside the window of `days[day]`.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    day: usize,
}

/// One piece of a task, `[start, end)`, lying in the window of the run's working day `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chunk {
    /// First instant.
    pub(super) start: DateTime<Utc>,
    /// First instant after; `minutes` after `start`.
    pub(super) end: DateTime<Utc>,
    /// Its length.
    pub(super) minutes: u32,
    day: usize,
}

impl Chunk {
    /// Whole minutes of the piece before `due`.
    pub(super) fn minutes_before(&self, due: DateTime<Utc>) -> u32 {
        if self.start >= due {
            return 0;
        }
        let done = (self.end.min(due) - self.start).num_minutes();
        u32::try_from(done).unwrap_or(0).min(self.minutes)
    }
}

/// Room found for a task: its pieces in time order, and the minutes that did not fit by the end.
#[derive(Debug)]
pub(super) struct Found {
    pub(super) chunks: Vec<Chunk>,
    pub(super) unplaced: u32,
}

/// The run's working days, what is booked on each, and the free stretches left.
#[derive(Debug)]
pub(super) struct FreeTime {
    /// Working days with some working time between `from` and `until`, in date order.
    days: Vec<NaiveDate>,
    /// Minutes booked on each of `days`.
    booked: Vec<u32>,
    /// Disjoint, in time order.
    stretches: Vec<Stretch>,
    buffer: TimeDelta,
    cap: u32,
}

impl FreeTime {
    /// The free working time between the request's `from` and `until`, clear of its busy time and
    /// of `pinned` (each widened by the buffer).
    pub(super) fn new(
        request: &ScheduleRequest,
        pinned: &[BusyInterval],
        buffer: TimeDelta,
        cap: u32,
    ) -> Self {
        let tz = request.time_zone.tz();
        let hours = &request.working_hours;
        let blocked = blocked_time(request.busy.iter().chain(pinned), buffer);
        let (from, until) = (request.from, request.until);
        let mut free = Self { days: Vec::new(), booked: Vec::new(), stretches: Vec::new(), buffer, cap };
        if from >= until {
            return free;
        }
        // A day's window lies within a day either side of its UTC date, whatever the zone's offset.
        let first = from.date_naive().pred_opt().unwrap_or(NaiveDate::MIN);
        let last = until.date_naive().succ_opt().unwrap_or(NaiveDate::MAX);
        let mut day = Some(first);
        while let Some(date) = day.filter(|date| *date <= last) {
            day = date.succ_opt();
            let weekday = date.weekday().number_from_monday();
            if !hours.days().iter().any(|&worked| u32::from(worked) == weekday) {
                continue;
            }
            let index = free.days.len();
            let before = free.stretches.len();
            for span in working_spans(tz, date, hours).into_iter().flatten() {
                let (start, end) = (span.start.max(from), span.end.min(until));
                if start < end {
                    push_clear(&mut free.stretches, &blocked, Span { start, end }, index);
                }
            }
            if free.stretches.len() > before {
                free.days.push(date);
                free.booked.push(0);
            }
        }
        // Windows of different days never share an instant, so sorting by start keeps them disjoint.
        free.stretches.sort_unstable_by_key(|stretch| stretch.start);
        free
    }

    /// Counts `minutes` of work already placed on `date` toward its cap.
    pub(super) fn count(&mut self, date: NaiveDate, minutes: u32) {
        if let Ok(day) = self.days.binary_search(&date)
            && let Some(booked) = self.booked.get_mut(day)
        {
            *booked = booked.saturating_add(minutes);
        }
    }

    /// The working day `chunk` lies in.
    pub(super) fn date(&self, chunk: &Chunk) -> NaiveDate {
        self.days.get(chunk.day).copied().unwrap_or(NaiveDate::MIN)
    }

    /// The earliest room for `minutes` of work from `earliest` in pieces of at least `min_chunk`
    /// minutes (`min_chunk` at most `minutes`): stretches are filled in time order, a piece is
    /// shortened rather than leave a remainder shorter than `min_chunk`, and a stretch is skipped
    /// when no piece fits it. Pieces keep the buffer between each other and stay under the cap.
    pub(super) fn find(&self, earliest: DateTime<Utc>, minutes: u32, min_chunk: u32) -> Found {
        let min_chunk = min_chunk.clamp(1, minutes.max(1));
        let mut chunks = Vec::new();
        let mut remaining = minutes;
        let mut cursor = earliest;
        let mut pending: BTreeMap<usize, u32> = BTreeMap::new();
        let mut next = self.stretches.partition_point(|stretch| stretch.end <= cursor);
        while remaining > 0 && chunks.len() < MAX_CHUNKS {
            let Some(stretch) = self.stretches.get(next) else {
                break;
            };
            let start = stretch.start.max(cursor);
            let room = if start < stretch.end { (stretch.end - start).num_minutes() } else { 0 };
            let booked = self.booked.get(stretch.day).copied().unwrap_or(u32::MAX);
            let under_cap = self
                .cap
                .saturating_sub(booked.saturating_add(pending.get(&stretch.day).copied().unwrap_or(0)));
            let fits = u32::try_from(room).unwrap_or(u32::MAX).min(under_cap).min(remaining);
            let take =
                if fits == remaining || fits <= remaining - min_chunk { fits } else { remaining - min_chunk };
            if take == 0 || take < min_chunk {
                next += 1;
                continue;
            }
            let end = start + TimeDelta::minutes(i64::from(take));
            chunks.push(Chunk { start, end, minutes: take, day: stretch.day });
            *pending.entry(stretch.day).or_default() += take;
            remaining -= take;
            // The same stretch is looked at again: what is left of it after the buffer.
            cursor = later(end, self.buffer);
        }
        Found { chunks, unplaced: remaining }
    }

    /// Books `chunks` (from [`Self::find`] on this free time, not booked since): their minutes count
    /// towards their days' cap, and they and the buffer around them are no longer free.
    pub(super) fn book(&mut self, chunks: &[Chunk]) {
        for chunk in chunks {
            if let Some(booked) = self.booked.get_mut(chunk.day) {
                *booked = booked.saturating_add(chunk.minutes);
            }
            let taken = Span {
                start: chunk.start.checked_sub_signed(self.buffer).unwrap_or(DateTime::<Utc>::MIN_UTC),
                end: later(chunk.end, self.buffer),
            };
            let first = self.stretches.partition_point(|stretch| stretch.end <= taken.start);
            let last = first + self.stretches[first..].partition_point(|stretch| stretch.start < taken.end);
            let mut left: Vec<Stretch> = Vec::with_capacity(2);
            if let Some(stretch) = self.stretches.get(first).filter(|stretch| stretch.start < taken.start) {
                left.push(Stretch { end: taken.start, ..*stretch });
            }
            let overlapped_last =
                last.checked_sub(1).filter(|at| *at >= first).and_then(|at| self.stretches.get(at));
            if let Some(stretch) = overlapped_last.filter(|stretch| stretch.end > taken.end) {
                left.push(Stretch { start: taken.end, ..*stretch });
            }
            self.stretches.splice(first..last, left);
        }
    }
}

/// Appends the parts of `span` (in the window of day `day`) clear of `blocked` to `stretches`.
fn push_clear(stretches: &mut Vec<Stretch>, blocked: &[Span], span: Span, day: usize) {
    let mut start = span.start;
    let mut next = blocked.partition_point(|busy| busy.end <= start);
    while start < span.end {
        match blocked.get(next) {
            Some(busy) if busy.start < span.end => {
                if start < busy.start {
                    stretches.push(Stretch { start, end: busy.start, day });
                }
                start = start.max(busy.end);
                next += 1;
            }
            _ => {
                stretches.push(Stretch { start, end: span.end, day });
                break;
            }
        }
    }
}

/// Busy time widened by `buffer` on both sides, sorted and merged into disjoint spans.
fn blocked_time<'a>(busy: impl Iterator<Item = &'a BusyInterval>, buffer: TimeDelta) -> Vec<Span> {
    let mut spans: Vec<Span> = busy
        .filter(|interval| interval.start < interval.end)
        .map(|interval| Span {
            start: interval.start.checked_sub_signed(buffer).unwrap_or(DateTime::<Utc>::MIN_UTC),
            end: later(interval.end, buffer),
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
