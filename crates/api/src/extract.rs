//! Request extractors whose failures are problem+json: JSON bodies with field-named errors,
//! the authenticated user, and the client's address.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    dev::Payload,
    http::header,
    web::{self, BytesMut},
};
use futures_util::StreamExt;
use planwright_domain::FieldError;
use planwright_store::repo;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{error::ApiError, services::credentials::TokenError, state::AppState};

type LocalBoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState is not registered")))
}

/// A JSON body, read up to the configured limit and parsed with errors that name the field.
///
/// Malformed JSON is a 400, a missing or mistyped field a 422, a body over the limit a 413, and a
/// body that is not declared as JSON a 415.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = app_state(req).map(|s| s.settings.server.json_body_limit_bytes);
        let is_json = req
            .mime_type()
            .ok()
            .flatten()
            .is_some_and(|mime| mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"));
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let limit = limit?;
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared_len.is_some_and(|len| len > limit) {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| {
                    ApiError::bad_request(None, format!("The request body could not be read: {e}."))
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(ApiError::PayloadTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            parse_json(&body).map(ApiJson)
        })
    }
}

/// Parses a JSON body, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(None, "The request body is empty; send a JSON object."));
    }
    // Every body of this API is a JSON object; serde would also read a struct from an array.
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => FieldError::new("body", "The body must be a JSON object.").into(),
            Err(error) => ApiError::bad_request(
                None,
                format!("The request body is not valid JSON: {}.", strip_position(&error.to_string())),
            ),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer);
    if value.is_ok() {
        deserializer.end().map_err(|e| {
            ApiError::bad_request(
                None,
                format!("The request body is not valid JSON: {}.", strip_position(&e.to_string())),
            )
        })?;
    }
    value.map_err(|error| {
        let inner = error.inner();
        let message = strip_position(&inner.to_string());
        match inner.classify() {
            serde_json::error::Category::Data => {
                let path = error.path().to_string();
                let field = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
                    Some(missing) if path == "." => missing.to_owned(),
                    Some(missing) => format!("{path}.{missing}"),
                    None if path == "." => "body".to_owned(),
                    None => path,
                };
                ApiError::from(FieldError::new(field, human_serde_message(&message)))
            }
            _ => ApiError::bad_request(None, format!("The request body is not valid JSON: {message}.")),
        }
    })
}

/// Drops serde_json's " at line 1 column 5" suffix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

fn human_serde_message(message: &str) -> String {
    if message.starts_with("missing field") {
        "This field is required.".to_owned()
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        format!("Wrong type: got {rest}.")
    } else {
        let mut sentence = message.to_owned();
        if let Some(first) = sentence.get(..1) {
            sentence.replace_range(..1, &first.to_uppercase());
        }
        format!("{sentence}.")
    }
}

/// The caller, proven by a valid access token for an account that still exists.
#[derive(Debug, Clone, Copy)]
pub struct AuthUser {
    /// The caller's user id.
    pub user_id: Uuid,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = app_state(req);
        let header = req.headers().get(header::AUTHORIZATION).map(|v| v.to_str().map(str::to_owned));
        Box::pin(async move {
            let state = state?;
            let token = match header {
                None => {
                    return Err(ApiError::unauthorized(
                        "This route needs an access token: send 'Authorization: Bearer <access_token>'.",
                    ));
                }
                Some(Err(_)) => {
                    return Err(ApiError::unauthorized("The Authorization header is not readable text."));
                }
                Some(Ok(value)) => match value.split_once(' ') {
                    Some((scheme, token))
                        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
                    {
                        token.trim().to_owned()
                    }
                    _ => {
                        return Err(ApiError::unauthorized(
                            "The Authorization header must have the form 'Bearer <access_token>'.",
                        ));
                    }
                },
            };
            let claims = state.tokens.verify(&token).map_err(|e| match e {
                TokenError::Expired => ApiError::Unauthorized {
                    code: "token_expired",
                    detail: "The access token has expired. Get a new one with POST /api/v1/auth/refresh."
                        .to_owned(),
                },
                TokenError::Invalid => ApiError::Unauthorized {
                    code: "invalid_token",
                    detail: "The access token is not valid. Log in again.".to_owned(),
                },
            })?;
            if !repo::users::exists(state.db.conn(), claims.sub).await? {
                return Err(ApiError::unauthorized("The account of this token no longer exists."));
            }
            Ok(AuthUser { user_id: claims.sub })
        })
    }
}

