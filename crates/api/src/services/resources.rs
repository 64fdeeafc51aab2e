//! The person's resources: stored as given, read back to ground the assistant, and chunked for
//! semantic search after each change (embedded in the background).

use planwright_domain::{NewResource, Resource, ResourceChanges};
use planwright_store::repo::{
    self,
    page::{Page, PageRequest},
    resources::ResourceFilter,
};
use uuid::Uuid;

use crate::{
    error::{ApiError, Missing, not_found},
    services::grounding,
    state::AppState,
};

/// Stores a resource.
pub async fn create_resource(
    state: &AppState,
    user_id: Uuid,
    resource: NewResource,
) -> Result<Resource, ApiError> {
    let resource = repo::resources::create(state.db.conn(), user_id, resource).await?;
    grounding::index::index_resource(state, &resource).await;
    Ok(resource)
}

/// The caller's resource.
pub async fn get_resource(state: &AppState, user_id: Uuid, id: Uuid) -> Result<Resource, ApiError> {
    repo::resources::find(state.db.conn(), user_id, id).await.map_err(not_found(Missing::Resource))
}

/// The caller's resources matching `filter`.
pub async fn list_resources(
    state: &AppState,
    user_id: Uuid,
    filter: &ResourceFilter,
    page: &PageRequest,
) -> Result<Page<Resource>, ApiError> {
    Ok(repo::resources::list(state.db.conn(), user_id, filter, page).await?)
}

/// Applies a partial update.
pub async fn update_resource(
    state: &AppState,
    user_id: Uuid,
    id: Uuid,
    changes: ResourceChanges,
) -> Result<Resource, ApiError> {
    let resource = repo::resources::update(state.db.conn(), user_id, id, changes)
        .await
        .map_err(not_found(Missing::Resource))?;
    grounding::index::index_resource(state, &resource).await;
    Ok(resource)
}

/// Deletes the caller's resource (its chunks and vectors go with it, by cascade).
pub async fn delete_resource(state: &AppState, user_id: Uuid, id: Uuid) -> Result<(), ApiError> {
    repo::resources::delete(state.db.conn(), user_id, id).await.map_err(not_found(Missing::Resource))
}
