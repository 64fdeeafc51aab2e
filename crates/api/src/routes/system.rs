//! System routes: liveness, readiness and metrics (public).

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{error::ApiError, state::AppState};

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthResponse {
    /// Always `ok` while the process serves requests.
    #[schema(example = "ok")]
    pub status: String,
}

/// Readiness answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyResponse {
    /// `ready` when every dependency answers.
    #[schema(example = "ready")]
    pub status: String,
    /// The database engine in use (`sqlite` or `postgres`).
    #[schema(example = "sqlite")]
    pub database: String,
}

/// Liveness: the process is up. Touches nothing else.
///
/// For load balancers and container health checks (public). Answers 200 `{"status": "ok"}` as long
/// as the process serves requests, even when the database is down: use `/ready` to know whether
/// requests can succeed.
#[utoipa::path(
    tag = "system",
    responses((status = 200, description = "The server is running.", body = HealthResponse))
)]
#[get("/health")]
pub async fn health() -> web::Json<HealthResponse> {
    web::Json(HealthResponse { status: "ok".to_owned() })
}

/// Readiness: 200 when the database answers within a second, else 503.
///
/// For orchestrators deciding whether to route traffic here (public). Says which database backend
/// is in use.
#[utoipa::path(
    tag = "system",
    responses(
        (status = 200, description = "Ready to serve traffic.", body = ReadyResponse),
        (status = 503, description = "The database does not answer.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<ReadyResponse>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(1), state.db.ping()).await {
        Ok(Ok(())) => Ok(web::Json(ReadyResponse {
            status: "ready".to_owned(),
            database: state.db.backend().to_string(),
        })),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness check: database failed");
            Err(ApiError::Unavailable("The database does not answer; the server is not ready.".to_owned()))
        }
        Err(_) => Err(ApiError::Unavailable(
            "The database did not answer within 1 second; the server is not ready.".to_owned(),
        )),
    }
}

/// Prometheus metrics in the text exposition format.
///
/// For Prometheus to scrape (public; keep it off the internet at the proxy). Request counts and
/// latency histograms by route template, method and status, and upstream calls by service and
/// outcome.
#[utoipa::path(
    tag = "system",
    responses(
        (status = 200, description = "Request counts and latency by route template, method and status.", body = String, content_type = "text/plain",
            example = json!("# HELP planwright_http_requests_total HTTP requests answered, by route template, method and status.\n# TYPE planwright_http_requests_total counter\nplanwright_http_requests_total{method=\"GET\",route=\"/api/v1/plans\",status=\"200\"} 42\n")),
        (status = 500, description = "The metrics could not be encoded.", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let text = state.metrics.render(&state.db.pool_stats()).map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text))
}
