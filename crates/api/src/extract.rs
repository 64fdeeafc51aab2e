//! Request extractors whose failures are problem+json: JSON bodies with field-named errors,
//! the authenticated user, and the client's address.

use std::{future::Future, pin::Pin};

use actix_web::{
    FromRequest, HttpMessage, HttpRequest,
    dev::Payload,
    http::header,
    web::{self, BytesMut},
};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use futures_util::StreamExt;
use planwright_domain::{FieldError, input};
use planwright_store::repo;
use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use url::form_urlencoded;
use uuid::Uuid;

use crate::{
    error::ApiError,
    services::{
        credentials::TokenError,
        idempotency::{self, IdempotencyKey},
    },
    state::AppState,
};

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
        let body = json_body(req, payload, false);
        Box::pin(async move { body.await.map(ApiJson) })
    }
}

/// A JSON body whose every field is optional, so that no body at all means `{}`: an absent or
/// empty body (whatever its `Content-Type`, or none) reads as an empty object. A body with
/// content is read as [`ApiJson`] reads it (415 when it is not declared as JSON).
///
/// The OpenAPI document marks such bodies as not required (`crate::openapi`), from their
/// schemas; a test checks that every operation documented so accepts an empty body.
#[derive(Debug)]
pub struct ApiJsonOrEmpty<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJsonOrEmpty<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = json_body(req, payload, true);
        Box::pin(async move { body.await.map(ApiJsonOrEmpty) })
    }
}

/// Reads and parses a JSON body (see [`ApiJson`]); with `empty_is_object`, an empty body is `{}`.
fn json_body<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    empty_is_object: bool,
) -> LocalBoxFuture<Result<T, ApiError>> {
    {
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
            // An absent body has no type to check; only one with content must be JSON.
            if !is_json && !empty_is_object {
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
            if empty_is_object && body.iter().all(u8::is_ascii_whitespace) {
                return parse_json(b"{}");
            }
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            parse_json(&body)
        })
    }
}

/// Parses a JSON body, naming the field at fault.
///
/// The body is read as a JSON value first, so that the input policy
/// ([`planwright_domain::input`]) is enforced here once for every route: a string or object key
/// holding U+0000 or another C0 control character is a 422 naming each such field, before any
/// request type sees it. Then the value is read into `T`; a value of the wrong type is a 422
/// naming the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(None, "The request body is empty; send a JSON object."));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::bad_request(
            None,
            format!("The request body is not valid JSON: {}.", strip_position(&error.to_string())),
        )
    })?;
    // Every body of this API is a JSON object; serde would also read a struct from an array.
    if !value.is_object() {
        return Err(FieldError::new("body", "The body must be a JSON object.").into());
    }
    let mut refused = Vec::new();
    forbidden_text(&value, "", &mut refused);
    if !refused.is_empty() {
        return Err(ApiError::Validation(refused.into_iter().collect()));
    }
    serde_path_to_error::deserialize(value).map_err(|error| {
        let message = strip_position(&error.inner().to_string());
        let path = error.path().to_string();
        let field = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            Some(missing) if path == "." => missing.to_owned(),
            Some(missing) => format!("{path}.{missing}"),
            None if path == "." => "body".to_owned(),
            None => path,
        };
        ApiError::from(FieldError::new(field, human_serde_message(&message)))
    })
}

/// Collects a field error for every string and object key under `value` that breaks the text
/// policy, named by its path as serde would name it (`tasks[0].title`).
fn forbidden_text(value: &serde_json::Value, path: &str, refused: &mut Vec<FieldError>) {
    match value {
        serde_json::Value::String(text) => {
            if let Err(error) = input::check_text(if path.is_empty() { "body" } else { path }, text) {
                refused.push(error);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                forbidden_text(item, &format!("{path}[{index}]"), refused);
            }
        }
        serde_json::Value::Object(map) => {
            for (key, item) in map {
                let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                match input::forbidden_char(key) {
                    Some(c) => refused.push(FieldError::new(
                        child,
                        format!("This key {}", lowercase_first(&input::forbidden_char_message(c))),
                    )),
                    None => forbidden_text(item, &child, refused),
                }
            }
        }
        _ => {}
    }
}

