use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

/// Upper bounds, in seconds, of the span classes 0..=7 of `calendar_events.span_class`; class 8
/// is anything longer. Kept equal to `SPAN_CLASS_LIMITS_SECS` in the store, which writes the class.
const LIMITS_SECS: [i64; 8] = [3_600, 14_400, 57_600, 230_400, 921_600, 3_686_400, 14_745_600, 58_982_400];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // How long an event lasts, in classes four times apart: a read of the events overlapping
        // a window looks back from its start by each class's bound only, so it touches the
        // events it returns plus a few that just ended, however large the calendar. 8 (the
        // unbounded class) is the default, which is always correct.
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarEvents::Table)
                    .add_column(
                        ColumnDef::new(CalendarEvents::SpanClass).small_integer().not_null().default(8),
                    )
                    .to_owned(),
            )
            .await?;
        let seconds = match manager.get_database_backend() {
            DatabaseBackend::Postgres => "EXTRACT(EPOCH FROM (end_at - start_at))",
            _ => "((julianday(end_at) - julianday(start_at)) * 86400.0)",
        };
        let cases: String = LIMITS_SECS
            .iter()
            .enumerate()
            .map(|(class, limit)| format!(" WHEN {seconds} <= {limit} THEN {class}"))
            .collect();
        manager
            .get_connection()
            .execute_unprepared(&format!("UPDATE calendar_events SET span_class = CASE{cases} ELSE 8 END"))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_events_window")
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::UserId)
                    .col(CalendarEvents::AllDay)
                    .col(CalendarEvents::SpanClass)
                    .col(CalendarEvents::StartAt)
                    .col(CalendarEvents::EndAt)
                    .to_owned(),
            )
            .await?;
        // It leads with the same user_id; left in place, SQLite's planner may read a term of the
        // window query through it, scanning every earlier event of the user.
        manager
            .drop_index(
                Index::drop().name("idx_calendar_events_user_start").table(CalendarEvents::Table).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("idx_calendar_events_user_start")
                    .table(CalendarEvents::Table)
                    .col(CalendarEvents::UserId)
                    .col(CalendarEvents::StartAt)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop().name("idx_calendar_events_window").table(CalendarEvents::Table).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(CalendarEvents::Table).drop_column(CalendarEvents::SpanClass).to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CalendarEvents {
    Table,
    SpanClass,
    UserId,
    AllDay,
    StartAt,
    EndAt,
}
