//! The part of RFC 5545 recurrence the fake expands.
//!
//! Supported: one `RRULE` with `FREQ=DAILY|WEEKLY|MONTHLY|YEARLY`, `INTERVAL`, `COUNT` or
//! `UNTIL` (date, UTC date-time or floating date-time), `WKST`, `BYDAY` (plain weekdays for daily
//! and weekly rules, optionally with an ordinal such as `2TU` or `-1FR` for monthly ones) and
//! `BYMONTHDAY` (monthly); any number of `EXDATE` lines (`EXDATE:20250102T090000Z`,
//! `EXDATE;TZID=Europe/Berlin:20250102T100000`, `EXDATE;VALUE=DATE:20250102`). `RDATE` lines are
//! ignored. Any other rule part is refused with Google's 400 "Invalid recurrence rule.", so a
//! test never silently gets a different expansion than Google would give.
//!
//! Occurrences are generated in the event's local time (its `start.timeZone`), so a daily 09:00
//! event stays at 09:00 across a DST change, as Google does.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// Upper bound on generated occurrences of one series, whatever the rule says.
pub(super) const MAX_OCCURRENCES: usize = 5_000;
/// Upper bound on periods (days, weeks, months, years) walked looking for occurrences.
const MAX_PERIODS: u32 = 50_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Floating(NaiveDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExDate {
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Floating(NaiveDateTime),
}

/// A parsed `recurrence` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Recurrence {
    freq: Freq,
    interval: u32,
    count: Option<u32>,
    until: Option<Until>,
    by_day: Vec<(Option<i32>, Weekday)>,
    by_month_day: Vec<i32>,
    week_start: Weekday,
    exdates: Vec<ExDate>,
}

const INVALID: &str = "Invalid recurrence rule.";

impl Recurrence {
    /// Parses the `recurrence` lines of an event. `Ok(None)` when there is no `RRULE`.
    pub(super) fn parse(lines: &[String]) -> Result<Option<Self>, String> {
        let mut rule = None;
        let mut exdates = Vec::new();
        for line in lines {
            let line = line.trim();
            let (head, value) = line.split_once(':').ok_or_else(|| INVALID.to_owned())?;
            let mut params = head.split(';');
            let name = params.next().unwrap_or_default().to_ascii_uppercase();
            match name.as_str() {
                "RRULE" => {
                    if rule.is_some() {
                        return Err("The fake Google supports one RRULE per event.".to_owned());
                    }
                    rule = Some(value.to_owned());
                }
                "EXDATE" => exdates.extend(parse_exdates(params, value)?),
                "RDATE" => {}
                _ => return Err(INVALID.to_owned()),
            }
        }
        let Some(rule) = rule else {
            return if exdates.is_empty() { Ok(None) } else { Err(INVALID.to_owned()) };
        };
        let mut recurrence = Self::parse_rule(&rule)?;
        recurrence.exdates = exdates;
        Ok(Some(recurrence))
    }

