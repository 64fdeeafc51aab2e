//! Working hours as UTC instants: the moments a zone's wall clock reads inside one day's window.
//!
//! Working hours are wall-clock times, so a day's window is every instant whose local reading lies in
//! `[date start, date end)`. Usually that is one span. On a day the clocks go forward, a bound that
//! is skipped becomes the first instant after the gap. On a day the clocks go back, a bound that is read
//! twice makes the window two spans, so nothing placed in it ever reads outside the working hours.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone as _, Utc};
use chrono_tz::{GapInfo, Tz};

use crate::WorkingHours;

/// A half-open stretch of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Span {
    /// First instant inside.
    pub(super) start: DateTime<Utc>,
    /// First instant after.
    pub(super) end: DateTime<Utc>,
}

impl Span {
    fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }
}

/// When a wall-clock reading happens in a zone.
#[derive(Debug, Clone, Copy)]
enum Reading {
    /// Once, as usual.
    Once(DateTime<Utc>),
    /// Twice, because the clocks went back over it: the earlier and the later instant.
    Twice(DateTime<Utc>, DateTime<Utc>),
    /// Never, because the clocks jumped over it: the first instant after the jump.
    Skipped(DateTime<Utc>),
}

impl Reading {
    fn of(tz: Tz, local: NaiveDateTime) -> Option<Self> {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(at) => Some(Self::Once(at.to_utc())),
            LocalResult::Ambiguous(a, b) => {
                let (a, b) = (a.to_utc(), b.to_utc());
                Some(Self::Twice(a.min(b), a.max(b)))
            }
            // Only at the edges of the zone's table, or for a gap that ends in a repeated
            // time: no real zone does this, and skipping the day is always safe.
            LocalResult::None => {
                GapInfo::new(&local, &tz).and_then(|gap| gap.end).map(|after| Self::Skipped(after.to_utc()))
            }
        }
    }

    /// The first instant the clock shows this reading, or jumps past it.
    fn first(self) -> DateTime<Utc> {
        match self {
            Self::Once(at) | Self::Twice(at, _) | Self::Skipped(at) => at,
        }
    }
}

/// The instants of `date` whose wall-clock reading in `tz` lies within `hours`, in time order: one
/// span, or two when the clocks go back across a bound of the window; none when the whole window is
/// skipped (or a bound is beyond what the zone's table covers).
pub(super) fn working_spans(tz: Tz, date: NaiveDate, hours: &WorkingHours) -> [Option<Span>; 2] {
    let readings =
        (Reading::of(tz, date.and_time(hours.start())), Reading::of(tz, date.and_time(hours.end())));
    let (Some(start), Some(end)) = readings else {
        return [None, None];
    };
    let spans = match (start, end) {
        // Both bounds inside the repeated hour: the window happens once on each pass.
        (Reading::Twice(s1, s2), Reading::Twice(e1, e2)) if e1 <= s2 => {
            [Span::new(s1, e1), Span::new(s2, e2)]
        }
        // The clock reaches the start, goes back below it, and reaches it again.
        (Reading::Twice(s1, s2), end) => {
            [Span::new(s1, clock_change(tz, s1, s2)), Span::new(s2, end.first())]
        }
        // The clock reaches the end, goes back below it into the window, and reaches it again.
        (start, Reading::Twice(e1, e2)) => {
            [Span::new(start.first(), e1), Span::new(clock_change(tz, e1, e2), e2)]
        }
        (start, end) => [Span::new(start.first(), end.first()), None],
    };
    match spans {
        // A window that starts where the clocks go back and spans the repeat exactly is one stretch.
        [Some(first), Some(second)] if first.end >= second.start => {
            [Some(Span { start: first.start, end: second.end.max(first.end) }), None]
        }
        [None, second] => [second, None],
        spans => spans,
    }
}

/// The first instant of `date` in `tz`: midnight, or the first instant after a gap that skips it
/// (midnight UTC of the date only beyond the edges of the zone's table).
pub(super) fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    Reading::of(tz, midnight).map_or_else(|| midnight.and_utc(), Reading::first)
}

