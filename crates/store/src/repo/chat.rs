//! Chat sessions and their messages.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use planwright_domain::{ChatMessage, ChatRole, ChatSession, ChatSource, NewChatMessage, TokenUsage};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{chat_messages, chat_sessions},
    repo::page::{self, Page, PageRequest},
};

const TABLE: &str = "chat_messages";

/// Starts a session with its first message, in one transaction.
#[tracing::instrument(skip(db, title, first))]
pub async fn create_session(
    db: &crate::Conn,
    user_id: Uuid,
    title: String,
    first: NewChatMessage,
) -> Result<(ChatSession, ChatMessage), StoreError> {
    let now = now();
    let txn = crate::database::begin_write(db).await?;
    let session = chat_sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        title: Set(title),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let message = insert_message(&txn, user_id, session.id, first, now).await?;
    txn.commit().await?;
    Ok((to_session(session, 1), message))
}

/// Adds a message to one of the caller's sessions; [`StoreError::NotFound`] when the session is
/// not theirs (or gone).
#[tracing::instrument(skip(db, message))]
pub async fn add_message(
    db: &crate::Conn,
    user_id: Uuid,
    session_id: Uuid,
    message: NewChatMessage,
) -> Result<ChatMessage, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    let message = append_message(&txn, user_id, session_id, message, now()).await?;
    txn.commit().await?;
    Ok(message)
}

