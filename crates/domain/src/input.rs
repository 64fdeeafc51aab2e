//! The input policy every request value goes through, whatever route it arrives on.
//!
//! - Text carries no C0 control character (U+0000–U+001F) except tab, line feed and carriage
//!   return. U+0000 in particular is refused: PostgreSQL cannot store it in text or JSON columns,
//!   and no person types it.
//! - A date is exactly `YYYY-MM-DD` with a four-digit year (`27-02-01` is not the year 27).
//! - A date-time is RFC 3339 with an offset (`2026-12-01T09:00:00+01:00`, `…Z`).
//! - An id is a UUID in its hyphenated form (`3fa85f64-5717-4562-b3fc-2c963f66afa6`), as the API
//!   documents it: the unhyphenated, braced and URN forms are refused.

use chrono::{DateTime, FixedOffset, NaiveDate};
use uuid::Uuid;

use crate::FieldError;

/// The first character of `text` that the policy refuses, if any.
pub fn forbidden_char(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_ascii_control() && *c != '\u{7f}' && !matches!(c, '\t' | '\n' | '\r'))
}

/// Why `c` is refused, in words a person can act on.
pub fn forbidden_char_message(c: char) -> String {
    if c == '\0' {
        "Must not contain the NUL character (U+0000).".to_owned()
    } else {
        format!(
            "Must not contain the control character U+{:04X}; only tab and line breaks are allowed.",
            c as u32
        )
    }
}

/// Checks `text` against the policy, naming `field` when it fails.
pub fn check_text(field: &str, text: &str) -> Result<(), FieldError> {
    match forbidden_char(text) {
        Some(c) => Err(FieldError::new(field, forbidden_char_message(c))),
        None => Ok(()),
    }
}

/// The message for a value that is not a `YYYY-MM-DD` date.
pub const DATE_MESSAGE: &str = "Must be a date written YYYY-MM-DD with a four-digit year, like 2026-12-01.";

/// The message for a value that is not an RFC 3339 date-time with an offset.
pub const DATE_TIME_MESSAGE: &str = "Must be a date-time in RFC 3339 form with an offset, like 2026-12-01T09:00:00+01:00 or 2026-12-01T08:00:00Z.";

/// Parses a calendar date written exactly `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, &'static str> {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { *b == b'-' } else { b.is_ascii_digit() });
    if !shape {
        return Err(DATE_MESSAGE);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| "Is not a day of the calendar (check the month and day).")
}

/// Parses an RFC 3339 date-time with an offset (four-digit year, `T` or a space between date and
/// time).
pub fn parse_date_time(text: &str) -> Result<DateTime<FixedOffset>, &'static str> {
    DateTime::parse_from_rfc3339(text).map_err(|_| DATE_TIME_MESSAGE)
}

/// What an id must look like.
pub const UUID_MESSAGE: &str = "Must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6.";

/// Parses an id in the hyphenated form only (8-4-4-4-12 hex digits).
pub fn parse_uuid(text: &str) -> Result<Uuid, &'static str> {
    let hyphenated = text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    if !hyphenated {
        return Err(UUID_MESSAGE);
    }
    Uuid::parse_str(text).map_err(|_| UUID_MESSAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hyphenated_uuids_only() {
        let id = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        assert_eq!(parse_uuid(id).map(|u| u.to_string()), Ok(id.to_owned()));
        assert!(parse_uuid(&id.to_uppercase()).is_ok());
        for bad in [
            "3fa85f6457174562b3fc2c963f66afa6",
            "{3fa85f64-5717-4562-b3fc-2c963f66afa6}",
            "urn:uuid:3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "3fa85f64-5717-4562-b3fc-2c963f66afaz",
            "3fa85f645-717-4562-b3fc-2c963f66afa6",
            "",
        ] {
            assert_eq!(parse_uuid(bad), Err(UUID_MESSAGE), "{bad}");
        }
    }

    #[test]
    fn nul_and_c0_controls_are_refused_but_tab_and_line_breaks_pass() {
        assert_eq!(forbidden_char("a\0b"), Some('\0'));
        assert_eq!(forbidden_char("bell\u{7}"), Some('\u{7}'));
        assert_eq!(forbidden_char("esc\u{1b}[31m"), Some('\u{1b}'));
        assert_eq!(forbidden_char("\u{1f}"), Some('\u{1f}'));
        assert_eq!(forbidden_char("line one\nline two\r\n\tindented"), None);
        assert_eq!(forbidden_char("Ünïcödé — 日本語 🎉"), None);
        assert_eq!(forbidden_char(""), None);
    }

    #[test]
    fn check_text_names_the_field_and_the_character() {
        let error = check_text("title", "a\0b").err();
        assert_eq!(error.as_ref().map(|e| e.field.as_str()), Some("title"));
        assert!(error.is_some_and(|e| e.message.contains("U+0000")));
        let error = check_text("notes", "x\u{8}").err();
        assert!(error.is_some_and(|e| e.message.contains("U+0008")));
        assert!(check_text("notes", "fine\n").is_ok());
    }

    #[test]
    fn dates_need_a_four_digit_year_and_exact_shape() {
        assert_eq!(parse_date("2026-02-01"), Ok(NaiveDate::from_ymd_opt(2026, 2, 1).unwrap_or_default()));
        for bad in [
            "27-02-01",
            "027-02-01",
            "20260-02-01",
            "2026-2-01",
            "2026-02-1",
            "2026/02/01",
            " 2026-02-01",
            "+2026-02-01",
            "2026-02-01T00:00:00Z",
            "",
        ] {
            assert_eq!(parse_date(bad), Err(DATE_MESSAGE), "{bad}");
        }
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-13-01").is_err());
    }

    #[test]
    fn date_times_need_rfc_3339_with_an_offset() {
        let parsed = parse_date_time("2026-12-01T09:00:00+01:00").map(|d| d.to_rfc3339());
        assert_eq!(parsed.as_deref(), Ok("2026-12-01T09:00:00+01:00"));
        assert!(parse_date_time("2026-12-01T08:00:00Z").is_ok());
        assert!(parse_date_time("2026-12-01T08:00:00.250Z").is_ok());
        for bad in [
            "2026-12-01T09:00:00",
            "2026-12-01",
            "27-12-01T09:00:00Z",
            "02026-12-01T09:00:00Z",
            "2026-12-01T09:00Z",
            "2026-12-01T09:00:00 UTC",
            "tomorrow",
        ] {
            assert_eq!(parse_date_time(bad), Err(DATE_TIME_MESSAGE), "{bad}");
        }
    }
}
