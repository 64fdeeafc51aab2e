//! Tasks and sub-tasks. A task's children go when it goes (the foreign key cascades).

use chrono::Utc;
use planwright_domain::{NewTask, Subtask, Task, TaskChanges, TaskStatus};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::tasks,
    repo::page::{self, Page, PageRequest},
};

const TABLE: &str = "tasks";

/// Which tasks to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskFilter {
    /// Only this status.
    pub status: Option<TaskStatus>,
    /// Only children of this task.
    pub parent_id: Option<Uuid>,
    /// Only tasks of this plan.
    pub plan_id: Option<Uuid>,
}

/// Stores a task last among its siblings.
#[tracing::instrument(skip(db, task))]
pub async fn create(db: &impl ConnectionTrait, user_id: Uuid, task: NewTask) -> Result<Task, StoreError> {
    let position = next_position(db, user_id, task.parent_id).await?;
    insert(db, user_id, task, position).await
}

/// Stores sub-tasks of `parent_id` in order, after any it already has, all or none.
#[tracing::instrument(skip(db, subtasks))]
pub async fn create_children(
    db: &crate::Conn,
    user_id: Uuid,
    parent: &Task,
    subtasks: Vec<Subtask>,
) -> Result<Vec<Task>, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    let first = next_position(&txn, user_id, Some(parent.id)).await?;
    let mut created = Vec::with_capacity(subtasks.len());
    for (offset, subtask) in (0i64..).zip(subtasks) {
        let task = NewTask {
            parent_id: Some(parent.id),
            plan_id: parent.plan_id,
            title: subtask.title,
            description: subtask.description,
            status: TaskStatus::Todo,
            due_at: parent.due_at,
            estimate_minutes: None,
        };
        created.push(insert(&txn, user_id, task, first + offset).await?);
    }
    txn.commit().await?;
    Ok(created)
}

/// The caller's task with this id.
pub async fn find(db: &impl ConnectionTrait, user_id: Uuid, task_id: Uuid) -> Result<Task, StoreError> {
    let row = tasks::Entity::find_by_id(task_id)
        .filter(tasks::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_task(row)
}

/// The caller's tasks matching `filter`, by position then creation.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    filter: &TaskFilter,
    request: &PageRequest,
) -> Result<Page<Task>, StoreError> {
    let mut query = tasks::Entity::find().filter(tasks::Column::UserId.eq(user_id));
    if let Some(status) = filter.status {
        query = query.filter(tasks::Column::Status.eq(status.as_str()));
    }
    if let Some(parent_id) = filter.parent_id {
        query = query.filter(tasks::Column::ParentId.eq(parent_id));
    }
    if let Some(plan_id) = filter.plan_id {
        query = query.filter(tasks::Column::PlanId.eq(plan_id));
    }
    if let Some(cursor) = &request.cursor {
        let (position, id) = page::decode(cursor)?;
        query =
            query.filter(Condition::any().add(tasks::Column::Position.gt(position)).add(
                Condition::all().add(tasks::Column::Position.eq(position)).add(tasks::Column::Id.gt(id)),
            ));
    }
    let rows = query
        .order_by_asc(tasks::Column::Position)
        .order_by_asc(tasks::Column::Id)
        .limit(request.limit + 1)
        .all(db)
        .await?;
    let tasks = rows.into_iter().map(to_task).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(tasks, request.limit, |task| (task.position, task.id)))
}

/// Applies a partial update.
#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    task_id: Uuid,
    changes: TaskChanges,
) -> Result<Task, StoreError> {
    let row = tasks::Entity::find_by_id(task_id)
        .filter(tasks::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut active: tasks::ActiveModel = row.into();
    if let Some(title) = changes.title {
        active.title = Set(title);
    }
    if let Some(description) = changes.description {
        active.description = Set(description);
    }
    if let Some(status) = changes.status {
        active.status = Set(status.as_str().to_owned());
    }
    if let Some(due_at) = changes.due_at {
        active.due_at = Set(due_at);
    }
    if let Some(estimate) = changes.estimate_minutes {
        active.estimate_minutes = Set(estimate.map(|m| i32::try_from(m).unwrap_or(i32::MAX)));
    }
    if let Some(parent_id) = changes.parent_id {
        active.parent_id = Set(parent_id);
    }
    if let Some(plan_id) = changes.plan_id {
        active.plan_id = Set(plan_id);
    }
    if let Some(position) = changes.position {
        active.position = Set(position);
    }
    active.updated_at = Set(Utc::now());
    to_task(active.update(db).await?)
}

/// Deletes the caller's task and, through the foreign key, all its descendants.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &impl ConnectionTrait, user_id: Uuid, task_id: Uuid) -> Result<(), StoreError> {
    let result = tasks::Entity::delete_many()
        .filter(tasks::Column::Id.eq(task_id))
        .filter(tasks::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// The ids of the caller's task `task_id` and every ancestor above it (to refuse cycles).
pub async fn ancestry(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    task_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    let mut chain = vec![task_id];
    let mut current = find(db, user_id, task_id).await?;
    while let Some(parent_id) = current.parent_id {
        if chain.contains(&parent_id) || chain.len() > 10_000 {
            break;
        }
        chain.push(parent_id);
        current = find(db, user_id, parent_id).await?;
    }
    Ok(chain)
}

async fn next_position(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    parent_id: Option<Uuid>,
) -> Result<i64, StoreError> {
    let mut query = tasks::Entity::find().filter(tasks::Column::UserId.eq(user_id));
    query = match parent_id {
        Some(parent_id) => query.filter(tasks::Column::ParentId.eq(parent_id)),
        None => query.filter(tasks::Column::ParentId.is_null()),
    };
    let last = query.order_by_desc(tasks::Column::Position).one(db).await?;
    Ok(last.map_or(0, |task| task.position + 1))
}

async fn insert(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    task: NewTask,
    position: i64,
) -> Result<Task, StoreError> {
    let now = Utc::now();
    let row = tasks::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        parent_id: Set(task.parent_id),
        plan_id: Set(task.plan_id),
        title: Set(task.title),
        description: Set(task.description),
        status: Set(task.status.as_str().to_owned()),
        due_at: Set(task.due_at),
        estimate_minutes: Set(task.estimate_minutes.map(|m| i32::try_from(m).unwrap_or(i32::MAX))),
        position: Set(position),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    to_task(row)
}

fn to_task(row: tasks::Model) -> Result<Task, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { table: TABLE, message };
    Ok(Task {
        id: row.id,
        user_id: row.user_id,
        parent_id: row.parent_id,
        plan_id: row.plan_id,
        status: TaskStatus::parse("status", &row.status).map_err(|e| corrupt(e.message))?,
        title: row.title,
        description: row.description,
        due_at: row.due_at,
        estimate_minutes: row
            .estimate_minutes
            .map(|m| u32::try_from(m).map_err(|_| corrupt(format!("estimate {m}"))))
            .transpose()?,
        position: row.position,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}
