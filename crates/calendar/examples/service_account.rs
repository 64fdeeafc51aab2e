//! A service account acting as a Workspace user (domain-wide delegation).
//!
//! ```sh
//! GOOGLE_SERVICE_ACCOUNT_FILE=key.json GOOGLE_SUBJECT=ada@example.com \
//!     cargo run -p planwright-calendar --example service_account
//! ```

use std::io::Write;

use planwright_calendar::{Client, Config, EventListParams, ServiceAccountTokenSource, scopes};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key_file =
        std::env::var("GOOGLE_SERVICE_ACCOUNT_FILE").map_err(|_| "set GOOGLE_SERVICE_ACCOUNT_FILE")?;
    let subject = std::env::var("GOOGLE_SUBJECT").ok();
    let source = ServiceAccountTokenSource::from_file(key_file, [scopes::CALENDAR_EVENTS], subject).await?;
    let client = Client::new(Config::new().with_token_source(source))?;

    let page = client.events().list("primary", &EventListParams::new().with_max_results(10)).await?;
    let mut out = std::io::stdout().lock();
    for event in page.items {
        writeln!(out, "{}", event.summary.unwrap_or_default())?;
    }
    Ok(())
}
