//! Embeddings: `models.embedContent` and `models.batchEmbedContents`, and the vector helpers
//! (normalisation, cosine similarity) needed to use what they return.
//!
//! The calls go to [`Config::embedding_model`](crate::Config::embedding_model)
//! (`gemini-embedding-001` unless set), not to the generation model, and retry like every other
//! call. `gemini-embedding-001` returns 3072 values by default; fewer can be asked for with
//! `outputDimensionality` (Google supports 128 to 3072 and recommends 768, 1536 or 3072), and
//! then the values are a truncation that is no longer unit length: use
//! [`ContentEmbedding::normalized`] before comparing them.

use std::fmt;

use bytes::Bytes;
use serde::de::DeserializeOwned;
// `wire_enum!` expands to impls naming `fmt`, `Serializer` and `Deserializer`.
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::client::{API_VERSION, Client, encode, model_resource};
use crate::error::Error;
use crate::types::{Content, Part, wire_enum};

/// Most requests `batchEmbedContents` accepts in one call (Google answers more with a 400);
/// [`Client::batch_embed_contents`] splits larger batches into calls of at most this many.
pub const MAX_EMBED_BATCH: usize = 100;

wire_enum! {
    /// What an embedding will be used for (`taskType`). The model tunes the vector to it: embed
    /// stored texts as [`TaskType::RetrievalDocument`] and search queries as
    /// [`TaskType::RetrievalQuery`]. `gemini-embedding-001` accepts it; `gemini-embedding-2`
    /// takes task instructions written into the text instead.
    TaskType {
        /// Not set; Google picks a default.
        Unspecified = "TASK_TYPE_UNSPECIFIED",
        /// A query in a search or retrieval setting.
        RetrievalQuery = "RETRIEVAL_QUERY",
        /// A document of the corpus being searched (the only task type that uses a title).
        RetrievalDocument = "RETRIEVAL_DOCUMENT",
        /// Text compared for semantic textual similarity.
        SemanticSimilarity = "SEMANTIC_SIMILARITY",
        /// Text that will be classified.
        Classification = "CLASSIFICATION",
        /// Text that will be clustered.
        Clustering = "CLUSTERING",
        /// A question, answered from retrieved documents.
        QuestionAnswering = "QUESTION_ANSWERING",
        /// A statement checked against retrieved evidence.
        FactVerification = "FACT_VERIFICATION",
        /// A natural-language query for retrieving code.
        CodeRetrievalQuery = "CODE_RETRIEVAL_QUERY",
    }
}

/// The body of `models.embedContent`, and one entry of `models.batchEmbedContents` (where the
/// client adds the `model` field Google wants repeated in every entry).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct EmbedContentRequest {
    /// The text to embed; only `parts[].text` counts (`gemini-embedding-001` reads up to 2048
    /// tokens).
    pub content: Content,
    /// What the embedding is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TaskType>,
    /// The document's title; Google uses it only with [`TaskType::RetrievalDocument`], where it
    /// improves retrieval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// How many values to return (the first ones of the full vector); `None` for the model's
    /// default (3072 for `gemini-embedding-001`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_dimensionality: Option<u32>,
}

impl EmbedContentRequest {
    /// Embeds one text, with no task type, title or dimensionality.
    pub fn new(text: impl Into<String>) -> Self {
        Self::from_content(Content { role: None, parts: vec![Part::text(text)] })
    }

    /// Embeds the text parts of `content`.
    pub fn from_content(content: Content) -> Self {
        Self { content, ..Self::default() }
    }

    /// A search query: `text` with [`TaskType::RetrievalQuery`].
    pub fn query(text: impl Into<String>) -> Self {
        Self::new(text).with_task_type(TaskType::RetrievalQuery)
    }

    /// A stored document: `text` with [`TaskType::RetrievalDocument`].
    pub fn document(text: impl Into<String>) -> Self {
        Self::new(text).with_task_type(TaskType::RetrievalDocument)
    }

    /// Sets `taskType`.
    pub fn with_task_type(mut self, task_type: TaskType) -> Self {
        self.task_type = Some(task_type);
        self
    }

