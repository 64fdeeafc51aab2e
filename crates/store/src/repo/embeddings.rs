//! Chunks of knowledge documents, resources and plans ([`ChunkSource`]) and their embedding
//! vectors, for semantic search.
//!
//! A source's chunks are replaced whenever it changes ([`replace_chunks`]); a chunk whose
//! content hash is unchanged keeps its vector, a new one waits with `embedded_at` NULL until the
//! background job stores its vector ([`pending`], [`store_vector`]). Vectors are stored as int8
//! with one f32 scale ([`encode_vector`]: a quarter of the f32 size, cosine error under 0.01),
//! with the model that wrote them: a chunk written by another model counts as pending again, so
//! changing the model re-embeds everything. Search reads a user's vectors into memory with a
//! bound ([`vectors_for`]), and after a change only the vectors it does not hold yet
//! ([`vector_ids`], [`vectors_by_ids`]); a few tens of thousands of 768-value vectors scan in
//! milliseconds, which is why there is no ANN index.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Query, UnionType},
};
use uuid::Uuid;

use crate::{
    Conn, StoreError,
    entities::{knowledge_chunks as chunks, knowledge_docs as docs, plans, resources},
};

/// What a chunk was cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChunkSource {
    /// A knowledge document (global or the person's).
    Knowledge(Uuid),
    /// One of the person's resources.
    Resource(Uuid),
    /// One of the person's plans (goal, summary and tasks).
    Plan(Uuid),
}

impl ChunkSource {
    /// The source's id.
    pub fn id(self) -> Uuid {
        match self {
            Self::Knowledge(id) | Self::Resource(id) | Self::Plan(id) => id,
        }
    }

    /// The source of a stored row; `None` for a row with no source (never written).
    fn of(doc_id: Option<Uuid>, resource_id: Option<Uuid>, plan_id: Option<Uuid>) -> Option<Self> {
        doc_id.map(Self::Knowledge).or(resource_id.map(Self::Resource)).or(plan_id.map(Self::Plan))
    }

    /// `column = id` for the column that holds this kind of source.
    fn filter(self) -> sea_orm::sea_query::SimpleExpr {
        match self {
            Self::Knowledge(id) => chunks::Column::DocId.eq(id),
            Self::Resource(id) => chunks::Column::ResourceId.eq(id),
            Self::Plan(id) => chunks::Column::PlanId.eq(id),
        }
    }
}

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
    /// Whose budget pays for it: the source's owner, `None` for a global document.
    pub owner: Option<Uuid>,
    /// What it was cut from.
    pub source: ChunkSource,
    /// The source's title: a document's title, a resource's name, a plan's goal (sent to the
    /// embedding model as the title).
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
    /// What it was cut from.
    pub source: ChunkSource,
    /// Unit-length values, shared: a cached copy reconciled after a change keeps the values
    /// it holds without copying them.
    pub vector: std::sync::Arc<[f32]>,
}

/// A chunk's text, for a search result or a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkText {
    /// The chunk's id.
    pub id: Uuid,
    /// What it was cut from.
    pub source: ChunkSource,
    /// Order in the source, from 0.
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

/// Makes the stored chunks of `source` match `new`, in one transaction: chunks with a known hash
/// keep their vector (and take their new position), the rest are inserted as pending, chunks
/// that are gone are deleted (so `new` empty deletes them all).
pub async fn replace_chunks(
    db: &Conn,
    source: ChunkSource,
    owner: Option<Uuid>,
    new: Vec<NewChunk>,
) -> Result<ChunkSync, StoreError> {
    // Nothing changed (the common case at start-up): no write transaction at all.
    let stored: Vec<(i32, String)> = chunks::Entity::find()
        .select_only()
        .columns([chunks::Column::Position, chunks::Column::ContentHash])
        .filter(source.filter())
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
    let existing = chunks::Entity::find().filter(source.filter()).all(&txn).await?;
    let mut by_hash: HashMap<String, Vec<chunks::Model>> = HashMap::new();
    for row in existing {
        by_hash.entry(row.content_hash.clone()).or_default().push(row);
    }
    let mut report = ChunkSync::default();
    let now = Utc::now();
    let mut added = Vec::new();
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
        added.push(chunks::ActiveModel {
            id: Set(Uuid::now_v7()),
            doc_id: Set(matches!(source, ChunkSource::Knowledge(_)).then_some(source.id())),
            resource_id: Set(matches!(source, ChunkSource::Resource(_)).then_some(source.id())),
            plan_id: Set(matches!(source, ChunkSource::Plan(_)).then_some(source.id())),
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
        });
    }
    report.added = added.len();
    // One statement for a new source's chunks.
    for batch in super::insert_batches(added) {
        chunks::Entity::insert_many(batch).exec_without_returning(&txn).await?;
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
/// oldest first, leaving out the sources of `skip_owners` (whose budget is spent) and, when
/// `skip_global`, the global documents (the system budget is spent).
pub async fn pending(
    db: &impl ConnectionTrait,
    model: &str,
    skip_owners: &[Uuid],
    skip_global: bool,
    limit: u64,
) -> Result<Vec<PendingChunk>, StoreError> {
    let mut query = chunks::Entity::find().filter(
        Condition::any()
            .add(chunks::Column::EmbeddedAt.is_null())
            .add(chunks::Column::Model.is_null())
            .add(chunks::Column::Model.ne(model)),
    );
    if skip_global {
        query = query.filter(chunks::Column::UserId.is_not_null());
    }
    if !skip_owners.is_empty() {
        query = query.filter(
            Condition::any()
                .add(chunks::Column::UserId.is_null())
                .add(chunks::Column::UserId.is_not_in(skip_owners.iter().copied())),
        );
    }
    let rows = query.order_by_asc(chunks::Column::Id).limit(limit).all(db).await?;
    let titles = source_titles(db, &rows).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let source = ChunkSource::of(row.doc_id, row.resource_id, row.plan_id)?;
            Some(PendingChunk {
                id: row.id,
                owner: row.user_id,
                title: titles.get(&source.id()).cloned().unwrap_or_default(),
                source,
                heading: row.heading,
                content: row.content,
            })
        })
        .collect())
}

