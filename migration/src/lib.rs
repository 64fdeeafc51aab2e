//! Planwright's database migrations: one ordered set that builds the same schema on SQLite and
//! PostgreSQL. A migration that has landed is never edited; change the schema with a new one.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_users;
mod m20261121_000002_create_refresh_tokens;
mod m20261121_000003_create_rate_limits;
mod m20261121_000004_create_plans;
mod m20261121_000005_create_tasks_and_ai_usage;
mod m20261121_000006_create_resources;
mod m20261121_000007_create_knowledge_docs;
mod m20261121_000008_create_chat;
mod m20261121_000009_create_calendar;
mod m20261121_000010_add_schedule_links;
mod m20261130_000010_add_plan_generation;
mod m20261130_000011_add_event_span_index;
mod m20261201_000001_order_window_index_by_id;
mod m20261201_000002_create_idempotency_keys;
mod m20261201_000003_unify_tasks;
mod m20261201_000004_create_embeddings;
mod m20261201_000005_create_chat_actions;
mod m20261201_000006_add_replanning;
mod m20261202_000001_add_connection_calendars;
mod m20261202_000002_add_event_types;
mod m20261202_000003_embed_resources_and_plans;
mod m20261203_000001_shard_ai_usage;

/// Every migration, oldest first.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_users::Migration),
            Box::new(m20261121_000002_create_refresh_tokens::Migration),
            Box::new(m20261121_000003_create_rate_limits::Migration),
            Box::new(m20261121_000004_create_plans::Migration),
            Box::new(m20261121_000005_create_tasks_and_ai_usage::Migration),
            Box::new(m20261121_000006_create_resources::Migration),
            Box::new(m20261121_000007_create_knowledge_docs::Migration),
            Box::new(m20261121_000008_create_chat::Migration),
            Box::new(m20261121_000009_create_calendar::Migration),
            Box::new(m20261121_000010_add_schedule_links::Migration),
            Box::new(m20261130_000010_add_plan_generation::Migration),
            Box::new(m20261130_000011_add_event_span_index::Migration),
            Box::new(m20261201_000001_order_window_index_by_id::Migration),
            Box::new(m20261201_000002_create_idempotency_keys::Migration),
            Box::new(m20261201_000003_unify_tasks::Migration),
            Box::new(m20261201_000004_create_embeddings::Migration),
            Box::new(m20261201_000005_create_chat_actions::Migration),
            Box::new(m20261201_000006_add_replanning::Migration),
            Box::new(m20261202_000001_add_connection_calendars::Migration),
            Box::new(m20261202_000002_add_event_types::Migration),
            Box::new(m20261202_000003_embed_resources_and_plans::Migration),
            Box::new(m20261203_000001_shard_ai_usage::Migration),
        ]
    }
}
