//! Embeddings for semantic search: Gemini's `batchEmbedContents` / `embedContent` through the
//! `planwright-gemini` client, or none (the offline provider, or Gemini without a key), in which
//! case full-text search serves alone.
//!
//! Documents are embedded as `RETRIEVAL_DOCUMENT` with their title, queries as
//! `RETRIEVAL_QUERY`, both at `ai.embedding_dimensions` values and normalised here, so callers
//! compare vectors with a plain dot product.

use std::sync::Arc;

use planwright_gemini::{Client, EmbedContentRequest, Error};
use secrecy::ExposeSecret;
use tokio::sync::Notify;

use super::AiError;
use crate::settings::{AiProviderKind, AiSettings};

/// One text to embed as a stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText {
    /// The document's title (Gemini uses it with `RETRIEVAL_DOCUMENT`).
    pub title: String,
    /// The chunk's text.
    pub text: String,
}

/// The embedding side of the AI, with the bell that wakes the indexing job.
#[derive(Debug, Clone)]
pub struct Embedder {
    backend: Backend,
    wake: Arc<Notify>,
}

#[derive(Debug, Clone)]
enum Backend {
    /// No embeddings: search is full-text only.
    Off,
    /// Gemini's embedding model.
    Gemini { client: Client, dimensions: u32 },
}

impl Embedder {
    /// Embeddings as `settings` allow: Gemini's when Gemini is the provider (explicitly, or
    /// `auto` with a key), none otherwise.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn from_settings(settings: &AiSettings) -> anyhow::Result<Self> {
        let key = settings.gemini_api_key.as_ref().filter(|k| !k.expose_secret().trim().is_empty());
        let backend = match (settings.provider, key) {
            (AiProviderKind::Offline, _) | (_, None) => Backend::Off,
            (AiProviderKind::Gemini | AiProviderKind::Auto, Some(key)) => {
                let config = planwright_gemini::Config::new()
                    .with_base_url(settings.gemini_base_url.clone())
                    .with_api_key(key.clone())
                    .with_embedding_model(settings.embedding_model.clone())
                    .with_timeout(std::time::Duration::from_secs(settings.timeout_secs))
                    .with_retry_policy(
                        planwright_gemini::RetryPolicy::default().with_max_retries(settings.max_retries),
                    );
                Backend::Gemini {
                    client: Client::new(config)?,
                    dimensions: settings.embedding_dimensions.clamp(128, 3072),
                }
            }
        };
        Ok(Self { backend, wake: Arc::new(Notify::new()) })
    }

    /// No embeddings at all.
    pub fn off() -> Self {
        Self { backend: Backend::Off, wake: Arc::new(Notify::new()) }
    }

    /// The embedding model, or `None` when there are no embeddings.
    pub fn model(&self) -> Option<&str> {
        match &self.backend {
            Backend::Off => None,
            Backend::Gemini { client, .. } => Some(client.config().embedding_model.as_str()),
        }
    }

    /// Tells the indexing job that chunks are waiting.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until [`Embedder::wake`] is called (a call made while nobody waited counts).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Unit vectors for `documents`, in order (empty without embeddings).
    ///
    /// # Errors
    /// [`AiError`] when Gemini fails after its retries.
    pub async fn embed_documents(&self, documents: &[DocumentText]) -> Result<Vec<Vec<f32>>, AiError> {
        let Backend::Gemini { client, dimensions } = &self.backend else { return Ok(Vec::new()) };
        let requests = documents
            .iter()
            .map(|doc| {
                let request =
                    EmbedContentRequest::document(doc.text.clone()).with_output_dimensionality(*dimensions);
                if doc.title.trim().is_empty() { request } else { request.with_title(doc.title.clone()) }
            })
            .collect();
        let embeddings = client.batch_embed_contents(requests).await.map_err(map_error)?;
        embeddings.iter().map(|embedding| unit_vector(embedding, *dimensions)).collect()
    }

    /// The unit vector of a search query, or `None` without embeddings.
    ///
    /// # Errors
    /// [`AiError`] when Gemini fails after its retries.
    pub async fn embed_query(&self, query: &str) -> Result<Option<Vec<f32>>, AiError> {
        let Backend::Gemini { client, dimensions } = &self.backend else { return Ok(None) };
        let request = EmbedContentRequest::query(query.to_owned()).with_output_dimensionality(*dimensions);
        let embedding = client.embed_content(request).await.map_err(map_error)?;
        unit_vector(&embedding, *dimensions).map(Some)
    }
}

/// `embedding` scaled to unit length, or an error when it cannot be used: another size than
/// asked for, a value that is not finite (a huge value overflows f32), or all zeros (no
/// direction). Any such answer leaves the chunks pending and full-text search serving.
fn unit_vector(
    embedding: &planwright_gemini::ContentEmbedding,
    dimensions: u32,
) -> Result<Vec<f32>, AiError> {
    let values = embedding.normalized();
    let norm = values.iter().map(|value| f64::from(*value).powi(2)).sum::<f64>().sqrt();
    let size_ok = usize::try_from(dimensions).is_ok_and(|dimensions| values.len() == dimensions);
    if size_ok && values.iter().all(|value| value.is_finite()) && (norm - 1.0).abs() < 1e-3 {
        return Ok(values);
    }
    tracing::warn!(
        values = values.len(),
        dimensions,
        norm,
        "Gemini returned an embedding that cannot be used (wrong size, not finite or all zero)"
    );
    Err(AiError::Upstream("Gemini returned an embedding that cannot be used".to_owned()))
}

/// What an embedding failure means: search goes on with full text, so only the kind matters.
fn map_error(error: Error) -> AiError {
    tracing::warn!(error = %error, "Gemini embedding call failed");
    match error {
        Error::Timeout => AiError::Timeout,
        Error::RateLimited { .. } | Error::Transport(_) | Error::Unauthorized { .. } => {
            AiError::Unavailable(error.to_string())
        }
        Error::Api { status, .. } if status.is_server_error() => AiError::Unavailable(error.to_string()),
        other => AiError::Upstream(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use planwright_gemini::ContentEmbedding;

    use super::*;

    #[test]
    fn only_finite_non_zero_vectors_of_the_asked_size_are_used() {
        let odd_norm = unit_vector(&ContentEmbedding::new(vec![3e-20, 4e-20]), 2).unwrap();
        assert!((odd_norm[0] - 0.6).abs() < 1e-6 && (odd_norm[1] - 0.8).abs() < 1e-6, "{odd_norm:?}");
        let large = unit_vector(&ContentEmbedding::new(vec![3e30, 4e30]), 2).unwrap();
        assert!((large[1] - 0.8).abs() < 1e-6, "{large:?}");
        for bad in [
            vec![0.0, 0.0],
            vec![f32::INFINITY, 1.0],
            vec![f32::MAX, f32::MAX, f32::NEG_INFINITY],
            vec![1.0],
            vec![0.6, 0.8, 0.0],
            Vec::new(),
        ] {
            assert!(unit_vector(&ContentEmbedding::new(bad.clone()), 2).is_err(), "{bad:?}");
        }
    }
}
