use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Fixed-window counters shared by every replica: one row per limited key.
        manager
            .create_table(
                Table::create()
                    .table(RateLimits::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(RateLimits::Bucket).string_len(320).not_null().primary_key())
                    .col(ColumnDef::new(RateLimits::WindowStart).big_integer().not_null())
                    .col(ColumnDef::new(RateLimits::Hits).big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(RateLimits::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Bucket,
    /// Unix seconds at which the current window began.
    WindowStart,
    Hits,
}
