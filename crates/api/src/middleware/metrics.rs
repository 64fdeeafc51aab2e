//! Records every request into [`Metrics`](crate::metrics::Metrics) under its route template.

use std::time::Instant;

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
    web,
};

use crate::state::AppState;

/// Times each request and counts it under its route template (`/api/v1/me`, not the raw path,
/// so ids never explode the label set; unmatched paths count as `unmatched`).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let metrics = req.app_data::<web::Data<AppState>>().map(|state| state.metrics.clone());
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(response) => (response.request().match_pattern(), response.status().as_u16()),
            Err(error) => (None, error.as_response_error().status_code().as_u16()),
        };
        let route = route.unwrap_or_else(|| "unmatched".to_owned());
        metrics.observe(&route, &method, status, started.elapsed().as_secs_f64());
    }
    result
}
