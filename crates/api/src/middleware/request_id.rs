//! Request ids: the id `tracing-actix-web` gives each request's span, echoed in `x-request-id`
//! and in every problem body's `request_id`, so a person reporting a problem can quote it and an
//! operator can find the log lines.

use actix_web::{
    Error, HttpMessage, HttpResponse, ResponseError,
    body::{self, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        StatusCode, header,
        header::{HeaderName, HeaderValue},
    },
    middleware::Next,
};
use tracing_actix_web::RequestId;
use uuid::Uuid;

use crate::error::PROBLEM_JSON;

/// The response header carrying the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Problem bodies are a few hundred bytes; anything larger is left as it is.
const PROBLEM_BODY_LIMIT: usize = 64 * 1024;

/// Adds `x-request-id` to every response, and `request_id` to every problem body.
pub async fn echo(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(id) = req.extensions().get::<RequestId>().map(|id| **id) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let mut response = match next.call(req).await {
        Ok(response) => response.map_into_boxed_body(),
        // An error not yet turned into a response: it becomes one outside this middleware.
        Err(error) => return Err(WithRequestId { error, id }.into()),
    };
    if is_problem(response.response()) {
        let (request, answer) = response.into_parts();
        response = ServiceResponse::new(request, with_id_in_body(answer, &id.to_string()).await);
    }
    if let Some(value) = header_value(id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

/// The id as a header value, written without an intermediate string (a hyphenated UUID always
/// is one).
fn header_value(id: Uuid) -> Option<HeaderValue> {
    let mut buffer = Uuid::encode_buffer();
    HeaderValue::from_str(id.hyphenated().encode_lower(&mut buffer)).ok()
}

fn is_problem(response: &HttpResponse) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// `body` with `"request_id": id` added, when it is a JSON object without one; else unchanged.
fn add_id(body: &[u8], id: &str) -> Option<Vec<u8>> {
    let parsed: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = parsed.as_object()?;
    if object.contains_key("request_id") {
        return None;
    }
    // Appended as text so the body keeps its field order (`type`, `title`, `status` first).
    let text = std::str::from_utf8(body).ok()?.trim_end();
    let open = text.strip_suffix('}')?;
    let separator = if object.is_empty() { "" } else { "," };
    Some(format!("{open}{separator}\"request_id\":{}}}", serde_json::Value::from(id)).into_bytes())
}

async fn with_id_in_body(response: HttpResponse, id: &str) -> HttpResponse {
    let (head, answer) = response.into_parts();
    let bytes = match answer.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(streaming) => match body::to_bytes_limited(streaming, PROBLEM_BODY_LIMIT).await {
            Ok(Ok(bytes)) => bytes,
            // Unreadable or too large: not a problem body this middleware wrote.
            _ => return head.set_body(BoxBody::new(())),
        },
    };
    match add_id(&bytes, id) {
        Some(with_id) => head.set_body(BoxBody::new(with_id)),
        None => head.set_body(BoxBody::new(bytes)),
    }
}

/// An error that reaches this middleware unanswered, answered later with the request id added.
#[derive(Debug)]
struct WithRequestId {
    error: Error,
    id: Uuid,
}

impl std::fmt::Display for WithRequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for WithRequestId {
    fn status_code(&self) -> StatusCode {
        self.error.as_response_error().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = self.error.error_response();
        if is_problem(&response) {
            let (head, answer) = response.into_parts();
            response = match answer.try_into_bytes() {
                Ok(bytes) => match add_id(&bytes, &self.id.to_string()) {
                    Some(with_id) => head.set_body(BoxBody::new(with_id)),
                    None => head.set_body(BoxBody::new(bytes)),
                },
                Err(streaming) => head.set_body(streaming),
            };
        }
        if let Some(value) = header_value(self.id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::add_id;

    #[test]
    fn the_id_is_appended_to_a_problem_object() {
        let body = br#"{"type":"urn:planwright:problem:not_found","status":404}"#;
        let text = String::from_utf8(add_id(body, "abc").unwrap_or_default()).unwrap_or_default();
        assert_eq!(text, r#"{"type":"urn:planwright:problem:not_found","status":404,"request_id":"abc"}"#);
    }

    #[test]
    fn a_body_that_is_not_an_object_or_already_has_an_id_is_left_alone() {
        assert_eq!(add_id(b"[1,2]", "abc"), None);
        assert_eq!(add_id(br#"{"request_id":"x"}"#, "abc"), None);
        assert_eq!(add_id(b"not json", "abc"), None);
    }
}
