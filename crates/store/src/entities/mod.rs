//! sea-orm entities: one module per table, private to this crate.

pub(crate) mod calendar_connections;
pub(crate) mod calendar_events;
pub(crate) mod calendar_feeds;
pub(crate) mod chat_actions;
pub(crate) mod chat_messages;
pub(crate) mod chat_sessions;
pub(crate) mod connection_calendars;
pub(crate) mod knowledge_chunks;
pub(crate) mod knowledge_docs;
pub(crate) mod oauth_states;
pub(crate) mod plans;
pub(crate) mod refresh_tokens;
pub(crate) mod resources;
pub(crate) mod task_blocks;
pub(crate) mod tasks;
pub(crate) mod users;
