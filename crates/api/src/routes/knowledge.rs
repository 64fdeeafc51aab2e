//! The knowledge base: the caller's documents and read-only global ones, with ranked search.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use planwright_domain::{
    KnowledgeChanges, KnowledgeDoc, NewKnowledgeDoc, ValidationErrors, parse_knowledge_content,
    parse_knowledge_tags, parse_knowledge_title,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{ApiError, Problem},
    error::{AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    extract::{ApiJson, ApiJsonOrEmpty, ApiQuery, AuthUser},
    routes::{PageQuery, created},
    services::{
        grounding::{self, RankedHit, SearchMode},
        knowledge,
    },
    state::AppState,
};

/// Whose a document is.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Loaded from the server's knowledge folder; read-only.
    Global,
    /// The caller's own.
    User,
}

/// A new document of the caller's.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"title": "Exam rules", "content": "Bring your student card. No phones.", "tags": ["exams"]}))]
pub struct CreateDocRequest {
    /// Title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Markdown or text, up to 100 000 characters.
    #[schema(min_length = 1, max_length = 100000)]
    pub content: String,
    /// Up to 20 tags of 1–50 characters.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// A partial update of one of the caller's documents.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"tags": ["exams", "rules"]}))]
pub struct UpdateDocRequest {
    /// New title.
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// New content.
    #[schema(min_length = 1, max_length = 100000)]
    pub content: Option<String>,
    /// New tags (replacing the old).
    #[schema(max_items = 20)]
    pub tags: Option<Vec<String>>,
}

/// How `?q=` ranks documents.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Full-text search (words and their stems), as before embeddings.
    #[default]
    Text,
    /// Meaning: the query's embedding against each chunk's (full text when there are no
    /// embeddings, e.g. with the offline AI).
    Semantic,
    /// Both lists merged by reciprocal-rank fusion (full text when there are no embeddings).
    Hybrid,
}

impl From<Mode> for SearchMode {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Text => Self::Text,
            Mode::Semantic => Self::Semantic,
            Mode::Hybrid => Self::Hybrid,
        }
    }
}

/// `?q=` search, or paging through everything without it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KnowledgeQuery {
    /// Words to search for; results are ranked best first. Blank means no search.
    #[param(example = "when can I use the gym on Sunday?")]
    pub q: Option<String>,
    /// With `q`: `text` (default), `semantic` or `hybrid`.
    #[param(inline, example = "hybrid")]
    pub mode: Option<Mode>,
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page (without `q`).
    pub cursor: Option<String>,
}

/// A document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules", "content": "Bring your student card. No phones in the exam room.", "tags": ["exams"], "scope": "user", "created_at": "2026-11-22T14:05:00Z", "updated_at": "2026-11-22T14:05:00Z"}))]
pub struct DocResponse {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Content.
    pub content: String,
    /// Tags.
    pub tags: Vec<String>,
    /// `global` (read-only) or `user`.
    pub scope: Scope,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A document in a list or a search result.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a5f2-3b4c-7d5e-8f60-7a8b9c0d1e21", "title": "Exam rules", "snippet": "Bring your student card. No phones in the exam room.", "tags": ["exams"], "scope": "user", "score": 2.71}))]
pub struct DocSummary {
    /// Id.
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// The matching passage (or the opening, without `q`).
    pub snippet: String,
    /// Tags.
    pub tags: Vec<String>,
    /// `global` or `user`.
    pub scope: Scope,
    /// Relevance, higher is better (only with `q`): bm25 / `ts_rank_cd` for `text`, cosine
    /// similarity for `semantic`, the fused reciprocal-rank score for `hybrid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The passage that matched by meaning (only with `mode=semantic` or `hybrid`, once the
    /// document is embedded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk: Option<ChunkSummary>,
}

/// The chunk of a document that matched a semantic or hybrid search.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"position": 1, "heading": "Weekend", "similarity": 0.62}))]
pub struct ChunkSummary {
    /// Order of the chunk in the document, from 0.
    pub position: i32,
    /// The heading it sits under ("" before the first).
    pub heading: String,
    /// Cosine similarity to the query, -1 to 1.
    pub similarity: f32,
}

/// Documents, best match first with `q`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocList {
    /// The documents.
    pub items: Vec<DocSummary>,
    /// Pass as `cursor` for the next page; `null` on the last (always with `q`).
    pub next_cursor: Option<String>,
}

fn scope_of(doc: &KnowledgeDoc) -> Scope {
    if doc.user_id.is_some() { Scope::User } else { Scope::Global }
}

impl From<KnowledgeDoc> for DocResponse {
    fn from(doc: KnowledgeDoc) -> Self {
        let scope = scope_of(&doc);
        Self {
            id: doc.id,
            title: doc.title,
            content: doc.content,
            tags: doc.tags,
            scope,
            created_at: doc.created_at,
            updated_at: doc.updated_at,
        }
    }
}

fn opening(content: &str) -> String {
    let mut text: String = content.chars().take(200).collect();
    if content.chars().count() > 200 {
        text.push('…');
    }
    text
}

impl CreateDocRequest {
    fn parse(self) -> Result<NewKnowledgeDoc, ValidationErrors> {
        match (
            parse_knowledge_title(&self.title),
            parse_knowledge_content(&self.content),
            parse_knowledge_tags(&self.tags),
        ) {
            (Ok(title), Ok(content), Ok(tags)) => Ok(NewKnowledgeDoc { title, content, tags }),
            (title, content, tags) => {
                Err([title.err(), content.err(), tags.err()].into_iter().flatten().collect())
            }
        }
    }
}

