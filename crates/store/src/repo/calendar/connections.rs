//! Calendar connections: the built-in calendar and Google calendars, with their tokens, sync
//! state and push channels.

use chrono::{DateTime, Utc};
use planwright_domain::{
    CalendarConnection, CalendarProvider, ConnectionStatus, EncryptedTokens, WatchChannel, WritesPaused,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};
use uuid::Uuid;

use super::LOCAL_CALENDAR_ID;
use crate::{
    StoreError,
    entities::{calendar_connections as connections, calendar_events as events},
};

const TABLE: &str = "calendar_connections";

/// The user's built-in calendar, created on first use (safe to call concurrently).
pub async fn ensure_local(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<CalendarConnection, StoreError> {
    let now = Utc::now();
    let row = connections::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        provider: Set(CalendarProvider::Local.as_str().to_owned()),
        account_email: Set(None),
        calendar_id: Set(LOCAL_CALENDAR_ID.to_owned()),
        target_calendar_id: Set(None),
        status: Set(ConnectionStatus::Active.as_str().to_owned()),
        access_token_enc: Set(None),
        refresh_token_enc: Set(None),
        token_expires_at: Set(None),
        scopes: Set(None),
        sync_token: Set(None),
        last_synced_at: Set(None),
        last_sync_status: Set(None),
        last_error: Set(None),
        channel_id: Set(None),
        channel_resource_id: Set(None),
        channel_token_hash: Set(None),
        channel_expires_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        focus_time_refused_at: Set(None),
        writes_paused_at: Set(None),
        writes_paused_detail: Set(None),
    };
    connections::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                connections::Column::UserId,
                connections::Column::Provider,
                connections::Column::CalendarId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let row = connections::Entity::find()
        .filter(connections::Column::UserId.eq(user_id))
        .filter(connections::Column::Provider.eq(CalendarProvider::Local.as_str()))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_connection(row)
}

