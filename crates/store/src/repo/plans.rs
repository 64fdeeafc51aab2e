//! Plans and their tasks, always read and written together. A plan's tasks are rows of `tasks`
//! with its `plan_id` and no parent, in `position` order (see `repo::tasks`).

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use planwright_domain::{
    DEFAULT_MIN_CHUNK_MINUTES, NewPlan, NewTask, Plan, PlanChanges, PlanStatus, PlanTask, PlanTaskDraft,
    PlanTaskEdit, Priority, Task, TaskStatus, TokenUsage,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{plans, tasks},
    repo::{
        ai_usage, matching,
        page::{self, Page, PageRequest},
        tasks as task_repo,
    },
};

const TABLE: &str = "plans";

/// Stores a new plan with its tasks, in order, and adds the AI usage `charge` (a day and what
/// was used) to that day's count ([`ai_usage::add_usage`]) in the same transaction: when the
/// plan is refused, nothing is counted either.
#[tracing::instrument(skip(db, plan, charge))]
pub async fn create(
    db: &crate::Conn,
    user_id: Uuid,
    plan: NewPlan,
    charge: (NaiveDate, &TokenUsage),
) -> Result<Plan, StoreError> {
    let now = Utc::now();
    let id = plan.id.unwrap_or_else(Uuid::now_v7);
    let txn = crate::database::begin_write(db).await?;
    let row = plans::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        goal: Set(plan.goal.as_str().to_owned()),
        duration_days: Set(i32::from(plan.duration_days.get())),
        context: Set(plan.context),
        start_date: Set(plan.start_date),
        summary: Set(plan.summary),
        status: Set(PlanStatus::Draft.as_str().to_owned()),
        model: Set(plan.model),
        usage: Set(usage_json(plan.usage)?),
        generation_notes: Set((!plan.notes.is_empty()).then(|| serde_json::json!(plan.notes))),
        model_version: Set(plan.model_version),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    // The tasks come back from their insert as stored: a new plan's tasks have no blocks yet.
    let rows = insert_tasks(&txn, user_id, id, plan.tasks.into_iter().enumerate().collect()).await?;
    let tasks = rows
        .into_iter()
        .map(|row| task_repo::to_task(row, &mut HashMap::new()))
        .collect::<Result<Vec<Task>, _>>()?;
    ai_usage::add_usage(&txn, user_id, charge.0, charge.1).await?; // last: see its doc
    txn.commit().await?;
    to_plan(row, tasks)
}

/// The caller's plan with this id.
pub async fn find(db: &impl ConnectionTrait, user_id: Uuid, plan_id: Uuid) -> Result<Plan, StoreError> {
    let row = plans::Entity::find_by_id(plan_id)
        .filter(plans::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut plans = with_tasks(db, user_id, vec![row]).await?;
    plans.pop().ok_or(StoreError::NotFound)
}

/// The caller's plans among `ids`, newest first (ids that are not theirs are left out): three
/// statements however many there are.
pub async fn find_many(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Plan>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = plans::Entity::find()
        .filter(plans::Column::UserId.eq(user_id))
        .filter(plans::Column::Id.is_in(ids.iter().copied()))
        .order_by_desc(plans::Column::Id)
        .all(db)
        .await?;
    with_tasks(db, user_id, rows).await
}

/// The goal and start date of each of the caller's plans among `ids` (ids that are not theirs
/// are left out), in one statement per 500 ids, without their tasks.
pub async fn goals_and_start_dates(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, (String, Option<NaiveDate>)>, StoreError> {
    let mut found = HashMap::with_capacity(ids.len());
    // Bound the statement's parameter count well under every engine's limit.
    for chunk in ids.chunks(500) {
        let rows: Vec<(Uuid, String, Option<NaiveDate>)> = plans::Entity::find()
            .select_only()
            .columns([plans::Column::Id, plans::Column::Goal, plans::Column::StartDate])
            .filter(plans::Column::UserId.eq(user_id))
            .filter(plans::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|(id, goal, start)| (id, (goal, start))));
    }
    Ok(found)
}

/// Plans from their rows, in the rows' order, with the tasks of all of them read at once.
async fn with_tasks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    rows: Vec<plans::Model>,
) -> Result<Vec<Plan>, StoreError> {
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut tasks_by_plan: HashMap<Uuid, Vec<Task>> = HashMap::new();
    for task in task_repo::of_plans(db, user_id, &ids).await? {
        if let Some(plan_id) = task.plan_id {
            tasks_by_plan.entry(plan_id).or_default().push(task);
        }
    }
    rows.into_iter()
        .map(|row| {
            let tasks = tasks_by_plan.remove(&row.id).unwrap_or_default();
            to_plan(row, tasks)
        })
        .collect()
}

