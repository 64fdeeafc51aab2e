//! The order tasks are placed in: the best ready task first, where a task of a plan is ready once
//! the one before it in that plan has been decided.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Priority, TaskToPlace};

/// How a task ranks, best first: urgent, earliest deadline (none last), priority, earliest start,
/// plan position, id; the remaining fields only make the order total when ids repeat.
type Key =
    (bool, bool, Option<DateTime<Utc>>, Priority, DateTime<Utc>, Option<(Uuid, u32)>, Uuid, u32, Option<u16>);

fn key(task: &TaskToPlace) -> Key {
    (
        task.priority != Priority::Urgent,
        task.due_at.is_none(),
        task.due_at,
        task.priority,
        task.earliest_start.unwrap_or(DateTime::<Utc>::MIN_UTC),
        task.sequence,
        task.id,
        task.estimate_minutes,
        task.min_chunk_minutes,
    )
}

/// The tasks still to decide, handed out best ready task first.
#[derive(Debug)]
pub(super) struct Queue {
    /// Ready tasks by key, with their index in the request.
    ready: BTreeSet<(Key, usize)>,
    keys: Vec<Key>,
    /// For a task of a plan: the plan's chain, and the task after it there.
    chain: Vec<Option<usize>>,
    next: Vec<Option<usize>>,
    /// For each chain: where its latest placed task ended.
    chain_end: Vec<Option<DateTime<Utc>>>,
}

impl Queue {
    /// Orders `tasks`: each plan's tasks (done ones aside) form a chain by position, of which only
    /// the first is ready; all other tasks are ready at once.
    pub(super) fn new(tasks: &[TaskToPlace]) -> Self {
        let keys: Vec<Key> = tasks.iter().map(key).collect();
        let mut plans: BTreeMap<Uuid, Vec<(u32, Key, usize)>> = BTreeMap::new();
        let mut ready = BTreeSet::new();
        for (index, task) in tasks.iter().enumerate() {
            match task.sequence {
                Some((plan, position)) if !task.done => {
                    plans.entry(plan).or_default().push((position, keys[index], index));
                }
                _ => {
                    ready.insert((keys[index], index));
                }
            }
        }
        let mut chain = vec![None; tasks.len()];
        let mut next = vec![None; tasks.len()];
        let mut chain_end = Vec::with_capacity(plans.len());
        for (number, mut members) in plans.into_values().enumerate() {
            members.sort_unstable();
            for pair in members.windows(2) {
                next[pair[0].2] = Some(pair[1].2);
            }
            for &(_, _, index) in &members {
                chain[index] = Some(number);
            }
            if let Some(&(_, key, index)) = members.first() {
                ready.insert((key, index));
            }
            chain_end.push(None);
        }
        Self { ready, keys, chain, next, chain_end }
    }

    /// The best ready task, taken out of the queue; `None` when every task has been handed out.
    pub(super) fn pop(&mut self) -> Option<usize> {
        self.ready.pop_first().map(|(_, index)| index)
    }

    /// Where the latest placed task of `index`'s plan ended, if any did.
    pub(super) fn plan_end(&self, index: usize) -> Option<DateTime<Utc>> {
        self.chain.get(index).copied().flatten().and_then(|chain| self.chain_end[chain])
    }

    /// Records that the task at `index` was decided (placed up to `end`, or left out with `None`),
    /// which makes the next task of its plan ready.
    pub(super) fn finish(&mut self, index: usize, end: Option<DateTime<Utc>>) {
        if let (Some(chain), Some(end)) = (self.chain.get(index).copied().flatten(), end) {
            self.chain_end[chain] = Some(end);
        }
        if let Some(next) = self.next.get(index).copied().flatten() {
            self.ready.insert((self.keys[next], next));
        }
    }
}
