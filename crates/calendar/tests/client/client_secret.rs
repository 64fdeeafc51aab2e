//! Google's downloaded `client_secret.json`, read through yup-oauth2's types.

use planwright_calendar::{DEFAULT_TOKEN_URL, Error, ExposeSecret, OAuthConfig};
use serde_json::json;

fn web_json() -> serde_json::Value {
    json!({"web": {
        "client_id": "1234-web.apps.googleusercontent.com",
        "project_id": "planwright-dev",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_secret": "GOCSPX-web-secret",
        "redirect_uris": ["https://planwright.example/api/v1/calendar/oauth/callback", "http://localhost:8080/cb"],
        "javascript_origins": ["https://planwright.example"]
    }})
}

#[test]
fn a_web_client_file_becomes_an_oauth_config() {
    let config = OAuthConfig::from_client_secret_json(web_json().to_string()).unwrap();

    assert_eq!(config.client_id, "1234-web.apps.googleusercontent.com");
    assert_eq!(config.client_secret.as_ref().map(|secret| secret.expose_secret()), Some("GOCSPX-web-secret"));
    assert_eq!(
        config.redirect_uri.as_deref(),
        Some("https://planwright.example/api/v1/calendar/oauth/callback")
    );
    assert_eq!(config.token_url, DEFAULT_TOKEN_URL);
    assert!(!format!("{config:?}").contains("GOCSPX-web-secret"));
}

#[test]
fn an_installed_client_file_becomes_an_oauth_config() {
    let installed = json!({"installed": {
        "client_id": "5678-desktop.apps.googleusercontent.com",
        "project_id": "planwright-dev",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_secret": "GOCSPX-desktop-secret",
        "redirect_uris": ["http://localhost"]
    }});

    let config = OAuthConfig::from_client_secret_json(installed.to_string()).unwrap();

    assert_eq!(config.client_id, "5678-desktop.apps.googleusercontent.com");
    assert_eq!(
        config.client_secret.as_ref().map(|secret| secret.expose_secret()),
        Some("GOCSPX-desktop-secret")
    );
    assert_eq!(config.redirect_uri.as_deref(), Some("http://localhost"));
}

#[test]
fn other_json_is_a_configuration_error() {
    for bad in [
        json!({"service_account": {}}).to_string(),
        "not json".to_owned(),
        json!({"web": {"client_id": "x"}}).to_string(),
    ] {
        let error = OAuthConfig::from_client_secret_json(&bad).unwrap_err();
        assert!(matches!(error, Error::Config { .. }), "{bad}: {error:?}");
        assert!(!error.to_string().is_empty());
    }
}

#[tokio::test]
async fn a_client_secret_file_can_be_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("client_secret.json");
    std::fs::write(&file, web_json().to_string()).unwrap();

    let config = OAuthConfig::from_client_secret_file(&file).await.unwrap();
    let missing = OAuthConfig::from_client_secret_file(dir.path().join("missing.json")).await.unwrap_err();

    assert_eq!(config.client_id, "1234-web.apps.googleusercontent.com");
    assert!(matches!(missing, Error::Config { .. }));
}
