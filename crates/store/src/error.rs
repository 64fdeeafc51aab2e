use thiserror::Error;

/// What can go wrong reading or writing the database.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another user.
    #[error("not found")]
    NotFound,
    /// A pagination cursor that this server did not issue.
    #[error("invalid cursor")]
    InvalidCursor,
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
    /// No connection to the database could be had (down, unreachable, pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sea_orm::DbErr),
    /// The database answered with an error.
    #[error("database error: {0}")]
    Database(#[source] sea_orm::DbErr),
}

impl From<sea_orm::DbErr> for StoreError {
    fn from(error: sea_orm::DbErr) -> Self {
        if let Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) = error.sql_err() {
            // Every write checks the rows it refers to first, so this is a race: the account,
            // plan or session was deleted meanwhile (on this replica or another).
            return Self::Conflict("a row it refers to was deleted meanwhile");
        }
        match error {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => Self::Unavailable(error),
            // An update by key found no row: it was deleted after the caller read it (a race,
            // like a request deleting it at the same time), so it is not found.
            sea_orm::DbErr::RecordNotUpdated => Self::NotFound,
            other => Self::Database(other),
        }
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`], anything else to `Database`.
    pub(crate) fn on_unique(what: &'static str) -> impl FnOnce(sea_orm::DbErr) -> Self {
        move |error| match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Self::Conflict(what),
            _ => Self::from(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::StoreError;

    #[test]
    fn an_update_that_finds_no_row_is_not_found() {
        assert!(matches!(StoreError::from(sea_orm::DbErr::RecordNotUpdated), StoreError::NotFound));
        let other = sea_orm::DbErr::Custom("boom".into());
        assert!(matches!(StoreError::from(other), StoreError::Database(_)));
    }
}
