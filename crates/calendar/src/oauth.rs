//! Google's OAuth 2.0 web-server flow on top of the `oauth2` crate: the authorization URL (PKCE
//! S256, offline access), code exchange, refresh and revocation; and reading Google's downloaded
//! `client_secret.json` through `yup-oauth2`'s types.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    TokenResponse as _, TokenUrl,
};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::Error;
use crate::observe::{Api, CallObserver, CallReport};
use crate::retry::RetryPolicy;
use crate::token::AccessToken;

/// Google's authorization endpoint for web-server and installed apps.
pub const DEFAULT_AUTH_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
/// Google's token endpoint (code exchange and refresh).
pub const DEFAULT_TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
/// Google's token revocation endpoint.
pub const DEFAULT_REVOKE_URL: &str = "https://oauth2.googleapis.com/revoke";
/// The default per-attempt timeout of OAuth requests.
pub const DEFAULT_OAUTH_TIMEOUT: Duration = Duration::from_secs(20);

/// Re-exported from `yup-oauth2`: the `web` or `installed` object of a `client_secret.json`.
/// Careful: its `Debug` prints the client secret; convert it with
/// [`OAuthConfig::from_application_secret`] and drop it.
pub use yup_oauth2::ApplicationSecret;

type GoogleOAuth2 = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// An OAuth client registration and Google's endpoints. `Debug` never prints the client secret.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OAuthConfig {
    /// The OAuth client id (`....apps.googleusercontent.com`).
    pub client_id: String,
    /// The client secret; `None` for public clients.
    pub client_secret: Option<SecretString>,
    /// Where Google sends the user back with `code` and `state`; must be registered for the client
    /// and is sent with both the authorization request and the code exchange.
    pub redirect_uri: Option<String>,
    /// The authorization endpoint ([`DEFAULT_AUTH_URL`]).
    pub auth_url: String,
    /// The token endpoint ([`DEFAULT_TOKEN_URL`]).
    pub token_url: String,
    /// The revocation endpoint ([`DEFAULT_REVOKE_URL`]).
    pub revoke_url: String,
    /// Per-attempt time limit for token and revocation requests; `None` waits forever.
    pub timeout: Option<Duration>,
    /// When to retry token and revocation requests. A code exchange is retried only when the
    /// request provably did not reach Google (a code is single-use).
    pub retry_policy: RetryPolicy,
    /// Told of every finished token or revocation request (for metrics).
    pub observer: Option<Arc<dyn CallObserver>>,
}

impl OAuthConfig {
    /// A client registration with Google's default endpoints.
    pub fn new(client_id: impl Into<String>, client_secret: Option<SecretString>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: None,
            auth_url: DEFAULT_AUTH_URL.to_owned(),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            revoke_url: DEFAULT_REVOKE_URL.to_owned(),
            timeout: Some(DEFAULT_OAUTH_TIMEOUT),
            retry_policy: RetryPolicy::default(),
            observer: None,
        }
    }

    /// From a parsed `client_secret.json` entry: client id, secret and the first registered
    /// redirect URI. The endpoints stay at Google's defaults (the file's `auth_uri` is the legacy
    /// v1 path); change them with the `with_*_url` setters.
    pub fn from_application_secret(secret: &ApplicationSecret) -> Self {
        let client_secret =
            (!secret.client_secret.is_empty()).then(|| SecretString::from(secret.client_secret.clone()));
        let mut config = Self::new(secret.client_id.clone(), client_secret);
        config.redirect_uri = secret.redirect_uris.first().cloned();
        config
    }

    /// Parses the JSON of a `client_secret.json` downloaded from the Google Cloud console (a `web`
    /// or an `installed` client) with `yup_oauth2::parse_application_secret`.
    ///
    /// # Errors
    /// [`Error::Config`] when it is not such a file.
    pub fn from_client_secret_json(json: impl AsRef<[u8]>) -> Result<Self, Error> {
        let secret = yup_oauth2::parse_application_secret(json)
            .map_err(|error| Error::config(format!("not a Google client_secret.json: {error}")))?;
        Ok(Self::from_application_secret(&secret))
    }

    /// Reads a `client_secret.json` file (see [`from_client_secret_json`](Self::from_client_secret_json)).
    ///
    /// # Errors
    /// [`Error::Config`] when the file cannot be read or is not such a file.
    pub async fn from_client_secret_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let secret = yup_oauth2::read_application_secret(path)
            .await
            .map_err(|error| Error::config(format!("cannot read {}: {error}", path.display())))?;
        Ok(Self::from_application_secret(&secret))
    }

    /// Sets the redirect URI.
    pub fn with_redirect_uri(mut self, redirect_uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(redirect_uri.into());
        self
    }

    /// Sets the authorization endpoint.
    pub fn with_auth_url(mut self, url: impl Into<String>) -> Self {
        self.auth_url = url.into();
        self
    }

    /// Sets the token endpoint.
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Sets the revocation endpoint.
    pub fn with_revoke_url(mut self, url: impl Into<String>) -> Self {
        self.revoke_url = url.into();
        self
    }

    /// Sets the per-attempt timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the retry policy.
    pub fn with_retry_policy(mut self, retry_policy: RetryPolicy) -> Self {
        self.retry_policy = retry_policy;
        self
    }

    /// Sets who is told of every finished request (see [`CallObserver`]).
    pub fn with_observer(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.observer = Some(observer);
        self
    }
}

