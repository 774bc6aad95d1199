//! How each sender signs and labels its webhooks, declared by the sender's own module and
//! found here by the URL intake serves: `/webhooks/{channel}/{store}` for stores and
//! `/webhooks/courier/{courier}` for couriers. The matches below are exhaustive over
//! [`Channel`] and [`CourierKind`], so a new channel or courier does not compile until it
//! says how its webhooks look.

use domain::{Channel, CourierKind};

/// Who sends to a webhook URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// A store's orders: they go to normalize.
    Store(Channel),
    /// A courier's task events: they go to status-sync.
    Courier(CourierKind),
}

/// The audit trail's channel name for courier webhooks; the courier is the "store" part.
pub const COURIER_SEGMENT: &str = "courier";

impl Sender {
    /// The channel name the audit trail records, and the first part of the secret's name
    /// (`{channel}/{store}`).
    pub fn audit_channel(self) -> &'static str {
        match self {
            Sender::Store(channel) => channel.as_str(),
            Sender::Courier(_) => COURIER_SEGMENT,
        }
    }
}

/// Where a webhook names its topic.
#[derive(Debug, Clone, Copy)]
pub enum TopicSource {
    Header(&'static str),
    /// Couriers name the event inside the body.
    Body(fn(&[u8]) -> Option<String>),
}

/// Where a webhook carries its delivery id.
#[derive(Debug, Clone, Copy)]
pub enum DeliveryId {
    Header(&'static str),
    /// The sender gives none (Onfleet): the body's SHA-256 stands in, since it re-sends the
    /// same bytes.
    BodyDigest,
}

/// A GET the sender makes to check the URL before it sends (Onfleet's `?check=`).
#[derive(Debug, Clone, Copy)]
pub struct Handshake {
    pub query_param: &'static str,
    /// The answer for the parameter's value; `None`: a bad request.
    pub answer: fn(Option<&str>) -> Option<String>,
    pub content_type: &'static str,
}

/// One sender's webhook contract.
#[derive(Debug, Clone, Copy)]
pub struct WebhookContract {
    pub signature_header: &'static str,
    /// `(secret, raw body, signature header) -> valid`. An empty secret never verifies.
    pub verify: fn(&str, &[u8], &str) -> bool,
    pub topic: TopicSource,
    pub delivery_id: DeliveryId,
    /// A header with the sender's time of the event, when it sends one.
    pub triggered_at_header: Option<&'static str>,
    /// Whether a topic is one courier-bridge acts on (others are acknowledged and kept).
    pub acts_on: fn(&str) -> bool,
    /// The delivery's deduplication key, from its delivery id and body.
    pub dedupe_key: fn(&str, &[u8]) -> String,
    /// An unsigned request the sender makes to activate a webhook (WooCommerce's ping): it
    /// carries no data and is answered 200 without trusting anything.
    pub unsigned_ping: Option<fn(&[u8]) -> bool>,
    pub handshake: Option<Handshake>,
}

/// The delivery id as the key, for senders whose ids are unique per delivery.
pub fn delivery_id_is_key(delivery_id: &str, _body: &[u8]) -> String {
    delivery_id.to_owned()
}

/// The sender and contract behind `/webhooks/{segment}/{store}`, or `None` for a URL no
/// sender uses (Amazon delivers to an SQS queue, not a URL).
pub fn route(segment: &str, store: &str) -> Option<(Sender, &'static WebhookContract)> {
    if segment == COURIER_SEGMENT {
        let courier: CourierKind = store.parse().ok()?;
        return Some((Sender::Courier(courier), courier_contract(courier)));
    }
    let channel: Channel = segment.parse().ok()?;
    store_contract(channel).map(|contract| (Sender::Store(channel), contract))
}

/// A store channel's webhook contract.
pub fn store_contract(channel: Channel) -> Option<&'static WebhookContract> {
    match channel {
        Channel::Shopify => Some(&crate::shopify::WEBHOOK),
        Channel::WooCommerce => Some(&crate::woocommerce::WEBHOOK),
        Channel::Api => Some(&crate::api::WEBHOOK),
        // SP-API notifications arrive on an SQS queue Amazon may write to; the queue policy
        // is their trust boundary (marketplace-intake).
        Channel::Amazon => None,
    }
}

/// A courier's webhook contract.
pub fn courier_contract(courier: CourierKind) -> &'static WebhookContract {
    match courier {
        CourierKind::Onfleet => &crate::onfleet::WEBHOOK,
        CourierKind::Sandbox => &crate::sandbox::WEBHOOK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_url_finds_its_sender_and_nothing_else_does() {
        for channel in [Channel::Shopify, Channel::WooCommerce, Channel::Api] {
            let (sender, _) = route(channel.as_str(), "acme").expect("a store channel");
            assert_eq!(sender, Sender::Store(channel));
            assert_eq!(sender.audit_channel(), channel.as_str());
        }
        for courier in CourierKind::ALL {
            let (sender, _) = route(COURIER_SEGMENT, courier.as_str()).expect("a courier");
            assert_eq!(sender, Sender::Courier(courier));
            assert_eq!(sender.audit_channel(), "courier");
        }
        assert!(route("amazon", "acme").is_none(), "Amazon uses a queue");
        assert!(route("courier", "dhl").is_none());
        assert!(route("ebay", "acme").is_none());
    }

    #[test]
    fn only_onfleet_asks_for_a_handshake_and_only_woocommerce_pings() {
        for courier in CourierKind::ALL {
            let contract = courier_contract(courier);
            assert_eq!(
                contract.handshake.is_some(),
                courier == CourierKind::Onfleet
            );
        }
        for channel in [Channel::Shopify, Channel::WooCommerce, Channel::Api] {
            let contract = store_contract(channel).unwrap();
            assert_eq!(
                contract.unsigned_ping.is_some(),
                channel == Channel::WooCommerce
            );
            assert!(contract.handshake.is_none());
        }
    }

    #[test]
    fn no_contract_verifies_anything_with_an_empty_secret() {
        let contracts = [Channel::Shopify, Channel::WooCommerce, Channel::Api]
            .map(|c| store_contract(c).unwrap())
            .into_iter()
            .chain(CourierKind::ALL.map(courier_contract));
        for contract in contracts {
            // Whatever the scheme, a signature made with an empty key must not pass.
            let b64 = crate::signature::sign_base64_hmac_sha256(b"", b"{}");
            let hex = crate::signature::sign_hex_hmac_sha256(b"", b"{}");
            assert!(!(contract.verify)("", b"{}", &b64));
            assert!(!(contract.verify)("", b"{}", &hex));
        }
    }
}
