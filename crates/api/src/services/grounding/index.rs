//! Indexing: each change of a knowledge document, resource or plan replaces its chunks at once
//! (cheap: hashes only), and a background job embeds the pending ones in batches. The job is
//! resumable (a chunk without a vector of the current model is pending, whatever happened
//! before), rate-limited (`ai.embedding_batches_per_minute`), guarded by a database lease so one
//! replica embeds at a time, and counted in the owner's daily AI budget. Global documents are
//! the server's own: they count in the system budget (`ai.system_daily_token_budget`, stored in
//! `system_ai_usage`), and wait for the next day once it is spent.

use std::{collections::HashSet, time::Duration};

use chrono::{TimeDelta, Utc};
use planwright_domain::{KnowledgeDoc, Plan, Resource, TokenUsage};
use planwright_store::{
    Database,
    repo::{
        self, ai_usage,
        embeddings::{self, ChunkSource, NewChunk},
        leases,
    },
};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::chunk::{chunk_document, plan_document, resource_document};
use crate::{
    services::{ai::embeddings::DocumentText, budget},
    state::AppState,
};

const LEASE: &str = "knowledge_embeddings";
const LEASE_TTL: TimeDelta = TimeDelta::minutes(5);

/// Replaces the chunks of a stored document and wakes the job. A failure is logged, not
/// returned: the document is saved, and the next start-up re-chunks it.
pub async fn index_doc(state: &AppState, doc: &KnowledgeDoc) {
    let chunks = chunk_document(&doc.title, &doc.content);
    index(state, ChunkSource::Knowledge(doc.id), doc.user_id, chunks).await;
}

/// Replaces the chunks of a stored resource and wakes the job (failures as [`index_doc`]).
pub async fn index_resource(state: &AppState, resource: &Resource) {
    let (title, text) = resource_document(resource);
    index(state, ChunkSource::Resource(resource.id), Some(resource.user_id), chunk_document(&title, &text))
        .await;
}

/// Replaces the chunks of a stored plan and wakes the job (failures as [`index_doc`]).
pub async fn index_plan(state: &AppState, plan: &Plan) {
    let (title, text) = plan_document(plan);
    index(state, ChunkSource::Plan(plan.id), Some(plan.user_id), chunk_document(&title, &text)).await;
}

/// Re-chunks the caller's plan `plan_id` after a change to one of its tasks through the task
/// routes, as a plan update does (only chunks whose text changed are embedded again). A plan
/// that is gone is skipped; other failures are logged, as in [`index_doc`].
pub async fn reindex_plan(state: &AppState, user_id: Uuid, plan_id: Uuid) {
    match repo::plans::find(state.db.conn(), user_id, plan_id).await {
        Ok(plan) => index_plan(state, &plan).await,
        Err(planwright_store::StoreError::NotFound) => {}
        Err(error) => {
            tracing::warn!(%plan_id, error = %error, "could not read a plan to chunk it for search")
        }
    }
}

async fn index(state: &AppState, source: ChunkSource, owner: Option<Uuid>, chunks: Vec<NewChunk>) {
    match embeddings::replace_chunks(state.db.conn(), source, owner, chunks).await {
        Ok(report) if report.added > 0 => state.embedder.wake(),
        Ok(_) => {}
        Err(error) => tracing::warn!(?source, error = %error, "could not chunk a source for search"),
    }
}

/// Chunks every document, resource and plan (at start-up): those stored before the index
/// existed, and global documents whose files changed, get their chunks; unchanged chunks keep
/// their vectors.
pub async fn index_all(db: &Database) -> anyhow::Result<usize> {
    let mut added = 0;
    for (id, owner, title, content) in embeddings::all_docs(db.conn()).await? {
        let chunks = chunk_document(&title, &content);
        added +=
            embeddings::replace_chunks(db.conn(), ChunkSource::Knowledge(id), owner, chunks).await?.added;
    }
    for (source, owner) in embeddings::all_personal_sources(db.conn()).await? {
        let (title, text) = match source {
            ChunkSource::Resource(id) => match repo::resources::find(db.conn(), owner, id).await {
                Ok(resource) => resource_document(&resource),
                Err(_) => continue,
            },
            ChunkSource::Plan(id) => match repo::plans::find(db.conn(), owner, id).await {
                Ok(plan) => plan_document(&plan),
                Err(_) => continue,
            },
            ChunkSource::Knowledge(_) => continue,
        };
        let chunks = chunk_document(&title, &text);
        added += embeddings::replace_chunks(db.conn(), source, Some(owner), chunks).await?.added;
    }
    Ok(added)
}

/// Starts the indexing job when there are embeddings and `ai.embedding_interval_secs` is not 0.
pub fn spawn(state: AppState) -> Option<JoinHandle<()>> {
    let interval = state.settings.ai.embedding_interval_secs;
    state.embedder.model()?;
    if interval == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            run_once(&state).await;
            tokio::select! {
                () = state.embedder.woken() => {}
                () = tokio::time::sleep(Duration::from_secs(interval)) => {}
            }
        }
    }))
}

