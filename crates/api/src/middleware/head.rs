//! `HEAD` answered wherever `GET` is: the request is routed as a `GET`, and the server sends the
//! response's status and headers (`Content-Type`, `Content-Length`, `ETag`…) without the body.
//!
//! actix-web routes `HEAD` to no `#[get]` handler by itself. Rewriting the method just before
//! routing is enough: the HTTP/1 and HTTP/2 dispatchers remember that the request was a `HEAD`
//! when they read it, and never write the body of its response. Registered innermost, so the
//! other middleware (access log, metrics) still see `HEAD`.

use actix_web::{
    Error,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::Method,
    middleware::Next,
};

/// Routes a `HEAD` request as a `GET`.
pub async fn as_get(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
