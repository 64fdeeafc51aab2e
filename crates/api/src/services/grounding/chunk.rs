//! Cutting a document into chunks for embedding: by Markdown heading, then by paragraph,
//! merging short paragraphs and splitting long ones so every chunk stays under
//! [`MAX_CHUNK_CHARS`]. Pure, no I/O.

use planwright_domain::{Plan, Resource};
use planwright_store::repo::embeddings::NewChunk;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Most characters in one chunk: a few paragraphs, well under the embedding model's input
/// limit, small enough that a match points at the passage that answers.
pub const MAX_CHUNK_CHARS: usize = 1_200;

/// The chunks of a document's `content`, in order. Whitespace-only content has none. The
/// document's `title` is embedded with each chunk, so it is part of each chunk's hash.
pub fn chunk_document(title: &str, content: &str) -> Vec<NewChunk> {
    let mut pieces: Vec<(String, String)> = Vec::new();
    let mut heading = String::new();
    let mut current = String::new();
    let mut paragraph = String::new();
    for line in content.lines().chain(std::iter::once("")) {
        let trimmed = line.trim();
        if let Some(title) = heading_text(trimmed) {
            add_paragraph(&mut pieces, &heading, &mut current, &mut paragraph);
            flush(&mut pieces, &heading, &mut current);
            heading = title.to_owned();
        } else if trimmed.is_empty() {
            add_paragraph(&mut pieces, &heading, &mut current, &mut paragraph);
        } else {
            if !paragraph.is_empty() {
                paragraph.push(' ');
            }
            paragraph.push_str(trimmed);
        }
    }
    flush(&mut pieces, &heading, &mut current);
    pieces
        .into_iter()
        .enumerate()
        .map(|(position, (heading, content))| NewChunk {
            position: i32::try_from(position).unwrap_or(i32::MAX),
            content_hash: content_hash(&format!("{title}\u{0}{heading}"), &content),
            heading,
            content,
        })
        .collect()
}

/// A resource as a document: titled by its name, its type and class first, then each field
/// of its JSON content as a `path: value` paragraph (nested objects and lists flattened), so
/// chunks cut at field boundaries and a change to one field re-embeds only its chunk.
pub fn resource_document(resource: &Resource) -> (String, String) {
    let class = resource.class_id.as_deref().map(|class| format!(", class {class}")).unwrap_or_default();
    let mut paragraphs = vec![format!("{}{class}", resource.kind)];
    flatten_json("", &resource.content, &mut paragraphs);
    (resource.name.clone(), paragraphs.join("\n\n"))
}

/// A plan as a document: titled by its goal, the summary first, then one `## Day n` section per
/// day with a paragraph per task (title, minutes, description).
pub fn plan_document(plan: &Plan) -> (String, String) {
    let mut text = plan.summary.trim().to_owned();
    let mut day = None;
    for task in &plan.tasks {
        if day != Some(task.day_offset) {
            day = Some(task.day_offset);
            text.push_str(&format!("\n\n## Day {}\n", u32::from(task.day_offset) + 1));
        }
        let description = task.description.trim();
        let description = if description.is_empty() { String::new() } else { format!(": {description}") };
        text.push_str(&format!("\n{} ({} min){description}\n", task.title.trim(), task.duration_minutes));
    }
    (plan.goal.clone(), text)
}

/// Appends a paragraph per leaf of `value` (`path: text`; a bare string at the top is its own
/// paragraph).
fn flatten_json(path: &str, value: &Value, out: &mut Vec<String>) {
    let leaf = |text: String, out: &mut Vec<String>| {
        let text = text.trim().to_owned();
        if !text.is_empty() {
            out.push(if path.is_empty() { text } else { format!("{path}: {text}") });
        }
    };
    match value {
        Value::Null => {}
        Value::String(text) => leaf(text.clone(), out),
        Value::Bool(_) | Value::Number(_) => leaf(value.to_string(), out),
        Value::Array(items) => {
            for item in items {
                flatten_json(path, item, out);
            }
        }
        Value::Object(fields) => {
            for (key, field) in fields {
                let inner = if path.is_empty() { key.clone() } else { format!("{path} › {key}") };
                flatten_json(&inner, field, out);
            }
        }
    }
}

/// SHA-256 (hex) of a chunk's heading and text.
pub fn content_hash(heading: &str, content: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(heading.as_bytes());
    hasher.update([0u8]);
    hasher.update(content.as_bytes());
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The text of a Markdown ATX heading (`# Title` .. `###### Title`).
fn heading_text(line: &str) -> Option<&str> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = &line[hashes..];
    rest.starts_with(' ').then(|| rest.trim()).filter(|text| !text.is_empty())
}

