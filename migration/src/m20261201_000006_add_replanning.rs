//! Automatic re-planning: a block the person moved by hand is `pinned` (re-planning leaves it
//! where they put it); `replan_requests` holds one "this user's calendar changed" mark per user, so
//! a burst of pushes leads to one re-plan; `replan_runs` keeps each connection's last re-plan for
//! the sync status; `schedule_changes` records what re-planning moved and why.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(TaskBlocks::Table)
                    .add_column(ColumnDef::new(TaskBlocks::Pinned).boolean().not_null().default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReplanRequests::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ReplanRequests::UserId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ReplanRequests::DueAtMs).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_replan_requests_user")
                            .from(ReplanRequests::Table, ReplanRequests::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReplanRuns::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ReplanRuns::ConnectionId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ReplanRuns::UserId).uuid().not_null())
                    .col(ColumnDef::new(ReplanRuns::LastReplanAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ReplanRuns::LastReplanMoved).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_replan_runs_connection")
                            .from(ReplanRuns::Table, ReplanRuns::ConnectionId)
                            .to(CalendarConnections::Table, CalendarConnections::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ScheduleChanges::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ScheduleChanges::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ScheduleChanges::UserId).uuid().not_null())
                    .col(ColumnDef::new(ScheduleChanges::TaskId).uuid().not_null())
                    .col(ColumnDef::new(ScheduleChanges::Chunk).integer().not_null())
                    .col(ColumnDef::new(ScheduleChanges::FromAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ScheduleChanges::ToAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ScheduleChanges::Reason).string_len(16).not_null())
                    .col(ColumnDef::new(ScheduleChanges::At).timestamp_with_time_zone().not_null())
                    // A task's history goes with the task.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedule_changes_task")
                            .from(ScheduleChanges::Table, ScheduleChanges::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_schedule_changes_user_at")
                    .table(ScheduleChanges::Table)
                    .col(ScheduleChanges::UserId)
                    .col(ScheduleChanges::At)
                    .col(ScheduleChanges::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ScheduleChanges::Table.into_iden(),
            ReplanRuns::Table.into_iden(),
            ReplanRequests::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(Table::alter().table(TaskBlocks::Table).drop_column(TaskBlocks::Pinned).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TaskBlocks {
    Table,
    /// Moved by hand at the calendar: re-planning leaves it there.
    Pinned,
}

#[derive(DeriveIden)]
enum ReplanRequests {
    Table,
    UserId,
    /// Unix milliseconds from which the re-plan may run (the debounce after the last change).
    DueAtMs,
}

#[derive(DeriveIden)]
enum ReplanRuns {
    Table,
    ConnectionId,
    UserId,
    LastReplanAt,
    /// How many blocks the last re-plan moved.
    LastReplanMoved,
}

#[derive(DeriveIden)]
enum ScheduleChanges {
    Table,
    Id,
    UserId,
    TaskId,
    Chunk,
    /// The block's start before (NULL: it had none).
    FromAt,
    /// The block's start after (NULL: it could not be placed again).
    ToAt,
    /// `conflict`, `missed`, `deadline` or `edited`.
    Reason,
    At,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CalendarConnections {
    Table,
    Id,
}
