//! Event types and quota-safe writes, per calendar connection: `focus_time_refused_at` remembers
//! that Google refused a focus-time block there (later blocks are written as ordinary events
//! straight away); `writes_paused_at` / `writes_paused_detail` record that Google's Calendar usage
//! limits (`quotaExceeded`) stopped writes there, and when (writes resume after the configured
//! cool-down).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for column in [
            ColumnDef::new(CalendarConnections::FocusTimeRefusedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(CalendarConnections::WritesPausedAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(CalendarConnections::WritesPausedDetail).text().null().to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter().table(CalendarConnections::Table).add_column(&mut column).to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            CalendarConnections::WritesPausedDetail,
            CalendarConnections::WritesPausedAt,
            CalendarConnections::FocusTimeRefusedAt,
        ] {
            manager
                .alter_table(Table::alter().table(CalendarConnections::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum CalendarConnections {
    Table,
    /// When Google refused a focus-time event on this calendar (NULL: never).
    FocusTimeRefusedAt,
    /// When Google's Calendar usage limits stopped writes (NULL: writes run).
    WritesPausedAt,
    /// Google's words for the stop, for people.
    WritesPausedDetail,
}
