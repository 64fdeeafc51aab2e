//! Re-planning's bookkeeping: one pending "this user's calendar changed" mark per user (so a burst
//! of pushes leads to one re-plan), each connection's last re-plan, and the history of blocks that
//! moved and why (`GET /schedule/changes`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use planwright_domain::{ChangeReason, ScheduleChange};
use sea_orm::{ConnectionTrait, QueryResult, Statement, Value};
use uuid::Uuid;

use crate::{
    StoreError,
    repo::page::{self, Page, PageRequest},
};

fn statement(db: &impl ConnectionTrait, sql: &str, values: impl IntoIterator<Item = Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Marks the user's blocks for a re-plan from `due` on. A mark already pending keeps its (earlier)
/// time, so a stream of changes cannot put the re-plan off for ever.
pub async fn request(db: &impl ConnectionTrait, user_id: Uuid, due: DateTime<Utc>) -> Result<(), StoreError> {
    let sql =
        "INSERT INTO replan_requests (user_id, due_at_ms) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING";
    db.execute_raw(statement(db, sql, [user_id.into(), due.timestamp_millis().into()])).await?;
    Ok(())
}

/// Takes the user's mark when it is due at `now`: `true` once, for the one caller that re-plans.
pub async fn take_due(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = "DELETE FROM replan_requests WHERE user_id = $1 AND due_at_ms <= $2";
    let result = db.execute_raw(statement(db, sql, [user_id.into(), now.timestamp_millis().into()])).await?;
    Ok(result.rows_affected() == 1)
}

/// Users whose mark is due at `now` (at most `limit`), for the periodic tick.
pub async fn due_users(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Uuid>, StoreError> {
    let sql = "SELECT user_id FROM replan_requests WHERE due_at_ms <= $1 ORDER BY due_at_ms LIMIT $2";
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db.query_all_raw(statement(db, sql, [now.timestamp_millis().into(), limit.into()])).await?;
    rows.iter().map(|row| Ok(row.try_get::<Uuid>("", "user_id")?)).collect()
}

/// Users with a block of an open task (at most `limit`): the ones a periodic tick looks at for
/// missed blocks.
pub async fn users_with_open_blocks(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<Uuid>, StoreError> {
    let sql = "SELECT DISTINCT b.user_id FROM task_blocks b JOIN tasks t ON t.id = b.task_id \
        WHERE t.status <> 'done' ORDER BY b.user_id LIMIT $1";
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = db.query_all_raw(statement(db, sql, [limit.into()])).await?;
    rows.iter().map(|row| Ok(row.try_get::<Uuid>("", "user_id")?)).collect()
}

/// Records that a re-plan of the user's blocks on `connection_id` ran at `at` and moved `moved`.
pub async fn record_run(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    connection_id: Uuid,
    at: DateTime<Utc>,
    moved: u32,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO replan_runs (connection_id, user_id, last_replan_at, last_replan_moved) \
        VALUES ($1, $2, $3, $4) ON CONFLICT (connection_id) DO UPDATE SET \
        last_replan_at = excluded.last_replan_at, last_replan_moved = excluded.last_replan_moved";
    let moved = i32::try_from(moved).unwrap_or(i32::MAX);
    db.execute_raw(statement(db, sql, [connection_id.into(), user_id.into(), at.into(), moved.into()]))
        .await?;
    Ok(())
}

/// The last re-plan of each of the user's connections: when, and how many blocks it moved.
pub async fn last_runs(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<HashMap<Uuid, (DateTime<Utc>, u32)>, StoreError> {
    let sql = "SELECT connection_id, last_replan_at, last_replan_moved FROM replan_runs WHERE user_id = $1";
    let rows = db.query_all_raw(statement(db, sql, [user_id.into()])).await?;
    rows.iter()
        .map(|row| {
            let moved: i32 = row.try_get("", "last_replan_moved")?;
            Ok((
                row.try_get("", "connection_id")?,
                (row.try_get("", "last_replan_at")?, u32::try_from(moved).unwrap_or(0)),
            ))
        })
        .collect()
}

/// Adds moves of the user's blocks to the history, inside the caller's transaction (see
/// [`crate::repo::tasks::store_run_blocks`]).
pub(crate) async fn insert_changes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    changes: &[ScheduleChange],
) -> Result<(), StoreError> {
    let sql = "INSERT INTO schedule_changes (id, user_id, task_id, chunk, from_at, to_at, reason, at) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    for change in changes {
        let values: [Value; 8] = [
            change.id.into(),
            user_id.into(),
            change.task_id.into(),
            i32::from(change.chunk).into(),
            change.from.into(),
            change.to.into(),
            change.reason.as_str().into(),
            change.at.into(),
        ];
        db.execute_raw(statement(db, sql, values)).await?;
    }
    Ok(())
}

/// The user's block moves at or after `since` (all when `None`), newest first.
pub async fn changes(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    since: Option<DateTime<Utc>>,
    request: &PageRequest,
) -> Result<Page<ScheduleChange>, StoreError> {
    let mut sql =
        "SELECT id, task_id, chunk, from_at, to_at, reason, at FROM schedule_changes WHERE user_id = $1"
            .to_owned();
    let mut values: Vec<Value> = vec![user_id.into()];
    if let Some(since) = since {
        values.push(since.into());
        sql.push_str(&format!(" AND at >= ${}", values.len()));
    }
    if let Some(cursor) = &request.cursor {
        let (micros, id) = page::decode(cursor)?;
        let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or(StoreError::InvalidCursor)?;
        values.push(at.into());
        let at_index = values.len();
        values.push(id.into());
        let id_index = values.len();
        sql.push_str(&format!(" AND (at < ${at_index} OR (at = ${at_index} AND id < ${id_index}))"));
    }
    values.push(i64::try_from(request.limit + 1).unwrap_or(i64::MAX).into());
    sql.push_str(&format!(" ORDER BY at DESC, id DESC LIMIT ${}", values.len()));
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    let items = rows.iter().map(to_change).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, request.limit, |change| (change.at.timestamp_micros(), change.id)))
}

fn to_change(row: &QueryResult) -> Result<ScheduleChange, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { table: "schedule_changes", message };
    let chunk: i32 = row.try_get("", "chunk")?;
    let reason: String = row.try_get("", "reason")?;
    Ok(ScheduleChange {
        id: row.try_get("", "id")?,
        task_id: row.try_get("", "task_id")?,
        chunk: u16::try_from(chunk).map_err(|_| corrupt(format!("chunk {chunk}")))?,
        from: row.try_get("", "from_at")?,
        to: row.try_get("", "to_at")?,
        reason: ChangeReason::parse("reason", &reason).map_err(|error| corrupt(error.message))?,
        at: row.try_get("", "at")?,
    })
}