fn lowercase_first(sentence: &str) -> String {
    let mut chars = sentence.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

/// Drops serde_json's " at line 1 column 5" suffix.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// Serde's words for a field's failure, rewritten for people: no Rust type names.
pub(crate) fn human_serde_message(message: &str) -> String {
    let sentence = if message.starts_with("missing field") {
        "This field is required.".to_owned()
    } else if let Some(rest) = message.strip_prefix("invalid type: ") {
        match rest.split_once(", expected ") {
            Some((got, expected)) => format!("Wrong type: got {got}, expected {}", human_expected(expected)),
            None => format!("Wrong type: got {rest}"),
        }
    } else if let Some(rest) = message.strip_prefix("invalid value: ") {
        match rest.split_once(", expected ") {
            Some((got, expected)) => {
                format!("Invalid value: got {got}, expected {}", human_expected(expected))
            }
            None => format!("Invalid value: {rest}"),
        }
    } else if let Some(rest) = message.strip_prefix("unknown variant ") {
        let got = rest.split(", expected").next().unwrap_or(rest).replace('`', "\"");
        let choices = rest.split_once("expected ").map(|(_, e)| human_expected(e)).unwrap_or_default();
        format!("{got} is not allowed; expected {choices}")
    } else {
        capitalize(message)
    };
    if sentence.ends_with('.') { sentence } else { format!("{sentence}.") }
}

/// "i64" → "a whole number", "one of `todo`, `done`" → "one of: todo, done".
fn human_expected(expected: &str) -> String {
    let expected = expected.trim();
    match expected {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        "a sequence" => "a list".to_owned(),
        "a map" => "an object".to_owned(),
        _ if expected.starts_with("struct ") => "an object".to_owned(),
        _ if expected.starts_with("enum ") || expected.starts_with("variant identifier") => {
            "a string".to_owned()
        }
        _ if expected.starts_with("one of ") => {
            format!("one of: {}", expected["one of ".len()..].replace('`', ""))
        }
        _ if expected.starts_with('`') => expected.replace('`', ""),
        _ => expected.to_owned(),
    }
}

fn capitalize(message: &str) -> String {
    let mut sentence = message.to_owned();
    if let Some(first) = sentence.get(..1) {
        sentence.replace_range(..1, &first.to_uppercase());
    }
    sentence
}

/// Query parameters read into `T`, with failures that name the parameter.
///
/// A parameter (name or value) holding U+0000 or another C0 control character is a 422 naming it;
/// a value that does not read as its type is a 400 naming it in plain words ("Must be a whole
/// number.", "Must be one of: todo, in_progress, done.").
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T> ApiQuery<T> {
    /// The parameters.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for ApiQuery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ApiQuery))
    }
}

/// Reads a query string into `T` under the input policy (see [`ApiQuery`]).
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let refused: Vec<FieldError> = form_urlencoded::parse(query.as_bytes())
        .filter_map(|(name, value)| {
            let field = if input::forbidden_char(&name).is_some() { "query" } else { name.as_ref() };
            input::forbidden_char(&name)
                .or_else(|| input::forbidden_char(&value))
                .map(|c| FieldError::new(field, input::forbidden_char_message(c)))
        })
        .collect();
    if !refused.is_empty() {
        return Err(ApiError::Validation(refused.into_iter().collect()));
    }
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let message = error.inner().to_string();
        let path = error.path().to_string();
        let name = match message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
            Some(missing) => missing.to_owned(),
            None if path == "." => "query".to_owned(),
            None => path,
        };
        let words = human_query_message(&message);
        ApiError::bad_request(Some(&name), format!("The query parameter {name} {words}"))
    })
}

