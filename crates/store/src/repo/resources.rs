//! The person's resources: any JSON, filtered by class and type.

use chrono::Utc;
use planwright_domain::{NewResource, Resource, ResourceChanges};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::resources,
    repo::{
        matching,
        page::{self, Page, PageRequest},
    },
};

/// Which resources to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceFilter {
    /// Only this class.
    pub class_id: Option<String>,
    /// Only this type.
    pub kind: Option<String>,
}

/// Stores a resource.
#[tracing::instrument(skip(db, resource))]
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    resource: NewResource,
) -> Result<Resource, StoreError> {
    let now = Utc::now();
    let row = resources::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        class_id: Set(resource.class_id),
        kind: Set(resource.kind),
        name: Set(resource.name),
        content: Set(resource.content),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(to_resource(row))
}

/// The caller's resource with this id.
pub async fn find(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<Resource, StoreError> {
    resources::Entity::find_by_id(id)
        .filter(resources::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .map(to_resource)
        .ok_or(StoreError::NotFound)
}

/// The caller's resources matching `filter`, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    filter: &ResourceFilter,
    request: &PageRequest,
) -> Result<Page<Resource>, StoreError> {
    let mut query = resources::Entity::find().filter(resources::Column::UserId.eq(user_id));
    if let Some(class_id) = &filter.class_id {
        query = query.filter(resources::Column::ClassId.eq(class_id.as_str()));
    }
    if let Some(kind) = &filter.kind {
        query = query.filter(resources::Column::Kind.eq(kind.as_str()));
    }
    if let Some(cursor) = &request.cursor {
        // Ids are UUIDv7: their order is creation order.
        let (_, last_id) = page::decode(cursor)?;
        query = query.filter(resources::Column::Id.gt(last_id));
    }
    let rows = query.order_by_asc(resources::Column::Id).limit(request.limit + 1).all(db).await?;
    let items = rows.into_iter().map(to_resource).collect();
    Ok(Page::from_rows(items, request.limit, |resource| (0, resource.id)))
}

/// The caller's resources that mention the significant words of `query`, best match first
/// (ties: newest first), at most `limit`. Only the 50 newest candidates are ranked.
pub async fn search(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    query: &str,
    limit: usize,
) -> Result<Vec<Resource>, StoreError> {
    let terms = matching::significant_terms(query);
    if terms.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let content =
        if backend == DatabaseBackend::Postgres { "content::text" } else { "CAST(content AS TEXT)" };
    let (clause, mut values) =
        matching::any_like(backend, &["name", "kind", "COALESCE(class_id, '')", content], &terms, 2);
    values.insert(0, user_id.into());
    let sql = format!(
        "SELECT * FROM resources WHERE user_id = $1 AND {clause} ORDER BY created_at DESC, id DESC LIMIT 50"
    );
    let rows = resources::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await?;
    let mut ranked: Vec<(usize, Resource)> = rows
        .into_iter()
        .map(|row| {
            let heading = format!("{} {} {}", row.name, row.kind, row.class_id.as_deref().unwrap_or(""));
            let score = 3 * matching::matched_terms(&heading, &terms)
                + matching::matched_terms(&row.content.to_string(), &terms);
            (score, to_resource(row))
        })
        .collect();
    // A stable sort keeps the newest-first order among equal scores.
    ranked.sort_by_key(|(score, _)| std::cmp::Reverse(*score));
    Ok(ranked.into_iter().take(limit).map(|(_, resource)| resource).collect())
}

/// Applies a partial update.
#[tracing::instrument(skip(db, changes))]
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    changes: ResourceChanges,
) -> Result<Resource, StoreError> {
    let row = resources::Entity::find_by_id(id)
        .filter(resources::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut active: resources::ActiveModel = row.into();
    if let Some(class_id) = changes.class_id {
        active.class_id = Set(class_id);
    }
    if let Some(kind) = changes.kind {
        active.kind = Set(kind);
    }
    if let Some(name) = changes.name {
        active.name = Set(name);
    }
    if let Some(content) = changes.content {
        active.content = Set(content);
    }
    active.updated_at = Set(Utc::now());
    Ok(to_resource(active.update(db).await?))
}

/// Deletes the caller's resource.
#[tracing::instrument(skip(db))]
pub async fn delete(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    let result = resources::Entity::delete_many()
        .filter(resources::Column::Id.eq(id))
        .filter(resources::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn to_resource(row: resources::Model) -> Resource {
    Resource {
        id: row.id,
        user_id: row.user_id,
        class_id: row.class_id,
        kind: row.kind,
        name: row.name,
        content: row.content,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}
