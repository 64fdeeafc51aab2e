//! Consistent copies of an SQLite database, for `planwright backup` / `planwright restore`.
//! (PostgreSQL is backed up with `pg_dump`; see docs/OPERATIONS.md.)

use std::path::Path;

use sea_orm::{ConnectionTrait, Statement};

use crate::{Backend, Database, StoreError};

impl Database {
    /// Writes a consistent copy of this SQLite database to `path` with `VACUUM INTO`: one read
    /// transaction, so the copy holds every transaction committed before it started and none
    /// after, while other connections (a running server) keep writing. `path` must not exist.
    pub async fn vacuum_into(&self, path: &Path) -> Result<(), StoreError> {
        self.require_sqlite("VACUUM INTO")?;
        let target = path.to_str().ok_or_else(|| {
            StoreError::Database(sea_orm::DbErr::Custom(format!(
                "the path {} is not valid UTF-8",
                path.display()
            )))
        })?;
        let statement = Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Sqlite,
            "VACUUM INTO ?",
            [target.into()],
        );
        self.conn().execute_raw(statement).await?;
        Ok(())
    }

    /// SQLite's `PRAGMA integrity_check`: `Ok(())` when it answers `ok`, else its findings.
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        self.require_sqlite("PRAGMA integrity_check")?;
        let statement =
            Statement::from_string(sea_orm::DatabaseBackend::Sqlite, "PRAGMA integrity_check".to_owned());
        let rows = self.conn().query_all_raw(statement).await?;
        let findings: Vec<String> =
            rows.iter().filter_map(|row| row.try_get_by_index::<String>(0).ok()).collect();
        if findings == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Database(sea_orm::DbErr::Custom(format!(
                "the integrity check failed: {}",
                findings.join("; ")
            ))))
        }
    }

    /// How many schema migrations the database records as applied (0 when it has no
    /// migration table, i.e. it is not a Planwright database).
    pub async fn applied_migrations(&self) -> Result<u64, StoreError> {
        let backend = self.conn().get_database_backend();
        let exists = match self.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'seaql_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'seaql_migrations'"
            }
        };
        let count = |sql: &str| {
            let statement = Statement::from_string(backend, sql.to_owned());
            async move {
                let row = self.conn().query_one_raw(statement).await?;
                Ok::<i64, StoreError>(row.and_then(|r| r.try_get::<i64>("", "n").ok()).unwrap_or(0))
            }
        };
        if count(exists).await? == 0 {
            return Ok(0);
        }
        let applied = count("SELECT COUNT(*) AS n FROM seaql_migrations").await?;
        Ok(u64::try_from(applied).unwrap_or(0))
    }

    fn require_sqlite(&self, what: &str) -> Result<(), StoreError> {
        match self.backend() {
            Backend::Sqlite => Ok(()),
            Backend::Postgres => Err(StoreError::Database(sea_orm::DbErr::Custom(format!(
                "{what} is for SQLite; back up PostgreSQL with pg_dump (docs/OPERATIONS.md)"
            )))),
        }
    }
}
