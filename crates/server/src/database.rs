//! Opening the database (creating the SQLite file's folder) and running migrations.

use std::{path::Path, time::Duration};

use migration::{Migrator, MigratorTrait};
use planwright_api::settings::DatabaseSettings;
use planwright_store::Database;

/// Opens the pool, creating the folder of an SQLite file first, and applies pending migrations
/// when `database.run_migrations` is on. When it is off (production), a database with pending
/// migrations is refused with one line saying what to run, instead of failing request by request.
pub async fn prepare(settings: &DatabaseSettings) -> anyhow::Result<Database> {
    let db = connect(settings).await?;
    if settings.run_migrations {
        Migrator::up(db.writer(), None)
            .await
            .map_err(|e| anyhow::anyhow!("applying migrations failed: {e}"))?;
    } else {
        let pending = Migrator::get_pending_migrations(db.conn())
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the applied migrations: {e}"))?;
        if let Some(first) = pending.first() {
            anyhow::bail!(
                "the database at {} has {} pending migration(s) (the first: {}): run `planwright migrate up` first",
                redact(&settings.url),
                pending.len(),
                first.name()
            );
        }
    }
    Ok(db)
}

/// Opens the pool without migrating.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Database> {
    let url = sqlite_url_with_folder(&settings.url)?;
    Database::connect(&url, settings.max_connections, Duration::from_secs(settings.connect_timeout_secs))
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database at {}: {e}", redact(&settings.url)))
}

/// For an SQLite file URL, creates the file's folder and makes sure the file is created too.
fn sqlite_url_with_folder(url: &str) -> anyhow::Result<String> {
    let Some(rest) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) else {
        return Ok(url.to_owned());
    };
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path.contains(":memory:") {
        return Ok(url.to_owned());
    }
    if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| anyhow::anyhow!("cannot create the database folder {}: {e}", parent.display()))?;
    }
    if query.split('&').any(|pair| pair.starts_with("mode=")) {
        Ok(url.to_owned())
    } else if query.is_empty() {
        Ok(format!("{url}?mode=rwc"))
    } else {
        Ok(format!("{url}&mode=rwc"))
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/planwright"),
            "postgres://app:***@db:5432/planwright"
        );
        assert_eq!(redact("postgres://postgres@127.0.0.1/test"), "postgres://postgres@127.0.0.1/test");
        assert_eq!(
            redact("sqlite://./data/planwright.db?mode=rwc"),
            "sqlite://./data/planwright.db?mode=rwc"
        );
    }

    #[test]
    fn an_unmigrated_database_is_refused_with_the_command_to_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = DatabaseSettings {
            url: format!("sqlite://{}", dir.path().join("fresh.db").display()),
            run_migrations: false,
            max_connections: 2,
            connect_timeout_secs: 5,
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let error = runtime.block_on(prepare(&settings)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("pending migration") && error.contains("planwright migrate up"), "{error}");

        let migrated = DatabaseSettings { run_migrations: true, ..settings.clone() };
        runtime
            .block_on(async { prepare(&migrated).await.expect("migrates").close().await.expect("closes") });
        let db = runtime.block_on(prepare(&settings)).expect("a migrated database is accepted");
        runtime.block_on(db.close()).expect("closes");
    }

    #[test]
    fn sqlite_folder_is_created_and_mode_added() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("nested/deeper/app.db");
        let url = format!("sqlite://{}", path.display());
        let fixed = sqlite_url_with_folder(&url).expect("url");
        assert_eq!(fixed, format!("{url}?mode=rwc"));
        assert!(path.parent().is_some_and(Path::exists));
        assert_eq!(sqlite_url_with_folder("postgres://x@y/z").ok().as_deref(), Some("postgres://x@y/z"));
    }
}
