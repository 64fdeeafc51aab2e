//! Tasks and sub-tasks, and where each sits on the calendar (its blocks). A plan's tasks are tasks
//! with `plan_id` and no parent. A task's children and blocks go when it goes (the foreign keys
//! cascade).

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use planwright_domain::{
    DEFAULT_MIN_CHUNK_MINUTES, NewTask, Priority, ScheduleChange, ScheduledBlock, Subtask, Task, TaskChanges,
    TaskStatus,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{task_blocks, tasks},
    repo::{
        page::{self, Page, PageRequest},
        replans,
    },
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
    let position = next_position(db, user_id, task.parent_id, task.plan_id).await?;
    insert(db, user_id, task, position).await
}

/// Stores sub-tasks of `parent_id` in order, after any it already has, all or none; `ids` gives
/// the id of each (by its index) when the caller must find them again, fresh ones otherwise.
#[tracing::instrument(skip(db, subtasks, ids))]
pub async fn create_children(
    db: &crate::Conn,
    user_id: Uuid,
    parent: &Task,
    subtasks: Vec<Subtask>,
    ids: impl Fn(u32) -> Option<Uuid>,
) -> Result<Vec<Task>, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    let first = next_position(&txn, user_id, Some(parent.id), parent.plan_id).await?;
    let mut created = Vec::with_capacity(subtasks.len());
    for ((offset, index), subtask) in (0i64..).zip(0u32..).zip(subtasks) {
        let task = NewTask {
            id: ids(index),
            parent_id: Some(parent.id),
            plan_id: parent.plan_id,
            title: subtask.title,
            description: subtask.description,
            status: TaskStatus::Todo,
            due_at: parent.due_at,
            estimate_minutes: None,
            priority: parent.priority,
            min_chunk_minutes: Some(DEFAULT_MIN_CHUNK_MINUTES),
            earliest_start: parent.earliest_start,
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
    let mut blocks = blocks_of(db, &[row.id]).await?;
    to_task(row, &mut blocks)
}

/// The top-level tasks of the caller's plans `plan_ids`, each plan's in order.
pub async fn of_plans(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    plan_ids: &[Uuid],
) -> Result<Vec<Task>, StoreError> {
    if plan_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::PlanId.is_in(plan_ids.iter().copied()))
        .filter(tasks::Column::ParentId.is_null())
        .order_by_asc(tasks::Column::Position)
        .order_by_asc(tasks::Column::Id)
        .all(db)
        .await?;
    with_blocks(db, rows).await
}

