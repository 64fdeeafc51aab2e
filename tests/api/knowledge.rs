use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, error_fields, spawn_app, spawn_app_with};

async fn add_doc(app: &TestApp, token: &str, title: &str, content: &str) -> Value {
    app.create_knowledge_ok(&json!({"title": title, "content": content, "tags": ["Notes"]}), token).await
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn search_ranks_the_relevant_document_first() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    add_doc(&app, &user.access_token, "Kitchen rota", "Who cooks on which day of the week.").await;
    let relevant = add_doc(
        &app,
        &user.access_token,
        "Graph algorithms",
        "Dijkstra's algorithm finds shortest paths in graphs with non-negative weights. Graphs, graphs, graphs.",
    )
    .await;
    add_doc(&app, &user.access_token, "Reading list", "A novel about graphs of friendship, and other books.")
        .await;

    let results: Value =
        app.search_knowledge("shortest paths in graphs", &user.access_token).await.json().await.unwrap();
    let items = results["items"].as_array().unwrap();
    assert!(!items.is_empty(), "{results}");
    assert_eq!(items[0]["id"], relevant["id"], "{results}");
    assert_eq!(items[0]["scope"], "user");
    assert!(items[0]["score"].as_f64().unwrap() > 0.0);
    assert!(items[0]["snippet"].as_str().unwrap().to_lowercase().contains("shortest"), "{results}");
    assert!(items.iter().all(|i| i["title"] != "Kitchen rota"), "only matching documents: {results}");
    let none: Value = app.search_knowledge("zebra", &user.access_token).await.json().await.unwrap();
    assert_eq!(none["items"], json!([]));
    let odd: Value = app.search_knowledge("\" OR * (", &user.access_token).await.json().await.unwrap();
    assert!(odd["items"].is_array(), "query syntax is never passed through: {odd}");
}

#[tokio::test]
async fn user_documents_can_be_read_changed_and_deleted() {
    let app = spawn_app().await;
    let user = app.signed_in_user().await;
    let doc = add_doc(&app, &user.access_token, "Exam rules", "Bring your student card.").await;
    assert_eq!(doc["tags"], json!(["notes"]));
    let doc_id = doc["id"].as_str().unwrap();
    let updated: Value = app
        .update_knowledge(doc_id, &json!({"content": "Bring your card and two pens."}), &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(updated["content"], "Bring your card and two pens.");
    let found: Value = app.search_knowledge("pens", &user.access_token).await.json().await.unwrap();
    assert_eq!(found["items"][0]["id"], doc["id"], "the search index follows updates");
    assert_eq!(app.delete_knowledge(doc_id, &user.access_token).await.status(), StatusCode::NO_CONTENT);
    assert_problem(app.get_knowledge(doc_id, &user.access_token).await, StatusCode::NOT_FOUND).await;
    let gone: Value = app.search_knowledge("pens", &user.access_token).await.json().await.unwrap();
    assert_eq!(gone["items"], json!([]), "the search index follows deletes");
    let problem = assert_problem(
        app.create_knowledge(&json!({"title": "", "content": " "}), &user.access_token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(error_fields(&problem), ["title", "content"]);
}

#[tokio::test]
async fn global_documents_are_loaded_from_the_folder_and_read_only() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "study/spaced-repetition.md",
        "# Spaced repetition\nReview after a day, then three days.",
    );
    write(
        dir.path(),
        "faq.json",
        r#"[{"title": "Opening hours", "content": "The library opens at eight."}]"#,
    );
    write(dir.path(), "broken.json", "{ not json");
    let path = dir.path().to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| s.knowledge.dir = path).await;
    let user = app.signed_in_user().await;

    let all: Value = app.list_knowledge(&user.access_token).await.json().await.unwrap();
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the broken file is skipped: {all}");
    assert!(items.iter().all(|i| i["scope"] == "global"));
    let spaced = items.iter().find(|i| i["title"] == "Spaced repetition").unwrap();
    assert_eq!(spaced["tags"], json!(["study"]));

    let hits: Value = app.search_knowledge("library", &user.access_token).await.json().await.unwrap();
    assert_eq!(hits["items"][0]["title"], "Opening hours");
    let doc_id = spaced["id"].as_str().unwrap();
    assert_eq!(app.get_knowledge(doc_id, &user.access_token).await.status(), StatusCode::OK);
    let problem = assert_problem(
        app.update_knowledge(doc_id, &json!({"title": "Mine now"}), &user.access_token).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(problem["detail"].as_str().unwrap().contains("read-only"));
    assert_problem(app.delete_knowledge(doc_id, &user.access_token).await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn reloading_the_folder_is_idempotent_and_follows_changes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.md", "# A\nalpha");
    write(dir.path(), "b.md", "# B\nbravo");
    let path = dir.path().to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| s.knowledge.dir = path).await;
    let load = || planwright_api::services::knowledge::load_global(&app.db, dir.path());

    let again = load().await.unwrap();
    assert_eq!((again.added, again.updated, again.removed, again.unchanged), (0, 0, 0, 2));
    write(dir.path(), "a.md", "# A\nalpha, revised");
    std::fs::remove_file(dir.path().join("b.md")).unwrap();
    write(dir.path(), "c.md", "# C\ncharlie");
    let changed = load().await.unwrap();
    assert_eq!((changed.added, changed.updated, changed.removed, changed.unchanged), (1, 1, 1, 0));

    let user = app.signed_in_user().await;
    let all: Value = app.list_knowledge(&user.access_token).await.json().await.unwrap();
    let titles: Vec<&str> =
        all["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 2);
    assert!(titles.contains(&"A") && titles.contains(&"C"), "{titles:?}");
    let revised: Value = app.search_knowledge("revised", &user.access_token).await.json().await.unwrap();
    assert_eq!(revised["items"][0]["title"], "A");
}

#[tokio::test]
async fn another_users_documents_are_invisible() {
    let app = spawn_app().await;
    let owner = app.signed_in_user().await;
    let other = app.signed_in_user().await;
    let doc = add_doc(&app, &owner.access_token, "Secret recipe", "Cardamom and saffron.").await;
    let doc_id = doc["id"].as_str().unwrap();
    assert_problem(app.get_knowledge(doc_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.update_knowledge(doc_id, &json!({"title": "x"}), &other.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.delete_knowledge(doc_id, &other.access_token).await, StatusCode::NOT_FOUND).await;
    let search: Value = app.search_knowledge("saffron", &other.access_token).await.json().await.unwrap();
    assert_eq!(search["items"], json!([]));
    let list: Value = app.list_knowledge(&other.access_token).await.json().await.unwrap();
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn replicas_loading_the_folder_together_do_not_collide() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| s.knowledge.dir = path).await;
    for n in 0..5 {
        write(dir.path(), &format!("doc-{n}.md"), &format!("# Doc {n}\ncontent {n}"));
    }
    let load = || planwright_api::services::knowledge::load_global(&app.db, dir.path());
    let (first, second, third) = tokio::join!(load(), load(), load());
    let reports = [first.unwrap(), second.unwrap(), third.unwrap()];
    assert_eq!(reports.iter().map(|r| r.added).sum::<usize>(), 5, "{reports:?}");
    let user = app.signed_in_user().await;
    let all: Value = app.list_knowledge(&user.access_token).await.json().await.unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 5);
}
