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

/// The route template the request matched (`None`: no route), resolved once for the span and
/// kept in the request's extensions for the metrics (each lookup walks the route table).
#[derive(Debug, Clone)]
pub struct MatchedRoute(pub Option<String>);

/// Builds request spans whose `http.target` is safe to log.
#[derive(Debug, Clone, Copy)]
pub struct RedactingRootSpan;

impl RootSpanBuilder for RedactingRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request.match_pattern();
        let request_id = request.extensions().get::<RequestId>().copied();
        // Only what the logs promise (docs/OPERATIONS.md): each field is formatted into every
        // request's span, so none is there for show.
        let span = tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = route.as_deref().unwrap_or("default"),
            http.target = %SafeTarget(request.path()),
            http.client_ip = %crate::extract::client_ip(request.request()),
            http.status_code = Empty,
            request_id = request_id.map(tracing::field::display),
            exception.message = Empty,
            exception.details = Empty,
        );
        request.extensions_mut().insert(MatchedRoute(route));
        span
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The path with the token of `/calendar/feed/{token}.ics` masked, written without a copy.
struct SafeTarget<'a>(&'a str);

impl std::fmt::Display for SafeTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.split_once("/calendar/feed/") {
            Some((prefix, rest)) if !rest.is_empty() => {
                let suffix = if rest.ends_with(".ics") { ".ics" } else { "" };
                write!(f, "{prefix}/calendar/feed/[redacted]{suffix}")
            }
            _ => f.write_str(self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_tokens_are_masked_and_other_paths_kept() {
        let safe = |path| SafeTarget(path).to_string();
        assert_eq!(safe("/api/v1/calendar/feed/abcdef.ics"), "/api/v1/calendar/feed/[redacted].ics");
        assert_eq!(safe("/api/v1/calendar/feed"), "/api/v1/calendar/feed");
        assert_eq!(safe("/api/v1/plans/42"), "/api/v1/plans/42");
    }
}
