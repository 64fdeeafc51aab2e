//! The caller's own account: read, update, delete.

use actix_web::{HttpResponse, delete, get, patch, web};
use chrono::{DateTime, Utc};
use planwright_domain::{
    DisplayName, SchedulePreferences, TimeZone, User, UserChanges, ValidationErrors, WorkingHours,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::ApiError,
    error::{AuthProblems, BodyProblems, ServerProblems},
    extract::{ApiJsonOrEmpty, AuthUser},
    services::accounts,
    state::AppState,
};

/// When the user works: local times and ISO weekdays (1 = Monday … 7 = Sunday).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]}))]
pub struct WorkingHoursBody {
    /// Start of the working day, `HH:MM` (24-hour).
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "09:00")]
    pub start: String,
    /// End of the working day, `HH:MM`, after `start`.
    #[schema(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "17:00")]
    pub end: String,
    /// Working weekdays, 1 (Monday) to 7 (Sunday).
    #[schema(min_items = 1, value_type = Vec<IsoWeekday>, inline)]
    pub days: Vec<i64>,
}

/// An ISO weekday number: 1 = Monday … 7 = Sunday (documentation type only).
#[derive(Debug, ToSchema)]
#[schema(value_type = u8, minimum = 1, maximum = 7, example = 1)]
pub struct IsoWeekday(pub u8);

impl WorkingHoursBody {
    /// Parses into the domain type.
    pub fn parse(&self) -> Result<WorkingHours, planwright_domain::FieldError> {
        WorkingHours::parse(&self.start, &self.end, &self.days)
    }
}

impl From<&WorkingHours> for WorkingHoursBody {
    fn from(hours: &WorkingHours) -> Self {
        Self {
            start: hours.start().format("%H:%M").to_string(),
            end: hours.end().format("%H:%M").to_string(),
            days: hours.days().iter().map(|&d| i64::from(d)).collect(),
        }
    }
}

/// How plan blocks are laid out on the calendar.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"buffer_minutes": 10, "daily_focus_cap_minutes": 360, "horizon_days": 60, "auto_replan": true, "focus_time": false}))]
pub struct SchedulePreferencesBody {
    /// Free minutes kept between a block and meetings or other blocks, 0–120 (default 10).
    #[schema(minimum = 0, maximum = 120)]
    pub buffer_minutes: Option<i64>,
    /// Most minutes of plan work per day, 15–1440 (default 360).
    #[schema(minimum = 15, maximum = 1440)]
    pub daily_focus_cap_minutes: Option<i64>,
    /// Days past a task's day it may move to when its day is full, 0–365 (default 60).
    #[schema(minimum = 0, maximum = 365)]
    pub horizon_days: Option<i64>,
    /// Move blocks by themselves when a meeting lands on one or one passes with its task not done
    /// (default `true`); `false` leaves every block where it is until the next scheduling run.
    #[schema(example = true)]
    pub auto_replan: Option<bool>,
    /// Write blocks to Google Calendar as focus time (`eventType: focusTime`, no meeting
    /// declined on your behalf) instead of ordinary events (default `false`). Google offers focus
    /// time only on the primary calendar of some Workspace accounts; where it refuses, blocks are
    /// written as ordinary events and the connection remembers it (`focus_time_refused`). The
    /// built-in calendar has no event types. An event keeps the type it was created with.
    #[schema(example = false)]
    pub focus_time: Option<bool>,
}

impl SchedulePreferencesBody {
    /// Parses into the domain type; a field left out takes its default.
    pub fn parse(&self) -> Result<SchedulePreferences, ValidationErrors> {
        SchedulePreferences::parse(
            self.buffer_minutes.unwrap_or(i64::from(SchedulePreferences::DEFAULT_BUFFER_MINUTES)),
            self.daily_focus_cap_minutes
                .unwrap_or(i64::from(SchedulePreferences::DEFAULT_DAILY_FOCUS_CAP_MINUTES)),
            self.horizon_days.unwrap_or(i64::from(SchedulePreferences::DEFAULT_HORIZON_DAYS)),
        )
        .map(|preferences| {
            preferences
                .with_auto_replan(self.auto_replan.unwrap_or(true))
                .with_focus_time(self.focus_time.unwrap_or(false))
        })
    }
}

impl From<SchedulePreferences> for SchedulePreferencesBody {
    fn from(preferences: SchedulePreferences) -> Self {
        Self {
            buffer_minutes: Some(i64::from(preferences.buffer_minutes())),
            daily_focus_cap_minutes: Some(i64::from(preferences.daily_focus_cap_minutes())),
            horizon_days: Some(i64::from(preferences.horizon_days())),
            auto_replan: Some(preferences.auto_replan()),
            focus_time: Some(preferences.focus_time()),
        }
    }
}

