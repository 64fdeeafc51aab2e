//! The server's settings, as loaded from `config/*.toml` and `PLANWRIGHT__SECTION__KEY` variables.
//!
//! Every key is documented in `config/default.toml`; the loader lives in the `planwright` binary.

use secrecy::SecretString;
use serde::Deserialize;

/// Which deployment the settings describe (`PLANWRIGHT_ENV`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Local work: secrets may be generated, logs are compact.
    Development,
    /// The automated test suite.
    Test,
    /// Real users: every secret must be configured.
    Production,
}

impl Environment {
    /// The name used for `config/{name}.toml`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

impl std::str::FromStr for Environment {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw.trim().to_lowercase().as_str() {
            "development" | "dev" | "local" => Ok(Self::Development),
            "test" => Ok(Self::Test),
            "production" | "prod" => Ok(Self::Production),
            other => Err(format!("PLANWRIGHT_ENV={other:?} is not one of development, test, production")),
        }
    }
}

/// All settings.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// HTTP listener and request handling.
    pub server: ServerSettings,
    /// Where data lives.
    pub database: DatabaseSettings,
    /// Tokens and password hashing.
    pub auth: AuthSettings,
    /// Encryption of secrets at rest.
    pub security: SecuritySettings,
    /// Cross-origin access for browser frontends.
    pub cors: CorsSettings,
    /// Limits on the account routes.
    pub rate_limit: RateLimitSettings,
    /// Log format and filter.
    pub log: LogSettings,
    /// The AI behind plans and breakdowns.
    pub ai: AiSettings,
    /// The knowledge base.
    pub knowledge: KnowledgeSettings,
    /// The chat.
    pub chat: ChatSettings,
    /// The Google OAuth client and endpoints.
    pub google: GoogleSettings,
    /// Calendar sync.
    pub calendar: CalendarSettings,
}

/// The Google OAuth client (Calendar access) and Google's endpoints.
#[derive(Debug, Clone, Deserialize)]
pub struct GoogleSettings {
    /// OAuth client id; Google Calendar is offered only when a client is configured.
    pub client_id: Option<String>,
    /// OAuth client secret; never logged.
    pub client_secret: Option<SecretString>,
    /// Google's downloaded `client_secret.json` (`web` or `installed`), instead of the two above.
    pub client_secret_file: Option<String>,
    /// The callback URL registered with Google (this server's
    /// `/api/v1/calendar/google/callback`, as the browser reaches it).
    pub redirect_uri: String,
    /// Frontend origins a connection may return to (`redirect_to`); the first is the default.
    pub frontend_origins: Vec<String>,
    /// Google's authorization endpoint.
    pub auth_url: String,
    /// Google's token endpoint.
    pub token_url: String,
    /// Google's revocation endpoint.
    pub revoke_url: String,
    /// The Calendar API's base URL.
    pub calendar_base_url: String,
    /// Seconds one Google call may take.
    pub timeout_secs: u64,
    /// Retries of a rate-limited or failed Google call, with jittered backoff.
    pub max_retries: u32,
}

/// Calendar sync.
#[derive(Debug, Clone, Deserialize)]
pub struct CalendarSettings {
    /// Seconds between background syncs of a connection; 0 turns background sync off.
    pub sync_interval_secs: u64,
    /// Up to this many seconds are added at random to each interval, so replicas spread out.
    pub sync_jitter_secs: u64,
    /// A full sync reads events from this many days ago...
    pub sync_past_days: u32,
    /// ...to this many days ahead.
    pub sync_future_days: u32,
    /// The public URL of `/api/v1/calendar/google/notifications`; set, connections open push
    /// channels and Google's notifications trigger incremental syncs.
    pub webhook_url: Option<String>,
    /// Hours a push channel is asked to live; it is renewed a day before it ends.
    pub channel_ttl_hours: u32,
    /// Milliseconds a re-plan waits after a sync brought changes, so a burst of pushes leads to
    /// one re-plan.
    #[serde(default = "default_replan_debounce_ms")]
    pub replan_debounce_ms: u64,
    /// Seconds between periodic re-plans (missed blocks roll forward); 0 turns the tick off.
    #[serde(default = "default_replan_interval_secs")]
    pub replan_interval_secs: u64,
    /// Seconds writes to a Google calendar stay stopped after Google answered with its Calendar
    /// usage limits (`quotaExceeded`); meanwhile scheduling there answers 503 and re-planning
    /// leaves the connection alone.
    #[serde(default = "default_write_pause_secs")]
    pub write_pause_secs: u64,
}

