//! Records every request into [`Metrics`](crate::metrics::Metrics) under its route template.

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use super::root_span::MatchedRoute;
use crate::state::AppState;

/// Times each request and counts it under its route template (`/api/v1/me`, not the raw path,
/// so ids never explode the label set; unmatched paths count as `unmatched`).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    // A standard method is a constant: cloning it allocates nothing.
    let method = req.method().clone();
    let metrics = req.app_data::<web::Data<AppState>>().map(|state| state.metrics.clone());
    // Resolved by the root span when it runs (it does in the app; nothing reads it after this);
    // else looked up here.
    let route = match req.extensions_mut().remove::<MatchedRoute>() {
        Some(MatchedRoute(route)) => route,
        None => req.match_pattern(),
    };
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &result {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        let route = route.as_deref().unwrap_or("unmatched");
        metrics.observe(route, method.as_str(), status.as_str(), started.elapsed().as_secs_f64());
    }
    result
}
