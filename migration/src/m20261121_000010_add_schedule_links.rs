use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Buffer, daily focus cap and horizon of the scheduler; NULL means the defaults.
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(ColumnDef::new(Users::SchedulePreferences).json().null())
                    .to_owned(),
            )
            .await?;
        // The plan an event was scheduled for, so re-scheduling finds the events of removed tasks.
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarEvents::Table)
                    .add_column(ColumnDef::new(CalendarEvents::PlanId).uuid().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_events_plan")
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::PlanId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("idx_calendar_events_plan").table(CalendarEvents::Table).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(CalendarEvents::Table).drop_column(CalendarEvents::PlanId).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Users::Table).drop_column(Users::SchedulePreferences).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    SchedulePreferences,
}

#[derive(DeriveIden)]
enum CalendarEvents {
    Table,
    PlanId,
}