/// Moves the finished paragraph into the current chunk, flushing the chunk first when the
/// paragraph would not fit, and cutting a paragraph longer than a chunk at word boundaries.
fn add_paragraph(
    pieces: &mut Vec<(String, String)>,
    heading: &str,
    current: &mut String,
    paragraph: &mut String,
) {
    if paragraph.is_empty() {
        return;
    }
    let text = std::mem::take(paragraph);
    if current.chars().count() + text.chars().count() + 2 > MAX_CHUNK_CHARS {
        flush(pieces, heading, current);
    }
    if text.chars().count() <= MAX_CHUNK_CHARS {
        if !current.is_empty() {
            current.push_str("\n\n");
        }
        current.push_str(&text);
        return;
    }
    let mut part = String::new();
    for word in text.split_whitespace() {
        let word: String = word.chars().take(MAX_CHUNK_CHARS).collect();
        if part.chars().count() + word.chars().count() + 1 > MAX_CHUNK_CHARS {
            pieces.push((heading.to_owned(), std::mem::take(&mut part)));
        }
        if !part.is_empty() {
            part.push(' ');
        }
        part.push_str(&word);
    }
    *current = part;
}

fn flush(pieces: &mut Vec<(String, String)>, heading: &str, current: &mut String) {
    let text = std::mem::take(current);
    if !text.trim().is_empty() {
        pieces.push((heading.to_owned(), text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_start_new_chunks_and_paragraphs_merge() {
        let chunks = chunk_document(
            "T",
            "# Sports centre\n\nIntro line\nstill intro.\n\nSecond paragraph.\n\n## Weekend\nOpen 9 to 5.\n",
        );
        let shape: Vec<(&str, &str)> =
            chunks.iter().map(|c| (c.heading.as_str(), c.content.as_str())).collect();
        assert_eq!(
            shape,
            [("Sports centre", "Intro line still intro.\n\nSecond paragraph."), ("Weekend", "Open 9 to 5.")]
        );
        assert_eq!(chunks.iter().map(|c| c.position).collect::<Vec<_>>(), [0, 1]);
    }

    #[test]
    fn long_text_is_cut_under_the_bound() {
        let long = "word ".repeat(1_000);
        let chunks = chunk_document("T", &format!("{long}\n\n{}", "x".repeat(5_000)));
        assert!(chunks.len() >= 5, "{} chunks", chunks.len());
        assert!(chunks.iter().all(|c| c.content.chars().count() <= MAX_CHUNK_CHARS));
    }

    #[test]
    fn whitespace_has_no_chunks_and_hashes_follow_content() {
        assert!(chunk_document("T", " \n\t\n  ").is_empty());
        assert!(chunk_document("T", "# Only a heading").is_empty());
        let a = chunk_document("T", "Same.\n\nOther.");
        let b = chunk_document("T", "Same.\n\nChanged.");
        let retitled = chunk_document("U", "Same.\n\nOther.");
        assert_ne!(a[0].content_hash, retitled[0].content_hash, "the title is embedded too");
        assert_eq!(a.len(), 1);
        assert_ne!(a[0].content_hash, b[0].content_hash);
        assert_eq!(content_hash("h", "t"), content_hash("h", "t"));
        assert_ne!(content_hash("ht", ""), content_hash("h", "t"));
        assert_eq!(heading_text("#hashtag"), None);
    }

    #[test]
    fn resources_flatten_their_fields_into_paragraphs() {
        let now = chrono::Utc::now();
        let resource = Resource {
            id: uuid::Uuid::nil(),
            user_id: uuid::Uuid::nil(),
            class_id: Some("cs101".to_owned()),
            kind: "note".to_owned(),
            name: "Leisure card".to_owned(),
            content: serde_json::json!({"hours": {"weekend": "8 to 18"}, "tags": ["towel", 3], "empty": null}),
            created_at: now,
            updated_at: now,
        };
        let (title, text) = resource_document(&resource);
        assert_eq!(title, "Leisure card");
        assert_eq!(text, "note, class cs101\n\nhours › weekend: 8 to 18\n\ntags: towel\n\ntags: 3");
        let chunks = chunk_document(&title, &text);
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].content.contains("hours › weekend: 8 to 18"));
    }
}
