//! Plans and their tasks, always read and written together.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use planwright_domain::{NewPlan, Plan, PlanChanges, PlanStatus, PlanTask, PlanTaskDraft, TokenUsage};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::{plan_tasks, plans},
    repo::{
        matching,
        page::{self, Page, PageRequest},
    },
};

const TABLE: &str = "plans";

/// Stores a new plan with its tasks, in order.
#[tracing::instrument(skip(db, plan))]
pub async fn create(db: &crate::Conn, user_id: Uuid, plan: NewPlan) -> Result<Plan, StoreError> {
    let now = Utc::now();
    let id = Uuid::now_v7();
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
    let tasks = insert_tasks(&txn, id, plan.tasks.into_iter().map(|draft| (None, draft)).collect()).await?;
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
    let tasks = plan_tasks::Entity::find()
        .filter(plan_tasks::Column::PlanId.eq(plan_id))
        .order_by_asc(plan_tasks::Column::Position)
        .all(db)
        .await?;
    to_plan(row, tasks)
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
    let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    let mut tasks_by_plan: HashMap<Uuid, Vec<plan_tasks::Model>> = HashMap::new();
    if !ids.is_empty() {
        let tasks = plan_tasks::Entity::find()
            .filter(plan_tasks::Column::PlanId.is_in(ids))
            .order_by_asc(plan_tasks::Column::Position)
            .all(db)
            .await?;
        for task in tasks {
            tasks_by_plan.entry(task.plan_id).or_default().push(task);
        }
    }
    let plans = rows
        .into_iter()
        .map(|row| {
            let tasks = tasks_by_plan.remove(&row.id).unwrap_or_default();
            to_plan(row, tasks)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(plans, request.limit, |plan| (0, plan.id)))
}

/// The caller's plans whose goal, summary or task titles mention the significant words of
/// `query`, best match first (ties: newest first), at most `limit`. Only the 20 newest
/// candidates are ranked.
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
    let sql = format!(
        "SELECT DISTINCT p.id FROM plans p LEFT JOIN plan_tasks t ON t.plan_id = p.id \
         WHERE p.user_id = $1 AND {clause} ORDER BY p.id DESC LIMIT 20"
    );
    let ids: Vec<Uuid> = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect::<Result<_, _>>()?;
    let mut ranked = Vec::with_capacity(ids.len());
    for id in ids {
        let plan = find(db, user_id, id).await?;
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
        Some(row) => find(db, user_id, row.id).await.map(Some),
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
        let existing: HashMap<Uuid, plan_tasks::Model> = plan_tasks::Entity::find()
            .filter(plan_tasks::Column::PlanId.eq(plan_id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|task| (task.id, task))
            .collect();
        let kept: Vec<Uuid> = edits.iter().filter_map(|edit| edit.id).collect();
        if kept.iter().any(|id| !existing.contains_key(id)) {
            return Err(StoreError::NotFound);
        }
        plan_tasks::Entity::delete_many().filter(plan_tasks::Column::PlanId.eq(plan_id)).exec(&txn).await?;
        let rows =
            edits.into_iter().map(|edit| (edit.id.and_then(|id| existing.get(&id)), edit.draft)).collect();
        insert_tasks(&txn, plan_id, rows).await?;
    }
    let plan = find(&txn, user_id, row.id).await?;
    txn.commit().await?;
    Ok(plan)
}

/// Records where a task of the caller's plan sits on the calendar (`None` clears it).
pub async fn set_task_schedule(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    task_id: Uuid,
    placement: Option<(DateTime<Utc>, DateTime<Utc>)>,
    event_ref: Option<String>,
) -> Result<(), StoreError> {
    let task = plan_tasks::Entity::find_by_id(task_id).one(db).await?.ok_or(StoreError::NotFound)?;
    let owned = plans::Entity::find_by_id(task.plan_id)
        .filter(plans::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some();
    if !owned {
        return Err(StoreError::NotFound);
    }
    let mut active: plan_tasks::ActiveModel = task.into();
    active.scheduled_start = Set(placement.map(|(start, _)| start));
    active.scheduled_end = Set(placement.map(|(_, end)| end));
    active.calendar_event_ref = Set(event_ref);
    active.update(db).await?;
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

/// Deletes the caller's plan and its tasks.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &impl ConnectionTrait, user_id: Uuid, plan_id: Uuid) -> Result<(), StoreError> {
    let result = plans::Entity::delete_many()
        .filter(plans::Column::Id.eq(plan_id))
        .filter(plans::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Stores a plan's tasks in order with one multi-row insert. A task that replaces an earlier one
/// (`previous`) keeps its id and calendar binding: the scheduler moves the event, and its
/// placement stays a record of the last scheduling run.
async fn insert_tasks(
    db: &impl ConnectionTrait,
    plan_id: Uuid,
    tasks: Vec<(Option<&plan_tasks::Model>, PlanTaskDraft)>,
) -> Result<Vec<plan_tasks::Model>, StoreError> {
    let rows: Vec<plan_tasks::Model> = tasks
        .into_iter()
        .enumerate()
        .map(|(position, (previous, draft))| plan_tasks::Model {
            id: previous.map_or_else(Uuid::now_v7, |p| p.id),
            plan_id,
            position: i32::try_from(position).unwrap_or(i32::MAX),
            title: draft.title,
            description: draft.description,
            day_offset: i32::from(draft.day_offset),
            duration_minutes: i32::from(draft.duration_minutes),
            scheduled_start: previous.and_then(|p| p.scheduled_start),
            scheduled_end: previous.and_then(|p| p.scheduled_end),
            calendar_event_ref: previous.and_then(|p| p.calendar_event_ref.clone()),
        })
        .collect();
    // Bound the statement's parameter count (10 per row) well under every engine's limit.
    for chunk in rows.chunks(500) {
        let models = chunk.iter().cloned().map(plan_tasks::ActiveModel::from);
        plan_tasks::Entity::insert_many(models).exec_without_returning(db).await?;
    }
    Ok(rows)
}

fn usage_json(usage: TokenUsage) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(usage).map_err(|e| corrupt(e.to_string()))
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

fn to_plan(row: plans::Model, tasks: Vec<plan_tasks::Model>) -> Result<Plan, StoreError> {
    let number = |value: i32, what: &str| {
        u16::try_from(value).map_err(|_| corrupt(format!("{what} {value} out of range")))
    };
    let tasks = tasks
        .into_iter()
        .map(|task| {
            Ok(PlanTask {
                id: task.id,
                position: u32::try_from(task.position)
                    .map_err(|_| corrupt("negative position".to_owned()))?,
                title: task.title,
                description: task.description,
                day_offset: number(task.day_offset, "day_offset")?,
                duration_minutes: number(task.duration_minutes, "duration_minutes")?,
                scheduled_start: task.scheduled_start,
                scheduled_end: task.scheduled_end,
                calendar_event_id: task.calendar_event_ref,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
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
