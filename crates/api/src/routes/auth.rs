//! Registration, login, token rotation and logout.

use actix_web::{HttpResponse, post, web};
use planwright_domain::{DisplayName, Email, Password, TimeZone, ValidationErrors, WorkingHours};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    error::{AuthProblems, BodyProblems, RateLimitProblems, ServerProblems},
    extract::{ApiJson, AuthUser, ClientIp},
    routes::{
        created,
        me::{UserResponse, WorkingHoursBody},
    },
    services::accounts::{self, Registration, Session},
    state::AppState,
};

/// A new account.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery", "name": "Ada", "timezone": "Europe/Berlin"}))]
pub struct RegisterRequest {
    /// Login address; stored lower-cased.
    #[schema(max_length = 254, example = "ada@example.com")]
    pub email: String,
    /// At least 8 characters.
    #[schema(min_length = 8, max_length = 256, example = "correct horse battery")]
    pub password: String,
    /// Display name, 1–100 characters.
    #[schema(min_length = 1, max_length = 100, example = "Ada")]
    pub name: Option<String>,
    /// IANA time zone; `UTC` when left out.
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    /// Working hours; 09:00–17:00 Monday to Friday when left out.
    pub working_hours: Option<WorkingHoursBody>,
}

impl RegisterRequest {
    fn parse(self) -> Result<Registration, ValidationErrors> {
        let email = Email::parse(&self.email);
        let password = Password::parse(&self.password);
        let name = self.name.as_deref().map(DisplayName::parse).transpose();
        let timezone = self.timezone.as_deref().map_or(Ok(TimeZone::default()), TimeZone::parse);
        let working_hours =
            self.working_hours.as_ref().map_or(Ok(WorkingHours::default()), WorkingHoursBody::parse);
        match (email, password, name, timezone, working_hours) {
            (Ok(email), Ok(password), Ok(name), Ok(timezone), Ok(working_hours)) => {
                Ok(Registration { email, password, name, timezone, working_hours })
            }
            (email, password, name, timezone, working_hours) => {
                Err([email.err(), password.err(), name.err(), timezone.err(), working_hours.err()]
                    .into_iter()
                    .flatten()
                    .collect())
            }
        }
    }
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery"}))]
pub struct LoginRequest {
    /// Login address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// A refresh token from an earlier login or refresh.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"refresh_token": "3q2-7wQ0bS1yTnqg6m9cJv9P0x8yWQ1vB7Ue5a2rD0k"}))]
pub struct RefreshRequest {
    /// The opaque refresh token.
    pub refresh_token: String,
}

/// A signed-in session.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl",
    "token_type": "Bearer",
    "expires_in": 1800,
    "refresh_token": "3q2-7wQ0bS1yTnqg6m9cJv9P0x8yWQ1vB7Ue5a2rD0k",
    "user": {
        "id": "0193a5c4-7f7e-7a4b-9a51-3f1f2a8d9b10",
        "email": "ada@example.com",
        "name": "Ada",
        "timezone": "Europe/Berlin",
        "working_hours": {"start": "09:00", "end": "17:00", "days": [1, 2, 3, 4, 5]},
        "schedule_preferences": {"buffer_minutes": 10, "daily_focus_cap_minutes": 360, "horizon_days": 60, "auto_replan": true, "focus_time": false},
        "created_at": "2026-11-21T09:30:00Z"
    }
}))]
pub struct TokenResponse {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque token for `POST /api/v1/auth/refresh`; single use.
    pub refresh_token: String,
    /// The account.
    pub user: UserResponse,
}

impl From<Session> for TokenResponse {
    fn from(session: Session) -> Self {
        Self {
            access_token: session.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: session.expires_in,
            refresh_token: session.refresh_token,
            user: session.user.into(),
        }
    }
}

/// Create an account and sign it in (public).
///
/// The email is stored lower-cased; the time zone defaults to `UTC` and working hours to
/// 09:00–17:00, Monday to Friday.
#[utoipa::path(
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created; the session is ready to use.", body = TokenResponse, headers(
            ("Location" = String, description = "`/api/v1/me`: the new account, read with the returned access token.")
        )),
        (status = 409, description = "An account with this email exists.", body = crate::error::Problem, content_type = "application/problem+json"),
        BodyProblems, RateLimitProblems, ServerProblems
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let registration = body.parse()?;
    let session = accounts::register(&state, registration, &ip.0).await?;
    Ok(created("/api/v1/me".to_owned(), &TokenResponse::from(session)))
}

/// Sign in with email and password (public).
///
/// A wrong password and an unknown email get the same 401, after the same work.
#[utoipa::path(
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in.", body = TokenResponse),
        (status = 401, description = "The email or password is wrong.", body = crate::error::Problem, content_type = "application/problem+json"),
        BodyProblems, RateLimitProblems, ServerProblems
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let session = accounts::login(&state, &body.email, body.password, &ip.0).await?;
    Ok(web::Json(session.into()))
}

/// Trade a refresh token for a new pair (public).
///
/// The old refresh token is spent; presenting it again signs out every session of that login.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access and refresh token.", body = TokenResponse),
        (status = 401, description = "The refresh token is unknown, expired or already used.", body = crate::error::Problem, content_type = "application/problem+json"),
        BodyProblems, RateLimitProblems, ServerProblems
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    ip: ClientIp,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let session = accounts::refresh(&state, &body.refresh_token, &ip.0).await?;
    Ok(web::Json(session.into()))
}

/// Sign out the login a refresh token belongs to.
///
/// Idempotent: a token already revoked, unknown or someone else's is also a 204 (and changes nothing).
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Signed out; the refresh token and its rotations no longer work."),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    accounts::logout(&state, auth.user_id, &body.refresh_token).await?;
    Ok(HttpResponse::NoContent().finish())
}
