//! Tests of the fake itself, over HTTP with reqwest: the OAuth flow (PKCE, single-use codes,
//! refresh, rotation, revocation, expiry), Calendar semantics (pages, sync tokens, ids,
//! recurrence, free/busy), push notifications to a local listener, faults and error shapes.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use super::recurrence::Recurrence;
use super::{
    Consent, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeGoogle, FakeGoogleConfig, Fault, FaultRule,
    SCOPE_CALENDAR, SCOPE_EMAIL, percent_encode,
};

const REDIRECT: &str = "http://localhost:3000/api/v1/calendar/oauth/callback";
// RFC 7636, appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const SCOPES: &str = "openid email https://www.googleapis.com/auth/calendar.events";

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(key, value)| format!("{key}={}", percent_encode(value))).collect::<Vec<_>>().join("&")
}

fn auth_url(fake: &FakeGoogle, extra: &[(&str, &str)]) -> Url {
    let mut url = Url::parse(&fake.oauth_urls().auth_url).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", FAKE_CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("response_type", "code")
        .append_pair("scope", SCOPES)
        .append_pair("state", "st4te/+=")
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256")
        .append_pair("access_type", "offline")
        .append_pair("prompt", "consent")
        .append_pair("include_granted_scopes", "true");
    for (key, value) in extra {
        url.query_pairs_mut().append_pair(key, value);
    }
    url
}

/// Follows the authorization endpoint once; returns the redirect's query parameters.
async fn consent(fake: &FakeGoogle, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let response = http().get(auth_url(fake, extra)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND, "{:?}", response.text().await);
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    location.query_pairs().map(|(key, value)| (key.into_owned(), value.into_owned())).collect()
}

