//! The requests the offline provider understands without a model, so the confirm flow works with
//! no key. Matching is on the person's latest message, case-insensitive (see docs/API.md):
//!
//! - `add a task <title>[, <N> minutes|hours][, before|by <day>]`
//! - `mark <task> done` (or `mark <task> as done`)
//! - `move <task> to <day>`
//! - `break down <task>`
//! - `schedule my week`
//!
//! A `<day>` is `today`, `tomorrow`, a weekday (`friday`, `fri`, `next friday`: the next one after
//! today) or `YYYY-MM-DD`. A `<task>` is matched against the titles of the person's tasks by its
//! words.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;

/// A recognised request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Create a task.
    AddTask {
        /// Its title.
        title: String,
        /// Estimated minutes.
        estimate_minutes: Option<u32>,
        /// When it is due.
        due_at: Option<DateTime<Utc>>,
    },
    /// Mark the task matching `query` done.
    MarkDone {
        /// Words of the task's title.
        query: String,
    },
    /// Make the task matching `query` due at the end of `due_at`'s day.
    Move {
        /// Words of the task's title.
        query: String,
        /// The new due time (end of the named day).
        due_at: DateTime<Utc>,
    },
    /// Break the task matching `query` into steps.
    BreakDown {
        /// Words of the task's title.
        query: String,
    },
    /// Schedule open tasks over the next seven days.
    ScheduleWeek {
        /// The end of the week scheduled.
        until: DateTime<Utc>,
    },
}

/// Words that do not identify a task.
const STOP_WORDS: [&str; 12] =
    ["my", "the", "a", "an", "to", "for", "task", "block", "of", "on", "and", "this"];

/// The request in `message`, if it is one of the documented ones; `now` and `zone` resolve days.
pub fn parse(message: &str, now: DateTime<Utc>, zone: Tz) -> Option<Intent> {
    let text = message.trim().trim_end_matches(['.', '!', '?']).trim();
    let lower = text.to_lowercase();
    let mut start = 0;
    for polite in ["please ", "can you ", "could you ", "planwright, ", "hey, "] {
        if lower.get(start..).is_some_and(|rest| rest.starts_with(polite)) {
            start += polite.len();
        }
    }
    // Lower-casing may change a character's length: slice with `get`, never by index.
    let (text, lower) = (text.get(start..)?, lower.get(start..)?);
    let today = now.with_timezone(&zone).date_naive();
    if lower.contains("schedule my week") {
        let until = local(zone, today.checked_add_days(Days::new(7))?, NaiveTime::MIN);
        return Some(Intent::ScheduleWeek { until });
    }
    for prefix in ["add a task", "add task", "add a to-do", "add a todo"] {
        if lower.starts_with(prefix) {
            return add_task(text.get(prefix.len()..)?, today, zone);
        }
    }
    if let Some(rest) = lower.strip_prefix("break down ") {
        return lookup(rest).map(|query| Intent::BreakDown { query });
    }
    if let Some(rest) = lower.strip_prefix("mark ") {
        let task = rest.strip_suffix(" as done").or_else(|| rest.strip_suffix(" done"))?;
        return lookup(task).map(|query| Intent::MarkDone { query });
    }
    if let Some(rest) = lower.strip_prefix("move ") {
        let (task, day) = rest.rsplit_once(" to ")?;
        let day = parse_day(day, today)?;
        let query = lookup(task)?;
        return Some(Intent::Move { query, due_at: end_of(zone, day) });
    }
    None
}

/// How well `title` matches `query`: the number of the query's words in it.
pub fn score(query: &str, title: &str) -> usize {
    let title = title.to_lowercase();
    words(query).filter(|word| title.contains(word)).count()
}

fn add_task(rest: &str, today: NaiveDate, zone: Tz) -> Option<Intent> {
    let rest = rest.trim_start_matches([':', ' ']);
    let rest = rest.strip_prefix("to ").unwrap_or(rest);
    let mut title = String::new();
    let mut estimate_minutes = None;
    let mut due_at = None;
    for segment in rest.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if let Some(minutes) = parse_minutes(segment) {
            estimate_minutes = Some(minutes);
            continue;
        }
        if let Some(due) = parse_due(segment, today, zone) {
            due_at = Some(due);
            continue;
        }
        // "call the bank before friday": the day may end the title itself.
        let lower = segment.to_lowercase();
        let cut = [" before ", " by ", " due "].iter().find_map(|word| {
            let at = lower.rfind(word)?;
            parse_due(segment.get(at + 1..)?, today, zone).map(|due| (at, due))
        });
        let segment = match cut {
            Some((at, due)) => {
                due_at = Some(due);
                segment.get(..at).unwrap_or(segment)
            }
            None => segment,
        };
        if !title.is_empty() {
            title.push_str(", ");
        }
        title.push_str(segment.trim());
    }
    let mut chars = title.chars();
    let first = chars.next()?;
    let title = first.to_uppercase().chain(chars).collect();
    Some(Intent::AddTask { title, estimate_minutes, due_at })
}

