//! The shared, in-memory state behind every route.

use std::sync::{Arc, Mutex, PoisonError};

use crate::amazon::AmazonStore;
use crate::courier::{TaskStore, WebhookStore};
use crate::faults::Faults;
use crate::onfleet::OnfleetStore;
use crate::request_log::RequestLog;
use crate::server::SandboxConfig;
use crate::shopify::ShopStore;
use crate::twilio::TwilioStore;
use crate::woocommerce::WooStore;

/// Everything the sandbox remembers. Always accessed through [`AppState::with`].
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) tasks: TaskStore,
    pub(crate) routes: crate::courier::RouteBook,
    pub(crate) webhooks: WebhookStore,
    pub(crate) twilio: TwilioStore,
    pub(crate) shop: ShopStore,
    pub(crate) amazon: AmazonStore,
    pub(crate) woocommerce: WooStore,
    pub(crate) onfleet: OnfleetStore,
    pub(crate) requests: RequestLog,
    pub(crate) faults: Faults,
    /// Every accepted `CalculateRouteMatrix` call, in arrival order.
    pub(crate) route_matrix_calls: Vec<crate::route_matrix::RouteMatrixCallView>,
}

/// Cheaply clonable handle given to every handler and to [`crate::Sandbox`].
#[derive(Clone, Debug)]
pub(crate) struct AppState(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    config: SandboxConfig,
    base_url: String,
    store: Mutex<Store>,
}

impl AppState {
    pub(crate) fn new(config: SandboxConfig, base_url: String) -> Self {
        Self(Arc::new(Shared {
            config,
            base_url,
            store: Mutex::new(Store::default()),
        }))
    }

    pub(crate) fn config(&self) -> &SandboxConfig {
        &self.0.config
    }

    /// The URL clients reach the sandbox on; tracking links are built from it.
    pub(crate) fn base_url(&self) -> &str {
        &self.0.base_url
    }

    /// Runs `f` with the store locked.
    ///
    /// Taking a synchronous closure makes it impossible to hold the lock across an `.await`.
    /// Every critical section is a plain read or a check-then-write, so a panic in another
    /// one cannot leave the store half-updated in a way that matters; recovering from
    /// poisoning keeps one failed test from cascading into every later request.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let mut store = self.0.store.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut store)
    }
}