fn default_write_pause_secs() -> u64 {
    3600
}

fn default_replan_debounce_ms() -> u64 {
    1000
}

fn default_replan_interval_secs() -> u64 {
    300
}

/// The chat.
#[derive(Debug, Clone, Deserialize)]
pub struct ChatSettings {
    /// Tokens (estimated) of instructions, grounding and history sent with each message; the
    /// oldest turns that do not fit are left out.
    pub context_tokens: u32,
    /// Most tokens one answer may have.
    pub max_output_tokens: u32,
    /// Most rounds of tool calls for one message (each one more model call, counted in the AI
    /// budget); after them the model must answer in text.
    #[serde(default = "default_max_tool_rounds")]
    pub max_tool_rounds: u32,
}

fn default_max_tool_rounds() -> u32 {
    4
}

/// The knowledge base.
#[derive(Debug, Clone, Deserialize)]
pub struct KnowledgeSettings {
    /// Folder of global documents (Markdown and JSON), loaded at start-up; missing means none.
    pub dir: String,
}

/// The AI behind plans and breakdowns.
#[derive(Debug, Clone, Deserialize)]
pub struct AiSettings {
    /// Which provider answers: `auto` (Gemini when a key is set, else offline), `gemini`, `offline`.
    pub provider: AiProviderKind,
    /// Tokens one user may spend per UTC day; 0 turns the budget off.
    pub daily_token_budget: i64,
    /// Gemini API key; never logged.
    pub gemini_api_key: Option<SecretString>,
    /// Gemini API base URL (a fake server's in tests).
    pub gemini_base_url: String,
    /// Gemini model.
    pub model: String,
    /// Seconds one Gemini attempt may take.
    pub timeout_secs: u64,
    /// Retries of a failed Gemini call (429, 5xx, timeouts), with jittered backoff.
    pub max_retries: u32,
    /// How much Gemini thinks: `minimal`, `low`, `medium`, `high` (a level for Gemini 3, the
    /// nearest budget for 2.5).
    #[serde(default = "default_thinking_level")]
    pub thinking_level: String,
    /// Models tried in order when Google says `model` does not exist (404 `NOT_FOUND`).
    #[serde(default)]
    pub fallback_models: Vec<String>,
    /// Whether an unknown or retired `model` at start-up stops the server (production) instead
    /// of falling back to the offline planner with a warning.
    #[serde(default)]
    pub require_model: bool,
    /// Whether start-up asks Google about `model` (`models.get`) at all. Off only for stand-ins
    /// that serve `generateContent` alone (the benchmark's fake Gemini).
    #[serde(default = "default_true")]
    pub check_model: bool,
    /// The embedding model behind semantic search (Gemini only; offline has no embeddings).
    /// Changing it re-embeds every chunk in the background.
    #[serde(default = "default_embedding_model")]
    pub embedding_model: String,
    /// Values per embedding (`outputDimensionality`), 128–3072.
    #[serde(default = "default_embedding_dimensions")]
    pub embedding_dimensions: u32,
    /// Chunks embedded per `batchEmbedContents` call (1–100).
    #[serde(default = "default_embedding_batch_size")]
    pub embedding_batch_size: u32,
    /// Most embedding calls the indexing job makes per minute; 0 means no limit.
    #[serde(default = "default_embedding_batches_per_minute")]
    pub embedding_batches_per_minute: u32,
    /// Seconds between the indexing job's passes over pending chunks when nothing wakes it
    /// (it also runs right after each document change); 0 turns background indexing off.
    #[serde(default = "default_embedding_interval_secs")]
    pub embedding_interval_secs: u64,
    /// Least cosine similarity for a chunk to count as a semantic match: below it a document is
    /// not a candidate at all, so unrelated documents never ground an answer.
    #[serde(default = "default_embedding_min_similarity")]
    pub embedding_min_similarity: f32,
    /// Tokens the server may spend per UTC day embedding the global knowledge documents (the
    /// system budget, counted in `system_ai_usage`); when spent, their embedding pauses until
    /// the next day and full-text search serves what is not embedded. 0 turns the cap off.
    #[serde(default = "default_system_daily_token_budget")]
    pub system_daily_token_budget: i64,
}

