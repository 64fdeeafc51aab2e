//! An app wired to the fake Google, and the OAuth dance that connects a user's Google Calendar.

use planwright_api::settings::Settings;
use planwright_tests::fake_google::FakeGoogle;
use reqwest::StatusCode;
use serde_json::Value;

use super::{
    TestApp, TestUser, no_redirects,
    poll::{BACKGROUND, poll_until},
    spawn_app_with,
};

/// The frontend origin the app may send the browser back to.
pub const FRONTEND: &str = "http://frontend.test";

/// Where Google posts push notifications, under the app's address.
pub const GOOGLE_NOTIFICATIONS: &str = "/api/v1/calendar/google/notifications";

/// The push-notification URL of an app listening on `port` (reserve the port up front).
pub fn webhook_url(port: u16) -> String {
    format!("http://127.0.0.1:{port}{GOOGLE_NOTIFICATIONS}")
}

/// Spawns the app with Google configured against a fresh fake Google.
pub async fn app_with_google(customise: impl FnOnce(&mut Settings)) -> (TestApp, FakeGoogle) {
    let fake = FakeGoogle::start().await;
    let urls = fake.oauth_urls();
    let (client_id, client_secret) = (fake.client_id(), fake.client_secret());
    let app = spawn_app_with(move |s| {
        s.google.client_id = Some(client_id);
        s.google.client_secret = Some(client_secret.into());
        s.google.redirect_uri = "http://127.0.0.1:1/api/v1/calendar/google/callback".to_owned();
        s.google.frontend_origins = vec![FRONTEND.to_owned()];
        s.google.auth_url = urls.auth_url;
        s.google.token_url = urls.token_url;
        s.google.revoke_url = urls.revoke_url;
        s.google.calendar_base_url = urls.calendar_base_url;
        s.google.timeout_secs = 5;
        customise(s);
    })
    .await;
    (app, fake)
}

impl TestApp {
    /// Authorize → the fake's consent → our callback; returns where the callback sent the browser.
    pub async fn consent_to_google(&self, token: &str) -> String {
        let response = self.google_authorize(&format!("redirect_to={FRONTEND}/settings"), token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        let url = body["authorization_url"].as_str().unwrap();
        assert!(url.contains("code_challenge_method=S256") && url.contains("access_type=offline"), "{url}");
        let at_google = no_redirects().get(url).send().await.unwrap();
        assert_eq!(at_google.status(), StatusCode::FOUND, "the fake consents at once");
        let back = reqwest::Url::parse(at_google.headers()["location"].to_str().unwrap()).unwrap();
        let response = self.google_callback(back.query().unwrap_or_default()).await;
        assert_eq!(response.status(), StatusCode::FOUND);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// The caller's Google connection (there must be one).
    pub async fn google_connection(&self, token: &str) -> Value {
        self.calendar_connections_ok(token)
            .await
            .into_iter()
            .find(|c| c["provider"] == "google")
            .expect("a Google connection")
    }

    /// Waits until the caller's Google connection has finished its first (background) sync.
    pub async fn wait_for_first_sync(&self, token: &str) {
        poll_until(BACKGROUND, "the first sync", || async {
            self.google_connection(token).await["last_synced_at"].is_string()
        })
        .await;
    }

    /// Connects Google for `user`, waits for the first (background) sync and returns the
    /// connection id.
    pub async fn connect_google(&self, user: &TestUser) -> String {
        let location = self.consent_to_google(&user.access_token).await;
        assert_eq!(location, format!("{FRONTEND}/settings?calendar=connected"));
        let id = self.google_connection(&user.access_token).await["id"].as_str().unwrap().to_owned();
        self.wait_for_first_sync(&user.access_token).await;
        id
    }
}
