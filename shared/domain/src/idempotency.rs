//! The create-once protocol (DESIGN.md, "Idempotency protocol"), for every side effect on a
//! partner:
//!
//! 1. Claim the key: a conditional put of an `IN_PROGRESS` record with a lease.
//! 2. If the claim takes over from an earlier attempt (its lease expired, or it released the
//!    key after a failure), that attempt may have reached the partner: look the effect up by
//!    reference first, and only create when the partner has nothing.
//! 3. Store the result with a conditional update to `COMPLETED`.
//!
//! A second delivery that finds `COMPLETED` gets the stored result; one that finds a live
//! lease is told to come back when it ends (it waits, it does not fail).

use crate::error::{Classify, Transience};
pub use crate::ports::IdempotencyStore;
use crate::ports::StorageError;
use serde::{de::DeserializeOwned, Serialize};
use serde_json::Value;
use std::future::Future;
use std::time::Duration;

/// The answer to "may I do this effect now?".
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The caller holds the lease under `token`. `resumed`: an earlier attempt held it and
    /// may have acted, so look before creating.
    Acquired { token: String, resumed: bool },
    /// Already done; the stored result.
    Completed(Value),
    /// Another attempt holds a live lease for this long still.
    Busy { remaining: Duration },
}

/// What storing the result found.
#[derive(Debug, Clone, PartialEq)]
pub enum Completion {
    Stored,
    /// Our lease had expired and another attempt stored a result first; that result stands.
    AlreadyCompleted(Value),
    /// Our lease had expired and another attempt holds the key now. It will look the effect
    /// up and find what we did.
    LeaseLost,
}

