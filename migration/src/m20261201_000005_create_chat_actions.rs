//! Proposed chat actions: what the assistant suggested doing, stored with its answer until the
//! person confirms or rejects it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ChatActions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ChatActions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ChatActions::UserId).uuid().not_null())
                    .col(ColumnDef::new(ChatActions::SessionId).uuid().not_null())
                    .col(ColumnDef::new(ChatActions::MessageId).uuid().not_null())
                    .col(ColumnDef::new(ChatActions::Position).integer().not_null())
                    .col(ColumnDef::new(ChatActions::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(ChatActions::Arguments).json().not_null())
                    .col(ColumnDef::new(ChatActions::Summary).text().not_null())
                    .col(ColumnDef::new(ChatActions::Preview).json().not_null())
                    .col(ColumnDef::new(ChatActions::TargetVersion).string_len(128).null())
                    .col(ColumnDef::new(ChatActions::Status).string_len(16).not_null())
                    .col(ColumnDef::new(ChatActions::Result).json().null())
                    .col(ColumnDef::new(ChatActions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ChatActions::DecidedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_actions_message")
                            .from(ChatActions::Table, ChatActions::MessageId)
                            .to(ChatMessages::Table, ChatMessages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_actions_session")
                            .from(ChatActions::Table, ChatActions::SessionId)
                            .to(ChatSessions::Table, ChatSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_actions_user")
                            .from(ChatActions::Table, ChatActions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // History reads the actions of a page of messages.
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_actions_message")
                    .table(ChatActions::Table)
                    .col(ChatActions::MessageId)
                    .col(ChatActions::Position)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_actions_session")
                    .table(ChatActions::Table)
                    .col(ChatActions::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ChatActions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ChatActions {
    Table,
    Id,
    UserId,
    SessionId,
    MessageId,
    Position,
    Kind,
    Arguments,
    Summary,
    Preview,
    TargetVersion,
    Status,
    Result,
    CreatedAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum ChatMessages {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
