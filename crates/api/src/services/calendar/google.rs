//! Google Calendar as configured (the OAuth client and one shared Calendar client) and what the
//! calendar services keep in the application state. Knows nothing of `AppState`.

use std::{sync::Arc, time::Duration};

use planwright_calendar::{CallObserver, Client, Config, OAuthClient, OAuthConfig, RetryPolicy};
use planwright_store::Database;
use tokio::sync::Semaphore;
use uuid::Uuid;

use super::tokens::StoredTokens;
use crate::{
    services::crypto::TokenCipher,
    settings::{GoogleSettings, Settings},
};

/// Google Calendar as configured: the OAuth client and a Calendar client whose connection pool
/// every user's requests share.
#[derive(Debug, Clone)]
pub struct GoogleCalendar {
    oauth: OAuthClient,
    client: Client,
    settings: GoogleSettings,
}

impl GoogleCalendar {
    /// Google Calendar from `settings`, or `None` when no OAuth client is configured.
    /// Every call to Google (Calendar and OAuth) is told to `observer`, which counts it.
    pub fn from_settings(
        settings: &Settings,
        observer: Arc<dyn CallObserver>,
    ) -> anyhow::Result<Option<Self>> {
        use secrecy::ExposeSecret;
        let google = &settings.google;
        let secret = google.client_secret.clone().filter(|s| !s.expose_secret().trim().is_empty());
        let config = match (&google.client_secret_file, &google.client_id) {
            (Some(path), _) if !path.trim().is_empty() => {
                let json = std::fs::read(path)
                    .map_err(|e| anyhow::anyhow!("cannot read google.client_secret_file {path}: {e}"))?;
                OAuthConfig::from_client_secret_json(json)?
            }
            (_, Some(client_id)) if !client_id.trim().is_empty() => {
                OAuthConfig::new(client_id.trim(), secret)
            }
            _ => return Ok(None),
        };
        let timeout = Duration::from_secs(google.timeout_secs);
        let retries = RetryPolicy::default().with_max_retries(google.max_retries);
        let oauth = OAuthClient::new(
            config
                .with_redirect_uri(google.redirect_uri.clone())
                .with_auth_url(google.auth_url.clone())
                .with_token_url(google.token_url.clone())
                .with_revoke_url(google.revoke_url.clone())
                .with_timeout(timeout)
                .with_retry_policy(retries.clone())
                .with_observer(observer.clone()),
        )?;
        let client = Client::new(
            Config::new()
                .with_base_url(google.calendar_base_url.clone())
                .with_timeout(timeout)
                .with_retry_policy(retries)
                .with_observer(observer),
        )?;
        Ok(Some(Self { oauth, client, settings: google.clone() }))
    }

    /// The OAuth client.
    pub fn oauth(&self) -> &OAuthClient {
        &self.oauth
    }

    /// The settings it was built from.
    pub fn settings(&self) -> &GoogleSettings {
        &self.settings
    }

    /// A Calendar client with one fixed access token (right after the code exchange).
    pub fn client_for_token(&self, token: planwright_calendar::AccessToken) -> Client {
        self.client.with_token_source(planwright_calendar::StaticToken::new(token))
    }

    /// A Calendar client acting for one connection: its tokens come from the database and are
    /// refreshed (and stored again) when they expire or Google answers 401.
    pub fn client_for(&self, db: &Database, cipher: &TokenCipher, connection_id: Uuid) -> Client {
        self.client.with_token_source(StoredTokens::new(
            db.clone(),
            cipher.clone(),
            self.oauth.clone(),
            connection_id,
        ))
    }
}

/// Everything the calendar services need besides the database.
#[derive(Debug, Clone)]
pub struct CalendarServices {
    /// Google, when configured.
    pub google: Option<Arc<GoogleCalendar>>,
    /// Seals and opens tokens at rest.
    pub cipher: TokenCipher,
    /// Turns for scheduling runs, which hold a window's busy time while they place (four per
    /// core: enough to keep the cores busy while some wait on Google).
    pub schedule_runs: Arc<Semaphore>,
}

impl CalendarServices {
    /// The services with `google` (when configured) and `cipher`.
    pub fn new(google: Option<Arc<GoogleCalendar>>, cipher: TokenCipher) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self { google, cipher, schedule_runs: Arc::new(Semaphore::new(4 * cores)) }
    }

    /// A Calendar client for one connection, when Google is configured.
    pub fn client_for(&self, db: &Database, connection_id: Uuid) -> Option<Client> {
        self.google.as_deref().map(|google| google.client_for(db, &self.cipher, connection_id))
    }
}
