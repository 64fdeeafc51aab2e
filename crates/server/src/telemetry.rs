//! Logging: compact lines for people, JSON for pipelines; `RUST_LOG` overrides `log.filter`.

use std::io::IsTerminal;

use planwright_api::settings::{LogFormat, LogSettings};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. Safe to call twice (the second call does nothing).
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match settings.format {
        LogFormat::Json => {
            registry.with(fmt::layer().json().flatten_event(true).with_current_span(true)).try_init()
        }
        // Colour only on a terminal: a file or a log collector would get escape codes.
        LogFormat::Compact => registry
            .with(fmt::layer().compact().with_target(false).with_ansi(std::io::stdout().is_terminal()))
            .try_init(),
    };
}
