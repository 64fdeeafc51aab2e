//! Resources: the person's own material, any JSON, grouped by class and type.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use planwright_domain::{
    NewResource, Resource, ResourceChanges, ValidationErrors, check_resource_content, parse_class_id,
    parse_resource_name, parse_resource_type,
};
use planwright_store::repo::resources::ResourceFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    error::{ApiError, Problem},
    error::{AuthProblems, BodyProblems, QueryProblems, ServerProblems},
    extract::{ApiJson, ApiJsonOrEmpty, ApiQuery, AuthUser},
    routes::{PageQuery, created},
    services::resources,
    state::AppState,
};

/// A new resource.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"class_id": "cs101", "type": "syllabus", "name": "Algorithms syllabus", "content": {"weeks": 12, "exam": "2026-12-12"}}))]
pub struct CreateResourceRequest {
    /// The class it belongs to, 1–100 characters.
    #[schema(min_length = 1, max_length = 100)]
    pub class_id: Option<String>,
    /// Its type (`note`, `link`, `syllabus`, ...), 1–50 characters.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 50)]
    pub kind: String,
    /// Its name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Any JSON, up to 64 KiB.
    pub content: serde_json::Value,
}

/// A partial update; fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "Algorithms syllabus (v2)"}))]
pub struct UpdateResourceRequest {
    /// New class; `null` removes it.
    #[serde(default, deserialize_with = "crate::routes::present")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 100)]
    pub class_id: Option<Option<String>>,
    /// New type.
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 50)]
    pub kind: Option<String>,
    /// New name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// New content (any JSON; `null` stores JSON null).
    #[serde(default, deserialize_with = "crate::routes::present")]
    #[schema(value_type = Option<serde_json::Value>)]
    pub content: Option<Option<serde_json::Value>>,
}

/// Filters and paging of the resource list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceListQuery {
    /// Only resources of this class.
    pub class_id: Option<String>,
    /// Only resources of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Items per page, 1–200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A resource.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193a603-4c5d-7e6f-9a01-8b9c0d1e2f31", "class_id": "algorithms-101", "type": "syllabus", "name": "Algorithms syllabus", "content": {"weeks": [{"week": 1, "topic": "Sorting"}, {"week": 2, "topic": "Graphs"}]}, "created_at": "2026-11-23T16:20:00Z", "updated_at": "2026-11-23T16:20:00Z"}))]