/// What to put in the authorization URL besides what is always there (`response_type=code`,
/// `client_id`, `redirect_uri`, PKCE S256, `access_type=offline`, `include_granted_scopes=true`).
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    scopes: Vec<String>,
    state: Option<String>,
    login_hint: Option<String>,
    prompt: Option<String>,
}

impl AuthorizationRequest {
    /// Asks for `scopes` (e.g. [`scopes::RECOMMENDED`](crate::scopes::RECOMMENDED)), with
    /// `prompt=consent` so Google returns a refresh token even to a user who connected before.
    pub fn new<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Self {
            scopes: scopes.into_iter().map(Into::into).collect(),
            state: None,
            login_hint: None,
            prompt: Some("consent".to_owned()),
        }
    }

    /// Uses this `state` instead of a random one (it must be unguessable and single-use).
    pub fn with_state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Pre-fills the account chooser with this email or `sub`.
    pub fn with_login_hint(mut self, login_hint: impl Into<String>) -> Self {
        self.login_hint = Some(login_hint.into());
        self
    }

    /// Sets `prompt` (space-separated `none`, `consent`, `select_account`); `None` omits it.
    pub fn with_prompt(mut self, prompt: Option<String>) -> Self {
        self.prompt = prompt;
        self
    }
}

/// Where to send the user, and what to keep until Google redirects back.
#[derive(Debug)]
#[non_exhaustive]
pub struct AuthorizationUrl {
    /// The URL to redirect the user's browser to.
    pub url: String,
    /// The `state` in the URL: compare it with the one on the callback (store it hashed,
    /// single-use, short-lived, bound to the user).
    pub state: String,
    /// The PKCE code verifier: keep it secret (encrypted) until the callback, then pass it to
    /// [`OAuthClient::exchange_code`].
    pub pkce_verifier: SecretString,
}

/// A successful answer of the token endpoint. `Debug` never prints a token.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TokenResponse {
    /// The access token.
    pub access_token: SecretString,
    /// A refresh token. Google sends one on the first consent with `access_type=offline` (or with
    /// `prompt=consent`); a refresh response normally has none, and when it has one it replaces
    /// the old one.
    pub refresh_token: Option<SecretString>,
    /// The access token's lifetime as sent (`expires_in`).
    pub expires_in: Option<Duration>,
    /// `expires_in` counted from when the response arrived.
    pub expires_at: Option<DateTime<Utc>>,
    /// The granted scopes as returned in the `scope` field (`None` if absent). Users can untick
    /// scopes on the consent screen, so check them: see [`missing_scopes`](Self::missing_scopes).
    pub scopes: Option<Vec<String>>,
}

impl TokenResponse {
    /// The access token with its expiry, ready for a [`TokenSource`](crate::TokenSource).
    pub fn access(&self) -> AccessToken {
        let token = AccessToken::new(self.access_token.clone());
        match self.expires_at {
            Some(at) => token.with_expires_at(at),
            None => token,
        }
    }

