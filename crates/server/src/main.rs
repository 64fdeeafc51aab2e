//! `planwright`: the Planwright server.
//!
//! ```text
//! planwright [serve]                     start the HTTP server (the default)
//! planwright migrate up|down|status|fresh
//! planwright openapi                     print the OpenAPI document (JSON) to stdout
//! planwright backup <file>               copy the SQLite database consistently (server may run)
//! planwright restore <file> [--force]    put a backup back (server stopped)
//! ```

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use planwright::{backup, configuration, database, telemetry};
use planwright_api::{Application, settings::Environment};

#[derive(Debug, Parser)]
#[command(name = "planwright", version, about = "Planwright: goals to plans, on your calendar.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP server (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the OpenAPI document as JSON.
    Openapi,
    /// Copy the SQLite database to a new file, consistently, while the server may run
    /// (PostgreSQL: use pg_dump).
    Backup {
        /// The backup file to create; it must not exist.
        file: PathBuf,
    },
    /// Replace the SQLite database with a backup; stop every server first (PostgreSQL: use
    /// pg_restore). The replaced database is kept beside it.
    Restore {
        /// The backup file to restore.
        file: PathBuf,
        /// Restore even though the database looks open (a write-ahead log is beside it).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the newest applied migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and re-apply all migrations (refused in production).
    Fresh,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        return print_openapi();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the async runtime: {error}")),
    };
    let loaded = match configuration::load() {
        Ok(loaded) => loaded,
        Err(error) => return fail(&error.to_string()),
    };
    let _log_writer = telemetry::init(&loaded.settings.log);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Migrate { action } => migrate(&loaded, action).await,
            Command::Backup { file } => {
                backup::backup(&loaded.settings.database, &file).await.map(|done| report("backed up", &done))
            }
            Command::Restore { file, force } => backup::restore(&loaded.settings.database, &file, force)
                .await
                .map(|done| report("restored", &done)),
            _ => serve(loaded).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!("{error:#}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("planwright: {message}");
    ExitCode::FAILURE
}

#[allow(clippy::print_stdout)]
fn print_openapi() -> ExitCode {
    match planwright_api::openapi::document().to_pretty_json() {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("cannot serialise the OpenAPI document: {error}")),
    }
}

async fn serve(loaded: configuration::Loaded) -> anyhow::Result<()> {
    let settings = loaded.settings;
    let db = database::prepare(&settings.database).await?;
    let backend = db.backend();
    let application = Application::build(settings.clone(), db.clone()).await?;
    let address = format!("http://{}:{}", settings.server.host, application.port());
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        environment = loaded.environment.as_str(),
        address = %address,
        docs = %format!("{address}/docs"),
        database = %backend,
        database_url = %database::redact(&settings.database.url),
        migrations = if settings.database.run_migrations { "applied at start" } else { "manual" },
        ai_provider = application.ai_provider(),
        calendar_provider = application.calendar_provider(),
        "Planwright is listening"
    );
    application.run_until_stopped().await?;
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

#[allow(clippy::print_stdout)]
fn report(verb: &str, done: &backup::Outcome) {
    println!(
        "{verb}: {} ({} bytes, {} migrations applied)",
        done.path.display(),
        done.bytes,
        done.migrations
    );
    if let Some(kept) = &done.kept {
        println!("the replaced database is kept at {}", kept.display());
    }
}

#[allow(clippy::print_stdout)]
async fn migrate(loaded: &configuration::Loaded, action: MigrateAction) -> anyhow::Result<()> {
    let db = database::connect(&loaded.settings.database).await?;
    let conn = db.writer();
    match action {
        MigrateAction::Up => Migrator::up(conn, None).await?,
        MigrateAction::Down => Migrator::down(conn, Some(1)).await?,
        MigrateAction::Fresh if loaded.environment == Environment::Production => {
            anyhow::bail!("`migrate fresh` drops every table and is refused when PLANWRIGHT_ENV=production");
        }
        MigrateAction::Fresh => Migrator::fresh(conn).await?,
        MigrateAction::Status => {}
    }
    for migration in Migrator::get_migration_with_status(conn).await? {
        println!("{:<8} {}", format!("{:?}", migration.status()).to_lowercase(), migration.name());
    }
    db.close().await?;
    Ok(())
}
