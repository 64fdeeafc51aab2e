//! Service-account tokens with domain-wide delegation, through yup-oauth2.

use base64::Engine as _;
use planwright_calendar::{
    Error, EventListParams, ServiceAccountKey, ServiceAccountTokenSource, TokenSource, scopes,
};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer};

use crate::helpers::{
    EVENTS_PATH, client_with, event_json, events_page, form_value, google_error, json_response, received,
};

const KEY_JSON: &str = include_str!("../fixtures/test_service_account.json");

fn key_for(server: &MockServer) -> ServiceAccountKey {
    let mut key: ServiceAccountKey = serde_json::from_str(KEY_JSON).unwrap();
    key.token_uri = format!("{}/token", server.uri());
    key
}

/// The claims of a JWT (its middle part).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap().trim_end_matches('=');
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap())
        .unwrap()
}

fn token_response(token: &str) -> wiremock::ResponseTemplate {
    json_response(200, &json!({"access_token": token, "expires_in": 3599, "token_type": "Bearer"}))
}

#[tokio::test]
async fn signs_a_jwt_for_the_subject_and_uses_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(token_response("sa-token-1"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .and(header("authorization", "Bearer sa-token-1"))
        .respond_with(json_response(200, &events_page(vec![event_json("e1", "x")], None, Some("s"))))
        .expect(2)
        .mount(&server)
        .await;
    let source = ServiceAccountTokenSource::new(
        key_for(&server),
        scopes::RECOMMENDED.iter().copied(),
        Some("ada@example.com".to_owned()),
    )
    .await
    .unwrap();
    assert_eq!(source.subject(), Some("ada@example.com"));

    let client = client_with(&server, |config| config.with_token_source(source));
    client.events().list("primary", &EventListParams::new()).await.unwrap();
    client.events().list("primary", &EventListParams::new()).await.unwrap();

    let token_request =
        received(&server).await.into_iter().find(|request| request.url.path() == "/token").unwrap();
    assert_eq!(
        form_value(&token_request, "grant_type").as_deref(),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    let claims = claims(&form_value(&token_request, "assertion").unwrap());
    assert_eq!(claims["iss"], "calendar-sync@planwright-test.iam.gserviceaccount.com");
    assert_eq!(claims["sub"], "ada@example.com");
    assert_eq!(claims["aud"], format!("{}/token", server.uri()));
    assert_eq!(claims["scope"], scopes::RECOMMENDED.join(" "));
}

#[tokio::test]
async fn a_401_forces_a_new_service_account_token() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(token_response("sa-token-1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/token")).respond_with(token_response("sa-token-2")).mount(&server).await;
    Mock::given(path(EVENTS_PATH))
        .and(header("authorization", "Bearer sa-token-2"))
        .respond_with(json_response(200, &events_page(vec![], None, Some("s"))))
        .mount(&server)
        .await;
    Mock::given(path(EVENTS_PATH))
        .respond_with(json_response(401, &google_error(401, "authError", "Invalid Credentials")))
        .mount(&server)
        .await;
    let source = ServiceAccountTokenSource::from_json(
        serde_json::to_vec(&key_for(&server)).unwrap(),
        [scopes::CALENDAR_EVENTS],
        None,
    )
    .await
    .unwrap();

    client_with(&server, |config| config.with_token_source(source))
        .events()
        .list("primary", &EventListParams::new())
        .await
        .unwrap();

    let token_requests =
        received(&server).await.into_iter().filter(|request| request.url.path() == "/token").count();
    assert_eq!(token_requests, 2);
}

#[tokio::test]
async fn delegation_not_allowed_is_an_oauth_error() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            401,
            &json!({"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."}),
        ))
        .mount(&server)
        .await;
    let source = ServiceAccountTokenSource::new(
        key_for(&server),
        [scopes::CALENDAR_EVENTS],
        Some("ada@example.com".to_owned()),
    )
    .await
    .unwrap();

    let error = source.token().await.unwrap_err();

    assert!(matches!(&error, Error::OAuth { error, .. } if error == "unauthorized_client"), "{error:?}");
}

#[tokio::test]
async fn debug_shows_the_account_but_never_the_key() {
    let server = MockServer::start().await;
    let key = key_for(&server);
    let private_key_line = key.private_key.lines().nth(1).unwrap().to_owned();
    let source = ServiceAccountTokenSource::new(key, [scopes::CALENDAR_EVENTS], None).await.unwrap();

    let printed = format!("{source:?}");

    assert!(printed.contains("calendar-sync@planwright-test.iam.gserviceaccount.com"));
    assert!(!printed.contains(&private_key_line));
}

#[tokio::test]
async fn a_key_that_is_not_a_key_is_a_configuration_error() {
    let error =
        ServiceAccountTokenSource::from_json(b"{}", [scopes::CALENDAR_EVENTS], None).await.unwrap_err();
    assert!(matches!(error, Error::Config { .. }));

    let mut key: ServiceAccountKey = serde_json::from_str(KEY_JSON).unwrap();
    key.private_key = "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n".to_owned();
    let error = ServiceAccountTokenSource::new(key, [scopes::CALENDAR_EVENTS], None).await.unwrap_err();
    assert!(matches!(error, Error::Config { .. }));
}