/// The caller's plans, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    request: &PageRequest,
) -> Result<Page<Plan>, StoreError> {
    let mut query = plans::Entity::find().filter(plans::Column::UserId.eq(user_id));
    if let Some(cursor) = &request.cursor {
        // Ids are UUIDv7: their order is creation order.
        let (_, last_id) = page::decode(cursor)?;
        query = query.filter(plans::Column::Id.lt(last_id));
    }
    let rows = query.order_by_desc(plans::Column::Id).limit(request.limit + 1).all(db).await?;
    let plans = with_tasks(db, user_id, rows).await?;
    Ok(Page::from_rows(plans, request.limit, |plan| (0, plan.id)))
}

/// The caller's plans whose goal, summary or task titles mention the significant words of
/// `query`, best match first (ties: newest first), at most `limit`. Only the 20 newest
/// candidates are ranked. Three statements however many match: the candidates' rows, their
/// tasks, and the tasks' blocks.
pub async fn search(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    query: &str,
    limit: usize,
) -> Result<Vec<Plan>, StoreError> {
    let terms = matching::significant_terms(query);
    if terms.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let (clause, mut values) = matching::any_like(backend, &["p.goal", "p.summary", "t.title"], &terms, 2);
    values.insert(0, user_id.into());
    // The candidates and their rows in one statement, their tasks in one more (and their blocks).
    let sql = format!(
        "SELECT * FROM plans WHERE user_id = $1 AND id IN (\
         SELECT DISTINCT p.id FROM plans p \
         LEFT JOIN tasks t ON t.plan_id = p.id AND t.parent_id IS NULL \
         WHERE p.user_id = $1 AND {clause} ORDER BY p.id DESC LIMIT 20) \
         ORDER BY id DESC"
    );
    let rows = plans::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    let mut ranked = Vec::with_capacity(rows.len());
    for plan in with_tasks(db, user_id, rows).await? {
        let titles: Vec<&str> = plan.tasks.iter().map(|task| task.title.as_str()).collect();
        let score = 3 * matching::matched_terms(plan.goal.as_str(), &terms)
            + matching::matched_terms(&format!("{} {}", plan.summary, titles.join(" ")), &terms);
        ranked.push((score, plan));
    }
    ranked.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    Ok(ranked.into_iter().take(limit).map(|(_, plan)| plan).collect())
}

/// The caller's most recently changed plan, if any.
pub async fn latest(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<Plan>, StoreError> {
    let row = plans::Entity::find()
        .filter(plans::Column::UserId.eq(user_id))
        .order_by_desc(plans::Column::UpdatedAt)
        .order_by_desc(plans::Column::Id)
        .one(db)
        .await?;
    match row {
        Some(row) => Ok(with_tasks(db, user_id, vec![row]).await?.pop()),
        None => Ok(None),
    }
}

/// Applies an edit. With `tasks`, the list is replaced: tasks named by id keep their id and
/// calendar binding, new ones are added, the rest are deleted. Ids must belong to the plan.
#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &crate::Conn,
    user_id: Uuid,
    plan_id: Uuid,
    changes: PlanChanges,
) -> Result<Plan, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    let row = plans::Entity::find_by_id(plan_id)
        .filter(plans::Column::UserId.eq(user_id))
        .one(&txn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut active: plans::ActiveModel = row.into();
    if let Some(goal) = changes.goal {
        active.goal = Set(goal.as_str().to_owned());
    }
    if let Some(summary) = changes.summary {
        active.summary = Set(summary);
    }
    active.updated_at = Set(Utc::now());
    let row = active.update(&txn).await?;
    if let Some(edits) = changes.tasks {
        replace_tasks(&txn, user_id, plan_id, edits).await?;
    }
    let plan = find(&txn, user_id, row.id).await?;
    txn.commit().await?;
    Ok(plan)
}

