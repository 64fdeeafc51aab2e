//! Knowledge documents and their ranked full-text search: SQLite FTS5 (bm25) or PostgreSQL
//! `tsvector` with a GIN index (`ts_rank_cd`), behind the same functions.

use std::collections::HashMap;

use chrono::Utc;
use planwright_domain::{KnowledgeChanges, KnowledgeDoc, KnowledgeHit, NewKnowledgeDoc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend,
    EntityTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::{
    StoreError,
    entities::knowledge_docs,
    repo::page::{self, Page, PageRequest},
};

const TABLE: &str = "knowledge_docs";

/// A global document as read from `knowledge.dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalDoc {
    /// Path relative to the folder: the document's identity across reloads.
    pub source_path: String,
    /// The document.
    pub doc: NewKnowledgeDoc,
}

/// What a reload of the global documents changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// New files.
    pub added: usize,
    /// Changed files.
    pub updated: usize,
    /// Files that are gone.
    pub removed: usize,
    /// Files as they were.
    pub unchanged: usize,
}

/// Stores one of the caller's documents.
pub async fn create(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    doc: NewKnowledgeDoc,
) -> Result<KnowledgeDoc, StoreError> {
    let row = insert(db, Some(user_id), None, doc).await?;
    to_doc(row)
}

/// A document the caller may read: their own or a global one.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<KnowledgeDoc, StoreError> {
    let row = knowledge_docs::Entity::find_by_id(id)
        .filter(visible_to(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    to_doc(row)
}

/// The documents among `ids` the caller may read, in no particular order (others are left out).
pub async fn find_visible_many(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<KnowledgeDoc>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = knowledge_docs::Entity::find()
        .filter(knowledge_docs::Column::Id.is_in(ids.iter().copied()))
        .filter(visible_to(user_id))
        .all(db)
        .await?;
    rows.into_iter().map(to_doc).collect()
}

/// The documents the caller may read, oldest first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    request: &PageRequest,
) -> Result<Page<KnowledgeDoc>, StoreError> {
    let mut query = knowledge_docs::Entity::find().filter(visible_to(user_id));
    if let Some(cursor) = &request.cursor {
        let (_, last_id) = page::decode(cursor)?;
        query = query.filter(knowledge_docs::Column::Id.gt(last_id));
    }
    let rows = query.order_by_asc(knowledge_docs::Column::Id).limit(request.limit + 1).all(db).await?;
    let docs = rows.into_iter().map(to_doc).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(docs, request.limit, |doc| (0, doc.id)))
}

/// The best matches for `query` among the documents the caller may read, best first.
pub async fn search(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    query: &str,
    limit: u64,
) -> Result<Vec<KnowledgeHit>, StoreError> {
    let terms = search_terms(query);
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    let columns = "d.id, d.user_id, d.source_path, d.title, d.content, d.tags, d.created_at, d.updated_at";
    let statement = match backend {
        DatabaseBackend::Postgres => Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {columns},
                    ts_headline('english', d.content, q, 'MaxWords=30, MinWords=12, StartSel=\"\", StopSel=\"\"') AS snippet,
                    ts_rank_cd(d.search, q)::float8 AS score
                 FROM knowledge_docs d, to_tsquery('english', $1) q
                 WHERE d.search @@ q AND (d.user_id = $2 OR d.user_id IS NULL)
                 ORDER BY score DESC, d.id LIMIT $3"
            ),
            [terms.join(" | ").into(), user_id.into(), i64::try_from(limit).unwrap_or(i64::MAX).into()],
        ),
        _ => Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT {columns},
                    snippet(knowledge_fts, 3, '', '', '…', 24) AS snippet,
                    -bm25(knowledge_fts, 0.0, 10.0, 5.0, 1.0) AS score
                 FROM knowledge_fts JOIN knowledge_docs d ON d.id = knowledge_fts.doc_id
                 WHERE knowledge_fts MATCH $1 AND (d.user_id = $2 OR d.user_id IS NULL)
                 ORDER BY score DESC, d.id LIMIT $3"
            ),
            [
                terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" OR ").into(),
                user_id.into(),
                i64::try_from(limit).unwrap_or(i64::MAX).into(),
            ],
        ),
    };
    db.query_all_raw(statement).await?.iter().map(to_hit).collect()
}

