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
                    .table(Resources::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(Resources::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Resources::UserId).uuid().not_null())
                    .col(ColumnDef::new(Resources::ClassId).string_len(100).null())
                    .col(ColumnDef::new(Resources::Kind).string_len(50).not_null())
                    .col(ColumnDef::new(Resources::Name).string_len(200).not_null())
                    .col(ColumnDef::new(Resources::Content).json().not_null())
                    .col(ColumnDef::new(Resources::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Resources::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_resources_user")
                            .from(Resources::Table, Resources::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_resources_user_class_kind")
                    .table(Resources::Table)
                    .col(Resources::UserId)
                    .col(Resources::ClassId)
                    .col(Resources::Kind)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Resources::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    UserId,
    ClassId,
    /// The resource's type (`type` on the wire; a reserved word in Rust).
    Kind,
    Name,
    Content,
    CreatedAt,
    UpdatedAt,
}