/// The titles of the sources of `rows`: documents' titles, resources' names, plans' goals.
async fn source_titles(
    db: &impl ConnectionTrait,
    rows: &[chunks::Model],
) -> Result<HashMap<Uuid, String>, StoreError> {
    let doc_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.doc_id).collect();
    let resource_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.resource_id).collect();
    let plan_ids: Vec<Uuid> = rows.iter().filter_map(|row| row.plan_id).collect();
    let mut titles: HashMap<Uuid, String> = HashMap::new();
    titles.extend(id_and_text::<docs::Entity>(db, docs::Column::Id, docs::Column::Title, doc_ids).await?);
    titles.extend(
        id_and_text::<resources::Entity>(db, resources::Column::Id, resources::Column::Name, resource_ids)
            .await?,
    );
    titles.extend(id_and_text::<plans::Entity>(db, plans::Column::Id, plans::Column::Goal, plan_ids).await?);
    Ok(titles)
}

/// `(id, text)` of the rows of `E` among `ids` (no statement for none).
async fn id_and_text<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    text: E::Column,
    ids: Vec<Uuid>,
) -> Result<Vec<(Uuid, String)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(E::find().select_only().columns([id, text]).filter(id.is_in(ids)).into_tuple().all(db).await?)
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

/// Who may search a chunk: its owner, and everyone for global ones.
fn visible_to(user_id: Uuid) -> Condition {
    Condition::any().add(chunks::Column::UserId.eq(user_id)).add(chunks::Column::UserId.is_null())
}

type VectorRow = (Uuid, Option<Uuid>, Option<Uuid>, Option<Uuid>, Option<i32>, Option<Vec<u8>>);

const VECTOR_COLUMNS: [chunks::Column; 6] = [
    chunks::Column::Id,
    chunks::Column::DocId,
    chunks::Column::ResourceId,
    chunks::Column::PlanId,
    chunks::Column::Dimensions,
    chunks::Column::Vector,
];

fn to_vector((chunk_id, doc_id, resource_id, plan_id, dimensions, bytes): VectorRow) -> Option<ChunkVector> {
    let dimensions = usize::try_from(dimensions?).ok()?;
    Some(ChunkVector {
        chunk_id,
        source: ChunkSource::of(doc_id, resource_id, plan_id)?,
        vector: decode_vector(&bytes?, dimensions)?.into(),
    })
}

/// The vectors of `model` the user may search (their own sources' and the global documents'),
/// at most `bound` of them (the oldest chunks first), so one query's memory stays bounded.
pub async fn vectors_for(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    model: &str,
    bound: u64,
) -> Result<Vec<ChunkVector>, StoreError> {
    let rows: Vec<VectorRow> = chunks::Entity::find()
        .select_only()
        .columns(VECTOR_COLUMNS)
        .filter(visible_to(user_id))
        .filter(chunks::Column::Model.eq(model))
        .filter(chunks::Column::EmbeddedAt.is_not_null())
        .order_by_asc(chunks::Column::Id)
        .limit(bound)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(to_vector).collect())
}

