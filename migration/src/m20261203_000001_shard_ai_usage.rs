use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The counters both shapes of the table hold, after the key.
const COUNTERS: &str = "tokens, requests, prompt_tokens, output_tokens, thoughts_tokens, cached_tokens";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A user's daily AI usage spreads over a few rows (`shard`), summed on read: every AI
        // answer of a user adds to the day's count inside its own write transaction, and with
        // one row per day those transactions queued on its lock (PostgreSQL). The key changes,
        // which SQLite cannot do in place, so the table is rebuilt; existing rows become shard 0.
        manager.create_table(usage_table(AiUsage::Next, true)).await?;
        copy(manager, &format!("user_id, day, 0, {COUNTERS}"), "user_id, day, shard", "").await?;
        swap(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Back to one row per user and day: the shards are added up.
        manager.create_table(usage_table(AiUsage::Next, false)).await?;
        let sums = "user_id, day, SUM(tokens), SUM(requests), SUM(prompt_tokens), SUM(output_tokens), \
                    SUM(thoughts_tokens), SUM(cached_tokens)";
        copy(manager, sums, "user_id, day", "GROUP BY user_id, day").await?;
        swap(manager).await
    }
}

/// The usage table as `name`, keyed by (user, day, shard) or, as before, by (user, day).
fn usage_table(name: AiUsage, sharded: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table
        .table(name)
        .col(ColumnDef::new(AiUsage::UserId).uuid().not_null())
        .col(ColumnDef::new(AiUsage::Day).date().not_null());
    let mut key = Index::create();
    key.col(AiUsage::UserId).col(AiUsage::Day);
    if sharded {
        table.col(ColumnDef::new(AiUsage::Shard).small_integer().not_null().default(0));
        key.col(AiUsage::Shard);
    }
    for column in [
        AiUsage::Tokens,
        AiUsage::Requests,
        AiUsage::PromptTokens,
        AiUsage::OutputTokens,
        AiUsage::ThoughtsTokens,
        AiUsage::CachedTokens,
    ] {
        table.col(ColumnDef::new(column).big_integer().not_null().default(0));
    }
    table
        .primary_key(&mut key)
        .foreign_key(
            ForeignKey::create()
                .name("fk_ai_usage_user")
                .from(name, AiUsage::UserId)
                .to(Users::Table, Users::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

/// Fills `ai_usage_next` from `ai_usage`: `select` gives the key (as `key` names it) and then
/// the counters.
async fn copy(manager: &SchemaManager<'_>, select: &str, key: &str, tail: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "INSERT INTO ai_usage_next ({key}, {COUNTERS}) SELECT {select} FROM ai_usage {tail}"
        ))
        .await?;
    Ok(())
}

/// Drops `ai_usage` and renames `ai_usage_next` in its place (on PostgreSQL its primary-key
/// index too, so the names match a table created under the final name).
async fn swap(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager.drop_table(Table::drop().table(AiUsage::Table).to_owned()).await?;
    let db = manager.get_connection();
    db.execute_unprepared("ALTER TABLE ai_usage_next RENAME TO ai_usage").await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared("ALTER INDEX ai_usage_next_pkey RENAME TO ai_usage_pkey").await?;
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum AiUsage {
    Table,
    #[sea_orm(iden = "ai_usage_next")]
    Next,
    UserId,
    Day,
    Shard,
    Tokens,
    Requests,
    PromptTokens,
    OutputTokens,
    ThoughtsTokens,
    CachedTokens,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