/// Inside a write transaction: marks the caller's session changed at `at` and adds `message` to
/// it; [`StoreError::NotFound`] when the session is not theirs (or gone).
pub(crate) async fn append_message(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
    message: NewChatMessage,
    at: DateTime<Utc>,
) -> Result<ChatMessage, StoreError> {
    let touched = chat_sessions::Entity::update_many()
        .col_expr(chat_sessions::Column::UpdatedAt, Expr::value(at))
        .filter(chat_sessions::Column::Id.eq(session_id))
        .filter(chat_sessions::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    if touched.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    insert_message(txn, user_id, session_id, message, at).await
}

/// The caller's session with this id.
pub async fn find_session(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<ChatSession, StoreError> {
    let row = chat_sessions::Entity::find_by_id(session_id)
        .filter(chat_sessions::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let counts = message_counts(db, &[row.id]).await?;
    let count = counts.get(&row.id).copied().unwrap_or(0);
    Ok(to_session(row, count))
}

/// The caller's sessions, most recently active first.
pub async fn list_sessions(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    request: &PageRequest,
) -> Result<Page<ChatSession>, StoreError> {
    let mut query = chat_sessions::Entity::find().filter(chat_sessions::Column::UserId.eq(user_id));
    if let Some(cursor) = &request.cursor {
        let (micros, last_id) = page::decode(cursor)?;
        let last = DateTime::from_timestamp_micros(micros).ok_or(StoreError::InvalidCursor)?;
        query = query.filter(
            Condition::any().add(chat_sessions::Column::UpdatedAt.lt(last)).add(
                Condition::all()
                    .add(chat_sessions::Column::UpdatedAt.eq(last))
                    .add(chat_sessions::Column::Id.lt(last_id)),
            ),
        );
    }
    let rows = query
        .order_by_desc(chat_sessions::Column::UpdatedAt)
        .order_by_desc(chat_sessions::Column::Id)
        .limit(request.limit + 1)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let counts = message_counts(db, &ids).await?;
    let sessions = rows
        .into_iter()
        .map(|row| {
            let count = counts.get(&row.id).copied().unwrap_or(0);
            to_session(row, count)
        })
        .collect();
    Ok(Page::from_rows(sessions, request.limit, |session: &ChatSession| {
        (session.updated_at.timestamp_micros(), session.id)
    }))
}

/// The last `limit` messages of one of the caller's sessions, oldest first, and whether older
/// ones exist. [`StoreError::NotFound`] when the session is not theirs.
pub async fn recent_messages(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
    limit: u64,
) -> Result<(Vec<ChatMessage>, bool), StoreError> {
    let mut rows = chat_messages::Entity::find()
        .filter(chat_messages::Column::SessionId.eq(session_id))
        .filter(chat_messages::Column::UserId.eq(user_id))
        .order_by_desc(chat_messages::Column::CreatedAt)
        .order_by_desc(chat_messages::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    // Messages of the caller in the session prove the session is theirs; only an empty answer
    // needs the session itself (an empty session, or none of the caller's).
    if rows.is_empty() {
        let exists = chat_sessions::Entity::find_by_id(session_id)
            .filter(chat_sessions::Column::UserId.eq(user_id))
            .select_only()
            .column(chat_sessions::Column::Id)
            .into_tuple::<Uuid>()
            .one(db)
            .await?
            .is_some();
        if !exists {
            return Err(StoreError::NotFound);
        }
    }
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    rows.reverse();
    let messages = rows.into_iter().map(to_message).collect::<Result<Vec<_>, _>>()?;
    Ok((messages, more))
}

/// Deletes one of the caller's sessions and its messages.
pub async fn delete_session(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
) -> Result<(), StoreError> {
    // Actions and messages go first so the delete does not depend on the database enforcing
    // the cascade.
    crate::entities::chat_actions::Entity::delete_many()
        .filter(crate::entities::chat_actions::Column::SessionId.eq(session_id))
        .filter(crate::entities::chat_actions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    chat_messages::Entity::delete_many()
        .filter(chat_messages::Column::SessionId.eq(session_id))
        .filter(chat_messages::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    let deleted = chat_sessions::Entity::delete_many()
        .filter(chat_sessions::Column::Id.eq(session_id))
        .filter(chat_sessions::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Timestamps are kept to the microsecond, the finest both databases store, so a session's
/// `updated_at` reads back exactly as written and keyset cursors stay exact.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

pub(crate) async fn insert_message(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
    message: NewChatMessage,
    at: DateTime<Utc>,
) -> Result<ChatMessage, StoreError> {
    let sources = serde_json::to_value(&message.sources).map_err(|e| corrupt(e.to_string()))?;
    let usage = message
        .usage
        .map(|usage| serde_json::to_value(usage).map_err(|e| corrupt(e.to_string())))
        .transpose()?;
    let row = chat_messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        user_id: Set(user_id),
        role: Set(message.role.as_str().to_owned()),
        content: Set(message.content),
        sources: Set(sources),
        usage: Set(usage),
        model: Set(message.model),
        created_at: Set(at),
    }
    .insert(db)
    .await?;
    to_message(row)
}

#[derive(Debug, FromQueryResult)]
struct SessionCount {
    session_id: Uuid,
    count: i64,
}

async fn message_counts(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, u64>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = chat_messages::Entity::find()
        .select_only()
        .column(chat_messages::Column::SessionId)
        .column_as(chat_messages::Column::Id.count(), "count")
        .filter(chat_messages::Column::SessionId.is_in(ids.iter().copied()))
        .group_by(chat_messages::Column::SessionId)
        .into_model::<SessionCount>()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.session_id, u64::try_from(row.count).unwrap_or(0))).collect())
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

fn to_session(row: chat_sessions::Model, message_count: u64) -> ChatSession {
    ChatSession {
        id: row.id,
        title: row.title,
        created_at: row.created_at,
        updated_at: row.updated_at,
        message_count,
    }
}

fn to_message(row: chat_messages::Model) -> Result<ChatMessage, StoreError> {
    let role = ChatRole::parse(&row.role).ok_or_else(|| corrupt(format!("unknown role {:?}", row.role)))?;
    let sources: Vec<ChatSource> = serde_json::from_value(row.sources).map_err(|e| corrupt(e.to_string()))?;
    let usage: Option<TokenUsage> =
        row.usage.map(serde_json::from_value).transpose().map_err(|e| corrupt(e.to_string()))?;
    Ok(ChatMessage {
        id: row.id,
        session_id: row.session_id,
        role,
        content: row.content,
        sources,
        usage,
        model: row.model,
        created_at: row.created_at,
    })
}
