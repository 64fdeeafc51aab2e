//! Plain word matching for material that has no full-text index (resources, plans): the chat's
//! retrieval finds the caller's rows that mention the message's significant words, then ranks
//! them by how many of those words they contain.

use sea_orm::{DatabaseBackend, Value};

/// Words too common to say anything about relevance.
const STOP_WORDS: &[&str] = &[
    "about", "after", "again", "and", "are", "but", "can", "could", "did", "does", "for", "from", "had",
    "has", "have", "how", "into", "its", "just", "may", "more", "most", "not", "now", "off", "one", "our",
    "out", "own", "should", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these",
    "they", "this", "those", "too", "use", "very", "want", "was", "way", "were", "what", "when", "where",
    "which", "while", "who", "why", "will", "with", "would", "you", "your",
];

/// The lower-cased words of `query` worth matching: at least three characters, not a stop
/// word, no repeats, at most eight.
pub(crate) fn significant_terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        let word: String = word.chars().take(64).collect::<String>().to_lowercase();
        if word.chars().count() >= 3 && !STOP_WORDS.contains(&word.as_str()) && !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == 8 {
            break;
        }
    }
    terms
}

/// How many of `terms` occur in `text` (compared lower-cased).
pub(crate) fn matched_terms(text: &str, terms: &[String]) -> usize {
    let text = text.to_lowercase();
    terms.iter().filter(|term| text.contains(term.as_str())).count()
}

/// `(expr LIKE $n OR ...)` over every expression and term, with its values, placeholders
/// numbered from `first`. Terms hold only letters and digits, so they carry no wildcards.
pub(crate) fn any_like(
    backend: DatabaseBackend,
    expressions: &[&str],
    terms: &[String],
    first: usize,
) -> (String, Vec<Value>) {
    let operator = if backend == DatabaseBackend::Postgres { "ILIKE" } else { "LIKE" };
    let mut clauses = Vec::new();
    let mut values = Vec::new();
    for term in terms {
        let placeholder = first + values.len();
        values.push(Value::from(format!("%{term}%")));
        for expression in expressions {
            clauses.push(format!("{expression} {operator} ${placeholder}"));
        }
    }
    (format!("({})", clauses.join(" OR ")), values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_significant_words_are_kept() {
        assert_eq!(
            significant_terms("What is the syllabus for CS101, and the syllabus exam?"),
            ["syllabus", "cs101", "exam"]
        );
        assert!(significant_terms("is it ok? a b").is_empty());
    }

    #[test]
    fn matches_count_distinct_terms() {
        let terms = significant_terms("graph algorithms exam");
        assert_eq!(matched_terms("Graph theory: the ALGORITHMS you need", &terms), 2);
    }

    #[test]
    fn like_clauses_number_their_placeholders() {
        let (sql, values) =
            any_like(DatabaseBackend::Sqlite, &["name", "kind"], &["exam".into(), "graph".into()], 2);
        assert_eq!(sql, "(name LIKE $2 OR kind LIKE $2 OR name LIKE $3 OR kind LIKE $3)");
        assert_eq!(values.len(), 2);
        let (sql, _) = any_like(DatabaseBackend::Postgres, &["name"], &["exam".into()], 1);
        assert_eq!(sql, "(name ILIKE $1)");
    }
}
