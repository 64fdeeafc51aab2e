//! Google's OAuth 2.0 web-server flow: the authorization endpoint (instant consent), the token
//! endpoint (authorization code with PKCE, refresh), revocation and `userinfo`.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::OAuthError;
use super::random_string;

/// `openid`, as requested and as granted.
pub const SCOPE_OPENID: &str = "openid";
/// What Google grants for the `email` shorthand.
pub const SCOPE_EMAIL: &str = "https://www.googleapis.com/auth/userinfo.email";
/// What Google grants for the `profile` shorthand.
pub const SCOPE_PROFILE: &str = "https://www.googleapis.com/auth/userinfo.profile";
/// Full access to the user's calendars.
pub const SCOPE_CALENDAR: &str = "https://www.googleapis.com/auth/calendar";
/// Read and write events on all calendars.
pub const SCOPE_CALENDAR_EVENTS: &str = "https://www.googleapis.com/auth/calendar.events";
/// Read-only access to calendars and events.
pub const SCOPE_CALENDAR_READONLY: &str = "https://www.googleapis.com/auth/calendar.readonly";

const AUTH_SCOPE_PREFIX: &str = "https://www.googleapis.com/auth/";
/// How long an authorization code stays valid.
const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// Google's default access-token lifetime (`expires_in: 3599`).
pub(super) const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// How the fake user answers Google's consent screen.
///
/// Over HTTP (`POST /_fake/consent`): `"grant"`, `"deny"`, `{"withhold": ["calendar"]}`,
/// `{"only": ["openid", "email"]}`. Scope names may be full URLs or short forms
/// (`calendar.events` for `https://www.googleapis.com/auth/calendar.events`; `email` and
/// `profile` as Google spells them).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consent {
    /// Ticks every requested scope.
    #[default]
    #[serde(rename = "grant")]
    GrantAll,
    /// Grants only these of the requested scopes (Google's granular consent).
    Only(Vec<String>),
    /// Grants every requested scope except these (the user unticked them).
    Withhold(Vec<String>),
    /// Clicks "Cancel": the redirect carries `error=access_denied`.
    Deny,
}

impl Consent {
    fn allows(&self, scope: &str) -> bool {
        // The sign-in scopes are not optional on Google's consent screen.
        if matches!(scope, SCOPE_OPENID | SCOPE_EMAIL | SCOPE_PROFILE) && !matches!(self, Self::Only(_)) {
            return true;
        }
        match self {
            Self::GrantAll => true,
            Self::Only(scopes) => scopes.iter().any(|allowed| expand_scope(allowed) == scope),
            Self::Withhold(scopes) => !scopes.iter().any(|withheld| expand_scope(withheld) == scope),
            Self::Deny => false,
        }
    }
}

/// A scope as Google reports it back: `email` and `profile` become their `userinfo.*` URLs.
pub(super) fn normalize_scope(scope: &str) -> String {
    match scope {
        "email" => SCOPE_EMAIL.to_owned(),
        "profile" => SCOPE_PROFILE.to_owned(),
        other => other.to_owned(),
    }
}

/// A scope written by a test, short forms allowed (`calendar.readonly`).
fn expand_scope(scope: &str) -> String {
    if scope.contains("://") || matches!(scope, SCOPE_OPENID | "email" | "profile") {
        normalize_scope(scope)
    } else {
        format!("{AUTH_SCOPE_PREFIX}{scope}")
    }
}

/// What a valid access token stands for.
#[derive(Debug, Clone)]
pub(super) struct Access {
    pub email: String,
    pub scopes: Vec<String>,
}

/// One grant (one consent, or one token pair minted by a test), as the tests see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrantInfo {
    /// The Google account the grant belongs to.
    pub account_email: String,
    /// The OAuth client it was issued to.
    pub client_id: String,
    /// Granted scopes, normalized as Google reports them.
    pub scopes: Vec<String>,
    /// The refresh token now valid for this grant (after rotations, the newest), if offline.
    pub refresh_token: Option<String>,
    /// Whether the grant was revoked (through `/revoke`, `revoke_all` or a revoked access token).
    pub revoked: bool,
    /// Access tokens issued under this grant, oldest first.
    pub access_tokens: Vec<String>,
    /// When the grant was made.
    pub created_at: DateTime<Utc>,
}