/// Applies a partial update to one of the caller's own documents.
pub async fn update(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
    changes: KnowledgeChanges,
) -> Result<KnowledgeDoc, StoreError> {
    let row = knowledge_docs::Entity::find_by_id(id)
        .filter(knowledge_docs::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut active: knowledge_docs::ActiveModel = row.into();
    if let Some(title) = changes.title {
        active.title = Set(title);
    }
    if let Some(content) = changes.content {
        active.content = Set(content);
    }
    if let Some(tags) = changes.tags {
        active.tags = Set(serde_json::Value::from(tags));
    }
    active.updated_at = Set(Utc::now());
    to_doc(active.update(db).await?)
}

/// Deletes one of the caller's own documents.
pub async fn delete(db: &impl ConnectionTrait, user_id: Uuid, id: Uuid) -> Result<(), StoreError> {
    let result = knowledge_docs::Entity::delete_many()
        .filter(knowledge_docs::Column::Id.eq(id))
        .filter(knowledge_docs::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Makes the global documents match `docs`: new files are added, changed ones updated, missing
/// ones removed, the rest left alone (so reloading the same folder changes nothing).
///
/// Replicas starting together all run this: it holds the write lock for the whole sync (an
/// advisory lock on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so they take turns and the later
/// ones find nothing to do.
pub async fn sync_global(db: &crate::Conn, docs: Vec<GlobalDoc>) -> Result<SyncReport, StoreError> {
    let txn = crate::database::begin_write(db).await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(7461626)").await?;
    }
    let report = sync_in(&txn, docs).await?;
    txn.commit().await?;
    Ok(report)
}

async fn sync_in(db: &impl ConnectionTrait, docs: Vec<GlobalDoc>) -> Result<SyncReport, StoreError> {
    let existing: HashMap<String, knowledge_docs::Model> = knowledge_docs::Entity::find()
        .filter(knowledge_docs::Column::UserId.is_null())
        .all(db)
        .await?
        .into_iter()
        .filter_map(|row| row.source_path.clone().map(|path| (path, row)))
        .collect();
    let mut report = SyncReport::default();
    let mut seen = Vec::with_capacity(docs.len());
    for GlobalDoc { source_path, doc } in docs {
        seen.push(source_path.clone());
        match existing.get(&source_path) {
            None => {
                insert(db, None, Some(source_path), doc).await?;
                report.added += 1;
            }
            Some(row) => {
                let tags = serde_json::Value::from(doc.tags.clone());
                if row.title == doc.title && row.content == doc.content && row.tags == tags {
                    report.unchanged += 1;
                    continue;
                }
                let mut active: knowledge_docs::ActiveModel = row.clone().into();
                active.title = Set(doc.title);
                active.content = Set(doc.content);
                active.tags = Set(tags);
                active.updated_at = Set(Utc::now());
                active.update(db).await?;
                report.updated += 1;
            }
        }
    }
    let gone: Vec<Uuid> =
        existing.iter().filter(|(path, _)| !seen.contains(path)).map(|(_, row)| row.id).collect();
    if !gone.is_empty() {
        report.removed = gone.len();
        knowledge_docs::Entity::delete_many().filter(knowledge_docs::Column::Id.is_in(gone)).exec(db).await?;
    }
    Ok(report)
}

/// Words of a user's query, safe to put in FTS5 and `to_tsquery` syntax: letters and digits only.
fn search_terms(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| word.chars().take(64).collect::<String>().to_lowercase())
        .take(16)
        .collect()
}

fn visible_to(user_id: Uuid) -> Condition {
    Condition::any()
        .add(knowledge_docs::Column::UserId.eq(user_id))
        .add(knowledge_docs::Column::UserId.is_null())
}

async fn insert(
    db: &impl ConnectionTrait,
    user_id: Option<Uuid>,
    source_path: Option<String>,
    doc: NewKnowledgeDoc,
) -> Result<knowledge_docs::Model, StoreError> {
    let now = Utc::now();
    Ok(knowledge_docs::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        source_path: Set(source_path),
        title: Set(doc.title),
        content: Set(doc.content),
        tags: Set(serde_json::Value::from(doc.tags)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt { table: TABLE, message }
}

fn to_doc(row: knowledge_docs::Model) -> Result<KnowledgeDoc, StoreError> {
    Ok(KnowledgeDoc {
        id: row.id,
        user_id: row.user_id,
        title: row.title,
        content: row.content,
        tags: serde_json::from_value(row.tags).map_err(|e| corrupt(e.to_string()))?,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

fn to_hit(row: &QueryResult) -> Result<KnowledgeHit, StoreError> {
    let doc = knowledge_docs::Model {
        id: row.try_get("", "id")?,
        user_id: row.try_get("", "user_id")?,
        source_path: row.try_get("", "source_path")?,
        title: row.try_get("", "title")?,
        content: row.try_get("", "content")?,
        tags: row.try_get("", "tags")?,
        created_at: row.try_get("", "created_at")?,
        updated_at: row.try_get("", "updated_at")?,
    };
    Ok(KnowledgeHit {
        doc: to_doc(doc)?,
        snippet: row.try_get("", "snippet")?,
        score: Some(row.try_get::<f64>("", "score")?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_terms_keep_only_words() {
        assert_eq!(search_terms("Spaced repetition: how?"), ["spaced", "repetition", "how"]);
        assert_eq!(search_terms("\" OR 1=1; -- & | !"), ["or", "1", "1"]);
        assert!(search_terms("  ...  ").is_empty());
    }
}