/// A user's profile.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a5c4-7f7e-7a4b-9a51-3f1f2a8d9b10",
    "email": "ada@example.com",
    "name": "Ada",
    "timezone": "Europe/Berlin",
    "working_hours": {"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]},
    "schedule_preferences": {"buffer_minutes": 10, "daily_focus_cap_minutes": 360, "horizon_days": 60, "auto_replan": true, "focus_time": false},
    "created_at": "2026-11-21T09:30:00Z"
}))]
pub struct UserResponse {
    /// The user's id.
    pub id: Uuid,
    /// Login address (lower-cased).
    pub email: String,
    /// Display name, if set.
    pub name: Option<String>,
    /// IANA time zone plans are scheduled in.
    pub timezone: String,
    /// When tasks may be scheduled.
    pub working_hours: WorkingHoursBody,
    /// How plan blocks are laid out on the calendar.
    pub schedule_preferences: SchedulePreferencesBody,
    /// When the account was created.
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserResponse {
    fn from(user: User) -> Self {
        Self {
            id: user.id,
            email: user.email.to_string(),
            name: user.name.map(|n| n.as_str().to_owned()),
            timezone: user.timezone.name().to_owned(),
            working_hours: WorkingHoursBody::from(&user.working_hours),
            schedule_preferences: user.schedule_preferences.into(),
            created_at: user.created_at,
        }
    }
}

/// A partial profile update: fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Ada L.", "timezone": "America/New_York", "working_hours": {"start": "08:00", "end": "16:00", "days": [1, 2, 3, 4]}}))]
pub struct UpdateMeRequest {
    /// New display name (1–100 characters); `null` removes it.
    #[serde(default, deserialize_with = "crate::routes::present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub name: Option<Option<String>>,
    /// New IANA time zone.
    #[schema(example = "America/New_York")]
    pub timezone: Option<String>,
    /// New working hours (replaces all three fields).
    pub working_hours: Option<WorkingHoursBody>,
    /// New scheduling preferences (replaces them; a field left out takes its default).
    pub schedule_preferences: Option<SchedulePreferencesBody>,
}

impl UpdateMeRequest {
    fn parse(self) -> Result<UserChanges, ValidationErrors> {
        let name = match self.name {
            Some(Some(raw)) => DisplayName::parse(&raw).map(|name| Some(Some(name))),
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        let timezone = self.timezone.as_deref().map(TimeZone::parse).transpose();
        let working_hours = self.working_hours.as_ref().map(WorkingHoursBody::parse).transpose();
        let schedule_preferences =
            self.schedule_preferences.as_ref().map(SchedulePreferencesBody::parse).transpose();
        match (name, timezone, working_hours, schedule_preferences) {
            (Ok(name), Ok(timezone), Ok(working_hours), Ok(schedule_preferences)) => {
                Ok(UserChanges { name, timezone, working_hours, schedule_preferences })
            }
            (name, timezone, working_hours, schedule_preferences) => {
                let mut errors: Vec<planwright_domain::FieldError> =
                    [name.err(), timezone.err(), working_hours.err()].into_iter().flatten().collect();
                if let Err(invalid) = schedule_preferences {
                    errors.extend(invalid.errors().iter().cloned());
                }
                Err(errors.into_iter().collect())
            }
        }
    }
}

/// The caller's profile.
///
/// Who the access token belongs to: email, name, the IANA time zone every date is computed in and
/// the working hours scheduling keeps to. Frontends call it after login to greet the person and to
/// show times in their zone. Never contains the password hash or any token.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 200, description = "The caller's profile.", body = UserResponse), AuthProblems, ServerProblems)
)]
#[get("/me")]
pub async fn get_me(state: web::Data<AppState>, auth: AuthUser) -> Result<web::Json<UserResponse>, ApiError> {
    let user = accounts::profile(&state, auth.user_id).await?;
    Ok(web::Json(user.into()))
}

/// Update the caller's name, time zone or working hours.
///
/// Fields left out stay as they are; `"name": null` removes the name. Nothing changes unless every
/// given field is valid.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = UpdateMeRequest,
    responses(
        (status = 200, description = "The updated profile.", body = UserResponse),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[patch("/me")]
pub async fn update_me(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<UpdateMeRequest>,
) -> Result<web::Json<UserResponse>, ApiError> {
    let changes = body.parse()?;
    let user = accounts::update_profile(&state, auth.user_id, changes).await?;
    Ok(web::Json(user.into()))
}

/// Delete the caller's account.
///
/// Everything the account owns goes with it, refresh tokens included; its access tokens stop
/// working at once.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses((status = 204, description = "The account and all its data are gone."), AuthProblems, ServerProblems)
)]
#[delete("/me")]
pub async fn delete_me(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    accounts::delete_account(&state, auth.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}
