use sea_orm_migration::prelude::*;

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Plans::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Plans::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Plans::UserId).uuid().not_null())
                    .col(ColumnDef::new(Plans::Goal).text().not_null())
                    .col(ColumnDef::new(Plans::DurationDays).integer().not_null())
                    .col(ColumnDef::new(Plans::Context).json().not_null())
                    .col(ColumnDef::new(Plans::StartDate).date().null())
                    .col(ColumnDef::new(Plans::Summary).text().not_null())
                    .col(ColumnDef::new(Plans::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Plans::Model).string_len(100).not_null())
                    .col(ColumnDef::new(Plans::Usage).json().not_null())
                    .col(ColumnDef::new(Plans::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Plans::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plans_user")
                            .from(Plans::Table, Plans::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Lists are newest first per user, paged by (created_at, id).
        manager
            .create_index(
                Index::create()
                    .name("idx_plans_user_created")
                    .table(Plans::Table)
                    .col(Plans::UserId)
                    .col(Plans::CreatedAt)
                    .col(Plans::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PlanTasks::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(PlanTasks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PlanTasks::PlanId).uuid().not_null())
                    .col(ColumnDef::new(PlanTasks::Position).integer().not_null())
                    .col(ColumnDef::new(PlanTasks::Title).text().not_null())
                    .col(ColumnDef::new(PlanTasks::Description).text().not_null())
                    .col(ColumnDef::new(PlanTasks::DayOffset).integer().not_null())
                    .col(ColumnDef::new(PlanTasks::DurationMinutes).integer().not_null())
                    .col(ColumnDef::new(PlanTasks::ScheduledStart).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(PlanTasks::ScheduledEnd).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(PlanTasks::CalendarEventRef).string_len(1024).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_tasks_plan")
                            .from(PlanTasks::Table, PlanTasks::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_plan_tasks_plan_position")
                    .table(PlanTasks::Table)
                    .col(PlanTasks::PlanId)
                    .col(PlanTasks::Position)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(PlanTasks::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Plans::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Plans {
    Table,
    Id,
    UserId,
    Goal,
    DurationDays,
    Context,
    StartDate,
    Summary,
    Status,
    Model,
    Usage,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PlanTasks {
    Table,
    Id,
    PlanId,
    Position,
    Title,
    Description,
    DayOffset,
    DurationMinutes,
    ScheduledStart,
    ScheduledEnd,
    CalendarEventRef,
}