/// What serde_urlencoded and the value parsers say about a parameter, in plain words that follow
/// "The query parameter NAME …".
pub(crate) fn human_query_message(message: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("missing field") {
        "is required.".to_owned()
    } else if lower.contains("duplicate field") {
        "is given more than once.".to_owned()
    } else if lower.contains("invalid digit")
        || lower.contains("parse integer")
        || lower.contains("number too large")
        || lower.contains("number too small")
    {
        "must be a whole number.".to_owned()
    } else if lower.contains("float") {
        "must be a number.".to_owned()
    } else if lower.contains("`true` or `false`") {
        "must be true or false.".to_owned()
    } else if lower.contains("unknown variant") {
        let choices = message.split_once("expected ").map(|(_, e)| human_expected(e)).unwrap_or_default();
        format!("must be {choices}.")
    } else if lower.contains("uuid")
        || lower.contains("invalid character")
        || lower.contains("invalid length")
        || lower.contains("invalid group")
    {
        "must be a UUID, like 3fa85f64-5717-4562-b3fc-2c963f66afa6.".to_owned()
    } else if let Some(rule) =
        [input::DATE_MESSAGE, input::DATE_TIME_MESSAGE].into_iter().find(|m| message.contains(m))
    {
        lowercase_first(rule)
    } else {
        "does not have the expected form.".to_owned()
    }
}

/// A request value read under the strict date rules of [`planwright_domain::input`]: use through
/// `#[serde(deserialize_with = "crate::extract::strict")]` (or [`strict_option`],
/// [`strict_present`]) on every date, date-time and id field of a request.
pub trait StrictInput: Sized {
    /// Parses the text form, or says what the form must be.
    fn parse_strict(text: &str) -> Result<Self, &'static str>;
}

impl StrictInput for NaiveDate {
    fn parse_strict(text: &str) -> Result<Self, &'static str> {
        input::parse_date(text)
    }
}

impl StrictInput for DateTime<Utc> {
    fn parse_strict(text: &str) -> Result<Self, &'static str> {
        input::parse_date_time(text).map(|at| at.with_timezone(&Utc))
    }
}

impl StrictInput for Uuid {
    fn parse_strict(text: &str) -> Result<Self, &'static str> {
        input::parse_uuid(text)
    }
}

impl StrictInput for DateTime<FixedOffset> {
    fn parse_strict(text: &str) -> Result<Self, &'static str> {
        input::parse_date_time(text)
    }
}

struct Strict<T>(T);

impl<'de, T: StrictInput> Deserialize<'de> for Strict<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::parse_strict(&text).map(Strict).map_err(serde::de::Error::custom)
    }
}

/// A required date or date-time field under the strict rules.
pub fn strict<'de, D: Deserializer<'de>, T: StrictInput>(deserializer: D) -> Result<T, D::Error> {
    Strict::<T>::deserialize(deserializer).map(|value| value.0)
}

/// An optional date or date-time field under the strict rules (with `#[serde(default)]`).
pub fn strict_option<'de, D: Deserializer<'de>, T: StrictInput>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<Strict<T>>::deserialize(deserializer).map(|value| value.map(|v| v.0))
}

/// An optional list of dates, date-times or ids under the strict rules (with `#[serde(default)]`).
pub fn strict_list<'de, D: Deserializer<'de>, T: StrictInput>(
    deserializer: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Option::<Vec<Strict<T>>>::deserialize(deserializer)
        .map(|list| list.map(|items| items.into_iter().map(|item| item.0).collect()))
}

/// A PATCH date or date-time field (with `#[serde(default)]`): left out is `None`, `null` is
/// `Some(None)` (clear it).
pub fn strict_present<'de, D: Deserializer<'de>, T: StrictInput>(
    deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
    strict_option(deserializer).map(Some)
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
            if !state.known_accounts.is_known(claims.sub) {
                if !repo::users::exists(state.db.conn(), claims.sub).await? {
                    return Err(ApiError::unauthorized("The account of this token no longer exists."));
                }
                state.known_accounts.remember(claims.sub);
            }
            Ok(AuthUser { user_id: claims.sub })
        })
    }
}

