use thiserror::Error;

/// What can go wrong reading or writing the database.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another user.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write (`what` names the constraint's meaning).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// A stored value no longer parses into its domain type.
    #[error("corrupt row in {table}: {message}")]
    Corrupt {
        /// Table holding the bad row.
        table: &'static str,
        /// What failed to parse.
        message: String,
    },
    /// The database failed or could not be reached.
    #[error("database error")]
    Database(#[from] sea_orm::DbErr),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`], anything else to `Database`.
    pub(crate) fn on_unique(what: &'static str) -> impl FnOnce(sea_orm::DbErr) -> Self {
        move |error| match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(what),
            _ => Self::Database(error),
        }
    }
}
