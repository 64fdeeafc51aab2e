//! Decoded vectors kept in memory between searches, per user and model. Each search asks the
//! database for a fingerprint (count and newest `embedded_at` of the vectors it may read, one
//! indexed aggregate) and reads the vectors again only when it changed, so replicas never serve
//! stale vectors and a warm search does not decode tens of megabytes of blobs.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

#[cfg(test)]
use planwright_store::repo::embeddings::ChunkSource;
use planwright_store::repo::embeddings::ChunkVector;
use uuid::Uuid;

/// Most vectors held over all users (about 60 MB at 768 values); the oldest entries go first.
pub const MAX_CACHED_VECTORS: usize = 20_000;

type Key = (Uuid, String);

/// One user's vectors as last read.
#[derive(Debug)]
struct Entry {
    fingerprint: (i64, i64),
    vectors: Arc<Vec<ChunkVector>>,
}

/// The cache; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct VectorCache {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    order: VecDeque<Key>,
    held: usize,
}

impl VectorCache {
    /// The cached vectors of `user_id` for `model` when their fingerprint is still `fingerprint`.
    pub fn get(&self, user_id: Uuid, model: &str, fingerprint: (i64, i64)) -> Option<Arc<Vec<ChunkVector>>> {
        let inner = self.inner.lock().ok()?;
        let entry = inner.entries.get(&(user_id, model.to_owned()))?;
        (entry.fingerprint == fingerprint).then(|| Arc::clone(&entry.vectors))
    }

    /// The vectors of `user_id` for `model` as last read, whatever changed since: the base a
    /// search reconciles with the database instead of reading every vector again.
    pub fn latest(&self, user_id: Uuid, model: &str) -> Option<Arc<Vec<ChunkVector>>> {
        let inner = self.inner.lock().ok()?;
        inner.entries.get(&(user_id, model.to_owned())).map(|entry| Arc::clone(&entry.vectors))
    }

    /// Keeps `vectors` for `user_id` and `model`, evicting the oldest entries beyond
    /// [`MAX_CACHED_VECTORS`] (a set larger than that alone is not kept).
    pub fn put(&self, user_id: Uuid, model: &str, fingerprint: (i64, i64), vectors: Arc<Vec<ChunkVector>>) {
        if vectors.len() > MAX_CACHED_VECTORS {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else { return };
        let key = (user_id, model.to_owned());
        if let Some(old) = inner.entries.remove(&key) {
            inner.held -= old.vectors.len();
            inner.order.retain(|k| *k != key);
        }
        while inner.held + vectors.len() > MAX_CACHED_VECTORS {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some(old) = inner.entries.remove(&oldest) {
                inner.held -= old.vectors.len();
            }
        }
        inner.held += vectors.len();
        inner.order.push_back(key.clone());
        inner.entries.insert(key, Entry { fingerprint, vectors });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vectors(n: usize) -> Arc<Vec<ChunkVector>> {
        Arc::new(
            (0..n)
                .map(|_| ChunkVector {
                    chunk_id: Uuid::now_v7(),
                    source: ChunkSource::Knowledge(Uuid::nil()),
                    vector: vec![1.0].into(),
                })
                .collect(),
        )
    }

    #[test]
    fn a_changed_fingerprint_misses_and_the_oldest_users_go_first() {
        let cache = VectorCache::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        cache.put(a, "m", (3, 1), vectors(MAX_CACHED_VECTORS / 2));
        assert!(cache.get(a, "m", (3, 1)).is_some());
        assert!(cache.get(a, "m", (4, 1)).is_none(), "changed since");
        assert!(cache.latest(a, "m").is_some(), "still the base to reconcile");
        assert!(cache.get(a, "other", (3, 1)).is_none(), "another model");
        cache.put(b, "m", (1, 1), vectors(MAX_CACHED_VECTORS / 2 + 1));
        assert!(cache.get(a, "m", (3, 1)).is_none(), "evicted to stay under the bound");
        assert!(cache.get(b, "m", (1, 1)).is_some());
        cache.put(a, "m", (5, 5), vectors(MAX_CACHED_VECTORS + 1));
        assert!(cache.get(a, "m", (5, 5)).is_none(), "too large to keep");
    }
}
