//! Access tokens: the bearer header, one refresh on 401, pluggable token sources, no leaks.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use planwright_calendar::{
    AccessToken, Client, Config, Error, EventListParams, ExposeSecret, RefreshingTokenSource, TokenFuture,
    TokenSource,
};
use serde_json::json;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{
    EVENTS_PATH, RotatingTokens, TOKEN, client, client_with, event_json, events_page, form_value,
    google_error, json_response, oauth_client, received,
};

async fn mount_calendar_accepting(server: &MockServer, token: &str) {
    Mock::given(path(EVENTS_PATH))
        .and(header("authorization", format!("Bearer {token}").as_str()))
        .respond_with(json_response(200, &events_page(vec![event_json("e1", "ok")], None, Some("s"))))
        .mount(server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(401, &google_error(401, "authError", "Invalid Credentials")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn the_token_goes_in_the_authorization_header_only() {
    let server = MockServer::start().await;
    mount_calendar_accepting(&server, TOKEN).await;

    client(&server).events().list("primary", &EventListParams::new()).await.unwrap();

    let requests = received(&server).await;
    assert!(!requests[0].url.as_str().contains(TOKEN));
}

#[tokio::test]
async fn a_401_asks_the_source_for_a_fresh_token_once_and_retries() {
    let server = MockServer::start().await;
    mount_calendar_accepting(&server, "fresh-token").await;
    let tokens = Arc::new(RotatingTokens::new(&["stale-token", "fresh-token"]));

    let page = client_with(&server, |config| config.with_shared_token_source(tokens.clone()))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap();

    assert_eq!(page.items.len(), 1);
    assert_eq!(tokens.invalidations(), 1);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_second_401_is_returned_without_another_refresh() {
    let server = MockServer::start().await;
    mount_calendar_accepting(&server, "never-issued").await;
    let tokens = Arc::new(RotatingTokens::new(&["stale-1", "stale-2", "stale-3"]));

    let error = client_with(&server, |config| config.with_shared_token_source(tokens.clone()))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap_err();

    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(tokens.invalidations(), 1);
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_source_that_cannot_refresh_gets_no_second_attempt() {
    let server = MockServer::start().await;
    mount_calendar_accepting(&server, "never-issued").await;

    let error = client(&server).events().list("primary", &EventListParams::new()).await.unwrap_err();

    assert!(matches!(error, Error::Unauthorized { .. }));
    assert_eq!(received(&server).await.len(), 1);
}

/// A caller's own source, e.g. one backed by a database that fails.
struct BrokenStore;

impl TokenSource for BrokenStore {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(async {
            Err(Error::token_source("database unavailable", std::io::Error::other("connection refused")))
        })
    }
}

#[tokio::test]
async fn a_token_source_failure_is_returned_and_nothing_is_sent() {
    let server = MockServer::start().await;

    let error = client_with(&server, |config| config.with_token_source(BrokenStore))
        .events()
        .get("primary", "abc")
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::TokenSource { message, source: Some(_) } if message == "database unavailable")
    );
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn no_token_source_sends_no_authorization_header() {
    let server = MockServer::start().await;
    Mock::given(header_exists("authorization"))
        .respond_with(json_response(500, &json!({})))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(200, &events_page(vec![], None, None)))
        .expect(1)
        .mount(&server)
        .await;

    let client = Client::new(Config::new().with_base_url(format!("{}/calendar/v3", server.uri()))).unwrap();
    client.events().list("primary", &EventListParams::new()).await.unwrap();
}

#[tokio::test]
async fn with_token_source_shares_the_pool_but_not_the_credentials() {
    let server = MockServer::start().await;
    mount_calendar_accepting(&server, "user-b-token").await;
    let shared = client(&server);

    let user_b = shared.with_token_source(planwright_calendar::StaticToken::new("user-b-token"));
    user_b.events().list("primary", &EventListParams::new()).await.unwrap();
    let error = shared.events().list("primary", &EventListParams::new()).await.unwrap_err();

    assert!(matches!(error, Error::Unauthorized { .. }));
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_refused_before_sending() {
    let server = MockServer::start().await;

    let error = client_with(&server, |config| config.with_access_token("bad\ntoken"))
        .events()
        .get("primary", "abc")
        .await
        .unwrap_err();

    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn refreshing_source_refreshes_an_expired_token_and_reports_the_new_one() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "refreshed-access", "expires_in": 3599, "token_type": "Bearer",
                    "scope": "https://www.googleapis.com/auth/calendar.events"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    mount_calendar_accepting(&server, "refreshed-access").await;
    let persisted = Arc::new(Mutex::new(Vec::new()));
    let sink = persisted.clone();
    let expired =
        AccessToken::new("expired-access").with_expires_at(chrono::Utc::now() - chrono::Duration::minutes(5));
    let source =
        RefreshingTokenSource::new(oauth_client(&server), "refresh-1").with_access_token(expired).on_refresh(
            move |response| sink.lock().unwrap().push(response.access_token.expose_secret().to_owned()),
        );

    let client = client_with(&server, |config| config.with_token_source(source));
    client.events().list("primary", &EventListParams::new()).await.unwrap();
    client.events().list("primary", &EventListParams::new()).await.unwrap();

    assert_eq!(*persisted.lock().unwrap(), ["refreshed-access"]);
    let token_requests: Vec<_> =
        received(&server).await.into_iter().filter(|request| request.url.path() == "/token").collect();
    assert_eq!(form_value(&token_requests[0], "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(form_value(&token_requests[0], "refresh_token").as_deref(), Some("refresh-1"));
}

#[tokio::test]
async fn refreshing_source_refreshes_after_a_401_and_keeps_a_rotated_refresh_token() {
    let server = MockServer::start().await;
    let refreshes = Arc::new(AtomicUsize::new(0));
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "second-access", "refresh_token": "refresh-2", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "third-access", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;
    mount_calendar_accepting(&server, "third-access").await;
    let counter = refreshes.clone();
    let source = RefreshingTokenSource::new(oauth_client(&server), "refresh-1").on_refresh(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });

    // First call: refresh (-> second-access), 401, refresh again (-> third-access), success.
    client_with(&server, |config| config.with_token_source(source))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap();

    assert_eq!(refreshes.load(Ordering::SeqCst), 2);
    let token_requests: Vec<_> =
        received(&server).await.into_iter().filter(|request| request.url.path() == "/token").collect();
    assert_eq!(form_value(&token_requests[1], "refresh_token").as_deref(), Some("refresh-2"));
}

#[tokio::test]
async fn refreshing_source_surfaces_invalid_grant_without_calling_the_calendar() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(json_response(
            400,
            &json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
        ))
        .mount(&server)
        .await;

    let source = RefreshingTokenSource::new(oauth_client(&server), "dead-refresh-token");
    let error = client_with(&server, |config| config.with_token_source(source))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap_err();

    assert!(
        matches!(&error, Error::InvalidGrant { description: Some(text) } if text == "Token has been expired or revoked."),
        "{error:?}"
    );
    assert!(received(&server).await.iter().all(|request| request.url.path() == "/token"));
}

#[test]
fn debug_output_never_contains_tokens_or_secrets() {
    let server_uri = "http://127.0.0.1:1";
    let config = Config::new().with_base_url(server_uri).with_access_token(TOKEN);
    let client = Client::new(config.clone()).unwrap();
    let oauth = planwright_calendar::OAuthClient::new(planwright_calendar::OAuthConfig::new(
        crate::helpers::CLIENT_ID,
        Some(crate::helpers::CLIENT_SECRET.into()),
    ))
    .unwrap();
    let refreshing = RefreshingTokenSource::new(oauth.clone(), "refresh-secret-77")
        .with_access_token(AccessToken::new("access-secret-88"));
    let token = AccessToken::new("access-secret-99");

    for printed in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{config:#?}"),
        format!("{oauth:?}"),
        format!("{:?}", oauth.config()),
        format!("{refreshing:?}"),
        format!("{token:?}"),
    ] {
        for secret in [
            TOKEN,
            crate::helpers::CLIENT_SECRET,
            "refresh-secret-77",
            "access-secret-88",
            "access-secret-99",
        ] {
            assert!(!printed.contains(secret), "{printed}");
        }
    }
}
