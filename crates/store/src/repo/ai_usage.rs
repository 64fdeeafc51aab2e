//! Tokens each user spent on AI per day, for the daily budget.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

use crate::StoreError;

/// Adds one request and `tokens` to the user's count for `day`, atomically; returns the new total.
pub async fn add(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    day: NaiveDate,
    tokens: i64,
) -> Result<i64, StoreError> {
    let sql = r#"
        INSERT INTO ai_usage (user_id, day, tokens, requests) VALUES ($1, $2, $3, 1)
        ON CONFLICT (user_id, day) DO UPDATE SET
            tokens = ai_usage.tokens + excluded.tokens,
            requests = ai_usage.requests + 1
        RETURNING tokens"#;
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [user_id.into(), day.into(), tokens.into()],
    );
    let row = db.query_one_raw(statement).await?.ok_or(StoreError::NotFound)?;
    Ok(row.try_get("", "tokens")?)
}

/// Tokens the user spent on `day` (0 when none).
pub async fn spent(db: &impl ConnectionTrait, user_id: Uuid, day: NaiveDate) -> Result<i64, StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT tokens FROM ai_usage WHERE user_id = $1 AND day = $2",
        [user_id.into(), day.into()],
    );
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(row.try_get("", "tokens")?),
        None => Ok(0),
    }
}
