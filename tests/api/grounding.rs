//! Grounding with embeddings: documents chunked and embedded in the background, `?mode=` on
//! `GET /knowledge`, hybrid sources in the chat, and what happens when embeddings fail.

use planwright_store::repo::{ai_usage, embeddings};
use planwright_tests::fake_gemini::{FakeGemini, Fault};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{BACKGROUND, TestApp, app_with_gemini, assert_problem, poll_until, spawn_app};

const GYM: &str = "# Sports centre opening hours\n\nWeekdays: 6:00 to 22:00.\n\n## Weekend\n\nBoth weekend days: 8:00 to 18:00. Bring a towel.";

/// `GET /knowledge?q=&mode=` with `q` URL-encoded.
pub async fn search(app: &TestApp, q: &str, mode: &str, token: &str) -> reqwest::Response {
    let mut url = reqwest::Url::parse(&app.url("/api/v1/knowledge")).expect("a URL");
    url.query_pairs_mut().append_pair("q", q).append_pair("mode", mode).append_pair("limit", "10");
    app.client.get(url).bearer_auth(token).send().await.expect("request sent")
}

/// Titles of a search's results, best first.
pub async fn titles(app: &TestApp, q: &str, mode: &str, token: &str) -> Vec<String> {
    let response = search(app, q, mode, token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Waits until every chunk of document `id` has a vector.
pub async fn wait_embedded(app: &TestApp, id: Uuid) {
    poll_until(BACKGROUND, "the document's chunks to be embedded", || async {
        let state = embeddings::doc_state(app.db.conn(), id).await.expect("state");
        state.chunks > 0 && state.embedded == state.chunks
    })
    .await;
}

async fn gemini_app() -> (TestApp, FakeGemini) {
    app_with_gemini(|s| {
        s.ai.embedding_interval_secs = 1;
        s.ai.embedding_batches_per_minute = 0;
    })
    .await
}

fn id_of(doc: &Value) -> Uuid {
    doc["id"].as_str().and_then(|id| id.parse().ok()).expect("an id")
}

#[tokio::test]
async fn semantic_search_finds_a_paraphrase_that_text_search_misses() {
    let (app, _fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    app.create_knowledge_ok(&json!({"title": "Bread", "content": "Knead the dough and let it rise."}), token)
        .await;
    wait_embedded(&app, id_of(&doc)).await;

    let question = "When can I use the gym on Sunday?";
    let text = titles(&app, question, "text", token).await;
    assert!(!text.contains(&"Leisure".to_owned()), "no query word is in the document: {text:?}");
    let response = search(&app, question, "semantic", token).await;
    let body: Value = response.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the unrelated document stays out: {body}");
    assert_eq!(items[0]["id"], doc["id"]);
    assert_eq!(items[0]["chunk"]["heading"], "Weekend", "the weekend chunk matches best: {body}");
    assert!(items[0]["snippet"].as_str().unwrap().contains("weekend days"), "{body}");
    assert!(items[0]["chunk"]["similarity"].as_f64().unwrap() > 0.1, "above the floor");
    let hybrid = titles(&app, question, "hybrid", token).await;
    assert_eq!(hybrid.first().map(String::as_str), Some("Leisure"), "{hybrid:?}");
    assert_eq!(titles(&app, "dough", "hybrid", token).await.first().map(String::as_str), Some("Bread"));
    let user_id: Uuid = user.id.parse().unwrap();
    let spent = ai_usage::spent(app.db.conn(), user_id, chrono::Utc::now().date_naive()).await.unwrap();
    assert!(spent > 0, "embedding the user's documents and queries counts in their budget");
}

#[tokio::test]
async fn chat_sources_name_the_document_and_its_chunk() {
    let (app, fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    wait_embedded(&app, id_of(&doc)).await;

    let answer = app.chat(&json!({"message": "When can I use the gym on Sunday?"}), token).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    let sources = answer["sources"].as_array().unwrap();
    assert!(!sources.is_empty(), "{answer}");
    assert_eq!(sources[0]["kind"], "knowledge", "{answer}");
    assert_eq!(sources[0]["id"], doc["id"]);
    assert_eq!(sources[0]["title"], "Leisure › Weekend", "{answer}");
    let instruction = fake.requests().iter().rev().find_map(|r| r.system_instruction()).unwrap_or_default();
    assert!(instruction.contains("Both weekend days: 8:00 to 18:00"), "the chunk is in the prompt");
    assert!(fake.requests().iter().any(|r| r.action == "embedContent"), "the query was embedded once");
}

#[tokio::test]
async fn an_edit_re_embeds_only_the_changed_chunks() {
    let (app, fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    let id = id_of(&doc);
    wait_embedded(&app, id).await;
    let embedded_texts = |fake: &FakeGemini| -> usize {
        fake.requests()
            .iter()
            .filter(|r| r.action == "batchEmbedContents")
            .map(|r| r.body["requests"].as_array().map_or(0, Vec::len))
            .sum()
    };
    assert_eq!(embedded_texts(&fake), 2, "two chunks, one per heading");

    let changed = GYM.replace("Bring a towel.", "Bring a padlock.");
    let response = app.update_knowledge(id, &json!({"content": changed}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    wait_embedded(&app, id).await;
    poll_until(BACKGROUND, "the changed chunk to be embedded", || async { embedded_texts(&fake) == 3 }).await;
    let state = embeddings::doc_state(app.db.conn(), id).await.unwrap();
    assert_eq!((state.chunks, state.embedded), (2, 2), "the old version of the chunk is gone");
    let last = fake.requests().into_iter().rev().find(|r| r.action == "batchEmbedContents").unwrap();
    assert!(last.body.to_string().contains("padlock"), "only the changed chunk went out");

    // Another model (`ai.embedding_model` changed) finds every chunk pending again.
    let db = app.db.conn();
    assert!(embeddings::pending(db, "gemini-embedding-001", &[], false, 10).await.unwrap().is_empty());
    assert_eq!(embeddings::pending(db, "gemini-embedding-2", &[], false, 10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn the_vectors_fingerprint_counts_the_callers_and_the_global_chunks_of_the_model() {
    let (app, _fake) = gemini_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let model = "gemini-embedding-001";
    let (owner_id, other_id) = (owner.id.parse().unwrap(), other.id.parse().unwrap());
    let db = app.db.conn();
    let (global, _) = embeddings::vectors_fingerprint(db, other_id, model).await.unwrap();
    let doc =
        app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), &owner.access_token).await;
    wait_embedded(&app, id_of(&doc)).await;

    let (count, newest) = embeddings::vectors_fingerprint(db, owner_id, model).await.unwrap();
    assert_eq!(count, global + 2, "the owner's two chunks and the global ones");
    assert!(newest > 0, "the newest embedding time is read");
    let (others, _) = embeddings::vectors_fingerprint(db, other_id, model).await.unwrap();
    assert_eq!(others, global, "another person's chunks are not counted");
    let unknown = embeddings::vectors_fingerprint(db, owner_id, "another-model").await.unwrap();
    assert_eq!(unknown, (0, 0), "another model has no vectors");
}

#[tokio::test]
async fn deleting_a_document_deletes_its_vectors() {
    let (app, _fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    let id = id_of(&doc);
    wait_embedded(&app, id).await;

    assert_eq!(app.delete_knowledge(id, token).await.status(), StatusCode::NO_CONTENT);
    let state = embeddings::doc_state(app.db.conn(), id).await.unwrap();
    assert_eq!(state, embeddings::DocIndexState::default(), "chunks and vectors cascade");
    assert!(titles(&app, "When can I use the gym on Sunday?", "semantic", token).await.is_empty());
}

#[tokio::test]
async fn embedding_failures_leave_text_search_and_the_chat_working() {
    let (app, fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    // The indexing call and its two retries all fail.
    fake.push_many([Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    let id = id_of(&doc);
    poll_until(BACKGROUND, "the indexing call to fail", || async { fake.pending_faults().is_empty() }).await;

    // Text search serves every mode meanwhile, and the chat answers from it.
    assert_eq!(titles(&app, "towel", "hybrid", token).await, ["Leisure"]);
    let answer = app.chat(&json!({"message": "Do I need a towel?"}), token).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["sources"][0]["id"], doc["id"], "{answer}");

    // Nothing is lost: the pending chunks are embedded on a later pass.
    wait_embedded(&app, id).await;

    // A failing query embedding falls back to text search too.
    fake.push_many([Fault::Unavailable, Fault::Unavailable, Fault::Unavailable]);
    let response = search(&app, "towel", "semantic", token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["items"][0]["title"], "Leisure", "{body}");
    assert!(body["items"][0].get("chunk").is_none(), "a text result: {body}");
    assert!(fake.pending_faults().is_empty(), "the query embedding took the faults");
}

#[tokio::test]
async fn offline_every_mode_is_full_text_search() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    let state = embeddings::doc_state(app.db.conn(), id_of(&doc)).await.unwrap();
    assert_eq!((state.chunks, state.embedded), (2, 0), "chunked, never embedded offline");
    for mode in ["text", "semantic", "hybrid"] {
        assert_eq!(titles(&app, "towel", mode, token).await, ["Leisure"], "{mode}");
        assert!(titles(&app, "When can I use the gym on Sunday?", mode, token).await.is_empty(), "{mode}");
    }
}

#[tokio::test]
async fn bad_queries_and_documents_are_answered_plainly() {
    let (app, _fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    wait_embedded(&app, id_of(&doc)).await;

    // A blank query is no search: the list of documents.
    for q in ["", "   "] {
        let body: Value = search(&app, q, "hybrid", token).await.json().await.unwrap();
        assert_eq!(body["items"].as_array().map(Vec::len), Some(1), "{body}");
        assert!(body["items"][0].get("score").is_none(), "listed, not ranked: {body}");
    }
    // A huge query is cut down, not refused.
    let huge = "towel weekend ".repeat(600);
    for mode in ["text", "semantic", "hybrid"] {
        let response = search(&app, &huge, mode, token).await;
        assert_eq!(response.status(), StatusCode::OK, "{mode}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["items"][0]["title"], "Leisure", "{mode}: {body}");
    }
    // Punctuation only: nothing to find.
    assert!(titles(&app, "?!… --", "hybrid", token).await.is_empty());
    let response = search(&app, "gym", "fuzzy", token).await;
    assert_problem(response, StatusCode::BAD_REQUEST).await;
    // Whitespace-only documents are refused; a whitespace-only edit too.
    let response = app.create_knowledge(&json!({"title": "Blank", "content": " \n\t "}), token).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = app.update_knowledge(id_of(&doc), &json!({"content": "\n\n"}), token).await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
}

/// Waits until every chunk of `source` has a vector.
async fn wait_source_embedded(app: &TestApp, source: embeddings::ChunkSource) {
    poll_until(BACKGROUND, "the source's chunks to be embedded", || async {
        let state = embeddings::source_state(app.db.conn(), source).await.expect("state");
        state.chunks > 0 && state.embedded == state.chunks
    })
    .await;
}

#[tokio::test]
async fn a_paraphrased_question_finds_a_resource_and_a_plan_by_meaning() {
    let (app, _fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let card = app
        .create_resource_ok(
            &json!({"type": "note", "name": "Leisure card", "content": {"hours": GYM}}),
            token,
        )
        .await;
    let exam = app
        .create_plan_ok(&json!({"goal": "Prepare for the algorithms exam", "duration_days": 2}), token)
        .await;
    // A newer, unrelated plan: the "latest plan" fallback would pick this one.
    let knitting = app.create_plan_ok(&json!({"goal": "Knit a scarf", "duration_days": 1}), token).await;
    for (source, what) in [
        (embeddings::ChunkSource::Resource(id_of(&card)), "resource"),
        (embeddings::ChunkSource::Plan(id_of(&exam)), "plan"),
        (embeddings::ChunkSource::Plan(id_of(&knitting)), "plan"),
    ] {
        wait_source_embedded(&app, source).await;
        let state = embeddings::source_state(app.db.conn(), source).await.unwrap();
        assert!(state.chunks >= 1, "the {what} is chunked");
    }

    // No word of either question is in the resource or the plan it should find.
    let answer = app.chat(&json!({"message": "When can I use the gym on Sunday?"}), token).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    let resource = answer["sources"].as_array().unwrap().iter().find(|s| s["kind"] == "resource");
    let resource = resource.unwrap_or_else(|| panic!("the resource is a source: {answer}"));
    assert_eq!(resource["id"], card["id"]);
    assert!(resource["title"].as_str().unwrap().starts_with("Leisure card"), "{resource}");

    let answer = app.chat(&json!({"message": "What should I revise before my test?"}), token).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let answer: Value = answer.json().await.unwrap();
    let plans: Vec<&Value> =
        answer["sources"].as_array().unwrap().iter().filter(|s| s["kind"] == "plan").collect();
    assert_eq!(plans.first().map(|p| &p["id"]), Some(&exam["id"]), "the exam plan, not the latest: {answer}");
    assert!(
        plans[0]["title"].as_str().unwrap().starts_with("Prepare for the algorithms exam"),
        "the source names the plan (and its chunk): {answer}"
    );
    assert!(!plans.iter().any(|p| p["id"] == knitting["id"]), "the unrelated plan stays out: {answer}");
    // Knowledge search lists knowledge documents only.
    assert!(titles(&app, "When can I use the gym on Sunday?", "semantic", token).await.is_empty());
}

#[tokio::test]
async fn resources_and_plans_re_embed_changed_chunks_and_deleting_them_deletes_their_vectors() {
    let (app, fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let card = app
        .create_resource_ok(
            &json!({"type": "note", "name": "Leisure card", "content": {"hours": GYM}}),
            token,
        )
        .await;
    let source = embeddings::ChunkSource::Resource(id_of(&card));
    wait_source_embedded(&app, source).await;
    let embedded_texts = |fake: &FakeGemini| -> usize {
        fake.requests()
            .iter()
            .filter(|r| r.action == "batchEmbedContents")
            .map(|r| r.body["requests"].as_array().map_or(0, Vec::len))
            .sum()
    };
    let before = embedded_texts(&fake);
    // The same content again: nothing to embed; another content: its chunk only.
    let response = app.update_resource(id_of(&card), &json!({"name": "Leisure card"}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .update_resource(
            id_of(&card),
            &json!({"content": {"hours": GYM, "locker": "Bring a padlock."}}),
            token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    poll_until(BACKGROUND, "the changed chunk to be embedded", || async { embedded_texts(&fake) > before })
        .await;
    wait_source_embedded(&app, source).await;
    let last = fake.requests().into_iter().rev().find(|r| r.action == "batchEmbedContents").unwrap();
    assert!(last.body.to_string().contains("padlock"), "the changed chunk went out");

    assert_eq!(app.delete_resource(id_of(&card), token).await.status(), StatusCode::NO_CONTENT);
    let state = embeddings::source_state(app.db.conn(), source).await.unwrap();
    assert_eq!(state, embeddings::DocIndexState::default(), "the resource's chunks and vectors are gone");

    let plan = app
        .create_plan_ok(&json!({"goal": "Prepare for the algorithms exam", "duration_days": 2}), token)
        .await;
    let source = embeddings::ChunkSource::Plan(id_of(&plan));
    wait_source_embedded(&app, source).await;
    assert_eq!(app.delete_plan(id_of(&plan), token).await.status(), StatusCode::NO_CONTENT);
    let state = embeddings::source_state(app.db.conn(), source).await.unwrap();
    assert_eq!(state, embeddings::DocIndexState::default(), "the plan's chunks and vectors are gone");
    let user_id: Uuid = user.id.parse().unwrap();
    let spent = ai_usage::spent(app.db.conn(), user_id, chrono::Utc::now().date_naive()).await.unwrap();
    assert!(spent > 0, "embedding resources and plans counts in their owner's budget");
}

#[tokio::test]
async fn a_spent_system_budget_pauses_global_documents_and_text_search_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gym.md"), format!("# Leisure\n\n{GYM}")).unwrap();
    let knowledge_dir = dir.path().display().to_string();
    let (app, _fake) = app_with_gemini(move |s| {
        s.knowledge.dir = knowledge_dir;
        s.ai.embedding_interval_secs = 1;
        s.ai.embedding_batches_per_minute = 0;
        // One chunk a call, and a system budget the first call spends.
        s.ai.embedding_batch_size = 1;
        s.ai.system_daily_token_budget = 1;
    })
    .await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let listed: Value = app.get("/api/v1/knowledge", Some(token)).await.json().await.unwrap();
    let global = id_of(&listed["items"][0]);

    // The person's own document is embedded on their budget meanwhile.
    let own = app.create_knowledge_ok(&json!({"title": "Bread", "content": "Knead the dough."}), token).await;
    wait_embedded(&app, id_of(&own)).await;
    let state = embeddings::doc_state(app.db.conn(), global).await.unwrap();
    assert_eq!(state.chunks, 2, "{state:?}");
    assert_eq!(state.embedded, 1, "one call spent the system budget; the rest waits: {state:?}");
    let today = chrono::Utc::now().date_naive();
    let spent = ai_usage::system_spent(app.db.conn(), today).await.unwrap();
    assert!(spent >= 1, "the global document's tokens are on the system budget: {spent}");
    let user_id: Uuid = user.id.parse().unwrap();
    let own_spent = ai_usage::spent(app.db.conn(), user_id, today).await.unwrap();
    assert!(own_spent > 0 && own_spent < 100, "the person pays for their own document only: {own_spent}");

    // Text search serves the global document in every mode.
    for mode in ["text", "hybrid"] {
        assert_eq!(titles(&app, "towel", mode, token).await, ["Leisure"], "{mode}");
    }
    // The next day (the count reset), the rest is embedded.
    sea_orm::ConnectionTrait::execute_unprepared(app.db.conn(), "DELETE FROM system_ai_usage").await.unwrap();
    wait_embedded(&app, global).await;
}

#[tokio::test]
async fn a_misbehaving_embedding_upstream_never_fails_a_request_and_stores_no_bad_vector() {
    use planwright_tests::fake_gemini::EmbeddingMisbehaviour;

    let (app, fake) = app_with_gemini(|s| s.ai.embedding_interval_secs = 0).await;
    let state = planwright_api::state::AppState::new(
        app.settings.clone(),
        app.db.clone(),
        &planwright_api::openapi::document(),
    )
    .unwrap();
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let user_id: Uuid = user.id.parse().unwrap();
    let dimensions = usize::try_from(app.settings.ai.embedding_dimensions).unwrap();
    for seed in 0..24_u64 {
        fake.set_adversarial_embeddings(seed);
        let doc =
            app.create_knowledge_ok(&json!({"title": format!("Towel {seed}"), "content": GYM}), token).await;
        let embedded = planwright_api::services::grounding::index::run_once(&state).await;
        let kinds = fake.embedding_misbehaviours();
        let kind = *kinds.last().expect("the indexing call was answered");
        let doc_state = embeddings::doc_state(app.db.conn(), id_of(&doc)).await.unwrap();
        if kind == EmbeddingMisbehaviour::OddNorm {
            assert_eq!(
                doc_state.embedded, doc_state.chunks,
                "seed {seed}: odd norms are normalised and kept"
            );
        } else {
            assert_eq!(
                (embedded, doc_state.embedded),
                (0, 0),
                "seed {seed}: {kind:?} leaves the chunks pending"
            );
        }
        // Every request still answers, text search serving what vectors cannot.
        for mode in ["text", "semantic", "hybrid"] {
            let response = search(&app, "towel", mode, token).await;
            assert_eq!(response.status(), StatusCode::OK, "seed {seed}, {mode}");
            let body: Value = response.json().await.unwrap();
            assert!(!body["items"].as_array().unwrap().is_empty(), "seed {seed}, {mode}: {body}");
        }
        let answer = app.chat(&json!({"message": "Do I need a towel?"}), token).await;
        assert_eq!(answer.status(), StatusCode::OK, "seed {seed}");
    }
    let kinds = fake.embedding_misbehaviours();
    for kind in EmbeddingMisbehaviour::ALL {
        assert!(kinds.contains(&kind), "the seeds cover {kind:?}: {kinds:?}");
    }
    // Whatever was stored is a usable unit vector of the configured size.
    let stored =
        embeddings::vectors_for(app.db.conn(), user_id, "gemini-embedding-001", 10_000).await.unwrap();
    for vector in &stored {
        assert_eq!(vector.vector.len(), dimensions);
        let norm: f32 = vector.vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(vector.vector.iter().all(|v| v.is_finite()) && (norm - 1.0).abs() < 1e-3, "{norm}");
    }
    // Nothing is lost: with a sane upstream again, every pending chunk is embedded.
    fake.set_friendly_embeddings();
    planwright_api::services::grounding::index::run_once(&state).await;
    let pending = embeddings::pending(app.db.conn(), "gemini-embedding-001", &[], false, 100).await.unwrap();
    assert!(pending.is_empty(), "{} chunks still pending", pending.len());
}

#[tokio::test]
async fn a_search_after_changes_sees_new_vectors_and_forgets_deleted_ones() {
    let (app, _fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let question = "When can I use the gym on Sunday?";
    let first = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    wait_embedded(&app, id_of(&first)).await;
    // Warms the cache.
    assert_eq!(titles(&app, question, "semantic", token).await, ["Leisure"]);

    let second = app
        .create_knowledge_ok(
            &json!({"title": "Pool", "content": "The swimming pool is open at the weekend."}),
            token,
        )
        .await;
    wait_embedded(&app, id_of(&second)).await;
    let found = titles(&app, question, "semantic", token).await;
    assert!(found.contains(&"Pool".to_owned()) && found.contains(&"Leisure".to_owned()), "{found:?}");

    assert_eq!(app.delete_knowledge(id_of(&first), token).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(titles(&app, question, "semantic", token).await, ["Pool"]);
}

#[tokio::test]
async fn the_chunk_migration_rolls_back_and_forward_keeping_document_vectors() {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    let (app, _fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let doc = app.create_knowledge_ok(&json!({"title": "Leisure", "content": GYM}), token).await;
    wait_embedded(&app, id_of(&doc)).await;
    let card = app
        .create_resource_ok(&json!({"type": "note", "name": "Card", "content": {"hours": GYM}}), token)
        .await;
    wait_source_embedded(&app, embeddings::ChunkSource::Resource(id_of(&card))).await;
    let count = |sql: &'static str| {
        let db = app.db.conn();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    let migrations = Migrator::migrations();
    let position = migrations
        .iter()
        .position(|m| m.name().ends_with("embed_resources_and_plans"))
        .expect("the migration");
    let steps = u32::try_from(migrations.len() - position).unwrap();

    Migrator::down(app.db.writer(), Some(steps)).await.expect("down");
    let kept = "SELECT COUNT(*) AS n FROM knowledge_chunks WHERE vector IS NOT NULL";
    assert_eq!(count(kept).await, 2, "the document's chunks keep their vectors; the resource's go");
    Migrator::up(app.db.writer(), None).await.expect("up");
    assert_eq!(count(kept).await, 2);
    let state = embeddings::doc_state(app.db.conn(), id_of(&doc)).await.unwrap();
    assert_eq!((state.chunks, state.embedded), (2, 2));
    assert_eq!(titles(&app, "When can I use the gym on Sunday?", "semantic", token).await, ["Leisure"]);
}

/// Ids of the plans among a chat answer's sources, best first.
async fn plan_sources(app: &TestApp, message: &str, token: &str) -> Vec<Value> {
    let answer = app.chat(&json!({ "message": message }), token).await;
    assert_eq!(answer.status(), StatusCode::OK, "{message}");
    let answer: Value = answer.json().await.unwrap();
    answer["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|source| source["kind"] == "plan")
        .map(|source| source["id"].clone())
        .collect()
}

/// The text of a plan's chunks, in order.
async fn plan_text(app: &TestApp, plan_id: Uuid) -> String {
    use sea_orm::ConnectionTrait;

    let db = app.db.conn();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT content FROM knowledge_chunks WHERE plan_id = $1 ORDER BY position",
            [plan_id.into()],
        ))
        .await
        .unwrap();
    rows.iter().map(|row| row.try_get::<String>("", "content").unwrap()).collect::<Vec<_>>().join("\n\n")
}

#[tokio::test]
async fn editing_a_plan_task_through_the_task_routes_re_chunks_the_plan() {
    let (app, fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let plan = app.create_plan_ok(&json!({"goal": "Knit a scarf", "duration_days": 1}), token).await;
    let plan_id = id_of(&plan);
    let response = app
        .update_plan(
            plan_id,
            &json!({"tasks": [{"title": "Cast on forty stitches", "day_offset": 0, "duration_minutes": 20}]}),
            token,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    let cast_on = id_of(&updated["tasks"][0]);
    // A newer, unrelated plan: the chat's "latest plan" fallback picks this one, not the scarf.
    let other = app.create_plan_ok(&json!({"goal": "Learn to juggle", "duration_days": 1}), token).await;
    let source = embeddings::ChunkSource::Plan(plan_id);
    let embedded_texts = |fake: &FakeGemini| -> usize {
        fake.requests()
            .iter()
            .filter(|r| r.action == "batchEmbedContents")
            .map(|r| r.body["requests"].as_array().map_or(0, Vec::len))
            .sum()
    };

    // No word of either question is in the plan: only the plan's vectors can find it.
    let old_words = "Where do I go jogging?";
    let new_words = "Is there an orthodontist reservation?";

    // A task created into the plan joins its chunks.
    let task = app
        .create_task_ok(
            &json!({"title": "Jog around the park", "description": "A slow jog, then a run back.", "plan_id": plan_id, "estimate_minutes": 30}),
            token,
        )
        .await;
    let task_id = id_of(&task);
    wait_source_embedded(&app, source).await;
    wait_source_embedded(&app, embeddings::ChunkSource::Plan(id_of(&other))).await;
    assert_eq!(
        plan_sources(&app, old_words, token).await.first(),
        Some(&plan["id"]),
        "found by the new task"
    );
    assert!(!plan_sources(&app, new_words, token).await.contains(&plan["id"]));

    // Renamed: found by the new words, no longer by the old ones.
    let before = embedded_texts(&fake);
    let response = app
        .update_task(task_id, &json!({"title": "Book the dentist appointment", "description": ""}), token)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    wait_source_embedded(&app, source).await;
    let last = fake.requests().into_iter().rev().find(|r| r.action == "batchEmbedContents").unwrap();
    assert!(last.body.to_string().contains("dentist"), "the changed chunk went out");
    let sent = last.body["requests"].as_array().map_or(0, Vec::len);
    assert_eq!(sent, 1, "only the changed chunk went out: {}", last.body);
    assert!(embedded_texts(&fake) > before);
    assert_eq!(
        plan_sources(&app, new_words, token).await.first(),
        Some(&plan["id"]),
        "found by the new title"
    );
    let found = plan_sources(&app, old_words, token).await;
    assert!(!found.contains(&plan["id"]), "the old title is forgotten: {found:?}");

    // A change the plan does not show (the status) keeps every chunk and vector.
    let response = app.update_task(task_id, &json!({"status": "done"}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let state = embeddings::source_state(app.db.conn(), source).await.unwrap();
    assert!(state.chunks > 0 && state.embedded == state.chunks, "{state:?}");

    // Reordered: the plan's text follows the new order at once.
    let at = |text: &str, words: &str| text.find(words).unwrap_or_else(|| panic!("{words:?} in {text}"));
    let text = plan_text(&app, plan_id).await;
    assert!(at(&text, "Cast on forty") < at(&text, "dentist"), "{text}");
    let response = app.update_task(cast_on, &json!({"position": 5}), token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = plan_text(&app, plan_id).await;
    assert!(at(&text, "dentist") < at(&text, "Cast on forty"), "{text}");

    // Deleted: its words go with it.
    assert_eq!(app.delete_task(task_id, token).await.status(), StatusCode::NO_CONTENT);
    assert!(!plan_text(&app, plan_id).await.contains("dentist"));
    wait_source_embedded(&app, source).await;
    let found = plan_sources(&app, new_words, token).await;
    assert!(!found.contains(&plan["id"]), "the deleted task's words are gone: {found:?}");
}

/// The sources of the latest `search_knowledge` result the chat sent back to the model, and the
/// query the model searched for.
fn searched_sources(fake: &FakeGemini) -> (String, Vec<Value>) {
    let calls = fake.requests().into_iter().rev().find_map(|request| {
        let last = request.body["contents"].as_array()?.last()?.clone();
        let response = last["parts"].as_array()?.iter().find_map(|part| {
            let response = &part["functionResponse"];
            (response["name"] == "search_knowledge").then(|| response["response"].clone())
        })?;
        let contents = request.body["contents"].as_array()?.clone();
        let query = contents.iter().rev().find_map(|content| {
            content["parts"].as_array()?.iter().find_map(|part| {
                let call = &part["functionCall"];
                (call["name"] == "search_knowledge")
                    .then(|| call["args"]["query"].as_str().map(str::to_owned))?
            })
        })?;
        Some((query, response))
    });
    let (query, response) = calls.expect("a search_knowledge result went back to the model");
    let sources = response["sources"].as_array().unwrap_or_else(|| panic!("sources: {response}")).clone();
    (query, sources)
}

#[tokio::test]
async fn the_search_knowledge_tool_ranks_documents_resources_and_plans_of_the_person_only() {
    let (app, fake) = gemini_app().await;
    let user = app.signed_in_user().await;
    let token = &user.access_token;
    let other = app.signed_in_user().await;
    let pool = app
        .create_knowledge_ok(
            &json!({"title": "Pool", "content": "The swimming pool is open at the weekend."}),
            token,
        )
        .await;
    let card = app
        .create_resource_ok(
            &json!({"type": "note", "name": "Leisure card", "content": {"hours": GYM}}),
            token,
        )
        .await;
    let exam = app
        .create_plan_ok(&json!({"goal": "Prepare for the algorithms exam", "duration_days": 2}), token)
        .await;
    // A newer, unrelated plan: the exam plan must rank first by meaning, not by age.
    let knitting = app.create_plan_ok(&json!({"goal": "Knit a scarf", "duration_days": 1}), token).await;
    // Someone else's copies of the same material.
    let strangers_card = app
        .create_resource_ok(
            &json!({"type": "note", "name": "Stranger's card", "content": {"hours": GYM}}),
            &other.access_token,
        )
        .await;
    let strangers_plan = app
        .create_plan_ok(
            &json!({"goal": "Prepare for the algorithms exam", "duration_days": 2}),
            &other.access_token,
        )
        .await;
    wait_embedded(&app, id_of(&pool)).await;
    for source in [
        embeddings::ChunkSource::Resource(id_of(&card)),
        embeddings::ChunkSource::Resource(id_of(&strangers_card)),
        embeddings::ChunkSource::Plan(id_of(&exam)),
        embeddings::ChunkSource::Plan(id_of(&knitting)),
        embeddings::ChunkSource::Plan(id_of(&strangers_plan)),
    ] {
        wait_source_embedded(&app, source).await;
    }
    let of_kind = |sources: &[Value], kind: &str| -> Vec<Value> {
        sources.iter().filter(|source| source["kind"] == kind).cloned().collect()
    };
    let ids =
        |sources: &[Value]| -> Vec<Value> { sources.iter().map(|source| source["id"].clone()).collect() };

    // No word of the question is in the resource or the document it should find.
    let answer = app
        .chat(
            &json!({"message": "search_knowledge please\nQuestion: When can I use the gym on Sunday?"}),
            token,
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let (query, sources) = searched_sources(&fake);
    assert!(query.contains("gym on Sunday"), "the model searched for the question: {query}");
    let documents = of_kind(&sources, "knowledge");
    assert_eq!(ids(&documents).first(), Some(&pool["id"]), "{sources:?}");
    assert!(documents[0]["chunk"].as_str().unwrap().contains("swimming pool"), "{sources:?}");
    let resources = of_kind(&sources, "resource");
    assert_eq!(
        ids(&resources),
        [card["id"].clone()],
        "the person's resource, not the stranger's: {sources:?}"
    );
    let title = resources[0]["title"].as_str().unwrap();
    assert!(title.starts_with("Leisure card"), "the source names the resource: {title}");
    let chunk = resources[0]["chunk"].as_str().unwrap();
    assert!(chunk.contains("weekend days"), "the matching chunk's text: {chunk}");

    let answer = app
        .chat(
            &json!({"message": "search_knowledge please\nQuestion: What should I revise before my test?"}),
            token,
        )
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let (_, sources) = searched_sources(&fake);
    let plans = of_kind(&sources, "plan");
    assert_eq!(ids(&plans).first(), Some(&exam["id"]), "the exam plan by meaning: {sources:?}");
    assert!(plans[0]["title"].as_str().unwrap().starts_with("Prepare for the algorithms exam"));
    assert!(!plans[0]["chunk"].as_str().unwrap().is_empty(), "{sources:?}");
    let found = ids(&sources);
    for stranger in [&strangers_card, &strangers_plan] {
        assert!(!found.contains(&stranger["id"]), "another user's source stays out: {sources:?}");
    }
}
