//! Ranking: full-text candidates (FTS5 / `tsvector`, per document), vector candidates (cosine
//! over the caller's chunk vectors, read with a bound, best chunk per document), and hybrid =
//! both lists merged by reciprocal-rank fusion (`1 / (k + rank)`, k = 60), which needs no score
//! calibration between the two engines.

use std::{collections::HashMap, sync::Arc};

use planwright_domain::{KnowledgeDoc, KnowledgeHit, TokenUsage};
use planwright_store::repo::{
    embeddings::{self, ChunkVector},
    knowledge,
};
use uuid::Uuid;

use super::index::estimate_tokens;
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
        _ => {
            semantic_candidates(state, user_id, query, usize::try_from(candidates).unwrap_or(CANDIDATES))
                .await
        }
    };
    let Some(semantic) = semantic else {
        // No embeddings: full text serves alone.
        let text = if mode == SearchMode::Semantic {
            knowledge::search(db, user_id, query, limit).await?
        } else {
            text
        };
        return Ok(text
            .into_iter()
            .take(to_usize(limit))
            .map(|hit| RankedHit { hit, chunk: None })
            .collect());
    };
    let order: Vec<(Uuid, f64)> = match mode {
        SearchMode::Hybrid => {
            let text_ids: Vec<Uuid> = text.iter().map(|hit| hit.doc.id).collect();
            let semantic_ids: Vec<Uuid> = semantic.iter().map(|(doc, _)| *doc).collect();
            // Semantic first: on equal fused scores its hit wins, since its list is cut at a
            // similarity floor while full text matches any one word of the query.
            reciprocal_rank_fusion(&[&semantic_ids, &text_ids], RRF_K)
        }
        _ => semantic.iter().map(|(doc, chunk)| (*doc, f64::from(chunk.similarity))).collect(),
    };
    let order: Vec<(Uuid, f64)> = order.into_iter().take(to_usize(limit)).collect();
    let mut text_hits: HashMap<Uuid, KnowledgeHit> = text.into_iter().map(|hit| (hit.doc.id, hit)).collect();
    let mut chunks: HashMap<Uuid, ChunkRef> = semantic.into_iter().collect();
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

/// Knowledge for a chat message: hybrid ranking, each document cut down to its best chunk
/// (titled "document › heading" or "document › part n", so the answer's `sources` name both;
/// a document's unheaded opening chunk keeps the document's title). Embedding failures
/// and missing vectors leave full-text search serving alone; the chat never fails for them.
pub async fn retrieve_for_chat(
    state: &AppState,
    user_id: Uuid,
    message: &str,
    limit: u64,
) -> Result<Vec<KnowledgeHit>, ApiError> {
    let hits = search(state, user_id, message, SearchMode::Hybrid, limit).await?;
    Ok(hits
        .into_iter()
        .map(|ranked| match ranked.chunk {
            Some(chunk) => {
                // The opening chunk of a document is the document; later ones are named by
                // their heading, or their place.
                let part = if !chunk.heading.is_empty() && chunk.heading != ranked.hit.doc.title {
                    Some(chunk.heading.clone())
                } else {
                    (chunk.position > 0).then(|| format!("part {}", chunk.position + 1))
                };
                let mut doc = ranked.hit.doc;
                if let Some(part) = part {
                    doc.title = format!("{} › {part}", doc.title);
                }
                doc.content = chunk.text;
                KnowledgeHit { snippet: shorten(&doc.content, SNIPPET_CHARS), doc, score: ranked.hit.score }
            }
            None => ranked.hit,
        })
        .collect())
}

/// Best chunk per document by cosine similarity, best document first, at most `n`; `None` when
/// there is nothing to compare (no embeddings, the call failed, no vectors stored yet).
async fn semantic_candidates(
    state: &AppState,
    user_id: Uuid,
    query: &str,
    n: usize,
) -> Option<Vec<(Uuid, ChunkRef)>> {
    let model = state.embedder.model()?.to_owned();
    let db = state.db.conn();
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
    let floor = state.settings.ai.embedding_min_similarity;
    let mut best = best_chunk_per_doc(&vector, &vectors, n);
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
                    stored.doc_id,
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

/// The vectors the user may search: from the cache when their fingerprint is unchanged, else
/// read (at most [`VECTOR_BOUND`]) and cached.
pub async fn load_vectors(
    state: &AppState,
    user_id: Uuid,
    model: &str,
) -> Result<Arc<Vec<ChunkVector>>, planwright_store::StoreError> {
    let db = state.db.conn();
    let fingerprint = embeddings::vectors_fingerprint(db, user_id, model).await?;
    if fingerprint.0 == 0 {
        return Ok(Arc::new(Vec::new()));
    }
    if let Some(vectors) = state.vectors.get(user_id, model, fingerprint) {
        return Ok(vectors);
    }
    let vectors = Arc::new(embeddings::vectors_for(db, user_id, model, VECTOR_BOUND).await?);
    state.vectors.put(user_id, model, fingerprint, Arc::clone(&vectors));
    Ok(vectors)
}

/// Indices into `vectors` of the best chunk of each of the `n` most similar documents, with
/// the similarity (dot product of unit vectors = cosine), best first. Vectors of another
/// length than `query` are ignored.
pub fn best_chunk_per_doc(query: &[f32], vectors: &[ChunkVector], n: usize) -> Vec<(usize, f32)> {
    let mut best: HashMap<Uuid, (usize, f32)> = HashMap::new();
    for (index, stored) in vectors.iter().enumerate() {
        if stored.vector.len() != query.len() {
            continue;
        }
        let similarity: f32 = stored.vector.iter().zip(query).map(|(a, b)| a * b).sum();
        let entry = best.entry(stored.doc_id).or_insert((index, f32::NEG_INFINITY));
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

fn shorten(text: &str, max: usize) -> String {
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
            doc_id: id(doc),
            vector: values.to_vec(),
        };
        let vectors =
            vec![v(1, [0.0, 1.0]), v(1, [1.0, 0.0]), v(2, [0.6, 0.8]), v(3, [-1.0, 0.0]), v(4, [1.0, 0.0])];
        let best = best_chunk_per_doc(&[1.0, 0.0], &vectors, 2);
        assert_eq!(best.len(), 2);
        assert_eq!(vectors[best[0].0].doc_id, id(1));
        assert_eq!(best[0].0, 1, "the document's better chunk");
        assert!((best[0].1 - 1.0).abs() < 1e-6);
        assert_eq!(vectors[best[1].0].doc_id, id(4));
        let mismatched = vec![ChunkVector { chunk_id: Uuid::nil(), doc_id: id(9), vector: vec![1.0] }];
        assert!(best_chunk_per_doc(&[1.0, 0.0], &mismatched, 5).is_empty());
    }
}
