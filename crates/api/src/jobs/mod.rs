//! Background work every replica runs: periodic calendar sync, push-channel renewal,
//! re-planning and housekeeping. Work on one connection is guarded by a database lease, so replicas never
//! duplicate it.

pub mod calendar_sync;
pub mod channels;
pub mod replan;
