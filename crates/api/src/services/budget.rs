//! The per-user daily AI token budget and request rate, counted in the database (shared by all
//! replicas).

use chrono::{Duration, NaiveDate, Utc};
use planwright_domain::TokenUsage;
use planwright_store::repo::ai_usage;
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// Admits one AI request: 429 when the user sent too many AI requests in the current
/// rate-limit window (`rate_limit.ai_per_user`) or has spent today's token budget.
pub async fn ensure_available(state: &AppState, user_id: Uuid) -> Result<(), ApiError> {
    state.rate_limiter.check_ai(user_id).await?;
    let budget = state.settings.ai.daily_token_budget;
    if budget == 0 {
        return Ok(());
    }
    let now = Utc::now();
    let spent = ai_usage::spent(state.db.conn(), user_id, now.date_naive()).await?;
    if spent >= budget {
        let midnight = (now.date_naive() + Duration::days(1)).and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        let retry_after = midnight.map_or(3600, |m| (m - now).num_seconds().max(1)).unsigned_abs();
        return Err(ApiError::AiBudgetExhausted { retry_after_secs: retry_after });
    }
    Ok(())
}

/// Adds what a call cost to today's count (calls that failed still cost what they used).
pub async fn record(state: &AppState, user_id: Uuid, usage: TokenUsage) -> Result<(), ApiError> {
    ai_usage::add_usage(state.db.conn(), user_id, today(), &usage).await?;
    Ok(())
}

/// Counts `usage` after the write that was to count it failed (nothing was written): the calls
/// still cost what they used. A failure here is logged; the write's error is the answer.
pub async fn record_after_failed_write(state: &AppState, user_id: Uuid, usage: TokenUsage) {
    if let Err(error) = record(state, user_id, usage).await {
        tracing::warn!(error = %error, "counting the AI usage of an unstored result failed");
    }
}

/// The day usage counts against (UTC), for a write that records usage along with its result.
pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}