/// The `Idempotency-Key` header, when sent; a malformed one is a 422 naming the header. See
/// [`crate::services::idempotency`].
#[derive(Debug, Clone)]
pub struct IdempotencyHeader(pub Option<IdempotencyKey>);

impl FromRequest for IdempotencyHeader {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let key = req
            .headers()
            .get(idempotency::HEADER)
            .map(|value| IdempotencyKey::parse(value.as_bytes()))
            .transpose();
        std::future::ready(key.map(IdempotencyHeader))
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
        std::future::ready(Ok(ClientIp(client_ip(req))))
    }
}

/// The client's address as [`ClientIp`] reads it (also the request span's `http.client_ip`).
pub fn client_ip(req: &HttpRequest) -> String {
    let trust = app_state(req).map(|s| s.settings.server.trust_proxy_headers).unwrap_or(false);
    let forwarded: Vec<&str> =
        req.headers().get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    client_ip_of(req.peer_addr(), &forwarded, trust)
}

/// The last `X-Forwarded-For` hop when proxy headers are trusted and there is one, else the peer.
fn client_ip_of(peer: Option<std::net::SocketAddr>, forwarded_for: &[&str], trust: bool) -> String {
    let forwarded =
        trust.then(|| forwarded_for.join(",")).and_then(|list| last_hop(&list).map(str::to_owned));
    forwarded.or_else(|| peer.map(|addr| addr.ip().to_string())).unwrap_or_else(|| "unknown".to_owned())
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
            ApiError::NotFound("Nothing exists at this path: the id in it is not valid.".to_owned()).into()
        }
    }
}