    fn parse_rule(rule: &str) -> Result<Self, String> {
        let mut freq = None;
        let mut recurrence = Self {
            freq: Freq::Daily,
            interval: 1,
            count: None,
            until: None,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            week_start: Weekday::Mon,
            exdates: Vec::new(),
        };
        for part in rule.split(';').filter(|part| !part.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| INVALID.to_owned())?;
            match key.to_ascii_uppercase().as_str() {
                "FREQ" => {
                    freq = Some(match value.to_ascii_uppercase().as_str() {
                        "DAILY" => Freq::Daily,
                        "WEEKLY" => Freq::Weekly,
                        "MONTHLY" => Freq::Monthly,
                        "YEARLY" => Freq::Yearly,
                        _ => return Err(INVALID.to_owned()),
                    });
                }
                "INTERVAL" => {
                    recurrence.interval = value
                        .parse()
                        .ok()
                        .filter(|interval| *interval > 0)
                        .ok_or_else(|| INVALID.to_owned())?;
                }
                "COUNT" => {
                    recurrence.count = Some(
                        value.parse().ok().filter(|count| *count > 0).ok_or_else(|| INVALID.to_owned())?,
                    );
                }
                "UNTIL" => recurrence.until = Some(parse_until(value).ok_or_else(|| INVALID.to_owned())?),
                "WKST" => recurrence.week_start = weekday(value).ok_or_else(|| INVALID.to_owned())?,
                "BYDAY" => {
                    recurrence.by_day = value
                        .split(',')
                        .map(parse_by_day)
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| INVALID.to_owned())?;
                }
                "BYMONTHDAY" => {
                    recurrence.by_month_day = value
                        .split(',')
                        .map(|day| day.parse::<i32>().ok().filter(|day| (1..=31).contains(&day.abs())))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| INVALID.to_owned())?;
                }
                _ => return Err(format!("{INVALID} (the fake Google does not support {key})")),
            }
        }
        recurrence.freq = freq.ok_or_else(|| INVALID.to_owned())?;
        if recurrence.count.is_some() && recurrence.until.is_some() {
            return Err(INVALID.to_owned());
        }
        let ordinals = recurrence.by_day.iter().any(|(ordinal, _)| ordinal.is_some());
        let valid = match recurrence.freq {
            Freq::Daily | Freq::Weekly => !ordinals && recurrence.by_month_day.is_empty(),
            Freq::Monthly => recurrence.by_day.is_empty() || recurrence.by_month_day.is_empty(),
            Freq::Yearly => recurrence.by_day.is_empty() && recurrence.by_month_day.is_empty(),
        };
        if !valid {
            return Err(format!(
                "{INVALID} (the fake Google does not support this BYDAY/BYMONTHDAY combination)"
            ));
        }
        Ok(recurrence)
    }

    /// Local start times of the occurrences, first to last, up to `horizon` (exclusive, as an
    /// instant) and [`MAX_OCCURRENCES`]. `start` is the series' first local start; `to_instant`
    /// turns a local time into an instant in the event's zone. `EXDATE`s are removed (after
    /// `COUNT` is applied, as RFC 5545 says).
    pub(super) fn occurrences(
        &self,
        start: NaiveDateTime,
        all_day: bool,
        horizon: DateTime<Utc>,
        to_instant: &dyn Fn(NaiveDateTime) -> DateTime<Utc>,
    ) -> Vec<NaiveDateTime> {
        let time = start.time();
        let first = start.date();
        let mut found = Vec::new();
        let mut generated = 0_u32;
        'periods: for period in 0..MAX_PERIODS {
            let Some(step) = period.checked_mul(self.interval) else { break };
            let Some(dates) = self.dates_in_period(first, step) else { break };
            for date in dates {
                if date < first {
                    continue;
                }
                let local = date.and_time(time);
                if self.count.is_some_and(|count| generated >= count) {
                    break 'periods;
                }
                let instant = to_instant(local);
                let past_until = match self.until {
                    Some(Until::Date(until)) => date > until,
                    Some(Until::Instant(until)) => {
                        if all_day {
                            date > until.date_naive()
                        } else {
                            instant > until
                        }
                    }
                    Some(Until::Floating(until)) => local > until,
                    None => false,
                };
                if past_until || instant >= horizon || found.len() >= MAX_OCCURRENCES {
                    break 'periods;
                }
                generated += 1;
                if !self.is_excluded(local, instant, all_day) {
                    found.push(local);
                }
            }
        }
        found
    }

    fn is_excluded(&self, local: NaiveDateTime, instant: DateTime<Utc>, all_day: bool) -> bool {
        self.exdates.iter().any(|exdate| match exdate {
            ExDate::Date(date) => *date == local.date(),
            ExDate::Instant(at) => !all_day && *at == instant,
            ExDate::Floating(at) => *at == local || (all_day && at.date() == local.date()),
        })
    }

    /// The candidate dates of the period `step` periods after the first, in order; `None` past
    /// the end of the calendar.
    fn dates_in_period(&self, first: NaiveDate, step: u32) -> Option<Vec<NaiveDate>> {
        match self.freq {
            Freq::Daily => {
                let date = first.checked_add_days(Days::new(u64::from(step)))?;
                let keep =
                    self.by_day.is_empty() || self.by_day.iter().any(|(_, day)| *day == date.weekday());
                Some(if keep { vec![date] } else { Vec::new() })
            }
            Freq::Weekly => {
                let offset =
                    (7 + first.weekday().num_days_from_monday() - self.week_start.num_days_from_monday()) % 7;
                let week = first
                    .checked_sub_days(Days::new(u64::from(offset)))?
                    .checked_add_days(Days::new(7 * u64::from(step)))?;
                let mut dates: Vec<NaiveDate> = if self.by_day.is_empty() {
                    vec![week.checked_add_days(Days::new(u64::from(offset)))?]
                } else {
                    self.by_day
                        .iter()
                        .filter_map(|(_, day)| {
                            let shift =
                                (7 + day.num_days_from_monday() - self.week_start.num_days_from_monday()) % 7;
                            week.checked_add_days(Days::new(u64::from(shift)))
                        })
                        .collect()
                };
                dates.sort_unstable();
                dates.dedup();
                Some(dates)
            }
            Freq::Monthly => {
                let month = first.with_day(1)?.checked_add_months(Months::new(step))?;
                let mut dates = if !self.by_month_day.is_empty() {
                    self.by_month_day.iter().filter_map(|day| month_day(month, *day)).collect()
                } else if !self.by_day.is_empty() {
                    self.by_day
                        .iter()
                        .flat_map(|(ordinal, day)| weekdays_in_month(month, *ordinal, *day))
                        .collect()
                } else {
                    month_day(month, i32::try_from(first.day()).ok()?).into_iter().collect::<Vec<_>>()
                };
                dates.sort_unstable();
                dates.dedup();
                Some(dates)
            }
            Freq::Yearly => {
                let year = first.year().checked_add(i32::try_from(step).ok()?)?;
                Some(NaiveDate::from_ymd_opt(year, first.month(), first.day()).into_iter().collect())
            }
        }
    }
}