/// One pass: embeds pending chunks batch by batch until none are left, a call fails (the rest
/// stay pending for the next pass), or another replica holds the lease. Returns the chunks
/// embedded.
pub async fn run_once(state: &AppState) -> usize {
    let Some(model) = state.embedder.model().map(str::to_owned) else { return 0 };
    let db = state.db.conn();
    let holder = Uuid::new_v4().to_string();
    let settings = &state.settings.ai;
    let batch_size = u64::from(settings.embedding_batch_size.clamp(1, 100));
    let pause = match settings.embedding_batches_per_minute {
        0 => Duration::ZERO,
        per_minute => Duration::from_secs(60) / per_minute,
    };
    let mut skip: HashSet<Uuid> = HashSet::new();
    let mut skip_global = false;
    let mut done = 0;
    loop {
        let now = Utc::now();
        match leases::acquire(db, LEASE, &holder, now, now + LEASE_TTL).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                tracing::warn!(error = %error, "indexing could not take its lease");
                break;
            }
        }
        let skipped: Vec<Uuid> = skip.iter().copied().collect();
        let batch = match embeddings::pending(db, &model, &skipped, skip_global, batch_size).await {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(error = %error, "indexing could not read pending chunks");
                break;
            }
        };
        let spent_owners = over_budget(state, &batch).await;
        let system_spent =
            batch.iter().any(|chunk| chunk.owner.is_none()) && system_budget_spent(state).await;
        if !spent_owners.is_empty() || system_spent {
            if system_spent {
                tracing::info!("the system's embedding budget for today is spent; global documents wait");
            }
            skip.extend(spent_owners);
            skip_global |= system_spent;
            continue;
        }
        let texts: Vec<DocumentText> = batch
            .iter()
            .map(|chunk| DocumentText {
                title: if chunk.heading.is_empty() {
                    chunk.title.clone()
                } else {
                    format!("{} — {}", chunk.title, chunk.heading)
                },
                text: chunk.content.clone(),
            })
            .collect();
        let vectors = match state.embedder.embed_documents(&texts).await {
            Ok(vectors) if vectors.len() == batch.len() => vectors,
            Ok(_) => break,
            Err(error) => {
                tracing::warn!(error = %error, pending = batch.len(), "embedding failed; chunks stay pending");
                break;
            }
        };
        for (chunk, vector) in batch.iter().zip(&vectors) {
            if let Err(error) = embeddings::store_vector(db, chunk.id, &model, vector).await {
                tracing::warn!(error = %error, "could not store a vector");
            }
        }
        done += batch.len();
        charge(state, &batch, &texts).await;
        tokio::time::sleep(pause).await;
    }
    if let Err(error) = leases::release(db, LEASE, &holder).await {
        tracing::warn!(error = %error, "indexing could not release its lease");
    }
    if done > 0 {
        tracing::info!(chunks = done, model, "knowledge chunks embedded");
    }
    done
}

/// Owners in `batch` who have spent today's AI budget.
async fn over_budget(state: &AppState, batch: &[embeddings::PendingChunk]) -> Vec<Uuid> {
    let limit = state.settings.ai.daily_token_budget;
    if limit == 0 {
        return Vec::new();
    }
    let owners: HashSet<Uuid> = batch.iter().filter_map(|chunk| chunk.owner).collect();
    let mut spent_owners = Vec::new();
    for owner in owners {
        let spent = ai_usage::spent(state.db.conn(), owner, Utc::now().date_naive()).await.unwrap_or(0);
        if spent >= limit {
            spent_owners.push(owner);
        }
    }
    spent_owners
}

/// Whether today's system budget (`ai.system_daily_token_budget`) is spent.
async fn system_budget_spent(state: &AppState) -> bool {
    let limit = state.settings.ai.system_daily_token_budget;
    if limit == 0 {
        return false;
    }
    ai_usage::system_spent(state.db.conn(), Utc::now().date_naive()).await.unwrap_or(0) >= limit
}

/// Counts the embedded text (about four characters a token) in each owner's budget.
async fn charge(state: &AppState, batch: &[embeddings::PendingChunk], texts: &[DocumentText]) {
    let mut per_owner: std::collections::HashMap<Option<Uuid>, u32> = std::collections::HashMap::new();
    for (chunk, text) in batch.iter().zip(texts) {
        let tokens = estimate_tokens(&text.title) + estimate_tokens(&text.text);
        *per_owner.entry(chunk.owner).or_default() += tokens;
    }
    for (owner, tokens) in per_owner {
        let usage = TokenUsage { prompt_tokens: tokens, total_tokens: tokens, ..TokenUsage::default() };
        match owner {
            Some(user_id) => {
                if let Err(error) = budget::record(state, user_id, usage).await {
                    tracing::warn!(error = %error, "could not count embedding tokens");
                }
            }
            None => {
                if let Err(error) =
                    ai_usage::add_system(state.db.conn(), Utc::now().date_naive(), i64::from(tokens)).await
                {
                    tracing::warn!(error = %error, "could not count embedding tokens in the system budget");
                }
            }
        }
    }
}

/// About four characters a token.
pub fn estimate_tokens(text: &str) -> u32 {
    u32::try_from(text.chars().count().div_ceil(4)).unwrap_or(u32::MAX)
}
