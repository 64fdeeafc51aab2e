//! The knowledge base: documents the assistant's answers are grounded on. Global documents come
//! from files and are read-only; each user may add their own.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::FieldError;

/// Most characters of a document's content.
pub const KNOWLEDGE_CONTENT_MAX: usize = 100_000;
/// Most tags per document.
pub const KNOWLEDGE_TAGS_MAX: usize = 20;

/// A document's title: 1 to 200 characters.
pub fn parse_knowledge_title(raw: &str) -> Result<String, FieldError> {
    let title = raw.trim();
    if title.is_empty() || raw.chars().count() > 200 || title.chars().any(char::is_control) {
        return Err(FieldError::new("title", "A title has 1 to 200 characters and no control characters."));
    }
    Ok(title.to_owned())
}

/// A document's content: 1 to 100 000 characters.
pub fn parse_knowledge_content(raw: &str) -> Result<String, FieldError> {
    if raw.trim().is_empty() {
        return Err(FieldError::new("content", "The content must not be blank."));
    }
    if raw.chars().count() > KNOWLEDGE_CONTENT_MAX {
        return Err(FieldError::new("content", format!("At most {KNOWLEDGE_CONTENT_MAX} characters.")));
    }
    Ok(raw.trim().to_owned())
}

/// Tags: at most 20, each 1 to 50 characters, lower-cased, without repeats.
pub fn parse_knowledge_tags(raw: &[String]) -> Result<Vec<String>, FieldError> {
    if raw.len() > KNOWLEDGE_TAGS_MAX {
        return Err(FieldError::new("tags", format!("At most {KNOWLEDGE_TAGS_MAX} tags.")));
    }
    let mut tags: Vec<String> = Vec::with_capacity(raw.len());
    for sent in raw {
        let tag = sent.trim().to_lowercase();
        if tag.is_empty() || sent.chars().count() > 50 || tag.chars().any(char::is_control) {
            return Err(FieldError::new("tags", "Each tag has 1 to 50 characters."));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeDoc {
    /// Id.
    pub id: Uuid,
    /// Owner; `None` for a global document.
    pub user_id: Option<Uuid>,
    /// Title.
    pub title: String,
    /// Content (Markdown or text).
    pub content: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A document ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKnowledgeDoc {
    /// Title.
    pub title: String,
    /// Content.
    pub content: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// A partial update of a user's document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnowledgeChanges {
    /// New title.
    pub title: Option<String>,
    /// New content.
    pub content: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
}

/// A search result.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeHit {
    /// The document.
    pub doc: KnowledgeDoc,
    /// The part of it that matched (or its opening, without a query).
    pub snippet: String,
    /// Relevance, higher is better; `None` without a query.
    pub score: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_is_counted_as_sent() {
        assert_eq!(parse_knowledge_tags(&[" Gym ".to_owned()]), Ok(vec!["gym".to_owned()]));
        assert!(parse_knowledge_tags(&["x".repeat(50)]).is_ok());
        assert!(parse_knowledge_tags(&[format!("x{}", " ".repeat(50))]).is_err());
    }

    #[test]
    fn tags_are_normalised_and_bounded() {
        let tags = parse_knowledge_tags(&["Study".into(), " study ".into(), "exams".into()]);
        assert_eq!(tags, Ok(vec!["study".to_owned(), "exams".to_owned()]));
        assert!(parse_knowledge_tags(&[String::new()]).is_err());
        assert!(parse_knowledge_tags(&vec!["t".to_owned(); 21]).is_err());
    }

    #[test]
    fn title_and_content_are_required() {
        assert!(parse_knowledge_title(" ").is_err());
        assert!(parse_knowledge_content("\n").is_err());
        assert_eq!(parse_knowledge_title(" Exams "), Ok("Exams".to_owned()));
    }
}