/// How a protected effect ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome<T> {
    /// The effect exists. `created_now` is false when it was found (stored or looked up).
    Done { result: T, created_now: bool },
    /// Someone else is doing it; retry after `retry_in`.
    Busy { retry_in: Duration },
}

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError<E> {
    #[error("idempotency store: {0}")]
    Store(#[from] StorageError),
    #[error(transparent)]
    Effect(E),
    #[error("stored result for {key} is unreadable: {problem}")]
    Corrupt { key: String, problem: String },
}

impl<E: Classify> Classify for ProtocolError<E> {
    fn transience(&self) -> Transience {
        match self {
            ProtocolError::Store(e) => e.transience(),
            ProtocolError::Effect(e) => e.transience(),
            ProtocolError::Corrupt { .. } => Transience::Permanent,
        }
    }
}

/// Runs `create` at most once for `key` across all attempts, anywhere. `lookup` finds an
/// effect that an earlier attempt may have made (by the same key as reference).
pub async fn run_once<S, T, E, L, LF, C, CF>(
    store: &S,
    key: &str,
    lease: Duration,
    lookup: L,
    create: C,
) -> Result<Outcome<T>, ProtocolError<E>>
where
    S: IdempotencyStore + ?Sized,
    T: Serialize + DeserializeOwned,
    E: std::fmt::Display,
    L: FnOnce() -> LF,
    LF: Future<Output = Result<Option<T>, E>>,
    C: FnOnce() -> CF,
    CF: Future<Output = Result<T, E>>,
{
    let (token, resumed) = match store.claim(key, lease).await? {
        Claim::Completed(stored) => {
            return Ok(Outcome::Done {
                result: decode(key, stored)?,
                created_now: false,
            })
        }
        Claim::Busy { remaining } => {
            return Ok(Outcome::Busy {
                retry_in: remaining,
            })
        }
        Claim::Acquired { token, resumed } => (token, resumed),
    };

    let found = if resumed {
        match lookup().await {
            Ok(found) => found,
            Err(e) => return Err(give_back(store, key, &token, e).await),
        }
    } else {
        None
    };
    let (result, created_now) = match found {
        Some(existing) => (existing, false),
        None => match create().await {
            Ok(created) => (created, true),
            Err(e) => return Err(give_back(store, key, &token, e).await),
        },
    };

    let encoded = serde_json::to_value(&result).map_err(|e| ProtocolError::Corrupt {
        key: key.to_owned(),
        problem: e.to_string(),
    })?;
    match store.complete(key, &token, &encoded).await? {
        Completion::Stored | Completion::LeaseLost => Ok(Outcome::Done {
            result,
            created_now,
        }),
        Completion::AlreadyCompleted(stored) => Ok(Outcome::Done {
            result: decode(key, stored)?,
            created_now: false,
        }),
    }
}

async fn give_back<S, E>(store: &S, key: &str, token: &str, error: E) -> ProtocolError<E>
where
    S: IdempotencyStore + ?Sized,
    E: std::fmt::Display,
{
    // If this fails, the lease simply runs out; the next attempt looks up either way.
    if let Err(release_error) = store.release(key, token, &error.to_string()).await {
        tracing::warn!(key, error = %release_error, "could not release idempotency key");
    }
    ProtocolError::Effect(error)
}

fn decode<T: DeserializeOwned, E>(key: &str, stored: Value) -> Result<T, ProtocolError<E>> {
    serde_json::from_value(stored).map_err(|e| ProtocolError::Corrupt {
        key: key.to_owned(),
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    //! The protocol's branches against a small in-memory store; the DynamoDB store is tested
    //! against the emulator in `shared/tests/`.
    use super::*;
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    #[derive(Default)]
    struct FakeStore {
        claim: Mutex<Vec<Claim>>,
        completed: Mutex<Vec<Value>>,
        released: AtomicUsize,
    }

    #[async_trait]
    impl IdempotencyStore for FakeStore {
        async fn claim(&self, _: &str, _: Duration) -> Result<Claim, StorageError> {
            Ok(self.claim.lock().unwrap().remove(0))
        }
        async fn complete(
            &self,
            _: &str,
            _: &str,
            result: &Value,
        ) -> Result<Completion, StorageError> {
            self.completed.lock().unwrap().push(result.clone());
            Ok(Completion::Stored)
        }
        async fn release(&self, _: &str, _: &str, _: &str) -> Result<(), StorageError> {
            self.released.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    fn store_answering(claim: Claim) -> FakeStore {
        FakeStore {
            claim: Mutex::new(vec![claim]),
            ..Default::default()
        }
    }

    async fn never_called() -> Result<Option<u32>, String> {
        panic!("lookup must not run for a fresh claim")
    }

    #[tokio::test]
    async fn a_fresh_claim_creates_without_looking_up_and_stores_the_result() {
        let store = store_answering(Claim::Acquired {
            token: "t".into(),
            resumed: false,
        });
        let out = run_once(
            &store,
            "k",
            Duration::from_secs(30),
            never_called,
            || async { Ok::<_, String>(7) },
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            Outcome::Done {
                result: 7,
                created_now: true
            }
        );
        assert_eq!(*store.completed.lock().unwrap(), vec![Value::from(7)]);
    }

    #[tokio::test]
    async fn a_resumed_claim_finds_the_earlier_effect_and_does_not_create_again() {
        let store = store_answering(Claim::Acquired {
            token: "t".into(),
            resumed: true,
        });
        let created = AtomicUsize::new(0);
        let out = run_once(
            &store,
            "k",
            Duration::from_secs(30),
            || async { Ok::<_, String>(Some(7)) },
            || async {
                created.fetch_add(1, Ordering::SeqCst);
                Ok(8)
            },
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            Outcome::Done {
                result: 7,
                created_now: false
            }
        );
        assert_eq!(created.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_completed_key_returns_the_stored_result() {
        let store = store_answering(Claim::Completed(Value::from(7)));
        let out = run_once(
            &store,
            "k",
            Duration::from_secs(30),
            never_called,
            || async { Err::<u32, _>("must not create".to_string()) },
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            Outcome::Done {
                result: 7,
                created_now: false
            }
        );
    }

    #[tokio::test]
    async fn a_live_lease_makes_the_duplicate_wait() {
        let store = store_answering(Claim::Busy {
            remaining: Duration::from_secs(12),
        });
        let out: Outcome<u32> = run_once(
            &store,
            "k",
            Duration::from_secs(30),
            never_called,
            || async { Err("must not create".to_string()) },
        )
        .await
        .unwrap();
        assert_eq!(
            out,
            Outcome::Busy {
                retry_in: Duration::from_secs(12)
            }
        );
    }

    #[tokio::test]
    async fn a_failed_effect_releases_the_key_and_surfaces_the_error() {
        let store = store_answering(Claim::Acquired {
            token: "t".into(),
            resumed: false,
        });
        let err = run_once::<_, u32, _, _, _, _, _>(
            &store,
            "k",
            Duration::from_secs(30),
            never_called,
            || async { Err("courier down".to_string()) },
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ProtocolError::Effect(ref e) if e == "courier down"));
        assert_eq!(store.released.load(Ordering::SeqCst), 1);
        assert!(store.completed.lock().unwrap().is_empty());
    }
}
