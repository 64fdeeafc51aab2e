//! The one shared state every handler reaches through `web::Data<AppState>`.

use std::sync::Arc;

use planwright_store::Database;

use crate::{
    middleware::metrics::Metrics,
    routes::fallback::RouteTable,
    services::{
        ai::AiProvider,
        calendar::CalendarServices,
        credentials::{AccessTokens, PasswordHashing},
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
    /// Limits on the account routes.
    pub rate_limiter: RateLimiter,
    /// The AI behind plans and breakdowns.
    pub ai: AiProvider,
    /// Google Calendar (when configured) and the cipher for tokens at rest.
    pub calendar: CalendarServices,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The documented routes, for 404/405 answers.
    pub routes: Arc<RouteTable>,
}
