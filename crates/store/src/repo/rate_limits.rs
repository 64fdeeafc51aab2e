//! Fixed-window counters in the database, so every replica enforces the same limit.

use sea_orm::{ConnectionTrait, Statement};

use crate::StoreError;

/// The state of one bucket after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Hits in the current window, this one included.
    pub hits: i64,
    /// Unix second at which the current window began.
    pub window_start: i64,
}

/// Counts one hit on `bucket` in the window of `window_secs` that contains `now_unix`.
///
/// One atomic upsert: concurrent requests on any replica never lose a count. Windows are aligned
/// to multiples of `window_secs`, so replicas agree on where a window starts.
pub async fn hit(
    db: &impl ConnectionTrait,
    bucket: &str,
    window_secs: i64,
    now_unix: i64,
) -> Result<WindowCount, StoreError> {
    let window_secs = window_secs.max(1);
    let window_start = now_unix - now_unix.rem_euclid(window_secs);
    // `$n` placeholders work on both engines (SQLite binds `$n` by number).
    let sql = r#"
        INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1)
        ON CONFLICT (bucket) DO UPDATE SET
            hits = CASE WHEN rate_limits.window_start >= excluded.window_start
                        THEN rate_limits.hits + 1 ELSE 1 END,
            window_start = CASE WHEN rate_limits.window_start >= excluded.window_start
                        THEN rate_limits.window_start ELSE excluded.window_start END
        RETURNING hits, window_start"#;
    let statement =
        Statement::from_sql_and_values(db.get_database_backend(), sql, [bucket.into(), window_start.into()]);
    let row = db.query_one_raw(statement).await?.ok_or(StoreError::NotFound)?;
    Ok(WindowCount { hits: row.try_get("", "hits")?, window_start: row.try_get("", "window_start")? })
}

/// Removes buckets whose window ended before `older_than_unix` (housekeeping).
pub async fn prune(db: &impl ConnectionTrait, older_than_unix: i64) -> Result<u64, StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM rate_limits WHERE window_start < $1",
        [older_than_unix.into()],
    );
    Ok(db.execute_raw(statement).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};

    use super::*;
    use crate::Database;

    async fn database() -> Database {
        let db =
            Database::connect("sqlite::memory:", 1, std::time::Duration::from_secs(5)).await.expect("sqlite");
        Migrator::up(db.writer(), None).await.expect("migrations");
        db
    }

    #[tokio::test]
    async fn hits_count_up_within_a_window_and_reset_in_the_next() {
        let db = database().await;
        let first = hit(db.conn(), "login:ip:1", 60, 1_000_020).await.expect("hit");
        assert_eq!(first, WindowCount { hits: 1, window_start: 1_000_020 });
        let second = hit(db.conn(), "login:ip:1", 60, 1_000_030).await.expect("hit");
        assert_eq!(second.hits, 2);
        let other = hit(db.conn(), "login:ip:2", 60, 1_000_030).await.expect("hit");
        assert_eq!(other.hits, 1, "buckets are independent");
        let next_window = hit(db.conn(), "login:ip:1", 60, 1_000_080).await.expect("hit");
        assert_eq!(next_window.hits, 1);
        assert!(next_window.window_start > first.window_start);
    }

    #[tokio::test]
    async fn a_late_clock_does_not_reset_a_newer_window() {
        let db = database().await;
        hit(db.conn(), "b", 60, 6_010).await.expect("hit");
        let late = hit(db.conn(), "b", 60, 5_990).await.expect("hit");
        assert_eq!(late, WindowCount { hits: 2, window_start: 6_000 });
    }

    #[tokio::test]
    async fn prune_removes_only_old_windows() {
        let db = database().await;
        hit(db.conn(), "old", 60, 600).await.expect("hit");
        hit(db.conn(), "new", 60, 6_000).await.expect("hit");
        assert_eq!(prune(db.conn(), 3_000).await.expect("prune"), 1);
    }
}
