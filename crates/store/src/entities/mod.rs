//! sea-orm entities: one module per table, private to this crate.

pub(crate) mod refresh_tokens;
pub(crate) mod users;
