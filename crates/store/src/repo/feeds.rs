//! Secret ICS feeds: one live token per user, stored only as its SHA-256, and the scheduled plan
//! tasks a feed shows. (The feed's local-calendar events come from [`super::calendar`].)

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter,
    QueryOrder, QuerySelect, RelationDef, sea_query::OnConflict,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{calendar_feeds as feeds, plan_tasks, plans},
};

/// A plan task with a place on the calendar, with what the feed says about its plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledPlanTask {
    /// The task's id.
    pub id: Uuid,
    /// The plan it belongs to.
    pub plan_id: Uuid,
    /// The plan's goal.
    pub goal: String,
    /// The task's title.
    pub title: String,
    /// The task's description.
    pub description: String,
    /// Where it was placed: start.
    pub start: DateTime<Utc>,
    /// Where it was placed: end (exclusive).
    pub end: DateTime<Utc>,
    /// When the plan last changed (tasks have no time of their own).
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
struct TaskRow {
    id: Uuid,
    plan_id: Uuid,
    title: String,
    description: String,
    scheduled_start: Option<DateTime<Utc>>,
    scheduled_end: Option<DateTime<Utc>>,
    goal: String,
    plan_updated_at: DateTime<Utc>,
}

/// The user's plan tasks placed so that they overlap `[from, to)`, by start, at most `limit`.
pub async fn scheduled_tasks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<ScheduledPlanTask>, StoreError> {
    let rows = plan_tasks::Entity::find()
        .select_only()
        .columns([
            plan_tasks::Column::Id,
            plan_tasks::Column::PlanId,
            plan_tasks::Column::Title,
            plan_tasks::Column::Description,
            plan_tasks::Column::ScheduledStart,
            plan_tasks::Column::ScheduledEnd,
        ])
        .column_as(plans::Column::Goal, "goal")
        .column_as(plans::Column::UpdatedAt, "plan_updated_at")
        .join(JoinType::InnerJoin, task_to_plan())
        .filter(plans::Column::UserId.eq(user_id))
        .filter(plan_tasks::Column::ScheduledStart.is_not_null())
        .filter(plan_tasks::Column::ScheduledEnd.is_not_null())
        .filter(plan_tasks::Column::ScheduledEnd.gt(from))
        .filter(plan_tasks::Column::ScheduledStart.lt(to))
        .order_by_asc(plan_tasks::Column::ScheduledStart)
        .order_by_asc(plan_tasks::Column::Id)
        .limit(limit)
        .into_model::<TaskRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            Some(ScheduledPlanTask {
                id: row.id,
                plan_id: row.plan_id,
                goal: row.goal,
                title: row.title,
                description: row.description,
                start: row.scheduled_start?,
                end: row.scheduled_end?,
                updated_at: row.plan_updated_at,
            })
        })
        .collect())
}

/// `plan_tasks.plan_id → plans.id`, for the join (the entities declare no relations).
fn task_to_plan() -> RelationDef {
    plan_tasks::Entity::belongs_to(plans::Entity)
        .from(plan_tasks::Column::PlanId)
        .to(plans::Column::Id)
        .into()
}