/// Remembers the first day the caller's plan was scheduled from (later runs default to it).
pub async fn set_start_date(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    plan_id: Uuid,
    start_date: NaiveDate,
) -> Result<(), StoreError> {
    plans::Entity::update_many()
        .col_expr(plans::Column::StartDate, start_date.into())
        .filter(plans::Column::Id.eq(plan_id))
        .filter(plans::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets the caller's plan's status.
pub async fn set_status(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    plan_id: Uuid,
    status: PlanStatus,
) -> Result<(), StoreError> {
    let result = plans::Entity::update_many()
        .col_expr(plans::Column::Status, status.as_str().into())
        .col_expr(plans::Column::UpdatedAt, Utc::now().into())
        .filter(plans::Column::Id.eq(plan_id))
        .filter(plans::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deletes the caller's plan and its tasks, sub-tasks included.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &crate::Conn, user_id: Uuid, plan_id: Uuid) -> Result<(), StoreError> {
    let txn = crate::database::begin_write(db).await?;
    tasks::Entity::delete_many()
        .filter(tasks::Column::PlanId.eq(plan_id))
        .filter(tasks::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    let result = plans::Entity::delete_many()
        .filter(plans::Column::Id.eq(plan_id))
        .filter(plans::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    txn.commit().await?;
    Ok(())
}

/// Replaces a plan's task list: kept tasks (by id, which must be the plan's top-level tasks) keep
/// their id, blocks, sub-tasks and every field the edit leaves out; the rest are deleted with their
/// sub-tasks; new ones are added. Positions become the list's order.
async fn replace_tasks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    plan_id: Uuid,
    edits: Vec<PlanTaskEdit>,
) -> Result<(), StoreError> {
    let existing: HashMap<Uuid, tasks::Model> = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::PlanId.eq(plan_id))
        .filter(tasks::Column::ParentId.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|task| (task.id, task))
        .collect();
    let kept: Vec<Uuid> = edits
        .iter()
        .filter_map(|edit| match edit {
            PlanTaskEdit::Keep { id, .. } => Some(*id),
            PlanTaskEdit::New(_) => None,
        })
        .collect();
    if kept.iter().any(|id| !existing.contains_key(id)) {
        return Err(StoreError::NotFound);
    }
    let gone: Vec<Uuid> = existing.keys().filter(|id| !kept.contains(id)).copied().collect();
    for ids in gone.chunks(500) {
        tasks::Entity::delete_many().filter(tasks::Column::Id.is_in(ids.iter().copied())).exec(db).await?;
    }
    let mut new = Vec::new();
    for (position, edit) in edits.into_iter().enumerate() {
        match edit {
            PlanTaskEdit::New(draft) => new.push((position, draft)),
            PlanTaskEdit::Keep { id, changes } => {
                let Some(row) = existing.get(&id) else { continue };
                let mut active: tasks::ActiveModel = row.clone().into();
                if let Some(title) = changes.title {
                    active.title = Set(title);
                }
                if let Some(description) = changes.description {
                    active.description = Set(description);
                }
                if let Some(day_offset) = changes.day_offset {
                    active.day_offset = Set(Some(i32::from(day_offset)));
                }
                if let Some(minutes) = changes.duration_minutes {
                    active.estimate_minutes = Set(Some(i32::from(minutes)));
                }
                active.position = Set(i64::try_from(position).unwrap_or(i64::MAX));
                active.updated_at = Set(Utc::now());
                active.update(db).await?;
            }
        }
    }
    insert_tasks(db, user_id, plan_id, new).await?;
    Ok(())
}

/// Stores new tasks of a plan, each at its position, with multi-row inserts.
async fn insert_tasks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    plan_id: Uuid,
    drafts: Vec<(usize, PlanTaskDraft)>,
) -> Result<Vec<tasks::Model>, StoreError> {
    let rows: Vec<tasks::ActiveModel> = drafts
        .into_iter()
        .map(|(position, draft)| {
            let task = NewTask {
                id: None,
                parent_id: None,
                plan_id: Some(plan_id),
                title: draft.title,
                description: draft.description,
                status: TaskStatus::Todo,
                due_at: None,
                estimate_minutes: Some(u32::from(draft.duration_minutes)),
                priority: Priority::Normal,
                min_chunk_minutes: Some(DEFAULT_MIN_CHUNK_MINUTES),
                earliest_start: None,
            };
            let position = i64::try_from(position).unwrap_or(i64::MAX);
            task_repo::new_row(user_id, task, position, Some(draft.day_offset))
        })
        .collect();
    let mut stored = Vec::with_capacity(rows.len());
    for batch in super::insert_batches(rows) {
        stored.extend(tasks::Entity::insert_many(batch).exec_with_returning(db).await?);
    }
    // `RETURNING` promises no order.
    stored.sort_by_key(|row| (row.position, row.id));
    Ok(stored)
}

fn usage_json(usage: TokenUsage) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(usage).map_err(|e| corrupt(e.to_string()))
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

fn to_plan(row: plans::Model, tasks: Vec<Task>) -> Result<Plan, StoreError> {
    let number = |value: i32, what: &str| {
        u16::try_from(value).map_err(|_| corrupt(format!("{what} {value} out of range")))
    };
    let tasks = (0u32..).zip(tasks).map(|(position, task)| PlanTask::from_task(task, position)).collect();
    Ok(Plan {
        id: row.id,
        user_id: row.user_id,
        goal: row.goal,
        duration_days: number(row.duration_days, "duration_days")?,
        context: row.context,
        start_date: row.start_date,
        summary: row.summary,
        status: PlanStatus::parse(&row.status)
            .ok_or_else(|| corrupt(format!("unknown status {}", row.status)))?,
        model: row.model,
        model_version: row.model_version,
        notes: match row.generation_notes {
            Some(notes) => serde_json::from_value(notes).map_err(|e| corrupt(e.to_string()))?,
            None => Vec::new(),
        },
        usage: serde_json::from_value(row.usage).map_err(|e| corrupt(e.to_string()))?,
        tasks,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}