fn default_system_daily_token_budget() -> i64 {
    1_000_000
}

fn default_embedding_min_similarity() -> f32 {
    0.1
}

fn default_embedding_model() -> String {
    "gemini-embedding-001".to_owned()
}

fn default_embedding_dimensions() -> u32 {
    768
}

fn default_embedding_batch_size() -> u32 {
    50
}

fn default_embedding_batches_per_minute() -> u32 {
    60
}

fn default_embedding_interval_secs() -> u64 {
    30
}

fn default_true() -> bool {
    true
}

fn default_thinking_level() -> String {
    "minimal".to_owned()
}

/// The AI providers there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AiProviderKind {
    /// Gemini when `gemini_api_key` is set, the offline planner otherwise.
    Auto,
    /// Google's Gemini (needs `gemini_api_key`).
    Gemini,
    /// The deterministic rule-based planner.
    Offline,
}

/// HTTP listener and request handling.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    /// Address to bind (`127.0.0.1`, `0.0.0.0`).
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// Worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// Largest JSON body accepted, in bytes.
    pub json_body_limit_bytes: usize,
    /// Take the client address from `X-Forwarded-For`/`Forwarded` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    /// The server's public address (`https://api.example.com`), for links it hands out (the ICS
    /// feed URL); unset, they are built from the request's scheme and host.
    #[serde(default)]
    pub public_base_url: Option<String>,
}

/// Where data lives.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    pub url: String,
    /// Apply pending migrations at start-up.
    pub run_migrations: bool,
    /// Pool size.
    pub max_connections: u32,
    /// Seconds to wait for a connection.
    pub connect_timeout_secs: u64,
}

/// Tokens and password hashing.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HS256 key for access tokens; generated in development when unset.
    pub jwt_secret: Option<SecretString>,
    /// Lifetime of an access token, in seconds.
    pub access_token_ttl_secs: i64,
    /// Lifetime of a refresh token, in days.
    pub refresh_token_ttl_days: i64,
    /// argon2id memory cost, in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes.
    pub argon2_iterations: u32,
    /// Seconds a server trusts that an account it saw on an authenticated request still exists
    /// (0: read the users table on every request). The server that deletes an account forgets
    /// it at once; other replicas may accept its still-valid access tokens this long.
    pub known_account_secs: u64,
}

/// Encryption of secrets at rest.
#[derive(Debug, Clone, Deserialize)]
pub struct SecuritySettings {
    /// Base64 of 32 random bytes (AES-256-GCM key); generated in development when unset.
    pub encryption_key: Option<SecretString>,
    /// Earlier keys, still used to open values sealed before a rotation.
    #[serde(default)]
    pub previous_encryption_keys: Vec<SecretString>,
}

/// Cross-origin access for browser frontends.
#[derive(Debug, Clone, Deserialize)]
pub struct CorsSettings {
    /// Exact origins allowed (`https://app.example.com`); empty allows none; `*` allows any.
    pub allowed_origins: Vec<String>,
    /// Allow cookies/credentials; only honoured with explicit origins.
    pub allow_credentials: bool,
    /// Seconds a browser may cache a preflight answer.
    pub max_age_secs: usize,
}

