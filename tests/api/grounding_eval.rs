//! Retrieval evaluation: the questions of `tests/data/grounding/eval.json` (many paraphrased so
//! that no query word is in the document that answers them) against the shipped `knowledge/`
//! folder plus the everyday documents of `tests/data/grounding/corpus/`, ranked by `text`,
//! `semantic` and `hybrid` with the fake Gemini's embeddings. Prints recall@3 and MRR per mode
//! (run with `--nocapture`; the numbers are in docs/BENCHMARKS.md) and checks that hybrid beats
//! text on recall@3.
//!
//! `ranking_latency_at_10k_chunks` (ignored; run it with `--release --ignored --nocapture`)
//! measures the ranking step with 10 000 embedded chunks for one user.

#![allow(clippy::print_stdout, reason = "the evaluation and the measurement print their tables")]

use std::{
    collections::HashSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use planwright_api::services::grounding::{
    cache::VectorCache,
    rank::{RRF_K, VECTOR_BOUND, best_chunk_per_source, load_cached_vectors, reciprocal_rank_fusion},
};
use planwright_domain::{NewKnowledgeDoc, parse_knowledge_content, parse_knowledge_title};
use planwright_store::repo::{
    embeddings::{self, ChunkSource},
    knowledge,
};
use planwright_tests::fake_gemini::{FakeGemini, fake_embedding};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::{
    grounding::{titles, wait_embedded},
    helpers::{TestApp, app_with_gemini},
};

const MODES: [&str; 3] = ["text", "semantic", "hybrid"];

/// Words left out of the "no query word in the document" check: they say nothing.
const FILLER: &[&str] = &[
    "a", "an", "and", "the", "of", "to", "for", "on", "in", "at", "is", "it", "i", "my", "me", "do", "how",
    "what", "when", "who", "can", "should", "so", "from", "with", "too", "just", "are", "you", "your", "its",
    "into", "by", "be", "or", "not", "as",
];

#[derive(Debug, Deserialize)]
struct Case {
    q: String,
    expected: String,
    paraphrased: bool,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// An app whose global knowledge is the shipped folder plus the evaluation corpus, all embedded.
async fn indexed_app() -> (TestApp, FakeGemini, tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("knowledge"), dir.path());
    copy_dir(&root().join("tests/data/grounding/corpus"), &dir.path().join("everyday"));
    let knowledge_dir = dir.path().display().to_string();
    let (app, fake) = app_with_gemini(move |s| {
        s.knowledge.dir = knowledge_dir;
        s.ai.embedding_interval_secs = 1;
        s.ai.embedding_batches_per_minute = 0;
    })
    .await;
    let user = app.signed_in_user().await;
    (app, fake, dir, user.access_token)
}

#[tokio::test]
async fn hybrid_ranking_beats_text_on_recall_at_3() {
    let (app, _fake, _dir, token) = indexed_app().await;
    let listed: Value = app.get("/api/v1/knowledge?limit=200", Some(&token)).await.json().await.unwrap();
    let docs = listed["items"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 15, "5 shipped documents and 10 everyday ones");
    for doc in &docs {
        wait_embedded(&app, doc["id"].as_str().unwrap().parse().unwrap()).await;
    }
    let cases: Vec<Case> = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/data/grounding/eval.json")).unwrap(),
    )
    .unwrap();
    assert!(cases.len() >= 40, "{} cases", cases.len());

    let mut recall = [0usize; 3];
    let mut reciprocal = [0f64; 3];
    let mut paraphrased = 0;
    for case in &cases {
        let target = docs.iter().find(|d| d["title"] == case.expected.as_str());
        let target = target.unwrap_or_else(|| panic!("no document titled {:?}", case.expected));
        if case.paraphrased {
            paraphrased += 1;
            let full: Value = app
                .get(&format!("/api/v1/knowledge/{}", target["id"].as_str().unwrap()), Some(&token))
                .await
                .json()
                .await
                .unwrap();
            let document: HashSet<String> =
                words(&format!("{} {}", full["title"], full["content"])).into_iter().collect();
            let shared: Vec<String> = words(&case.q)
                .into_iter()
                .filter(|w| !FILLER.contains(&w.as_str()) && document.contains(w))
                .collect();
            assert!(shared.is_empty(), "{:?} is marked paraphrased but shares {shared:?}", case.q);
        }
        for (m, mode) in MODES.iter().enumerate() {
            let ranked = titles(&app, &case.q, mode, &token).await;
            if let Some(rank) = ranked.iter().position(|t| *t == case.expected) {
                reciprocal[m] += 1.0 / (rank as f64 + 1.0);
                if rank < 3 {
                    recall[m] += 1;
                }
            }
        }
    }
    let n = cases.len() as f64;
    println!("\nretrieval over {} questions ({paraphrased} paraphrased), 15 documents", cases.len());
    println!("| mode | recall@3 | MRR |\n|---|---|---|");
    for (m, mode) in MODES.iter().enumerate() {
        println!("| {mode} | {:.3} | {:.3} |", recall[m] as f64 / n, reciprocal[m] / n);
    }
    assert!(recall[2] > recall[0], "hybrid recall@3 {} must beat text {}", recall[2], recall[0]);
    assert!(reciprocal[2] > reciprocal[0], "hybrid MRR must beat text");
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[tokio::test]
#[ignore = "a measurement: run with --release --ignored --nocapture"]
async fn ranking_latency_at_10k_chunks() {
    let (app, _fake) = app_with_gemini(|s| s.ai.embedding_interval_secs = 0).await;
    let user = app.signed_in_user().await;
    let user_id: Uuid = user.id.parse().unwrap();
    let db = app.db.conn();
    let model = "gemini-embedding-001";
    let topics = ["gym", "exam", "budget", "train", "dentist", "library", "essay", "dinner", "dog", "sleep"];
    let mut doc_ids = Vec::new();
    for d in 0..100 {
        let doc = NewKnowledgeDoc {
            title: parse_knowledge_title(&format!("Notes {d}")).unwrap(),
            content: parse_knowledge_content(&format!("Notes about {}", topics[d % 10])).unwrap(),
            tags: Vec::new(),
        };
        let doc = knowledge::create(db, user_id, doc).await.unwrap();
        doc_ids.push(doc.id);
        let chunks: Vec<embeddings::NewChunk> = (0..100)
            .map(|c| embeddings::NewChunk {
                position: c,
                heading: String::new(),
                content: format!("{} note {d}-{c}: {} and {}", topics[d % 10], topics[(c as usize) % 10], c),
                content_hash: format!("{d}-{c}"),
            })
            .collect();
        embeddings::replace_chunks(db, ChunkSource::Knowledge(doc.id), Some(user_id), chunks).await.unwrap();
    }
    // Every pending chunk gets the fake's vector for its text.
    let embed_pending = || async {
        loop {
            let pending = embeddings::pending(db, model, &[], false, 500).await.unwrap();
            if pending.is_empty() {
                break;
            }
            for chunk in pending {
                let vector = fake_embedding(&chunk.content, 768);
                embeddings::store_vector(db, chunk.id, model, &vector).await.unwrap();
            }
        }
    };
    embed_pending().await;
    let query = fake_embedding("when is the gym open at the weekend", 768);
    let cache = VectorCache::default();
    let text_ids: Vec<Uuid> = Vec::new();
    let all = |_: ChunkSource| true;
    let (mut warm, mut scan) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        // The ranking step as `search` does it: fingerprint, vectors (from the cache after the
        // first run), cosine per chunk, best per document, fusion.
        let started = Instant::now();
        let vectors = load_cached_vectors(db, &cache, user_id, model).await.unwrap();
        let loaded = started.elapsed();
        let best = best_chunk_per_source(&query, &vectors, 20, all);
        let semantic: Vec<Uuid> = best.iter().map(|(i, _)| vectors[*i].source.id()).collect();
        let fused = reciprocal_rank_fusion(&[&semantic, &text_ids], RRF_K);
        assert_eq!(vectors.len(), 10_000);
        assert!(!fused.is_empty());
        warm.push(started.elapsed());
        scan.push(started.elapsed() - loaded);
    }
    let mut cold = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let vectors = embeddings::vectors_for(db, user_id, model, VECTOR_BOUND).await.unwrap();
        assert_eq!(vectors.len(), 10_000);
        cold.push(started.elapsed());
    }
    // After a change (one document edited: one chunk replaced and embedded), the first ranking
    // step reconciles the cached copy instead of reading every vector again.
    let mut changed = Vec::new();
    let mut http_changed = Vec::new();
    for round in 0..60_usize {
        let doc = doc_ids[round % doc_ids.len()];
        let chunks: Vec<embeddings::NewChunk> = (0..100)
            .map(|c| embeddings::NewChunk {
                position: c,
                heading: String::new(),
                content: format!("edited note {round}-{c}"),
                content_hash: if c == 0 { format!("edit-{round}") } else { format!("{}-{c}", round % 100) },
            })
            .collect();
        embeddings::replace_chunks(db, ChunkSource::Knowledge(doc), Some(user_id), chunks).await.unwrap();
        embed_pending().await;
        if round % 2 == 0 {
            let started = Instant::now();
            let vectors = load_cached_vectors(db, &cache, user_id, model).await.unwrap();
            let best = best_chunk_per_source(&query, &vectors, 20, all);
            let semantic: Vec<Uuid> = best.iter().map(|(i, _)| vectors[*i].source.id()).collect();
            assert!(!reciprocal_rank_fusion(&[&semantic, &text_ids], RRF_K).is_empty());
            changed.push(started.elapsed());
            assert_eq!(vectors.len(), 10_000);
        } else {
            // The whole request, first after the change: the app's own cache reconciles.
            let started = Instant::now();
            let found =
                titles(&app, "when is the gym open at the weekend", "hybrid", &user.access_token).await;
            http_changed.push(started.elapsed());
            assert!(!found.is_empty());
        }
    }
    let mut http = Vec::new();
    for _ in 0..100 {
        let started = Instant::now();
        let found = titles(&app, "when is the gym open at the weekend", "hybrid", &user.access_token).await;
        http.push(started.elapsed());
        assert!(!found.is_empty());
    }
    let backend = format!("{:?}", db.get_database_backend());
    println!("\n10 000 chunks of 768 values, {backend}");
    for (name, mut samples) in [
        ("ranking step, warm (fingerprint + cached vectors + score + fuse)", warm),
        ("score + fuse only", scan),
        ("reading and decoding all 10k vectors (nothing cached)", cold),
        ("ranking step, first after a change (reconcile + score + fuse)", changed),
        ("GET /knowledge?mode=hybrid, first after a change (HTTP, query embedding, FTS)", http_changed),
        ("GET /knowledge?mode=hybrid, warm (HTTP, query embedding, FTS)", http),
    ] {
        samples.sort();
        println!(
            "{name}: p50 {:?}, p99 {:?} ({} runs)",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99),
            samples.len()
        );
    }
}
