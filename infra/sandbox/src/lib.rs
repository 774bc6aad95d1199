//! The sandbox: an in-memory stand-in for a real courier and for the stores and
//! marketplace courier-bridge writes back to.
//!
//! One HTTP server (one port) serves these surfaces:
//!
//! * the **sandbox courier API** under `/v1` (plus the public tracking page under `/track`),
//!   the documented contract in `docs/sandbox-courier-api.md`, including the signed status
//!   webhooks it sends (see [`Sandbox::set_webhook`]);
//! * the **control API** under `/sandbox`, used by tests to inject faults and read the request
//!   log — not part of the courier contract;
//! * a **fake Shopify Admin GraphQL API** under `/admin/api/{version}/graphql.json`, just
//!   enough of it for the fulfillment write-back (merchant-made fulfillments are seeded by
//!   tests, see [`Sandbox::seed_shopify_fulfillment`]) and for registering webhooks: the
//!   app's access scopes ([`Sandbox::set_shopify_scopes`]) and webhook subscriptions
//!   ([`Sandbox::shopify_webhook_subscriptions`]);
//! * a **fake WooCommerce REST API** under `/wp-json/wc/v3/...`: order notes and status,
//!   and webhooks ([`Sandbox::woocommerce_webhooks`]); Basic auth with
//!   [`WOOCOMMERCE_CONSUMER_KEY`] / [`WOOCOMMERCE_CONSUMER_SECRET`] (read/write) or
//!   [`WOOCOMMERCE_READ_ONLY_CONSUMER_KEY`] / [`WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET`]
//!   (read only);
//! * a **fake Onfleet webhooks API** under `/api/v2` (`auth/test`, `webhooks`), Basic auth
//!   with [`ONFLEET_API_KEY`]; a webhook is created only once its URL answers Onfleet's
//!   `?check=` request ([`Sandbox::onfleet_webhooks`]);
//! * a **fake Twilio Programmable Messaging API** (SMS and WhatsApp) under
//!   `/2010-04-01/Accounts/{AccountSid}/Messages.json`, Basic auth with
//!   [`TWILIO_ACCOUNT_SID`] / [`TWILIO_AUTH_TOKEN`];
//! * a **fake Amazon SP-API** (Orders API v0 under `/orders/v0/...`, Notifications API v1
//!   under `/notifications/v1/...` and the LWA token endpoint [`AMAZON_TOKEN_PATH`], with
//!   seller and grantless tokens), with orders seeded by tests and the demo, and
//!   notification destinations and subscriptions listed by [`Sandbox::amazon_destinations`]
//!   and [`Sandbox::amazon_subscriptions`];
//! * **fakes of Amazon Location Service**: the Places API's `Geocode` (`/v2/geocode`) and
//!   the Routes API's `CalculateRouteMatrix` (`/v2/route-matrix`, calls listed by
//!   [`Sandbox::route_matrix_calls`]).
//!
//! Tests and the local runtime drive it in-process through [`Sandbox`]; the `sandbox-courier`
//! binary serves it standalone.

mod amazon;
mod control;
mod courier;
mod error;
mod faults;
mod geo;
mod onfleet;
mod request_log;
mod route_matrix;
mod server;
mod shopify;
mod state;
mod twilio;
mod woocommerce;

pub use amazon::{
    AmazonConfirmationView, AmazonConfirmedItem, AmazonDestinationView, AmazonOrderSeed,
    AmazonSeedError, AmazonSubscriptionView, AMAZON_LWA_CLIENT_ID, AMAZON_LWA_CLIENT_SECRET,
    AMAZON_NOTIFICATIONS_SCOPE, AMAZON_ORDER_ITEMS_PAGE_SIZE, AMAZON_REFRESH_TOKEN,
    AMAZON_TOKEN_PATH,
};
pub use courier::{CourierTaskView, Destination, Money, Parcel, Recipient, StatusEvent};
pub use courier::{
    WebhookDeliveryView, WebhookOutcome, TARIFF_BASE_MINOR, TARIFF_DEFAULT_CURRENCY,
    TARIFF_PER_EXTRA_KG_MINOR, TASK_STATUS_CHANGED, WEBHOOK_ATTEMPT_TIMEOUT,
    WEBHOOK_EVENT_ID_HEADER, WEBHOOK_FIRST_RETRY_DELAY, WEBHOOK_MAX_ATTEMPTS,
    WEBHOOK_MAX_RETRY_DELAY, WEBHOOK_SIGNATURE_HEADER,
};
pub use faults::Fault;
pub use geo::{GEOCODE_AMBIGUOUS_POSTAL_CODE, GEOCODE_NOT_FOUND_POSTAL_CODE};
pub use onfleet::{OnfleetWebhookView, ONFLEET_API_KEY};
pub use request_log::RequestLogEntry;
pub use route_matrix::{
    RouteMatrixCallView, ROUTE_MATRIX_DETOUR, ROUTE_MATRIX_EARTH_RADIUS_M,
    ROUTE_MATRIX_NO_ROAD_RADIUS_M,
};
pub use server::{Sandbox, SandboxConfig};
pub use shopify::{FulfillmentEventView, FulfillmentView, ShopifySeedError, ShopifyWebhookView};
pub use twilio::{TwilioChannel, TwilioMessageView, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN};
pub use woocommerce::{
    WooCommerceNoteView, WooCommerceStatusView, WooCommerceWebhookView, WOOCOMMERCE_CONSUMER_KEY,
    WOOCOMMERCE_CONSUMER_SECRET, WOOCOMMERCE_READ_ONLY_CONSUMER_KEY,
    WOOCOMMERCE_READ_ONLY_CONSUMER_SECRET,
};