    /// The scopes of `required` that were not granted. When the response carried no `scope`
    /// field nothing is known to be granted, so all of `required` is returned.
    pub fn missing_scopes(&self, required: &[&str]) -> Vec<String> {
        let granted = self.scopes.as_deref().unwrap_or_default();
        required
            .iter()
            .filter(|scope| !granted.iter().any(|granted| granted == *scope))
            .map(|scope| (*scope).to_owned())
            .collect()
    }

    /// Whether every scope of `required` was granted.
    pub fn has_scopes(&self, required: &[&str]) -> bool {
        self.missing_scopes(required).is_empty()
    }

    fn from_oauth2(response: &BasicTokenResponse) -> Self {
        let expires_in = response.expires_in();
        Self {
            access_token: SecretString::from(response.access_token().secret().clone()),
            refresh_token: response.refresh_token().map(|token| SecretString::from(token.secret().clone())),
            expires_in,
            expires_at: expires_in
                .and_then(|lifetime| chrono::Duration::from_std(lifetime).ok())
                .and_then(|lifetime| Utc::now().checked_add_signed(lifetime)),
            scopes: response.scopes().map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect()),
        }
    }
}

/// Google's OAuth endpoints for one client registration. Cheap to clone; `Debug` never prints a
/// secret. Token requests never follow redirects.
#[derive(Clone)]
pub struct OAuthClient {
    config: OAuthConfig,
    oauth: GoogleOAuth2,
    revoke_url: reqwest::Url,
    http: reqwest::Client,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OAuthClient {
    /// A client with its own connection pool (rustls, no redirects, 10 s connect timeout).
    ///
    /// # Errors
    /// [`Error::Config`] when an endpoint is not a URL; [`Error::Transport`] if the TLS backend
    /// cannot be initialised.
    pub fn new(config: OAuthConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("planwright-calendar/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::Transport)?;
        Self::with_http_client(http, config)
    }

    /// A client that sends requests through `http` (which should not follow redirects: a
    /// redirected token request is an SSRF risk).
    ///
    /// # Errors
    /// [`Error::Config`] when an endpoint is not a URL.
    pub fn with_http_client(http: reqwest::Client, config: OAuthConfig) -> Result<Self, Error> {
        let bad_url = |what: &str| {
            let what = what.to_owned();
            move |error: oauth2::url::ParseError| Error::config(format!("the {what} is not a URL: {error}"))
        };
        let mut oauth = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::new(config.auth_url.clone()).map_err(bad_url("authorization URL"))?)
            .set_token_uri(TokenUrl::new(config.token_url.clone()).map_err(bad_url("token URL"))?)
            .set_auth_type(AuthType::RequestBody);
        if let Some(secret) = &config.client_secret {
            oauth = oauth.set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()));
        }
        if let Some(redirect_uri) = &config.redirect_uri {
            oauth = oauth
                .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).map_err(bad_url("redirect URI"))?);
        }
        let revoke_url = reqwest::Url::parse(&config.revoke_url).map_err(bad_url("revocation URL"))?;
        Ok(Self { config, oauth, revoke_url, http })
    }

    /// The configuration this client uses.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Builds the URL that starts the consent flow: `response_type=code`, `client_id`,
    /// `redirect_uri`, `scope`, `state` (random unless given), `code_challenge` +
    /// `code_challenge_method=S256` (a fresh PKCE pair), `access_type=offline`,
    /// `include_granted_scopes=true`, `prompt` (default `consent`) and an optional `login_hint`.
    pub fn authorization_url(&self, request: &AuthorizationRequest) -> AuthorizationUrl {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = request.state.clone();
        let mut builder = self
            .oauth
            .authorize_url(move || state.map_or_else(CsrfToken::new_random, CsrfToken::new))
            .add_scopes(request.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .add_extra_param("access_type", "offline")
            .add_extra_param("include_granted_scopes", "true");
        if let Some(prompt) = &request.prompt {
            builder = builder.add_extra_param("prompt", prompt.clone());
        }
        if let Some(hint) = &request.login_hint {
            builder = builder.add_extra_param("login_hint", hint.clone());
        }
        let (url, state) = builder.url();
        AuthorizationUrl {
            url: url.into(),
            state: state.secret().clone(),
            pkce_verifier: SecretString::from(verifier.secret().clone()),
        }
    }

    /// Exchanges the `code` from the callback for tokens, sending the PKCE `code_verifier` and the
    /// configured `redirect_uri`. Check [`TokenResponse::missing_scopes`] on the result.
    ///
    /// # Errors
    /// [`Error::InvalidGrant`] for a used, expired or mismatched code/verifier; [`Error::OAuth`]
    /// for other OAuth errors; [`Error::Api`] / transport errors when the endpoint failed.
    #[tracing::instrument(name = "google_oauth.exchange_code", skip_all)]
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: &SecretString,
    ) -> Result<TokenResponse, Error> {
        let transport = self.transport();
        let response = self
            .with_retries("token.exchange_code", false, || async {
                self.oauth
                    .exchange_code(AuthorizationCode::new(code.to_owned()))
                    .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.expose_secret().to_owned()))
                    .request_async(&transport)
                    .await
                    .map_err(map_token_error)
            })
            .await?;
        Ok(TokenResponse::from_oauth2(&response))
    }

    /// Gets a new access token with a refresh token. The response carries a new refresh token only
    /// when Google rotated it; keep the old one otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidGrant`] when the refresh token is expired or revoked (mark the connection as
    /// needing re-authorization); [`Error::OAuth`] for other OAuth errors; [`Error::Api`] /
    /// transport errors when the endpoint failed after retries.
    #[tracing::instrument(name = "google_oauth.refresh", skip_all)]
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenResponse, Error> {
        let transport = self.transport();
        let refresh_token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .with_retries("token.refresh", true, || async {
                self.oauth
                    .exchange_refresh_token(&refresh_token)
                    .request_async(&transport)
                    .await
                    .map_err(map_token_error)
            })
            .await?;
        Ok(TokenResponse::from_oauth2(&response))
    }

    /// Revokes a refresh or access token (revoking either ends the whole grant). A token Google
    /// already considers invalid (`invalid_token`: expired or revoked before) counts as revoked,
    /// so disconnecting twice is not an error.
    ///
    /// This one request is sent directly rather than through `oauth2`, whose revocation refuses
    /// non-HTTPS endpoints (which would make a local fake endpoint impossible); it is the plain
    /// `POST token=...` form Google documents.
    ///
    /// # Errors
    /// [`Error::OAuth`] for other OAuth errors; [`Error::Api`] / transport errors when the endpoint
    /// failed after retries.
    #[tracing::instrument(name = "google_oauth.revoke", skip_all)]
    pub async fn revoke(&self, token: &SecretString) -> Result<(), Error> {
        let body = oauth2::url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token.expose_secret())
            .finish();
        self.with_retries("token.revoke", true, || async {
            let request = self
                .http
                .post(self.revoke_url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ACCEPT, "application/json")
                .body(body.clone());
            let (status, headers, bytes) = send(request, self.config.timeout).await?;
            if status.is_success() {
                return Ok(());
            }
            match serde_json::from_slice::<OAuthErrorBody>(&bytes) {
                Ok(error) if error.error == "invalid_token" => Ok(()),
                Ok(error) if status.is_client_error() => {
                    Err(oauth_error(error.error, error.error_description))
                }
                _ => Err(Error::from_oauth_http(status, &headers, &bytes)),
            }
        })
        .await
    }

    fn transport(&self) -> Transport {
        Transport { http: self.http.clone(), timeout: self.config.timeout }
    }

    /// Runs `call` until it succeeds or fails for good. `idempotent` requests are retried on
    /// anything transient; others only when the failure proves the request had no effect.
    async fn with_retries<T, F, Fut>(
        &self,
        method: &'static str,
        idempotent: bool,
        call: F,
    ) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let started = Instant::now();
        let mut attempts = 0;
        let result = self.retrying(idempotent, &mut attempts, call).await;
        if let Some(observer) = &self.config.observer {
            observer.call_finished(&CallReport {
                api: Api::OAuth,
                method,
                error: result.as_ref().err(),
                attempts,
                elapsed: started.elapsed(),
            });
        }
        result
    }

    async fn retrying<T, F, Fut>(&self, idempotent: bool, attempts: &mut u32, mut call: F) -> Result<T, Error>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let policy = &self.config.retry_policy;
        let mut retry = 0;
        loop {
            let started = Instant::now();
            *attempts += 1;
            let error = match call().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            retry += 1;
            let retryable =
                if idempotent { error.is_retryable() } else { error.is_retryable_without_side_effects() };
            if !(retryable && policy.allows(retry)) {
                tracing::debug!(attempt = retry, latency_ms = millis(started), error = %error, "OAuth request failed");
                return Err(error);
            }
            let delay = policy.delay_for(retry, error.retry_after());
            tracing::warn!(
                attempt = retry,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying OAuth request"
            );
            tokio::time::sleep(delay).await;
        }
    }
}

