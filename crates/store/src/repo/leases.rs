//! Leases shared by every replica: a named piece of work (one connection's sync, one token
//! refresh) is done by one holder at a time. A lease expires on its own, so a holder that dies
//! blocks nobody for long.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::StoreError;

/// Takes the lease `name` for `holder` until `until`, if nobody else holds an unexpired one.
/// One atomic upsert; `true` when taken (or already held by `holder`, whose lease is extended).
pub async fn acquire(
    db: &impl ConnectionTrait,
    name: &str,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let sql = r#"
        INSERT INTO job_leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
        WHERE job_leases.expires_at_ms <= $4 OR job_leases.holder = excluded.holder"#;
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [name.into(), holder.into(), until.timestamp_millis().into(), now.timestamp_millis().into()],
    );
    Ok(db.execute_raw(statement).await?.rows_affected() == 1)
}

/// Gives the lease back (only if `holder` still holds it).
pub async fn release(db: &impl ConnectionTrait, name: &str, holder: &str) -> Result<(), StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM job_leases WHERE name = $1 AND holder = $2",
        [name.into(), holder.into()],
    );
    db.execute_raw(statement).await?;
    Ok(())
}