async fn token(fake: &FakeGoogle, pairs: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = http()
        .post(fake.oauth_urls().token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn exchange(fake: &FakeGoogle, code: &str, verifier: &str) -> (StatusCode, Value) {
    token(
        fake,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", FAKE_CLIENT_ID),
            ("client_secret", FAKE_CLIENT_SECRET),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn refresh(fake: &FakeGoogle, refresh_token: &str) -> (StatusCode, Value) {
    token(
        fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", FAKE_CLIENT_ID),
            ("client_secret", FAKE_CLIENT_SECRET),
        ],
    )
    .await
}

/// The whole browser flow: consent, then the code exchanged with the right verifier.
async fn connect(fake: &FakeGoogle) -> Value {
    let params = consent(fake, &[]).await;
    let (status, body) = exchange(fake, &params["code"], VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn calendar_token(fake: &FakeGoogle) -> String {
    fake.issue_tokens(&["calendar"]).access_token
}

async fn api(
    fake: &FakeGoogle,
    method: &str,
    path: &str,
    access_token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}{path}", fake.oauth_urls().calendar_base_url);
    let mut request = http().request(method.parse().unwrap(), url).bearer_auth(access_token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        },
    )
}

async fn get(fake: &FakeGoogle, path: &str, token: &str) -> (StatusCode, Value) {
    api(fake, "GET", path, token, None).await
}

fn timed(summary: &str, start: &str, end: &str) -> Value {
    json!({ "summary": summary, "start": { "dateTime": start }, "end": { "dateTime": end } })
}

fn ids(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|item| item["id"].as_str().unwrap().to_owned()).collect()
}

fn assert_google_error(body: &Value, code: u16, reason: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["errors"][0]["reason"], reason, "{body}");
    assert!(body["error"]["errors"][0]["domain"].is_string(), "{body}");
    assert!(body["error"]["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

async fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A local webhook receiver that records the headers of every request.
struct Listener {
    url: String,
    received: Arc<Mutex<Vec<BTreeMap<String, String>>>>,
    handle: ServerHandle,
}

impl Listener {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let url = format!("http://127.0.0.1:{}/webhooks/google", listener.local_addr().unwrap().port());
        let server = HttpServer::new(move || {
            let store = Arc::clone(&store);
            App::new().default_service(web::to(move |request: HttpRequest| {
                let store = Arc::clone(&store);
                async move {
                    let headers = request
                        .headers()
                        .iter()
                        .map(|(name, value)| {
                            (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned())
                        })
                        .collect();
                    store.lock().unwrap().push(headers);
                    HttpResponse::Ok().finish()
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, received, handle }
    }

    fn received(&self) -> Vec<BTreeMap<String, String>> {
        self.received.lock().unwrap().clone()
    }
}

// ---- OAuth --------------------------------------------------------------------------------------

#[tokio::test]
async fn authorization_redirects_back_with_code_state_and_granted_scopes() {
    let fake = FakeGoogle::start().await;
    let params = consent(&fake, &[]).await;
    assert_eq!(params["state"], "st4te/+=");
    assert!(params["code"].starts_with("4/"), "{params:?}");
    assert_eq!(
        params["scope"],
        "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.events"
    );
    fake.stop().await;
}

#[tokio::test]
async fn pkce_right_verifier_gets_tokens_and_wrong_verifier_gets_invalid_grant() {
    let fake = FakeGoogle::start().await;
    let code = consent(&fake, &[]).await["code"].clone();
    let (status, body) =
        exchange(&fake, &code, "a-wrong-verifier-that-is-long-enough-to-look-real-000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body["error_description"].is_string());

    let code = consent(&fake, &[]).await["code"].clone();
    let (status, body) = exchange(&fake, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].as_str().unwrap().starts_with("ya29."));
    assert!(body["refresh_token"].as_str().unwrap().starts_with("1//"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(
        body["scope"],
        "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/calendar.events"
    );
    // The ID token is a JWT with Google's claims.
    let claims = body["id_token"].as_str().unwrap().split('.').nth(1).unwrap();
    use base64::Engine;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap())
            .unwrap();
    assert_eq!(claims["iss"], "https://accounts.google.com");
    assert_eq!(claims["aud"], FAKE_CLIENT_ID);
    assert_eq!(claims["email"], "user@example.com");
    assert_eq!(fake.grants()[0].account_email, "user@example.com");
    fake.stop().await;
}

#[tokio::test]
async fn a_missing_verifier_or_redirect_mismatch_is_refused() {
    let fake = FakeGoogle::start().await;
    let code = consent(&fake, &[]).await["code"].clone();
    let common = [("client_id", FAKE_CLIENT_ID), ("client_secret", FAKE_CLIENT_SECRET)];
    let (status, body) = token(
        &fake,
        &[&common[..], &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT)]]
            .concat(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    let (status, body) = token(
        &fake,
        &[
            &common[..],
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://localhost:9999/elsewhere"),
                ("code_verifier", VERIFIER),
            ],
        ]
        .concat(),
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("redirect_uri_mismatch")));
    fake.stop().await;
}

#[tokio::test]
async fn codes_are_single_use() {
    let fake = FakeGoogle::start().await;
    let code = consent(&fake, &[]).await["code"].clone();
    assert_eq!(exchange(&fake, &code, VERIFIER).await.0, StatusCode::OK);
    let (status, body) = exchange(&fake, &code, VERIFIER).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(fake.token_requests(), 2);
    fake.stop().await;
}

#[tokio::test]
async fn client_credentials_work_in_basic_auth_and_a_wrong_secret_is_invalid_client() {
    let fake = FakeGoogle::start().await;
    let code = consent(&fake, &[]).await["code"].clone();
    let response = http()
        .post(fake.oauth_urls().token_url)
        .basic_auth(FAKE_CLIENT_ID, Some(FAKE_CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = token(
        &fake,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", FAKE_CLIENT_ID),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_client")));
    fake.stop().await;
}

#[tokio::test]
async fn the_authorization_endpoint_refuses_unknown_clients_and_unregistered_redirects_without_redirecting() {
    let fake = FakeGoogle::start_with(FakeGoogleConfig::new().with_redirect_uri(REDIRECT)).await.unwrap();
    let mut url = auth_url(&fake, &[]);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(key, value)| {
            let value =
                if key == "redirect_uri" { "http://evil.example/cb".to_owned() } else { value.into_owned() };
            (key.into_owned(), value)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("redirect_uri_mismatch"));

    let url = Url::parse_with_params(
        &fake.oauth_urls().auth_url,
        [
            ("client_id", "someone-else"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
        ],
    )
    .unwrap();
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().await.unwrap().contains("invalid_client"));
    fake.stop().await;
}

#[tokio::test]
async fn a_denied_consent_redirects_with_access_denied_and_the_state() {
    let fake = FakeGoogle::start().await;
    fake.set_consent(Consent::Deny);
    let params = consent(&fake, &[]).await;
    assert_eq!(params.get("error").map(String::as_str), Some("access_denied"));
    assert_eq!(params["state"], "st4te/+=");
    assert!(!params.contains_key("code"));
    // A per-call override wins over the setting.
    let params = consent(&fake, &[("_fake_consent", "grant")]).await;
    assert!(params.contains_key("code"));
    fake.stop().await;
}

#[tokio::test]
async fn an_unticked_calendar_scope_is_missing_from_the_grant_and_the_calendar_answers_403() {
    let fake = FakeGoogle::start().await;
    fake.set_consent(Consent::Withhold(vec!["calendar.events".to_owned()]));
    let tokens = connect(&fake).await;
    assert_eq!(tokens["scope"], format!("openid {SCOPE_EMAIL}"));
    assert_eq!(fake.granted_scopes("user@example.com"), vec!["openid".to_owned(), SCOPE_EMAIL.to_owned()]);
    let (status, body) =
        get(&fake, "/calendars/primary/events", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_google_error(&body, 403, "insufficientPermissions");
    assert_eq!(body["error"]["status"], "PERMISSION_DENIED");
    fake.stop().await;
}

#[tokio::test]
async fn refresh_gives_a_new_access_token_and_rotation_retires_the_old_refresh_token() {
    let fake = FakeGoogle::start().await;
    let tokens = connect(&fake).await;
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(&fake, &first_refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_ne!(body["access_token"], tokens["access_token"]);
    assert!(body.get("refresh_token").is_none(), "no rotation by default: {body}");
    assert_eq!(body["scope"], tokens["scope"]);

    fake.set_rotate_refresh_tokens(true);
    let (status, body) = refresh(&fake, &first_refresh).await;
    assert_eq!(status, StatusCode::OK);
    let second_refresh = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first_refresh);
    assert_eq!(refresh(&fake, &first_refresh).await.1["error"], "invalid_grant");
    assert_eq!(refresh(&fake, &second_refresh).await.0, StatusCode::OK);
    fake.stop().await;
}

#[tokio::test]
async fn unknown_revoked_or_forced_refresh_tokens_get_invalid_grant() {
    let fake = FakeGoogle::start().await;
    let (status, body) = refresh(&fake, "1//unknown").await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_grant")));
    assert_eq!(body["error_description"], "Token has been expired or revoked.");

    let tokens = connect(&fake).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    fake.force_invalid_grant(true);
    assert_eq!(refresh(&fake, &refresh_token).await.1["error"], "invalid_grant");
    fake.force_invalid_grant(false);
    assert_eq!(refresh(&fake, &refresh_token).await.0, StatusCode::OK);

    fake.revoke_all();
    assert_eq!(refresh(&fake, &refresh_token).await.1["error"], "invalid_grant");
    let (status, body) = get(&fake, "/users/me/calendarList", tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_google_error(&body, 401, "authError");
    fake.stop().await;
}

#[tokio::test]
async fn revoking_a_token_kills_its_grant() {
    let fake = FakeGoogle::start().await;
    let tokens = connect(&fake).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(get(&fake, "/calendars/primary/events", access).await.0, StatusCode::OK);

    let response = http()
        .post(fake.oauth_urls().revoke_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", refresh_token)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(get(&fake, "/calendars/primary/events", access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&fake, refresh_token).await.1["error"], "invalid_grant");
    assert!(fake.revoked_tokens().contains(&refresh_token.to_owned()));
    assert!(fake.revoked_tokens().contains(&access.to_owned()));
    assert!(fake.grants()[0].revoked);

    // The token in the query string works too; a dead token is `invalid_token`.
    let response =
        http().post(format!("{}?token={refresh_token}", fake.oauth_urls().revoke_url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.json::<Value>().await.unwrap()["error"], "invalid_token");
    fake.stop().await;
}

#[tokio::test]
async fn expired_access_tokens_get_401_with_googles_error_json() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    assert_eq!(get(&fake, "/calendars/primary", &access).await.0, StatusCode::OK);
    fake.expire_access_tokens();
    let response = http()
        .get(format!("{}/calendars/primary/events", fake.oauth_urls().calendar_base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let body: Value = response.json().await.unwrap();
    assert_google_error(&body, 401, "authError");
    assert_eq!(body["error"]["status"], "UNAUTHENTICATED");
    assert_eq!(body["error"]["errors"][0]["location"], "Authorization");

    // A short lifetime expires on its own; no token at all is a 401 too.
    fake.set_access_token_lifetime(Duration::from_millis(200));
    let tokens = connect(&fake).await;
    assert_eq!(tokens["expires_in"], 0);
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(get(&fake, "/calendars/primary", &access).await.0, StatusCode::UNAUTHORIZED);
    let response = http()
        .get(format!("{}/calendars/primary", fake.oauth_urls().calendar_base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    fake.stop().await;
}

#[tokio::test]
async fn userinfo_reports_the_account() {
    let fake = FakeGoogle::start().await;
    fake.set_account_email("ada@example.org");
    let tokens = connect(&fake).await;
    let info: Value = http()
        .get(fake.oauth_urls().userinfo_url)
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "ada@example.org");
    assert_eq!(info["email_verified"], true);
    assert!(info["sub"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()));
    fake.stop().await;
}

// ---- Calendars ------------------------------------------------------------------------------------

#[tokio::test]
async fn the_calendar_list_has_the_primary_calendar_named_by_the_account_email() {
    let fake = FakeGoogle::start().await;
    fake.add_calendar("team@group.calendar.google.com", "Team");
    let access = calendar_token(&fake);
    let (status, list) = get(&fake, "/users/me/calendarList", &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["kind"], "calendar#calendarList");
    assert_eq!(list["items"][0]["id"], "user@example.com");
    assert_eq!(list["items"][0]["primary"], true);
    assert_eq!(list["items"][0]["accessRole"], "owner");
    assert_eq!(list["items"][1]["summary"], "Team");
    let (_, calendar) = get(&fake, "/calendars/primary", &access).await;
    assert_eq!(
        (calendar["kind"].as_str(), calendar["id"].as_str()),
        (Some("calendar#calendar"), Some("user@example.com"))
    );
    let (status, body) = get(&fake, "/calendars/someone%40else.com/events", &access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_google_error(&body, 404, "notFound");
    assert_eq!(body["error"]["status"], "NOT_FOUND");
    fake.stop().await;
}

#[tokio::test]
async fn the_calendar_list_pages_filters_by_access_role_and_hides_hidden_entries() {
    let fake = FakeGoogle::start().await;
    fake.add_calendar("team@group.calendar.google.com", "Team");
    fake.add_shared_calendar("holidays@group.v.calendar.google.com", "Holidays", "reader", false);
    fake.add_shared_calendar("old@group.calendar.google.com", "Old", "writer", true);
    let access = calendar_token(&fake);

    let (status, first) = get(&fake, "/users/me/calendarList?maxResults=2", &access).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(ids(&first), ["user@example.com", "holidays@group.v.calendar.google.com"]);
    assert!(first.get("nextSyncToken").is_none());
    let token = first["nextPageToken"].as_str().unwrap();
    let (_, second) =
        get(&fake, &format!("/users/me/calendarList?maxResults=2&pageToken={token}"), &access).await;
    assert_eq!(ids(&second), ["team@group.calendar.google.com"]);
    assert!(second["nextSyncToken"].is_string() && second.get("nextPageToken").is_none());
    assert_eq!(first["items"][1]["accessRole"], "reader");

    let (_, writable) =
        get(&fake, "/users/me/calendarList?minAccessRole=writer&showHidden=true", &access).await;
    assert_eq!(
        ids(&writable),
        ["user@example.com", "old@group.calendar.google.com", "team@group.calendar.google.com"]
    );
    assert_eq!(writable["items"][1]["hidden"], true);
    assert_eq!(writable["items"][1]["selected"], false);

    for query in [
        "maxResults=0",
        "maxResults=251",
        "minAccessRole=admin",
        "pageToken=nope",
        "syncToken=s&minAccessRole=owner",
    ] {
        let (status, body) = get(&fake, &format!("/users/me/calendarList?{query}"), &access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_google_error(&body, 400, "invalid");
    }
    fake.stop().await;
}

#[tokio::test]
async fn a_read_only_calendar_refuses_event_writes_but_lists_its_events() {
    let fake = FakeGoogle::start().await;
    fake.add_shared_calendar("holidays@group.v.calendar.google.com", "Holidays", "reader", false);
    fake.insert_event(
        "holidays@group.v.calendar.google.com",
        timed("Holiday", "2030-01-01T09:00:00Z", "2030-01-01T10:00:00Z"),
    )
    .unwrap();
    let access = calendar_token(&fake);
    let path = "/calendars/holidays%40group.v.calendar.google.com/events";
    let (status, body) = api(
        &fake,
        "POST",
        path,
        &access,
        Some(timed("Mine", "2030-01-02T09:00:00Z", "2030-01-02T10:00:00Z")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_google_error(&body, 403, "requiredAccessLevel");
    let (status, list) = get(&fake, path, &access).await;
    assert_eq!(status, StatusCode::OK);
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, body) = api(&fake, "DELETE", &format!("{path}/{id}"), &access, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    fake.stop().await;
}

#[tokio::test]
async fn events_get_googles_server_fields_and_a_client_id_is_validated() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let (status, event) = api(
        &fake,
        "POST",
        "/calendars/primary/events",
        &access,
        Some(json!({
            "id": "plan0task0001",
            "summary": "Study",
            "start": { "dateTime": "2025-03-03T10:00:00+01:00", "timeZone": "Europe/Berlin" },
            "end": { "dateTime": "2025-03-03T09:30:00Z", "timeZone": "Europe/Berlin" },
            "extendedProperties": { "private": { "planwrightTask": "42" } }
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["kind"], "calendar#event");
    assert_eq!(event["id"], "plan0task0001");
    assert_eq!(event["status"], "confirmed");
    assert_eq!(event["sequence"], 0);
    assert_eq!(event["iCalUID"], "plan0task0001@google.com");
    assert_eq!(event["end"]["dateTime"], "2025-03-03T10:30:00+01:00", "normalized to the event's zone");
    assert!(event["etag"].as_str().unwrap().starts_with('"'));
    assert!(event["htmlLink"].as_str().unwrap().starts_with("https://www.google.com/calendar/event?eid="));
    assert_eq!(event["organizer"]["email"], "user@example.com");
    for field in ["created", "updated"] {
        assert!(event[field].as_str().unwrap().ends_with('Z'), "{event}");
    }

    for bad in ["UPPER0case", "abc", "has_underscore", "wxyz0"] {
        let (status, body) = api(
            &fake,
            "POST",
            "/calendars/primary/events",
            &access,
            Some(json!({ "id": bad, "start": event["start"], "end": event["end"] })),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_google_error(&body, 400, "invalid");
    }
    let (status, body) = api(
        &fake,
        "POST",
        "/calendars/primary/events",
        &access,
        Some(json!({ "id": "plan0task0001", "start": event["start"], "end": event["end"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_google_error(&body, 409, "duplicate");

    // A deleted event keeps its id: inserting it again is still a conflict.
    assert_eq!(
        api(&fake, "DELETE", "/calendars/primary/events/plan0task0001", &access, None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, _) = api(
        &fake,
        "POST",
        "/calendars/primary/events",
        &access,
        Some(json!({ "id": "plan0task0001", "start": event["start"], "end": event["end"] })),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    fake.stop().await;
}

#[tokio::test]
async fn bad_event_times_are_refused_like_google_does() {
    let fake = FakeGoogle::start().await;
    let cases = [
        (json!({ "start": { "dateTime": "2025-03-03T10:00:00Z" } }), "required"),
        (timed("x", "2025-03-03T10:00:00Z", "2025-03-03T09:00:00Z"), "timeRangeEmpty"),
        (
            json!({ "start": { "date": "2025-03-03" }, "end": { "dateTime": "2025-03-03T10:00:00Z" } }),
            "badRequest",
        ),
        (
            json!({ "start": { "dateTime": "2025-03-03T10:00:00" }, "end": { "dateTime": "2025-03-03T11:00:00" } }),
            "required",
        ),
        (
            json!({ "recurrence": ["RRULE:FREQ=DAILY"], "start": { "dateTime": "2025-03-03T10:00:00Z" }, "end": { "dateTime": "2025-03-03T11:00:00Z" } }),
            "required",
        ),
        (
            json!({ "recurrence": ["RRULE:FREQ=HOURLY"], "start": { "date": "2025-03-03" }, "end": { "date": "2025-03-04" } }),
            "invalid",
        ),
    ];
    for (body, reason) in cases {
        let error = fake.insert_event("primary", body.clone()).unwrap_err();
        assert_eq!(error.reason, reason, "{body}");
        assert_eq!(error.code, 400);
    }
    // A local time with a named zone is fine.
    let event = fake
        .insert_event(
            "primary",
            json!({ "start": { "dateTime": "2025-07-01T09:00:00", "timeZone": "Europe/Berlin" },
                    "end": { "dateTime": "2025-07-01T10:00:00", "timeZone": "Europe/Berlin" } }),
        )
        .unwrap();
    assert_eq!(event["start"]["dateTime"], "2025-07-01T09:00:00+02:00");
    fake.stop().await;
}

#[tokio::test]
async fn delete_cancels_and_a_second_delete_is_410_deleted() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let event =
        fake.insert_event("primary", timed("Gym", "2025-03-03T18:00:00Z", "2025-03-03T19:00:00Z")).unwrap();
    let path = format!("/calendars/primary/events/{}", event["id"].as_str().unwrap());
    assert_eq!(api(&fake, "DELETE", &path, &access, None).await.0, StatusCode::NO_CONTENT);
    let (status, got) = get(&fake, &path, &access).await;
    assert_eq!((status, got["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    let (status, body) = api(&fake, "DELETE", &path, &access, None).await;
    assert_eq!(status, StatusCode::GONE);
    assert_google_error(&body, 410, "deleted");
    assert_eq!(fake.events("primary").len(), 1);
    assert_eq!(fake.events("primary")[0]["status"], "cancelled");
    let (status, body) = get(&fake, "/calendars/primary/events/nosuchevent0", &access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_google_error(&body, 404, "notFound");
    fake.stop().await;
}

#[tokio::test]
async fn patch_merges_put_replaces_and_if_match_guards_both() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let mut body = timed("Read", "2025-03-03T08:00:00Z", "2025-03-03T09:00:00Z");
    body["description"] = json!("chapter 1");
    body["extendedProperties"] = json!({ "private": { "a": "1", "b": "2" } });
    let event = fake.insert_event("primary", body).unwrap();
    let path = format!("/calendars/primary/events/{}", event["id"].as_str().unwrap());

    let (status, patched) = api(
        &fake,
        "PATCH",
        &path,
        &access,
        Some(json!({ "summary": "Read more", "extendedProperties": { "private": { "b": "3" } } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["summary"], "Read more");
    assert_eq!(patched["description"], "chapter 1");
    assert_eq!(patched["extendedProperties"]["private"], json!({ "a": "1", "b": "3" }));
    assert_eq!(patched["created"], event["created"]);
    assert_ne!(patched["etag"], event["etag"]);
    assert_eq!(patched["sequence"], 0);

    let (status, body) = api(&fake, "PATCH", &path, &access, Some(json!({ "summary": "stale" }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stale = http()
        .patch(format!("{}{path}", fake.oauth_urls().calendar_base_url))
        .bearer_auth(&access)
        .header("if-match", event["etag"].as_str().unwrap())
        .json(&json!({ "summary": "lost update" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);

    let (status, replaced) = api(
        &fake,
        "PUT",
        &path,
        &access,
        Some(timed("Replaced", "2025-03-04T08:00:00Z", "2025-03-04T09:00:00Z")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced["summary"], "Replaced");
    assert!(replaced.get("description").is_none(), "PUT replaces: {replaced}");
    assert_eq!(replaced["sequence"], 1, "a time change bumps the sequence");
    assert_eq!(replaced["iCalUID"], event["iCalUID"]);
    fake.stop().await;
}

// ---- Listing and sync -------------------------------------------------------------------------------

#[tokio::test]
async fn a_full_sync_pages_through_and_ends_with_a_sync_token() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    for day in 1..=5 {
        fake.insert_event(
            "primary",
            timed(
                &format!("e{day}"),
                &format!("2025-03-0{day}T09:00:00Z"),
                &format!("2025-03-0{day}T10:00:00Z"),
            ),
        )
        .unwrap();
    }
    let (status, first) = get(&fake, "/calendars/primary/events?maxResults=2", &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["kind"], "calendar#events");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert!(first.get("nextSyncToken").is_none());
    let page_token = first["nextPageToken"].as_str().unwrap().to_owned();
    let (_, second) =
        get(&fake, &format!("/calendars/primary/events?maxResults=2&pageToken={page_token}"), &access).await;
    // A page asked for twice (a retry) answers the same.
    let (_, again) =
        get(&fake, &format!("/calendars/primary/events?maxResults=2&pageToken={page_token}"), &access).await;
    assert_eq!(ids(&second), ids(&again));
    let (_, third) = get(
        &fake,
        &format!(
            "/calendars/primary/events?maxResults=2&pageToken={}",
            second["nextPageToken"].as_str().unwrap()
        ),
        &access,
    )
    .await;
    assert_eq!(third["items"].as_array().unwrap().len(), 1);
    assert!(third.get("nextPageToken").is_none());
    assert!(third["nextSyncToken"].is_string());
    let all: Vec<String> = [ids(&first), ids(&second), ids(&third)].concat();
    assert_eq!(all.len(), 5);
    let summaries: Vec<String> =
        fake.events("primary").iter().map(|event| event["summary"].as_str().unwrap().to_owned()).collect();
    assert_eq!(summaries, ["e1", "e2", "e3", "e4", "e5"]);
    fake.stop().await;
}

#[tokio::test]
async fn an_incremental_sync_returns_inserts_edits_and_deletes_since_the_token() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let kept =
        fake.insert_event("primary", timed("kept", "2025-03-01T09:00:00Z", "2025-03-01T10:00:00Z")).unwrap();
    let edited = fake
        .insert_event("primary", timed("edited", "2025-03-02T09:00:00Z", "2025-03-02T10:00:00Z"))
        .unwrap();
    let removed = fake
        .insert_event("primary", timed("removed", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z"))
        .unwrap();
    let (_, full) = get(&fake, "/calendars/primary/events", &access).await;
    assert_eq!(full["items"].as_array().unwrap().len(), 3);
    let token = full["nextSyncToken"].as_str().unwrap().to_owned();

    // Nothing changed: no items, and the same token back.
    let (_, unchanged) = get(&fake, &format!("/calendars/primary/events?syncToken={token}"), &access).await;
    assert_eq!(unchanged["items"], json!([]));
    assert_eq!(unchanged["nextSyncToken"], token);

    let (_, added) = api(
        &fake,
        "POST",
        "/calendars/primary/events",
        &access,
        Some(timed("added", "2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z")),
    )
    .await;
    fake.update_event("primary", edited["id"].as_str().unwrap(), json!({ "summary": "edited elsewhere" }))
        .unwrap();
    let path = format!("/calendars/primary/events/{}", removed["id"].as_str().unwrap());
    assert_eq!(api(&fake, "DELETE", &path, &access, None).await.0, StatusCode::NO_CONTENT);

    let (status, changes) =
        get(&fake, &format!("/calendars/primary/events?syncToken={token}"), &access).await;
    assert_eq!(status, StatusCode::OK, "{changes}");
    let items = changes["items"].as_array().unwrap();
    assert_eq!(
        ids(&changes),
        [&added["id"], &edited["id"], &removed["id"]].map(|id| id.as_str().unwrap().to_owned())
    );
    assert_eq!(items[1]["summary"], "edited elsewhere");
    assert_eq!(items[2]["status"], "cancelled");
    assert!(!ids(&changes).contains(&kept["id"].as_str().unwrap().to_owned()));
    let next = changes["nextSyncToken"].as_str().unwrap();
    assert_ne!(next, token);
    let (_, quiet) = get(&fake, &format!("/calendars/primary/events?syncToken={next}"), &access).await;
    assert_eq!(quiet["items"], json!([]));

    // A full listing hides the deleted event unless showDeleted is set.
    let (_, listing) = get(&fake, "/calendars/primary/events", &access).await;
    assert_eq!(listing["items"].as_array().unwrap().len(), 3);
    let (_, listing) = get(&fake, "/calendars/primary/events?showDeleted=true", &access).await;
    assert_eq!(listing["items"].as_array().unwrap().len(), 4);
    fake.stop().await;
}

#[tokio::test]
async fn invalidated_or_foreign_sync_tokens_answer_410_full_sync_required() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let (_, full) = get(&fake, "/calendars/primary/events", &access).await;
    let token = full["nextSyncToken"].as_str().unwrap().to_owned();
    fake.invalidate_sync_tokens();
    let (status, body) = get(&fake, &format!("/calendars/primary/events?syncToken={token}"), &access).await;
    assert_eq!(status, StatusCode::GONE);
    assert_google_error(&body, 410, "fullSyncRequired");
    assert_eq!(body["error"]["errors"][0]["domain"], "calendar");
    assert_eq!(body["error"]["message"], "Sync token is no longer valid, a full sync is required.");
    let (status, _) = get(&fake, "/calendars/primary/events?syncToken=garbage", &access).await;
    assert_eq!(status, StatusCode::GONE);
    // A new full sync gives a token that works.
    let (_, full) = get(&fake, "/calendars/primary/events", &access).await;
    let token = full["nextSyncToken"].as_str().unwrap();
    assert_eq!(
        get(&fake, &format!("/calendars/primary/events?syncToken={token}"), &access).await.0,
        StatusCode::OK
    );
    fake.stop().await;
}

#[tokio::test]
async fn params_google_forbids_with_a_sync_token_are_400() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let (_, full) = get(&fake, "/calendars/primary/events", &access).await;
    let token = full["nextSyncToken"].as_str().unwrap();
    for extra in [
        "timeMin=2025-01-01T00:00:00Z",
        "timeMax=2025-01-01T00:00:00Z",
        "q=x",
        "orderBy=updated",
        "privateExtendedProperty=a%3Db",
        "updatedMin=2025-01-01T00:00:00Z",
        "iCalUID=x",
        "showDeleted=false",
    ] {
        let (status, body) =
            get(&fake, &format!("/calendars/primary/events?syncToken={token}&{extra}"), &access).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{extra}");
        assert_eq!(body["error"]["code"], 400);
    }
    // singleEvents and maxResults are allowed.
    let (status, _) = get(
        &fake,
        &format!("/calendars/primary/events?syncToken={token}&singleEvents=true&maxResults=5"),
        &access,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    fake.stop().await;
}

#[tokio::test]
async fn list_filters_by_time_text_and_private_properties() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let mut tagged = timed("Algorithms exam prep", "2025-03-10T09:00:00Z", "2025-03-10T10:00:00Z");
    tagged["extendedProperties"] = json!({ "private": { "planwrightPlan": "p1" } });
    let tagged = fake.insert_event("primary", tagged).unwrap();
    fake.insert_event("primary", timed("Lunch", "2025-03-10T12:00:00Z", "2025-03-10T13:00:00Z")).unwrap();
    fake.insert_event(
        "primary",
        json!({ "summary": "Holiday", "start": { "date": "2025-03-12" }, "end": { "date": "2025-03-13" } }),
    )
    .unwrap();

    let (_, window) = get(
        &fake,
        "/calendars/primary/events?timeMin=2025-03-10T09:30:00Z&timeMax=2025-03-10T12:30:00Z",
        &access,
    )
    .await;
    assert_eq!(window["items"].as_array().unwrap().len(), 2);
    let (_, found) = get(&fake, "/calendars/primary/events?q=EXAM", &access).await;
    assert_eq!(ids(&found), [tagged["id"].as_str().unwrap()]);
    let (_, found) =
        get(&fake, "/calendars/primary/events?privateExtendedProperty=planwrightPlan%3Dp1", &access).await;
    assert_eq!(ids(&found), [tagged["id"].as_str().unwrap()]);
    let (_, all_day) = get(
        &fake,
        "/calendars/primary/events?timeMin=2025-03-12T10:00:00Z&timeMax=2025-03-12T11:00:00Z",
        &access,
    )
    .await;
    assert_eq!(all_day["items"][0]["start"]["date"], "2025-03-12");

    let (status, body) = get(&fake, "/calendars/primary/events?orderBy=startTime", &access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "badRequest");
    let (status, body) = get(&fake, "/calendars/primary/events?maxResults=5000", &access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["errors"][0]["location"], "maxResults");
    let (status, body) = get(
        &fake,
        "/calendars/primary/events?timeMin=2025-03-10T00:00:00Z&timeMax=2025-03-09T00:00:00Z",
        &access,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "timeRangeEmpty");
    fake.stop().await;
}

// ---- Recurrence ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_recurring_event_expands_into_instances_with_single_events() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let series = fake
        .insert_event(
            "primary",
            json!({
                "id": "standup0001",
                "summary": "Standup",
                "start": { "dateTime": "2025-03-03T09:00:00+01:00", "timeZone": "Europe/Berlin" },
                "end": { "dateTime": "2025-03-03T09:15:00+01:00", "timeZone": "Europe/Berlin" },
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"]
            }),
        )
        .unwrap();
    let (_, masters) = get(&fake, "/calendars/primary/events", &access).await;
    assert_eq!(ids(&masters), ["standup0001"]);
    assert_eq!(masters["items"][0]["recurrence"], series["recurrence"]);

    let (_, instances) =
        get(&fake, "/calendars/primary/events?singleEvents=true&orderBy=startTime", &access).await;
    assert_eq!(
        ids(&instances),
        ["standup0001_20250303T080000Z", "standup0001_20250304T080000Z", "standup0001_20250305T080000Z"]
    );
    let second = &instances["items"][1];
    assert_eq!(second["recurringEventId"], "standup0001");
    assert_eq!(second["originalStartTime"]["dateTime"], "2025-03-04T09:00:00+01:00");
    assert_eq!(
        second["start"],
        json!({ "dateTime": "2025-03-04T09:00:00+01:00", "timeZone": "Europe/Berlin" })
    );
    assert_eq!(second["end"]["dateTime"], "2025-03-04T09:15:00+01:00");
    assert!(second.get("recurrence").is_none());

    // An instance can be fetched, moved (an exception) and deleted (a cancelled exception).
    let (status, got) = get(&fake, "/calendars/primary/events/standup0001_20250304T080000Z", &access).await;
    assert_eq!((status, got["recurringEventId"].as_str()), (StatusCode::OK, Some("standup0001")));
    let (status, moved) = api(
        &fake,
        "PATCH",
        "/calendars/primary/events/standup0001_20250304T080000Z",
        &access,
        Some(json!({ "start": { "dateTime": "2025-03-04T11:00:00+01:00", "timeZone": "Europe/Berlin" },
                     "end": { "dateTime": "2025-03-04T11:15:00+01:00", "timeZone": "Europe/Berlin" } })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["originalStartTime"]["dateTime"], "2025-03-04T09:00:00+01:00");
    let (status, _) =
        api(&fake, "DELETE", "/calendars/primary/events/standup0001_20250305T080000Z", &access, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, instances) =
        get(&fake, "/calendars/primary/events?singleEvents=true&orderBy=startTime", &access).await;
    assert_eq!(ids(&instances), ["standup0001_20250303T080000Z", "standup0001_20250304T080000Z"]);
    assert_eq!(instances["items"][1]["start"]["dateTime"], "2025-03-04T11:00:00+01:00");
    // A plain listing shows the series plus its exceptions (the cancelled one as a tombstone).
    let (_, plain) = get(&fake, "/calendars/primary/events", &access).await;
    assert_eq!(plain["items"].as_array().unwrap().len(), 3);
    fake.stop().await;
}

#[tokio::test]
async fn weekly_rules_with_byday_and_until_stay_at_local_time_across_dst() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    fake.insert_event(
        "primary",
        json!({
            "id": "lecture01",
            "summary": "Lecture",
            "start": { "dateTime": "2025-03-24T09:00:00+01:00", "timeZone": "Europe/Berlin" },
            "end": { "dateTime": "2025-03-24T10:30:00+01:00", "timeZone": "Europe/Berlin" },
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=20250403T235959Z", "EXDATE;TZID=Europe/Berlin:20250327T090000"]
        }),
    )
    .unwrap();
    let (_, list) = get(
        &fake,
        "/calendars/primary/events?singleEvents=true&orderBy=startTime&timeMin=2025-03-01T00:00:00Z",
        &access,
    )
    .await;
    let starts: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["start"]["dateTime"].as_str().unwrap())
        .collect();
    // Monday before DST, Thursday excluded, Monday and Thursday after DST (still 09:00 local).
    assert_eq!(
        starts,
        ["2025-03-24T09:00:00+01:00", "2025-03-31T09:00:00+02:00", "2025-04-03T09:00:00+02:00"]
    );
    assert_eq!(ids(&list)[1], "lecture01_20250331T070000Z");
    fake.stop().await;
}

#[test]
fn monthly_and_all_day_rules_expand_as_rfc_5545_says() {
    let utc = |local: NaiveDateTime| Utc.from_utc_datetime(&local);
    let horizon = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
    let start = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap();
    let dates = |rule: &str, from: NaiveDateTime| -> Vec<String> {
        Recurrence::parse(&[rule.to_owned()])
            .unwrap()
            .unwrap()
            .occurrences(from, true, horizon, &utc)
            .iter()
            .map(|at| at.format("%Y-%m-%d").to_string())
            .collect()
    };
    assert_eq!(
        dates("RRULE:FREQ=MONTHLY;BYDAY=2TU;COUNT=3", start(2025, 1, 1)),
        ["2025-01-14", "2025-02-11", "2025-03-11"]
    );
    assert_eq!(
        dates("RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=2", start(2025, 1, 1)),
        ["2025-01-31", "2025-02-28"]
    );
    assert_eq!(
        dates("RRULE:FREQ=MONTHLY;COUNT=3", start(2025, 1, 31)),
        ["2025-01-31", "2025-03-31", "2025-05-31"]
    );
    assert_eq!(
        dates("RRULE:FREQ=DAILY;INTERVAL=2;UNTIL=20250107", start(2025, 1, 1)),
        ["2025-01-01", "2025-01-03", "2025-01-05", "2025-01-07"]
    );
    assert_eq!(dates("RRULE:FREQ=YEARLY;COUNT=2", start(2024, 2, 29)), ["2024-02-29", "2028-02-29"]);
    assert_eq!(
        dates("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=SA,SU;COUNT=4", start(2025, 1, 4)),
        ["2025-01-04", "2025-01-05", "2025-01-18", "2025-01-19"]
    );
    assert!(Recurrence::parse(&["RRULE:FREQ=DAILY;COUNT=2;UNTIL=20250101".to_owned()]).is_err());
    assert!(Recurrence::parse(&["RRULE:FREQ=DAILY;BYSETPOS=1".to_owned()]).is_err());
}

// ---- Free/busy --------------------------------------------------------------------------------------

#[tokio::test]
async fn free_busy_ignores_cancelled_and_transparent_events_and_merges_overlaps() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    fake.insert_event("primary", timed("a", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z")).unwrap();
    fake.insert_event("primary", timed("b", "2025-03-03T09:30:00Z", "2025-03-03T11:00:00Z")).unwrap();
    let cancelled =
        fake.insert_event("primary", timed("c", "2025-03-03T13:00:00Z", "2025-03-03T14:00:00Z")).unwrap();
    fake.delete_event("primary", cancelled["id"].as_str().unwrap()).unwrap();
    let mut free = timed("free", "2025-03-03T15:00:00Z", "2025-03-03T16:00:00Z");
    free["transparency"] = json!("transparent");
    fake.insert_event("primary", free).unwrap();
    fake.insert_event(
        "primary",
        json!({ "start": { "dateTime": "2025-03-02T07:00:00Z", "timeZone": "UTC" }, "end": { "dateTime": "2025-03-02T07:30:00Z", "timeZone": "UTC" },
                "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"] }),
    )
    .unwrap();
    let (status, body) = api(
        &fake,
        "POST",
        "/freeBusy",
        &access,
        Some(json!({ "timeMin": "2025-03-03T00:00:00Z", "timeMax": "2025-03-04T00:00:00Z", "items": [{ "id": "primary" }, { "id": "nobody@example.com" }] })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["kind"], "calendar#freeBusy");
    assert_eq!(body["timeMin"], "2025-03-03T00:00:00.000Z");
    assert_eq!(
        body["calendars"]["primary"]["busy"],
        json!([
            { "start": "2025-03-03T07:00:00Z", "end": "2025-03-03T07:30:00Z" },
            { "start": "2025-03-03T09:00:00Z", "end": "2025-03-03T11:00:00Z" }
        ])
    );
    assert_eq!(body["calendars"]["nobody@example.com"]["errors"][0]["reason"], "notFound");

    // In a time zone, the same busy time is written with its offset.
    let (_, zoned) = api(&fake, "POST", "/freeBusy", &access, Some(json!({ "timeMin": "2025-03-03T00:00:00Z", "timeMax": "2025-03-04T00:00:00Z", "timeZone": "Europe/Berlin", "items": [{ "id": "primary" }] }))).await;
    assert_eq!(zoned["calendars"]["primary"]["busy"][1]["start"], "2025-03-03T10:00:00+01:00");
    fake.stop().await;
}

#[tokio::test]
async fn free_busy_enforces_googles_limits() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let (status, body) = api(&fake, "POST", "/freeBusy", &access, Some(json!({ "timeMin": "2025-01-01T00:00:00Z", "timeMax": "2025-06-01T00:00:00Z", "items": [{ "id": "primary" }] }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "timeRangeTooLong");
    let (status, body) = api(
        &fake,
        "POST",
        "/freeBusy",
        &access,
        Some(json!({ "timeMin": "2025-01-02T00:00:00Z", "timeMax": "2025-01-01T00:00:00Z", "items": [] })),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "timeRangeEmpty");
    let items: Vec<Value> = (0..51).map(|n| json!({ "id": format!("c{n}@example.com") })).collect();
    let (status, body) = api(
        &fake,
        "POST",
        "/freeBusy",
        &access,
        Some(json!({ "timeMin": "2025-01-01T00:00:00Z", "timeMax": "2025-01-02T00:00:00Z", "items": items })),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["calendars"]["c50@example.com"]["errors"][0]["reason"], "tooManyCalendarsRequested");
    let (status, _) = api(&fake, "POST", "/freeBusy", &access, Some(json!({ "timeMin": "2025-01-01T00:00:00Z", "timeMax": "2025-01-02T00:00:00Z", "calendarExpansionMax": 51, "items": [] }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    fake.stop().await;
}

// ---- Push -----------------------------------------------------------------------------------------------

#[tokio::test]
async fn watch_sends_sync_then_exists_for_each_change_until_stopped() {
    let fake = FakeGoogle::start().await;
    let listener = Listener::start().await;
    let access = calendar_token(&fake);
    let (status, channel) = api(
        &fake,
        "POST",
        "/calendars/primary/events/watch",
        &access,
        Some(json!({ "id": "chan-1", "type": "web_hook", "address": listener.url, "token": "secret-token" })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{channel}");
    assert_eq!(channel["kind"], "api#channel");
    assert_eq!(channel["id"], "chan-1");
    assert!(channel["resourceId"].is_string());
    assert!(channel["resourceUri"].as_str().unwrap().contains("/calendar/v3/calendars/primary/events"));
    let expiration: i64 = channel["expiration"].as_str().unwrap().parse().unwrap();
    assert!(expiration > Utc::now().timestamp_millis());

    let sync = eventually("the sync message", || listener.received().first().cloned()).await;
    assert_eq!(sync["x-goog-resource-state"], "sync");
    assert_eq!(sync["x-goog-message-number"], "1");
    assert_eq!(sync["x-goog-channel-id"], "chan-1");
    assert_eq!(sync["x-goog-channel-token"], "secret-token");
    assert_eq!(sync["x-goog-resource-id"], channel["resourceId"].as_str().unwrap());
    assert_eq!(sync["x-goog-resource-uri"], channel["resourceUri"].as_str().unwrap());
    assert!(sync["x-goog-channel-expiration"].ends_with(" GMT"));

    // An API change and a seeded change each notify.
    api(
        &fake,
        "POST",
        "/calendars/primary/events",
        &access,
        Some(timed("x", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z")),
    )
    .await;
    fake.insert_event("primary", timed("y", "2025-03-04T09:00:00Z", "2025-03-04T10:00:00Z")).unwrap();
    let received =
        eventually("two change messages", || Some(listener.received()).filter(|all| all.len() >= 3)).await;
    assert_eq!(received[1]["x-goog-resource-state"], "exists");
    assert_eq!(received[1]["x-goog-message-number"], "2");
    assert_eq!(received[2]["x-goog-message-number"], "3");
    eventually("delivery statuses", || {
        Some(fake.notifications()).filter(|all| all.len() == 3 && all.iter().all(|n| n.status == Some(200)))
    })
    .await;

    let (status, _) = api(
        &fake,
        "POST",
        "/channels/stop",
        &access,
        Some(json!({ "id": "chan-1", "resourceId": channel["resourceId"] })),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(fake.channels()[0].stopped);
    fake.insert_event("primary", timed("z", "2025-03-05T09:00:00Z", "2025-03-05T10:00:00Z")).unwrap();
    let (status, body) = api(
        &fake,
        "POST",
        "/channels/stop",
        &access,
        Some(json!({ "id": "chan-1", "resourceId": channel["resourceId"] })),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_google_error(&body, 404, "notFound");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(listener.received().len(), 3, "no message after channels.stop");
    listener.handle.stop(false).await;
    fake.stop().await;
}

#[tokio::test]
async fn pushing_can_be_switched_off_and_duplicate_channel_ids_are_refused() {
    let fake = FakeGoogle::start().await;
    let listener = Listener::start().await;
    let access = calendar_token(&fake);
    fake.set_push_enabled(false);
    let watch = json!({ "id": "chan-2", "type": "web_hook", "address": listener.url });
    assert_eq!(
        api(&fake, "POST", "/calendars/primary/events/watch", &access, Some(watch.clone())).await.0,
        StatusCode::OK
    );
    let (status, _) = api(&fake, "POST", "/calendars/primary/events/watch", &access, Some(watch)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    fake.insert_event("primary", timed("quiet", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z")).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(listener.received().is_empty());
    assert!(fake.notifications().is_empty());
    listener.handle.stop(false).await;
    fake.stop().await;
}

// ---- Faults, latency, request log, admin ---------------------------------------------------------------

#[tokio::test]
async fn a_rate_limit_fault_answers_429_once_then_the_call_succeeds() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    fake.push(Fault::RateLimited { retry_after: Some(Duration::from_millis(1500)) });
    let response = http()
        .get(format!("{}/calendars/primary/events", fake.oauth_urls().calendar_base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2");
    let body: Value = response.json().await.unwrap();
    assert_google_error(&body, 429, "rateLimitExceeded");
    assert_eq!(body["error"]["errors"][0]["domain"], "usageLimits");
    assert_eq!(get(&fake, "/calendars/primary/events", &access).await.0, StatusCode::OK);
    let log = fake.requests();
    assert_eq!(log.iter().map(|request| request.status).collect::<Vec<_>>(), [Some(429), Some(200)]);
    assert!(log[0].fault.is_some());
    fake.stop().await;
}

#[tokio::test]
async fn scoped_faults_hit_only_matching_calls_and_html_500s_are_not_json() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    fake.push_rule(FaultRule::new(Fault::BackendError).times(2).method("POST").path("/events"));
    fake.push_many([Fault::UserRateLimitExceeded, Fault::ServerError]);
    // A GET skips the POST rule and takes the 403.
    let (status, body) = get(&fake, "/calendars/primary/events", &access).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_google_error(&body, 403, "userRateLimitExceeded");
    for _ in 0..2 {
        let (status, body) = api(
            &fake,
            "POST",
            "/calendars/primary/events",
            &access,
            Some(timed("x", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z")),
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_google_error(&body, 503, "backendError");
    }
    let response = http()
        .get(format!("{}/users/me/calendarList", fake.oauth_urls().calendar_base_url))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(fake.pending_faults().is_empty());
    // OAuth calls are untouched by default-scoped rules.
    fake.push(Fault::BackendError);
    assert_eq!(refresh(&fake, &fake.issue_tokens(&["calendar"]).refresh_token).await.0, StatusCode::OK);
    assert_eq!(fake.pending_faults().len(), 1);
    fake.stop().await;
}

#[tokio::test]
async fn latency_delays_answers() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    fake.set_latency(Duration::from_millis(120));
    let started = Instant::now();
    assert_eq!(get(&fake, "/calendars/primary", &access).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(120));
    fake.reset();
    fake.push(Fault::Latency(Duration::from_millis(80)));
    let started = Instant::now();
    assert_eq!(get(&fake, "/calendars/primary", &access).await.0, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(80));
    fake.stop().await;
}

#[tokio::test]
async fn the_admin_endpoints_drive_the_same_controls() {
    let fake = FakeGoogle::start().await;
    let base = fake.base_url();
    let client = http();
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).json(&body).send();

    let pending: Value = post("/_fake/faults", json!(["backend_error", { "fault": "rate_limited", "retry_after_secs": 1, "times": 2, "path": "/events" }]))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["pending"].as_array().unwrap().len(), 2, "{pending}");
    assert_eq!(fake.pending_faults()[1].times, 2);
    assert_eq!(
        client.delete(format!("{base}/_fake/faults")).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    assert!(post("/_fake/consent", json!({ "withhold": ["calendar"] })).await.unwrap().status().is_success());
    assert_eq!(fake.consent(), Consent::Withhold(vec!["calendar".to_owned()]));
    let settings: Value =
        post("/_fake/settings", json!({ "account_email": "bo@example.com", "rotate_refresh_tokens": true }))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(settings["account_email"], "bo@example.com");
    assert_eq!(fake.account_email(), "bo@example.com");

    let tokens: Value =
        post("/_fake/tokens", json!({ "scopes": ["calendar"] })).await.unwrap().json().await.unwrap();
    assert_eq!(tokens["scope"], SCOPE_CALENDAR);
    let seeded: Value = post(
        "/_fake/calendars/primary/events",
        timed("seeded", "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z"),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(fake.events("bo@example.com")[0]["id"], seeded["id"]);
    let (_, list) = get(&fake, "/calendars/primary/events", tokens["access_token"].as_str().unwrap()).await;
    let token = list["nextSyncToken"].as_str().unwrap().to_owned();
    assert!(post("/_fake/invalidate-sync-tokens", json!({})).await.unwrap().status().is_success());
    let (status, _) = get(
        &fake,
        &format!("/calendars/primary/events?syncToken={token}"),
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    assert!(post("/_fake/expire-access-tokens", json!({})).await.unwrap().status().is_success());
    assert_eq!(
        get(&fake, "/calendars/primary", tokens["access_token"].as_str().unwrap()).await.0,
        StatusCode::UNAUTHORIZED
    );

    let requests: Value =
        client.get(format!("{base}/_fake/requests")).send().await.unwrap().json().await.unwrap();
    assert_eq!(requests.as_array().unwrap().len(), 3, "admin calls are not recorded");
    let usage = client.get(format!("{base}/")).send().await.unwrap().text().await.unwrap();
    assert!(usage.contains("/_fake/faults"));
    fake.stop().await;
}

#[tokio::test]
async fn unknown_paths_answer_404() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let (status, body) = get(&fake, "/nope", &access).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_google_error(&body, 404, "notFound");
    let response = http().get(format!("{}/elsewhere", fake.base_url())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    fake.stop().await;
}

#[test]
fn fault_rules_round_trip_through_their_admin_json() {
    let rule: FaultRule = serde_json::from_value(
        json!({ "fault": "backend_error", "times": 2, "method": "post", "path": "/events" }),
    )
    .unwrap();
    assert_eq!(rule, FaultRule::new(Fault::BackendError).times(2).method("POST").path("/events"));
    let back: FaultRule = serde_json::from_value(serde_json::to_value(&rule).unwrap()).unwrap();
    assert_eq!(back, rule);
    let rule: FaultRule = serde_json::from_value(json!("server_error")).unwrap();
    assert_eq!(rule, FaultRule::new(Fault::ServerError));
    let rule: FaultRule = serde_json::from_value(json!("malformed")).unwrap();
    assert_eq!(rule, FaultRule::new(Fault::Malformed));
    let custom: FaultRule =
        serde_json::from_value(json!({ "fault": "error", "code": 404, "reason": "notFound" })).unwrap();
    assert_eq!(
        custom.fault,
        Fault::Error { code: 404, reason: "notFound".into(), message: "notFound".into() }
    );
    assert!(serde_json::from_value::<FaultRule>(json!("nonsense")).is_err());
}

#[tokio::test]
async fn event_types_are_stored_checked_and_refused_as_google_does() {
    let fake = FakeGoogle::start().await;
    let access = calendar_token(&fake);
    let events = "/calendars/primary/events";
    let typed = |kind: &str, extra: Value| {
        let mut event = timed(kind, "2025-03-03T09:00:00Z", "2025-03-03T10:00:00Z");
        event["eventType"] = json!(kind);
        if let (Value::Object(event), Value::Object(extra)) = (&mut event, extra) {
            event.extend(extra);
        }
        event
    };
    // Stored and returned with its properties; an event without a type is `default`.
    let focus = typed("focusTime", json!({"focusTimeProperties": {"autoDeclineMode": "declineNone"}}));
    let (status, created) = api(&fake, "POST", events, &access, Some(focus)).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["eventType"], "focusTime");
    assert_eq!(created["focusTimeProperties"]["autoDeclineMode"], "declineNone");
    let (_, plain) = api(
        &fake,
        "POST",
        events,
        &access,
        Some(timed("plain", "2025-03-03T11:00:00Z", "2025-03-03T12:00:00Z")),
    )
    .await;
    assert_eq!(plain["eventType"], "default");

    // The type never changes; a patch without it keeps it.
    let path = format!("{events}/{}", created["id"].as_str().unwrap());
    let (status, body) = api(&fake, "PATCH", &path, &access, Some(json!({"eventType": "default"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "eventTypeRestriction");
    let (status, body) = api(&fake, "PATCH", &path, &access, Some(json!({"summary": "Deep work"}))).await;
    assert_eq!((status, body["eventType"].as_str()), (StatusCode::OK, Some("focusTime")));

    // Invalid combinations.
    let refused = [
        typed("default", json!({"focusTimeProperties": {}})),
        typed("focusTime", json!({"outOfOfficeProperties": {}})),
        typed("workingLocation", json!({})),
        typed("someNewType", json!({})),
        json!({"eventType": "focusTime", "start": {"date": "2025-03-03"}, "end": {"date": "2025-03-04"}}),
    ];
    for event in refused {
        let (status, body) = api(&fake, "POST", events, &access, Some(event.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{event} -> {body}");
        assert_google_error(&body, 400, body["error"]["errors"][0]["reason"].as_str().unwrap());
    }
    let (_, body) = api(&fake, "POST", events, &access, Some(typed("fromGmail", json!({})))).await;
    assert_google_error(&body, 400, "eventTypeRestriction");

    // Focus time only on the primary calendar, and only while the account has it.
    fake.add_calendar("team@group.calendar.google.com", "Team");
    let (_, body) = api(
        &fake,
        "POST",
        "/calendars/team@group.calendar.google.com/events",
        &access,
        Some(typed("focusTime", json!({}))),
    )
    .await;
    assert_google_error(&body, 400, "eventTypeRestriction");
    fake.set_focus_time_available(false);
    let (status, body) = api(&fake, "POST", events, &access, Some(typed("focusTime", json!({})))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_google_error(&body, 400, "eventTypeRestriction");

    // Working location and birthdays are free time; out of office is busy.
    let mut home = typed(
        "workingLocation",
        json!({"workingLocationProperties": {"type": "homeOffice", "homeOffice": {}}}),
    );
    home["start"] = json!({"dateTime": "2025-03-03T19:00:00Z"});
    home["end"] = json!({"dateTime": "2025-03-03T20:00:00Z"});
    let (status, home) = api(&fake, "POST", events, &access, Some(home)).await;
    assert_eq!((status, home["eventType"].as_str()), (StatusCode::OK, Some("workingLocation")), "{home}");
    let mut away = typed("outOfOffice", json!({"outOfOfficeProperties": {"autoDeclineMode": "declineNone"}}));
    away["transparency"] = json!("transparent");
    away["start"] = json!({"dateTime": "2025-03-03T13:00:00Z"});
    away["end"] = json!({"dateTime": "2025-03-03T18:00:00Z"});
    let (status, _) = api(&fake, "POST", events, &access, Some(away)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, busy) = api(
        &fake,
        "POST",
        "/freeBusy",
        &access,
        Some(json!({"timeMin": "2025-03-03T00:00:00Z", "timeMax": "2025-03-04T00:00:00Z", "items": [{"id": "primary"}]})),
    )
    .await;
    assert_eq!(
        busy["calendars"]["primary"]["busy"],
        json!([
            {"start": "2025-03-03T09:00:00Z", "end": "2025-03-03T10:00:00Z"},
            {"start": "2025-03-03T11:00:00Z", "end": "2025-03-03T12:00:00Z"},
            {"start": "2025-03-03T13:00:00Z", "end": "2025-03-03T18:00:00Z"}
        ]),
        "the focus-time block, the plain event and the out-of-office time are busy, the working location is not"
    );
    fake.stop().await;
}
