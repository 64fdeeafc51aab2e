//! The access log: one `info` line per request, with its status, latency and request id, under
//! the target `access` (filter it with `log.filter`, e.g. `access=warn` to silence it).

use std::time::Instant;

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    middleware::Next,
};
use tracing_actix_web::RequestId;

/// Logs each request once it is answered. It runs inside the request's span, so the line also
/// carries the method and route; a request that failed before an answer existed is logged with
/// the error's status.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let request_id = req.extensions().get::<RequestId>().copied();
    let result = next.call(req).await;
    let status = match &result {
        Ok(response) => response.status().as_u16(),
        Err(error) => error.as_response_error().status_code().as_u16(),
    };
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match request_id {
        Some(request_id) => tracing::info!(target: "access", status, latency_us, %request_id, "answered"),
        None => tracing::info!(target: "access", status, latency_us, "answered"),
    }
    result
}