/// The `day`-th day of the month starting at `month` (negative counts from the end).
fn month_day(month: NaiveDate, day: i32) -> Option<NaiveDate> {
    let length = i32::try_from(days_in_month(month)).ok()?;
    let day = if day < 0 { length + day + 1 } else { day };
    if !(1..=length).contains(&day) {
        return None;
    }
    month.with_day(u32::try_from(day).ok()?)
}

fn days_in_month(month: NaiveDate) -> u32 {
    month.checked_add_months(Months::new(1)).and_then(|next| next.pred_opt()).map_or(28, |last| last.day())
}

/// Every `day` in the month starting at `month`, or only the `ordinal`-th (negative from the end).
fn weekdays_in_month(month: NaiveDate, ordinal: Option<i32>, day: Weekday) -> Vec<NaiveDate> {
    let length = days_in_month(month);
    let all: Vec<NaiveDate> = (1..=length)
        .filter_map(|number| month.with_day(number))
        .filter(|date| date.weekday() == day)
        .collect();
    match ordinal {
        None => all,
        Some(ordinal) if ordinal > 0 => {
            usize::try_from(ordinal - 1).ok().and_then(|index| all.get(index).copied()).into_iter().collect()
        }
        Some(ordinal) => usize::try_from(-ordinal)
            .ok()
            .and_then(|back| all.len().checked_sub(back))
            .and_then(|index| all.get(index).copied())
            .into_iter()
            .collect(),
    }
}

fn weekday(text: &str) -> Option<Weekday> {
    Some(match text.to_ascii_uppercase().as_str() {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        _ => return None,
    })
}

fn parse_by_day(text: &str) -> Option<(Option<i32>, Weekday)> {
    let text = text.trim();
    let split = text.len().checked_sub(2)?;
    let (ordinal, day) = text.split_at_checked(split)?;
    let ordinal = if ordinal.is_empty() {
        None
    } else {
        Some(ordinal.trim_start_matches('+').parse::<i32>().ok().filter(|n| *n != 0 && n.abs() <= 5)?)
    };
    Some((ordinal, weekday(day)?))
}

fn parse_until(value: &str) -> Option<Until> {
    if let Some(utc) = value.strip_suffix('Z') {
        let local = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some(Until::Instant(Utc.from_utc_datetime(&local)));
    }
    if value.contains('T') {
        return NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok().map(Until::Floating);
    }
    NaiveDate::parse_from_str(value, "%Y%m%d").ok().map(Until::Date)
}

fn parse_exdates<'a>(params: impl Iterator<Item = &'a str>, value: &str) -> Result<Vec<ExDate>, String> {
    let mut zone: Option<Tz> = None;
    let mut dates_only = false;
    for param in params {
        let (key, param_value) = param.split_once('=').ok_or_else(|| INVALID.to_owned())?;
        match key.to_ascii_uppercase().as_str() {
            "TZID" => zone = Some(param_value.parse().map_err(|_| INVALID.to_owned())?),
            "VALUE" => dates_only = param_value.eq_ignore_ascii_case("DATE"),
            _ => {}
        }
    }
    value
        .split(',')
        .map(|item| {
            let item = item.trim();
            if dates_only || !item.contains('T') {
                return NaiveDate::parse_from_str(item, "%Y%m%d")
                    .map(ExDate::Date)
                    .map_err(|_| INVALID.to_owned());
            }
            if let Some(utc) = item.strip_suffix('Z') {
                let local =
                    NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").map_err(|_| INVALID.to_owned())?;
                return Ok(ExDate::Instant(Utc.from_utc_datetime(&local)));
            }
            let local =
                NaiveDateTime::parse_from_str(item, "%Y%m%dT%H%M%S").map_err(|_| INVALID.to_owned())?;
            Ok(match zone {
                Some(zone) => match zone.from_local_datetime(&local).earliest() {
                    Some(at) => ExDate::Instant(at.with_timezone(&Utc)),
                    None => ExDate::Floating(local),
                },
                None => ExDate::Floating(local),
            })
        })
        .collect()
}

/// Midnight, for all-day occurrences.
pub(super) fn midnight() -> NaiveTime {
    NaiveTime::MIN
}
