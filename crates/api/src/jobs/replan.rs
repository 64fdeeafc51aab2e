//! The periodic re-plan tick (every `calendar.replan_interval_secs`): every user with blocks of
//! open tasks is re-planned under their lease, so blocks that passed undone roll forward even when
//! no calendar change comes in, and marks left by a replica that died are taken up.

use std::{collections::BTreeSet, time::Duration};

use chrono::Utc;
use planwright_store::repo::replans;
use tokio::task::JoinHandle;

use crate::{services::calendar::replan, state::AppState};

/// Users one tick looks at, at most.
const USERS_PER_TICK: u64 = 10_000;

/// Starts the tick when it is configured; the handle stops it.
pub fn spawn(state: AppState) -> Option<JoinHandle<()>> {
    let interval = state.settings.calendar.replan_interval_secs;
    if interval == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(interval)).await;
            run_once(&state).await;
        }
    }))
}

/// One tick: re-plan every user with a pending mark or a block of an open task.
pub async fn run_once(state: &AppState) {
    let db = state.db.conn();
    let mut users = BTreeSet::new();
    match replans::due_users(db, Utc::now(), USERS_PER_TICK).await {
        Ok(due) => users.extend(due),
        Err(error) => tracing::warn!(error = %error, "re-plan tick could not list marks"),
    }
    match replans::users_with_open_blocks(db, USERS_PER_TICK).await {
        Ok(found) => users.extend(found),
        Err(error) => tracing::warn!(error = %error, "re-plan tick could not list users"),
    }
    for user_id in users {
        replan::run_now(state, user_id).await;
    }
}