/// The instant in `(after, by]` where the zone's offset changes (to the second), given that it
/// changes exactly once there.
fn clock_change(tz: Tz, after: DateTime<Utc>, by: DateTime<Utc>) -> DateTime<Utc> {
    let offset = |seconds: i64| {
        DateTime::from_timestamp(seconds, 0).map(|at| tz.offset_from_utc_datetime(&at.naive_utc()).fix())
    };
    let before = offset(after.timestamp());
    let (mut lo, mut hi) = (after.timestamp(), by.timestamp());
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if offset(mid) == before {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    DateTime::from_timestamp(hi, 0).unwrap_or(by)
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike, NaiveTime, TimeDelta};
    use proptest::prelude::*;

    use super::*;

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn date(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    fn hours(start: &str, end: &str) -> WorkingHours {
        WorkingHours::parse(start, end, &[1, 2, 3, 4, 5, 6, 7]).unwrap()
    }

    fn spans(zone: Tz, day: &str, start: &str, end: &str) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        working_spans(zone, date(day), &hours(start, end))
            .into_iter()
            .flatten()
            .map(|s| (s.start, s.end))
            .collect()
    }

    #[test]
    fn nine_to_five_in_berlin_follows_the_spring_change() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            spans(berlin, "2026-03-28", "09:00", "17:00"),
            [(utc("2026-03-28T08:00:00Z"), utc("2026-03-28T16:00:00Z"))]
        );
        assert_eq!(
            spans(berlin, "2026-03-29", "09:00", "17:00"),
            [(utc("2026-03-29T07:00:00Z"), utc("2026-03-29T15:00:00Z"))]
        );
    }

    #[test]
    fn nine_to_five_in_berlin_follows_the_autumn_change() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            spans(berlin, "2026-10-24", "09:00", "17:00"),
            [(utc("2026-10-24T07:00:00Z"), utc("2026-10-24T15:00:00Z"))]
        );
        assert_eq!(
            spans(berlin, "2026-10-25", "09:00", "17:00"),
            [(utc("2026-10-25T08:00:00Z"), utc("2026-10-25T16:00:00Z"))]
        );
    }

    #[test]
    fn nine_to_five_in_new_york_follows_both_changes() {
        let new_york = chrono_tz::America::New_York;
        assert_eq!(
            spans(new_york, "2026-03-07", "09:00", "17:00"),
            [(utc("2026-03-07T14:00:00Z"), utc("2026-03-07T22:00:00Z"))]
        );
        assert_eq!(
            spans(new_york, "2026-03-08", "09:00", "17:00"),
            [(utc("2026-03-08T13:00:00Z"), utc("2026-03-08T21:00:00Z"))]
        );
        assert_eq!(
            spans(new_york, "2026-10-31", "09:00", "17:00"),
            [(utc("2026-10-31T13:00:00Z"), utc("2026-10-31T21:00:00Z"))]
        );
        assert_eq!(
            spans(new_york, "2026-11-01", "09:00", "17:00"),
            [(utc("2026-11-01T14:00:00Z"), utc("2026-11-01T22:00:00Z"))]
        );
    }

    #[test]
    fn a_window_across_the_spring_gap_is_an_hour_shorter() {
        // Berlin 2026-03-29: 02:00 CET jumps to 03:00 CEST at 01:00Z.
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            spans(berlin, "2026-03-29", "01:00", "05:00"),
            [(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T03:00:00Z"))]
        );
        assert_eq!(
            spans(berlin, "2026-03-29", "00:00", "03:00"),
            [(utc("2026-03-28T23:00:00Z"), utc("2026-03-29T01:00:00Z"))]
        );
    }

    #[test]
    fn a_bound_inside_the_spring_gap_moves_to_the_first_instant_after_it() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            spans(berlin, "2026-03-29", "02:30", "04:00"),
            [(utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:00:00Z"))]
        );
        assert_eq!(
            spans(berlin, "2026-03-29", "01:00", "02:30"),
            [(utc("2026-03-29T00:00:00Z"), utc("2026-03-29T01:00:00Z"))]
        );
        // New York 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00Z.
        assert_eq!(
            spans(chrono_tz::America::New_York, "2026-03-08", "02:15", "05:00"),
            [(utc("2026-03-08T07:00:00Z"), utc("2026-03-08T09:00:00Z"))]
        );
    }

    #[test]
    fn a_window_entirely_inside_the_spring_gap_does_not_exist() {
        assert!(spans(chrono_tz::Europe::Berlin, "2026-03-29", "02:00", "02:45").is_empty());
        assert!(spans(chrono_tz::America::New_York, "2026-03-08", "02:10", "02:50").is_empty());
    }

    #[test]
    fn a_window_around_the_autumn_repeat_is_an_hour_longer() {
        // Berlin 2026-10-25: 03:00 CEST goes back to 02:00 CET at 01:00Z.
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            spans(berlin, "2026-10-25", "01:00", "05:00"),
            [(utc("2026-10-24T23:00:00Z"), utc("2026-10-25T04:00:00Z"))]
        );
        assert_eq!(
            spans(berlin, "2026-10-25", "00:00", "03:00"),
            [(utc("2026-10-24T22:00:00Z"), utc("2026-10-25T02:00:00Z"))]
        );
    }

    #[test]
    fn a_bound_inside_the_autumn_repeat_splits_the_window_in_two() {
        let berlin = chrono_tz::Europe::Berlin;
        // Both passes through 02:00–02:30 count, and nothing in between.
        assert_eq!(
            spans(berlin, "2026-10-25", "02:00", "02:30"),
            [
                (utc("2026-10-25T00:00:00Z"), utc("2026-10-25T00:30:00Z")),
                (utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:30:00Z")),
            ]
        );
        // Starts at the first 02:30; the second pass through 02:00–02:29 is before the start.
        assert_eq!(
            spans(berlin, "2026-10-25", "02:30", "05:00"),
            [
                (utc("2026-10-25T00:30:00Z"), utc("2026-10-25T01:00:00Z")),
                (utc("2026-10-25T01:30:00Z"), utc("2026-10-25T04:00:00Z")),
            ]
        );
        // Ends at the first 02:30, and works the second pass through 02:00–02:29 too.
        assert_eq!(
            spans(berlin, "2026-10-25", "00:00", "02:30"),
            [
                (utc("2026-10-24T22:00:00Z"), utc("2026-10-25T00:30:00Z")),
                (utc("2026-10-25T01:00:00Z"), utc("2026-10-25T01:30:00Z")),
            ]
        );
        // New York 2026-11-01: 02:00 EDT goes back to 01:00 EST at 06:00Z.
        assert_eq!(
            spans(chrono_tz::America::New_York, "2026-11-01", "00:30", "01:30"),
            [
                (utc("2026-11-01T04:30:00Z"), utc("2026-11-01T05:30:00Z")),
                (utc("2026-11-01T06:00:00Z"), utc("2026-11-01T06:30:00Z")),
            ]
        );
    }

    #[test]
    fn a_window_spanning_exactly_the_repeated_hour_is_one_stretch() {
        // Pacific/Chatham 2026-04-05: 03:45 (+13:45) goes back to 02:45 (+12:45) at 14:00Z the day before.
        assert_eq!(
            spans(chrono_tz::Pacific::Chatham, "2026-04-05", "02:45", "03:45"),
            [(utc("2026-04-04T13:00:00Z"), utc("2026-04-04T15:00:00Z"))]
        );
    }

    #[test]
    fn a_day_starts_at_midnight_or_right_after_a_gap_over_it() {
        // Clocks in America/Santiago jumped from 00:00 to 01:00 on 2026-09-06.
        assert_eq!(
            start_of_day(chrono_tz::America::Santiago, date("2026-09-06")),
            utc("2026-09-06T04:00:00Z")
        );
        assert_eq!(
            start_of_day(chrono_tz::America::New_York, date("2026-12-24")),
            utc("2026-12-24T05:00:00Z")
        );
    }

    #[test]
    fn lord_howe_moves_its_clocks_by_half_an_hour() {
        // Australia/Lord_Howe 2026-04-05: 02:00 (+11) goes back to 01:30 (+10:30) at 15:00Z the day before.
        let lord_howe = chrono_tz::Australia::Lord_Howe;
        assert_eq!(
            spans(lord_howe, "2026-04-05", "01:00", "03:00"),
            [(utc("2026-04-04T14:00:00Z"), utc("2026-04-04T16:30:00Z"))]
        );
        assert_eq!(
            spans(lord_howe, "2026-04-05", "01:45", "02:30"),
            [
                (utc("2026-04-04T14:45:00Z"), utc("2026-04-04T15:00:00Z")),
                (utc("2026-04-04T15:15:00Z"), utc("2026-04-04T16:00:00Z")),
            ]
        );
    }

    fn local_reading(zone: Tz, at: DateTime<Utc>) -> NaiveDateTime {
        at.with_timezone(&zone).naive_local()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Checked minute by minute (every clock change in these zones is on a whole minute): the spans
        /// hold exactly the instants whose reading lies within the window.
        #[test]
        fn spans_hold_exactly_the_instants_that_read_inside_the_window(
            (zone, day) in prop::sample::select(super::super::proptests::CLOCK_CHANGES.to_vec()),
            shift in -1i64..=1,
            (start, length) in prop_oneof![(0u32..300, 1u32..300), (0u32..1439, 1u32..1440)],
        ) {
            let end = start + length;
            prop_assume!(end < 1440);
            let zone: Tz = zone.parse().unwrap();
            let day = date(day) + TimeDelta::days(shift);
            let at = |m: u32| NaiveTime::from_num_seconds_from_midnight_opt(m * 60, 0).unwrap();
            let hours = WorkingHours::parse(
                &at(start).format("%H:%M").to_string(), &at(end).format("%H:%M").to_string(), &[1],
            ).unwrap();
            let window = (day.and_time(hours.start()), day.and_time(hours.end()));
            let found: Vec<Span> = working_spans(zone, day, &hours).into_iter().flatten().collect();
            prop_assert!(found.windows(2).all(|w| w[0].end < w[1].start));

            let midnight = day.and_time(NaiveTime::MIN).and_utc();
            let mut minute = midnight - TimeDelta::hours(16);
            while minute < midnight + TimeDelta::hours(40) {
                let reading = local_reading(zone, minute);
                let inside = window.0 <= reading && reading < window.1;
                let in_span = found.iter().any(|s| s.start <= minute && minute < s.end);
                prop_assert_eq!(inside, in_span, "{} reads {} in {}", minute, reading, zone);
                minute += TimeDelta::minutes(1);
            }
            prop_assert!(found.iter().all(|s| local_reading(zone, s.start).date().weekday() == day.weekday()));
        }
    }
}
