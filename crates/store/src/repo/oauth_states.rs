//! Pending OAuth authorisations: the `state` of a consent screen, stored hashed, single use,
//! bound to the user who started it.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::{StoreError, entities::oauth_states};

/// A pending authorisation as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PendingAuthorization {
    /// Who started it.
    pub user_id: Uuid,
    /// The PKCE verifier's ciphertext.
    pub pkce_verifier_enc: String,
    /// Where the person goes afterwards.
    pub redirect_to: String,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("user_id", &self.user_id)
            .field("redirect_to", &self.redirect_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Stores a pending authorisation under the hash of its `state`.
pub async fn create(
    db: &impl ConnectionTrait,
    state_hash: &str,
    pending: PendingAuthorization,
) -> Result<(), StoreError> {
    oauth_states::ActiveModel {
        state_hash: Set(state_hash.to_owned()),
        user_id: Set(pending.user_id),
        pkce_verifier_enc: Set(pending.pkce_verifier_enc),
        redirect_to: Set(pending.redirect_to),
        expires_at: Set(pending.expires_at),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Takes the pending authorisation with this `state` hash: it is deleted, so only one caller ever
/// gets it (expired ones too; the caller checks `expires_at`).
pub async fn take(
    db: &impl ConnectionTrait,
    state_hash: &str,
) -> Result<Option<PendingAuthorization>, StoreError> {
    let Some(row) = oauth_states::Entity::find_by_id(state_hash.to_owned()).one(db).await? else {
        return Ok(None);
    };
    let deleted = oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::StateHash.eq(state_hash))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        // Another request took it between the read and the delete.
        return Ok(None);
    }
    Ok(Some(PendingAuthorization {
        user_id: row.user_id,
        pkce_verifier_enc: row.pkce_verifier_enc,
        redirect_to: row.redirect_to,
        expires_at: row.expires_at,
    }))
}

/// Deletes authorisations that expired before `now` (housekeeping).
pub async fn prune(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, StoreError> {
    Ok(oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected)
}
