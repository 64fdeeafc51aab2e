//! Stateless AI helpers.

use actix_web::{post, web};
use planwright_domain::{parse_description, parse_title};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    error::ApiError,
    error::{AiProblems, AuthProblems, BodyProblems, ServerProblems},
    extract::{ApiJson, AuthUser},
    services::{ai::BreakdownPrompt, tasks},
    state::AppState,
};

/// Something to break down.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Write the project report", "description": "Due Friday, 10 pages"}))]
pub struct BreakdownRequest {
    /// Title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Description, up to 2000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
}

/// One proposed step.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"title": "Outline the report", "description": "List the sections and the one point each must make."}))]
pub struct SubtaskResponse {
    /// Short title.
    pub title: String,
    /// What to do.
    pub description: String,
}

impl From<planwright_domain::Subtask> for SubtaskResponse {
    fn from(step: planwright_domain::Subtask) -> Self {
        Self { title: step.title, description: step.description }
    }
}

/// Break a title and description into 2–5 steps. Nothing is stored.
///
/// A stateless helper for forms that have no task yet: send a `title` (and optionally a
/// `description`) and get 2 to 5 ordered steps, each with a title and a description. The AI calls
/// count against the caller's rate limit and daily token budget (429 with `Retry-After`); an
/// unusable AI answer is a 502, a slow one a 504.
#[utoipa::path(
    tag = "tasks",
    security(("bearer" = [])),
    request_body = BreakdownRequest,
    responses(
        (status = 200, description = "2 to 5 steps, in order.", body = Vec<SubtaskResponse>,
            example = json!([{"title": "Outline the report", "description": "List the sections and the one point each must make."}, {"title": "Write the draft", "description": "Two pages a day, following the outline."}, {"title": "Revise and submit", "description": "Read it aloud, fix the weak passages, export to PDF."}])),
        AuthProblems, BodyProblems, AiProblems, ServerProblems
    )
)]
#[post("/ai/breakdown")]
pub async fn break_down(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<BreakdownRequest>,
) -> Result<web::Json<Vec<SubtaskResponse>>, ApiError> {
    let prompt = match (parse_title(&body.title), parse_description(&body.description)) {
        (Ok(title), Ok(description)) => BreakdownPrompt { title, description, corrections: Vec::new() },
        (title, description) => {
            return Err(ApiError::Validation(
                [title.err(), description.err()].into_iter().flatten().collect(),
            ));
        }
    };
    let steps = tasks::break_down(&state, auth.user_id, &prompt).await?;
    Ok(web::Json(steps.into_iter().map(Into::into).collect()))
}