/// The caller's tasks among `ids`, in position order (ids that are not theirs are left out).
pub async fn find_many(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Task>, StoreError> {
    let mut rows = Vec::with_capacity(ids.len());
    // Bound the statement's parameter count well under every engine's limit.
    for chunk in ids.chunks(500) {
        rows.extend(
            tasks::Entity::find()
                .filter(tasks::Column::UserId.eq(user_id))
                .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
                .all(db)
                .await?,
        );
    }
    rows.sort_by_key(|row| (row.position, row.id));
    with_blocks(db, rows).await
}

/// The caller's tasks the scheduler may place: not done, with an estimate, in position order; at
/// most `limit`.
pub async fn schedulable(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    limit: u64,
) -> Result<Vec<Task>, StoreError> {
    let rows = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::Status.ne(TaskStatus::Done.as_str()))
        .filter(tasks::Column::EstimateMinutes.is_not_null())
        .order_by_asc(tasks::Column::Position)
        .order_by_asc(tasks::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    with_blocks(db, rows).await
}

/// Stores a scheduling run: each of the caller's tasks in `blocks` gets exactly those blocks
/// (what it had is replaced), and `changes` (the moves to remember) go to the history, in one
/// transaction: the history never tells of a move the blocks do not show, and a failure changes
/// nothing. Tasks that are not the caller's, or are gone, are skipped with their changes.
pub async fn store_run_blocks(
    db: &crate::Conn,
    user_id: Uuid,
    blocks: &[(Uuid, Vec<ScheduledBlock>)],
    changes: &[ScheduleChange],
) -> Result<(), StoreError> {
    if blocks.is_empty() {
        return Ok(());
    }
    let txn = crate::database::begin_write(db).await?;
    let ids: Vec<Uuid> = blocks.iter().map(|(task_id, _)| *task_id).collect();
    let mut owned: HashSet<Uuid> = HashSet::with_capacity(ids.len());
    // Bound each statement's parameter count well under every engine's limit.
    for chunk in ids.chunks(500) {
        let mine: Vec<Uuid> = tasks::Entity::find()
            .filter(tasks::Column::UserId.eq(user_id))
            .filter(tasks::Column::Id.is_in(chunk.iter().copied()))
            .select_only()
            .column(tasks::Column::Id)
            .into_tuple()
            .all(&txn)
            .await?;
        if !mine.is_empty() {
            task_blocks::Entity::delete_many()
                .filter(task_blocks::Column::TaskId.is_in(mine.iter().copied()))
                .exec(&txn)
                .await?;
        }
        owned.extend(mine);
    }
    let rows: Vec<task_blocks::ActiveModel> = blocks
        .iter()
        .filter(|(task_id, _)| owned.contains(task_id))
        .flat_map(|(task_id, blocks)| {
            blocks.iter().map(|block| task_blocks::ActiveModel {
                task_id: Set(*task_id),
                chunk: Set(i32::from(block.chunk)),
                user_id: Set(user_id),
                start_at: Set(block.start),
                end_at: Set(block.end),
                event_ref: Set(block.event_id.clone()),
                pinned: Set(block.pinned),
            })
        })
        .collect();
    for batch in super::insert_batches(rows) {
        task_blocks::Entity::insert_many(batch).exec_without_returning(&txn).await?;
    }
    let changes: Vec<ScheduleChange> =
        changes.iter().filter(|change| owned.contains(&change.task_id)).cloned().collect();
    replans::insert_changes(&txn, user_id, &changes).await?;
    txn.commit().await?;
    Ok(())
}

/// Makes the caller's task's block held by event `event_ref` follow its event: moved to `times`,
/// or gone with `None` (the person moved or deleted the event in their calendar). A block that
/// moves here was moved by hand, so it is pinned: re-planning leaves it where the person put it.
///
/// One statement, so nothing can come between reading the block and writing it: a scheduling
/// run that stores the block at the event's new times (and Google then tells of that very write)
/// leaves a block that is already there, where a read-then-update could pin the run's block.
pub async fn follow_block(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    task_id: Uuid,
    event_ref: &str,
    times: Option<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)>,
) -> Result<(), StoreError> {
    let held = Condition::all()
        .add(task_blocks::Column::TaskId.eq(task_id))
        .add(task_blocks::Column::UserId.eq(user_id))
        .add(task_blocks::Column::EventRef.eq(event_ref));
    match times {
        Some((start, end)) => {
            let elsewhere = Condition::any()
                .add(task_blocks::Column::StartAt.ne(start))
                .add(task_blocks::Column::EndAt.ne(end));
            task_blocks::Entity::update_many()
                .col_expr(task_blocks::Column::StartAt, Expr::value(start))
                .col_expr(task_blocks::Column::EndAt, Expr::value(end))
                .col_expr(task_blocks::Column::Pinned, Expr::value(true))
                .filter(held.add(elsewhere))
                .exec(db)
                .await?;
        }
        None => {
            task_blocks::Entity::delete_many().filter(held).exec(db).await?;
        }
    }
    Ok(())
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
    let tasks = with_blocks(db, rows).await?;
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
    if let Some(priority) = changes.priority {
        active.priority = Set(priority.as_str().to_owned());
    }
    if let Some(min_chunk) = changes.min_chunk_minutes {
        active.min_chunk_minutes = Set(min_chunk.map(i32::from));
    }
    if let Some(earliest_start) = changes.earliest_start {
        active.earliest_start = Set(earliest_start);
    }
    active.updated_at = Set(Utc::now());
    let row = active.update(db).await?;
    let mut blocks = blocks_of(db, &[row.id]).await?;
    to_task(row, &mut blocks)
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

/// The position after the last sibling: sub-tasks are siblings under their parent; top-level
/// tasks under their plan (or, without one, among the other top-level tasks without a plan).
pub(crate) async fn next_position(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    parent_id: Option<Uuid>,
    plan_id: Option<Uuid>,
) -> Result<i64, StoreError> {
    let mut query = tasks::Entity::find().filter(tasks::Column::UserId.eq(user_id));
    query = match (parent_id, plan_id) {
        (Some(parent_id), _) => query.filter(tasks::Column::ParentId.eq(parent_id)),
        (None, Some(plan_id)) => {
            query.filter(tasks::Column::ParentId.is_null()).filter(tasks::Column::PlanId.eq(plan_id))
        }
        (None, None) => {
            query.filter(tasks::Column::ParentId.is_null()).filter(tasks::Column::PlanId.is_null())
        }
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
    let row = new_row(user_id, task, position, None).insert(db).await?;
    to_task(row, &mut HashMap::new())
}

/// The row of a new task (`day_offset` for a task of a plan).
pub(crate) fn new_row(
    user_id: Uuid,
    task: NewTask,
    position: i64,
    day_offset: Option<u16>,
) -> tasks::ActiveModel {
    let now = Utc::now();
    tasks::ActiveModel {
        id: Set(task.id.unwrap_or_else(Uuid::now_v7)),
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
        day_offset: Set(day_offset.map(i32::from)),
        priority: Set(task.priority.as_str().to_owned()),
        min_chunk_minutes: Set(task.min_chunk_minutes.map(i32::from)),
        earliest_start: Set(task.earliest_start),
    }
}

/// Tasks with their blocks.
pub(crate) async fn with_blocks(
    db: &impl ConnectionTrait,
    rows: Vec<tasks::Model>,
) -> Result<Vec<Task>, StoreError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut blocks = blocks_of(db, &ids).await?;
    rows.into_iter().map(|row| to_task(row, &mut blocks)).collect()
}

/// The blocks of `task_ids`, by task, in chunk order.
async fn blocks_of(
    db: &impl ConnectionTrait,
    task_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<ScheduledBlock>>, StoreError> {
    let mut by_task: HashMap<Uuid, Vec<ScheduledBlock>> = HashMap::new();
    // Bound the statement's parameter count well under every engine's limit.
    for ids in task_ids.chunks(500) {
        let rows = task_blocks::Entity::find()
            .filter(task_blocks::Column::TaskId.is_in(ids.iter().copied()))
            .order_by_asc(task_blocks::Column::TaskId)
            .order_by_asc(task_blocks::Column::Chunk)
            .all(db)
            .await?;
        for row in rows {
            let task_id = row.task_id;
            by_task.entry(task_id).or_default().push(to_block(row)?);
        }
    }
    Ok(by_task)
}

fn to_block(row: task_blocks::Model) -> Result<ScheduledBlock, StoreError> {
    Ok(ScheduledBlock {
        chunk: u16::try_from(row.chunk).map_err(|_| StoreError::Corrupt {
            table: "task_blocks",
            message: format!("chunk {}", row.chunk),
        })?,
        start: row.start_at,
        end: row.end_at,
        event_id: row.event_ref,
        pinned: row.pinned,
    })
}

pub(crate) fn to_task(
    row: tasks::Model,
    blocks: &mut HashMap<Uuid, Vec<ScheduledBlock>>,
) -> Result<Task, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt { table: TABLE, message };
    let small = |value: i32, what: &str| u16::try_from(value).map_err(|_| corrupt(format!("{what} {value}")));
    Ok(Task {
        blocks: blocks.remove(&row.id).unwrap_or_default(),
        priority: Priority::parse("priority", &row.priority).map_err(|e| corrupt(e.message))?,
        min_chunk_minutes: row.min_chunk_minutes.map(|m| small(m, "min_chunk_minutes")).transpose()?,
        earliest_start: row.earliest_start,
        day_offset: row.day_offset.map(|d| small(d, "day_offset")).transpose()?,
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
