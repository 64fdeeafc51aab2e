//! Ranking: full-text candidates (FTS5 / `tsvector` for documents, word matching for resources
//! and plans), vector candidates (cosine over the caller's chunk vectors, read with a bound,
//! best chunk per source), and hybrid = both lists merged by reciprocal-rank fusion
//! (`1 / (k + rank)`, k = 60), which needs no score calibration between the two engines.

use std::{collections::HashMap, sync::Arc};

use planwright_domain::{KnowledgeDoc, KnowledgeHit, Plan, Resource, TokenUsage};
use planwright_store::repo::{
    embeddings::{self, ChunkSource, ChunkVector},
    knowledge, plans as plan_repo, resources as resource_repo,
};
use uuid::Uuid;

use super::{cache::VectorCache, index::estimate_tokens};
use crate::{error::ApiError, services::budget, state::AppState};

/// The `k` of reciprocal-rank fusion: 60, as in the original paper; it damps the top ranks so
/// a document ranked well by both lists beats one ranked first by only one.
pub const RRF_K: f64 = 60.0;
/// Most vectors read per query (the caller's and the global ones): bounds memory and time
/// (about 60 MB and a few milliseconds at 768 values).
pub const VECTOR_BOUND: u64 = 20_000;
/// Candidates taken from each list before fusion.
const CANDIDATES: usize = 20;
/// Characters of the query that are embedded; the rest would only dilute the vector.
const QUERY_CHARS: usize = 2_000;
/// Characters of a matching chunk shown as the snippet.
const SNIPPET_CHARS: usize = 300;

/// How `GET /knowledge?q=` ranks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SearchMode {
    /// Full-text search alone.
    #[default]
    Text,
    /// Vector similarity alone (full text when there are no embeddings).
    Semantic,
    /// Both, merged by reciprocal-rank fusion (full text when there are no embeddings).
    Hybrid,
}

/// The chunk of a document that matched by meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRef {
    /// The chunk's id.
    pub id: Uuid,
    /// Its order in the document, from 0.
    pub position: i32,
    /// The heading it sits under ("" before the first).
    pub heading: String,
    /// Its text.
    pub text: String,
    /// Cosine similarity to the query, -1 to 1.
    pub similarity: f32,
}

/// A search result: the document hit and, when vectors took part, its best chunk.
#[derive(Debug, Clone)]
pub struct RankedHit {
    /// The document, snippet and score (bm25 / `ts_rank_cd` for text, cosine for semantic,
    /// fused for hybrid).
    pub hit: KnowledgeHit,
    /// The document's best-matching chunk.
    pub chunk: Option<ChunkRef>,
}

/// The caller's documents ranked for `query` in `mode`, best first, at most `limit`. An empty
/// query finds nothing; without embeddings every mode ranks by full text.
pub async fn search(
    state: &AppState,
    user_id: Uuid,
    query: &str,
    mode: SearchMode,
    limit: u64,
) -> Result<Vec<RankedHit>, ApiError> {
    let query = query.trim();
    if query.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let db = state.db.conn();
    let candidates = limit.max(CANDIDATES as u64);
    let text = if mode == SearchMode::Semantic {
        Vec::new()
    } else {
        knowledge::search(db, user_id, query, candidates).await?
    };
    let semantic = match mode {
        SearchMode::Text => None,
        _ => match prepare_semantic(state, user_id, query).await {
            Some(prepared) => {
                let n = usize::try_from(candidates).unwrap_or(CANDIDATES);
                semantic_candidates(state, &prepared, n, |source| matches!(source, ChunkSource::Knowledge(_)))
                    .await
            }
            None => None,
        },
    };
    // No embeddings: full text serves a semantic search too.
    let text = if semantic.is_none() && mode == SearchMode::Semantic {
        knowledge::search(db, user_id, query, limit).await?
    } else {
        text
    };
    rank_knowledge(state, user_id, text, semantic, mode, limit).await
}

