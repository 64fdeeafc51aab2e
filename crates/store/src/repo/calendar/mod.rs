//! Calendar connections (the built-in calendar and Google) and the events kept from them, in two
//! repositories re-exported here so callers keep one path.

pub mod connections;
pub mod events;
pub mod selection;

pub use connections::*;
pub use events::*;
pub use selection::*;

/// The `calendar_id` of every user's built-in calendar.
pub const LOCAL_CALENDAR_ID: &str = "local";

/// How an upsert changed the stored event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// It was new.
    Added,
    /// It existed and changed.
    Updated,
    /// It existed unchanged.
    Unchanged,
}
