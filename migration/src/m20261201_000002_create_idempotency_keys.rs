use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per (user, Idempotency-Key): inserted before the work starts (no status yet:
        // "in progress"), completed with the response to replay, deleted when the work fails or
        // the row expires. The primary key is what stops two concurrent requests both working.
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(IdempotencyKeys::UserId).uuid().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Key).string_len(255).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Operation).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Fingerprint).string_len(64).not_null())
                    .col(ColumnDef::new(IdempotencyKeys::Status).integer().null())
                    .col(ColumnDef::new(IdempotencyKeys::Location).text().null())
                    .col(ColumnDef::new(IdempotencyKeys::Body).text().null())
                    .col(ColumnDef::new(IdempotencyKeys::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(IdempotencyKeys::ExpiresAt).big_integer().not_null())
                    .primary_key(Index::create().col(IdempotencyKeys::UserId).col(IdempotencyKeys::Key))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_user")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_idempotency_keys_expires")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    /// What the key was used for (`create_plan`): a key is never replayed for another operation.
    Operation,
    /// SHA-256 (hex) of the request, to refuse the same key with another body.
    Fingerprint,
    /// The response's status; null while the first request is still working.
    Status,
    /// The response's `Location` header, if it had one.
    Location,
    /// The response's body (JSON text).
    Body,
    /// Unix seconds.
    CreatedAt,
    /// Unix seconds after which the key is forgotten.
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
