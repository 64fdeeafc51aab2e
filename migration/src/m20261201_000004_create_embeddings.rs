use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per chunk of a knowledge document. A chunk is stored as soon as its document
        // changes, with `embedded_at` NULL ("pending"); the background job fills `vector`,
        // `model` and `dimensions` in batches, so indexing resumes where it stopped. The vector is
        // normalised f32, little-endian (a BLOB on SQLite, `bytea` on PostgreSQL). Deleting the
        // document deletes its chunks (cascade).
        manager
            .create_table(
                Table::create()
                    .table(KnowledgeChunks::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(KnowledgeChunks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(KnowledgeChunks::DocId).uuid().not_null())
                    // The document's owner, copied so a user's vectors are read without a join;
                    // NULL for global documents.
                    .col(ColumnDef::new(KnowledgeChunks::UserId).uuid().null())
                    .col(ColumnDef::new(KnowledgeChunks::Position).integer().not_null())
                    .col(ColumnDef::new(KnowledgeChunks::Heading).text().not_null())
                    .col(ColumnDef::new(KnowledgeChunks::Content).text().not_null())
                    // SHA-256 (hex) of title, heading and content: an unchanged chunk keeps its vector.
                    .col(ColumnDef::new(KnowledgeChunks::ContentHash).string_len(64).not_null())
                    .col(ColumnDef::new(KnowledgeChunks::Model).string_len(100).null())
                    .col(ColumnDef::new(KnowledgeChunks::Dimensions).integer().null())
                    .col(ColumnDef::new(KnowledgeChunks::Vector).blob().null())
                    .col(ColumnDef::new(KnowledgeChunks::EmbeddedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(KnowledgeChunks::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_chunks_doc")
                            .from(KnowledgeChunks::Table, KnowledgeChunks::DocId)
                            .to(KnowledgeDocs::Table, KnowledgeDocs::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_knowledge_chunks_doc")
                    .table(KnowledgeChunks::Table)
                    .col(KnowledgeChunks::DocId)
                    .to_owned(),
            )
            .await?;
        // Covers the per-search fingerprint (count and newest `embedded_at` of a user's vectors
        // of one model) without touching the rows, whose vectors sit before `embedded_at`.
        manager
            .create_index(
                Index::create()
                    .name("idx_knowledge_chunks_user_model")
                    .table(KnowledgeChunks::Table)
                    .col(KnowledgeChunks::UserId)
                    .col(KnowledgeChunks::Model)
                    .col(KnowledgeChunks::EmbeddedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_knowledge_chunks_pending")
                    .table(KnowledgeChunks::Table)
                    .col(KnowledgeChunks::EmbeddedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(KnowledgeChunks::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum KnowledgeChunks {
    Table,
    Id,
    DocId,
    UserId,
    /// Order of the chunk in its document, from 0.
    Position,
    /// The heading the chunk sits under ("" before the first one).
    Heading,
    Content,
    ContentHash,
    /// The embedding model that wrote `vector`.
    Model,
    Dimensions,
    Vector,
    EmbeddedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum KnowledgeDocs {
    Table,
    Id,
}
