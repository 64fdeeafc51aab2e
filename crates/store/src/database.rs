use std::{future::Future, pin::Pin, time::Duration};

use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, DatabaseBackend, DatabaseConnection, DatabaseTransaction,
    DbErr, ExecResult, IsolationLevel, QueryResult, QueryStream, Statement, StreamTrait, TransactionError,
    TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

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

/// How busy one connection pool is, as plain numbers (for a metrics gauge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Which pool: `main` (PostgreSQL, or an in-memory SQLite database), or on SQLite `read`
    /// (the readers) and `write` (the one writer).
    pub pool: &'static str,
    /// Connections open now, idle or in use.
    pub size: u32,
    /// Of those, the idle ones.
    pub idle: u32,
    /// The most it may open.
    pub max: u32,
}

/// The database, shared by every request and job.
#[derive(Debug, Clone)]
pub struct Database {
    conn: Conn,
}

/// What repositories run their statements on: on PostgreSQL one pool; on SQLite a pool of
/// readers and one writer connection.
///
/// SQLite admits one writer at a time. Letting every pooled connection write makes concurrent
/// writers sleep and retry in SQLite's busy handler, so throughput falls as workers are added.
/// Here every statement that is not a `SELECT`, and every transaction, runs on the single writer
/// connection: writers wait their turn in the pool's queue (no spinning), and readers never wait
/// for them (WAL). The readers are `query_only`, so a write that took the wrong path fails loudly.
#[derive(Debug, Clone)]
pub struct Conn {
    read: DatabaseConnection,
    write: DatabaseConnection,
    /// `read` and `write` are the same pool (PostgreSQL, in-memory SQLite, a wrapped connection).
    shared: bool,
}

impl Conn {
    fn for_statement(&self, sql: &str) -> &DatabaseConnection {
        if is_read(sql) { &self.read } else { &self.write }
    }
}

/// A statement that only reads: `SELECT …` (or `EXPLAIN …`), whatever the case or leading space.
fn is_read(sql: &str) -> bool {
    let head = sql.trim_start().as_bytes();
    let starts = |word: &[u8]| head.len() >= word.len() && head[..word.len()].eq_ignore_ascii_case(word);
    starts(b"select") || starts(b"explain")
}

impl Database {
    /// Opens `url` (`sqlite://…?mode=rwc` or `postgres://…`): on PostgreSQL a pool of
    /// `max_connections`; on SQLite a pool of `max_connections` readers (at most four per core,
    /// see [`sqlite_readers`]) plus one writer, in WAL mode with `synchronous = NORMAL` (durable
    /// at checkpoints, never corrupt).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        connect_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let sqlite = DatabaseBackend::Sqlite.is_prefix_of(url);
        if !sqlite {
            let pool = sea_orm::Database::connect(options(url, max_connections, connect_timeout)).await?;
            return Ok(Self { conn: Conn { read: pool.clone(), write: pool, shared: true } });
        }
        // The writer opens (and creates) the file first and switches it to WAL; the readers then
        // share it. An in-memory database exists once per connection, so it gets the writer alone.
        let mut write_options = options(url, 1, connect_timeout);
        write_options.map_sqlx_sqlite_opts(|o| sqlite_options(o).journal_mode(SqliteJournalMode::Wal));
        let write = sea_orm::Database::connect(write_options).await?;
        if url.contains(":memory:") || url.contains("mode=memory") {
            return Ok(Self { conn: Conn { read: write.clone(), write, shared: true } });
        }
        let mut read_options = options(url, sqlite_readers(max_connections), connect_timeout);
        read_options.map_sqlx_sqlite_opts(|o| {
            sqlite_options(o).pragma("query_only", "ON").pragma("cache_size", READER_CACHE_SIZE)
        });
        let read = sea_orm::Database::connect(read_options).await?;
        Ok(Self { conn: Conn { read, write, shared: false } })
    }

    /// Wraps an existing connection (tests, tools): it both reads and writes.
    pub fn from_connection(conn: DatabaseConnection) -> Self {
        Self { conn: Conn { read: conn.clone(), write: conn, shared: true } }
    }

    /// The connection for repositories and transactions.
    pub fn conn(&self) -> &Conn {
        &self.conn
    }

    /// The connection that writes (the whole pool on PostgreSQL), for migrations and tools that
    /// need a plain sea-orm connection.
    pub fn writer(&self) -> &DatabaseConnection {
        &self.conn.write
    }

    /// The engine behind the pool.
    pub fn backend(&self) -> Backend {
        match self.conn.write.get_database_backend() {
            DatabaseBackend::Postgres => Backend::Postgres,
            _ => Backend::Sqlite,
        }
    }

    /// The state of each connection pool, read without touching the database.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        if self.conn.shared {
            vec![pool_stats("main", &self.conn.write)]
        } else {
            vec![pool_stats("read", &self.conn.read), pool_stats("write", &self.conn.write)]
        }
    }

    /// Answers whether the database responds to a trivial query.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.conn.read.ping().await.map_err(StoreError::from)
    }

    /// Closes every pooled connection.
    pub async fn close(self) -> Result<(), StoreError> {
        self.conn.read.close_by_ref().await?;
        self.conn.write.close_by_ref().await.map_err(StoreError::from)
    }
}

