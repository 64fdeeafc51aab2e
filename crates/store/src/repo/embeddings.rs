//! Chunks of knowledge documents and their embedding vectors, for semantic search.
//!
//! A document's chunks are replaced whenever it changes ([`replace_chunks`]); a chunk whose
//! content hash is unchanged keeps its vector, a new one waits with `embedded_at` NULL until the
//! background job stores its vector ([`pending`], [`store_vector`]). Vectors are normalised f32,
//! little-endian, with the model that wrote them: a chunk written by another model counts as
//! pending again, so changing the model re-embeds everything. Search reads a user's vectors into
//! memory with a bound ([`vectors_for`]); a few tens of thousands of 768-value vectors scan in
//! milliseconds, which is why there is no ANN index.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::{
    Conn, StoreError,
    entities::{knowledge_chunks as chunks, knowledge_docs as docs},
};

/// One chunk of a document, as the chunker cut it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChunk {
    /// Order in the document, from 0.
    pub position: i32,
    /// The heading the chunk sits under ("" before the first one).
    pub heading: String,
    /// The chunk's text.
    pub content: String,
    /// SHA-256 (hex) of the document title, heading and text: the same hash keeps the stored
    /// vector.
    pub content_hash: String,
}

/// What [`replace_chunks`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkSync {
    /// Chunks whose hash was already stored (their vectors stay).
    pub kept: usize,
    /// New chunks, waiting to be embedded.
    pub added: usize,
    /// Chunks no longer in the document.
    pub removed: usize,
}

/// A chunk waiting for its vector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChunk {
    /// The chunk's id.
    pub id: Uuid,
    /// Whose budget pays for it: the document's owner, `None` for a global document.
    pub owner: Option<Uuid>,
    /// The document's title (sent to the embedding model as the title).
    pub title: String,
    /// The heading the chunk sits under.
    pub heading: String,
    /// The chunk's text.
    pub content: String,
}

/// A stored vector, as search reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkVector {
    /// The chunk's id.
    pub chunk_id: Uuid,
    /// Its document.
    pub doc_id: Uuid,
    /// Unit-length values.
    pub vector: Vec<f32>,
}

/// A chunk's text, for a search result or a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkText {
    /// The chunk's id.
    pub id: Uuid,
    /// Its document.
    pub doc_id: Uuid,
    /// Order in the document, from 0.
    pub position: i32,
    /// The heading it sits under.
    pub heading: String,
    /// The text.
    pub content: String,
}

/// How far a document's indexing has come.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocIndexState {
    /// Chunks stored.
    pub chunks: u64,
    /// Of those, the ones with a vector of any model.
    pub embedded: u64,
}