/// `15 minutes`, `15 min`, `1 hour`, `2h`, optionally after `for`.
fn parse_minutes(segment: &str) -> Option<u32> {
    let lower = segment.to_lowercase();
    let lower = lower.strip_prefix("for ").unwrap_or(&lower);
    let digits: String = lower.chars().take_while(char::is_ascii_digit).collect();
    let number: u32 = digits.parse().ok()?;
    let unit = lower.get(digits.len()..)?.trim();
    match unit {
        "m" | "min" | "mins" | "minute" | "minutes" => Some(number),
        "h" | "hr" | "hrs" | "hour" | "hours" => number.checked_mul(60),
        _ => None,
    }
}

/// `before <day>` (the start of that day) or `by <day>` / `due <day>` (its end).
fn parse_due(segment: &str, today: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    let lower = segment.to_lowercase();
    if let Some(day) = lower.strip_prefix("before ") {
        return parse_day(day, today).map(|day| local(zone, day, NaiveTime::MIN));
    }
    let day = lower.strip_prefix("by ").or_else(|| lower.strip_prefix("due "))?;
    parse_day(day, today).map(|day| end_of(zone, day))
}

fn parse_day(raw: &str, today: NaiveDate) -> Option<NaiveDate> {
    let raw = raw.trim().trim_end_matches(['.', '!', '?']);
    let raw = raw.strip_prefix("next ").unwrap_or(raw);
    match raw {
        "today" => return Some(today),
        "tomorrow" => return today.checked_add_days(Days::new(1)),
        _ => {}
    }
    if let Ok(date) = planwright_domain::input::parse_date(raw) {
        return Some(date);
    }
    let weekday: Weekday = raw.parse().ok()?;
    let ahead = (7 + weekday.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today.checked_add_days(Days::new(u64::from(if ahead == 0 { 7 } else { ahead })))
}

fn lookup(task: &str) -> Option<String> {
    let query = task.trim();
    words(query).next().map(|_| query.to_owned())
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= 2 && !STOP_WORDS.contains(&word.as_str()))
}

fn end_of(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    local(zone, day, NaiveTime::from_hms_opt(23, 59, 0).unwrap_or(NaiveTime::MIN))
}

fn local(zone: Tz, day: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    zone.from_local_datetime(&day.and_time(time))
        .earliest()
        .map_or_else(|| day.and_time(time).and_utc(), |at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        // A Tuesday.
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn berlin(text: &str) -> Option<Intent> {
        parse(text, now(), chrono_tz::Europe::Berlin)
    }

    #[test]
    fn add_a_task_reads_title_estimate_and_day() {
        let intent = berlin("Add a task to call the bank, 15 minutes, before Friday").unwrap();
        assert_eq!(
            intent,
            Intent::AddTask {
                title: "Call the bank".into(),
                estimate_minutes: Some(15),
                // Friday 2026-12-04 00:00 in Berlin.
                due_at: Some("2026-12-03T23:00:00Z".parse().unwrap()),
            }
        );
        let Intent::AddTask { title, estimate_minutes, due_at } =
            berlin("please add a task: water the plants by tomorrow").unwrap()
        else {
            panic!("not an added task")
        };
        assert_eq!((title.as_str(), estimate_minutes), ("Water the plants", None));
        assert_eq!(due_at, Some("2026-12-02T22:59:00Z".parse().unwrap()));
    }

    #[test]
    fn lookups_and_days() {
        assert_eq!(
            berlin("mark essay draft as done"),
            Some(Intent::MarkDone { query: "essay draft".into() })
        );
        assert_eq!(berlin("Mark essay done."), Some(Intent::MarkDone { query: "essay".into() }));
        assert_eq!(
            berlin("move my essay block to 2026-12-10"),
            Some(Intent::Move {
                query: "my essay block".into(),
                due_at: "2026-12-10T22:59:00Z".parse().unwrap()
            })
        );
        assert_eq!(berlin("break down the essay"), Some(Intent::BreakDown { query: "the essay".into() }));
        assert!(matches!(berlin("Schedule my week!"), Some(Intent::ScheduleWeek { .. })));
        // Tuesday: "tuesday" is the next one, a week on.
        assert_eq!(parse_day("tuesday", now().date_naive()), NaiveDate::from_ymd_opt(2026, 12, 8));
        assert_eq!(berlin("how do I revise graphs?"), None);
        assert_eq!(berlin("mark my done"), None, "no words to find a task by");
        assert_eq!(berlin("move essay to someday"), None);
    }

    #[test]
    fn scores_count_the_query_words_in_a_title() {
        assert_eq!(score("my essay block", "Write the essay"), 1);
        assert_eq!(score("essay draft", "Essay: first draft"), 2);
        assert_eq!(score("bank", "Write the essay"), 0);
    }
}
