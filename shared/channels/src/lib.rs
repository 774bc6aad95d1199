//! Channels and couriers as they speak to us: each module owns one sender's payloads (field
//! names, quirks, published samples) and its webhook contract (signature scheme, topic,
//! delivery id), and reads what it sends into the domain's terms — an order event with
//! [`domain::ShipmentDraft`]s for a store, a [`domain::courier::CourierEvent`] for a courier.
//!
//! Pure: no I/O, no clock, no AWS or HTTP client. Intake finds a sender's contract through
//! [`webhook::route`]; normalize and status-sync call the readers.
//!
//! | module | sends | read into |
//! |---|---|---|
//! | [`shopify`] | order and fulfillment webhooks | order events |
//! | [`woocommerce`] | order webhooks (REST v3) | order events |
//! | [`api`] | the generic API's events (docs/api) | order events |
//! | [`amazon`] | SP-API `ORDER_CHANGE` notifications, Orders API answers | order events |
//! | [`onfleet`] | task webhooks | courier events |
//! | [`sandbox`] | the sandbox courier's webhooks | courier events |

pub mod amazon;
pub mod api;
pub mod onfleet;
pub mod sandbox;
pub mod shopify;
pub mod signature;
pub mod webhook;
pub mod webhook_secret;
pub mod woocommerce;

use domain::courier::CourierEvent;
use domain::error::{Classify, Transience};
use domain::order::OrderEvent;
use domain::{Channel, CourierKind, ReviewReason};

/// A payload its channel's contract does not describe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a {channel} {what}: {error}")]
    Malformed {
        channel: &'static str,
        what: &'static str,
        error: String,
    },
    #[error("{channel} topic {topic:?} is not acted on")]
    UnknownTopic {
        channel: &'static str,
        topic: String,
    },
    /// The channel's payloads name an order without its contents: it must be fetched.
    #[error("{channel} payloads are read after fetching the order")]
    FetchedOnly { channel: &'static str },
}

impl ParseError {
    pub fn malformed(channel: &'static str, what: &'static str, error: impl ToString) -> Self {
        ParseError::Malformed {
            channel,
            what,
            error: error.to_string(),
        }
    }

    pub fn review_reason(&self) -> ReviewReason {
        ReviewReason::UnparseablePayload {
            error: self.to_string(),
        }
    }
}

impl Classify for ParseError {
    fn transience(&self) -> Transience {
        // The same bytes fail the same way every time.
        Transience::Permanent
    }
}

/// Reads a store's webhook of `topic` into an order event. Amazon's notifications carry no
/// order: normalize fetches it ([`amazon::parse_notification`], then the Orders API).
pub fn order_event(
    channel: Channel,
    topic: &str,
    body: &[u8],
    store: &str,
) -> Result<OrderEvent, ParseError> {
    match channel {
        Channel::Shopify => shopify::order_event(topic, body, store),
        Channel::WooCommerce => woocommerce::order_event(topic, body, store),
        Channel::Api => api::order_event(topic, body, store),
        Channel::Amazon => Err(ParseError::FetchedOnly {
            channel: Channel::Amazon.as_str(),
        }),
    }
}

/// Reads a courier's webhook into a courier-neutral event. `Ok(None)`: well-formed but not
/// for us (a worker trigger, a newer event type).
pub fn courier_event(courier: CourierKind, body: &[u8]) -> Result<Option<CourierEvent>, String> {
    let parsed = match courier {
        CourierKind::Onfleet => onfleet::parse(body).map_err(|e| (e.is_ignorable(), e.to_string())),
        CourierKind::Sandbox => sandbox::parse(body).map_err(|e| (e.is_ignorable(), e.to_string())),
    };
    match parsed {
        Ok(event) => Ok(Some(event)),
        Err((true, _)) => Ok(None),
        Err((false, error)) => Err(error),
    }
}
