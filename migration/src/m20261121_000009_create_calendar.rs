use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per calendar a user reaches: the built-in `local` one and Google. Tokens are
        // AES-256-GCM ciphertexts carrying their key id; never plain text.
        manager
            .create_table(
                Table::create()
                    .table(CalendarConnections::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(CalendarConnections::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CalendarConnections::UserId).uuid().not_null())
                    .col(ColumnDef::new(CalendarConnections::Provider).string_len(20).not_null())
                    .col(ColumnDef::new(CalendarConnections::AccountEmail).string_len(320).null())
                    .col(ColumnDef::new(CalendarConnections::CalendarId).string_len(1024).not_null())
                    .col(ColumnDef::new(CalendarConnections::Status).string_len(20).not_null())
                    .col(ColumnDef::new(CalendarConnections::AccessTokenEnc).text().null())
                    .col(ColumnDef::new(CalendarConnections::RefreshTokenEnc).text().null())
                    .col(
                        ColumnDef::new(CalendarConnections::TokenExpiresAt).timestamp_with_time_zone().null(),
                    )
                    .col(ColumnDef::new(CalendarConnections::Scopes).text().null())
                    .col(ColumnDef::new(CalendarConnections::SyncToken).text().null())
                    .col(ColumnDef::new(CalendarConnections::LastSyncedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(CalendarConnections::LastSyncStatus).string_len(20).null())
                    .col(ColumnDef::new(CalendarConnections::LastError).text().null())
                    .col(ColumnDef::new(CalendarConnections::ChannelId).string_len(64).null())
                    .col(ColumnDef::new(CalendarConnections::ChannelResourceId).string_len(256).null())
                    .col(ColumnDef::new(CalendarConnections::ChannelTokenHash).string_len(64).null())
                    .col(
                        ColumnDef::new(CalendarConnections::ChannelExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(CalendarConnections::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(CalendarConnections::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_connections_user")
                            .from(CalendarConnections::Table, CalendarConnections::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_calendar_connections_user_provider_calendar")
                    .table(CalendarConnections::Table)
                    .col(CalendarConnections::UserId)
                    .col(CalendarConnections::Provider)
                    .col(CalendarConnections::CalendarId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_connections_channel")
                    .table(CalendarConnections::Table)
                    .col(CalendarConnections::ChannelId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CalendarEvents::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(CalendarEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CalendarEvents::ConnectionId).uuid().not_null())
                    .col(ColumnDef::new(CalendarEvents::UserId).uuid().not_null())
                    .col(ColumnDef::new(CalendarEvents::ProviderEventId).string_len(1024).not_null())
                    .col(ColumnDef::new(CalendarEvents::IcalUid).string_len(1024).null())
                    .col(ColumnDef::new(CalendarEvents::Title).text().not_null())
                    .col(ColumnDef::new(CalendarEvents::Description).text().null())
                    .col(ColumnDef::new(CalendarEvents::Location).text().null())
                    .col(ColumnDef::new(CalendarEvents::StartAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(CalendarEvents::EndAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(CalendarEvents::AllDay).boolean().not_null())
                    .col(ColumnDef::new(CalendarEvents::StartDate).date().null())
                    .col(ColumnDef::new(CalendarEvents::EndDate).date().null())
                    .col(ColumnDef::new(CalendarEvents::TimeZone).string_len(64).null())
                    .col(ColumnDef::new(CalendarEvents::Recurrence).json().null())
                    .col(ColumnDef::new(CalendarEvents::RecurringEventId).string_len(1024).null())
                    .col(ColumnDef::new(CalendarEvents::Status).string_len(20).not_null())
                    .col(ColumnDef::new(CalendarEvents::Transparent).boolean().not_null())
                    .col(ColumnDef::new(CalendarEvents::HtmlLink).text().null())
                    .col(ColumnDef::new(CalendarEvents::Etag).string_len(256).null())
                    .col(ColumnDef::new(CalendarEvents::ProviderUpdatedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(CalendarEvents::PlanTaskId).uuid().null())
                    .col(ColumnDef::new(CalendarEvents::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(CalendarEvents::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_events_connection")
                            .from(CalendarEvents::Table, CalendarEvents::ConnectionId)
                            .to(CalendarConnections::Table, CalendarConnections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_events_user")
                            .from(CalendarEvents::Table, CalendarEvents::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Sync upserts by the provider's id.
        manager
            .create_index(
                Index::create()
                    .name("uq_calendar_events_connection_provider_id")
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::ConnectionId)
                    .col(CalendarEvents::ProviderEventId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Upcoming events and busy time read by user and start.
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_events_user_start")
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::UserId)
                    .col(CalendarEvents::StartAt)
                    .to_owned(),
            )
            .await?;

        // Pending Google authorisations: single use, ten minutes, bound to the user.
        manager
            .create_table(
                Table::create()
                    .table(OauthStates::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(OauthStates::StateHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(OauthStates::UserId).uuid().not_null())
                    .col(ColumnDef::new(OauthStates::PkceVerifierEnc).text().not_null())
                    .col(ColumnDef::new(OauthStates::RedirectTo).text().not_null())
                    .col(ColumnDef::new(OauthStates::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OauthStates::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_oauth_states_user")
                            .from(OauthStates::Table, OauthStates::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Secret ICS feed URLs: the token is stored hashed; one live feed per user.
        manager
            .create_table(
                Table::create()
                    .table(CalendarFeeds::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(CalendarFeeds::UserId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(CalendarFeeds::TokenHash).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(CalendarFeeds::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_calendar_feeds_user")
                            .from(CalendarFeeds::Table, CalendarFeeds::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        // Leases shared by every replica: one sync or token refresh per connection at a time.
        manager
            .create_table(
                Table::create()
                    .table(JobLeases::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(JobLeases::Name).string_len(200).not_null().primary_key())
                    .col(ColumnDef::new(JobLeases::Holder).string_len(64).not_null())
                    .col(ColumnDef::new(JobLeases::ExpiresAtMs).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(JobLeases::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CalendarFeeds::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(OauthStates::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CalendarEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(CalendarConnections::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub(crate) enum CalendarConnections {
    Table,
    Id,
    UserId,
    Provider,
    AccountEmail,
    CalendarId,
    Status,
    AccessTokenEnc,
    RefreshTokenEnc,
    TokenExpiresAt,
    Scopes,
    SyncToken,
    LastSyncedAt,
    LastSyncStatus,
    LastError,
    ChannelId,
    ChannelResourceId,
    ChannelTokenHash,
    ChannelExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CalendarEvents {
    Table,
    Id,
    ConnectionId,
    UserId,
    ProviderEventId,
    IcalUid,
    Title,
    Description,
    Location,
    StartAt,
    EndAt,
    AllDay,
    StartDate,
    EndDate,
    TimeZone,
    Recurrence,
    RecurringEventId,
    Status,
    Transparent,
    HtmlLink,
    Etag,
    ProviderUpdatedAt,
    PlanTaskId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    StateHash,
    UserId,
    PkceVerifierEnc,
    RedirectTo,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CalendarFeeds {
    Table,
    UserId,
    TokenHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobLeases {
    Table,
    Name,
    Holder,
    /// Unix milliseconds: an integer compares the same way on both engines.
    ExpiresAtMs,
}