/// Makes the stored chunks of `doc_id` match `new`, in one transaction: chunks with a known hash
/// keep their vector (and take their new position), the rest are inserted as pending, chunks
/// that are gone are deleted.
pub async fn replace_chunks(
    db: &Conn,
    doc_id: Uuid,
    owner: Option<Uuid>,
    new: Vec<NewChunk>,
) -> Result<ChunkSync, StoreError> {
    // Nothing changed (the common case at start-up): no write transaction at all.
    let stored: Vec<(i32, String)> = chunks::Entity::find()
        .select_only()
        .columns([chunks::Column::Position, chunks::Column::ContentHash])
        .filter(chunks::Column::DocId.eq(doc_id))
        .order_by_asc(chunks::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    if stored.len() == new.len()
        && stored
            .iter()
            .zip(&new)
            .all(|((position, hash), chunk)| *position == chunk.position && *hash == chunk.content_hash)
    {
        return Ok(ChunkSync { kept: new.len(), ..ChunkSync::default() });
    }
    let txn = crate::database::begin_write(db).await?;
    let existing = chunks::Entity::find().filter(chunks::Column::DocId.eq(doc_id)).all(&txn).await?;
    let mut by_hash: HashMap<String, Vec<chunks::Model>> = HashMap::new();
    for row in existing {
        by_hash.entry(row.content_hash.clone()).or_default().push(row);
    }
    let mut report = ChunkSync::default();
    let now = Utc::now();
    for chunk in new {
        if let Some(row) = by_hash.get_mut(&chunk.content_hash).and_then(Vec::pop) {
            report.kept += 1;
            if row.position != chunk.position {
                let mut active: chunks::ActiveModel = row.into();
                active.position = Set(chunk.position);
                active.update(&txn).await?;
            }
            continue;
        }
        chunks::ActiveModel {
            id: Set(Uuid::now_v7()),
            doc_id: Set(doc_id),
            user_id: Set(owner),
            position: Set(chunk.position),
            heading: Set(chunk.heading),
            content: Set(chunk.content),
            content_hash: Set(chunk.content_hash),
            model: Set(None),
            dimensions: Set(None),
            vector: Set(None),
            embedded_at: Set(None),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        report.added += 1;
    }
    let gone: Vec<Uuid> = by_hash.into_values().flatten().map(|row| row.id).collect();
    if !gone.is_empty() {
        report.removed = gone.len();
        chunks::Entity::delete_many().filter(chunks::Column::Id.is_in(gone)).exec(&txn).await?;
    }
    txn.commit().await?;
    Ok(report)
}

/// Up to `limit` chunks without a vector of `model` (never embedded, or by another model),
/// oldest first, leaving out the documents of `skip_owners` (whose budget is spent).
pub async fn pending(
    db: &impl ConnectionTrait,
    model: &str,
    skip_owners: &[Uuid],
    limit: u64,
) -> Result<Vec<PendingChunk>, StoreError> {
    let mut query = chunks::Entity::find().filter(
        Condition::any()
            .add(chunks::Column::EmbeddedAt.is_null())
            .add(chunks::Column::Model.is_null())
            .add(chunks::Column::Model.ne(model)),
    );
    if !skip_owners.is_empty() {
        query = query.filter(
            Condition::any()
                .add(chunks::Column::UserId.is_null())
                .add(chunks::Column::UserId.is_not_in(skip_owners.iter().copied())),
        );
    }
    let rows = query.order_by_asc(chunks::Column::Id).limit(limit).all(db).await?;
    let doc_ids: Vec<Uuid> = rows.iter().map(|row| row.doc_id).collect();
    let titles: HashMap<Uuid, String> = docs::Entity::find()
        .filter(docs::Column::Id.is_in(doc_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|doc| (doc.id, doc.title))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| PendingChunk {
            id: row.id,
            owner: row.user_id,
            title: titles.get(&row.doc_id).cloned().unwrap_or_default(),
            heading: row.heading,
            content: row.content,
        })
        .collect())
}

/// Stores the vector `model` wrote for chunk `id` (normalise it first). A chunk deleted in the
/// meantime is left deleted.
pub async fn store_vector(
    db: &impl ConnectionTrait,
    id: Uuid,
    model: &str,
    vector: &[f32],
) -> Result<(), StoreError> {
    let dimensions = i32::try_from(vector.len()).unwrap_or(i32::MAX);
    chunks::Entity::update_many()
        .col_expr(chunks::Column::Model, sea_orm::sea_query::Expr::value(model.to_owned()))
        .col_expr(chunks::Column::Dimensions, sea_orm::sea_query::Expr::value(dimensions))
        .col_expr(chunks::Column::Vector, sea_orm::sea_query::Expr::value(encode_vector(vector)))
        .col_expr(chunks::Column::EmbeddedAt, sea_orm::sea_query::Expr::value(Utc::now()))
        .filter(chunks::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The vectors of `model` the user may search (their own documents' and the global ones), at
/// most `bound` of them (the oldest chunks first), so one query's memory stays bounded.
pub async fn vectors_for(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    model: &str,
    bound: u64,
) -> Result<Vec<ChunkVector>, StoreError> {
    let rows: Vec<(Uuid, Uuid, Option<Vec<u8>>)> = chunks::Entity::find()
        .select_only()
        .columns([chunks::Column::Id, chunks::Column::DocId, chunks::Column::Vector])
        .filter(
            Condition::any().add(chunks::Column::UserId.eq(user_id)).add(chunks::Column::UserId.is_null()),
        )
        .filter(chunks::Column::Model.eq(model))
        .filter(chunks::Column::EmbeddedAt.is_not_null())
        .order_by_asc(chunks::Column::Id)
        .limit(bound)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(chunk_id, doc_id, bytes)| {
            Some(ChunkVector { chunk_id, doc_id, vector: decode_vector(&bytes?)? })
        })
        .collect())
}

/// A cheap summary of the vectors [`vectors_for`] would return (how many, the newest
/// `embedded_at` in microseconds): any embedding, re-embedding or deletion changes it, so a
/// cached copy with the same fingerprint is current.
pub async fn vectors_fingerprint(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    model: &str,
) -> Result<(i64, i64), StoreError> {
    // Two queries, the user's and the global chunks, each answered from the covering index
    // (an `OR` of the two would scan the rows).
    let mut count = 0;
    let mut newest = 0;
    for owner in [Some(user_id), None] {
        let owner_filter = match owner {
            Some(id) => chunks::Column::UserId.eq(id),
            None => chunks::Column::UserId.is_null(),
        };
        let row: Option<(i64, Option<chrono::DateTime<Utc>>)> = chunks::Entity::find()
            .select_only()
            .column_as(chunks::Column::EmbeddedAt.count(), "count")
            .column_as(chunks::Column::EmbeddedAt.max(), "newest")
            .filter(owner_filter)
            .filter(chunks::Column::Model.eq(model))
            .filter(chunks::Column::EmbeddedAt.is_not_null())
            .into_tuple()
            .one(db)
            .await?;
        if let Some((rows, at)) = row {
            count += rows;
            newest = newest.max(at.map_or(0, |at| at.timestamp_micros()));
        }
    }
    Ok((count, newest))
}

/// The text of the chunks `ids`, in no particular order.
pub async fn chunk_texts(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<ChunkText>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = chunks::Entity::find().filter(chunks::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| ChunkText {
            id: row.id,
            doc_id: row.doc_id,
            position: row.position,
            heading: row.heading,
            content: row.content,
        })
        .collect())
}

/// How many chunks document `doc_id` has, and how many of them have a vector.
pub async fn doc_state(db: &impl ConnectionTrait, doc_id: Uuid) -> Result<DocIndexState, StoreError> {
    let chunks_count = chunks::Entity::find().filter(chunks::Column::DocId.eq(doc_id)).count(db).await?;
    let embedded = chunks::Entity::find()
        .filter(chunks::Column::DocId.eq(doc_id))
        .filter(chunks::Column::EmbeddedAt.is_not_null())
        .count(db)
        .await?;
    Ok(DocIndexState { chunks: chunks_count, embedded })
}

/// Every document (id, owner, title, content), for the start-up pass that chunks documents
/// stored before this index existed or changed while the server was down.
pub async fn all_docs(
    db: &impl ConnectionTrait,
) -> Result<Vec<(Uuid, Option<Uuid>, String, String)>, StoreError> {
    Ok(docs::Entity::find()
        .select_only()
        .columns([docs::Column::Id, docs::Column::UserId, docs::Column::Title, docs::Column::Content])
        .order_by_asc(docs::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// `values` as little-endian f32 bytes.
pub fn encode_vector(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|value| value.to_le_bytes()).collect()
}

/// The f32 values of little-endian `bytes`; `None` when the length is not a multiple of four.
pub fn decode_vector(bytes: &[u8]) -> Option<Vec<f32>> {
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|four| f32::from_le_bytes([four[0], four[1], four[2], four[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_as_little_endian_bytes() {
        let values = [0.5_f32, -1.25, 0.0, f32::MIN_POSITIVE];
        let bytes = encode_vector(&values);
        assert_eq!(bytes.len(), 16);
        assert_eq!(&bytes[..4], &0.5_f32.to_le_bytes());
        assert_eq!(decode_vector(&bytes), Some(values.to_vec()));
        assert_eq!(decode_vector(&bytes[..5]), None);
    }
}
