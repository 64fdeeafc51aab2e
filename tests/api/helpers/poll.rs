//! Waiting for what the app does in the background: poll with a deadline, never a bare sleep.

use std::{future::Future, time::Duration};

use tokio::time::Instant;

/// How long a test waits for background work (a sync, a push, a job) before it fails. Generous:
/// a push, the sync it asks for and the re-plan after it have taken over 15 s while the whole
/// PostgreSQL suite ran beside them on two cores; a test that passes waits only as long as the
/// work takes.
pub const BACKGROUND: Duration = Duration::from_secs(45);

/// Calls `check` every 20 ms until it answers `true`; fails the test, naming `what`, once
/// `timeout` has passed without it.
pub async fn poll_until<F, Fut>(timeout: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
