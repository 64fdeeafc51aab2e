//! Lists the user's calendars, syncs the primary calendar and asks for tomorrow's free/busy.
//!
//! ```sh
//! GOOGLE_ACCESS_TOKEN=ya29... cargo run -p planwright-calendar --example list_events
//! ```
//! (An access token for a quick try can come from the OAuth 2.0 Playground or `oauth_flow`.)

use std::io::Write;

use chrono::{Duration, Utc};
use planwright_calendar::{CalendarListParams, Client, Config, EventListParams, FreeBusyRequest};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let token = std::env::var("GOOGLE_ACCESS_TOKEN").map_err(|_| "set GOOGLE_ACCESS_TOKEN")?;
    let client = Client::new(Config::new().with_access_token(token))?;
    let mut out = std::io::stdout().lock();

    for calendar in client.calendar_list().list_all(&CalendarListParams::new()).await? {
        let marker = if calendar.primary { " (primary)" } else { "" };
        writeln!(out, "calendar {}{marker}: {}", calendar.id, calendar.summary.unwrap_or_default())?;
    }

    // A full sync of the next 30 days; store `next_sync_token` and pass it back with
    // `with_sync_token` (and without the time filters) to get only what changed.
    let now = Utc::now();
    let params = EventListParams::new()
        .with_single_events(true)
        .with_time_min(now)
        .with_time_max(now + Duration::days(30));
    let synced = client.events().sync("primary", &params).await?;
    for event in &synced.items {
        let start = event.start.as_ref().and_then(|start| start.date_time.map(|at| at.to_rfc3339()));
        writeln!(
            out,
            "{:>25}  {}",
            start.unwrap_or_else(|| "all day".to_owned()),
            event.summary.as_deref().unwrap_or("(no title)")
        )?;
    }
    writeln!(
        out,
        "{} events in {} pages; next sync token stored: {}",
        synced.items.len(),
        synced.pages,
        synced.next_sync_token.is_some()
    )?;

    let tomorrow = now + Duration::days(1);
    let busy =
        client.free_busy(&FreeBusyRequest::new(tomorrow, tomorrow + Duration::days(1), ["primary"])).await?;
    for period in busy.calendars.get("primary").map(|calendar| calendar.busy.as_slice()).unwrap_or_default() {
        writeln!(out, "busy {} – {}", period.start, period.end)?;
    }
    Ok(())
}