/// The client's address: the peer, or — when `server.trust_proxy_headers` is on — the last
/// `X-Forwarded-For` hop, which is the address our own proxy saw. Earlier hops (and `Forwarded`)
/// are written by the client and would let it pick the address its limits are counted against.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequest for ClientIp {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = app_state(req).map(|s| s.settings.server.trust_proxy_headers).unwrap_or(false);
        let forwarded = trust
            .then(|| {
                req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect::<Vec<_>>()
            })
            .and_then(|values| last_hop(&values.join(",")).map(str::to_owned));
        let ip = forwarded
            .or_else(|| req.peer_addr().map(|addr| addr.ip().to_string()))
            .unwrap_or_else(|| "unknown".to_owned());
        std::future::ready(Ok(ClientIp(ip)))
    }
}

/// The rightmost address of an `X-Forwarded-For` list, without a port.
fn last_hop(header: &str) -> Option<&str> {
    header.rsplit(',').map(str::trim).find(|hop| !hop.is_empty()).map(strip_port)
}

fn strip_port(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => addr,
    }
}

/// Turns actix's path-parameter errors into 404 problems: an id that does not parse names no
/// resource. When the path is really a more specific route (`DELETE /chat/sessions` reaching
/// `DELETE /chat/{session_id}`), the answer is that route's 405.
pub fn path_error(_: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    let method = req.method().as_str().to_owned();
    let allowed = req
        .app_data::<actix_web::web::Data<crate::state::AppState>>()
        .and_then(|state| state.routes.allowed(req.path()))
        .filter(|allowed| !allowed.contains(&method));
    match allowed {
        Some(allowed) => ApiError::MethodNotAllowed { method, allowed }.into(),
        None => {
            ApiError::NotFound(format!("Nothing exists at {}: the id in the path is not valid.", req.path()))
                .into()
        }
    }
}

/// Turns actix's query-string errors into 400 problems naming the parameter.
pub fn query_error(error: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = strip_position(&error.to_string());
    ApiError::bad_request(None, format!("A query parameter is not valid: {message}.")).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        hours: Hours,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Hours {
        days: Vec<u8>,
    }

    fn field_of(error: &ApiError) -> Option<String> {
        error.problem().errors.first().map(|e| e.field.clone())
    }

    #[test]
    fn malformed_json_is_400() {
        let error = parse_json::<Body>(b"{\"email\": ").err();
        assert_eq!(error.as_ref().map(|e| e.status_code().as_u16()), Some(400));
        let error = parse_json::<Body>(b"  ").err();
        assert_eq!(error.as_ref().map(|e| e.status_code().as_u16()), Some(400));
    }

    #[test]
    fn missing_and_mistyped_fields_are_422_with_their_path() {
        let missing = parse_json::<Body>(br#"{"hours": {"days": [1]}}"#).err();
        assert_eq!(missing.as_ref().map(|e| e.status_code().as_u16()), Some(422));
        assert_eq!(missing.as_ref().and_then(field_of).as_deref(), Some("email"));

        let nested = parse_json::<Body>(br#"{"email": "a@b.co", "hours": {}}"#).err();
        assert_eq!(nested.as_ref().and_then(field_of).as_deref(), Some("hours.days"));

        let mistyped = parse_json::<Body>(br#"{"email": "a@b.co", "hours": {"days": [1, "x"]}}"#).err();
        assert_eq!(mistyped.as_ref().and_then(field_of).as_deref(), Some("hours.days[1]"));

        for not_object in [&b"\"text\""[..], b"[]", b" [\"a@b.co\", {\"days\": []}]"] {
            let error = parse_json::<Body>(not_object).err();
            assert_eq!(error.as_ref().and_then(field_of).as_deref(), Some("body"));
        }
    }

    #[test]
    fn trailing_garbage_is_refused() {
        let error = parse_json::<Hours>(br#"{"days": []} x"#).err();
        assert_eq!(error.as_ref().map(|e| e.status_code().as_u16()), Some(400));
    }

    #[test]
    fn the_last_forwarded_hop_is_the_client() {
        assert_eq!(last_hop("203.0.113.9, 10.0.0.1"), Some("10.0.0.1"));
        assert_eq!(last_hop("198.51.100.7"), Some("198.51.100.7"));
        assert_eq!(last_hop("spoofed, 192.0.2.1:5555 ,"), Some("192.0.2.1"));
        assert_eq!(last_hop(" , "), None);
    }

    #[test]
    fn ports_are_stripped_from_addresses() {
        assert_eq!(strip_port("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("10.0.0.1"), "10.0.0.1");
    }
}