/// Turns actix's query-string errors into 400 problems; routes read their parameters with
/// [`ApiQuery`], which names the parameter, so this only answers for extractors outside the API.
pub fn query_error(error: actix_web::error::QueryPayloadError, _: &HttpRequest) -> actix_web::Error {
    let message = human_query_message(&strip_position(&error.to_string()));
    ApiError::bad_request(None, format!("A query parameter {message}")).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[test]
    fn the_client_ip_is_the_peer_unless_proxy_headers_are_trusted() {
        let peer = Some("10.0.0.5:41000".parse().expect("address"));
        let hops = ["203.0.113.9, 198.51.100.7", "192.0.2.44:5000"];
        assert_eq!(client_ip_of(peer, &hops, false), "10.0.0.5", "a client-written header is ignored");
        assert_eq!(client_ip_of(peer, &hops, true), "192.0.2.44", "the hop our proxy added");
        assert_eq!(client_ip_of(peer, &[], true), "10.0.0.5", "no header: the peer");
        assert_eq!(client_ip_of(None, &[], false), "unknown");
    }

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

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Task {
        title: String,
        status: Option<Status>,
        #[serde(default, deserialize_with = "strict_option")]
        due_at: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "strict_option")]
        start_date: Option<NaiveDate>,
        limit: Option<i64>,
        parent_id: Option<Uuid>,
        done: Option<bool>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        Todo,
        InProgress,
    }

    fn status_and_fields(error: Option<ApiError>) -> (u16, Vec<String>, String) {
        let error = error.expect("an error");
        let problem = error.problem();
        let message = problem.errors.first().map(|e| e.message.clone()).unwrap_or_default();
        (problem.status, problem.errors.iter().map(|e| e.field.clone()).collect(), message)
    }

    #[test]
    fn nul_and_controls_anywhere_in_a_body_are_422_naming_each_field() {
        let body = br#"{"title": "a\u0000b", "hours": {"days": ["x\u001b"]}, "ok": "tab\tand\nline"}"#;
        let (status, fields, message) = status_and_fields(parse_json::<Task>(body).err());
        assert_eq!(status, 422);
        assert_eq!(fields, ["hours.days[0]", "title"]);
        assert!(message.contains("U+001B"), "{message}");
        let (_, fields, message) = status_and_fields(parse_json::<Task>(br#"{"ctx": {"k\u0000": 1}}"#).err());
        assert_eq!(fields, ["ctx.k\u{0}"]);
        assert!(message.starts_with("This key must not contain the NUL"), "{message}");
        assert!(parse_json::<Task>(br#"{"title": "line\nbreak\ttab\r"}"#).is_ok());
    }

    #[test]
    fn a_json_value_of_the_wrong_type_is_422_in_plain_words() {
        // An enum given a number was a syntax-looking 400 before: it is a field error.
        let (status, fields, message) =
            status_and_fields(parse_json::<Task>(br#"{"title": "t", "status": 12345}"#).err());
        assert_eq!((status, fields), (422, vec!["status".to_owned()]));
        assert!(!message.contains("enum") && !message.contains("Status"), "{message}");
        let (_, fields, message) =
            status_and_fields(parse_json::<Task>(br#"{"title": "t", "limit": "ten"}"#).err());
        assert_eq!(fields, ["limit"]);
        assert_eq!(message, "Wrong type: got string \"ten\", expected a whole number.");
        let (_, _, message) =
            status_and_fields(parse_json::<Task>(br#"{"title": "t", "status": "archived"}"#).err());
        assert_eq!(message, "\"archived\" is not allowed; expected todo or in_progress.");
    }

    #[test]
    fn dates_and_date_times_are_strict_in_bodies() {
        for (body, field) in [
            (&br#"{"title": "t", "start_date": "27-02-01"}"#[..], "start_date"),
            (br#"{"title": "t", "start_date": "2026-02-30"}"#, "start_date"),
            (br#"{"title": "t", "due_at": "2026-12-01T09:00:00"}"#, "due_at"),
            (br#"{"title": "t", "due_at": "2026-12-01 09:00:00 UTC"}"#, "due_at"),
            (br#"{"title": "t", "due_at": 5}"#, "due_at"),
        ] {
            let (status, fields, _) = status_and_fields(parse_json::<Task>(body).err());
            assert_eq!((status, fields), (422, vec![field.to_owned()]), "{}", String::from_utf8_lossy(body));
        }
        let ok = parse_json::<Task>(br#"{"title": "t", "start_date": "2026-02-01", "due_at": "2026-12-01T09:00:00+01:00", "limit": null}"#);
        assert_eq!(
            ok.ok().and_then(|t| t.due_at).map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-12-01T08:00:00+00:00")
        );
    }

    #[test]
    fn query_parameters_are_named_in_plain_words() {
        for (query, field, words, status) in [
            ("title=t&limit=abc", "limit", "must be a whole number", 400),
            ("title=t&limit=1.5", "limit", "must be a whole number", 400),
            ("title=t&status=archived", "status", "must be todo or in_progress", 400),
            ("title=t&parent_id=not-a-uuid", "parent_id", "must be a UUID", 400),
            ("title=t&done=maybe", "done", "must be true or false", 400),
            ("title=t&start_date=27-02-01", "start_date", "four-digit year", 400),
            ("limit=5", "title", "is required", 400),
            ("title=a%00b", "title", "NUL", 422),
            ("title=t&status=%1b", "status", "U+001B", 422),
        ] {
            let (got, fields, message) = status_and_fields(parse_query::<Task>(query).err());
            assert_eq!((got, fields), (status, vec![field.to_owned()]), "{query}");
            assert!(message.contains(words), "{query}: {message}");
            for internal in ["i64", "variant", "Uuid", "invalid digit", "deserialize"] {
                assert!(!message.contains(internal), "{query}: {message}");
            }
        }
        let ok = parse_query::<Task>("title=t&limit=5&done=true&status=in_progress");
        assert!(ok.is_ok_and(|t| t.limit == Some(5) && t.done == Some(true)));
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
