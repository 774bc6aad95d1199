//! [`Sandbox`]: starts the server, exposes its state to tests, stops it.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::middleware::from_fn;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::amazon::{
    AmazonConfirmationView, AmazonDestinationView, AmazonOrderSeed, AmazonSeedError,
    AmazonSubscriptionView,
};
use crate::courier::{CourierTaskView, WebhookDeliveryView};
use crate::faults::{hold_back, Fault};
use crate::onfleet::OnfleetWebhookView;
use crate::request_log::RequestLogEntry;
use crate::shopify::{FulfillmentEventView, FulfillmentView, ShopifySeedError, ShopifyWebhookView};
use crate::state::AppState;
use crate::twilio::TwilioMessageView;
use crate::woocommerce::{WooCommerceNoteView, WooCommerceStatusView, WooCommerceWebhookView};
use crate::{amazon, control, courier, shopify};

/// The secrets clients must present.
#[derive(Clone)]
pub struct SandboxConfig {
    /// Expected in `Authorization: Bearer <courier_api_key>` on every `/v1` request.
    pub courier_api_key: String,
    /// Expected in `X-Shopify-Access-Token` on every Admin GraphQL request.
    pub shopify_access_token: String,
}

// Hand-written so secrets never end up in logs or test output.
impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("courier_api_key", &"<redacted>")
            .field("shopify_access_token", &"<redacted>")
            .finish()
    }
}

/// A running sandbox server.
///
/// Dropping it stops the server without waiting; [`Sandbox::shutdown`] stops it gracefully.
pub struct Sandbox {
    app: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves on the current tokio
    /// runtime.
    pub async fn start(addr: SocketAddr, config: SandboxConfig) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = AppState::new(config, format!("http://{}", reachable(local)));

        let router = Router::new()
            .merge(courier::router(&app))
            .merge(control::router())
            .merge(shopify::router())
            .merge(crate::woocommerce::router())
            .merge(amazon::router())
            .merge(crate::onfleet::router())
            .merge(crate::twilio::router())
            .merge(crate::geo::router())
            .merge(crate::route_matrix::router())
            .layer(from_fn(hold_back))
            .with_state(app.clone());

