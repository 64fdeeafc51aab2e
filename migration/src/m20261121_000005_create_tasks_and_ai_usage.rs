use sea_orm_migration::prelude::*;

use crate::{m20261121_000001_create_users::Users, m20261121_000004_create_plans::Plans};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Tasks::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Tasks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Tasks::UserId).uuid().not_null())
                    .col(ColumnDef::new(Tasks::ParentId).uuid().null())
                    .col(ColumnDef::new(Tasks::PlanId).uuid().null())
                    .col(ColumnDef::new(Tasks::Title).text().not_null())
                    .col(ColumnDef::new(Tasks::Description).text().not_null())
                    .col(ColumnDef::new(Tasks::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Tasks::DueAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(Tasks::EstimateMinutes).integer().null())
                    .col(ColumnDef::new(Tasks::Position).big_integer().not_null())
                    .col(ColumnDef::new(Tasks::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Tasks::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tasks_user")
                            .from(Tasks::Table, Tasks::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // Deleting a task deletes its sub-tasks, all the way down.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tasks_parent")
                            .from(Tasks::Table, Tasks::ParentId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // Deleting a plan keeps its tasks, detached.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tasks_plan")
                            .from(Tasks::Table, Tasks::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_tasks_user_position", Tasks::UserId),
            ("idx_tasks_parent", Tasks::ParentId),
            ("idx_tasks_plan", Tasks::PlanId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Tasks::Table)
                        .col(column)
                        .col(Tasks::Position)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AiUsage::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(AiUsage::UserId).uuid().not_null())
                    .col(ColumnDef::new(AiUsage::Day).date().not_null())
                    .col(ColumnDef::new(AiUsage::Tokens).big_integer().not_null())
                    .col(ColumnDef::new(AiUsage::Requests).big_integer().not_null())
                    .primary_key(Index::create().col(AiUsage::UserId).col(AiUsage::Day))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_ai_usage_user")
                            .from(AiUsage::Table, AiUsage::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AiUsage::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Tasks::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    UserId,
    ParentId,
    PlanId,
    Title,
    Description,
    Status,
    DueAt,
    EstimateMinutes,
    Position,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AiUsage {
    Table,
    UserId,
    Day,
    Tokens,
    Requests,
}
