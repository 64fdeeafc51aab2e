//! Idempotency keys: the first response to a keyed request, kept per user so that a retry of the
//! same request gets the same answer instead of doing the work twice.
//!
//! A key is claimed by inserting its row before the work starts (no status yet: in progress);
//! the primary key `(user_id, key)` makes the claim atomic on both engines, so of two concurrent
//! requests exactly one works. The row is then completed with the response, or released when the
//! work failed so that a retry may try again.

use sea_orm::{ConnectionTrait, Statement, Value};
use uuid::Uuid;

use crate::StoreError;

/// A key to claim.
#[derive(Debug, Clone, Copy)]
pub struct NewKey<'a> {
    /// The caller.
    pub user_id: Uuid,
    /// The `Idempotency-Key` as sent.
    pub key: &'a str,
    /// What it is used for (`create_plan`).
    pub operation: &'a str,
    /// A digest of the request, to tell a retry from another request under the same key.
    pub fingerprint: &'a str,
    /// Unix seconds now.
    pub now: i64,
    /// Unix seconds after which the key is forgotten.
    pub expires_at: i64,
    /// An unfinished claim made before this (Unix seconds) is taken to be abandoned (its
    /// process died) and may be claimed again.
    pub stale_before: i64,
}

/// A key already claimed by an earlier request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// What it was used for.
    pub operation: String,
    /// The digest of the first request.
    pub fingerprint: String,
    /// The stored response, once the first request finished.
    pub response: Option<StoredResponse>,
}

/// The response of the first request under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// Its `Location` header, if any.
    pub location: Option<String>,
    /// Its JSON body.
    pub body: String,
}

/// The outcome of [`claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its old row had expired): the caller does the work.
    Claimed,
    /// The key is taken by an earlier request, finished or not.
    Taken(StoredKey),
}

/// Claims `new.key` for `new.user_id`, or returns what an earlier request left under it.
pub async fn claim(db: &impl ConnectionTrait, new: &NewKey<'_>) -> Result<Claim, StoreError> {
    let backend = db.get_database_backend();
    // An expired or abandoned row is removed and the insert retried; a key that keeps changing
    // hands that fast is given up on.
    for _ in 0..3 {
        let insert = Statement::from_sql_and_values(
            backend,
            r#"INSERT INTO idempotency_keys
                   (user_id, key, operation, fingerprint, created_at, expires_at)
               VALUES ($1, $2, $3, $4, $5, $6)
               ON CONFLICT (user_id, key) DO NOTHING"#,
            [
                new.user_id.into(),
                new.key.into(),
                new.operation.into(),
                new.fingerprint.into(),
                new.now.into(),
                new.expires_at.into(),
            ],
        );
        if db.execute_raw(insert).await?.rows_affected() == 1 {
            return Ok(Claim::Claimed);
        }
        let select = Statement::from_sql_and_values(
            backend,
            r#"SELECT operation, fingerprint, status, location, body, created_at, expires_at
               FROM idempotency_keys WHERE user_id = $1 AND key = $2"#,
            [new.user_id.into(), new.key.into()],
        );
        let Some(row) = db.query_one_raw(select).await? else {
            continue; // released in between: claim again
        };
        let status: Option<i32> = row.try_get("", "status")?;
        let created_at: i64 = row.try_get("", "created_at")?;
        let expires_at: i64 = row.try_get("", "expires_at")?;
        let abandoned = status.is_none() && created_at < new.stale_before;
        if expires_at <= new.now || abandoned {
            // Only that very row: a concurrent request may have replaced it already.
            let delete = Statement::from_sql_and_values(
                backend,
                "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND created_at = $3",
                [new.user_id.into(), new.key.into(), created_at.into()],
            );
            db.execute_raw(delete).await?;
            continue;
        }
        let body: Option<String> = row.try_get("", "body")?;
        let response = match (status, body) {
            (Some(status), Some(body)) => Some(StoredResponse {
                status: u16::try_from(status).unwrap_or(500),
                location: row.try_get("", "location")?,
                body,
            }),
            _ => None,
        };
        return Ok(Claim::Taken(StoredKey {
            operation: row.try_get("", "operation")?,
            fingerprint: row.try_get("", "fingerprint")?,
            response,
        }));
    }
    Err(StoreError::Conflict("the idempotency key kept changing while it was claimed"))
}

