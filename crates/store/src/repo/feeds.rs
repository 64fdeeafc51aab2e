//! Secret ICS feeds: one live token per user, stored only as its SHA-256, and the scheduled task
//! blocks a feed shows. (The feed's local-calendar events come from [`super::calendar`].)

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationDef, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{calendar_feeds as feeds, plans, task_blocks, tasks},
};

/// One block of a task on the calendar, with what the feed says about the task and its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledTaskBlock {
    /// The task's id.
    pub task_id: Uuid,
    /// Which chunk of the task, from 0.
    pub chunk: u16,
    /// The plan it belongs to, if any.
    pub plan_id: Option<Uuid>,
    /// The plan's goal, if any.
    pub goal: Option<String>,
    /// The task's title.
    pub title: String,
    /// The task's description.
    pub description: String,
    /// Where it was placed: start.
    pub start: DateTime<Utc>,
    /// Where it was placed: end (exclusive).
    pub end: DateTime<Utc>,
    /// When the task (or its plan) last changed.
    pub updated_at: DateTime<Utc>,
}

/// Makes `token_hash` the user's only feed token: a previous one stops working at once.
pub async fn replace(db: &impl ConnectionTrait, user_id: Uuid, token_hash: &str) -> Result<(), StoreError> {
    let row = feeds::ActiveModel {
        user_id: Set(user_id),
        token_hash: Set(token_hash.to_owned()),
        created_at: Set(Utc::now()),
    };
    feeds::Entity::insert(row)
        .on_conflict(
            OnConflict::column(feeds::Column::UserId)
                .update_columns([feeds::Column::TokenHash, feeds::Column::CreatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(StoreError::on_unique("calendar feed token hash collision"))?;
    Ok(())
}

/// The owner of the feed whose token hashes to `token_hash`, if it is live.
pub async fn find_user(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<Uuid>, StoreError> {
    Ok(feeds::Entity::find()
        .filter(feeds::Column::TokenHash.eq(token_hash))
        .one(db)
        .await?
        .map(|row| row.user_id))
}

#[derive(Debug, FromQueryResult)]
struct BlockRow {
    task_id: Uuid,
    chunk: i32,
    start_at: DateTime<Utc>,
    end_at: DateTime<Utc>,
    plan_id: Option<Uuid>,
    title: String,
    description: String,
    task_updated_at: DateTime<Utc>,
    goal: Option<String>,
    plan_updated_at: Option<DateTime<Utc>>,
}

/// The user's task blocks placed so that they overlap `[from, to)`, by start, at most `limit`.
pub async fn scheduled_blocks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<ScheduledTaskBlock>, StoreError> {
    let rows = task_blocks::Entity::find()
        .select_only()
        .columns([
            task_blocks::Column::TaskId,
            task_blocks::Column::Chunk,
            task_blocks::Column::StartAt,
            task_blocks::Column::EndAt,
        ])
        .column(tasks::Column::PlanId)
        .column(tasks::Column::Title)
        .column(tasks::Column::Description)
        .column_as(tasks::Column::UpdatedAt, "task_updated_at")
        .column_as(plans::Column::Goal, "goal")
        .column_as(plans::Column::UpdatedAt, "plan_updated_at")
        .join(JoinType::InnerJoin, block_to_task())
        .join(JoinType::LeftJoin, task_to_plan())
        .filter(task_blocks::Column::UserId.eq(user_id))
        .filter(task_blocks::Column::EndAt.gt(from))
        .filter(task_blocks::Column::StartAt.lt(to))
        .order_by_asc(task_blocks::Column::StartAt)
        .order_by_asc(task_blocks::Column::TaskId)
        .order_by_asc(task_blocks::Column::Chunk)
        .limit(limit)
        .into_model::<BlockRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(ScheduledTaskBlock {
                task_id: row.task_id,
                chunk: u16::try_from(row.chunk).ok()?,
                plan_id: row.plan_id,
                goal: row.goal,
                title: row.title,
                description: row.description,
                start: row.start_at,
                end: row.end_at,
                updated_at: row
                    .plan_updated_at
                    .map_or(row.task_updated_at, |plan| plan.max(row.task_updated_at)),
            })
        })
        .collect())
}

/// `task_blocks.task_id → tasks.id`, for the join (the entities declare no relations).
fn block_to_task() -> RelationDef {
    task_blocks::Entity::belongs_to(tasks::Entity)
        .from(task_blocks::Column::TaskId)
        .to(tasks::Column::Id)
        .into()
}

/// `tasks.plan_id → plans.id`, for the join.
fn task_to_plan() -> RelationDef {
    tasks::Entity::belongs_to(plans::Entity).from(tasks::Column::PlanId).to(plans::Column::Id).into()
}