/// Documents in `mode`'s order from the full-text hits `text` and the semantic candidates
/// (`None`: no embeddings, full text serves alone), at most `limit`.
async fn rank_knowledge(
    state: &AppState,
    user_id: Uuid,
    text: Vec<KnowledgeHit>,
    semantic: Option<Vec<(ChunkSource, ChunkRef)>>,
    mode: SearchMode,
    limit: u64,
) -> Result<Vec<RankedHit>, ApiError> {
    let db = state.db.conn();
    let Some(semantic) = semantic else {
        // No embeddings: full text serves alone.
        return Ok(text
            .into_iter()
            .take(to_usize(limit))
            .map(|hit| RankedHit { hit, chunk: None })
            .collect());
    };
    let order: Vec<(Uuid, f64)> = match mode {
        SearchMode::Hybrid => {
            let text_ids: Vec<Uuid> = text.iter().map(|hit| hit.doc.id).collect();
            let semantic_ids: Vec<Uuid> = semantic.iter().map(|(source, _)| source.id()).collect();
            // Semantic first: on equal fused scores its hit wins, since its list is cut at a
            // similarity floor while full text matches any one word of the query.
            reciprocal_rank_fusion(&[&semantic_ids, &text_ids], RRF_K)
        }
        _ => semantic.iter().map(|(source, chunk)| (source.id(), f64::from(chunk.similarity))).collect(),
    };
    let order: Vec<(Uuid, f64)> = order.into_iter().take(to_usize(limit)).collect();
    let mut text_hits: HashMap<Uuid, KnowledgeHit> = text.into_iter().map(|hit| (hit.doc.id, hit)).collect();
    let mut chunks: HashMap<Uuid, ChunkRef> =
        semantic.into_iter().map(|(source, chunk)| (source.id(), chunk)).collect();
    let missing: Vec<Uuid> =
        order.iter().map(|(id, _)| *id).filter(|id| !text_hits.contains_key(id)).collect();
    let mut docs: HashMap<Uuid, KnowledgeDoc> = knowledge::find_visible_many(db, user_id, &missing)
        .await?
        .into_iter()
        .map(|doc| (doc.id, doc))
        .collect();
    Ok(order
        .into_iter()
        .filter_map(|(id, score)| {
            let chunk = chunks.remove(&id);
            let hit = match text_hits.remove(&id) {
                Some(hit) => KnowledgeHit { score: Some(score), ..hit },
                None => {
                    let doc = docs.remove(&id)?;
                    let snippet = chunk.as_ref().map(|c| shorten(&c.text, SNIPPET_CHARS)).unwrap_or_default();
                    KnowledgeHit { doc, snippet, score: Some(score) }
                }
            };
            Some(RankedHit { hit, chunk })
        })
        .collect())
}

/// Most sources of each kind that ground one chat message.
#[derive(Debug, Clone, Copy)]
pub struct ChatLimits {
    /// Knowledge documents.
    pub knowledge: u64,
    /// The person's resources.
    pub resources: usize,
    /// The person's plans.
    pub plans: usize,
}

/// What grounds a chat message, each list best first. A resource's `name` and a plan's `goal`
/// name the chunk that matched by meaning ("name › part 2", "goal › Day 3"), so the answer's
/// `sources` name both.
#[derive(Debug, Default)]
pub struct ChatGrounding {
    /// Knowledge documents, each cut down to its best chunk.
    pub knowledge: Vec<KnowledgeHit>,
    /// The person's resources.
    pub resources: Vec<Resource>,
    /// The person's plans.
    pub plans: Vec<Plan>,
    /// The chunk that matched by meaning, by resource or plan id (sources found by words alone
    /// have none).
    pub chunks: HashMap<Uuid, ChunkRef>,
}