impl UpdateDocRequest {
    fn parse(self) -> Result<KnowledgeChanges, ValidationErrors> {
        let title = self.title.as_deref().map(parse_knowledge_title).transpose();
        let content = self.content.as_deref().map(parse_knowledge_content).transpose();
        let tags = self.tags.as_deref().map(parse_knowledge_tags).transpose();
        match (title, content, tags) {
            (Ok(title), Ok(content), Ok(tags)) => Ok(KnowledgeChanges { title, content, tags }),
            (title, content, tags) => {
                Err([title.err(), content.err(), tags.err()].into_iter().flatten().collect())
            }
        }
    }
}

/// Add a document of your own to the knowledge base.
///
/// The document is private to the caller: it is searched together with the global documents and can
/// ground the caller's chat answers (it appears in their `sources`). Markdown or plain text, up to
/// 100 000 characters, with up to 20 tags.
#[utoipa::path(
    tag = "knowledge",
    security(("bearer" = [])),
    request_body = CreateDocRequest,
    responses(
        (status = 201, description = "The document.", body = DocResponse, headers(
            ("Location" = String, description = "The document's path: `/api/v1/knowledge/{id}`.")
        )),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/knowledge")]
pub async fn create_doc(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateDocRequest>,
) -> Result<HttpResponse, ApiError> {
    let doc = knowledge::create_doc(&state, auth.user_id, body.parse()?).await?;
    Ok(created(format!("/api/v1/knowledge/{}", doc.id), &DocResponse::from(doc)))
}

/// Search the knowledge base (`?q=`, ranked), or list every document you can read.
///
/// Global documents and your own are searched together; each result says its `scope`.
/// `mode=text` (the default) matches words; `mode=semantic` matches meaning ("when can I use the
/// gym on Sunday?" finds "Sports centre opening hours") through embeddings of each document's
/// chunks; `mode=hybrid` merges both by reciprocal-rank fusion, as the chat does. Documents are
/// embedded in the background a moment after they change; until then, and whenever embeddings
/// are off (offline AI) or fail, every mode answers with full-text results.
///
/// Only knowledge documents are searched here. Your resources and plans are searched by the chat
/// (the sources of each message and its `search_knowledge` tool), not by this route.
#[utoipa::path(
    tag = "knowledge",
    security(("bearer" = [])),
    params(KnowledgeQuery),
    responses(
        (status = 200, description = "Documents, best match first with `q`.", body = DocList),
        (status = 400, description = "A query parameter is not valid.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/knowledge")]
pub async fn list_docs(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<KnowledgeQuery>,
) -> Result<web::Json<DocList>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, cursor: query.cursor }.page()?;
    if let Some(q) = query.q.filter(|q| !q.trim().is_empty()) {
        let mode = query.mode.unwrap_or_default().into();
        let hits = grounding::search(&state, auth.user_id, &q, mode, page.limit).await?;
        let items = hits
            .into_iter()
            .map(|RankedHit { hit, chunk }| DocSummary {
                id: hit.doc.id,
                scope: scope_of(&hit.doc),
                title: hit.doc.title,
                snippet: hit.snippet,
                tags: hit.doc.tags,
                score: hit.score,
                chunk: chunk.map(|c| ChunkSummary {
                    position: c.position,
                    heading: c.heading,
                    similarity: c.similarity,
                }),
            })
            .collect();
        return Ok(web::Json(DocList { items, next_cursor: None }));
    }
    let page = knowledge::list_docs(&state, auth.user_id, &page).await?;
    let items = page
        .items
        .into_iter()
        .map(|doc| DocSummary {
            id: doc.id,
            scope: scope_of(&doc),
            snippet: opening(&doc.content),
            title: doc.title,
            tags: doc.tags,
            score: None,
            chunk: None,
        })
        .collect();
    Ok(web::Json(DocList { items, next_cursor: page.next_cursor }))
}

/// One document: yours, or a global one.
///
/// The whole document with its content. Global documents (loaded by the server, `scope: global`)
/// are readable by everyone; another user's document answers 404.
#[utoipa::path(
    tag = "knowledge",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The document's id.")),
    responses(
        (status = 200, description = "The document.", body = DocResponse),
        (status = 404, description = "No such document (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/knowledge/{id}")]
pub async fn get_doc(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<DocResponse>, ApiError> {
    Ok(web::Json(knowledge::get_doc(&state, auth.user_id, id.into_inner()).await?.into()))
}

/// Change one of your documents (global documents are read-only: 403).
///
/// Fields left out stay as they are; `tags` replaces the whole tag list. Another user's document
/// answers 404.
#[utoipa::path(
    tag = "knowledge",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The document's id.")),
    request_body = UpdateDocRequest,
    responses(
        (status = 200, description = "The updated document.", body = DocResponse),
        (status = 403, description = "A global document: read-only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[patch("/knowledge/{id}")]
pub async fn update_doc(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<UpdateDocRequest>,
) -> Result<web::Json<DocResponse>, ApiError> {
    let doc = knowledge::update_doc(&state, auth.user_id, id.into_inner(), body.parse()?).await?;
    Ok(web::Json(doc.into()))
}

/// Delete one of your documents (global documents are read-only: 403).
///
/// The document leaves the search results at once. Another user's document answers 404 and is left
/// alone.
#[utoipa::path(
    tag = "knowledge",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The document's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "A global document: read-only.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such document (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[delete("/knowledge/{id}")]
pub async fn delete_doc(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    knowledge::delete_doc(&state, auth.user_id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
