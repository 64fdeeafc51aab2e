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
                    .table(ChatSessions::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ChatSessions::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ChatSessions::UserId).uuid().not_null())
                    .col(ColumnDef::new(ChatSessions::Title).string_len(200).not_null())
                    .col(ColumnDef::new(ChatSessions::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ChatSessions::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_sessions_user")
                            .from(ChatSessions::Table, ChatSessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The session list is read newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_sessions_user_updated")
                    .table(ChatSessions::Table)
                    .col(ChatSessions::UserId)
                    .col(ChatSessions::UpdatedAt)
                    .col(ChatSessions::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChatMessages::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(ChatMessages::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ChatMessages::SessionId).uuid().not_null())
                    .col(ColumnDef::new(ChatMessages::UserId).uuid().not_null())
                    .col(ColumnDef::new(ChatMessages::Role).string_len(16).not_null())
                    .col(ColumnDef::new(ChatMessages::Content).text().not_null())
                    .col(ColumnDef::new(ChatMessages::Sources).json().not_null())
                    .col(ColumnDef::new(ChatMessages::Usage).json().null())
                    .col(ColumnDef::new(ChatMessages::Model).string_len(100).null())
                    .col(ColumnDef::new(ChatMessages::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_messages_session")
                            .from(ChatMessages::Table, ChatMessages::SessionId)
                            .to(ChatSessions::Table, ChatSessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chat_messages_user")
                            .from(ChatMessages::Table, ChatMessages::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // History and the model's context window read a session's messages in order.
        manager
            .create_index(
                Index::create()
                    .name("idx_chat_messages_session_created")
                    .table(ChatMessages::Table)
                    .col(ChatMessages::SessionId)
                    .col(ChatMessages::CreatedAt)
                    .col(ChatMessages::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ChatMessages::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ChatSessions::Table).to_owned()).await
    }
}

#[derive(DeriveIden)]
enum ChatSessions {
    Table,
    Id,
    UserId,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChatMessages {
    Table,
    Id,
    SessionId,
    UserId,
    Role,
    Content,
    Sources,
    Usage,
    Model,
    CreatedAt,
}
