//! `planwright-fakes`: runs the fake upstreams (today: Gemini) on a fixed local port for frontend
//! work and manual testing, until Ctrl-C.
//!
//! ```text
//! cargo run -p planwright-tests --bin planwright-fakes -- --port 8090
//! ```

use std::io::Write;

use clap::Parser;
use planwright_tests::fake_gemini::FakeGemini;
use tracing_subscriber::EnvFilter;

/// Fake upstream servers that speak the real wire formats.
#[derive(Debug, Parser)]
#[command(
    name = "planwright-fakes",
    version,
    about = "Fake upstream servers (today: Gemini) that speak the real wire formats, for local frontend work."
)]
struct Args {
    /// Port to listen on (127.0.0.1).
    #[arg(long, env = "PLANWRIGHT_FAKES_PORT", default_value_t = 8090)]
    port: u16,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .compact()
        .init();

    let gemini = FakeGemini::start_on(args.port).await?;
    let base_url = gemini.base_url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "fake Gemini listening on {base_url} (API key: {})", gemini.api_key())?;
    writeln!(out, "  point Planwright at it:")?;
    writeln!(out, "    PLANWRIGHT__AI__PROVIDER=gemini")?;
    writeln!(out, "    PLANWRIGHT__AI__GEMINI_BASE_URL={base_url}")?;
    writeln!(out, "    PLANWRIGHT__AI__GEMINI_API_KEY={}", gemini.api_key())?;
    writeln!(
        out,
        "  controls: POST {base_url}/_fake/faults, /_fake/latency, /_fake/reset; GET /_fake/requests"
    )?;
    writeln!(out, "  (GET {base_url}/ lists the routes and fault names; Ctrl-C stops)")?;
    drop(out);

    tokio::signal::ctrl_c().await?;
    tracing::info!("stopping");
    gemini.stop().await;
    Ok(())
}
