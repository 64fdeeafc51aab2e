//! The root span of each request, as `tracing-actix-web`'s default but with a target that holds
//! no secret: the query string is left out (an OAuth callback carries the authorization code
//! there) and the token of a feed URL is masked. `http.client_ip` is the address the rate limits
//! count (`extract::ClientIp`): the peer, or the last `X-Forwarded-For` hop behind a trusted proxy.

use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
};
use tracing::{Span, field::Empty};
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// Builds request spans whose `http.target` is safe to log.
#[derive(Debug, Clone, Copy)]
pub struct RedactingRootSpan;

impl RootSpanBuilder for RedactingRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request.match_pattern().unwrap_or_else(|| "default".to_owned());
        let request_id = request.extensions().get::<RequestId>().map(ToString::to_string).unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.target = %safe_target(request.path()),
            http.client_ip = %crate::extract::client_ip(request.request()),
            http.status_code = Empty,
            otel.name = %format!("{} {route}", request.method()),
            otel.kind = "server",
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The path with the token of `/calendar/feed/{token}.ics` masked.
fn safe_target(path: &str) -> String {
    match path.split_once("/calendar/feed/") {
        Some((prefix, rest)) if !rest.is_empty() => {
            let suffix = if rest.ends_with(".ics") { ".ics" } else { "" };
            format!("{prefix}/calendar/feed/[redacted]{suffix}")
        }
        _ => path.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_tokens_are_masked_and_other_paths_kept() {
        assert_eq!(safe_target("/api/v1/calendar/feed/abcdef.ics"), "/api/v1/calendar/feed/[redacted].ics");
        assert_eq!(safe_target("/api/v1/calendar/feed"), "/api/v1/calendar/feed");
        assert_eq!(safe_target("/api/v1/plans/42"), "/api/v1/plans/42");
    }
}
