//! One task model: a plan's tasks become rows of `tasks` (with `plan_id`), keeping their ids, and
//! where a task sits on the calendar moves to `task_blocks`, one row per chunk (a task the
//! scheduler splits has several). `plan_tasks` goes.
//!
//! `tasks` gains what the scheduler knows about a task: `priority` (`urgent|high|normal|low`),
//! `min_chunk_minutes` (NULL: never split), `earliest_start`, and `day_offset` for the tasks of a
//! plan. A moved plan task keeps its id, title, description, order (`position`), day and minutes
//! (`estimate_minutes`); its calendar binding becomes block 0 with the same event id, so the next
//! scheduling run finds its event and never duplicates it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const COPY_TASKS: &str = "INSERT INTO tasks \
    (id, user_id, parent_id, plan_id, title, description, status, due_at, estimate_minutes, position, \
     created_at, updated_at, day_offset, priority, min_chunk_minutes, earliest_start) \
    SELECT t.id, p.user_id, NULL, t.plan_id, t.title, t.description, 'todo', NULL, t.duration_minutes, \
     t.position, p.created_at, p.updated_at, t.day_offset, 'normal', 30, NULL \
    FROM plan_tasks t JOIN plans p ON p.id = t.plan_id";

const COPY_BLOCKS: &str = "INSERT INTO task_blocks (task_id, chunk, user_id, start_at, end_at, event_ref) \
    SELECT t.id, 0, p.user_id, t.scheduled_start, t.scheduled_end, t.calendar_event_ref \
    FROM plan_tasks t JOIN plans p ON p.id = t.plan_id \
    WHERE t.scheduled_start IS NOT NULL AND t.scheduled_end IS NOT NULL";

const COPY_BACK: &str = "INSERT INTO plan_tasks \
    (id, plan_id, position, title, description, day_offset, duration_minutes, scheduled_start, \
     scheduled_end, calendar_event_ref) \
    SELECT t.id, t.plan_id, t.position, t.title, t.description, COALESCE(t.day_offset, 0), \
     COALESCE(t.estimate_minutes, 15), b.start_at, b.end_at, b.event_ref \
    FROM tasks t LEFT JOIN task_blocks b ON b.task_id = t.id AND b.chunk = 0 \
    WHERE t.plan_id IS NOT NULL AND t.parent_id IS NULL";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            ColumnDef::new(Tasks::DayOffset).integer().null().to_owned(),
            ColumnDef::new(Tasks::Priority).string_len(16).not_null().default("normal").to_owned(),
            ColumnDef::new(Tasks::MinChunkMinutes).integer().null().default(30).to_owned(),
            ColumnDef::new(Tasks::EarliestStart).timestamp_with_time_zone().null().to_owned(),
        ] {
            let mut column = column;
            manager
                .alter_table(Table::alter().table(Tasks::Table).add_column(&mut column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(TaskBlocks::Table)
                    .col(ColumnDef::new(TaskBlocks::TaskId).uuid().not_null())
                    .col(ColumnDef::new(TaskBlocks::Chunk).integer().not_null())
                    .col(ColumnDef::new(TaskBlocks::UserId).uuid().not_null())
                    .col(ColumnDef::new(TaskBlocks::StartAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(TaskBlocks::EndAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(TaskBlocks::EventRef).string_len(1024).null())
                    .primary_key(Index::create().col(TaskBlocks::TaskId).col(TaskBlocks::Chunk))
                    // A task's blocks go when it goes.
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_task_blocks_task")
                            .from(TaskBlocks::Table, TaskBlocks::TaskId)
                            .to(Tasks::Table, Tasks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_task_blocks_user_start")
                    .table(TaskBlocks::Table)
                    .col(TaskBlocks::UserId)
                    .col(TaskBlocks::StartAt)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(COPY_TASKS).await?;
        db.execute_unprepared(COPY_BLOCKS).await?;
        manager.drop_table(Table::drop().table(PlanTasks::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlanTasks::Table)
                    .col(ColumnDef::new(PlanTasks::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(PlanTasks::PlanId).uuid().not_null())
                    .col(ColumnDef::new(PlanTasks::Position).integer().not_null())
                    .col(ColumnDef::new(PlanTasks::Title).text().not_null())
                    .col(ColumnDef::new(PlanTasks::Description).text().not_null())
                    .col(ColumnDef::new(PlanTasks::DayOffset).integer().not_null())
                    .col(ColumnDef::new(PlanTasks::DurationMinutes).integer().not_null())
                    .col(ColumnDef::new(PlanTasks::ScheduledStart).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(PlanTasks::ScheduledEnd).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(PlanTasks::CalendarEventRef).string_len(1024).null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plan_tasks_plan")
                            .from(PlanTasks::Table, PlanTasks::PlanId)
                            .to(Plans::Table, Plans::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_plan_tasks_plan_position")
                    .table(PlanTasks::Table)
                    .col(PlanTasks::PlanId)
                    .col(PlanTasks::Position)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(COPY_BACK).await?;
        db.execute_unprepared("DELETE FROM tasks WHERE plan_id IS NOT NULL AND parent_id IS NULL").await?;
        manager.drop_table(Table::drop().table(TaskBlocks::Table).to_owned()).await?;
        for column in [Tasks::EarliestStart, Tasks::MinChunkMinutes, Tasks::Priority, Tasks::DayOffset] {
            manager.alter_table(Table::alter().table(Tasks::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Tasks {
    Table,
    Id,
    DayOffset,
    Priority,
    MinChunkMinutes,
    EarliestStart,
}

#[derive(DeriveIden)]
enum TaskBlocks {
    Table,
    TaskId,
    Chunk,
    UserId,
    StartAt,
    EndAt,
    EventRef,
}

#[derive(DeriveIden)]
enum Plans {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum PlanTasks {
    Table,
    Id,
    PlanId,
    Position,
    Title,
    Description,
    DayOffset,
    DurationMinutes,
    ScheduledStart,
    ScheduledEnd,
    CalendarEventRef,
}
