//! Fixed-window rate limits kept in the database, so they hold across replicas.

use chrono::Utc;
use planwright_store::{Database, repo::rate_limits};

use crate::{error::ApiError, settings::RateLimitSettings};

/// On average, one new window in this many prunes the expired ones.
const PRUNE_ONE_IN: u16 = 256;

/// Counts requests per client address and per account for one route, and refuses the excess.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    db: Database,
    settings: RateLimitSettings,
}

/// Who a request is counted against.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// The client's network address.
    Ip(&'a str),
    /// An account, by email or user id.
    Account(&'a str),
    /// A signed-in user calling the AI (limited by `ai_per_user`).
    AiUser(&'a str),
}

impl RateLimiter {
    /// A limiter over `db` with the configured limits.
    pub fn new(db: Database, settings: RateLimitSettings) -> Self {
        Self { db, settings }
    }

    /// Counts one AI request by `user_id` (all AI routes share one count).
    pub async fn check_ai(&self, user_id: uuid::Uuid) -> Result<(), ApiError> {
        self.check("ai", Subject::AiUser(&user_id.to_string())).await
    }

    /// Counts one request by `subject` on `route`; a 429 problem when the window's budget is spent.
    pub async fn check(&self, route: &str, subject: Subject<'_>) -> Result<(), ApiError> {
        if !self.settings.enabled {
            return Ok(());
        }
        let (kind, who, limit) = match subject {
            Subject::Ip(ip) => ("ip", ip, self.settings.per_ip),
            Subject::Account(account) => ("account", account, self.settings.per_account),
            Subject::AiUser(user) => ("user", user, self.settings.ai_per_user),
        };
        let bucket = format!("{route}:{kind}:{who}");
        let now = Utc::now().timestamp();
        let window = self.settings.window_secs.max(1);
        let count = rate_limits::hit(self.db.conn(), &bucket, window, now).await?;
        if count.hits == 1 && rand::random::<u16>().is_multiple_of(PRUNE_ONE_IN) {
            // Old windows are dead weight; clearing them now and then keeps the table small
            // without a scheduler. Any replica may do it, and doing it twice is harmless.
            if let Err(error) = rate_limits::prune(self.db.conn(), now - 2 * window).await {
                tracing::warn!(error = %error, "pruning old rate-limit windows failed");
            }
        }
        if count.hits > limit {
            let retry_after = (count.window_start + window - now).max(1);
            tracing::info!(route, kind, "rate limit reached");
            return Err(ApiError::RateLimited { retry_after_secs: retry_after.unsigned_abs() });
        }
        Ok(())
    }
}
