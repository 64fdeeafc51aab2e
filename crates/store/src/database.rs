use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection};

use crate::StoreError;

/// Which engine a connection speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL (production).
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        })
    }
}

/// The connection pool, shared by every request and job.
#[derive(Debug, Clone)]
pub struct Database {
    conn: DatabaseConnection,
}

impl Database {
    /// Opens a pool to `url` (`sqlite://…?mode=rwc` or `postgres://…`).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        connect_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .connect_timeout(connect_timeout)
            .acquire_timeout(connect_timeout)
            .sqlx_logging(false);
        let conn = sea_orm::Database::connect(options).await?;
        if conn.get_database_backend() == DatabaseBackend::Sqlite {
            // WAL lets readers run beside the one writer; the busy timeout queues writers
            // instead of failing them with SQLITE_BUSY under concurrent requests.
            for pragma in
                ["PRAGMA journal_mode = WAL", "PRAGMA busy_timeout = 5000", "PRAGMA foreign_keys = ON"]
            {
                conn.execute_unprepared(pragma).await?;
            }
        }
        Ok(Self { conn })
    }

    /// Wraps an existing connection (tests, tools).
    pub fn from_connection(conn: DatabaseConnection) -> Self {
        Self { conn }
    }

    /// The pool, for repositories and transactions.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        match self.conn.get_database_backend() {
            DatabaseBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// Answers whether the database responds to a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn.ping().await.map_err(StoreError::from)
    }

    /// Closes every pooled connection.
    pub async fn close(self) -> Result<(), StoreError> {
        self.conn.close().await.map_err(StoreError::from)
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so a transaction that reads before it writes waits for another writer
/// (busy timeout) instead of failing with SQLITE_BUSY when both try to upgrade.
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