/// The user's connections, oldest first (the built-in calendar first).
pub async fn list_connections(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<Vec<CalendarConnection>, StoreError> {
    connections::Entity::find()
        .filter(connections::Column::UserId.eq(user_id))
        .order_by_asc(connections::Column::CreatedAt)
        .order_by_asc(connections::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_connection)
        .collect()
}

/// The user's connection with this id.
pub async fn find_connection(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<CalendarConnection, StoreError> {
    let row = connections::Entity::find_by_id(id)
        .filter(connections::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_connection(row)
}

/// A connection by id alone, for background work that acts for its owner.
pub async fn find_connection_by_id(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<CalendarConnection, StoreError> {
    let row = connections::Entity::find_by_id(id).one(db).await?.ok_or(StoreError::NotFound)?;
    to_connection(row)
}

/// The connection that opened push channel `channel_id`.
pub async fn find_by_channel(
    db: &impl ConnectionTrait,
    channel_id: &str,
) -> Result<Option<CalendarConnection>, StoreError> {
    connections::Entity::find()
        .filter(connections::Column::ChannelId.eq(channel_id))
        .one(db)
        .await?
        .map(to_connection)
        .transpose()
}

/// Google connections that are active, for the periodic sync.
pub async fn active_google_connections(
    db: &impl ConnectionTrait,
) -> Result<Vec<CalendarConnection>, StoreError> {
    connections::Entity::find()
        .filter(connections::Column::Provider.eq(CalendarProvider::Google.as_str()))
        .filter(connections::Column::Status.eq(ConnectionStatus::Active.as_str()))
        .order_by_asc(connections::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_connection)
        .collect()
}

/// Stores a Google connection after consent: a new one, or the same calendar connected again
/// (tokens replaced, active again, its events and sync state kept).
pub async fn upsert_google(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    account_email: Option<String>,
    calendar_id: &str,
    tokens: EncryptedTokens,
    scopes: String,
) -> Result<CalendarConnection, StoreError> {
    let now = Utc::now();
    let existing = connections::Entity::find()
        .filter(connections::Column::UserId.eq(user_id))
        .filter(connections::Column::Provider.eq(CalendarProvider::Google.as_str()))
        .filter(connections::Column::CalendarId.eq(calendar_id))
        .one(db)
        .await?;
    let row = match existing {
        Some(row) => {
            let mut active: connections::ActiveModel = row.into();
            active.account_email = Set(account_email);
            active.status = Set(ConnectionStatus::Active.as_str().to_owned());
            active.access_token_enc = Set(tokens.access);
            active.refresh_token_enc = Set(tokens.refresh);
            active.token_expires_at = Set(tokens.expires_at);
            active.scopes = Set(Some(scopes));
            active.last_error = Set(None);
            active.updated_at = Set(now);
            active.update(db).await?
        }
        None => {
            connections::ActiveModel {
                id: Set(Uuid::now_v7()),
                user_id: Set(user_id),
                provider: Set(CalendarProvider::Google.as_str().to_owned()),
                account_email: Set(account_email),
                calendar_id: Set(calendar_id.to_owned()),
                target_calendar_id: Set(None),
                status: Set(ConnectionStatus::Active.as_str().to_owned()),
                access_token_enc: Set(tokens.access),
                refresh_token_enc: Set(tokens.refresh),
                token_expires_at: Set(tokens.expires_at),
                scopes: Set(Some(scopes)),
                sync_token: Set(None),
                last_synced_at: Set(None),
                last_sync_status: Set(None),
                last_error: Set(None),
                channel_id: Set(None),
                channel_resource_id: Set(None),
                channel_token_hash: Set(None),
                channel_expires_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                focus_time_refused_at: Set(None),
                writes_paused_at: Set(None),
                writes_paused_detail: Set(None),
            }
            .insert(db)
            .await?
        }
    };
    to_connection(row)
}

/// Replaces a connection's tokens (after a refresh).
pub async fn update_tokens(
    db: &impl ConnectionTrait,
    id: Uuid,
    tokens: EncryptedTokens,
) -> Result<(), StoreError> {
    let result = connections::Entity::update_many()
        .col_expr(connections::Column::AccessTokenEnc, tokens.access.into())
        .col_expr(connections::Column::RefreshTokenEnc, tokens.refresh.into())
        .col_expr(connections::Column::TokenExpiresAt, tokens.expires_at.into())
        .col_expr(connections::Column::UpdatedAt, Utc::now().into())
        .filter(connections::Column::Id.eq(id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Sets a connection's status, with a reason for people.
pub async fn set_status(
    db: &impl ConnectionTrait,
    id: Uuid,
    status: ConnectionStatus,
    error: Option<String>,
) -> Result<(), StoreError> {
    connections::Entity::update_many()
        .col_expr(connections::Column::Status, status.as_str().into())
        .col_expr(connections::Column::LastError, error.into())
        .col_expr(connections::Column::UpdatedAt, Utc::now().into())
        .filter(connections::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records how a sync ended: on success the new sync token (`None` keeps none), on failure the
/// error (the sync token stays).
pub async fn record_sync(
    db: &impl ConnectionTrait,
    id: Uuid,
    outcome: Result<Option<String>, String>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut update = connections::Entity::update_many()
        .col_expr(connections::Column::LastSyncedAt, Some(at).into())
        .col_expr(connections::Column::UpdatedAt, at.into());
    update = match outcome {
        Ok(sync_token) => update
            .col_expr(connections::Column::SyncToken, sync_token.into())
            .col_expr(connections::Column::LastSyncStatus, Some("ok").into())
            .col_expr(connections::Column::LastError, Option::<String>::None.into()),
        Err(error) => update
            .col_expr(connections::Column::LastSyncStatus, Some("error").into())
            .col_expr(connections::Column::LastError, Some(error).into()),
    };
    update.filter(connections::Column::Id.eq(id)).exec(db).await?;
    Ok(())
}

/// Forgets a connection's sync token (the next sync is a full one).
pub async fn clear_sync_token(db: &impl ConnectionTrait, id: Uuid) -> Result<(), StoreError> {
    connections::Entity::update_many()
        .col_expr(connections::Column::SyncToken, Option::<String>::None.into())
        .filter(connections::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A push channel's stored columns (id, resource id, token hash, expiry), all NULL for none.
pub(super) fn channel_columns(
    channel: Option<WatchChannel>,
) -> (Option<String>, Option<String>, Option<String>, Option<DateTime<Utc>>) {
    match channel {
        Some(channel) => {
            (Some(channel.id), Some(channel.resource_id), Some(channel.token_hash), Some(channel.expires_at))
        }
        None => (None, None, None, None),
    }
}

/// Stores (or, with `None`, forgets) a connection's push channel.
pub async fn set_channel(
    db: &impl ConnectionTrait,
    id: Uuid,
    channel: Option<WatchChannel>,
) -> Result<(), StoreError> {
    let (channel_id, resource_id, token_hash, expires_at) = channel_columns(channel);
    connections::Entity::update_many()
        .col_expr(connections::Column::ChannelId, channel_id.into())
        .col_expr(connections::Column::ChannelResourceId, resource_id.into())
        .col_expr(connections::Column::ChannelTokenHash, token_hash.into())
        .col_expr(connections::Column::ChannelExpiresAt, expires_at.into())
        .filter(connections::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Remembers that Google refused a focus-time event on the connection (the first refusal's time
/// is kept).
pub async fn set_focus_time_refused(
    db: &impl ConnectionTrait,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    connections::Entity::update_many()
        .col_expr(connections::Column::FocusTimeRefusedAt, Some(at).into())
        .filter(connections::Column::Id.eq(id))
        .filter(connections::Column::FocusTimeRefusedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Records that Google's usage limits stopped writes to the connection (`Some`), or that writes
/// run again (`None`).
pub async fn set_writes_paused(
    db: &impl ConnectionTrait,
    id: Uuid,
    paused: Option<WritesPaused>,
) -> Result<(), StoreError> {
    let (at, detail) = match paused {
        Some(paused) => (Some(paused.at), Some(paused.detail)),
        None => (None, None),
    };
    connections::Entity::update_many()
        .col_expr(connections::Column::WritesPausedAt, at.into())
        .col_expr(connections::Column::WritesPausedDetail, detail.into())
        .filter(connections::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes one of the user's connections with its events.
pub async fn delete_connection(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    events::Entity::delete_many()
        .filter(events::Column::ConnectionId.eq(id))
        .filter(events::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    crate::entities::connection_calendars::Entity::delete_many()
        .filter(crate::entities::connection_calendars::Column::ConnectionId.eq(id))
        .filter(crate::entities::connection_calendars::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let result = connections::Entity::delete_many()
        .filter(connections::Column::Id.eq(id))
        .filter(connections::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(super) fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

pub(super) fn to_connection(row: connections::Model) -> Result<CalendarConnection, StoreError> {
    let provider = CalendarProvider::parse(&row.provider)
        .ok_or_else(|| corrupt(format!("provider {:?}", row.provider)))?;
    let status =
        ConnectionStatus::parse(&row.status).ok_or_else(|| corrupt(format!("status {:?}", row.status)))?;
    let channel =
        match (row.channel_id, row.channel_resource_id, row.channel_token_hash, row.channel_expires_at) {
            (Some(id), Some(resource_id), Some(token_hash), Some(expires_at)) => {
                Some(WatchChannel { id, resource_id, token_hash, expires_at })
            }
            _ => None,
        };
    Ok(CalendarConnection {
        id: row.id,
        user_id: row.user_id,
        provider,
        account_email: row.account_email,
        target_calendar_id: row.target_calendar_id.unwrap_or_else(|| row.calendar_id.clone()),
        calendar_id: row.calendar_id,
        status,
        tokens: EncryptedTokens {
            access: row.access_token_enc,
            refresh: row.refresh_token_enc,
            expires_at: row.token_expires_at,
        },
        scopes: row.scopes,
        sync_token: row.sync_token,
        last_synced_at: row.last_synced_at,
        last_sync_status: row.last_sync_status,
        last_error: row.last_error,
        channel,
        focus_time_refused_at: row.focus_time_refused_at,
        writes_paused: match (row.writes_paused_at, row.writes_paused_detail) {
            (Some(at), detail) => Some(WritesPaused { at, detail: detail.unwrap_or_default() }),
            (None, _) => None,
        },
        created_at: row.created_at,
    })
}
