//! Which calendars of a connection's account count as busy time and which one receives the
//! blocks. The target's sync state lives on the connection row; every other busy calendar has a
//! `connection_calendars` row with its own sync token and push channel.

use chrono::{DateTime, Utc};
use planwright_domain::{BusyCalendar, CalendarConnection, WatchChannel};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::{EventSource, connections::to_connection, delete_foreign_events};
use crate::{
    StoreError,
    entities::{calendar_connections as connections, connection_calendars as calendars},
};

/// The calendars besides the target that count as busy time for a connection, by id.
pub async fn busy_calendars(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
) -> Result<Vec<BusyCalendar>, StoreError> {
    Ok(calendars::Entity::find()
        .filter(calendars::Column::ConnectionId.eq(connection_id))
        .order_by_asc(calendars::Column::CalendarId)
        .all(db)
        .await?
        .into_iter()
        .map(to_busy)
        .collect())
}

/// What [`select_calendars`] changed that the caller must finish at the provider.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelectionApplied {
    /// The connection as it is now.
    pub connection: Option<CalendarConnection>,
    /// Push channels of calendars no longer watched: stop them at the provider.
    pub stopped_channels: Vec<WatchChannel>,
    /// Events removed because their calendar no longer counts as busy time.
    pub removed_events: u64,
}

