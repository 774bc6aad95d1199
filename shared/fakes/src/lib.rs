//! In-memory fakes of the domain's ports, for the fast test tier: every function's handler
//! runs against them in microseconds, without the emulator. They keep the contracts the
//! DynamoDB, SQS and partner adapters keep — conditional writes that lose answer `false`,
//! a repeat is a duplicate, a courier finds a task by its reference — and they can be told
//! to fail ([`Faults`]) transiently or for good, before or after doing their work.
//!
//! The end-to-end suite (`tests/`) runs the real adapters against the emulator; these fakes
//! are for deciding logic quickly, not for proving the adapters.

pub mod logs;
mod partners;
pub mod sample;
mod state;

pub use partners::{
    FakeCourier, FakeCouriers, FakeGeocoder, FakeNotifier, FakeNotifiers, FakeOrderSource,
    FakeStoreWriter, FakeStoreWriters, FakeTask, StoreWrite,
};
pub use state::{
    FakeAudit, FakeCashBook, FakeFleet, FakeHistory, FakeIdempotency, FakeOutbox, FakePlans,
    FakeQueue, FakeReports, FakeRetryDelay, FakeReviews, FakeSecrets, FakeShipments,
    FakeStoreRules,
};

use domain::StorageError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Failures to hand out, per operation name ("record_task", "send", "create_task"), in
/// order: each call of that operation takes the next one, if any.
pub struct Faults<E> {
    queued: Mutex<HashMap<&'static str, Vec<E>>>,
}

impl<E> Default for Faults<E> {
    fn default() -> Self {
        Faults {
            queued: Mutex::new(HashMap::new()),
        }
    }
}

impl<E> Faults<E> {
    /// The next call of `operation` fails with `error` (calls after it succeed again).
    pub fn inject(&self, operation: &'static str, error: E) {
        lock(&self.queued)
            .entry(operation)
            .or_default()
            .insert(0, error);
    }

    /// The failure queued for this call of `operation`, if any.
    pub fn take(&self, operation: &'static str) -> Option<E> {
        lock(&self.queued).get_mut(operation).and_then(Vec::pop)
    }
}

impl Faults<StorageError> {
    /// `Err` when a failure is queued for `operation`.
    pub fn check(&self, operation: &'static str) -> Result<(), StorageError> {
        self.take(operation).map_or(Ok(()), Err)
    }
}

/// A transient storage failure, as throttling or a lost connection looks.
pub fn unavailable(operation: &'static str) -> StorageError {
    StorageError::Call {
        operation,
        message: "injected: service unavailable".into(),
        transient: true,
    }
}

/// A lock that survives a panicking test thread (the data is a test's, not shared state).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Every fake, shared: a test builds the function it tests from these and looks at them
/// afterwards.
#[derive(Clone, Default)]
pub struct World {
    pub shipments: Arc<FakeShipments>,
    pub reviews: Arc<FakeReviews>,
    pub audit: Arc<FakeAudit>,
    pub idempotency: Arc<FakeIdempotency>,
    pub outbox: Arc<FakeOutbox>,
    pub history: Arc<FakeHistory>,
    pub cash: Arc<FakeCashBook>,
    pub reports: Arc<FakeReports>,
    pub rules: Arc<FakeStoreRules>,
    pub secrets: Arc<FakeSecrets>,
    pub intake_queue: Arc<FakeQueue<domain::messages::InboundReceived>>,
    pub tasks_queue: Arc<FakeQueue<domain::messages::TaskRequested>>,
    pub sync_queue: Arc<FakeQueue<domain::messages::SyncEvent>>,
    pub outbox_queue: Arc<FakeQueue<domain::messages::OutboxQueued>>,
    pub retries: Arc<FakeRetryDelay>,
    pub courier: Arc<FakeCourier>,
    pub couriers: Arc<FakeCouriers>,
    pub writers: Arc<FakeStoreWriters>,
    pub notifiers: Arc<FakeNotifiers>,
    pub orders: Arc<FakeOrderSource>,
}

impl World {
    /// A world with the sandbox courier and every notification channel on.
    pub fn new() -> World {
        let courier = Arc::new(FakeCourier::default());
        World {
            couriers: Arc::new(FakeCouriers::new(courier.clone())),
            courier,
            ..World::default()
        }
    }
}