    /// Sets `title` (used by Google only with [`TaskType::RetrievalDocument`]).
    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets `outputDimensionality`: the answer holds this many values, which for
    /// `gemini-embedding-001` below 3072 are not unit length (see
    /// [`ContentEmbedding::normalized`]).
    pub fn with_output_dimensionality(mut self, dimensions: u32) -> Self {
        self.output_dimensionality = Some(dimensions);
        self
    }
}

/// One embedding vector (`ContentEmbedding`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct ContentEmbedding {
    /// The values, as many as the requested `outputDimensionality` (or the model's default).
    pub values: Vec<f32>,
}

impl ContentEmbedding {
    /// An embedding holding these values (e.g. one read back from storage).
    pub fn new(values: Vec<f32>) -> Self {
        Self { values }
    }

    /// How many values the embedding has.
    pub fn dimensions(&self) -> usize {
        self.values.len()
    }

    /// The values scaled to unit length (L2 norm 1), so a dot product is the cosine similarity.
    /// Google returns unit-length vectors only at the full 3072 dimensions of
    /// `gemini-embedding-001`; normalise any shorter one before storing or comparing it. An
    /// all-zero (or non-finite) vector is returned unchanged.
    pub fn normalized(&self) -> Vec<f32> {
        normalized(&self.values)
    }

    /// The cosine similarity with `other` (see [`cosine_similarity`]).
    pub fn cosine_similarity(&self, other: &Self) -> Option<f32> {
        cosine_similarity(&self.values, &other.values)
    }
}

/// `values` scaled to unit L2 norm; unchanged when the norm is zero or not finite.
pub fn normalized(values: &[f32]) -> Vec<f32> {
    let norm = values.iter().map(|value| f64::from(*value).powi(2)).sum::<f64>().sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return values.to_vec();
    }
    #[expect(clippy::cast_possible_truncation, reason = "a unit vector's components fit in f32")]
    values.iter().map(|value| (f64::from(*value) / norm) as f32).collect()
}

/// The cosine of the angle between two vectors, from -1 (opposite) through 0 (unrelated) to 1
/// (same direction); it ignores their lengths, so unnormalised vectors compare correctly.
/// `None` when the lengths differ (vectors of different models or dimensionalities cannot be
/// compared), a vector is empty or all zero, or a value is not finite.
pub fn cosine_similarity(a: &[f32], b: &[f32]) -> Option<f32> {
    if a.len() != b.len() || a.is_empty() {
        return None;
    }
    let (mut dot, mut norm_a, mut norm_b) = (0.0_f64, 0.0_f64, 0.0_f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        norm_a += x * x;
        norm_b += y * y;
    }
    let cosine = dot / (norm_a.sqrt() * norm_b.sqrt());
    #[expect(clippy::cast_possible_truncation, reason = "clamped to [-1, 1]")]
    cosine.is_finite().then(|| cosine.clamp(-1.0, 1.0) as f32)
}

