use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns both shapes of the table share, in the order `INSERT .. SELECT` copies them.
const SHARED: &str = "id, doc_id, user_id, position, heading, content, content_hash, model, dimensions, \
                      embedded_at, created_at, vector";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `knowledge_chunks` becomes the chunk table of every searchable source: a chunk belongs
        // to exactly one knowledge document, resource or plan (`doc_id`, `resource_id`,
        // `plan_id`; the other two NULL), and deleting the source deletes its chunks (cascade).
        // `doc_id` was NOT NULL, which SQLite cannot relax in place, so the table is rebuilt:
        // created beside the old one, filled from it (vectors kept), swapped in. The vector
        // moves to the last column so SQLite reads the other columns without walking a
        // vector's overflow pages.
        manager.create_table(chunks_table(Chunks::Next, true)).await?;
        copy(manager, "").await?;
        manager.drop_table(Table::drop().table(Chunks::Table).to_owned()).await?;
        rename(manager, "knowledge_chunks_next", "knowledge_chunks").await?;
        create_indexes(manager, true).await?;

        // The system's own daily AI usage (embedding the global knowledge documents), apart
        // from the users' `ai_usage` rows, whose `user_id` is a foreign key.
        manager
            .create_table(
                Table::create()
                    .table(SystemAiUsage::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(SystemAiUsage::Day).date().not_null().primary_key())
                    .col(ColumnDef::new(SystemAiUsage::Tokens).big_integer().not_null().default(0))
                    .col(ColumnDef::new(SystemAiUsage::Requests).big_integer().not_null().default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SystemAiUsage::Table).if_exists().to_owned()).await?;
        // Back to chunks of knowledge documents only; the resources' and plans' chunks go.
        manager.create_table(chunks_table(Chunks::Next, false)).await?;
        copy(manager, "WHERE doc_id IS NOT NULL").await?;
        manager.drop_table(Table::drop().table(Chunks::Table).to_owned()).await?;
        rename(manager, "knowledge_chunks_next", "knowledge_chunks").await?;
        create_indexes(manager, false).await
    }
}

/// The chunk table as `next`: with the resource and plan columns (`sources`) or as the
/// knowledge-only table of m20261201_000004.
fn chunks_table(name: Chunks, sources: bool) -> TableCreateStatement {
    let mut table = Table::create();
    table.table(name).col(ColumnDef::new(Chunks::Id).uuid().not_null().primary_key());
    if sources {
        table
            .col(ColumnDef::new(Chunks::DocId).uuid().null())
            .col(ColumnDef::new(Chunks::ResourceId).uuid().null())
            .col(ColumnDef::new(Chunks::PlanId).uuid().null());
    } else {
        table.col(ColumnDef::new(Chunks::DocId).uuid().not_null());
    }
    table
        // The source's owner, copied so a user's vectors are read without a join; NULL for
        // global documents.
        .col(ColumnDef::new(Chunks::UserId).uuid().null())
        .col(ColumnDef::new(Chunks::Position).integer().not_null())
        .col(ColumnDef::new(Chunks::Heading).text().not_null())
        .col(ColumnDef::new(Chunks::Content).text().not_null())
        .col(ColumnDef::new(Chunks::ContentHash).string_len(64).not_null())
        .col(ColumnDef::new(Chunks::Model).string_len(100).null())
        .col(ColumnDef::new(Chunks::Dimensions).integer().null())
        .col(ColumnDef::new(Chunks::EmbeddedAt).timestamp_with_time_zone().null())
        .col(ColumnDef::new(Chunks::CreatedAt).timestamp_with_time_zone().not_null())
        // f32 (4 bytes a value) or int8 with an f32 scale (4 + 1 byte a value), told apart by
        // length against `dimensions`.
        .col(ColumnDef::new(Chunks::Vector).blob().null())
        .foreign_key(
            ForeignKey::create()
                .name("fk_knowledge_chunks_doc")
                .from(name, Chunks::DocId)
                .to(KnowledgeDocs::Table, KnowledgeDocs::Id)
                .on_delete(ForeignKeyAction::Cascade),
        );
    if sources {
        table
            .foreign_key(
                ForeignKey::create()
                    .name("fk_knowledge_chunks_resource")
                    .from(name, Chunks::ResourceId)
                    .to(Resources::Table, Resources::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_knowledge_chunks_plan")
                    .from(name, Chunks::PlanId)
                    .to(Plans::Table, Plans::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
    }
    table.to_owned()
}

/// Copies the shared columns of the chunks passing `filter` from `knowledge_chunks` into
/// `knowledge_chunks_next`.
async fn copy(manager: &SchemaManager<'_>, filter: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "INSERT INTO knowledge_chunks_next ({SHARED}) SELECT {SHARED} FROM knowledge_chunks {filter}"
        ))
        .await?;
    Ok(())
}

/// Renames a table; on PostgreSQL its primary-key index too, so the names match a table
/// created under the final name.
async fn rename(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(&format!("ALTER TABLE {from} RENAME TO {to}")).await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        db.execute_unprepared(&format!("ALTER INDEX {from}_pkey RENAME TO {to}_pkey")).await?;
    }
    Ok(())
}

async fn create_indexes(manager: &SchemaManager<'_>, sources: bool) -> Result<(), DbErr> {
    let mut indexes = vec![
        Index::create().name("idx_knowledge_chunks_doc").table(Chunks::Table).col(Chunks::DocId).to_owned(),
        Index::create()
            .name("idx_knowledge_chunks_pending")
            .table(Chunks::Table)
            .col(Chunks::EmbeddedAt)
            .to_owned(),
    ];
    if sources {
        indexes.push(
            Index::create()
                .name("idx_knowledge_chunks_resource")
                .table(Chunks::Table)
                .col(Chunks::ResourceId)
                .to_owned(),
        );
        indexes.push(
            Index::create()
                .name("idx_knowledge_chunks_plan")
                .table(Chunks::Table)
                .col(Chunks::PlanId)
                .to_owned(),
        );
        // Covers the per-search fingerprint (count and newest `embedded_at` of a user's vectors
        // of one model) and the list of their ids that a cached copy is reconciled with,
        // without touching the rows.
        indexes.push(
            Index::create()
                .name("idx_knowledge_chunks_user_model")
                .table(Chunks::Table)
                .col(Chunks::UserId)
                .col(Chunks::Model)
                .col(Chunks::EmbeddedAt)
                .col(Chunks::Id)
                .to_owned(),
        );
    } else {
        indexes.push(
            Index::create()
                .name("idx_knowledge_chunks_user_model")
                .table(Chunks::Table)
                .col(Chunks::UserId)
                .col(Chunks::Model)
                .col(Chunks::EmbeddedAt)
                .to_owned(),
        );
    }
    for index in indexes {
        manager.create_index(index).await?;
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum Chunks {
    #[sea_orm(iden = "knowledge_chunks")]
    Table,
    #[sea_orm(iden = "knowledge_chunks_next")]
    Next,
    Id,
    DocId,
    ResourceId,
    PlanId,
    UserId,
    Position,
    Heading,
    Content,
    ContentHash,
    Model,
    Dimensions,
    EmbeddedAt,
    CreatedAt,
    Vector,
}

#[derive(DeriveIden)]
enum KnowledgeDocs {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum SystemAiUsage {
    Table,
    Day,
    Tokens,
    Requests,
}
