//! The window index gains `id` right after `start_at`: each term of the window read orders by
//! `(start_at, id)` and stops at its limit, and with `id` in the index that order is the index's
//! own — no sort per term, no temporary B-tree.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_calendar_events_window";

fn window_index(with_id: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index
        .name(NAME)
        .table(CalendarEvents::Table)
        .col(CalendarEvents::UserId)
        .col(CalendarEvents::AllDay)
        .col(CalendarEvents::SpanClass)
        .col(CalendarEvents::StartAt);
    if with_id {
        index.col(CalendarEvents::Id);
    }
    index.col(CalendarEvents::EndAt).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(CalendarEvents::Table).to_owned()).await?;
        manager.create_index(window_index(true)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(NAME).table(CalendarEvents::Table).to_owned()).await?;
        manager.create_index(window_index(false)).await
    }
}

#[derive(DeriveIden)]
enum CalendarEvents {
    Table,
    Id,
    UserId,
    AllDay,
    SpanClass,
    StartAt,
    EndAt,
}
