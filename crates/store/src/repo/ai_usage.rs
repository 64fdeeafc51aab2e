//! Tokens each user spent on AI per day, for the daily budget.

use std::sync::atomic::{AtomicU16, Ordering};

use chrono::NaiveDate;
use planwright_domain::TokenUsage;
use sea_orm::{ConnectionTrait, Statement};
use uuid::Uuid;

use crate::StoreError;

/// How many rows a user's day of usage spreads over. Each AI answer adds its usage inside the
/// transaction that stores the answer, so it holds the row it adds to until that commit; with
/// one row a day, one user's concurrent answers (PostgreSQL) would queue on its lock. Writes
/// take the shards in turn ([`next_shard`]); reads add them up (at most this many rows, by the
/// primary key).
pub const SHARDS: u16 = 16;

/// The shard the next write adds to: this process takes them in turn, so writes running at the
/// same time meet on one row only when more than [`SHARDS`] of them do.
fn next_shard() -> i16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let shard = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    i16::try_from(shard).unwrap_or(0)
}

/// Adds one request and its usage (total and breakdown) to the user's count for `day`,
/// atomically. Inside a transaction, make it the last statement before the commit: the row it
/// adds to is shared with the user's other requests (one of [`SHARDS`]), so its lock is then
/// held only until the commit.
pub async fn add_usage(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    day: NaiveDate,
    usage: &TokenUsage,
) -> Result<(), StoreError> {
    let sql = r#"
        INSERT INTO ai_usage
            (user_id, day, shard, tokens, requests, prompt_tokens, output_tokens, thoughts_tokens, cached_tokens)
        VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8)
        ON CONFLICT (user_id, day, shard) DO UPDATE SET
            tokens = ai_usage.tokens + excluded.tokens,
            requests = ai_usage.requests + 1,
            prompt_tokens = ai_usage.prompt_tokens + excluded.prompt_tokens,
            output_tokens = ai_usage.output_tokens + excluded.output_tokens,
            thoughts_tokens = ai_usage.thoughts_tokens + excluded.thoughts_tokens,
            cached_tokens = ai_usage.cached_tokens + excluded.cached_tokens"#;
    let values = [
        user_id.into(),
        day.into(),
        next_shard().into(),
        i64::from(usage.total_tokens).into(),
        i64::from(usage.prompt_tokens).into(),
        i64::from(usage.output_tokens).into(),
        i64::from(usage.thoughts_tokens).into(),
        i64::from(usage.cached_tokens).into(),
    ];
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await?;
    Ok(())
}

/// What the user spent on `day`, with the breakdown (all 0 when nothing).
pub async fn usage_on(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    day: NaiveDate,
) -> Result<TokenUsage, StoreError> {
    // SUM of a bigint is a numeric on PostgreSQL: cast back.
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens, \
                CAST(COALESCE(SUM(prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
                CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens, \
                CAST(COALESCE(SUM(thoughts_tokens), 0) AS BIGINT) AS thoughts_tokens, \
                CAST(COALESCE(SUM(cached_tokens), 0) AS BIGINT) AS cached_tokens \
         FROM ai_usage WHERE user_id = $1 AND day = $2",
        [user_id.into(), day.into()],
    );
    let Some(row) = db.query_one_raw(statement).await? else { return Ok(TokenUsage::default()) };
    let count = |column: &str| -> Result<u32, StoreError> {
        let value: i64 = row.try_get("", column)?;
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    };
    Ok(TokenUsage {
        prompt_tokens: count("prompt_tokens")?,
        output_tokens: count("output_tokens")?,
        total_tokens: count("tokens")?,
        thoughts_tokens: count("thoughts_tokens")?,
        cached_tokens: count("cached_tokens")?,
    })
}

/// Tokens the user spent on `day` (0 when none).
pub async fn spent(db: &impl ConnectionTrait, user_id: Uuid, day: NaiveDate) -> Result<i64, StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT CAST(COALESCE(SUM(tokens), 0) AS BIGINT) AS tokens FROM ai_usage WHERE user_id = $1 AND day = $2",
        [user_id.into(), day.into()],
    );
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(row.try_get("", "tokens")?),
        None => Ok(0),
    }
}

/// Adds one request and `tokens` to the system's own count for `day` (embedding the global
/// knowledge documents, which no user owns), atomically; returns the new total.
pub async fn add_system(db: &impl ConnectionTrait, day: NaiveDate, tokens: i64) -> Result<i64, StoreError> {
    let sql = r#"
        INSERT INTO system_ai_usage (day, tokens, requests) VALUES ($1, $2, 1)
        ON CONFLICT (day) DO UPDATE SET
            tokens = system_ai_usage.tokens + excluded.tokens,
            requests = system_ai_usage.requests + 1
        RETURNING tokens"#;
    let statement =
        Statement::from_sql_and_values(db.get_database_backend(), sql, [day.into(), tokens.into()]);
    let row = db.query_one_raw(statement).await?.ok_or(StoreError::NotFound)?;
    Ok(row.try_get("", "tokens")?)
}

/// Tokens the system spent on `day` (0 when none).
pub async fn system_spent(db: &impl ConnectionTrait, day: NaiveDate) -> Result<i64, StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "SELECT tokens FROM system_ai_usage WHERE day = $1",
        [day.into()],
    );
    match db.query_one_raw(statement).await? {
        Some(row) => Ok(row.try_get("", "tokens")?),
        None => Ok(0),
    }
}