impl Client {
    /// `models.embedContent`: one text's embedding, from the configured embedding model.
    ///
    /// # Errors
    /// The HTTP and transport errors described on [`Error`] once retries are exhausted (a 404
    /// for a model that does not embed, a 400 for an empty text or an unsupported
    /// dimensionality), [`Error::Decode`] when the answer holds no embedding, and
    /// [`Error::EmbeddingDimensionMismatch`] when it has no values or not the
    /// `outputDimensionality` asked for.
    #[tracing::instrument(
        name = "gemini.embed_content",
        skip(self, request),
        fields(model = %self.config().embedding_model)
    )]
    pub async fn embed_content(&self, request: EmbedContentRequest) -> Result<ContentEmbedding, Error> {
        let body = encode(&request)?;
        let response: EmbedContentResponse = self.call_embedding("embedContent", body).await?;
        check_dimensions(std::slice::from_ref(&request), std::slice::from_ref(&response.embedding), 0)?;
        Ok(response.embedding)
    }

    /// `models.batchEmbedContents`: one embedding per request, in the order given. Batches
    /// larger than [`MAX_EMBED_BATCH`] go out as several calls, one after another; an empty
    /// batch returns an empty list without calling Google. Each call is retried on its own, so
    /// a failure returns the error and none of the embeddings.
    ///
    /// # Errors
    /// As [`Client::embed_content`], [`Error::EmbeddingCountMismatch`] when an answer does not
    /// hold exactly one embedding per request sent, and [`Error::EmbeddingDimensionMismatch`]
    /// when an embedding's size is not its request's `outputDimensionality` (or, without one,
    /// the first embedding's size).
    #[tracing::instrument(
        name = "gemini.batch_embed_contents",
        skip(self, requests),
        fields(model = %self.config().embedding_model, count = requests.len())
    )]
    pub async fn batch_embed_contents(
        &self,
        requests: Vec<EmbedContentRequest>,
    ) -> Result<Vec<ContentEmbedding>, Error> {
        let model = model_resource(&self.config().embedding_model);
        let mut embeddings = Vec::with_capacity(requests.len());
        for (call, chunk) in requests.chunks(MAX_EMBED_BATCH).enumerate() {
            let body = encode(&BatchEmbedContentsBody {
                requests: chunk.iter().map(|request| ModelEmbedRequest { model: &model, request }).collect(),
            })?;
            let response: BatchEmbedContentsResponse =
                self.call_embedding("batchEmbedContents", body).await?;
            if response.embeddings.len() != chunk.len() {
                return Err(Error::EmbeddingCountMismatch {
                    expected: chunk.len(),
                    received: response.embeddings.len(),
                });
            }
            check_dimensions(chunk, &response.embeddings, call * MAX_EMBED_BATCH)?;
            embeddings.extend(response.embeddings);
        }
        Ok(embeddings)
    }

    /// POSTs `body` to `{embedding model}:{method}` with retries and decodes the answer.
    async fn call_embedding<R: DeserializeOwned>(&self, method: &str, body: Bytes) -> Result<R, Error> {
        let config = self.config();
        let url = format!(
            "{}/{API_VERSION}/{}:{method}",
            config.base_url.trim_end_matches('/'),
            model_resource(&config.embedding_model)
        );
        self.post_unary(&url, body).await
    }
}

/// Checks each embedding's size against its request's `outputDimensionality`, or without one
/// against the first embedding's size; an empty embedding is never right. `offset` is the
/// position of `requests[0]` among all the requests, for the error.
fn check_dimensions(
    requests: &[EmbedContentRequest],
    embeddings: &[ContentEmbedding],
    offset: usize,
) -> Result<(), Error> {
    let first = embeddings.first().map_or(0, ContentEmbedding::dimensions);
    for (index, (request, embedding)) in requests.iter().zip(embeddings).enumerate() {
        let expected = request
            .output_dimensionality
            .and_then(|dimensions| usize::try_from(dimensions).ok())
            .unwrap_or(first);
        if embedding.dimensions() != expected || expected == 0 {
            return Err(Error::EmbeddingDimensionMismatch {
                index: offset + index,
                expected,
                received: embedding.dimensions(),
            });
        }
    }
    Ok(())
}

/// The body of `batchEmbedContents`.
#[derive(Serialize)]
struct BatchEmbedContentsBody<'a> {
    requests: Vec<ModelEmbedRequest<'a>>,
}

/// A batch entry: the request with the `model` field Google requires in each one.
#[derive(Serialize)]
struct ModelEmbedRequest<'a> {
    model: &'a str,
    #[serde(flatten)]
    request: &'a EmbedContentRequest,
}

/// The answer of `embedContent`; a missing `embedding` is a decode error.
#[derive(Deserialize)]
struct EmbedContentResponse {
    embedding: ContentEmbedding,
}

/// The answer of `batchEmbedContents`, one embedding per request in request order.
#[derive(Deserialize)]
struct BatchEmbedContentsResponse {
    #[serde(default)]
    embeddings: Vec<ContentEmbedding>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(values: &[f32]) -> f32 {
        values.iter().map(|value| value * value).sum::<f32>().sqrt()
    }

    #[test]
    fn normalized_has_unit_length_and_keeps_the_direction() {
        let embedding = ContentEmbedding::new(vec![3.0, -4.0, 0.0, 12.0]);
        let unit = embedding.normalized();
        assert!((norm(&unit) - 1.0).abs() < 1e-6, "{unit:?}");
        assert_eq!(unit.len(), 4);
        for (raw, scaled) in embedding.values.iter().zip(&unit) {
            assert!((raw / 13.0 - scaled).abs() < 1e-6);
        }
    }

