//! The per-user daily AI token budget and request rate, counted in the database (shared by all
//! replicas).

use chrono::{Duration, Utc};
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
    ai_usage::add_usage(state.db.conn(), user_id, Utc::now().date_naive(), &usage).await?;
    Ok(())
}