/// A token pair minted directly by a test ([`super::FakeGoogle::issue_tokens`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuedTokens {
    /// The Bearer token for the Calendar API.
    pub access_token: String,
    /// The refresh token.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Granted scopes, space-separated.
    pub scope: String,
}

#[derive(Debug, Clone)]
struct AuthCode {
    client_id: String,
    redirect_uri: String,
    email: String,
    scopes: Vec<String>,
    challenge: Option<(String, String)>,
    offline: bool,
    prompt_consent: bool,
    expires_at: DateTime<Utc>,
    used: bool,
}

#[derive(Debug, Clone)]
struct Grant {
    email: String,
    client_id: String,
    scopes: Vec<String>,
    refresh_token: Option<String>,
    revoked: bool,
    access_tokens: Vec<String>,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct AccessToken {
    grant: usize,
    expires_at: DateTime<Utc>,
}

/// The authorization endpoint's answer.
#[derive(Debug)]
pub(super) enum Authorization {
    /// 302 to this URL (a code, or `error=access_denied`).
    Redirect(String),
    /// An error page; Google does not redirect for these.
    Page { status: u16, error: &'static str, detail: String },
}

/// Everything OAuth: the registered client, the fake user's choices, codes, grants and tokens.
#[derive(Debug)]
pub(super) struct OAuth {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    pub account_email: String,
    pub consent: Consent,
    pub access_token_lifetime: Duration,
    pub rotate_refresh_tokens: bool,
    pub force_invalid_grant: bool,
    pub token_requests: usize,
    pub revoked: Vec<String>,
    codes: HashMap<String, AuthCode>,
    grants: Vec<Grant>,
    access_tokens: HashMap<String, AccessToken>,
    /// Every refresh token ever issued, to its grant; a rotated-out token stays here, dead.
    refresh_tokens: HashMap<String, usize>,
}

type Params = HashMap<String, String>;

/// First value of each parameter, as Google reads repeated parameters.
pub(super) fn first_values(pairs: &[(String, String)]) -> Params {
    let mut params = Params::new();
    for (key, value) in pairs {
        params.entry(key.clone()).or_insert_with(|| value.clone());
    }
    params
}

fn param<'a>(params: &'a Params, key: &str) -> Option<&'a str> {
    params.get(key).map(String::as_str).filter(|value| !value.is_empty())
}