fn pool_stats(pool: &'static str, conn: &DatabaseConnection) -> PoolStats {
    let (size, idle, max) = match conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            let p = conn.get_postgres_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
        _ => {
            let p = conn.get_sqlite_connection_pool();
            (p.size(), p.num_idle(), p.options().get_max_connections())
        }
    };
    PoolStats { pool, size, idle: u32::try_from(idle).unwrap_or(u32::MAX), max }
}

fn options(url: &str, max_connections: u32, connect_timeout: Duration) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(connect_timeout)
        .acquire_timeout(connect_timeout)
        .sqlx_logging(false);
    if DatabaseBackend::Sqlite.is_prefix_of(url) {
        // A file cannot drop a connection: pinging it before every query only doubled each
        // query's round trips to SQLite's worker thread.
        options.test_before_acquire(false);
    } else {
        // A server, a proxy or a firewall may drop an idle connection; a busy one is known good.
        options.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    options
}

/// How many SQLite readers a pool of `max_connections` gets: at most four per core. Each reader
/// is a thread of its own running SQLite in-process, with its own page cache and malloc arena;
/// beyond the cores they add no speed, only memory (16 readers held 96 MiB under the dense
/// busy-time benchmark, 8 held 67 MiB at the same speed on two cores).
fn sqlite_readers(max_connections: u32) -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let most = u32::try_from(cores.saturating_mul(4)).unwrap_or(u32::MAX);
    max_connections.clamp(1, most)
}

/// Each reader's own page cache, in KiB (as a negative `cache_size`); SQLite's default is 2 MiB
/// a connection. A request's reads touch a few dozen pages, well inside 512 KiB (128 pages), but
/// the dense busy-time read filled every reader's cache to its bound: with eight readers the
/// default held about 20 MiB more under that benchmark (peak RSS 86 MiB against 65 MiB).
const READER_CACHE_SIZE: &str = "-512";

fn sqlite_options(
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    // The busy timeout still matters when another process (a second replica, the CLI) writes.
    options.synchronous(SqliteSynchronous::Normal).busy_timeout(Duration::from_secs(5)).foreign_keys(true)
}

#[async_trait::async_trait]
impl ConnectionTrait for Conn {
    fn get_database_backend(&self) -> DatabaseBackend {
        self.write.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.for_statement(&stmt.sql).execute_raw(literal_limits(stmt)).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.for_statement(sql).execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.for_statement(&stmt.sql).query_one_raw(literal_limits(stmt)).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.for_statement(&stmt.sql).query_all_raw(literal_limits(stmt)).await
    }

    fn support_returning(&self) -> bool {
        self.write.support_returning()
    }
}

