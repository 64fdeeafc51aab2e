//! Answers for requests no route took: 405 (with `Allow`) when the path exists under another
//! method, otherwise 404.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::{error::ApiError, state::AppState};

/// The default service: 405 or 404 as a problem.
pub async fn not_matched(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let method = req.method().as_str().to_owned();
    Err(match state.routes.allowed(req.path()) {
        Some(allowed) => ApiError::MethodNotAllowed { method, allowed },
        // The path is not echoed: it is the caller's text (`..`, encoded bytes), not ours.
        None => ApiError::NotFound(format!(
            "No route answers {method} at this path. The API is described at /docs."
        )),
    })
}