/// An OAuth error document (`{"error": "...", "error_description": "..."}`).
#[derive(Deserialize)]
struct OAuthErrorBody {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn oauth_error(error: String, description: Option<String>) -> Error {
    if error == "invalid_grant" {
        Error::InvalidGrant { description }
    } else {
        Error::OAuth { error, description }
    }
}

fn map_token_error(error: RequestTokenError<Error, BasicErrorResponse>) -> Error {
    match error {
        RequestTokenError::ServerResponse(response) => {
            let description = response.error_description().cloned();
            match response.error() {
                BasicErrorResponseType::InvalidGrant => Error::InvalidGrant { description },
                other => Error::OAuth { error: other.to_string(), description },
            }
        }
        RequestTokenError::Request(error) => error,
        RequestTokenError::Parse(source, body) => {
            Error::Decode { source: source.into_inner(), body: String::from_utf8_lossy(&body).into_owned() }
        }
        RequestTokenError::Other(message) => {
            Error::OAuth { error: "unexpected_response".to_owned(), description: Some(message) }
        }
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Sends one request under the timeout and reads the whole body.
async fn send(
    request: reqwest::RequestBuilder,
    timeout: Option<Duration>,
) -> Result<(StatusCode, HeaderMap, bytes::Bytes), Error> {
    let exchange = async {
        let response = request.send().await.map_err(Error::from_reqwest)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(Error::from_reqwest)?;
        Ok((status, headers, body))
    };
    match timeout {
        Some(limit) => tokio::time::timeout(limit, exchange).await.unwrap_or(Err(Error::Timeout)),
        None => exchange.await,
    }
}

/// `oauth2`'s HTTP client, implemented over our reqwest 0.13 client. Error responses that are not
/// an OAuth error document (5xx, 429, HTML pages) become our own errors here, so they are never
/// parsed as JSON and can be retried.
struct Transport {
    http: reqwest::Client,
    timeout: Option<Duration>,
}

impl<'c> oauth2::AsyncHttpClient<'c> for Transport {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(Error::from_reqwest)?;
            let (status, headers, body) =
                send(reqwest::RequestBuilder::from_parts(self.http.clone(), request), self.timeout).await?;
            let is_oauth_error = status.is_client_error()
                && status != StatusCode::TOO_MANY_REQUESTS
                && is_oauth_error_document(&body);
            if !status.is_success() && !is_oauth_error {
                return Err(Error::from_oauth_http(status, &headers, &body));
            }
            let mut response = oauth2::http::Response::builder().status(status);
            for (name, value) in &headers {
                response = response.header(name, value);
            }
            response
                .body(body.to_vec())
                .map_err(|error| Error::config(format!("could not rebuild the token response: {error}")))
        })
    }
}

fn is_oauth_error_document(body: &[u8]) -> bool {
    serde_json::from_slice::<OAuthErrorBody>(body).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_scopes_lists_what_was_not_granted() {
        let mut response = TokenResponse {
            access_token: SecretString::from("a"),
            refresh_token: None,
            expires_in: None,
            expires_at: None,
            scopes: Some(vec!["openid".to_owned(), crate::scopes::CALENDAR_EVENTS.to_owned()]),
        };
        assert_eq!(
            response.missing_scopes(crate::scopes::RECOMMENDED),
            vec![crate::scopes::CALENDAR_FREEBUSY, crate::scopes::CALENDAR_CALENDARLIST_READONLY]
        );
        assert!(response.has_scopes(&[crate::scopes::CALENDAR_EVENTS]));
        response.scopes = None;
        assert_eq!(response.missing_scopes(&["x"]), vec!["x"]);
    }

    #[test]
    fn bad_endpoints_are_configuration_errors() {
        let config = OAuthConfig::new("id", None).with_token_url("not a url");
        assert!(matches!(OAuthClient::new(config), Err(Error::Config { .. })));
    }
}