/// Grounding for a chat message: knowledge documents, resources and plans, each ranked hybrid
/// (the query embedded once, full text and vectors fused per kind), each knowledge document
/// cut down to its best chunk (titled "document › heading" or "document › part n"; a
/// document's unheaded opening chunk keeps the document's title). Embedding failures and
/// missing vectors leave full-text search serving alone; the chat never fails for them.
pub async fn retrieve_for_chat(
    state: &AppState,
    user_id: Uuid,
    message: &str,
    limits: ChatLimits,
) -> Result<ChatGrounding, ApiError> {
    let db = state.db.conn();
    let query = message.trim();
    if query.is_empty() {
        return Ok(ChatGrounding::default());
    }
    let prepared = prepare_semantic(state, user_id, query).await;
    let hits = match &prepared {
        Some(prepared) => {
            let semantic = semantic_candidates(state, prepared, CANDIDATES, |source| {
                matches!(source, ChunkSource::Knowledge(_))
            })
            .await;
            let text = knowledge::search(db, user_id, query, CANDIDATES as u64).await?;
            rank_knowledge(state, user_id, text, semantic, SearchMode::Hybrid, limits.knowledge).await?
        }
        None => knowledge::search(db, user_id, query, limits.knowledge)
            .await?
            .into_iter()
            .map(|hit| RankedHit { hit, chunk: None })
            .collect(),
    };
    let knowledge = hits
        .into_iter()
        .map(|ranked| match ranked.chunk {
            Some(chunk) => {
                let mut doc = ranked.hit.doc;
                doc.title = chunk_title(&doc.title, &chunk);
                doc.content = chunk.text;
                KnowledgeHit { snippet: shorten(&doc.content, SNIPPET_CHARS), doc, score: ranked.hit.score }
            }
            None => ranked.hit,
        })
        .collect();

    let text_resources = resource_repo::search(db, user_id, query, CANDIDATES).await?;
    let semantic_resources = match &prepared {
        Some(prepared) => {
            semantic_candidates(state, prepared, CANDIDATES, |source| {
                matches!(source, ChunkSource::Resource(_))
            })
            .await
        }
        None => None,
    };
    let mut chunks = HashMap::new();
    let mut resources = Vec::new();
    for (id, chunk) in fuse_personal(
        text_resources.iter().map(|resource| resource.id).collect(),
        semantic_resources,
        limits.resources,
    ) {
        let found = match text_resources.iter().find(|resource| resource.id == id) {
            Some(resource) => Some(resource.clone()),
            None => resource_repo::find(db, user_id, id).await.ok(),
        };
        if let Some(mut resource) = found {
            if let Some(chunk) = chunk {
                resource.name = chunk_title(&resource.name, &chunk);
                chunks.insert(id, chunk);
            }
            resources.push(resource);
        }
    }

    let text_plans = plan_repo::search(db, user_id, query, CANDIDATES).await?;
    let semantic_plans = match &prepared {
        Some(prepared) => {
            semantic_candidates(state, prepared, CANDIDATES, |source| matches!(source, ChunkSource::Plan(_)))
                .await
        }
        None => None,
    };
    let fused = fuse_personal(text_plans.iter().map(|plan| plan.id).collect(), semantic_plans, limits.plans);
    // Plans found only by meaning are read together (a chunk whose plan is gone finds none).
    let unread: Vec<Uuid> =
        fused.iter().map(|(id, _)| *id).filter(|id| !text_plans.iter().any(|plan| plan.id == *id)).collect();
    let semantic_only = plan_repo::find_many(db, user_id, &unread).await?;
    let mut plans = Vec::new();
    for (id, chunk) in fused {
        let found = text_plans.iter().chain(&semantic_only).find(|plan| plan.id == id).cloned();
        if let Some(mut plan) = found {
            if let Some(chunk) = chunk {
                plan.goal = chunk_title(&plan.goal, &chunk);
                chunks.insert(id, chunk);
            }
            plans.push(plan);
        }
    }
    Ok(ChatGrounding { knowledge, resources, plans, chunks })
}

/// A source's title naming its chunk: the opening chunk is the source itself; later ones are
/// named by their heading, or their place.
fn chunk_title(title: &str, chunk: &ChunkRef) -> String {
    let part = if !chunk.heading.is_empty() && chunk.heading != title {
        Some(chunk.heading.clone())
    } else {
        (chunk.position > 0).then(|| format!("part {}", chunk.position + 1))
    };
    match part {
        Some(part) => format!("{title} › {part}"),
        None => title.to_owned(),
    }
}

/// Resources or plans: the full-text order and the semantic one fused (semantic first, as
/// for documents), at most `limit`, with the matching chunk where vectors took part. Without
/// vectors the full-text order serves alone.
fn fuse_personal(
    text: Vec<Uuid>,
    semantic: Option<Vec<(ChunkSource, ChunkRef)>>,
    limit: usize,
) -> Vec<(Uuid, Option<ChunkRef>)> {
    let Some(semantic) = semantic else {
        return text.into_iter().take(limit).map(|id| (id, None)).collect();
    };
    let semantic_ids: Vec<Uuid> = semantic.iter().map(|(source, _)| source.id()).collect();
    let mut chunks: HashMap<Uuid, ChunkRef> =
        semantic.into_iter().map(|(source, chunk)| (source.id(), chunk)).collect();
    reciprocal_rank_fusion(&[&semantic_ids, &text], RRF_K)
        .into_iter()
        .take(limit)
        .map(|(id, _)| (id, chunks.remove(&id)))
        .collect()
}

/// The query's unit vector and the vectors it is compared with; `None` when there is nothing
/// to compare (no embeddings, no vectors stored yet, the call failed).
#[derive(Debug)]
pub struct PreparedQuery {
    query: Vec<f32>,
    vectors: Arc<Vec<ChunkVector>>,
}

