//! Logging: compact lines for people, JSON for pipelines; `RUST_LOG` overrides `log.filter`.
//!
//! Lines are formatted on the thread that logs them and written to stdout by one background
//! thread, which writes whatever has queued up since its last write in one go: under load a
//! request no longer pays a `write` call for its access line. Nothing is dropped: when the queue
//! is full, logging waits. The guard [`init`] returns flushes the queue when dropped, so the
//! binary holds it until it exits.

use std::io::{BufWriter, IsTerminal};

use planwright_api::settings::{LogFormat, LogSettings};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Lines that may wait for the writer thread before logging waits for it.
const QUEUED_LINES: usize = 8 * 1024;

/// Installs the global subscriber. Safe to call twice: the second call does nothing and answers
/// `None`. Keep the guard until the process ends; dropping it writes out what is queued.
#[must_use = "dropping the guard stops the log writer"]
pub fn init(settings: &LogSettings) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(QUEUED_LINES)
        .thread_name("planwright-log")
        .finish(BufWriter::new(std::io::stdout()));
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match settings.format {
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_writer(writer))
            .try_init(),
        // Colour only on a terminal: a file or a log collector would get escape codes.
        LogFormat::Compact => registry
            .with(
                fmt::layer()
                    .compact()
                    .with_target(false)
                    .with_ansi(std::io::stdout().is_terminal())
                    .with_writer(writer),
            )
            .try_init(),
    };
    installed.is_ok().then_some(guard)
}
