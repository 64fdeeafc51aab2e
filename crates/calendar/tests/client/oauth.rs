//! The OAuth web-server flow: authorization URL, code exchange, refresh, revocation.

use base64::Engine as _;
use planwright_calendar::{AuthorizationRequest, Error, ExposeSecret, SecretString, scopes};
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{
    CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, form_pairs, form_value, json_response, oauth_client, received,
};

fn url_params(url: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
}

#[tokio::test]
async fn authorization_url_has_every_parameter_google_needs() {
    let server = MockServer::start().await;
    let client = oauth_client(&server);

    let auth = client.authorization_url(
        &AuthorizationRequest::new(scopes::RECOMMENDED.iter().copied()).with_login_hint("ada@example.com"),
    );

    assert!(auth.url.starts_with("https://accounts.example/o/oauth2/v2/auth?"), "{}", auth.url);
    let params = url_params(&auth.url);
    assert_eq!(param(&params, "response_type"), Some("code"));
    assert_eq!(param(&params, "client_id"), Some(CLIENT_ID));
    assert_eq!(param(&params, "redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(param(&params, "scope"), Some(scopes::RECOMMENDED.join(" ").as_str()));
    assert_eq!(param(&params, "access_type"), Some("offline"));
    assert_eq!(param(&params, "prompt"), Some("consent"));
    assert_eq!(param(&params, "include_granted_scopes"), Some("true"));
    assert_eq!(param(&params, "login_hint"), Some("ada@example.com"));
    assert_eq!(param(&params, "code_challenge_method"), Some("S256"));
    assert_eq!(param(&params, "state"), Some(auth.state.as_str()));
    assert!(auth.state.len() >= 16);
    // The challenge is the unpadded base64url SHA-256 of the verifier we keep.
    let expected_challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(auth.pkce_verifier.expose_secret().as_bytes()));
    assert_eq!(param(&params, "code_challenge"), Some(expected_challenge.as_str()));
    assert!(!auth.url.contains(auth.pkce_verifier.expose_secret()));
    assert!(!auth.url.contains(CLIENT_SECRET));
    assert!(!format!("{auth:?}").contains(auth.pkce_verifier.expose_secret()));
    assert!(received(&server).await.is_empty());
}

#[test]
fn authorization_urls_are_fresh_each_time_unless_state_is_given() {
    let config = planwright_calendar::OAuthConfig::new(CLIENT_ID, None).with_redirect_uri(REDIRECT_URI);
    let client = planwright_calendar::OAuthClient::new(config).unwrap();
    let request = AuthorizationRequest::new([scopes::CALENDAR_EVENTS]);

    let first = client.authorization_url(&request);
    let second = client.authorization_url(&request);
    let chosen = client.authorization_url(&request.clone().with_state("my-state").with_prompt(None));

    assert_ne!(first.state, second.state);
    assert_ne!(first.pkce_verifier.expose_secret(), second.pkce_verifier.expose_secret());
    assert!(first.url.starts_with(planwright_calendar::DEFAULT_AUTH_URL));
    assert_eq!(chosen.state, "my-state");
    assert_eq!(param(&url_params(&chosen.url), "prompt"), None);
}

#[tokio::test]
async fn code_exchange_sends_the_verifier_and_parses_granted_scopes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(json_response(
            200,
            &json!({
                "access_token": "ya29.a0-exchanged",
                "expires_in": 3599,
                "refresh_token": "1//0g-refresh",
                "scope": "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy",
                "token_type": "Bearer",
                "refresh_token_expires_in": 604799
            }),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let verifier = SecretString::from("verifier-0123456789-0123456789-0123456789-0123");

    let tokens = oauth_client(&server).exchange_code("4/0Ab-code", &verifier).await.unwrap();

    let request = &received(&server).await[0];
    let form = form_pairs(request);
    let value = |name: &str| form.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str());
    assert_eq!(value("grant_type"), Some("authorization_code"));
    assert_eq!(value("code"), Some("4/0Ab-code"));
    assert_eq!(value("code_verifier"), Some(verifier.expose_secret()));
    assert_eq!(value("redirect_uri"), Some(REDIRECT_URI));
    assert_eq!(value("client_id"), Some(CLIENT_ID));
    assert_eq!(value("client_secret"), Some(CLIENT_SECRET));

    assert_eq!(tokens.access_token.expose_secret(), "ya29.a0-exchanged");
    assert_eq!(tokens.refresh_token.as_ref().map(|token| token.expose_secret()), Some("1//0g-refresh"));
    assert_eq!(tokens.expires_in, Some(std::time::Duration::from_secs(3599)));
    assert!(tokens.expires_at.unwrap() > chrono::Utc::now() + chrono::Duration::seconds(3500));
    assert_eq!(
        tokens.scopes.as_deref(),
        Some(&[scopes::CALENDAR_EVENTS.to_owned(), scopes::CALENDAR_FREEBUSY.to_owned()][..])
    );
    assert_eq!(tokens.missing_scopes(scopes::RECOMMENDED), [scopes::CALENDAR_CALENDARLIST_READONLY]);
    assert!(!format!("{tokens:?}").contains("exchanged"));
    assert!(!format!("{tokens:?}").contains("0g-refresh"));
}

#[tokio::test]
async fn a_used_code_is_invalid_grant_and_the_exchange_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            400,
            &json!({"error": "invalid_grant", "error_description": "Bad Request"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = oauth_client(&server).exchange_code("used", &SecretString::from("v")).await.unwrap_err();

    assert!(matches!(error, Error::InvalidGrant { .. }), "{error:?}");
}

#[tokio::test]
async fn a_code_exchange_is_not_repeated_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(path("/token")).respond_with(ResponseTemplate::new(503)).expect(1).mount(&server).await;

    let error = oauth_client(&server).exchange_code("code", &SecretString::from("v")).await.unwrap_err();

    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
}

#[tokio::test]
async fn refresh_returns_the_new_access_token_and_keeps_old_refresh_token_absent() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "ya29.new", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/calendar.events",
                    "token_type": "Bearer", "id_token": "eyJ..."}),
        ))
        .mount(&server)
        .await;

    let tokens = oauth_client(&server).refresh(&SecretString::from("1//refresh")).await.unwrap();

    assert_eq!(tokens.access_token.expose_secret(), "ya29.new");
    assert!(tokens.refresh_token.is_none());
    let request = &received(&server).await[0];
    assert_eq!(form_value(request, "grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(form_value(request, "refresh_token").as_deref(), Some("1//refresh"));
    assert_eq!(form_value(request, "client_secret").as_deref(), Some(CLIENT_SECRET));
}

#[tokio::test]
async fn refresh_returns_a_rotated_refresh_token() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "a", "refresh_token": "1//rotated", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;

    let tokens = oauth_client(&server).refresh(&SecretString::from("1//old")).await.unwrap();

    assert_eq!(tokens.refresh_token.as_ref().map(|token| token.expose_secret()), Some("1//rotated"));
}

