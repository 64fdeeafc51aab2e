//! The one shared state every handler reaches through `web::Data<AppState>`.

use std::sync::Arc;

use planwright_store::Database;
use utoipa::openapi::OpenApi;

use crate::{
    metrics::Metrics,
    route_table::RouteTable,
    services::{
        ai::{AiProvider, embeddings::Embedder},
        calendar::google::{CalendarServices, GoogleCalendar},
        credentials::{AccessTokens, PasswordHashing},
        crypto::TokenCipher,
        grounding::cache::VectorCache,
        known_accounts::KnownAccounts,
        rate_limit::RateLimiter,
    },
    settings::Settings,
};

/// Every dependency of the request handlers, in one place.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The database pool.
    pub db: Database,
    /// Settings as loaded at start-up.
    pub settings: Arc<Settings>,
    /// Access-token signer and checker.
    pub tokens: AccessTokens,
    /// Password hasher.
    pub passwords: PasswordHashing,
    /// Accounts seen to exist lately (spares the users read on a burst of requests).
    pub known_accounts: KnownAccounts,
    /// Limits on the account routes.
    pub rate_limiter: RateLimiter,
    /// The AI behind plans and breakdowns.
    pub ai: AiProvider,
    /// Embeddings for semantic search (none offline), and the indexing job's wake-up bell.
    pub embedder: Embedder,
    /// Decoded chunk vectors kept between searches.
    pub vectors: VectorCache,
    /// Google Calendar (when configured) and the cipher for tokens at rest.
    pub calendar: CalendarServices,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The documented routes, for 404/405 answers.
    pub routes: Arc<RouteTable>,
}

impl AppState {
    /// Assembles the shared state; fails when a required secret is missing.
    pub fn new(settings: Settings, db: Database, openapi: &OpenApi) -> anyhow::Result<Self> {
        let secret =
            settings.auth.jwt_secret.clone().ok_or_else(|| {
                anyhow::anyhow!("auth.jwt_secret is not set (PLANWRIGHT__AUTH__JWT_SECRET)")
            })?;
        let tokens = AccessTokens::new(&secret, settings.auth.access_token_ttl_secs);
        let passwords =
            PasswordHashing::new(settings.auth.argon2_memory_kib, settings.auth.argon2_iterations)?;
        let rate_limiter = RateLimiter::new(db.clone(), settings.rate_limit.clone());
        let ai = crate::services::ai::models::provider(&settings.ai)?;
        let embedder = Embedder::from_settings(&settings.ai)?;
        let encryption_key = settings.security.encryption_key.clone().ok_or_else(|| {
            anyhow::anyhow!("security.encryption_key is not set (PLANWRIGHT__SECURITY__ENCRYPTION_KEY)")
        })?;
        let cipher = TokenCipher::new(&encryption_key, &settings.security.previous_encryption_keys)?;
        let metrics = Metrics::new()?;
        let google = GoogleCalendar::from_settings(&settings, metrics.google_observer())?.map(Arc::new);
        let routes = RouteTable::new(
            openapi,
            &[("/openapi.json", &["GET"]), ("/docs", &["GET"]), ("/docs/*", &["GET"])],
        );
        let known_accounts =
            KnownAccounts::new(std::time::Duration::from_secs(settings.auth.known_account_secs));
        Ok(Self {
            db,
            settings: Arc::new(settings),
            tokens,
            passwords,
            known_accounts,
            rate_limiter,
            ai,
            embedder,
            vectors: VectorCache::default(),
            calendar: CalendarServices::new(google, cipher),
            metrics,
            routes: Arc::new(routes),
        })
    }
}
