//! Shared fixtures: a wiremock server, a fast-retrying client, wire-format builders and a token
//! source that counts what the client asks of it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use planwright_calendar::{
    AccessToken, Client, Config, OAuthClient, OAuthConfig, RetryPolicy, TokenFuture, TokenSource,
};
use serde_json::{Value, json};
use wiremock::{MockServer, Request, ResponseTemplate};

pub const TOKEN: &str = "ya29.test-token-Q7x";
pub const EVENTS_PATH: &str = "/calendar/v3/calendars/primary/events";
pub const CLIENT_ID: &str = "1234-abc.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-test-secret-9f";
pub const REDIRECT_URI: &str = "https://planwright.example/api/v1/calendar/oauth/callback";

/// Near-instant retries, so retry tests run fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(20))
}

/// Config pointing at `server`, with a static token, a 5 s timeout and near-instant retries.
pub fn config(server: &MockServer) -> Config {
    Config::new()
        .with_base_url(format!("{}/calendar/v3", server.uri()))
        .with_access_token(TOKEN)
        .with_timeout(Duration::from_secs(5))
        .with_retry_policy(fast_retries())
}

pub fn client(server: &MockServer) -> Client {
    client_with(server, |config| config)
}

pub fn client_with(server: &MockServer, adjust: impl FnOnce(Config) -> Config) -> Client {
    Client::new(adjust(config(server))).expect("client builds")
}

pub fn oauth_config(server: &MockServer) -> OAuthConfig {
    OAuthConfig::new(CLIENT_ID, Some(CLIENT_SECRET.into()))
        .with_redirect_uri(REDIRECT_URI)
        .with_auth_url("https://accounts.example/o/oauth2/v2/auth")
        .with_token_url(format!("{}/token", server.uri()))
        .with_revoke_url(format!("{}/revoke", server.uri()))
        .with_timeout(Duration::from_secs(5))
        .with_retry_policy(fast_retries())
}

pub fn oauth_client(server: &MockServer) -> OAuthClient {
    OAuthClient::new(oauth_config(server)).expect("oauth client builds")
}

pub async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.expect("recording is on")
}

/// The `name=value` pairs of a request's query string, in order.
pub fn query_pairs(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().map(|(name, value)| (name.into_owned(), value.into_owned())).collect()
}

/// The `name=value` pairs of a form-encoded request body.
pub fn form_pairs(request: &Request) -> Vec<(String, String)> {
    let body = String::from_utf8(request.body.clone()).unwrap();
    reqwest::Url::parse(&format!("http://form/?{body}"))
        .unwrap()
        .query_pairs()
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect()
}

pub fn form_value(request: &Request, name: &str) -> Option<String> {
    form_pairs(request).into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

/// Google's Calendar error body.
pub fn google_error(code: u16, reason: &str, message: &str) -> Value {
    json!({"error": {
        "errors": [{"domain": "global", "reason": reason, "message": message}],
        "code": code,
        "message": message
    }})
}

pub fn json_response(status: u16, body: &Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(body)
}

/// An event as Google returns it, including fields this crate does not model.
pub fn event_json(id: &str, summary: &str) -> Value {
    json!({
        "kind": "calendar#event",
        "etag": "\"3471234567890000\"",
        "id": id,
        "status": "confirmed",
        "htmlLink": format!("https://www.google.com/calendar/event?eid={id}"),
        "created": "2025-01-10T08:00:00.000Z",
        "updated": "2025-01-10T08:05:00.123Z",
        "summary": summary,
        "creator": {"email": "ada@example.com", "self": true},
        "organizer": {"email": "ada@example.com", "self": true},
        "start": {"dateTime": "2025-01-13T09:00:00+01:00", "timeZone": "Europe/Paris"},
        "end": {"dateTime": "2025-01-13T10:00:00+01:00", "timeZone": "Europe/Paris"},
        "iCalUID": format!("{id}@google.com"),
        "sequence": 0,
        "reminders": {"useDefault": true},
        "eventType": "default"
    })
}

/// An `events.list` page.
pub fn events_page(items: Vec<Value>, next_page_token: Option<&str>, next_sync_token: Option<&str>) -> Value {
    let mut page = json!({
        "kind": "calendar#events",
        "etag": "\"p3\"",
        "summary": "ada@example.com",
        "updated": "2025-01-10T08:05:00.123Z",
        "timeZone": "Europe/Paris",
        "accessRole": "owner",
        "defaultReminders": [{"method": "popup", "minutes": 10}],
        "items": items
    });
    if let Some(token) = next_page_token {
        page["nextPageToken"] = json!(token);
    }
    if let Some(token) = next_sync_token {
        page["nextSyncToken"] = json!(token);
    }
    page
}

/// Hands out `tokens` in turn (the last one forever) and counts invalidations.
pub struct RotatingTokens {
    tokens: Vec<&'static str>,
    next: Mutex<usize>,
    pub invalidations: AtomicUsize,
    pub refreshable: bool,
}

impl RotatingTokens {
    pub fn new(tokens: &[&'static str]) -> Self {
        Self {
            tokens: tokens.to_vec(),
            next: Mutex::new(0),
            invalidations: AtomicUsize::new(0),
            refreshable: true,
        }
    }

    pub fn invalidations(&self) -> usize {
        self.invalidations.load(Ordering::SeqCst)
    }
}

impl TokenSource for RotatingTokens {
    fn token(&self) -> TokenFuture<'_> {
        let index = *self.next.lock().unwrap();
        let token = self.tokens[index.min(self.tokens.len() - 1)];
        Box::pin(async move { Ok(AccessToken::new(token)) })
    }

    fn invalidate(&self, _rejected: &AccessToken) -> bool {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        *self.next.lock().unwrap() += 1;
        self.refreshable
    }
}
