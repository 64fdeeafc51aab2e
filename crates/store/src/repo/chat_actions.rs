//! Proposed chat actions: stored with the assistant message that proposed them, claimed once
//! by a confirm, then holding their result.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use planwright_domain::{
    ActionKind, ActionStatus, ChatAction, ChatMessage, NewChatAction, NewChatMessage, TokenUsage,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::chat_actions,
    repo::{
        ai_usage,
        chat::{append_message, now},
    },
};

const TABLE: &str = "chat_actions";

/// How long a confirm may hold an action before another confirm may take it over (the first
/// one crashed or was cut off).
pub const CLAIM_TIMEOUT: Duration = Duration::minutes(10);

/// Adds an assistant message with the actions it proposes and adds the AI usage `charge` (a day
/// and what was used) to that day's count ([`ai_usage::add_usage`]), all in one transaction (one
/// write instead of two); [`StoreError::NotFound`] when the session is not the caller's (or
/// gone), and then nothing is counted either.
#[tracing::instrument(skip(db, message, actions, charge), fields(actions = actions.len()))]
pub async fn add_message_with_actions(
    db: &crate::Conn,
    user_id: Uuid,
    session_id: Uuid,
    message: NewChatMessage,
    actions: Vec<NewChatAction>,
    charge: (NaiveDate, &TokenUsage),
) -> Result<(ChatMessage, Vec<ChatAction>), StoreError> {
    let at = now();
    let txn = crate::database::begin_write(db).await?;
    let message = append_message(&txn, user_id, session_id, message, at).await?;
    let mut stored = Vec::with_capacity(actions.len());
    for (position, action) in actions.into_iter().enumerate() {
        let row = chat_actions::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            session_id: Set(session_id),
            message_id: Set(message.id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            kind: Set(action.kind.as_str().to_owned()),
            arguments: Set(action.arguments),
            summary: Set(action.summary),
            preview: Set(action.preview),
            target_version: Set(action.target_version),
            status: Set(ActionStatus::Proposed.as_str().to_owned()),
            result: Set(None),
            created_at: Set(at),
            decided_at: Set(None),
        }
        .insert(&txn)
        .await?;
        stored.push(to_action(row)?);
    }
    ai_usage::add_usage(&txn, user_id, charge.0, charge.1).await?; // last: see its doc
    txn.commit().await?;
    Ok((message, stored))
}

/// The caller's action in one of their sessions; [`StoreError::NotFound`] otherwise.
pub async fn find(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    session_id: Uuid,
    action_id: Uuid,
) -> Result<ChatAction, StoreError> {
    let row = chat_actions::Entity::find_by_id(action_id)
        .filter(chat_actions::Column::UserId.eq(user_id))
        .filter(chat_actions::Column::SessionId.eq(session_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_action(row)
}

/// The actions of these messages (the caller's only), by message, in the order proposed.
pub async fn for_messages(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    message_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ChatAction>>, StoreError> {
    let mut by_message: HashMap<Uuid, Vec<ChatAction>> = HashMap::new();
    if message_ids.is_empty() {
        return Ok(by_message);
    }
    let rows = chat_actions::Entity::find()
        .filter(chat_actions::Column::UserId.eq(user_id))
        .filter(chat_actions::Column::MessageId.is_in(message_ids.iter().copied()))
        .order_by_asc(chat_actions::Column::MessageId)
        .order_by_asc(chat_actions::Column::Position)
        .all(db)
        .await?;
    for row in rows {
        let action = to_action(row)?;
        by_message.entry(action.message_id).or_default().push(action);
    }
    Ok(by_message)
}

/// Claims a proposed action for one confirm: `true` when this caller now holds it (it was
/// proposed, or a claim older than [`CLAIM_TIMEOUT`] was abandoned), `false` when it is not
/// (or no longer) proposed.
pub async fn claim(db: &impl ConnectionTrait, user_id: Uuid, action_id: Uuid) -> Result<bool, StoreError> {
    let at = now();
    let abandoned = at - CLAIM_TIMEOUT;
    let claimed = chat_actions::Entity::update_many()
        .col_expr(chat_actions::Column::Status, Expr::value(ActionStatus::Confirming.as_str()))
        .col_expr(chat_actions::Column::DecidedAt, Expr::value(Some(at)))
        .filter(chat_actions::Column::Id.eq(action_id))
        .filter(chat_actions::Column::UserId.eq(user_id))
        .filter(
            Condition::any().add(chat_actions::Column::Status.eq(ActionStatus::Proposed.as_str())).add(
                Condition::all()
                    .add(chat_actions::Column::Status.eq(ActionStatus::Confirming.as_str()))
                    .add(chat_actions::Column::DecidedAt.lt(abandoned)),
            ),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Gives a claimed action back (the confirm failed before doing anything): proposed again.
pub async fn release(db: &impl ConnectionTrait, user_id: Uuid, action_id: Uuid) -> Result<(), StoreError> {
    transition(db, user_id, action_id, ActionStatus::Confirming, ActionStatus::Proposed, None).await?;
    Ok(())
}

/// Stores what confirming a claimed action produced; it is confirmed from now on.
pub async fn complete(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    action_id: Uuid,
    result: serde_json::Value,
) -> Result<(), StoreError> {
    let done =
        transition(db, user_id, action_id, ActionStatus::Confirming, ActionStatus::Confirmed, Some(result))
            .await?;
    if done { Ok(()) } else { Err(StoreError::Conflict("the action is no longer being confirmed")) }
}

/// Rejects a proposed action: `true` when it was proposed (now rejected), `false` otherwise.
pub async fn reject(db: &impl ConnectionTrait, user_id: Uuid, action_id: Uuid) -> Result<bool, StoreError> {
    transition(db, user_id, action_id, ActionStatus::Proposed, ActionStatus::Rejected, None).await
}

async fn transition(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    action_id: Uuid,
    from: ActionStatus,
    to: ActionStatus,
    result: Option<serde_json::Value>,
) -> Result<bool, StoreError> {
    let decided: Option<DateTime<Utc>> = (to != ActionStatus::Proposed).then(now);
    let mut update = chat_actions::Entity::update_many()
        .col_expr(chat_actions::Column::Status, Expr::value(to.as_str()))
        .col_expr(chat_actions::Column::DecidedAt, Expr::value(decided));
    if let Some(result) = result {
        update = update.col_expr(chat_actions::Column::Result, Expr::value(result));
    }
    let changed = update
        .filter(chat_actions::Column::Id.eq(action_id))
        .filter(chat_actions::Column::UserId.eq(user_id))
        .filter(chat_actions::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(changed.rows_affected == 1)
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

fn to_action(row: chat_actions::Model) -> Result<ChatAction, StoreError> {
    let kind = ActionKind::parse(&row.kind).ok_or_else(|| corrupt(format!("unknown kind {:?}", row.kind)))?;
    let status = ActionStatus::parse(&row.status)
        .ok_or_else(|| corrupt(format!("unknown status {:?}", row.status)))?;
    Ok(ChatAction {
        id: row.id,
        session_id: row.session_id,
        message_id: row.message_id,
        kind,
        arguments: row.arguments,
        summary: row.summary,
        preview: row.preview,
        target_version: row.target_version,
        status,
        result: row.result,
        created_at: row.created_at,
        decided_at: row.decided_at,
    })
}
