//! `spawn_app()` and one helper per endpoint (in `endpoints`), the fake Google's OAuth dance
//! (`google`) and `poll_until` for background work (`poll`).

mod endpoints;
mod google;
mod poll;
mod time;

use std::{path::PathBuf, time::Duration};

use planwright::{configuration, database};
use planwright_api::{
    Application,
    settings::{Environment, Settings},
};
use planwright_store::{ConnectionTrait, Database};
use planwright_tests::fake_gemini::FakeGemini;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub use google::{FRONTEND, GOOGLE_NOTIFICATIONS, app_with_google, webhook_url};
pub use poll::{BACKGROUND, poll_until};
pub use time::{instant, next_monday};

/// A running application and a client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Database,
    pub settings: Settings,
    handle: actix_web::dev::ServerHandle,
    _dir: Option<tempfile::TempDir>,
}

/// A user signed in through the API.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub email: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
    pub id: String,
}

fn config_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("config")
}

/// The test settings, before any per-test change.
pub fn test_settings() -> Settings {
    let loaded =
        configuration::load_from(&config_dir(), Environment::Test).expect("test configuration loads");
    loaded.settings
}

/// Spawns the app on port 0 with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app with settings changed by `customise`.
pub async fn spawn_app_with(customise: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    let dir = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            settings.database.url = fresh_postgres_database(&admin_url).await;
            None
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            settings.database.url =
                format!("sqlite://{}?mode=rwc", dir.path().join("planwright.db").display());
            Some(dir)
        }
    };
    customise(&mut settings);
    let mut app = start(settings).await;
    app._dir = dir;
    app
}

/// Spawns the app with Gemini as its AI, pointed at a fresh fake Gemini (two retries, 5 s
/// timeout), with further settings changed by `customise`.
pub async fn app_with_gemini(customise: impl FnOnce(&mut Settings)) -> (TestApp, FakeGemini) {
    let fake = FakeGemini::start().await;
    let (base_url, key) = (fake.base_url(), fake.api_key().to_owned());
    let app = spawn_app_with(move |s| {
        s.ai.provider = planwright_api::settings::AiProviderKind::Gemini;
        s.ai.gemini_base_url = base_url;
        s.ai.gemini_api_key = Some(key.into());
        s.ai.max_retries = 2;
        s.ai.timeout_secs = 5;
        customise(s);
    })
    .await;
    (app, fake)
}

/// Starts another replica on the same database as `other`.
pub async fn spawn_replica(other: &TestApp) -> TestApp {
    spawn_replica_with(other, |_| {}).await
}

/// Starts another replica on the same database as `other`, with its settings changed.
pub async fn spawn_replica_with(other: &TestApp, customise: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = other.settings.clone();
    customise(&mut settings);
    start(settings).await
}

async fn start(mut settings: Settings) -> TestApp {
    // Port 0 (from config/test.toml) unless a test reserved one to know its own URL up front.
    settings.server.host = "127.0.0.1".to_owned();
    if std::env::var_os("TEST_LOG").is_some() {
        // The tests' process ends without dropping it: keep the writer for every later line.
        std::mem::forget(planwright::telemetry::init(&settings.log));
    }
    let db = database::prepare(&settings.database).await.expect("database ready");
    let application = Application::build(settings.clone(), db.clone()).await.expect("application builds");
    let address = format!("http://127.0.0.1:{}", application.port());
    let handle = application.handle();
    tokio::spawn(application.run_without_signals());
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(3)).build().expect("client");
    TestApp { address, client, db, settings, handle, _dir: None }
}

async fn fresh_postgres_database(admin_url: &str) -> String {
    let name = format!("pw_test_{}", Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(admin_url).await.expect("PostgreSQL at TEST_DATABASE_URL answers");
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
    admin.close().await.expect("close admin connection");
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).unwrap_or(admin_url);
    format!("{base}/{name}")
}

impl TestApp {
    /// The app's database behind a connection that counts the statements run through it
    /// (sea-orm's metric callback; `BEGIN` and `COMMIT` are not counted), with the count.
    pub fn counting_db(&self) -> (Database, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let statements = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut counted = self.db.writer().clone();
        let seen = std::sync::Arc::clone(&statements);
        counted.set_metric_callback(move |_| {
            seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        });
        (Database::from_connection(counted), statements)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }

    pub async fn stop(&self) {
        planwright_api::startup::stop(self.handle.clone(), Duration::from_secs(5)).await;
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request sent")
    }

    pub async fn patch_json(&self, path: &str, body: &Value, token: &str) -> Response {
        self.client.patch(self.url(path)).json(body).bearer_auth(token).send().await.expect("request sent")
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request sent")
    }

    /// Registers a fresh user and returns their session.
    pub async fn signed_in_user(&self) -> TestUser {
        let email = format!("user-{}@example.com", Uuid::new_v4().simple());
        let password = "correct horse battery".to_owned();
        let response =
            self.register(&json!({"email": email, "password": password, "name": "Test User"})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.expect("json");
        TestUser {
            email,
            password,
            access_token: body["access_token"].as_str().expect("access token").to_owned(),
            refresh_token: body["refresh_token"].as_str().expect("refresh token").to_owned(),
            id: body["user"]["id"].as_str().expect("id").to_owned(),
        }
    }
}

/// A client that does not follow redirects, to see where the app sends the browser.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// A response header as text, if present.
pub fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Asserts a problem+json answer with `status` and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = header(&response, "content-type").unwrap_or_default();
    assert!(content_type.starts_with("application/problem+json"), "content type was {content_type:?}");
    let body: Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "problem without detail: {body}");
    assert!(body["code"].as_str().is_some(), "problem without code: {body}");
    assert!(body["type"].as_str().is_some() && body["title"].as_str().is_some(), "{body}");
    body
}

/// The `field` of every entry in a problem's `errors`.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
