//! Accounts: who a user is, where they live in time, and when they work.

use std::{fmt, str::FromStr};

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::FieldError;

/// A normalised email address: trimmed, lower-cased, one `@`, a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Longest address RFC 5321 lets through a mail path.
    pub const MAX_LEN: usize = 254;

    /// Parses a user-supplied address.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let invalid =
            |why: &str| FieldError::new("email", format!("'{raw}' is not a valid email address: {why}."));
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(FieldError::new("email", "An email address is required."));
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(
                "email",
                format!("An email address has at most {} characters.", Self::MAX_LEN),
            ));
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid("it has no '@'"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before '@' must have 1 to 64 characters"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) || local.contains('@') {
            return Err(invalid("it contains spaces or more than one '@'"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |label: &&str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("the domain must look like 'example.com'"));
        }
        Ok(Self(email))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password as typed by its owner: long enough to resist guessing, short enough to hash cheaply.
///
/// Its `Debug` never shows the characters.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Fewest characters accepted.
    pub const MIN_LEN: usize = 8;
    /// Most characters accepted (hashing cost grows with length).
    pub const MAX_LEN: usize = 256;

    /// Checks the length rules.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < Self::MIN_LEN {
            return Err(FieldError::new(
                "password",
                format!("A password needs at least {} characters.", Self::MIN_LEN),
            ));
        }
        if len > Self::MAX_LEN {
            return Err(FieldError::new(
                "password",
                format!("A password has at most {} characters.", Self::MAX_LEN),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The characters, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

/// The name a user goes by: 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Most characters accepted.
    pub const MAX_LEN: usize = 100;

    /// Trims and checks the length.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", "The name must not be blank."));
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new("name", format!("A name has at most {} characters.", Self::MAX_LEN)));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new("name", "The name must not contain control characters."));
        }
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone (`Europe/Berlin`), with its DST rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    /// The zone a new account gets when none is given.
    pub const DEFAULT: Self = Self(chrono_tz::Tz::UTC);

    /// Parses an IANA name; the answer names the field `timezone`.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        chrono_tz::Tz::from_str(raw.trim()).map(Self).map_err(|_| {
            FieldError::new(
                "timezone",
                format!("'{raw}' is not an IANA time zone name such as 'Europe/Berlin' or 'UTC'."),
            )
        })
    }

    /// The zone's rules, for converting local times.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// When a user works: a daily window `start < end` (local time) on ISO weekdays (1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawWorkingHours", into = "RawWorkingHours")]
pub struct WorkingHours {
    start: NaiveTime,
    end: NaiveTime,
    days: Vec<u8>,
}

/// The wire and storage shape of [`WorkingHours`]: `{"start":"09:00","end":"17:00","days":[1,2,3,4,5]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RawWorkingHours {
    start: String,
    end: String,
    days: Vec<u8>,
}

impl WorkingHours {
    /// Parses `HH:MM` times and weekday numbers; fields are named `working_hours.*`.
    pub fn parse(start: &str, end: &str, days: &[i64]) -> Result<Self, FieldError> {
        let time = |field: &str, raw: &str| {
            NaiveTime::parse_from_str(raw.trim(), "%H:%M").map_err(|_| {
                FieldError::new(
                    format!("working_hours.{field}"),
                    format!("'{raw}' is not a time of day in 24-hour HH:MM form, such as '09:00'."),
                )
            })
        };
        let start_time = time("start", start)?;
        let end_time = time("end", end)?;
        if start_time >= end_time {
            return Err(FieldError::new(
                "working_hours.end",
                format!("The working day must end after it starts ({start} is not before {end})."),
            ));
        }
        if days.is_empty() {
            return Err(FieldError::new(
                "working_hours.days",
                "Name at least one working day (1 = Monday … 7 = Sunday).",
            ));
        }
        let mut parsed = Vec::with_capacity(days.len());
        for &day in days {
            match u8::try_from(day) {
                Ok(d @ 1..=7) => parsed.push(d),
                _ => {
                    return Err(FieldError::new(
                        "working_hours.days",
                        format!("{day} is not a weekday number; use 1 (Monday) to 7 (Sunday)."),
                    ));
                }
            }
        }
        parsed.sort_unstable();
        parsed.dedup();
        Ok(Self { start: start_time, end: end_time, days: parsed })
    }

    /// Local time the working day starts.
    pub fn start(&self) -> NaiveTime {
        self.start
    }

    /// Local time the working day ends.
    pub fn end(&self) -> NaiveTime {
        self.end
    }

    /// ISO weekdays worked, ascending, no repeats.
    pub fn days(&self) -> &[u8] {
        &self.days
    }
}

impl Default for WorkingHours {
    /// 09:00–17:00, Monday to Friday.
    fn default() -> Self {
        Self {
            start: NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
            days: vec![1, 2, 3, 4, 5],
        }
    }
}

impl TryFrom<RawWorkingHours> for WorkingHours {
    type Error = FieldError;

    fn try_from(raw: RawWorkingHours) -> Result<Self, Self::Error> {
        let days: Vec<i64> = raw.days.iter().map(|&d| i64::from(d)).collect();
        Self::parse(&raw.start, &raw.end, &days)
    }
}

impl From<WorkingHours> for RawWorkingHours {
    fn from(hours: WorkingHours) -> Self {
        Self {
            start: hours.start.format("%H:%M").to_string(),
            end: hours.end.format("%H:%M").to_string(),
            days: hours.days,
        }
    }
}