/// The ids of the chunks [`vectors_for`] would return, in the same order, read from the index
/// alone: what a cached copy compares itself with after a change.
pub async fn vector_ids(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    model: &str,
    bound: u64,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(chunks::Entity::find()
        .select_only()
        .column(chunks::Column::Id)
        .filter(visible_to(user_id))
        .filter(chunks::Column::Model.eq(model))
        .filter(chunks::Column::EmbeddedAt.is_not_null())
        .order_by_asc(chunks::Column::Id)
        .limit(bound)
        .into_tuple()
        .all(db)
        .await?)
}

/// The vectors of `model` of the chunks `ids` (those that have one), in no particular order.
pub async fn vectors_by_ids(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    model: &str,
) -> Result<Vec<ChunkVector>, StoreError> {
    let mut vectors = Vec::with_capacity(ids.len());
    // Bounded IN lists: SQLite allows 32 766 parameters, PostgreSQL 65 535.
    for part in ids.chunks(1_000) {
        let rows: Vec<VectorRow> = chunks::Entity::find()
            .select_only()
            .columns(VECTOR_COLUMNS)
            .filter(chunks::Column::Id.is_in(part.iter().copied()))
            .filter(chunks::Column::Model.eq(model))
            .filter(chunks::Column::EmbeddedAt.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        vectors.extend(rows.into_iter().filter_map(to_vector));
    }
    Ok(vectors)
}

/// A cheap summary of the vectors [`vectors_for`] would return (how many, the newest
/// `embedded_at` in microseconds): any embedding, re-embedding or deletion changes it, so a
/// cached copy with the same fingerprint is current.
pub async fn vectors_fingerprint(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    model: &str,
) -> Result<(i64, i64), StoreError> {
    // The user's and the global chunks as two terms of one statement, each answered from the
    // covering index (an `OR` of the two would scan the rows).
    let term = |owner: Option<Uuid>| {
        let mut term = Query::select();
        term.expr_as(Expr::col(chunks::Column::EmbeddedAt).count(), Alias::new("count"))
            .expr_as(Expr::col(chunks::Column::EmbeddedAt).max(), Alias::new("newest"))
            .from(chunks::Entity)
            .and_where(match owner {
                Some(id) => chunks::Column::UserId.eq(id),
                None => chunks::Column::UserId.is_null(),
            })
            .and_where(chunks::Column::Model.eq(model))
            .and_where(chunks::Column::EmbeddedAt.is_not_null());
        term
    };
    let mut query = term(Some(user_id));
    query.union(UnionType::All, term(None));
    let mut count = 0;
    let mut newest = 0;
    for row in db.query_all(&query).await? {
        count += row.try_get::<i64>("", "count")?;
        let at: Option<chrono::DateTime<Utc>> = row.try_get("", "newest")?;
        newest = Ord::max(newest, at.map_or(0, |at| at.timestamp_micros()));
    }
    Ok((count, newest))
}

/// A chunk's id, source columns, position, heading and text.
type TextRow = (Uuid, Option<Uuid>, Option<Uuid>, Option<Uuid>, i32, String, String);

/// The text of the chunks `ids`, in no particular order.
pub async fn chunk_texts(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<ChunkText>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<TextRow> = chunks::Entity::find()
        .select_only()
        .columns([
            chunks::Column::Id,
            chunks::Column::DocId,
            chunks::Column::ResourceId,
            chunks::Column::PlanId,
            chunks::Column::Position,
            chunks::Column::Heading,
            chunks::Column::Content,
        ])
        .filter(chunks::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, doc_id, resource_id, plan_id, position, heading, content)| {
            Some(ChunkText {
                id,
                source: ChunkSource::of(doc_id, resource_id, plan_id)?,
                position,
                heading,
                content,
            })
        })
        .collect())
}

/// How many chunks `source` has, and how many of them have a vector.
pub async fn source_state(
    db: &impl ConnectionTrait,
    source: ChunkSource,
) -> Result<DocIndexState, StoreError> {
    let chunks_count = chunks::Entity::find().filter(source.filter()).count(db).await?;
    let embedded = chunks::Entity::find()
        .filter(source.filter())
        .filter(chunks::Column::EmbeddedAt.is_not_null())
        .count(db)
        .await?;
    Ok(DocIndexState { chunks: chunks_count, embedded })
}

