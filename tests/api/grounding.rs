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
    assert!(embeddings::pending(db, "gemini-embedding-001", &[], 10).await.unwrap().is_empty());
    assert_eq!(embeddings::pending(db, "gemini-embedding-2", &[], 10).await.unwrap().len(), 2);
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
