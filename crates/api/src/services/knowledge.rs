//! The knowledge base: the caller's documents, read-only global documents loaded from
//! `knowledge.dir`, and ranked search over both.

use std::path::{Path, PathBuf};

use planwright_domain::{
    KnowledgeChanges, KnowledgeDoc, NewKnowledgeDoc, parse_knowledge_content, parse_knowledge_tags,
    parse_knowledge_title,
};
use planwright_store::{
    Database,
    repo::{
        self,
        knowledge::{GlobalDoc, SyncReport},
        page::{Page, PageRequest},
    },
};
use uuid::Uuid;

use crate::{
    error::{ApiError, Missing, not_found},
    services::grounding,
    state::AppState,
};

/// Stores one of the caller's documents.
pub async fn create_doc(
    state: &AppState,
    user_id: Uuid,
    doc: NewKnowledgeDoc,
) -> Result<KnowledgeDoc, ApiError> {
    let doc = repo::knowledge::create(state.db.conn(), user_id, doc).await?;
    grounding::index::index_doc(state, &doc).await;
    Ok(doc)
}

/// A document the caller may read.
pub async fn get_doc(state: &AppState, user_id: Uuid, id: Uuid) -> Result<KnowledgeDoc, ApiError> {
    repo::knowledge::find_visible(state.db.conn(), user_id, id).await.map_err(not_found(Missing::Document))
}

/// The documents the caller may read.
pub async fn list_docs(
    state: &AppState,
    user_id: Uuid,
    page: &PageRequest,
) -> Result<Page<KnowledgeDoc>, ApiError> {
    Ok(repo::knowledge::list(state.db.conn(), user_id, page).await?)
}

/// Changes one of the caller's documents; global ones are read-only.
pub async fn update_doc(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
    changes: KnowledgeChanges,
) -> Result<KnowledgeDoc, ApiError> {
    ensure_own(state, user_id, id).await?;
    let doc = repo::knowledge::update(state.db.conn(), user_id, id, changes)
        .await
        .map_err(not_found(Missing::Document))?;
    grounding::index::index_doc(state, &doc).await;
    Ok(doc)
}

/// Deletes one of the caller's documents (its chunks and vectors go with it); global ones are
/// read-only.
pub async fn delete_doc(state: &AppState, user_id: Uuid, id: Uuid) -> Result<(), ApiError> {
    ensure_own(state, user_id, id).await?;
    repo::knowledge::delete(state.db.conn(), user_id, id).await.map_err(not_found(Missing::Document))
}

async fn ensure_own(state: &AppState, user_id: Uuid, id: Uuid) -> Result<(), ApiError> {
    let doc = get_doc(state, user_id, id).await?;
    if doc.user_id.is_none() {
        return Err(ApiError::Forbidden("Global documents are read-only.".to_owned()));
    }
    Ok(())
}

/// Loads the global documents from `dir` and makes the database match them. A missing folder
/// means none; unreadable or invalid files are skipped with a warning.
pub async fn load_global(db: &Database, dir: &Path) -> anyhow::Result<SyncReport> {
    let docs = if dir.is_dir() { read_folder(dir)? } else { Vec::new() };
    if !dir.is_dir() {
        tracing::info!(dir = %dir.display(), "no knowledge folder; no global documents");
    }
    Ok(repo::knowledge::sync_global(db.conn(), docs).await?)
}

fn read_folder(dir: &Path) -> anyhow::Result<Vec<GlobalDoc>> {
    let mut files = Vec::new();
    collect_files(dir, &mut files, 0)?;
    files.sort();
    let mut docs = Vec::new();
    for file in files {
        let relative = file.strip_prefix(dir).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!(file = %relative, error = %error, "skipping an unreadable knowledge file");
                continue;
            }
        };
        let parsed = match file.extension().and_then(|e| e.to_str()) {
            Some("json") => from_json(&relative, &text),
            _ => from_markdown(&relative, &text).map(|doc| vec![doc]),
        };
        match parsed {
            Ok(found) => docs.extend(found),
            Err(problem) => tracing::warn!(file = %relative, problem, "skipping an invalid knowledge file"),
        }
    }
    Ok(docs)
}