/// Limits on the account routes.
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    /// Turn the limits on or off.
    pub enabled: bool,
    /// Length of one counting window, in seconds.
    pub window_secs: i64,
    /// Requests per window from one client address, per route.
    pub per_ip: i64,
    /// Requests per window for one account (email or user), per route.
    pub per_account: i64,
    /// AI requests (plans, breakdowns, chat) per window for one user, across those routes.
    pub ai_per_user: i64,
}

/// Log format and filter.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    /// `compact` for people, `json` for log pipelines.
    pub format: LogFormat,
    /// `tracing` filter directives, e.g. `info,planwright=debug`; `RUST_LOG` overrides.
    pub filter: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One short human line per event.
    Compact,
    /// One JSON object per event.
    Json,
}

impl Settings {
    /// Checks values the types alone cannot: one message naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("server.json_body_limit_bytes", self.server.json_body_limit_bytes as i64),
            ("database.max_connections", i64::from(self.database.max_connections)),
            ("auth.access_token_ttl_secs", self.auth.access_token_ttl_secs),
            ("auth.refresh_token_ttl_days", self.auth.refresh_token_ttl_days),
            ("auth.argon2_iterations", i64::from(self.auth.argon2_iterations)),
            ("rate_limit.window_secs", self.rate_limit.window_secs),
            ("rate_limit.per_ip", self.rate_limit.per_ip),
            ("rate_limit.per_account", self.rate_limit.per_account),
        ];
        if let Some((key, value)) = positive.iter().find(|(_, value)| *value <= 0) {
            return Err(format!("{key} must be greater than 0 (it is {value})"));
        }
        let has_key = self.ai.gemini_api_key.as_ref().is_some_and(|k| {
            use secrecy::ExposeSecret;
            !k.expose_secret().trim().is_empty()
        });
        if self.ai.provider == AiProviderKind::Gemini && !has_key {
            return Err("ai.provider = \"gemini\" needs a key: set PLANWRIGHT__AI__GEMINI_API_KEY".to_owned());
        }
        if self.ai.timeout_secs == 0 {
            return Err("ai.timeout_secs must be greater than 0".to_owned());
        }
        if self.ai.system_daily_token_budget < 0 {
            return Err(format!(
                "ai.system_daily_token_budget must not be negative (it is {})",
                self.ai.system_daily_token_budget
            ));
        }
        if self.ai.daily_token_budget < 0 {
            return Err(format!(
                "ai.daily_token_budget must not be negative (it is {})",
                self.ai.daily_token_budget
            ));
        }
        if self.auth.argon2_memory_kib < 8 {
            return Err("auth.argon2_memory_kib must be at least 8".to_owned());
        }
        if let Some(secret) = &self.auth.jwt_secret {
            use secrecy::ExposeSecret;
            if secret.expose_secret().len() < 32 {
                return Err("auth.jwt_secret must have at least 32 characters".to_owned());
            }
        }
        for origin in &self.cors.allowed_origins {
            if origin != "*" && !is_origin(origin) {
                return Err(format!(
                    "cors.allowed_origins: {origin:?} is not an origin like \"https://app.example.com\" (scheme, host, optional port; no path)"
                ));
            }
        }
        if let Some(url) = self.server.public_base_url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            let host =
                url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")).unwrap_or_default();
            if host.is_empty() || host.starts_with('/') || url.contains(['?', '#']) {
                return Err(format!(
                    "server.public_base_url: {url:?} is not a base URL like \"https://api.example.com\""
                ));
            }
        }
        Ok(())
    }
}

fn is_origin(raw: &str) -> bool {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return false;
    };
    (scheme == "http" || scheme == "https")
        && !rest.is_empty()
        && !rest.contains('/')
        && rest.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}
