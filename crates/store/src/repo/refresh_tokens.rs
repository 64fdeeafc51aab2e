//! Refresh tokens: stored by hash, rotated on use, revoked by family when a used one comes back.

use chrono::{DateTime, Utc};
use planwright_domain::RefreshTokenRecord;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::Expr,
};
use uuid::Uuid;

use crate::{StoreError, entities::refresh_tokens};

/// Stores a new token of `family_id` by its hash.
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family_id: Uuid,
    token_hash: &str,
    expires_at: DateTime<Utc>,
) -> Result<RefreshTokenRecord, StoreError> {
    let row = refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family_id),
        user_id: Set(user_id),
        token_hash: Set(token_hash.to_owned()),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await
    .map_err(StoreError::on_unique("refresh token hash collision"))?;
    Ok(to_record(row))
}

/// The token with this hash, revoked or not.
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    token_hash: &str,
) -> Result<RefreshTokenRecord, StoreError> {
    refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .map(to_record)
        .ok_or(StoreError::NotFound)
}

/// Marks one live token used. Returns `false` when another request revoked it first, so two
/// concurrent refreshes with the same token cannot both succeed.
async fn revoke_if_live(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Spends the live token `spent` and stores its successor in the same family, atomically.
/// Returns `None` when the token was already spent (another request won the race): nothing
/// changes then.
pub async fn rotate(
    db: &crate::Conn,
    spent: &RefreshTokenRecord,
    successor_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Option<RefreshTokenRecord>, StoreError> {
    // The write comes first: on SQLite a transaction that reads and then writes can meet another
    // doing the same and fail with SQLITE_BUSY instead of waiting.
    let txn = crate::database::begin_write(db).await?;
    if !revoke_if_live(&txn, spent.id, now).await? {
        txn.rollback().await?;
        return Ok(None);
    }
    let successor = insert(&txn, spent.user_id, spent.family_id, successor_hash, expires_at).await?;
    txn.commit().await?;
    Ok(Some(successor))
}

/// Revokes every live token of a family (a reused token means the family leaked).
pub async fn revoke_family(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    family_id: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let result = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes tokens that expired before `before` (housekeeping; they can never be used again).
pub async fn delete_expired(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<u64, StoreError> {
    let result = refresh_tokens::Entity::delete_many()
        .filter(refresh_tokens::Column::ExpiresAt.lt(before))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

fn to_record(row: refresh_tokens::Model) -> RefreshTokenRecord {
    RefreshTokenRecord {
        id: row.id,
        family_id: row.family_id,
        user_id: row.user_id,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
    }
}
