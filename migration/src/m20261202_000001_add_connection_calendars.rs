//! Busy time from several calendars of one account: `connection_calendars` holds the calendars
//! besides the target that count as busy time, each with its own sync token and push channel;
//! `calendar_connections.target_calendar_id` names the calendar that receives the blocks (NULL:
//! the connection's own `calendar_id`, as before); `calendar_events.calendar_id` says which
//! calendar an event was synced from, so the same event id on two calendars is two rows.
//! Existing connections keep working unchanged: no extra busy calendar, their `calendar_id` the
//! target, and every stored event belongs to that calendar.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const OLD_UNIQUE: &str = "uq_calendar_events_connection_provider_id";
const NEW_UNIQUE: &str = "uq_calendar_events_connection_calendar_provider_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConnectionCalendars::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ConnectionCalendars::ConnectionId).uuid().not_null())
                    .col(ColumnDef::new(ConnectionCalendars::CalendarId).string_len(1024).not_null())
                    .col(ColumnDef::new(ConnectionCalendars::UserId).uuid().not_null())
                    .col(ColumnDef::new(ConnectionCalendars::SyncToken).text().null())
                    .col(ColumnDef::new(ConnectionCalendars::ChannelId).string_len(64).null())
                    .col(ColumnDef::new(ConnectionCalendars::ChannelResourceId).string_len(256).null())
                    .col(ColumnDef::new(ConnectionCalendars::ChannelTokenHash).string_len(64).null())
                    .col(
                        ColumnDef::new(ConnectionCalendars::ChannelExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(ConnectionCalendars::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ConnectionCalendars::UpdatedAt).timestamp_with_time_zone().not_null())
                    .primary_key(
                        Index::create()
                            .col(ConnectionCalendars::ConnectionId)
                            .col(ConnectionCalendars::CalendarId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_connection_calendars_connection")
                            .from(ConnectionCalendars::Table, ConnectionCalendars::ConnectionId)
                            .to(CalendarConnections::Table, CalendarConnections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_connection_calendars_channel")
                    .table(ConnectionCalendars::Table)
                    .col(ConnectionCalendars::ChannelId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarConnections::Table)
                    .add_column(ColumnDef::new(CalendarConnections::TargetCalendarId).string_len(1024).null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarEvents::Table)
                    .add_column(
                        ColumnDef::new(CalendarEvents::CalendarId).string_len(1024).not_null().default(""),
                    )
                    .to_owned(),
            )
            .await?;
        // Every event stored so far came from its connection's one calendar (a row whose connection
        // is gone keeps the empty default rather than failing the migration).
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE calendar_events SET calendar_id = COALESCE((SELECT c.calendar_id FROM \
                 calendar_connections c WHERE c.id = calendar_events.connection_id), '')",
            )
            .await?;
        manager.drop_index(Index::drop().name(OLD_UNIQUE).table(CalendarEvents::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(NEW_UNIQUE)
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::ConnectionId)
                    .col(CalendarEvents::CalendarId)
                    .col(CalendarEvents::ProviderEventId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Events of the extra calendars have no place in the old schema.
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM calendar_events WHERE calendar_id <> (SELECT c.calendar_id FROM \
                 calendar_connections c WHERE c.id = calendar_events.connection_id)",
            )
            .await?;
        manager.drop_index(Index::drop().name(NEW_UNIQUE).table(CalendarEvents::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(OLD_UNIQUE)
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::ConnectionId)
                    .col(CalendarEvents::ProviderEventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarEvents::Table)
                    .drop_column(CalendarEvents::CalendarId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarConnections::Table)
                    .drop_column(CalendarConnections::TargetCalendarId)
                    .to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table(ConnectionCalendars::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ConnectionCalendars {
    Table,
    ConnectionId,
    /// Google's calendar id (`primary` for the account's own calendar).
    CalendarId,
    UserId,
    SyncToken,
    ChannelId,
    ChannelResourceId,
    ChannelTokenHash,
    ChannelExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CalendarConnections {
    Table,
    Id,
    /// The calendar that receives the blocks (NULL: `calendar_id`).
    TargetCalendarId,
}

#[derive(DeriveIden)]
enum CalendarEvents {
    Table,
    /// The calendar the event was synced from (or written to).
    CalendarId,
    ConnectionId,
    ProviderEventId,
}
