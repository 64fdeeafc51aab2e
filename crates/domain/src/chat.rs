//! Chat: sessions of messages between a person and the assistant, and the sources an answer was
//! grounded on.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{TokenUsage, error::FieldError};

/// Most characters of one message a person sends.
pub const CHAT_MESSAGE_MAX: usize = 4_000;
/// Most characters of a session's title.
pub const CHAT_TITLE_MAX: usize = 80;

/// A message from the person: 1 to 4 000 characters as sent (the documented `maxLength`), not
/// blank. Surrounding whitespace goes.
pub fn parse_chat_message(raw: &str) -> Result<String, FieldError> {
    let message = raw.trim();
    if message.is_empty() {
        return Err(FieldError::new("message", "The message must not be blank."));
    }
    if raw.chars().count() > CHAT_MESSAGE_MAX {
        return Err(FieldError::new(
            "message",
            format!("A message has at most {CHAT_MESSAGE_MAX} characters."),
        ));
    }
    Ok(message.to_owned())
}

/// A session's title from its first message: the first line, whitespace collapsed, cut at a word
/// boundary to at most [`CHAT_TITLE_MAX`] characters (with an ellipsis when cut).
pub fn session_title(first_message: &str) -> String {
    let line = first_message.lines().find(|line| !line.trim().is_empty()).unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let full = words.join(" ");
    if full.chars().count() <= CHAT_TITLE_MAX {
        return if full.is_empty() { "New chat".to_owned() } else { full };
    }
    let mut title = String::new();
    for word in words {
        let next = title.chars().count() + usize::from(!title.is_empty()) + word.chars().count();
        if next > CHAT_TITLE_MAX - 1 {
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    if title.is_empty() {
        // One enormous word: cut it.
        title = line.trim().chars().take(CHAT_TITLE_MAX - 1).collect();
    }
    title.push('…');
    title
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatRole {
    /// The person.
    User,
    /// The assistant.
    Assistant,
}

impl ChatRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    /// The role a stored name stands for.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Self::User),
            "assistant" => Some(Self::Assistant),
            _ => None,
        }
    }
}

/// What kind of material an answer was grounded on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A knowledge-base document (global or the person's own).
    Knowledge,
    /// One of the person's resources.
    Resource,
    /// One of the person's plans (with its tasks).
    Plan,
}

/// One piece of material an answer was grounded on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatSource {
    /// What it is.
    pub kind: SourceKind,
    /// Its id.
    pub id: Uuid,
    /// Its title (a plan's goal, a resource's name).
    pub title: String,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// Id.
    pub id: Uuid,
    /// The session it belongs to.
    pub session_id: Uuid,
    /// Who wrote it.
    pub role: ChatRole,
    /// The text.
    pub content: String,
    /// What an assistant message was grounded on (empty for the person's messages).
    pub sources: Vec<ChatSource>,
    /// What an assistant message cost.
    pub usage: Option<TokenUsage>,
    /// The model that wrote an assistant message.
    pub model: Option<String>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// A message ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChatMessage {
    /// Who wrote it.
    pub role: ChatRole,
    /// The text.
    pub content: String,
    /// What it was grounded on.
    pub sources: Vec<ChatSource>,
    /// What it cost.
    pub usage: Option<TokenUsage>,
    /// The model that wrote it.
    pub model: Option<String>,
}

impl NewChatMessage {
    /// A message from the person.
    pub fn from_user(content: String) -> Self {
        Self { role: ChatRole::User, content, sources: Vec::new(), usage: None, model: None }
    }
}

/// A chat session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatSession {
    /// Id.
    pub id: Uuid,
    /// Taken from the first message.
    pub title: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// When the last message was added.
    pub updated_at: DateTime<Utc>,
    /// Messages in it.
    pub message_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_trimmed_and_bounded() {
        assert_eq!(parse_chat_message("  hi \n"), Ok("hi".to_owned()));
        assert!(parse_chat_message(" \n\t").is_err());
        assert!(parse_chat_message(&"a".repeat(CHAT_MESSAGE_MAX)).is_ok());
        // The limit counts what was sent, whitespace included, as the schema's maxLength does.
        let padded = format!("hi{}", "\u{85}".repeat(CHAT_MESSAGE_MAX));
        assert!(parse_chat_message(&padded).is_err());
        let error = parse_chat_message(&"a".repeat(CHAT_MESSAGE_MAX + 1)).unwrap_err();
        assert_eq!(error.field, "message");
    }

    #[test]
    fn titles_come_from_the_first_line_cut_at_a_word() {
        assert_eq!(session_title("\n  How do I   study graphs?\nMore"), "How do I study graphs?");
        let long = "word ".repeat(40);
        let title = session_title(&long);
        assert!(title.ends_with('…'));
        assert!(title.chars().count() <= CHAT_TITLE_MAX);
        assert!(!title.contains("wo…"), "cut at a word boundary: {title}");
        let one_word = "x".repeat(200);
        assert_eq!(session_title(&one_word).chars().count(), CHAT_TITLE_MAX);
    }

    #[test]
    fn roles_round_trip() {
        for role in [ChatRole::User, ChatRole::Assistant] {
            assert_eq!(ChatRole::parse(role.as_str()), Some(role));
        }
        assert_eq!(ChatRole::parse("system"), None);
    }
}
