//! `planwright-fakes`: runs the fake upstreams (Gemini, and Google OAuth + Calendar v3) on fixed
//! local ports for frontend work and manual testing, until Ctrl-C.
//!
//! ```text
//! cargo run -p planwright-tests --bin planwright-fakes -- --port 8090   # Google on 8091
//! ```

use std::io::Write;

use clap::Parser;
use planwright_tests::fake_gemini::FakeGemini;
use planwright_tests::fake_google::{DEFAULT_ACCOUNT_EMAIL, FakeGoogle, FakeGoogleConfig};
use tracing_subscriber::EnvFilter;

/// Fake upstream servers that speak the real wire formats.
#[derive(Debug, Parser)]
#[command(
    name = "planwright-fakes",
    version,
    about = "Fake upstream servers (Gemini; Google OAuth + Calendar v3) that speak the real wire formats, \
             for local frontend work."
)]
struct Args {
    /// Port of the fake Gemini (127.0.0.1).
    #[arg(long, env = "PLANWRIGHT_FAKES_PORT", default_value_t = 8090)]
    port: u16,
    /// Start the fake Gemini in adversarial mode with this seed (random schema-valid answers,
    /// as an unfriendly real model may give them); `POST /_fake/mode` switches at run time.
    #[arg(long, env = "PLANWRIGHT_FAKES_GEMINI_SEED")]
    gemini_seed: Option<u64>,
    /// Port of the fake Google (127.0.0.1); defaults to `--port` + 1.
    #[arg(long, env = "PLANWRIGHT_FAKES_GOOGLE_PORT")]
    google_port: Option<u16>,
    /// The Google account that "signs in" and owns the primary calendar.
    #[arg(long, env = "PLANWRIGHT_FAKES_GOOGLE_ACCOUNT", default_value = DEFAULT_ACCOUNT_EMAIL)]
    google_account: String,
    /// A redirect URI to register (repeatable); with none, any http(s) redirect URI is accepted.
    #[arg(long)]
    google_redirect_uri: Vec<String>,
    /// IANA time zone of the fake Google calendars.
    #[arg(long, default_value = "UTC")]
    google_time_zone: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .compact()
        .init();

    let gemini = FakeGemini::start_on(args.port).await?;
    if let Some(seed) = args.gemini_seed {
        gemini.set_adversarial(seed);
    }
    let google_port = match args.google_port {
        Some(port) => port,
        None => {
            args.port.checked_add(1).ok_or("--port 65535 leaves no port for Google; set --google-port")?
        }
    };
    let mut config = FakeGoogleConfig::new()
        .with_port(google_port)
        .with_account_email(&args.google_account)
        .with_time_zone(&args.google_time_zone);
    for uri in &args.google_redirect_uri {
        config = config.with_redirect_uri(uri);
    }
    let google = FakeGoogle::start_with(config).await?;

    let base_url = gemini.base_url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "fake Gemini listening on {base_url} (API key: {})", gemini.api_key())?;
    writeln!(out, "  point Planwright at it:")?;
    writeln!(out, "    PLANWRIGHT__AI__PROVIDER=gemini")?;
    writeln!(out, "    PLANWRIGHT__AI__GEMINI_BASE_URL={base_url}")?;
    writeln!(out, "    PLANWRIGHT__AI__GEMINI_API_KEY={}", gemini.api_key())?;
    writeln!(
        out,
        "  controls: POST {base_url}/_fake/faults, /_fake/latency, /_fake/mode, /_fake/retired, /_fake/reset; \
         GET /_fake/requests"
    )?;
    writeln!(out, "  (GET {base_url}/ lists the routes and fault names)")?;
    writeln!(out)?;

    let urls = google.oauth_urls();
    let google_url = google.base_url();
    writeln!(
        out,
        "fake Google (OAuth 2.0 + Calendar v3) listening on {google_url} (account {})",
        google.account_email()
    )?;
    writeln!(out, "  point Planwright at it:")?;
    writeln!(out, "    PLANWRIGHT__GOOGLE__CLIENT_ID={}", google.client_id())?;
    writeln!(out, "    PLANWRIGHT__GOOGLE__CLIENT_SECRET={}", google.client_secret())?;
    writeln!(out, "    PLANWRIGHT__GOOGLE__AUTH_URL={}", urls.auth_url)?;
    writeln!(out, "    PLANWRIGHT__GOOGLE__TOKEN_URL={}", urls.token_url)?;
    writeln!(out, "    PLANWRIGHT__GOOGLE__REVOKE_URL={}", urls.revoke_url)?;
    writeln!(out, "    PLANWRIGHT__GOOGLE__CALENDAR_BASE_URL={}", urls.calendar_base_url)?;
    writeln!(out, "  (userinfo, unused by Planwright: {})", urls.userinfo_url)?;
    writeln!(
        out,
        "  \"Connect Google Calendar\" consents at once and redirects back. To try other answers:"
    )?;
    writeln!(
        out,
        "    POST {google_url}/_fake/consent '\"deny\"' | '{{\"withhold\": [\"calendar.events\"]}}' | '\"grant\"'"
    )?;
    writeln!(
        out,
        "  controls: POST {google_url}/_fake/faults, /_fake/latency, /_fake/settings, /_fake/expire-access-tokens,"
    )?;
    writeln!(
        out,
        "    /_fake/invalidate-sync-tokens, /_fake/revoke-all, /_fake/calendars/primary/events (seed an event)"
    )?;
    writeln!(out, "  (GET {google_url}/ lists every route and control; Ctrl-C stops)")?;
    drop(out);

    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    gemini.stop().await;
    google.stop().await;
    Ok(())
}