impl OAuth {
    pub(super) fn new(
        client_id: String,
        client_secret: String,
        redirect_uris: Vec<String>,
        email: String,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            redirect_uris,
            account_email: email,
            consent: Consent::GrantAll,
            access_token_lifetime: DEFAULT_TOKEN_LIFETIME,
            rotate_refresh_tokens: false,
            force_invalid_grant: false,
            token_requests: 0,
            revoked: Vec::new(),
            codes: HashMap::new(),
            grants: Vec::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
        }
    }

    fn redirect_allowed(&self, uri: &str) -> bool {
        if self.redirect_uris.is_empty() {
            return Url::parse(uri).is_ok_and(|url| matches!(url.scheme(), "http" | "https"));
        }
        self.redirect_uris.iter().any(|registered| registered == uri)
    }

    /// `GET /o/oauth2/v2/auth`: validates the request and consents at once.
    pub(super) fn authorize(&mut self, pairs: &[(String, String)]) -> Authorization {
        let params = first_values(pairs);
        let page =
            |status, error, detail: &str| Authorization::Page { status, error, detail: detail.to_owned() };
        let Some(client_id) = param(&params, "client_id") else {
            return page(400, "invalid_request", "Missing required parameter: client_id");
        };
        if client_id != self.client_id {
            return page(401, "invalid_client", "The OAuth client was not found.");
        }
        let Some(redirect_uri) = param(&params, "redirect_uri") else {
            return page(400, "invalid_request", "Missing required parameter: redirect_uri");
        };
        let Ok(mut redirect) = Url::parse(redirect_uri) else {
            return page(
                400,
                "invalid_request",
                &format!("Invalid parameter value for redirect_uri: {redirect_uri}"),
            );
        };
        if !self.redirect_allowed(redirect_uri) {
            return page(
                400,
                "redirect_uri_mismatch",
                &format!(
                    "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. \
                     Request details: redirect_uri={redirect_uri}"
                ),
            );
        }
        match param(&params, "response_type") {
            None => return page(400, "invalid_request", "Missing required parameter: response_type"),
            Some("code") => {}
            Some(other) => {
                return page(400, "unsupported_response_type", &format!("Invalid response_type: {other}"));
            }
        }
        let requested: Vec<String> = dedup(
            param(&params, "scope").unwrap_or_default().split_whitespace().map(normalize_scope).collect(),
        );
        if requested.is_empty() {
            return page(400, "invalid_request", "Missing required parameter: scope");
        }
        let challenge = match (param(&params, "code_challenge"), param(&params, "code_challenge_method")) {
            (None, None) => None,
            (None, Some(_)) => {
                return page(400, "invalid_request", "code_challenge_method requires a code_challenge");
            }
            (Some(challenge), method) => {
                let method = method.unwrap_or("plain");
                if !matches!(method, "S256" | "plain") {
                    return page(400, "invalid_request", &format!("Invalid code_challenge_method: {method}"));
                }
                if !(43..=128).contains(&challenge.len()) {
                    return page(
                        400,
                        "invalid_request",
                        "Invalid code_challenge: must be 43 to 128 characters",
                    );
                }
                Some((challenge.to_owned(), method.to_owned()))
            }
        };
        let state = param(&params, "state");
        let consent = self.consent_for(&params);
        if consent == Consent::Deny {
            let mut query = redirect.query_pairs_mut();
            query.append_pair("error", "access_denied");
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            drop(query);
            return Authorization::Redirect(redirect.to_string());
        }
        let email = param(&params, "_fake_email").map_or_else(|| self.account_email.clone(), str::to_owned);
        let mut scopes: Vec<String> = requested.into_iter().filter(|scope| consent.allows(scope)).collect();
        if param(&params, "include_granted_scopes") == Some("true") {
            scopes = dedup(scopes.into_iter().chain(self.live_scopes(&email, client_id)).collect());
        }
        let code = format!("4/0fake{}", random_string(40));
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
                email,
                scopes: scopes.clone(),
                challenge,
                offline: param(&params, "access_type") == Some("offline"),
                prompt_consent: param(&params, "prompt")
                    .is_some_and(|prompt| prompt.split(' ').any(|p| p == "consent")),
                expires_at: Utc::now() + CODE_LIFETIME,
                used: false,
            },
        );
        let mut query = redirect.query_pairs_mut();
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("code", &code);
        query.append_pair("scope", &scopes.join(" "));
        query.append_pair("authuser", "0");
        query.append_pair("prompt", "consent");
        drop(query);
        Authorization::Redirect(redirect.to_string())
    }

    /// The consent for one request: the standing setting, or a `_fake_consent=grant|deny`,
    /// `_fake_withhold=...` or `_fake_only=...` query override (space- or comma-separated).
    fn consent_for(&self, params: &Params) -> Consent {
        let list = |key| {
            param(params, key).map(|value: &str| {
                value
                    .split([' ', ','])
                    .filter(|scope| !scope.is_empty())
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
        };
        match param(params, "_fake_consent") {
            Some("deny") => return Consent::Deny,
            Some("grant") => return Consent::GrantAll,
            _ => {}
        }
        if let Some(scopes) = list("_fake_withhold") {
            return Consent::Withhold(scopes);
        }
        if let Some(scopes) = list("_fake_only") {
            return Consent::Only(scopes);
        }
        self.consent.clone()
    }

    /// Scopes of the account's grants to this client that are still alive.
    fn live_scopes(&self, email: &str, client_id: &str) -> Vec<String> {
        self.grants
            .iter()
            .filter(|grant| !grant.revoked && grant.email == email && grant.client_id == client_id)
            .flat_map(|grant| grant.scopes.iter().cloned())
            .collect()
    }

    /// `POST /token`.
    pub(super) fn token(
        &mut self,
        pairs: &[(String, String)],
        basic: Option<(String, String)>,
    ) -> Result<Value, OAuthError> {
        self.token_requests += 1;
        let params = first_values(pairs);
        let (client_id, client_secret) = match (param(&params, "client_id"), basic) {
            (Some(id), _) => (id.to_owned(), param(&params, "client_secret").map(str::to_owned)),
            (None, Some((id, secret))) => (id, Some(secret)),
            (None, None) => {
                return Err(OAuthError::invalid_request("Could not determine client ID from request."));
            }
        };
        if client_id != self.client_id {
            return Err(OAuthError::new(401, "invalid_client", "The OAuth client was not found."));
        }
        match client_secret {
            None => return Err(OAuthError::invalid_request("client_secret is missing.")),
            Some(secret) if secret != self.client_secret => {
                return Err(OAuthError::new(401, "invalid_client", "Unauthorized"));
            }
            Some(_) => {}
        }
        match param(&params, "grant_type") {
            Some("authorization_code") => self.exchange_code(&params, &client_id),
            Some("refresh_token") => self.refresh(&params, &client_id),
            other => Err(OAuthError::new(
                400,
                "unsupported_grant_type",
                &format!("Invalid grant_type: {}", other.unwrap_or_default()),
            )),
        }
    }

    fn exchange_code(&mut self, params: &Params, client_id: &str) -> Result<Value, OAuthError> {
        let code = param(params, "code")
            .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: code"))?;
        let Some(entry) = self.codes.get_mut(code) else {
            return Err(OAuthError::invalid_grant("Malformed auth code."));
        };
        if entry.used || entry.expires_at <= Utc::now() || entry.client_id != client_id {
            return Err(OAuthError::invalid_grant("Bad Request"));
        }
        if param(params, "redirect_uri") != Some(entry.redirect_uri.as_str()) {
            return Err(OAuthError::new(400, "redirect_uri_mismatch", "Bad Request"));
        }
        if let Some((challenge, method)) = &entry.challenge {
            let verifier = param(params, "code_verifier")
                .ok_or_else(|| OAuthError::invalid_grant("Missing code verifier."))?;
            let computed = if method == "S256" {
                URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.to_owned()
            };
            if &computed != challenge {
                return Err(OAuthError::invalid_grant("Invalid code verifier."));
            }
        }
        entry.used = true;
        let code = entry.clone();
        let has_live_refresh = self.grants.iter().any(|grant| {
            !grant.revoked
                && grant.email == code.email
                && grant.client_id == client_id
                && grant.refresh_token.is_some()
        });
        // Google sends a refresh token on the first offline consent, and again only when the
        // consent screen was forced with prompt=consent.
        let refresh = code.offline && (code.prompt_consent || !has_live_refresh);
        let grant = self.new_grant(&code.email, client_id, code.scopes.clone(), refresh);
        Ok(self.token_response(grant, refresh))
    }

    fn refresh(&mut self, params: &Params, client_id: &str) -> Result<Value, OAuthError> {
        let token = param(params, "refresh_token")
            .ok_or_else(|| OAuthError::invalid_request("Missing required parameter: refresh_token"))?;
        let expired = || OAuthError::invalid_grant("Token has been expired or revoked.");
        if self.force_invalid_grant {
            return Err(expired());
        }
        let index = *self.refresh_tokens.get(token).ok_or_else(expired)?;
        let grant = self.grants.get(index).ok_or_else(expired)?;
        if grant.revoked || grant.refresh_token.as_deref() != Some(token) {
            return Err(expired());
        }
        if grant.client_id != client_id {
            return Err(OAuthError::new(400, "unauthorized_client", "Unauthorized"));
        }
        let rotate = self.rotate_refresh_tokens;
        if rotate {
            let fresh = new_refresh_token();
            self.refresh_tokens.insert(fresh.clone(), index);
            if let Some(grant) = self.grants.get_mut(index) {
                grant.refresh_token = Some(fresh);
            }
        }
        Ok(self.token_response(index, rotate))
    }

    fn new_grant(&mut self, email: &str, client_id: &str, scopes: Vec<String>, offline: bool) -> usize {
        let refresh_token = offline.then(new_refresh_token);
        let index = self.grants.len();
        if let Some(token) = &refresh_token {
            self.refresh_tokens.insert(token.clone(), index);
        }
        self.grants.push(Grant {
            email: email.to_owned(),
            client_id: client_id.to_owned(),
            scopes,
            refresh_token,
            revoked: false,
            access_tokens: Vec::new(),
            created_at: Utc::now(),
        });
        index
    }

    /// Issues an access token under `grant` and writes Google's token response.
    fn token_response(&mut self, grant: usize, with_refresh: bool) -> Value {
        let lifetime = self.access_token_lifetime;
        let access_token = format!("ya29.fake{}", random_string(48));
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                grant,
                expires_at: Utc::now() + TimeDelta::from_std(lifetime).unwrap_or(TimeDelta::MAX),
            },
        );
        let Some(record) = self.grants.get_mut(grant) else { return json!({}) };
        record.access_tokens.push(access_token.clone());
        let mut body = Map::new();
        body.insert("access_token".to_owned(), json!(access_token));
        body.insert("expires_in".to_owned(), json!(lifetime.as_secs()));
        if with_refresh && let Some(refresh) = &record.refresh_token {
            body.insert("refresh_token".to_owned(), json!(refresh));
        }
        body.insert("scope".to_owned(), json!(record.scopes.join(" ")));
        body.insert("token_type".to_owned(), json!("Bearer"));
        if record.scopes.iter().any(|scope| scope == SCOPE_OPENID) {
            body.insert("id_token".to_owned(), json!(id_token(record, lifetime)));
        }
        Value::Object(body)
    }

    /// `POST /revoke`: an access token or a refresh token; either kills the whole grant.
    pub(super) fn revoke(&mut self, token: Option<&str>) -> Result<(), OAuthError> {
        let token = token
            .filter(|token| !token.is_empty())
            .ok_or_else(|| OAuthError::invalid_request("Bad Request"))?;
        let grant = self
            .access_tokens
            .get(token)
            .map(|access| access.grant)
            .or_else(|| {
                self.refresh_tokens.get(token).copied().filter(|index| {
                    self.grants.get(*index).and_then(|g| g.refresh_token.as_deref()) == Some(token)
                })
            })
            .filter(|index| self.grants.get(*index).is_some_and(|grant| !grant.revoked))
            .ok_or_else(|| OAuthError::new(400, "invalid_token", "Token expired or revoked"))?;
        self.revoked.push(token.to_owned());
        self.revoke_grant(grant);
        Ok(())
    }

    fn revoke_grant(&mut self, index: usize) {
        let Some(grant) = self.grants.get_mut(index) else { return };
        if grant.revoked {
            return;
        }
        grant.revoked = true;
        let cascade = grant.refresh_token.iter().chain(grant.access_tokens.iter()).cloned();
        for token in cascade {
            if !self.revoked.contains(&token) {
                self.revoked.push(token);
            }
        }
    }

    /// Revokes every grant (the user removed the app from their Google account).
    pub(super) fn revoke_all(&mut self) {
        for index in 0..self.grants.len() {
            self.revoke_grant(index);
        }
    }

    /// Makes every access token issued so far expired.
    pub(super) fn expire_access_tokens(&mut self) {
        let past = Utc::now() - TimeDelta::seconds(1);
        for token in self.access_tokens.values_mut() {
            token.expires_at = past;
        }
    }

    /// The account and scopes behind a Bearer token that is known, unexpired and unrevoked.
    pub(super) fn check(&self, token: &str) -> Option<Access> {
        let access = self.access_tokens.get(token)?;
        let grant = self.grants.get(access.grant)?;
        (!grant.revoked && access.expires_at > Utc::now())
            .then(|| Access { email: grant.email.clone(), scopes: grant.scopes.clone() })
    }

    /// `GET /oauth2/v3/userinfo`.
    pub(super) fn userinfo(&self, token: Option<&str>) -> Result<Value, OAuthError> {
        let access = token
            .and_then(|token| self.check(token))
            .ok_or_else(|| OAuthError::new(401, "invalid_request", "Invalid Credentials"))?;
        let mut body = Map::new();
        body.insert("sub".to_owned(), json!(subject(&access.email)));
        if access.scopes.iter().any(|scope| scope == SCOPE_PROFILE) {
            let name = access.email.split('@').next().unwrap_or_default().to_owned();
            body.insert("name".to_owned(), json!(name));
            body.insert("given_name".to_owned(), json!(name));
            body.insert("picture".to_owned(), json!("https://lh3.googleusercontent.com/a/fake-avatar"));
        }
        if access.scopes.iter().any(|scope| scope == SCOPE_EMAIL) {
            body.insert("email".to_owned(), json!(access.email));
            body.insert("email_verified".to_owned(), json!(true));
        }
        Ok(Value::Object(body))
    }

    /// Mints an offline grant for `email` without the browser round trip.
    pub(super) fn issue(&mut self, email: &str, scopes: &[&str]) -> IssuedTokens {
        let scopes = dedup(scopes.iter().map(|scope| expand_scope(scope)).collect());
        let client_id = self.client_id.clone();
        let grant = self.new_grant(email, &client_id, scopes, true);
        let body = self.token_response(grant, true);
        let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        IssuedTokens {
            access_token: text("access_token"),
            refresh_token: text("refresh_token"),
            expires_in: body.get("expires_in").and_then(Value::as_u64).unwrap_or_default(),
            scope: text("scope"),
        }
    }

    pub(super) fn grants(&self) -> Vec<GrantInfo> {
        self.grants
            .iter()
            .map(|grant| GrantInfo {
                account_email: grant.email.clone(),
                client_id: grant.client_id.clone(),
                scopes: grant.scopes.clone(),
                refresh_token: grant.refresh_token.clone(),
                revoked: grant.revoked,
                access_tokens: grant.access_tokens.clone(),
                created_at: grant.created_at,
            })
            .collect()
    }
}

