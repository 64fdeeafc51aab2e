//! `planwright backup <file>` and `planwright restore <file>` for the embedded SQLite database.
//!
//! A backup is taken with `VACUUM INTO` while the server runs: one read transaction, so the copy
//! holds exactly the transactions committed before it began. It is written next to the target
//! under a temporary name, checked (`PRAGMA integrity_check`, migrations present) and only then
//! renamed into place, so a file at the target path is always a whole backup. A restore (server
//! stopped) checks the backup the same way before it replaces the database, and keeps the
//! database it replaces as `<database>.before-restore-<unix time>`. PostgreSQL is backed up with
//! `pg_dump` / `pg_restore` (docs/OPERATIONS.md).

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::{Context, bail};
use planwright_api::settings::DatabaseSettings;
use planwright_store::Database;

use crate::database;

/// What a backup or restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The file written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Schema migrations recorded in it.
    pub migrations: u64,
    /// Where the replaced database was kept (restore only).
    pub kept: Option<PathBuf>,
}

/// The file of an SQLite URL (`sqlite://data/planwright.db?mode=rwc` → `data/planwright.db`),
/// or `None` for another database or an in-memory one.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then(|| PathBuf::from(path))
}

fn require_sqlite(settings: &DatabaseSettings, verb: &str) -> anyhow::Result<PathBuf> {
    sqlite_path(&settings.url).ok_or_else(|| {
        anyhow::anyhow!(
            "`planwright {verb}` works on an SQLite database file; the configured database is {}. \
             For PostgreSQL use pg_dump / pg_restore (see docs/OPERATIONS.md, \"Backups\").",
            database::redact(&settings.url)
        )
    })
}

/// Copies the configured SQLite database to `target` consistently, even while a server writes.
pub async fn backup(settings: &DatabaseSettings, target: &Path) -> anyhow::Result<Outcome> {
    let source = require_sqlite(settings, "backup")?;
    if !source.is_file() {
        bail!("there is no database at {} to back up", source.display());
    }
    if target.exists() {
        bail!("{} already exists; choose a new file name", target.display());
    }
    let partial = sibling(target, "partial");
    remove_if_present(&partial)?;
    let db = database::connect(settings).await?;
    let copied = db.vacuum_into(&partial).await.context("copying the database failed");
    db.close().await?;
    copied?;
    let migrations = match check(&partial, settings).await {
        Ok(migrations) => migrations,
        Err(error) => {
            remove_sqlite_files(&partial)?;
            return Err(error.context("the copy did not pass its check and was removed"));
        }
    };
    std::fs::rename(&partial, target)
        .with_context(|| format!("cannot move the copy to {}", target.display()))?;
    Ok(Outcome { bytes: size(target), path: target.to_owned(), migrations, kept: None })
}

/// Replaces the configured SQLite database with the backup at `source`. The server must be
/// stopped: a write-ahead log beside the database means it is open (or was not shut down
/// cleanly), and the restore is refused unless `force` is set.
pub async fn restore(settings: &DatabaseSettings, source: &Path, force: bool) -> anyhow::Result<Outcome> {
    let target = require_sqlite(settings, "restore")?;
    if !source.is_file() {
        bail!("there is no backup at {}", source.display());
    }
    let wal = target.with_file_name(format!("{}-wal", file_name(&target)));
    if wal.exists() && !force {
        bail!(
            "{} exists: a server still has the database open (or stopped uncleanly). Stop every \
             server first; pass --force to restore anyway",
            wal.display()
        );
    }
    if let Some(folder) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let incoming = sibling(&target, "restoring");
    remove_if_present(&incoming)?;
    std::fs::copy(source, &incoming).with_context(|| format!("cannot copy {}", source.display()))?;
    let migrations = match check(&incoming, settings).await {
        Ok(migrations) => migrations,
        Err(error) => {
            remove_sqlite_files(&incoming)?;
            return Err(
                error.context(format!("{} is not a usable backup; nothing was changed", source.display()))
            );
        }
    };
    let kept = if target.exists() {
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
        let kept = target.with_file_name(format!("{}.before-restore-{stamp}", file_name(&target)));
        std::fs::rename(&target, &kept).with_context(|| format!("cannot move {} aside", target.display()))?;
        Some(kept)
    } else {
        None
    };
    for suffix in ["-wal", "-shm"] {
        remove_if_present(&target.with_file_name(format!("{}{suffix}", file_name(&target))))?;
    }
    std::fs::rename(&incoming, &target)
        .with_context(|| format!("cannot move the backup to {}", target.display()))?;
    Ok(Outcome { bytes: size(&target), path: target, migrations, kept })
}

/// Opens the SQLite file at `path`, runs the integrity check and counts its migrations.
async fn check(path: &Path, settings: &DatabaseSettings) -> anyhow::Result<u64> {
    let url = format!("sqlite://{}?mode=rw", path.display());
    let db = Database::connect(&url, 1, Duration::from_secs(settings.connect_timeout_secs))
        .await
        .with_context(|| format!("cannot open {}", path.display()))?;
    let result = async {
        db.integrity_check().await?;
        let migrations = db.applied_migrations().await?;
        if migrations == 0 {
            bail!("{} holds no Planwright schema (no applied migrations)", path.display());
        }
        Ok(migrations)
    }
    .await;
    db.close().await?;
    result
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    path.with_file_name(format!("{}.{suffix}", file_name(path)))
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Removes an SQLite file and its write-ahead log and shared-memory files.
fn remove_sqlite_files(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        remove_if_present(&path.with_file_name(format!("{}{suffix}", file_name(path))))?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error).with_context(|| format!("cannot remove {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths_are_read_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://data/planwright.db?mode=rwc"),
            Some(PathBuf::from("data/planwright.db"))
        );
        assert_eq!(sqlite_path("sqlite:///var/lib/pw.db"), Some(PathBuf::from("/var/lib/pw.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://postgres@127.0.0.1/test"), None);
    }
}
