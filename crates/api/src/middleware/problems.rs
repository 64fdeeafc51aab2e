//! Makes every error answer problem+json, whoever produced it (actix itself, CORS, a handler
//! that panicked), and keeps 5xx bodies free of internals.

use std::panic::AssertUnwindSafe;

use actix_web::{
    Error,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{StatusCode, header},
    middleware::Next,
};
use futures_util::FutureExt;

use crate::error::{ApiError, PROBLEM_JSON, Problem};

/// Answers a panic in any inner service with a 500 problem instead of a dropped connection.
pub async fn catch_panic(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    match AssertUnwindSafe(next.call(req)).catch_unwind().await {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(ApiError::internal(anyhow::anyhow!("a request handler panicked: {message}")).into())
        }
    }
}

/// Rewrites any 4xx/5xx that is not already problem+json into one, keeping a short plain-text
/// reason for 4xx and never echoing a 5xx body. (The request is never cloned before the inner
/// service runs: the router needs it uniquely owned.)
pub async fn ensure_problem_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) if error.as_error::<ApiError>().is_some() => return Err(error),
        Err(error) => {
            let status = error.as_response_error().status_code();
            return Err(Problematic(rewrite(status, &error.to_string())).into());
        }
    };
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(response);
    }
    let (request, response) = response.into_parts();
    let kept_headers: Vec<_> = response
        .headers()
        .iter()
        .filter(|(name, _)| {
            *name == header::ALLOW || *name == header::RETRY_AFTER || *name == header::WWW_AUTHENTICATE
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    let original = actix_web::body::to_bytes_limited(response.into_body(), 1024)
        .await
        .ok()
        .and_then(Result::ok)
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let mut rewritten = rewrite(status, &original).into_response();
    for (name, value) in kept_headers {
        rewritten.headers_mut().insert(name, value);
    }
    Ok(ServiceResponse::new(request, rewritten))
}

fn rewrite(status: StatusCode, original: &str) -> Problem {
    let detail = if status.is_server_error() {
        "Something went wrong on our side. It has been logged; please try again later.".to_owned()
    } else if original.is_empty() || original.len() > 300 {
        format!("The request was refused: {}.", status.canonical_reason().unwrap_or("client error"))
    } else {
        original.to_owned()
    };
    Problem::new(status, code_for(status), detail)
}

/// An error from outside this crate, re-expressed as a problem.
#[derive(Debug)]
struct Problematic(Problem);

impl std::fmt::Display for Problematic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.detail)
    }
}

impl actix_web::ResponseError for Problematic {
    fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> actix_web::HttpResponse {
        self.0.clone().into_response()
    }
}

fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        s if s.is_server_error() => "internal_error",
        _ => "client_error",
    }
}