pub struct ResourceResponse {
    /// Id.
    pub id: Uuid,
    /// The class it belongs to.
    pub class_id: Option<String>,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The content as stored.
    pub content: serde_json::Value,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A page of resources, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceList {
    /// The resources.
    pub items: Vec<ResourceResponse>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

impl From<Resource> for ResourceResponse {
    fn from(resource: Resource) -> Self {
        Self {
            id: resource.id,
            class_id: resource.class_id,
            kind: resource.kind,
            name: resource.name,
            content: resource.content,
            created_at: resource.created_at,
            updated_at: resource.updated_at,
        }
    }
}

impl CreateResourceRequest {
    fn parse(self) -> Result<NewResource, ValidationErrors> {
        let class_id = self.class_id.as_deref().map(parse_class_id).transpose();
        let kind = parse_resource_type(&self.kind);
        let name = parse_resource_name(&self.name);
        let content = check_resource_content(&self.content);
        match (class_id, kind, name, content) {
            (Ok(class_id), Ok(kind), Ok(name), Ok(())) => {
                Ok(NewResource { class_id, kind, name, content: self.content })
            }
            (class_id, kind, name, content) => {
                Err([class_id.err(), kind.err(), name.err(), content.err()].into_iter().flatten().collect())
            }
        }
    }
}

impl UpdateResourceRequest {
    fn parse(self) -> Result<ResourceChanges, ValidationErrors> {
        let class_id = match self.class_id {
            Some(Some(raw)) => parse_class_id(&raw).map(|c| Some(Some(c))),
            Some(None) => Ok(Some(None)),
            None => Ok(None),
        };
        let kind = self.kind.as_deref().map(parse_resource_type).transpose();
        let name = self.name.as_deref().map(parse_resource_name).transpose();
        let content = self.content.map(|c| c.unwrap_or(serde_json::Value::Null));
        let size = content.as_ref().map(check_resource_content).transpose();
        match (class_id, kind, name, size) {
            (Ok(class_id), Ok(kind), Ok(name), Ok(_)) => {
                Ok(ResourceChanges { class_id, kind, name, content })
            }
            (class_id, kind, name, size) => {
                Err([class_id.err(), kind.err(), name.err(), size.err()].into_iter().flatten().collect())
            }
        }
    }
}

/// Store a resource.
///
/// A resource is any JSON the caller wants the assistant to know about (a timetable, a syllabus,
/// notes), labelled with a `type`, a `name` and optionally a `class_id` to group it. The chat
/// grounds answers on the caller's resources and cites them in `sources`.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    request_body = CreateResourceRequest,
    responses(
        (status = 201, description = "The resource.", body = ResourceResponse, headers(
            ("Location" = String, description = "The resource's path: `/api/v1/resources/{id}`.")
        )),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[post("/resources")]
pub async fn create_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    ApiJson(body): ApiJson<CreateResourceRequest>,
) -> Result<HttpResponse, ApiError> {
    let resource = resources::create_resource(&state, auth.user_id, body.parse()?).await?;
    Ok(created(format!("/api/v1/resources/{}", resource.id), &ResourceResponse::from(resource)))
}

/// The caller's resources; filter by `class_id` and `type`.
///
/// Filters combine. Pages hold `limit` resources (1–200, default 50); pass the answer's
/// `next_cursor` as `cursor` for the next page, until it is `null`. Only the caller's own resources
/// are listed.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(ResourceListQuery),
    responses(
        (status = 200, description = "A page of resources.", body = ResourceList),
        (status = 400, description = "A query parameter is not valid.", body = Problem, content_type = "application/problem+json"),
        AuthProblems, QueryProblems, ServerProblems
    )
)]
#[get("/resources")]
pub async fn list_resources(
    state: web::Data<AppState>,
    auth: AuthUser,
    query: ApiQuery<ResourceListQuery>,
) -> Result<web::Json<ResourceList>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery { limit: query.limit, cursor: query.cursor }.page()?;
    let filter = ResourceFilter { class_id: query.class_id, kind: query.kind };
    let page = resources::list_resources(&state, auth.user_id, &filter, &page).await?;
    Ok(web::Json(ResourceList {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One of the caller's resources.
///
/// The resource with its JSON `content` exactly as stored. Another user's resource answers 404,
/// exactly as one that does not exist.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource's id.")),
    responses(
        (status = 200, description = "The resource.", body = ResourceResponse),
        (status = 404, description = "No such resource (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[get("/resources/{id}")]
pub async fn get_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<web::Json<ResourceResponse>, ApiError> {
    Ok(web::Json(resources::get_resource(&state, auth.user_id, id.into_inner()).await?.into()))
}

/// Change a resource's class, type, name or content.
///
/// Fields left out stay as they are; `content` is replaced whole. Another user's resource answers
/// 404.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource's id.")),
    request_body = UpdateResourceRequest,
    responses(
        (status = 200, description = "The updated resource.", body = ResourceResponse),
        (status = 404, description = "No such resource (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, BodyProblems, ServerProblems
    )
)]
#[patch("/resources/{id}")]
pub async fn update_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<UpdateResourceRequest>,
) -> Result<web::Json<ResourceResponse>, ApiError> {
    let resource = resources::update_resource(&state, auth.user_id, id.into_inner(), body.parse()?).await?;
    Ok(web::Json(resource.into()))
}

/// Delete a resource.
///
/// It is no longer used to ground chat answers. Another user's resource answers 404 and is left
/// alone.
#[utoipa::path(
    tag = "resources",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The resource's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 404, description = "No such resource (or it is someone else's).", body = Problem, content_type = "application/problem+json"),
        AuthProblems, ServerProblems
    )
)]
#[delete("/resources/{id}")]
pub async fn delete_resource(
    state: web::Data<AppState>,
    auth: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    resources::delete_resource(&state, auth.user_id, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