/// Loads the caller's vectors and embeds `query` once (counting its tokens in the caller's
/// budget).
async fn prepare_semantic(state: &AppState, user_id: Uuid, query: &str) -> Option<PreparedQuery> {
    let model = state.embedder.model()?.to_owned();
    let vectors = match load_vectors(state, user_id, &model).await {
        Ok(vectors) if !vectors.is_empty() => vectors,
        Ok(_) => return None,
        Err(error) => {
            tracing::warn!(error = %error, "could not read vectors; full-text search serves");
            return None;
        }
    };
    let query: String = query.chars().take(QUERY_CHARS).collect();
    let vector = match state.embedder.embed_query(&query).await {
        Ok(vector) => vector?,
        Err(error) => {
            tracing::warn!(error = %error, "query embedding failed; full-text search serves");
            return None;
        }
    };
    let usage = TokenUsage {
        prompt_tokens: estimate_tokens(&query),
        total_tokens: estimate_tokens(&query),
        ..TokenUsage::default()
    };
    if let Err(error) = budget::record(state, user_id, usage).await {
        tracing::warn!(error = %error, "could not count query embedding tokens");
    }
    Some(PreparedQuery { query: vector, vectors })
}

/// Best chunk per source among the sources `keep` accepts, by cosine similarity, best first,
/// at most `n`, above the similarity floor; `None` when the chunks' text cannot be read.
async fn semantic_candidates(
    state: &AppState,
    prepared: &PreparedQuery,
    n: usize,
    keep: impl Fn(ChunkSource) -> bool,
) -> Option<Vec<(ChunkSource, ChunkRef)>> {
    let db = state.db.conn();
    let vectors = &prepared.vectors;
    let floor = state.settings.ai.embedding_min_similarity;
    let mut best = best_chunk_per_source(&prepared.query, vectors, n, keep);
    best.retain(|(_, similarity)| *similarity >= floor);
    let ids: Vec<Uuid> = best.iter().map(|(chunk, _)| vectors[*chunk].chunk_id).collect();
    let texts: HashMap<Uuid, embeddings::ChunkText> = match embeddings::chunk_texts(db, &ids).await {
        Ok(texts) => texts.into_iter().map(|text| (text.id, text)).collect(),
        Err(error) => {
            tracing::warn!(error = %error, "could not read chunks; full-text search serves");
            return None;
        }
    };
    Some(
        best.into_iter()
            .filter_map(|(index, similarity)| {
                let stored = &vectors[index];
                let text = texts.get(&stored.chunk_id)?;
                Some((
                    stored.source,
                    ChunkRef {
                        id: text.id,
                        position: text.position,
                        heading: text.heading.clone(),
                        text: text.content.clone(),
                        similarity,
                    },
                ))
            })
            .collect(),
    )
}

/// The vectors the user may search: from the cache when their fingerprint is unchanged; after
/// a change, the cached copy reconciled with the current list of ids (read from an index), so
/// only vectors embedded since are read; with nothing cached, all of them (at most
/// [`VECTOR_BOUND`]).
pub async fn load_vectors(
    state: &AppState,
    user_id: Uuid,
    model: &str,
) -> Result<Arc<Vec<ChunkVector>>, planwright_store::StoreError> {
    load_cached_vectors(state.db.conn(), &state.vectors, user_id, model).await
}

/// [`load_vectors`] with an explicit connection and cache (the latency measurement uses it).
pub async fn load_cached_vectors(
    db: &planwright_store::Conn,
    cache: &VectorCache,
    user_id: Uuid,
    model: &str,
) -> Result<Arc<Vec<ChunkVector>>, planwright_store::StoreError> {
    let fingerprint = embeddings::vectors_fingerprint(db, user_id, model).await?;
    if fingerprint.0 == 0 {
        return Ok(Arc::new(Vec::new()));
    }
    if let Some(vectors) = cache.get(user_id, model, fingerprint) {
        return Ok(vectors);
    }
    let vectors = match cache.latest(user_id, model) {
        Some(held) => {
            let ids = embeddings::vector_ids(db, user_id, model, VECTOR_BOUND).await?;
            let held: HashMap<Uuid, &ChunkVector> =
                held.iter().map(|vector| (vector.chunk_id, vector)).collect();
            let missing: Vec<Uuid> = ids.iter().filter(|id| !held.contains_key(id)).copied().collect();
            let mut fresh: HashMap<Uuid, ChunkVector> = embeddings::vectors_by_ids(db, &missing, model)
                .await?
                .into_iter()
                .map(|vector| (vector.chunk_id, vector))
                .collect();
            // Vectors share their values (`Arc`), so keeping the held ones copies no floats.
            ids.iter()
                .filter_map(|id| held.get(id).map(|vector| (*vector).clone()).or_else(|| fresh.remove(id)))
                .collect()
        }
        None => embeddings::vectors_for(db, user_id, model, VECTOR_BOUND).await?,
    };
    let vectors = Arc::new(vectors);
    cache.put(user_id, model, fingerprint, Arc::clone(&vectors));
    Ok(vectors)
}

