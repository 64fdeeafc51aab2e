use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::m20261121_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KnowledgeDocs::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(KnowledgeDocs::Id).uuid().not_null().primary_key())
                    // NULL for global documents, loaded from `knowledge.dir`.
                    .col(ColumnDef::new(KnowledgeDocs::UserId).uuid().null())
                    // The file a global document came from, relative to `knowledge.dir`.
                    .col(ColumnDef::new(KnowledgeDocs::SourcePath).string_len(500).null().unique_key())
                    .col(ColumnDef::new(KnowledgeDocs::Title).text().not_null())
                    .col(ColumnDef::new(KnowledgeDocs::Content).text().not_null())
                    .col(ColumnDef::new(KnowledgeDocs::Tags).json().not_null())
                    .col(ColumnDef::new(KnowledgeDocs::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(KnowledgeDocs::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_knowledge_docs_user")
                            .from(KnowledgeDocs::Table, KnowledgeDocs::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_knowledge_docs_user")
                    .table(KnowledgeDocs::Table)
                    .col(KnowledgeDocs::UserId)
                    .to_owned(),
            )
            .await?;
        // Full-text search in each engine's own way, behind one repository.
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE knowledge_docs ADD COLUMN search tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('english', coalesce(title, '')), 'A') ||
                        setweight(to_tsvector('english', coalesce(tags::text, '')), 'B') ||
                        setweight(to_tsvector('english', coalesce(content, '')), 'C')
                    ) STORED",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE INDEX idx_knowledge_docs_search ON knowledge_docs USING GIN (search)",
                )
                .await?;
            }
            _ => {
                // A standalone FTS5 index kept in step by triggers.
                for sql in [
                    "CREATE VIRTUAL TABLE knowledge_fts USING fts5(doc_id UNINDEXED, title, tags, content, tokenize = 'porter unicode61')",
                    "CREATE TRIGGER knowledge_docs_ai AFTER INSERT ON knowledge_docs BEGIN
                        INSERT INTO knowledge_fts (doc_id, title, tags, content) VALUES (new.id, new.title, new.tags, new.content);
                     END",
                    "CREATE TRIGGER knowledge_docs_ad AFTER DELETE ON knowledge_docs BEGIN
                        DELETE FROM knowledge_fts WHERE doc_id = old.id;
                     END",
                    "CREATE TRIGGER knowledge_docs_au AFTER UPDATE ON knowledge_docs BEGIN
                        DELETE FROM knowledge_fts WHERE doc_id = old.id;
                        INSERT INTO knowledge_fts (doc_id, title, tags, content) VALUES (new.id, new.title, new.tags, new.content);
                     END",
                ] {
                    db.execute_unprepared(sql).await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DatabaseBackend::Postgres {
            manager.get_connection().execute_unprepared("DROP TABLE IF EXISTS knowledge_fts").await?;
        }
        manager.drop_table(Table::drop().table(KnowledgeDocs::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum KnowledgeDocs {
    Table,
    Id,
    UserId,
    SourcePath,
    Title,
    Content,
    Tags,
    CreatedAt,
    UpdatedAt,
}