#[tokio::test]
async fn refresh_with_a_revoked_token_is_invalid_grant() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            400,
            &json!({"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    let error = oauth_client(&server).refresh(&SecretString::from("1//revoked")).await.unwrap_err();

    assert!(
        matches!(&error, Error::InvalidGrant { description: Some(text) } if text == "Token has been expired or revoked."),
        "{error:?}"
    );
}

#[tokio::test]
async fn other_oauth_errors_keep_their_code() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            401,
            &json!({"error": "invalid_client", "error_description": "The OAuth client was not found."}),
        ))
        .mount(&server)
        .await;

    let error = oauth_client(&server).refresh(&SecretString::from("r")).await.unwrap_err();

    assert!(matches!(&error, Error::OAuth { error, .. } if error == "invalid_client"), "{error:?}");
}

#[tokio::test]
async fn refresh_is_retried_after_an_html_server_error() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(502).set_body_raw("<html>Bad Gateway</html>", "text/html"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(json_response(
            200,
            &json!({"access_token": "after-retry", "expires_in": 3599, "token_type": "Bearer"}),
        ))
        .mount(&server)
        .await;

    let tokens = oauth_client(&server).refresh(&SecretString::from("r")).await.unwrap();

    assert_eq!(tokens.access_token.expose_secret(), "after-retry");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn an_html_error_page_is_never_parsed_as_json() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(500).set_body_raw("<html>Internal error</html>", "text/html"))
        .mount(&server)
        .await;

    let error = oauth_client(&server).refresh(&SecretString::from("r")).await.unwrap_err();

    assert!(
        matches!(&error, Error::Api { status, message, .. } if *status == StatusCode::INTERNAL_SERVER_ERROR && message.contains("Internal error")),
        "{error:?}"
    );
}

#[tokio::test]
async fn revoke_posts_the_token_as_a_form() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;

    oauth_client(&server).revoke(&SecretString::from("1//refresh+token/=")).await.unwrap();

    assert_eq!(form_value(&received(&server).await[0], "token").as_deref(), Some("1//refresh+token/="));
}

#[tokio::test]
async fn revoking_an_already_invalid_token_succeeds() {
    let server = MockServer::start().await;
    Mock::given(path("/revoke"))
        .respond_with(json_response(
            400,
            &json!({"error": "invalid_token", "error_description": "Token expired or revoked"}),
        ))
        .expect(1)
        .mount(&server)
        .await;

    oauth_client(&server).revoke(&SecretString::from("old")).await.unwrap();
}

#[tokio::test]
async fn revoke_failures_are_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/revoke"))
        .respond_with(json_response(
            400,
            &json!({"error": "invalid_request", "error_description": "Bad Request"}),
        ))
        .mount(&server)
        .await;

    let error = oauth_client(&server).revoke(&SecretString::from("x")).await.unwrap_err();

    assert!(matches!(&error, Error::OAuth { error, .. } if error == "invalid_request"), "{error:?}");
}