        let (shutdown, stop) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    // A shutdown request and a dropped `Sandbox` both stop the server.
                    let _ = stop.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "sandbox server failed");
            }
        });
        tracing::debug!(url = %app.base_url(), "sandbox started");

        Ok(Sandbox {
            app,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }

    /// E.g. `http://127.0.0.1:41234`, without a trailing slash. Tracking URLs start with it.
    pub fn base_url(&self) -> String {
        self.app.base_url().to_owned()
    }

    /// Every courier task, in creation order.
    pub fn tasks(&self) -> Vec<CourierTaskView> {
        self.app.with(|store| store.tasks.views())
    }

    /// Every fulfillment in the fake Shopify store, created or seeded, oldest first.
    pub fn fulfillments(&self) -> Vec<FulfillmentView> {
        self.app.with(|store| store.shop.views())
    }

    /// Every fulfillment event in the fake Shopify store (`fulfillmentEventCreate`), oldest
    /// first, repeats included.
    pub fn shopify_fulfillment_events(&self) -> Vec<FulfillmentEventView> {
        self.app.with(|store| store.shop.event_views())
    }

    /// Adds a fulfillment the merchant made to an order of the fake Shopify store, without
    /// tracking, as the store holds it when its `fulfillments/create` webhook is sent. Ids
    /// are the numeric (REST) ids the webhook carries; returns the fulfillment's gid.
    pub fn seed_shopify_fulfillment(
        &self,
        order_id: &str,
        fulfillment_id: &str,
    ) -> Result<String, ShopifySeedError> {
        self.app
            .with(|store| store.shop.seed_fulfillment(order_id, fulfillment_id))
    }

    /// Replaces the access scopes the app holds in the fake Shopify store (as
    /// `currentAppInstallation { accessScopes }` lists them, and as
    /// `webhookSubscriptionCreate` checks them). They start as `read_orders`,
    /// `read_fulfillments`, `write_merchant_managed_fulfillment_orders` and
    /// `write_fulfillments`.
    pub fn set_shopify_scopes(&self, scopes: &[&str]) {
        self.app
            .with(|store| store.shop.webhooks.set_scopes(scopes));
    }

    /// Every webhook subscription of the fake Shopify store, oldest first.
    pub fn shopify_webhook_subscriptions(&self) -> Vec<ShopifyWebhookView> {
        self.app.with(|store| store.shop.webhooks.views())
    }

    /// Adds an order to the fake SP-API (replacing one with the same `AmazonOrderId`) and
    /// returns its id.
    pub fn seed_amazon_order(&self, seed: AmazonOrderSeed) -> Result<String, AmazonSeedError> {
        self.app.with(|store| store.amazon.seed(seed))
    }

    /// An Amazon order as `getOrder` now returns it (status and counts follow confirmations).
    pub fn amazon_order(&self, order_id: &str) -> Option<serde_json::Value> {
        self.app.with(|store| store.amazon.order(order_id).ok())
    }

    /// Every accepted `confirmShipment`, in arrival order.
    pub fn amazon_confirmations(&self) -> Vec<AmazonConfirmationView> {
        self.app.with(|store| store.amazon.confirmations())
    }

    /// How many access tokens the fake LWA endpoint has issued (clients should cache them).
    pub fn amazon_token_grants(&self) -> usize {
        self.app.with(|store| store.amazon.grants())
    }

    /// When `true`, the fake SP-API's `createSubscription` answers `403 Unauthorized`, as for
    /// an application without the role the notification needs, and creates nothing.
    pub fn set_amazon_notifications_denied(&self, denied: bool) {
        self.app
            .with(|store| store.amazon.notifications.denied = denied);
    }

    /// Every notification destination of the fake SP-API, oldest first.
    pub fn amazon_destinations(&self) -> Vec<AmazonDestinationView> {
        self.app
            .with(|store| store.amazon.notifications.destination_views())
    }

    /// Every notification subscription of the fake SP-API's seller, oldest first.
    pub fn amazon_subscriptions(&self) -> Vec<AmazonSubscriptionView> {
        self.app
            .with(|store| store.amazon.notifications.subscription_views())
    }

    /// Every webhook of the fake Onfleet organization, oldest first.
    pub fn onfleet_webhooks(&self) -> Vec<OnfleetWebhookView> {
        self.app.with(|store| store.onfleet.views())
    }

    /// Every note added to an order of the fake WooCommerce store, in creation order.
    pub fn woocommerce_notes(&self) -> Vec<WooCommerceNoteView> {
        self.app.with(|store| store.woocommerce.note_views())
    }

    /// Every order status change made in the fake WooCommerce store, in order.
    pub fn woocommerce_statuses(&self) -> Vec<WooCommerceStatusView> {
        self.app.with(|store| store.woocommerce.status_views())
    }

    /// Every webhook of the fake WooCommerce store, oldest first, with its secret.
    pub fn woocommerce_webhooks(&self) -> Vec<WooCommerceWebhookView> {
        self.app.with(|store| store.woocommerce.webhook_views())
    }

    /// Arms a fault for every fake WooCommerce REST route (orders, notes and webhooks),
    /// replacing any armed one.
    pub fn set_woocommerce_fault(&self, fault: Fault) {
        self.app.with(|store| store.woocommerce.fault.set(fault));
    }

    /// Every `/v1` request, in arrival order.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.app.with(|store| store.requests.snapshot())
    }

    /// Every accepted call of the fake `CalculateRouteMatrix`, in arrival order.
    pub fn route_matrix_calls(&self) -> Vec<crate::RouteMatrixCallView> {
        self.app.with(|store| store.route_matrix_calls.clone())
    }

    /// Arms a fault for `POST /v1/tasks`, replacing any armed one.
    pub fn set_create_task_fault(&self, fault: Fault) {
        self.app.with(|store| store.faults.create_task.set(fault));
    }

    /// Arms a fault for `PUT /v1/drivers/{driver_id}/route`, replacing any armed one.
    pub fn set_assign_route_fault(&self, fault: Fault) {
        self.app.with(|store| store.faults.assign_route.set(fault));
    }

    /// Each driver's route, as `GET /v1/drivers/{driver_id}/route` answers it: driver id →
    /// task ids in order.
    pub fn routes(&self) -> std::collections::BTreeMap<String, Vec<String>> {
        self.app.with(|store| store.routes.all())
    }

    /// Registers the courier's status webhook (as `PUT /v1/webhook` does), replacing any
    /// registered one: from now on every task status change is POSTed to `url`, signed with
    /// `secret`.
    ///
    /// # Panics
    ///
    /// If `url` is not an absolute `http://` or `https://` URL or `secret` is blank: a
    /// mistake in the test, which the HTTP route answers with a 422.
    pub fn set_webhook(&self, url: impl Into<String>, secret: impl Into<String>) {
        let (url, secret) = (url.into(), secret.into());
        if let Err(error) = self
            .app
            .with(|store| store.webhooks.register(url.clone(), secret))
        {
            panic!("cannot register the webhook {url:?}: {error}");
        }
    }

    /// Removes the courier's status webhook; events are no longer produced.
    pub fn clear_webhook(&self) {
        self.app.with(|store| store.webhooks.unregister());
    }

    /// Every attempt to deliver a status webhook, in the order they finished.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDeliveryView> {
        self.app.with(|store| store.webhooks.deliveries())
    }

    /// Every message the fake Twilio API accepted, in acceptance order (including those
    /// whose response a [`Fault::LoseResponse`] held back).
    pub fn sms_messages(&self) -> Vec<TwilioMessageView> {
        self.app.with(|store| store.twilio.views())
    }

    /// Arms a fault for the fake Twilio `Messages.json` endpoint, replacing any armed one.
    pub fn set_twilio_fault(&self, fault: Fault) {
        self.app.with(|store| store.faults.twilio.set(fault));
    }

    /// Arms a fault for the Shopify Admin GraphQL endpoint, replacing any armed one.
    pub fn set_shopify_admin_fault(&self, fault: Fault) {
        self.app.with(|store| store.faults.shopify_admin.set(fault));
    }

    pub fn clear_faults(&self) {
        self.app.with(|store| {
            store.faults.clear();
            store.woocommerce.fault = Default::default();
        });
    }

    /// Stops accepting connections and waits for in-flight requests (including responses
    /// held back by [`Fault::LoseResponse`]) to finish.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            // Fails only if the server already stopped, which is the goal anyway.
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            if let Err(error) = server.await {
                tracing::error!(%error, "sandbox server task panicked");
            }
        }
    }
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("base_url", &self.app.base_url())
            .finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The address clients should use: an unspecified bind address (`0.0.0.0`, `::`) is not a
/// destination, so links point at loopback instead.
fn reachable(local: SocketAddr) -> SocketAddr {
    match local {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => {
            SocketAddr::from((Ipv4Addr::LOCALHOST, v4.port()))
        }
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => {
            SocketAddr::from((Ipv6Addr::LOCALHOST, v6.port()))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_addresses_become_loopback() {
        let v4: SocketAddr = ([0, 0, 0, 0], 8787).into();
        assert_eq!(reachable(v4).to_string(), "127.0.0.1:8787");
        let v6: SocketAddr = (Ipv6Addr::UNSPECIFIED, 8787).into();
        assert_eq!(reachable(v6).to_string(), "[::1]:8787");
        let bound: SocketAddr = ([10, 0, 0, 5], 80).into();
        assert_eq!(reachable(bound), bound);
    }

    #[test]
    fn debug_redacts_secrets() {
        let config = SandboxConfig {
            courier_api_key: "k-secret".into(),
            shopify_access_token: "t-secret".into(),
        };
        let debug = format!("{config:?}");
        assert!(!debug.contains("secret"), "{debug}");
    }
}