/// Stores a selection in one transaction: `target` receives the blocks and `busy` (without the
/// target) also count as busy time. A calendar keeps its sync state when its role changes (the
/// old target's token and channel move to its busy row, a busy calendar's move to the connection
/// when it becomes the target); one that no longer counts loses its row and the events synced
/// from it (Planwright's own blocks stay).
pub async fn select_calendars(
    db: &crate::Conn,
    user_id: Uuid,
    connection_id: Uuid,
    target: &str,
    busy: &[String],
) -> Result<SelectionApplied, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    let row = connections::Entity::find_by_id(connection_id)
        .filter(connections::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let old_target = row.target_calendar_id.clone().unwrap_or_else(|| row.calendar_id.clone());
    let mut rows =
        calendars::Entity::find().filter(calendars::Column::ConnectionId.eq(connection_id)).all(&txn).await?;
    let now = Utc::now();
    let mut applied = SelectionApplied::default();
    let keeps = |id: &str| busy.iter().any(|kept| kept == id);
    let mut connection_row = row.clone();
    if target != old_target {
        let taken = rows.iter().position(|busy_row| busy_row.calendar_id == target).map(|at| rows.remove(at));
        let old_channel = channel_of(
            row.channel_id.clone(),
            row.channel_resource_id.clone(),
            row.channel_token_hash.clone(),
            row.channel_expires_at,
        );
        if keeps(&old_target) {
            calendars::ActiveModel {
                connection_id: Set(connection_id),
                calendar_id: Set(old_target.clone()),
                user_id: Set(user_id),
                sync_token: Set(row.sync_token.clone()),
                channel_id: Set(row.channel_id.clone()),
                channel_resource_id: Set(row.channel_resource_id.clone()),
                channel_token_hash: Set(row.channel_token_hash.clone()),
                channel_expires_at: Set(row.channel_expires_at),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
        } else {
            applied.stopped_channels.extend(old_channel);
            applied.removed_events +=
                delete_foreign_events(&txn, EventSource { connection_id, calendar_id: &old_target }).await?;
        }
        let mut active = row.into_active_model();
        active.target_calendar_id = Set((target != connection_row.calendar_id).then(|| target.to_owned()));
        active.sync_token = Set(taken.as_ref().and_then(|taken| taken.sync_token.clone()));
        active.channel_id = Set(taken.as_ref().and_then(|taken| taken.channel_id.clone()));
        active.channel_resource_id = Set(taken.as_ref().and_then(|taken| taken.channel_resource_id.clone()));
        active.channel_token_hash = Set(taken.as_ref().and_then(|taken| taken.channel_token_hash.clone()));
        active.channel_expires_at = Set(taken.as_ref().and_then(|taken| taken.channel_expires_at));
        active.updated_at = Set(now);
        connection_row = active.update(&txn).await?;
        if let Some(taken) = taken {
            calendars::Entity::delete_by_id((connection_id, taken.calendar_id)).exec(&txn).await?;
        }
    }
    for stale in rows.iter().filter(|busy_row| !keeps(&busy_row.calendar_id)) {
        calendars::Entity::delete_by_id((connection_id, stale.calendar_id.clone())).exec(&txn).await?;
        applied.stopped_channels.extend(to_busy(stale.clone()).channel);
        applied.removed_events +=
            delete_foreign_events(&txn, EventSource { connection_id, calendar_id: &stale.calendar_id })
                .await?;
    }
    for id in busy.iter().filter(|id| id.as_str() != target && id.as_str() != old_target) {
        if rows.iter().any(|busy_row| &busy_row.calendar_id == id) {
            continue;
        }
        calendars::ActiveModel {
            connection_id: Set(connection_id),
            calendar_id: Set(id.clone()),
            user_id: Set(user_id),
            sync_token: Set(None),
            channel_id: Set(None),
            channel_resource_id: Set(None),
            channel_token_hash: Set(None),
            channel_expires_at: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    applied.connection = Some(to_connection(connection_row)?);
    Ok(applied)
}

/// Records a busy calendar's sync: its new sync token (`None` forgets it: the next sync is full).
pub async fn record_calendar_sync(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    calendar_id: &str,
    sync_token: Option<String>,
) -> Result<(), StoreError> {
    calendars::Entity::update_many()
        .col_expr(calendars::Column::SyncToken, sync_token.into())
        .col_expr(calendars::Column::UpdatedAt, Utc::now().into())
        .filter(calendars::Column::ConnectionId.eq(connection_id))
        .filter(calendars::Column::CalendarId.eq(calendar_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Stores (or, with `None`, forgets) a busy calendar's push channel.
pub async fn set_calendar_channel(
    db: &impl ConnectionTrait,
    connection_id: Uuid,
    calendar_id: &str,
    channel: Option<WatchChannel>,
) -> Result<(), StoreError> {
    let (channel_id, resource_id, token_hash, expires_at) = super::connections::channel_columns(channel);
    calendars::Entity::update_many()
        .col_expr(calendars::Column::ChannelId, channel_id.into())
        .col_expr(calendars::Column::ChannelResourceId, resource_id.into())
        .col_expr(calendars::Column::ChannelTokenHash, token_hash.into())
        .col_expr(calendars::Column::ChannelExpiresAt, expires_at.into())
        .filter(calendars::Column::ConnectionId.eq(connection_id))
        .filter(calendars::Column::CalendarId.eq(calendar_id))
        .exec(db)
        .await?;
    Ok(())
}

/// The busy calendar (with its connection) that opened push channel `channel_id`.
pub async fn find_busy_calendar_by_channel(
    db: &impl ConnectionTrait,
    channel_id: &str,
) -> Result<Option<(CalendarConnection, BusyCalendar)>, StoreError> {
    let Some(row) =
        calendars::Entity::find().filter(calendars::Column::ChannelId.eq(channel_id)).one(db).await?
    else {
        return Ok(None);
    };
    let Some(connection) = connections::Entity::find_by_id(row.connection_id).one(db).await? else {
        return Ok(None);
    };
    Ok(Some((to_connection(connection)?, to_busy(row))))
}

fn channel_of(
    id: Option<String>,
    resource_id: Option<String>,
    token_hash: Option<String>,
    expires_at: Option<DateTime<Utc>>,
) -> Option<WatchChannel> {
    match (id, resource_id, token_hash, expires_at) {
        (Some(id), Some(resource_id), Some(token_hash), Some(expires_at)) => {
            Some(WatchChannel { id, resource_id, token_hash, expires_at })
        }
        _ => None,
    }
}

fn to_busy(row: calendars::Model) -> BusyCalendar {
    BusyCalendar {
        connection_id: row.connection_id,
        channel: channel_of(
            row.channel_id,
            row.channel_resource_id,
            row.channel_token_hash,
            row.channel_expires_at,
        ),
        calendar_id: row.calendar_id,
        sync_token: row.sync_token,
    }
}