    #[test]
    fn normalizing_a_zero_or_empty_vector_changes_nothing() {
        assert_eq!(ContentEmbedding::new(vec![0.0; 3]).normalized(), vec![0.0; 3]);
        assert!(ContentEmbedding::default().normalized().is_empty());
        assert_eq!(normalized(&[f32::INFINITY, 1.0]).len(), 2);
    }

    #[test]
    fn cosine_similarity_ignores_length_and_orders_by_angle() {
        let a = [1.0, 2.0, 3.0];
        let scaled = [2.0, 4.0, 6.0];
        let opposite = [-1.0, -2.0, -3.0];
        let orthogonal = [3.0, 0.0, -1.0];
        let near = [1.1, 2.0, 2.9];
        let close = |value: Option<f32>, expected: f32| value.is_some_and(|v| (v - expected).abs() < 1e-6);
        assert!(close(cosine_similarity(&a, &scaled), 1.0));
        assert!(close(cosine_similarity(&a, &opposite), -1.0));
        assert!(close(cosine_similarity(&a, &orthogonal), 0.0));
        let near_score = cosine_similarity(&a, &near).unwrap_or(0.0);
        assert!(near_score > 0.99 && near_score < 1.0, "{near_score}");
        let raw = ContentEmbedding::new(a.to_vec());
        let unit = ContentEmbedding::new(raw.normalized());
        assert_eq!(raw.cosine_similarity(&ContentEmbedding::new(near.to_vec())), Some(near_score));
        assert!(close(unit.cosine_similarity(&raw), 1.0));
    }

    #[test]
    fn cosine_similarity_refuses_vectors_it_cannot_compare() {
        assert_eq!(cosine_similarity(&[1.0, 0.0], &[1.0, 0.0, 0.0]), None);
        assert_eq!(cosine_similarity(&[], &[]), None);
        assert_eq!(cosine_similarity(&[0.0, 0.0], &[1.0, 0.0]), None);
        assert_eq!(cosine_similarity(&[f32::INFINITY, 0.0], &[1.0, 0.0]), None);
    }

    #[test]
    fn request_serialises_to_the_documented_fields() {
        let request = EmbedContentRequest::document("Sports centre opening hours")
            .with_title("Sports centre")
            .with_output_dimensionality(768);
        assert_eq!(
            serde_json::to_value(&request).unwrap_or_default(),
            json!({
                "content": {"parts": [{"text": "Sports centre opening hours"}]},
                "taskType": "RETRIEVAL_DOCUMENT",
                "title": "Sports centre",
                "outputDimensionality": 768
            })
        );
        assert_eq!(
            serde_json::to_value(EmbedContentRequest::new("hi")).unwrap_or_default(),
            json!({"content": {"parts": [{"text": "hi"}]}})
        );
    }

    #[test]
    fn task_types_use_the_wire_names() {
        let wire = [
            (TaskType::Unspecified, "TASK_TYPE_UNSPECIFIED"),
            (TaskType::RetrievalQuery, "RETRIEVAL_QUERY"),
            (TaskType::RetrievalDocument, "RETRIEVAL_DOCUMENT"),
            (TaskType::SemanticSimilarity, "SEMANTIC_SIMILARITY"),
            (TaskType::Classification, "CLASSIFICATION"),
            (TaskType::Clustering, "CLUSTERING"),
            (TaskType::QuestionAnswering, "QUESTION_ANSWERING"),
            (TaskType::FactVerification, "FACT_VERIFICATION"),
            (TaskType::CodeRetrievalQuery, "CODE_RETRIEVAL_QUERY"),
        ];
        for (task_type, name) in wire {
            assert_eq!(serde_json::to_value(&task_type).unwrap_or_default(), json!(name));
            assert_eq!(TaskType::from(name), task_type);
        }
        assert_eq!(TaskType::from("SOMETHING_NEW"), TaskType::Unknown("SOMETHING_NEW".to_owned()));
    }
}