/// Stores the response of the request that claimed the key.
pub async fn complete(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE idempotency_keys SET status = $3, location = $4, body = $5 WHERE user_id = $1 AND key = $2",
        [
            user_id.into(),
            key.into(),
            i32::from(response.status).into(),
            Value::from(response.location.clone()),
            response.body.as_str().into(),
        ],
    );
    db.execute_raw(statement).await?;
    Ok(())
}

/// Gives up an unfinished claim (the work failed), so that a retry may do the work.
pub async fn release(db: &impl ConnectionTrait, user_id: Uuid, key: &str) -> Result<(), StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL",
        [user_id.into(), key.into()],
    );
    db.execute_raw(statement).await?;
    Ok(())
}

/// Removes every key that expired before `now_unix` (housekeeping); returns how many.
pub async fn prune(db: &impl ConnectionTrait, now_unix: i64) -> Result<u64, StoreError> {
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        "DELETE FROM idempotency_keys WHERE expires_at <= $1",
        [now_unix.into()],
    );
    Ok(db.execute_raw(statement).await?.rows_affected())
}

#[cfg(test)]
mod tests {
    use migration::{Migrator, MigratorTrait};
    use planwright_domain::{Email, NewUser, TimeZone, WorkingHours};

    use super::*;
    use crate::{Database, repo::users};

    async fn database_and_user() -> (Database, Uuid) {
        let db =
            Database::connect("sqlite::memory:", 1, std::time::Duration::from_secs(5)).await.expect("sqlite");
        Migrator::up(db.writer(), None).await.expect("migrations");
        let user = users::create(
            db.conn(),
            NewUser {
                email: Email::parse("keys@example.com").expect("email"),
                password_hash: "x".to_owned(),
                name: None,
                timezone: TimeZone::default(),
                working_hours: WorkingHours::default(),
            },
        )
        .await
        .expect("user");
        (db, user.id)
    }

    fn key(user_id: Uuid, fingerprint: &str, now: i64) -> NewKey<'_> {
        NewKey {
            user_id,
            key: "k1",
            operation: "create_plan",
            fingerprint,
            now,
            expires_at: now + 100,
            stale_before: now - 50,
        }
    }

    #[tokio::test]
    async fn a_key_is_claimed_once_then_replayed_once_complete() {
        let (db, user) = database_and_user().await;
        assert_eq!(claim(db.conn(), &key(user, "f", 1_000)).await.expect("claim"), Claim::Claimed);
        let Claim::Taken(running) = claim(db.conn(), &key(user, "f", 1_001)).await.expect("claim") else {
            panic!("the key is taken");
        };
        assert_eq!(running.response, None, "in progress");
        let response =
            StoredResponse { status: 201, location: Some("/p/1".to_owned()), body: "{}".to_owned() };
        complete(db.conn(), user, "k1", &response).await.expect("complete");
        let Claim::Taken(done) = claim(db.conn(), &key(user, "other", 1_002)).await.expect("claim") else {
            panic!("the key is taken");
        };
        assert_eq!(done.fingerprint, "f");
        assert_eq!(done.response, Some(response));
    }

    #[tokio::test]
    async fn a_released_expired_or_abandoned_key_may_be_claimed_again() {
        let (db, user) = database_and_user().await;
        claim(db.conn(), &key(user, "f", 1_000)).await.expect("claim");
        release(db.conn(), user, "k1").await.expect("release");
        assert_eq!(claim(db.conn(), &key(user, "f", 1_001)).await.expect("claim"), Claim::Claimed);
        // Still at work 60 s later: past `stale_before`, so taken to be abandoned.
        assert_eq!(claim(db.conn(), &key(user, "f", 1_061)).await.expect("claim"), Claim::Claimed);
        let response = StoredResponse { status: 201, location: None, body: "{}".to_owned() };
        complete(db.conn(), user, "k1", &response).await.expect("complete");
        assert!(matches!(claim(db.conn(), &key(user, "f", 1_100)).await.expect("claim"), Claim::Taken(_)));
        // Past its expiry (1_061 + 100), the finished key is forgotten.
        assert_eq!(claim(db.conn(), &key(user, "g", 1_200)).await.expect("claim"), Claim::Claimed);
        assert_eq!(prune(db.conn(), 1_400).await.expect("prune"), 1);
    }
}
