//! Accounts seen to exist lately, so that the requests of one token read the users table once
//! in a while instead of once each.
//!
//! An access token is checked for its signature and expiry on every request, and for its
//! account still existing: a deleted account's tokens stop working at once. Remembering "this
//! account existed a moment ago" for a few seconds (`auth.known_account_secs`) spares that read
//! on a burst of requests. The server that deletes an account forgets it at once; another
//! replica may accept its still-valid tokens for at most that long, and what such a request
//! writes then meets the deletion as a 409 conflict (the rows it refers to are gone).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use uuid::Uuid;

/// At most this many accounts are remembered; past it, expired entries are dropped first and,
/// when all are fresh, everything is forgotten (each account is then read once more).
const CAPACITY: usize = 65_536;

/// Accounts seen to exist, each with when it was seen. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct KnownAccounts {
    ttl: Duration,
    seen: Arc<Mutex<HashMap<Uuid, Instant>>>,
}

impl KnownAccounts {
    /// Remembers each account for `ttl` (zero: never, every request reads the table).
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, seen: Arc::default() }
    }

    /// Whether the account was seen to exist within the last `ttl`.
    pub fn is_known(&self, user_id: Uuid) -> bool {
        self.is_known_at(user_id, Instant::now())
    }

    /// Notes that the account exists now.
    pub fn remember(&self, user_id: Uuid) {
        self.remember_at(user_id, Instant::now());
    }

    /// Forgets the account (it was deleted): its next request reads the users table.
    pub fn forget(&self, user_id: Uuid) {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).remove(&user_id);
    }

    fn is_known_at(&self, user_id: Uuid, now: Instant) -> bool {
        if self.ttl.is_zero() {
            return false;
        }
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.get(&user_id).is_some_and(|at| now.saturating_duration_since(*at) < self.ttl)
    }

    fn remember_at(&self, user_id: Uuid, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.len() >= CAPACITY && !seen.contains_key(&user_id) {
            seen.retain(|_, at| now.saturating_duration_since(*at) < self.ttl);
            if seen.len() >= CAPACITY {
                seen.clear();
            }
        }
        seen.insert(user_id, now);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_secs(5);

    #[test]
    fn an_account_is_known_for_the_ttl_after_it_was_seen_and_not_after() {
        let known = KnownAccounts::new(TTL);
        let (user, start) = (Uuid::now_v7(), Instant::now());
        assert!(!known.is_known_at(user, start), "never seen");
        known.remember_at(user, start);
        assert!(known.is_known_at(user, start));
        assert!(known.is_known_at(user, start + TTL - Duration::from_millis(1)));
        assert!(!known.is_known_at(user, start + TTL), "the ttl has passed");
        assert!(!known.is_known_at(Uuid::now_v7(), start), "another account");
    }

    #[test]
    fn a_forgotten_account_is_read_again() {
        let known = KnownAccounts::new(TTL);
        let user = Uuid::now_v7();
        known.remember(user);
        assert!(known.is_known(user));
        known.forget(user);
        assert!(!known.is_known(user));
    }

    #[test]
    fn a_zero_ttl_remembers_nothing() {
        let known = KnownAccounts::new(Duration::ZERO);
        let user = Uuid::now_v7();
        known.remember(user);
        assert!(!known.is_known(user));
        assert_eq!(known.len(), 0);
    }

    #[test]
    fn a_full_cache_drops_the_expired_first_and_never_grows_past_its_capacity() {
        let known = KnownAccounts::new(TTL);
        let start = Instant::now();
        let old = Uuid::now_v7();
        known.remember_at(old, start);
        for _ in 1..CAPACITY {
            known.remember_at(Uuid::now_v7(), start + TTL);
        }
        assert_eq!(known.len(), CAPACITY);
        let newest = Uuid::now_v7();
        known.remember_at(newest, start + TTL);
        assert_eq!(known.len(), CAPACITY, "the expired entry made room");
        assert!(!known.is_known_at(old, start + TTL));
        assert!(known.is_known_at(newest, start + TTL));

        // All fresh: everything is forgotten, the newcomer kept.
        let another = Uuid::now_v7();
        known.remember_at(another, start + TTL);
        assert_eq!(known.len(), 1);
        assert!(known.is_known_at(another, start + TTL));
    }
}
