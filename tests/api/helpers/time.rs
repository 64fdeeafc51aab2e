//! Instants the scheduling tests share.

use chrono::{DateTime, Datelike, TimeDelta, Utc, Weekday};
use serde_json::Value;

/// Midnight UTC of a Monday at least a week ahead (always in the future, whatever today is).
pub fn next_monday() -> DateTime<Utc> {
    let mut day = Utc::now().date_naive() + TimeDelta::days(7);
    while day.weekday() != Weekday::Mon {
        day += TimeDelta::days(1);
    }
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

/// An RFC 3339 string of a JSON answer as an instant.
pub fn instant(value: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(value.as_str().unwrap()).unwrap().with_timezone(&Utc)
}