/// Indices into `vectors` of the best chunk of each of the `n` most similar sources that
/// `keep` accepts, with the similarity (dot product of unit vectors = cosine), best first.
/// Vectors of another length than `query` are ignored.
pub fn best_chunk_per_source(
    query: &[f32],
    vectors: &[ChunkVector],
    n: usize,
    keep: impl Fn(ChunkSource) -> bool,
) -> Vec<(usize, f32)> {
    let mut best: HashMap<ChunkSource, (usize, f32)> = HashMap::new();
    for (index, stored) in vectors.iter().enumerate() {
        if stored.vector.len() != query.len() || !keep(stored.source) {
            continue;
        }
        let similarity: f32 = stored.vector.iter().zip(query).map(|(a, b)| a * b).sum();
        let entry = best.entry(stored.source).or_insert((index, f32::NEG_INFINITY));
        if similarity > entry.1 {
            *entry = (index, similarity);
        }
    }
    let mut ranked: Vec<(usize, f32)> = best.into_values().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(n);
    ranked
}

/// Reciprocal-rank fusion: each id scores the sum over `lists` of `1 / (k + rank)` (rank from
/// 1); best first, ties in order of first appearance.
pub fn reciprocal_rank_fusion(lists: &[&[Uuid]], k: f64) -> Vec<(Uuid, f64)> {
    let mut scores: Vec<(Uuid, f64)> = Vec::new();
    let mut at: HashMap<Uuid, usize> = HashMap::new();
    for list in lists {
        for (rank, id) in list.iter().enumerate() {
            let add = 1.0 / (k + rank as f64 + 1.0);
            match at.get(id) {
                Some(&i) => scores[i].1 += add,
                None => {
                    at.insert(*id, scores.len());
                    scores.push((*id, add));
                }
            }
        }
    }
    // A stable sort keeps first-appearance order between equal scores.
    scores.sort_by(|a, b| b.1.total_cmp(&a.1));
    scores
}

/// `text` cut to at most `max` characters, ending with "…" when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn fusion_rewards_agreement() {
        let text = [id(1), id(2), id(3)];
        let semantic = [id(3), id(4), id(1)];
        let fused = reciprocal_rank_fusion(&[&text, &semantic], RRF_K);
        let order: Vec<Uuid> = fused.iter().map(|(id, _)| *id).collect();
        // 1: 1/61 + 1/63; 3: 1/63 + 1/61 (tie, 1 seen first); then 2 (1/62) and 4 (1/62).
        assert_eq!(order, [id(1), id(3), id(2), id(4)]);
        assert!((fused[0].1 - (1.0 / 61.0 + 1.0 / 63.0)).abs() < 1e-12);
        assert!(reciprocal_rank_fusion(&[], RRF_K).is_empty());
    }

    #[test]
    fn nearest_keeps_the_best_chunk_of_each_document() {
        let v = |doc: u128, values: [f32; 2]| ChunkVector {
            chunk_id: Uuid::now_v7(),
            source: ChunkSource::Knowledge(id(doc)),
            vector: values.to_vec().into(),
        };
        let vectors =
            vec![v(1, [0.0, 1.0]), v(1, [1.0, 0.0]), v(2, [0.6, 0.8]), v(3, [-1.0, 0.0]), v(4, [1.0, 0.0])];
        let all = |_: ChunkSource| true;
        let best = best_chunk_per_source(&[1.0, 0.0], &vectors, 2, all);
        assert_eq!(best.len(), 2);
        assert_eq!(vectors[best[0].0].source, ChunkSource::Knowledge(id(1)));
        assert_eq!(best[0].0, 1, "the document's better chunk");
        assert!((best[0].1 - 1.0).abs() < 1e-6);
        assert_eq!(vectors[best[1].0].source, ChunkSource::Knowledge(id(4)));
        let not_one = best_chunk_per_source(&[1.0, 0.0], &vectors, 2, |s| s != ChunkSource::Knowledge(id(1)));
        assert_eq!(vectors[not_one[0].0].source, ChunkSource::Knowledge(id(4)), "filtered by source");
        let mismatched = vec![ChunkVector {
            chunk_id: Uuid::nil(),
            source: ChunkSource::Knowledge(id(9)),
            vector: vec![1.0].into(),
        }];
        assert!(best_chunk_per_source(&[1.0, 0.0], &mismatched, 5, all).is_empty());
    }
}
