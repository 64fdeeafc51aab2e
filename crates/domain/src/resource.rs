//! Resources: the person's own material (notes, syllabi, links, timetables) as any JSON, grouped
//! by an optional class and a type, used to ground the assistant's answers.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::FieldError;

/// Largest `content`, serialised.
pub const RESOURCE_CONTENT_MAX_BYTES: usize = 64 * 1024;

fn label(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "This field must not be blank."));
    }
    if raw.chars().count() > max {
        return Err(FieldError::new(field, format!("At most {max} characters.")));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(field, "Control characters are not allowed."));
    }
    Ok(value.to_owned())
}

/// A resource's type (`note`, `link`, `syllabus`, ...): 1 to 50 characters.
pub fn parse_resource_type(raw: &str) -> Result<String, FieldError> {
    label("type", raw, 50)
}

/// A resource's name: 1 to 200 characters.
pub fn parse_resource_name(raw: &str) -> Result<String, FieldError> {
    label("name", raw, 200)
}

/// The class a resource belongs to: 1 to 100 characters.
pub fn parse_class_id(raw: &str) -> Result<String, FieldError> {
    label("class_id", raw, 100)
}

/// Any JSON up to [`RESOURCE_CONTENT_MAX_BYTES`] when serialised.
pub fn check_resource_content(content: &serde_json::Value) -> Result<(), FieldError> {
    let size = serde_json::to_vec(content).map_or(usize::MAX, |bytes| bytes.len());
    if size > RESOURCE_CONTENT_MAX_BYTES {
        return Err(FieldError::new(
            "content",
            format!("The content is {size} bytes; at most {RESOURCE_CONTENT_MAX_BYTES} are allowed."),
        ));
    }
    Ok(())
}

/// A stored resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    /// Id.
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// The class it belongs to, if any.
    pub class_id: Option<String>,
    /// Its type.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Any JSON.
    pub content: serde_json::Value,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A resource ready to be stored.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResource {
    /// Class.
    pub class_id: Option<String>,
    /// Type.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Content.
    pub content: serde_json::Value,
}

/// A partial update: `None` leaves a field alone, `Some(None)` clears the class.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceChanges {
    /// New class, or none.
    pub class_id: Option<Option<String>>,
    /// New type.
    pub kind: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New content.
    pub content: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(parse_resource_type(" note "), Ok("note".to_owned()));
        assert!(parse_resource_type("").is_err());
        assert!(parse_resource_type(&"t".repeat(51)).is_err());
        assert!(parse_resource_name(&"n".repeat(201)).is_err());
        assert_eq!(parse_class_id("cs101").map_err(|e| e.field), Ok("cs101".to_owned()));
        assert_eq!(parse_class_id(" ").map_err(|e| e.field), Err("class_id".to_owned()));
    }

    #[test]
    fn content_is_capped_by_size() {
        assert!(check_resource_content(&serde_json::json!({"text": "short"})).is_ok());
        let big = serde_json::json!({"text": "x".repeat(RESOURCE_CONTENT_MAX_BYTES)});
        assert_eq!(check_resource_content(&big).map_err(|e| e.field), Err("content".to_owned()));
    }
}
