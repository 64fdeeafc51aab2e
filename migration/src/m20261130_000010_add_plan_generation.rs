use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // What was repaired in the AI's answer (a JSON list of sentences) and the exact model
        // version that wrote the plan; NULL for plans made before.
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(ColumnDef::new(Plans::GenerationNotes).json().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Plans::Table)
                    .add_column(ColumnDef::new(Plans::ModelVersion).string().null())
                    .to_owned(),
            )
            .await?;
        // The daily budget's breakdown of Gemini's usageMetadata (tokens stays the billed total).
        for column in
            [AiUsage::PromptTokens, AiUsage::OutputTokens, AiUsage::ThoughtsTokens, AiUsage::CachedTokens]
        {
            manager
                .alter_table(
                    Table::alter()
                        .table(AiUsage::Table)
                        .add_column(ColumnDef::new(column).big_integer().not_null().default(0))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in
            [AiUsage::PromptTokens, AiUsage::OutputTokens, AiUsage::ThoughtsTokens, AiUsage::CachedTokens]
        {
            manager.alter_table(Table::alter().table(AiUsage::Table).drop_column(column).to_owned()).await?;
        }
        for column in [Plans::ModelVersion, Plans::GenerationNotes] {
            manager.alter_table(Table::alter().table(Plans::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    GenerationNotes,
    ModelVersion,
}

#[derive(DeriveIden, Clone, Copy)]
enum AiUsage {
    Table,
    PromptTokens,
    OutputTokens,
    ThoughtsTokens,
    CachedTokens,
}
