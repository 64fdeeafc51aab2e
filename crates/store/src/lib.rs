//! Planwright's persistence: sea-orm entities and the repositories that read and write them.
//!
//! Repositories take `&impl ConnectionTrait` (a pool or a transaction), always take the owning
//! `user_id` for user data, and return domain types: no sea-orm type crosses this crate's edge.
//! SQLite (embedded) and PostgreSQL share one schema, built by the `migration` crate.

mod backup;
mod database;
mod entities;
mod error;
pub mod repo;

pub use database::{Backend, Conn, Database, PoolStats};
pub use error::StoreError;
pub use sea_orm::{ConnectionTrait, DatabaseConnection};