fn collect_files(dir: &Path, files: &mut Vec<PathBuf>, depth: usize) -> anyhow::Result<()> {
    if depth > 8 {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, files, depth + 1)?;
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("md" | "markdown" | "json")) {
            files.push(path);
        }
    }
    Ok(())
}

/// A Markdown file: the title is its first `# ` heading (else the file name), its tags the
/// folders it sits in.
fn from_markdown(relative: &str, text: &str) -> Result<GlobalDoc, String> {
    let stem =
        Path::new(relative).file_stem().and_then(|s| s.to_str()).unwrap_or(relative).replace(['-', '_'], " ");
    let title = text.lines().find_map(|line| line.strip_prefix("# ")).map_or(stem, |t| t.trim().to_owned());
    let folders: Vec<String> = Path::new(relative)
        .parent()
        .map(|p| p.iter().filter_map(|c| c.to_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let doc = NewKnowledgeDoc {
        title: parse_knowledge_title(&title).map_err(|e| e.to_string())?,
        content: parse_knowledge_content(text).map_err(|e| e.to_string())?,
        tags: parse_knowledge_tags(&folders).map_err(|e| e.to_string())?,
    };
    Ok(GlobalDoc { source_path: relative.to_owned(), doc })
}

/// A JSON file: one `{title, content, tags?}` object, or a list of them.
fn from_json(relative: &str, text: &str) -> Result<Vec<GlobalDoc>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        title: String,
        content: String,
        #[serde(default)]
        tags: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum File {
        One(Entry),
        Many(Vec<Entry>),
    }
    let entries = match serde_json::from_str::<File>(text).map_err(|e| e.to_string())? {
        File::One(entry) => vec![(relative.to_owned(), entry)],
        File::Many(entries) => {
            entries.into_iter().enumerate().map(|(i, entry)| (format!("{relative}#{i}"), entry)).collect()
        }
    };
    entries
        .into_iter()
        .map(|(source_path, entry)| {
            Ok(GlobalDoc {
                source_path,
                doc: NewKnowledgeDoc {
                    title: parse_knowledge_title(&entry.title).map_err(|e| e.to_string())?,
                    content: parse_knowledge_content(&entry.content).map_err(|e| e.to_string())?,
                    tags: parse_knowledge_tags(&entry.tags).map_err(|e| e.to_string())?,
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_takes_its_heading_and_folders() {
        let doc = from_markdown("study/exams/revision-tips.md", "Intro\n# Revision tips\nSpace it out.").ok();
        assert_eq!(doc.as_ref().map(|d| d.doc.title.as_str()), Some("Revision tips"));
        assert_eq!(doc.map(|d| d.doc.tags), Some(vec!["study".to_owned(), "exams".to_owned()]));
        let untitled = from_markdown("pomodoro_method.md", "Work 25 minutes.").ok();
        assert_eq!(untitled.map(|d| d.doc.title), Some("pomodoro method".to_owned()));
        assert!(from_markdown("empty.md", "  ").is_err());
    }

    #[test]
    fn json_holds_one_document_or_a_list() {
        let one = from_json("a.json", r#"{"title": "T", "content": "C", "tags": ["X"]}"#);
        assert_eq!(
            one.map(|d| (d.len(), d[0].source_path.clone(), d[0].doc.tags.clone())),
            Ok((1, "a.json".into(), vec!["x".into()]))
        );
        let many = from_json("b.json", r#"[{"title": "A", "content": "a"}, {"title": "B", "content": "b"}]"#);
        assert_eq!(
            many.map(|d| d.iter().map(|g| g.source_path.clone()).collect::<Vec<_>>()),
            Ok(vec!["b.json#0".into(), "b.json#1".into()])
        );
        assert!(from_json("c.json", r#"{"title": ""}"#).is_err());
    }
}