fn new_refresh_token() -> String {
    format!("1//0fake{}", random_string(64))
}

fn dedup(scopes: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    scopes.into_iter().filter(|scope| seen.insert(scope.clone())).collect()
}

/// A stable numeric Google account id for an email.
pub(super) fn subject(email: &str) -> String {
    let digest = Sha256::digest(email.as_bytes());
    let mut bytes = [0_u8; 8];
    bytes.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    format!("1{:020}", u64::from_be_bytes(bytes))
}

/// An OpenID Connect ID token with Google's claims. The signature is not real: verify it and it
/// fails; decode it and the claims are right.
fn id_token(grant: &Grant, lifetime: Duration) -> String {
    let now = Utc::now().timestamp();
    let exp = now.saturating_add(i64::try_from(lifetime.as_secs()).unwrap_or(3599));
    let header = json!({ "alg": "RS256", "kid": "fake-google-key", "typ": "JWT" });
    let mut claims = json!({
        "iss": "https://accounts.google.com",
        "azp": grant.client_id,
        "aud": grant.client_id,
        "sub": subject(&grant.email),
        "iat": now,
        "exp": exp,
    });
    if grant.scopes.iter().any(|scope| scope == SCOPE_EMAIL)
        && let Value::Object(map) = &mut claims
    {
        map.insert("email".to_owned(), json!(grant.email));
        map.insert("email_verified".to_owned(), json!(true));
    }
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"fake-google-signature")
    )
}

/// `Authorization: Basic base64(client_id:client_secret)` (each part form-urlencoded first, as
/// RFC 6749 says).
pub(super) fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let encoded = header?.strip_prefix("Basic ").or_else(|| header?.strip_prefix("basic "))?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

fn form_decode(text: &str) -> String {
    super::percent_decode(&text.replace('+', " "))
}