/// How many chunks knowledge document `doc_id` has, and how many of them have a vector.
pub async fn doc_state(db: &impl ConnectionTrait, doc_id: Uuid) -> Result<DocIndexState, StoreError> {
    source_state(db, ChunkSource::Knowledge(doc_id)).await
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

/// Every resource and plan (source, owner), for the same start-up pass.
pub async fn all_personal_sources(db: &impl ConnectionTrait) -> Result<Vec<(ChunkSource, Uuid)>, StoreError> {
    let resource_rows: Vec<(Uuid, Uuid)> = resources::Entity::find()
        .select_only()
        .columns([resources::Column::Id, resources::Column::UserId])
        .order_by_asc(resources::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let plan_rows: Vec<(Uuid, Uuid)> = plans::Entity::find()
        .select_only()
        .columns([plans::Column::Id, plans::Column::UserId])
        .order_by_asc(plans::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    Ok(resource_rows
        .into_iter()
        .map(|(id, owner)| (ChunkSource::Resource(id), owner))
        .chain(plan_rows.into_iter().map(|(id, owner)| (ChunkSource::Plan(id), owner)))
        .collect())
}

/// `values` (unit length) as stored: an f32 scale (little-endian) then one signed byte a value,
/// `value ≈ byte × scale`, the scale mapping the largest magnitude to 127. A quarter of the f32
/// size, so a cold read of 10 000 768-value vectors is 7.7 MB instead of 30 MB; each value is
/// off by at most `scale / 2`, which moves a cosine between unit vectors by well under 0.01
/// (the retrieval evaluation ranks identically, see docs/BENCHMARKS.md).
pub fn encode_vector(values: &[f32]) -> Vec<u8> {
    let largest = values.iter().fold(0.0_f32, |largest, value| largest.max(value.abs()));
    let scale = if largest > 0.0 && largest.is_finite() { largest / 127.0 } else { 1.0 };
    let mut bytes = Vec::with_capacity(4 + values.len());
    bytes.extend_from_slice(&scale.to_le_bytes());
    #[expect(clippy::cast_possible_truncation, reason = "rounded and clamped to the i8 range")]
    bytes.extend(
        values.iter().map(|value| ((value / scale).round().clamp(-127.0, 127.0) as i8).to_le_bytes()[0]),
    );
    bytes
}

/// The `dimensions` values stored in `bytes`, scaled back to unit length: int8 with a scale
/// ([`encode_vector`], `4 + dimensions` bytes) or plain little-endian f32 (`4 × dimensions`
/// bytes, as vectors were first stored). `None` for any other length.
pub fn decode_vector(bytes: &[u8], dimensions: usize) -> Option<Vec<f32>> {
    if dimensions == 0 {
        return None;
    }
    if bytes.len() == dimensions * 4 {
        return Some(
            bytes
                .chunks_exact(4)
                .map(|four| f32::from_le_bytes([four[0], four[1], four[2], four[3]]))
                .collect(),
        );
    }
    if bytes.len() != dimensions + 4 {
        return None;
    }
    let scale = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let mut values: Vec<f32> =
        bytes[4..].iter().map(|byte| f32::from(i8::from_le_bytes([*byte])) * scale).collect();
    let norm = values.iter().map(|value| value * value).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        values.iter_mut().for_each(|value| *value /= norm);
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, n: usize) -> Vec<f32> {
        // A small deterministic generator: no dependency needed for a test vector.
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let values: Vec<f32> = (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2_001) as f32 / 1_000.0 - 1.0
            })
            .collect();
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        values.into_iter().map(|v| v / norm).collect()
    }

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn vectors_are_stored_as_int8_and_keep_their_cosines() {
        let a = unit(1, 768);
        let b = unit(2, 768);
        let bytes = encode_vector(&a);
        assert_eq!(bytes.len(), 4 + 768, "a quarter of the f32 size");
        let decoded = decode_vector(&bytes, 768).unwrap();
        assert!((dot(&decoded, &decoded) - 1.0).abs() < 1e-4, "unit length again");
        assert!((dot(&decoded, &a) - 1.0).abs() < 1e-3, "{}", dot(&decoded, &a));
        let exact = dot(&a, &b);
        let quantized = dot(&decoded, &decode_vector(&encode_vector(&b), 768).unwrap());
        assert!((exact - quantized).abs() < 0.01, "{exact} vs {quantized}");
        assert!(decode_vector(&bytes, 767).is_none(), "a length that fits neither layout");
        assert!(decode_vector(&bytes, 0).is_none());
        let zero = decode_vector(&encode_vector(&[0.0; 4]), 4).unwrap();
        assert_eq!(zero, vec![0.0; 4]);
    }

    #[test]
    fn vectors_stored_as_f32_still_read() {
        let values = [0.5_f32, -1.25, 0.0, f32::MIN_POSITIVE];
        let bytes: Vec<u8> = values.iter().flat_map(|value| value.to_le_bytes()).collect();
        assert_eq!(decode_vector(&bytes, 4), Some(values.to_vec()));
        assert_eq!(decode_vector(&bytes[..5], 4), None);
    }
}