/// Rows one at a time, for reads too large to hold whole (from the readers, like every read).
impl StreamTrait for Conn {
    type Stream<'a> = QueryStream;

    fn get_database_backend(&self) -> DatabaseBackend {
        self.write.get_database_backend()
    }

    fn stream_raw<'a>(
        &'a self,
        stmt: Statement,
    ) -> Pin<Box<dyn Future<Output = Result<Self::Stream<'a>, DbErr>> + 'a + Send>> {
        self.for_statement(&stmt.sql).stream_raw(literal_limits(stmt))
    }
}

/// On SQLite, writes the integer bound to each `LIMIT ?` / `OFFSET ?` into the SQL text.
///
/// SQLite's planner reads a bound LIMIT's value, and from then on *any* new binding of that
/// parameter expires the prepared statement: every execution re-parsed and re-planned the whole
/// query (measured: 40 % of the CPU of the upcoming-events read). As literals, the statement is
/// prepared once per connection and limit and then reused from the statement cache. Only
/// integers are written, so no text ever reaches the SQL; PostgreSQL statements pass unchanged.
fn literal_limits(mut stmt: Statement) -> Statement {
    if stmt.db_backend != DatabaseBackend::Sqlite {
        return stmt;
    }
    let Some(values) = stmt.values.as_mut() else { return stmt };
    // Where each `?` is, and whether it follows LIMIT or OFFSET.
    let sql = stmt.sql.as_bytes();
    let mut marks = Vec::new();
    let mut quote = None::<u8>;
    for (at, &byte) in sql.iter().enumerate() {
        match (quote, byte) {
            (Some(open), b) if b == open => quote = None,
            (Some(_), _) => {}
            (None, b'\'' | b'"' | b'`') => quote = Some(byte),
            (None, b'?') => {
                if sql.get(at + 1).is_some_and(u8::is_ascii_digit) {
                    return stmt; // numbered parameters: leave the statement as it is
                }
                marks.push((at, follows_limit(&sql[..at])));
            }
            (None, _) => {}
        }
    }
    if marks.len() != values.0.len() || !marks.iter().any(|(_, limit)| *limit) {
        return stmt;
    }
    let mut sql = String::with_capacity(stmt.sql.len());
    let mut kept = Vec::with_capacity(values.0.len());
    let mut start = 0;
    for ((at, limit), value) in marks.into_iter().zip(values.0.drain(..)) {
        let literal = match value {
            sea_orm::Value::BigUnsigned(Some(n)) if limit => n.to_string(),
            sea_orm::Value::Unsigned(Some(n)) if limit => n.to_string(),
            sea_orm::Value::BigInt(Some(n)) if limit && n >= 0 => n.to_string(),
            sea_orm::Value::Int(Some(n)) if limit && n >= 0 => n.to_string(),
            other => {
                kept.push(other);
                continue;
            }
        };
        sql.push_str(&stmt.sql[start..at]);
        sql.push_str(&literal);
        start = at + 1;
    }
    sql.push_str(&stmt.sql[start..]);
    stmt.sql = sql;
    values.0 = kept;
    stmt
}

/// Whether `head` (the SQL before a `?`) ends with the keyword `LIMIT` or `OFFSET`.
fn follows_limit(head: &[u8]) -> bool {
    let head = head.trim_ascii_end();
    [b"LIMIT".as_slice(), b"OFFSET".as_slice()].iter().any(|keyword| {
        head.len() > keyword.len()
            && head[head.len() - keyword.len()..].eq_ignore_ascii_case(keyword)
            && !(head[head.len() - keyword.len() - 1].is_ascii_alphanumeric()
                || head[head.len() - keyword.len() - 1] == b'_')
    })
}

/// Transactions always run on the writer: they are how repositories write several rows at once.
#[async_trait::async_trait]
impl TransactionTrait for Conn {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.write.begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.write.begin_with_config(isolation_level, access_mode).await
    }

    async fn begin_with_options(&self, options: TransactionOptions) -> Result<DatabaseTransaction, DbErr> {
        self.write.begin_with_options(options).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> std::pin::Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.write.transaction(callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> std::pin::Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.write.transaction_with_config(callback, isolation_level, access_mode).await
    }
}

