//! `Idempotency-Key` on POSTs that create: the first successful response under a key is kept per
//! user for [`KEY_TTL_SECS`] and replayed to a retry of the same request, so a client that lost
//! the answer (a proxy timeout, a dropped connection) can retry without creating a second object
//! or paying the AI twice.
//!
//! The key is claimed in the database before the work starts, so of two concurrent requests under
//! one key exactly one works, on any replica; the other is a 409 `idempotency_in_progress`. A
//! failed request releases its key: only successes are replayed. Expired keys are purged whenever
//! a key is claimed.

use std::future::Future;

use chrono::Utc;
use planwright_domain::FieldError;
use planwright_store::repo::idempotency::{self as repo, Claim, NewKey, StoredResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{error::ApiError, state::AppState};

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The response header set (to `true`) on a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// How long a key is kept: 24 hours.
pub const KEY_TTL_SECS: i64 = 24 * 3600;
/// An unfinished claim older than this is taken to be abandoned by a process that died, and may
/// be claimed again: longer than any AI call with its retries may take.
const ABANDONED_AFTER_SECS: i64 = 15 * 60;
/// The longest key accepted.
pub const KEY_MAX_LEN: usize = 255;

/// A valid `Idempotency-Key`: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Reads the header's raw bytes, or a 422 naming the header.
    pub fn parse(raw: &[u8]) -> Result<Self, ApiError> {
        let visible = raw.iter().all(|b| (0x21..=0x7e).contains(b));
        if raw.is_empty() || raw.len() > KEY_MAX_LEN || !visible {
            return Err(FieldError::new(
                HEADER,
                format!("Must be 1–{KEY_MAX_LEN} visible ASCII characters (no spaces), such as a UUID."),
            )
            .into());
        }
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A digest of a request, to tell a retry (same digest) from another request reusing its key.
pub fn fingerprint(request: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// A created object's response, fresh or replayed.
#[derive(Debug, Clone)]
pub struct Created {
    /// Absolute path of the created resource, for `Location`.
    pub location: String,
    /// The JSON body.
    pub body: String,
    /// Whether this is the stored response of an earlier request.
    pub replayed: bool,
}

impl Created {
    /// A fresh response: `body` serialized.
    pub fn new(location: String, body: &impl Serialize) -> Result<Self, ApiError> {
        let body = serde_json::to_string(body).map_err(ApiError::internal)?;
        Ok(Self { location, body, replayed: false })
    }
}

/// Runs `work` once per `(user_id, key)`: without a key it simply runs; with a new key it runs
/// and its success is stored; with a key whose request finished it returns the stored response
/// (`replayed`); with a key still at work it is a 409; with a key used for another request
/// (another body or operation) it is a 422 naming the header.
pub async fn create_once<F, Fut>(
    state: &AppState,
    user_id: Uuid,
    key: Option<&IdempotencyKey>,
    operation: &str,
    fingerprint: &str,
    work: F,
) -> Result<Created, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Created, ApiError>>,
{
    let Some(key) = key else {
        return work().await;
    };
    let db = state.db.conn();
    let now = Utc::now().timestamp();
    if let Err(error) = repo::prune(db, now).await {
        tracing::warn!(error = %error, "could not purge expired idempotency keys");
    }
    let new = NewKey {
        user_id,
        key: key.as_str(),
        operation,
        fingerprint,
        now,
        expires_at: now + KEY_TTL_SECS,
        stale_before: now - ABANDONED_AFTER_SECS,
    };
    match repo::claim(db, &new).await? {
        Claim::Taken(stored) if stored.operation != operation || stored.fingerprint != fingerprint => {
            Err(FieldError::new(
                HEADER,
                "This key was already used with a different request; use a new key for a new request.",
            )
            .into())
        }
        Claim::Taken(stored) => match stored.response {
            Some(response) => {
                tracing::info!(operation, "replaying the response stored under an idempotency key");
                Ok(Created {
                    location: response.location.unwrap_or_default(),
                    body: response.body,
                    replayed: true,
                })
            }
            None => Err(ApiError::Conflict {
                code: "idempotency_in_progress",
                detail: "A request with this Idempotency-Key is still being processed; retry in a moment \
                         to get its response."
                    .to_owned(),
            }),
        },
        Claim::Claimed => match work().await {
            Ok(created) => {
                let response = StoredResponse {
                    status: 201,
                    location: Some(created.location.clone()),
                    body: created.body.clone(),
                };
                if let Err(error) = repo::complete(db, user_id, key.as_str(), &response).await {
                    // The object exists; the caller gets it. Releasing the key lets a retry make
                    // a second one, which is better than a key stuck "in progress" for a day.
                    tracing::error!(error = %error, "could not store the response of an idempotency key");
                    release(state, user_id, key).await;
                }
                Ok(created)
            }
            Err(error) => {
                release(state, user_id, key).await;
                Err(error)
            }
        },
    }
}

async fn release(state: &AppState, user_id: Uuid, key: &IdempotencyKey) {
    if let Err(error) = repo::release(state.db.conn(), user_id, key.as_str()).await {
        tracing::warn!(error = %error, "could not release an idempotency key");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_to_255_visible_ascii_characters() {
        assert!(IdempotencyKey::parse(b"a").is_ok());
        assert!(IdempotencyKey::parse(b"5f0c3c1e-8d5b-4c9f-9a57-1b8f9b0e2d11").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        for bad in [&b""[..], &[b'k'; 256][..], b"has space", b"tab\there", "caf\u{e9}".as_bytes()] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let a = fingerprint(&serde_json::json!({"goal": "a", "days": 2}));
        assert_eq!(a, fingerprint(&serde_json::json!({"goal": "a", "days": 2})));
        assert_ne!(a, fingerprint(&serde_json::json!({"goal": "a", "days": 3})));
        assert_eq!(a.len(), 64);
    }
}