/// A registered user as the rest of the system sees them (no password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Stable identifier.
    pub id: Uuid,
    /// Login address, unique.
    pub email: Email,
    /// Optional display name.
    pub name: Option<DisplayName>,
    /// The zone plans are scheduled in.
    pub timezone: TimeZone,
    /// When tasks may be scheduled.
    pub working_hours: WorkingHours,
    /// How plan blocks are laid out (buffer, daily cap, horizon).
    pub schedule_preferences: crate::SchedulePreferences,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

/// What it takes to create an account; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Login address.
    pub email: Email,
    /// PHC-format password hash.
    pub password_hash: String,
    /// Optional display name.
    pub name: Option<DisplayName>,
    /// Time zone, `UTC` when not given.
    pub timezone: TimeZone,
    /// Working hours, the default when not given.
    pub working_hours: WorkingHours,
}

/// A partial update of a user's profile: `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New display name; `Some(None)` clears it.
    pub name: Option<Option<DisplayName>>,
    /// New time zone.
    pub timezone: Option<TimeZone>,
    /// New working hours.
    pub working_hours: Option<WorkingHours>,
    /// New scheduling preferences.
    pub schedule_preferences: Option<crate::SchedulePreferences>,
}

/// A stored refresh token (only its hash is kept), one link in a rotation family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// Row id.
    pub id: Uuid,
    /// Every token rotated from the same login shares this id.
    pub family_id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
    /// When it was used or revoked; a second use of a revoked token revokes its family.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_lower_cased() {
        let email = Email::parse("  Ada.Lovelace@Example.COM ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("ada.lovelace@example.com".to_owned()));
    }

    #[test]
    fn emails_without_at_or_dotted_domain_are_refused() {
        for raw in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@exa_mple.com",
            "ada@-x.com",
            "a@b@c.com",
        ] {
            let error = Email::parse(raw).err();
            assert_eq!(error.map(|e| e.field), Some("email".to_owned()), "{raw:?} was accepted");
        }
    }

    #[test]
    fn password_length_bounds_are_inclusive() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"x".repeat(256)).is_ok());
        assert!(Password::parse(&"x".repeat(257)).is_err());
        assert_eq!(format!("{:?}", Password::parse("secret-pass").ok()), "Some(Password(..))");
    }

    #[test]
    fn display_name_must_not_be_blank_or_too_long() {
        assert_eq!(DisplayName::parse("  Ada ").map(|n| n.as_str().to_owned()), Ok("Ada".to_owned()));
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"n".repeat(101)).is_err());
        // Limits apply to what was sent, not to what is left after trimming.
        assert!(DisplayName::parse(&format!(" {}", "n".repeat(100))).is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err());
    }

    #[test]
    fn time_zone_accepts_iana_names_only() {
        assert_eq!(TimeZone::parse("Europe/Berlin").map(|tz| tz.name()), Ok("Europe/Berlin"));
        assert_eq!(TimeZone::parse("UTC").map(|tz| tz.name()), Ok("UTC"));
        let error = TimeZone::parse("Mars/Olympus").err();
        assert_eq!(error.map(|e| e.field), Some("timezone".to_owned()));
    }

    #[test]
    fn working_hours_need_start_before_end() {
        let error = WorkingHours::parse("17:00", "09:00", &[1]).err();
        assert_eq!(error.map(|e| e.field), Some("working_hours.end".to_owned()));
        assert!(WorkingHours::parse("09:00", "09:00", &[1]).is_err());
        assert!(WorkingHours::parse("9am", "17:00", &[1]).is_err());
    }

    #[test]
    fn working_days_are_iso_weekdays_sorted_and_unique() {
        let hours = WorkingHours::parse("08:30", "16:45", &[5, 1, 5, 3]);
        assert_eq!(hours.as_ref().map(WorkingHours::days), Ok(&[1u8, 3, 5][..]));
        for bad in [&[][..], &[0][..], &[8][..], &[-1][..], &[1, 300][..]] {
            let error = WorkingHours::parse("09:00", "17:00", bad).err();
            assert_eq!(error.map(|e| e.field), Some("working_hours.days".to_owned()), "{bad:?}");
        }
    }

    #[test]
    fn working_hours_round_trip_through_json() {
        let hours = WorkingHours::parse("07:15", "15:00", &[2, 4]);
        let json = hours.as_ref().ok().and_then(|h| serde_json::to_string(h).ok());
        assert_eq!(json.as_deref(), Some(r#"{"start":"07:15","end":"15:00","days":[2,4]}"#));
        let back: Result<WorkingHours, _> = serde_json::from_str(json.as_deref().unwrap_or_default());
        assert_eq!(back.ok(), hours.ok());
        let invalid: Result<WorkingHours, _> =
            serde_json::from_str(r#"{"start":"18:00","end":"08:00","days":[1]}"#);
        assert!(invalid.is_err());
    }

    proptest! {
        #[test]
        fn any_valid_window_parses_and_keeps_order(start in 0u32..1439, len in 1u32..1440, days in proptest::collection::vec(1i64..=7, 1..10)) {
            let end = start + len;
            prop_assume!(end < 1440);
            let fmt = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
            let hours = WorkingHours::parse(&fmt(start), &fmt(end), &days);
            prop_assert!(hours.is_ok());
            let hours = hours.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(hours.start() < hours.end());
            prop_assert!(hours.days().windows(2).all(|w| w[0] < w[1]));
        }

        #[test]
        fn email_parse_never_panics_and_output_reparses(raw in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(email.as_str()).ok(), Some(email));
            }
        }
    }
}