/// Starts a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so another process writing the same file makes it wait at the start
/// (busy timeout) instead of failing with SQLITE_BUSY when both try to upgrade.
pub(crate) async fn begin_write(db: &Conn) -> Result<DatabaseTransaction, DbErr> {
    use sea_orm::SqliteTransactionMode;
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

#[cfg(test)]
mod tests {
    use sea_orm::{DatabaseBackend, Statement, Value, Values};

    use super::{is_read, literal_limits, sqlite_readers};

    fn statement(backend: DatabaseBackend, sql: &str, values: Vec<Value>) -> Statement {
        Statement { sql: sql.to_owned(), values: Some(Values(values)), db_backend: backend }
    }

    #[test]
    fn sqlite_limits_and_offsets_become_literals_and_other_values_stay_bound() {
        let stmt = literal_limits(statement(
            DatabaseBackend::Sqlite,
            r#"SELECT * FROM (SELECT "a?" FROM t WHERE x = ? AND y = '?' LIMIT ?) UNION ALL SELECT * FROM u WHERE z > ? LIMIT  ? OFFSET ?"#,
            vec![
                Value::from("x"),
                Value::BigUnsigned(Some(30)),
                Value::from(7_i64),
                Value::BigUnsigned(Some(10)),
                Value::BigUnsigned(Some(20)),
            ],
        ));
        assert_eq!(
            stmt.sql,
            r#"SELECT * FROM (SELECT "a?" FROM t WHERE x = ? AND y = '?' LIMIT 30) UNION ALL SELECT * FROM u WHERE z > ? LIMIT  10 OFFSET 20"#
        );
        assert_eq!(stmt.values, Some(Values(vec![Value::from("x"), Value::from(7_i64)])));
    }

    #[test]
    fn statements_that_cannot_be_read_safely_pass_unchanged() {
        let cases = [
            statement(
                DatabaseBackend::Postgres,
                "SELECT * FROM t LIMIT $1",
                vec![Value::BigUnsigned(Some(3))],
            ),
            statement(DatabaseBackend::Sqlite, "SELECT * FROM t LIMIT ?1", vec![Value::BigUnsigned(Some(3))]),
            // A count that does not match the placeholders: leave it to the driver to refuse.
            statement(DatabaseBackend::Sqlite, "SELECT * FROM t LIMIT ?", vec![]),
            // Not an integer, or a column named like the keyword.
            statement(DatabaseBackend::Sqlite, "SELECT * FROM t LIMIT ?", vec![Value::from("3")]),
            statement(
                DatabaseBackend::Sqlite,
                "SELECT * FROM t WHERE my_limit = ?",
                vec![Value::from(3_i64)],
            ),
        ];
        for stmt in cases {
            assert_eq!(literal_limits(stmt.clone()), stmt);
        }
    }

    #[test]
    fn only_selects_go_to_the_readers() {
        assert!(is_read("SELECT 1"));
        assert!(is_read("  select \"id\" FROM users"));
        assert!(is_read("EXPLAIN QUERY PLAN SELECT 1"));
        assert!(!is_read("INSERT INTO users VALUES (1) RETURNING id"));
        assert!(!is_read("UPDATE users SET name = 'selected'"));
        assert!(!is_read("DELETE FROM users"));
        assert!(!is_read("PRAGMA journal_mode = WAL"));
        assert!(!is_read(""));
    }

    #[test]
    fn sqlite_readers_are_at_least_one_and_at_most_four_per_core() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let most = u32::try_from(cores * 4).unwrap();
        assert_eq!(sqlite_readers(0), 1);
        assert_eq!(sqlite_readers(1), 1);
        assert_eq!(sqlite_readers(most), most);
        assert_eq!(sqlite_readers(most + 1), most);
        assert_eq!(sqlite_readers(u32::MAX), most);
    }
}
