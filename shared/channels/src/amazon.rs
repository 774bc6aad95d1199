//! Amazon Selling Partner API (merchant-fulfilled orders): the `ORDER_CHANGE` notification,
//! the Orders API v0 resources delivery needs, and the one place where an Amazon field becomes
//! a draft field.
//!
//! Contract: amzn/selling-partner-api-models, `schemas/notifications/OrderChangeNotification.json`
//! and `models/orders-api-model/ordersV0.json`. A notification says *that* an order changed,
//! never where it goes: the address is restricted data served by `getOrderAddress`, the
//! buyer's relay e-mail by `getOrderBuyerInfo` and the quantities by `getOrderItems`
//! ([`crate::store::amazon::SpApiClient`] fetches them). [`order_event`] reads the fetched
//! order, never the notification's summary, so a late or repeated notification decides the
//! same as a fresh one.
//!
//! Decisions, per `OrderStatus` (see [`Order::facts`]):
//! * `Unshipped` / `PartiallyShipped`: Amazon's own definition is "payment authorized, ready
//!   for shipment", and Amazon charges the buyer only when the shipment is confirmed, so
//!   waiting for a capture would wait forever: the order counts as paid *and* ready, and ships
//!   under either trigger policy. A cash-on-delivery order is confirmed once it gets there.
//! * `Pending` / `PendingAvailability`: not paid, no address yet: wait.
//! * `Canceled`: cancel.
//! * `Shipped` / `InvoiceUnconfirmed`: everything left already (our own shipment confirmation
//!   produces exactly this notification): no shipments, and facts that never ship.
//! * Fulfilled by Amazon (`AFN`), in-store pickup (`IsISPU`) and `Unfulfillable` (an AFN-only
//!   status): Amazon or the buyer moves the parcel, so there is nothing for a courier: no
//!   shipments, and facts that never ship (and never cancel: no task can exist).

use crate::ParseError;
use domain::clock::parse_time;
use domain::draft::{clean, AddressDraft};
use domain::order::{Blocked, OrderEvent, OrderFacts, PaymentState};
use domain::{Channel, Contact, ContactKind, Notes, ShipmentDraft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

/// The notification type courier-bridge acts on.
pub const ORDER_CHANGE: &str = "ORDER_CHANGE";

/// Amazon orders ship whole: one shipment per order, confirmed with one package.
pub const WHOLE_ORDER_SHIPMENT: &str = "1";

const CHANNEL: &str = "amazon";

/// `PaymentMethod` of a cash-on-delivery order (also the COD `PaymentExecutionDetailItem`).
const COD: &str = "COD";

/// The envelope every SP-API notification shares; the payload is read once the type is known,
/// so a type we do not act on is reported as such rather than as a malformed payload.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    notification_type: String,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    payload: serde_json::Value,
    #[serde(default)]
    notification_metadata: Option<NotificationMetadata>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NotificationMetadata {
    #[serde(default)]
    notification_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct OrderChangePayload {
    order_change_notification: OrderChangeNotification,
}

/// `Payload.OrderChangeNotification`, as sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderChangeNotification {
    #[serde(default)]
    pub notification_level: Option<String>,
    pub seller_id: String,
    pub amazon_order_id: String,
    /// `OrderStatusChange` or `BuyerRequestedChange`.
    #[serde(default)]
    pub order_change_type: Option<String>,
    #[serde(default)]
    pub order_change_trigger: Option<OrderChangeTrigger>,
    #[serde(default)]
    pub summary: Option<OrderChangeSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderChangeTrigger {
    #[serde(default)]
    pub time_of_order_change: Option<String>,
    /// Free text, e.g. "Buyer Requested Cancel".
    #[serde(default)]
    pub change_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderChangeSummary {
    #[serde(default)]
    pub marketplace_id: Option<String>,
    #[serde(default)]
    pub order_status: Option<String>,
    /// `MFN` (the seller ships) or `AFN` (Amazon ships).
    #[serde(default)]
    pub fulfillment_type: Option<String>,
    #[serde(default)]
    pub order_type: Option<String>,
    #[serde(default)]
    pub number_of_items_shipped: Option<u32>,
    #[serde(default)]
    pub number_of_items_unshipped: Option<u32>,
    #[serde(default)]
    pub latest_ship_date: Option<String>,
    #[serde(default)]
    pub latest_delivery_date: Option<String>,
    #[serde(default)]
    pub order_items: Vec<OrderChangeItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderChangeItem {
    #[serde(default)]
    pub order_item_id: Option<String>,
    #[serde(default, rename = "SellerSKU")]
    pub seller_sku: Option<String>,
    #[serde(default)]
    pub order_item_status: Option<String>,
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub quantity_shipped: Option<u32>,
    #[serde(default, deserialize_with = "flag")]
    pub is_buyer_requested_cancel: bool,
}

/// An `ORDER_CHANGE` notification, read: what the intake needs to key, route and de-duplicate
/// it, plus the notification itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// `NotificationMetadata.NotificationId`: the same for every redelivery of one
    /// notification, so it is the de-duplication key.
    pub notification_id: String,
    /// The selling partner (merchant token) whose order changed: it names the store.
    pub seller_id: String,
    pub amazon_order_id: String,
    pub event_time: Option<OffsetDateTime>,
    pub order_status: Option<String>,
    pub fulfillment_type: Option<String>,
    /// The buyer asked to cancel (an item's `IsBuyerRequestedCancel`, or a buyer-requested
    /// change whose reason is a cancellation). A request only: the order is cancelled when
    /// the seller accepts, which a later notification reports.
    pub buyer_requested_cancel: bool,
    pub notification: OrderChangeNotification,
}

impl OrderChange {
    /// Amazon ships AFN orders itself: the order need not even be fetched.
    pub fn is_fulfilled_by_amazon(&self) -> bool {
        self.fulfillment_type.as_deref() == Some("AFN")
    }
}

/// Parses an SP-API notification (the body of the SQS message or the EventBridge event's
/// `detail`). Only `ORDER_CHANGE` is acted on; other types are [`ParseError::UnknownTopic`].
pub fn parse_notification(body: &[u8]) -> Result<OrderChange, ParseError> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| ParseError::malformed(CHANNEL, "notification", e))?;
    if envelope.notification_type != ORDER_CHANGE {
        return Err(ParseError::UnknownTopic {
            channel: CHANNEL,
            topic: envelope.notification_type,
        });
    }
    let notification_id = envelope
        .notification_metadata
        .and_then(|m| clean(&m.notification_id))
        .ok_or_else(|| {
            ParseError::malformed(
                CHANNEL,
                "notification",
                "missing NotificationMetadata.NotificationId",
            )
        })?;
    let payload = OrderChangePayload::deserialize(&envelope.payload)
        .map_err(|e| ParseError::malformed(CHANNEL, "ORDER_CHANGE payload", e))?;
    let n = payload.order_change_notification;
    let summary = n.summary.as_ref();
    let item_cancel =
        summary.is_some_and(|s| s.order_items.iter().any(|i| i.is_buyer_requested_cancel));
    let reason_cancel = n.order_change_type.as_deref() == Some("BuyerRequestedChange")
        && n.order_change_trigger
            .as_ref()
            .and_then(|t| t.change_reason.as_deref())
            .is_some_and(|r| r.to_ascii_lowercase().contains("cancel"));
    Ok(OrderChange {
        notification_id,
        seller_id: n.seller_id.clone(),
        amazon_order_id: n.amazon_order_id.clone(),
        event_time: envelope.event_time.as_deref().and_then(parse_time),
        order_status: summary.and_then(|s| s.order_status.clone()),
        fulfillment_type: summary.and_then(|s| s.fulfillment_type.clone()),
        buyer_requested_cancel: item_cancel || reason_cancel,
        notification: n,
    })
}

/// SP-API `Money`: the amount is decimal text, kept as text (never a float).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Money {
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
}

/// `getOrder`'s payload: the fields delivery needs. Everything Amazon may leave out is
/// optional; absence becomes a review reason, not a parse error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order {
    /// 3-7-7 digits ("902-1845936-5435065"): text, and the order id of the shipment key.
    pub amazon_order_id: String,
    #[serde(default)]
    pub seller_order_id: Option<String>,
    #[serde(default)]
    pub purchase_date: Option<String>,
    #[serde(default)]
    pub last_update_date: Option<String>,
    pub order_status: String,
    /// `MFN` or `AFN`.
    #[serde(default)]
    pub fulfillment_channel: Option<String>,
    #[serde(default)]
    pub ship_service_level: Option<String>,
    /// Normalised: `Standard`, `Expedited`, `NextDay`, `SameDay`, `SecondDay`, `Scheduled`...
    #[serde(default)]
    pub shipment_service_level_category: Option<String>,
    #[serde(default)]
    pub order_total: Option<Money>,
    #[serde(default)]
    pub number_of_items_shipped: Option<u32>,
    #[serde(default)]
    pub number_of_items_unshipped: Option<u32>,
    /// `COD`, `CVS` or `Other`.
    #[serde(default)]
    pub payment_method: Option<String>,
    /// A COD order's split between COD and what was prepaid (gift card, points).
    #[serde(default)]
    pub payment_execution_detail: Vec<PaymentExecutionDetailItem>,
    #[serde(default)]
    pub marketplace_id: Option<String>,
    #[serde(default)]
    pub latest_ship_date: Option<String>,
    #[serde(default)]
    pub earliest_delivery_date: Option<String>,
    #[serde(default)]
    pub latest_delivery_date: Option<String>,
    #[serde(default, rename = "IsISPU", deserialize_with = "flag")]
    pub is_ispu: bool,
    #[serde(default, deserialize_with = "flag")]
    pub is_access_point_order: bool,
    /// Only with a restricted data token; `getOrderAddress` is the usual source.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// Only with a restricted data token; `getOrderBuyerInfo` is the usual source.
    #[serde(default)]
    pub buyer_info: Option<BuyerInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PaymentExecutionDetailItem {
    #[serde(default)]
    pub payment: Option<Money>,
    /// `COD`, `GC`, `PointsAccount`, `Invoice`.
    #[serde(default)]
    pub payment_method: Option<String>,
}

/// `getOrderAddress`'s payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderAddress {
    #[serde(default)]
    pub amazon_order_id: Option<String>,
    #[serde(default)]
    pub shipping_address: Option<Address>,
    #[serde(default)]
    pub delivery_preferences: Option<DeliveryPreferences>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub address_line1: Option<String>,
    #[serde(default)]
    pub address_line2: Option<String>,
    #[serde(default)]
    pub address_line3: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub county: Option<String>,
    #[serde(default)]
    pub district: Option<String>,
    #[serde(default)]
    pub state_or_region: Option<String>,
    #[serde(default)]
    pub municipality: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country_code: Option<String>,
    /// Suppressed for some roles, marketplaces and order ages; see [`is_masked_phone`].
    #[serde(default)]
    pub phone: Option<String>,
    /// `Residential` or `Commercial`.
    #[serde(default)]
    pub address_type: Option<String>,
    /// Brazil only: the street split into name, number and complement.
    #[serde(default)]
    pub extended_fields: Option<AddressExtendedFields>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AddressExtendedFields {
    #[serde(default)]
    pub street_name: Option<String>,
    #[serde(default)]
    pub street_number: Option<String>,
    #[serde(default)]
    pub complement: Option<String>,
    #[serde(default)]
    pub neighborhood: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeliveryPreferences {
    #[serde(default)]
    pub drop_off_location: Option<String>,
    /// "Building instructions, nearby landmark or navigation instructions."
    #[serde(default)]
    pub address_instructions: Option<String>,
}

/// `getOrderBuyerInfo`'s payload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerInfo {
    #[serde(default)]
    pub amazon_order_id: Option<String>,
    /// Amazon's anonymised relay ("...@marketplace.amazon.com"): it reaches the buyer only
    /// through buyer–seller messaging.
    #[serde(default)]
    pub buyer_email: Option<String>,
    /// "The buyer name or the recipient name."
    #[serde(default)]
    pub buyer_name: Option<String>,
    #[serde(default)]
    pub purchase_order_number: Option<String>,
}

/// One page of `getOrderItems`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItemsPage {
    #[serde(default)]
    pub amazon_order_id: Option<String>,
    #[serde(default)]
    pub order_items: Vec<OrderItem>,
    /// When present and not empty, the next page's token.
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderItem {
    /// Digits, kept as text: the id a shipment confirmation names.
    pub order_item_id: String,
    #[serde(default, rename = "ASIN")]
    pub asin: Option<String>,
    #[serde(default, rename = "SellerSKU")]
    pub seller_sku: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    pub quantity_ordered: u32,
    #[serde(default)]
    pub quantity_shipped: Option<u32>,
    /// Price × quantity.
    #[serde(default)]
    pub item_price: Option<Money>,
    /// A scheduled delivery's window (`ShipmentServiceLevelCategory` `Scheduled`).
    #[serde(default)]
    pub scheduled_delivery_start_date: Option<String>,
    #[serde(default)]
    pub scheduled_delivery_end_date: Option<String>,
    #[serde(default)]
    pub buyer_requested_cancel: Option<BuyerRequestedCancel>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BuyerRequestedCancel {
    /// The Orders API sends "true"/"false" as text; notifications send a JSON boolean.
    #[serde(default, deserialize_with = "flag")]
    pub is_buyer_requested_cancel: bool,
    #[serde(default)]
    pub buyer_cancel_reason: Option<String>,
}

impl OrderItem {
    /// What is left to ship of this item.
    pub fn unshipped_quantity(&self) -> u32 {
        self.quantity_ordered
            .saturating_sub(self.quantity_shipped.unwrap_or(0))
    }

    pub fn buyer_requested_cancel(&self) -> bool {
        self.buyer_requested_cancel
            .as_ref()
            .is_some_and(|c| c.is_buyer_requested_cancel)
    }
}

/// A boolean that Amazon sends as `true`, `"true"`, or not at all.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Option::<Flag>::deserialize(d)? {
        Some(Flag::Bool(b)) => b,
        Some(Flag::Text(t)) => t.trim().eq_ignore_ascii_case("true"),
        None => false,
    })
}

/// An Orders API response: `{"payload": T}` (errors come with non-2xx statuses).
#[derive(Deserialize)]
struct Response<T> {
    payload: Option<T>,
}

fn payload<T: DeserializeOwned>(body: &[u8], what: &'static str) -> Result<T, ParseError> {
    let response: Response<T> =
        serde_json::from_slice(body).map_err(|e| ParseError::malformed(CHANNEL, what, e))?;
    response
        .payload
        .ok_or_else(|| ParseError::malformed(CHANNEL, what, "no payload"))
}

/// Parses a `getOrder` response body.
pub fn parse_order(body: &[u8]) -> Result<Order, ParseError> {
    payload(body, "getOrder response")
}

/// Parses a `getOrderAddress` response body.
pub fn parse_order_address(body: &[u8]) -> Result<OrderAddress, ParseError> {
    payload(body, "getOrderAddress response")
}

/// Parses a `getOrderBuyerInfo` response body.
pub fn parse_buyer_info(body: &[u8]) -> Result<BuyerInfo, ParseError> {
    payload(body, "getOrderBuyerInfo response")
}

/// Parses one `getOrderItems` response page.
pub fn parse_order_items(body: &[u8]) -> Result<OrderItemsPage, ParseError> {
    payload(body, "getOrderItems response")
}

/// Whether Amazon hid the phone: `*` for hidden digits, or runs of `x`/`X` ("+1 480-XXX-XX30").
/// A lone `x` is how extensions are written ("x73824", "ext. 73824"), so it does not count.
/// Absent and empty phones are hidden too, but there is nothing to test for those.
pub fn is_masked_phone(phone: &str) -> bool {
    phone.contains(['*', '•']) || phone.to_ascii_lowercase().contains("xx")
}

/// Where an order stands for delivery, from its status and who fulfils it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Placed, not paid (`Pending`, `PendingAvailability`, or a status we do not know).
    NotPaid,
    /// `Unshipped` / `PartiallyShipped`: paid and ready for the seller to ship.
    ToShip,
    /// `Shipped` / `InvoiceUnconfirmed`: nothing left to ship.
    Shipped,
    Canceled,
    /// Amazon ships it (AFN, `Unfulfillable`) or the buyer collects it (ISPU).
    NotForCourier,
}

impl Order {
    pub fn is_fulfilled_by_amazon(&self) -> bool {
        self.fulfillment_channel.as_deref() == Some("AFN")
    }

    /// `Unshipped`/`PartiallyShipped` and the seller's to ship: the only state in which the
    /// address, buyer and items matter (and in which Amazon serves the address).
    pub fn is_ready_to_ship(&self) -> bool {
        self.stage() == Stage::ToShip
    }

    pub fn is_cash_on_delivery(&self) -> bool {
        self.payment_method.as_deref() == Some(COD)
    }

    fn stage(&self) -> Stage {
        if self.is_fulfilled_by_amazon() || self.is_ispu || self.order_status == "Unfulfillable" {
            return Stage::NotForCourier;
        }
        match self.order_status.as_str() {
            "Unshipped" | "PartiallyShipped" => Stage::ToShip,
            "Shipped" | "InvoiceUnconfirmed" => Stage::Shipped,
            "Canceled" => Stage::Canceled,
            _ => Stage::NotPaid,
        }
    }

    /// The order's state as facts for the trigger policy (see the module docs for why each
    /// status means what it does). A buyer's pending cancellation request on an item still to
    /// ship holds the order (wait) until the seller accepts (a `Canceled` order) or declines
    /// it: shipping it anyway would ship what the buyer no longer wants.
    pub fn facts(&self, items: &[OrderItem]) -> OrderFacts {
        let cod = self.is_cash_on_delivery();
        let never_ships = |why: &str| OrderFacts {
            cancelled: false,
            payment: PaymentState::Captured,
            cash_on_delivery: false,
            confirmed: false,
            ready_to_ship: false,
            readiness_only: false,
            blocked: Some(Blocked::NotForCourier(why.to_owned())),
        };
        let hold = OrderFacts {
            cancelled: false,
            payment: PaymentState::Pending,
            cash_on_delivery: cod,
            confirmed: false,
            ready_to_ship: false,
            readiness_only: false,
            blocked: None,
        };
        match self.stage() {
            Stage::NotForCourier => {
                never_ships("fulfilled by Amazon, picked up in store, or unfulfillable")
            }
            // Our own shipment confirmation causes exactly this notification.
            Stage::Shipped => never_ships("already shipped"),
            Stage::Canceled => OrderFacts {
                cancelled: true,
                ..hold
            },
            Stage::NotPaid => hold,
            Stage::ToShip
                if items
                    .iter()
                    .any(|i| i.unshipped_quantity() > 0 && i.buyer_requested_cancel()) =>
            {
                OrderFacts {
                    blocked: Some(Blocked::Held(
                        "the buyer asked to cancel; waiting for the seller's decision".into(),
                    )),
                    ..hold
                }
            }
            // Amazon guarantees the prepaid charge at shipment confirmation; the courier
            // collects a COD order's money, so that stays pending.
            Stage::ToShip => OrderFacts {
                cancelled: false,
                payment: if cod {
                    PaymentState::Pending
                } else {
                    PaymentState::Captured
                },
                cash_on_delivery: cod,
                confirmed: true,
                ready_to_ship: true,
                readiness_only: false,
                blocked: None,
            },
        }
    }

    /// What a COD courier collects: the COD part of a split payment when Amazon gives one
    /// (the rest was paid by gift card or points), else the order total.
    fn amount_to_collect(&self) -> Option<String> {
        self.payment_execution_detail
            .iter()
            .filter(|p| p.payment_method.as_deref() == Some(COD))
            .find_map(|p| p.payment.as_ref().and_then(|m| clean(&m.amount)))
            .or_else(|| self.order_total.as_ref().and_then(|m| clean(&m.amount)))
    }
}

/// Reads a fetched order into an [`OrderEvent`]: `address` from `getOrderAddress`, `buyer`
/// from `getOrderBuyerInfo`, `items` from `getOrderItems` (all pages). The order's own
/// `ShippingAddress`/`BuyerInfo` (present with a restricted data token) stand in for absent
/// ones. Canceled, shipped and not-for-courier orders carry no shipments.
pub fn order_event(
    order: &Order,
    address: Option<&OrderAddress>,
    buyer: Option<&BuyerInfo>,
    items: &[OrderItem],
    store: &str,
) -> OrderEvent {
    let shipments = match order.stage() {
        Stage::NotPaid | Stage::ToShip => vec![draft(order, address, buyer, items, store)],
        Stage::Shipped | Stage::Canceled | Stage::NotForCourier => Vec::new(),
    };
    OrderEvent {
        order_id: order.amazon_order_id.clone(),
        facts: order.facts(items),
        shipments,
        occurred_at: order.last_update_date.as_deref().and_then(parse_time),
    }
}

/// The whole order as one delivery.
fn draft(
    order: &Order,
    address: Option<&OrderAddress>,
    buyer: Option<&BuyerInfo>,
    items: &[OrderItem],
    store: &str,
) -> ShipmentDraft {
    let mut d = ShipmentDraft::new(
        Channel::Amazon,
        store,
        &order.amazon_order_id,
        WHOLE_ORDER_SHIPMENT,
    );
    // The id the seller sees in Seller Central and on the packing slip.
    d.order_name = Some(order.amazon_order_id.clone());
    let shipping = address
        .and_then(|a| a.shipping_address.as_ref())
        .or(order.shipping_address.as_ref());
    let buyer = buyer.or(order.buyer_info.as_ref());
    fill_destination(&mut d, shipping);
    if d.recipient_name.is_none() {
        d.recipient_name = buyer.and_then(|b| clean(&b.buyer_name));
    }

    // Amazon hides the phone in some cases; the relay address then stands in for it, as a
    // messaging contact. It is never the recipient's e-mail: it accepts only the seller's
    // registered senders, for order messages, so a courier's notices there would bounce.
    let phone = shipping.and_then(|a| clean(&a.phone));
    match phone {
        Some(p) if !is_masked_phone(&p) => d.phones.push(p),
        masked => {
            d.phone_masked = true;
            d.phones.extend(masked);
            d.alternate_contact =
                buyer
                    .and_then(|b| clean(&b.buyer_email))
                    .map(|address| Contact {
                        kind: ContactKind::MarketplaceMessaging,
                        address,
                    });
        }
    }
    d.email = None;

    // Without items (not fetched) the order's own count of unshipped units stands in.
    d.pieces = if items.is_empty() {
        order.number_of_items_unshipped.unwrap_or(0)
    } else {
        items
            .iter()
            .fold(0u32, |sum, i| sum.saturating_add(i.unshipped_quantity()))
    };
    d.currency = order
        .order_total
        .as_ref()
        .and_then(|m| clean(&m.currency_code));
    d.cash_on_delivery = order.is_cash_on_delivery();
    d.amount = if d.cash_on_delivery {
        order.amount_to_collect()
    } else {
        order.order_total.as_ref().and_then(|m| clean(&m.amount))
    };
    d.shipping_method =
        clean(&order.shipment_service_level_category).or_else(|| clean(&order.ship_service_level));
    d.ship_by = clean(&order.latest_ship_date);
    // A scheduled delivery is a real window; Earliest/LatestDeliveryDate is only the promise
    // range (days wide), which is the ship-by check's business, not the driver's.
    if let Some(item) = items.iter().find(|i| {
        clean(&i.scheduled_delivery_start_date).is_some()
            && clean(&i.scheduled_delivery_end_date).is_some()
    }) {
        d.window_start = clean(&item.scheduled_delivery_start_date);
        d.window_end = clean(&item.scheduled_delivery_end_date);
    }
    let preferences = address.and_then(|a| a.delivery_preferences.as_ref());
    let notes: Vec<String> = preferences
        .map(|p| {
            [
                clean(&p.address_instructions),
                clean(&p.drop_off_location).map(|l| format!("Drop-off: {l}")),
            ]
            .into_iter()
            .flatten()
            .collect()
        })
        .unwrap_or_default();
    d.notes = Notes {
        text: (!notes.is_empty()).then(|| notes.join(". ")),
        ..Notes::default()
    };
    d
}

/// AddressLine1 is the street. When it is empty (some marketplaces put the street in line 2),
/// the next line moves up; the remaining lines are apartment/suite text for the driver.
/// Brazil's extended fields, when given, are the finer split.
fn fill_destination(d: &mut ShipmentDraft, a: Option<&Address>) {
    let Some(a) = a else { return };
    d.recipient_name = clean(&a.name);
    d.company = clean(&a.company_name);
    let mut lines = [&a.address_line1, &a.address_line2, &a.address_line3]
        .into_iter()
        .filter_map(clean);
    let mut street = lines.next();
    let rest: Vec<String> = lines.collect();
    let mut apartment = (!rest.is_empty()).then(|| rest.join(", "));
    let mut house = None;
    if let Some(x) = &a.extended_fields {
        if let Some(name) = clean(&x.street_name) {
            street = Some(name);
            house = clean(&x.street_number);
            apartment = clean(&x.complement).or(apartment);
        }
    }
    d.address = Some(AddressDraft {
        street,
        house,
        apartment,
        city: clean(&a.city).or_else(|| clean(&a.municipality)),
        region: clean(&a.state_or_region),
        postal_code: clean(&a.postal_code),
        country_code: clean(&a.country_code),
        ..AddressDraft::default()
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::order::Trigger;
    use domain::{Payment, ReviewReason, Shipment, StoreConfig, TriggerPolicy};
    use serde_json::{json, Value};

    const POLICIES: [TriggerPolicy; 2] = [
        TriggerPolicy::PaymentOrConfirmation,
        TriggerPolicy::ReadyToShip,
    ];

    fn order() -> Value {
        json!({
            "AmazonOrderId": "114-3941689-8772232",
            "PurchaseDate": "2026-11-20T09:00:00Z",
            "LastUpdateDate": "2026-11-20T09:05:00Z",
            "OrderStatus": "Unshipped",
            "FulfillmentChannel": "MFN",
            "ShipServiceLevel": "Std US D2D Dom",
            "ShipmentServiceLevelCategory": "Standard",
            "OrderTotal": {"CurrencyCode": "USD", "Amount": "57.98"},
            "NumberOfItemsShipped": 0,
            "NumberOfItemsUnshipped": 3,
            "PaymentMethod": "Other",
            "MarketplaceId": "ATVPDKIKX0DER",
            "LatestShipDate": "2026-11-22T07:59:59Z",
            "IsISPU": false
        })
    }

    fn address() -> Value {
        json!({
            "AmazonOrderId": "114-3941689-8772232",
            "ShippingAddress": {
                "Name": "Jane Doe", "AddressLine1": "410 Terry Ave N", "AddressLine2": "Suite 3",
                "AddressLine3": "Attn: Dock 2", "City": "Seattle", "StateOrRegion": "WA",
                "PostalCode": "98109", "CountryCode": "US", "Phone": "+1 206-266-1000",
                "AddressType": "Residential"
            },
            "DeliveryPreferences": {"AddressInstructions": "Ring twice", "DropOffLocation": "Front door"}
        })
    }

    fn buyer() -> Value {
        json!({"AmazonOrderId": "114-3941689-8772232", "BuyerEmail": "x2kmw5r1qz@marketplace.amazon.com", "BuyerName": "Jane Doe"})
    }

    fn items() -> Value {
        json!([
            {"OrderItemId": "68828574383266", "ASIN": "B00551Q3CS", "QuantityOrdered": 2, "QuantityShipped": 0,
             "ItemPrice": {"CurrencyCode": "USD", "Amount": "40.00"}},
            {"OrderItemId": "79039765272157", "QuantityOrdered": 3, "QuantityShipped": 2}
        ])
    }

    fn event_of(
        order: &Value,
        address: Option<&Value>,
        buyer: Option<&Value>,
        items: &Value,
    ) -> OrderEvent {
        let order: Order = serde_json::from_value(order.clone()).unwrap();
        let address: Option<OrderAddress> =
            address.map(|a| serde_json::from_value(a.clone()).unwrap());
        let buyer: Option<BuyerInfo> = buyer.map(|b| serde_json::from_value(b.clone()).unwrap());
        let items: Vec<OrderItem> = serde_json::from_value(items.clone()).unwrap();
        order_event(&order, address.as_ref(), buyer.as_ref(), &items, "s")
    }

    fn event(order: &Value) -> OrderEvent {
        event_of(order, Some(&address()), Some(&buyer()), &items())
    }

    fn shipment(e: &OrderEvent) -> Result<Shipment, Vec<ReviewReason>> {
        e.shipments[0].validate(&StoreConfig::default())
    }

    fn triggers(e: &OrderEvent) -> [Trigger; 2] {
        POLICIES.map(|p| e.facts.trigger(p))
    }

    fn notification(change: Value) -> Value {
        json!({
            "NotificationVersion": "1.0",
            "NotificationType": "ORDER_CHANGE",
            "PayloadVersion": "1.0",
            "EventTime": "2026-11-20T09:05:01.000Z",
            "Payload": {"OrderChangeNotification": change},
            "NotificationMetadata": {"NotificationId": "n-1", "PublishTime": "2026-11-20T09:05:02Z"}
        })
    }

    #[test]
    fn an_unshipped_order_ships_under_either_policy_as_one_complete_shipment() {
        let e = event(&order());
        assert_eq!(triggers(&e), [Trigger::Ship, Trigger::Ship]);
        assert_eq!(e.occurred_at.unwrap().unix_timestamp(), 1_795_165_500);
        assert_eq!(e.shipments.len(), 1);
        let s = shipment(&e).unwrap();
        assert_eq!(s.key.to_string(), "amazon:s:114-3941689-8772232:1");
        assert_eq!(s.order_name.as_deref(), Some("114-3941689-8772232"));
        assert_eq!(s.recipient.name, "Jane Doe");
        assert_eq!(s.recipient.phone.as_ref().unwrap().e164, "+12062661000");
        assert_eq!(s.recipient.email, None, "the relay address is not an inbox");
        assert_eq!(s.recipient.alternate_contact, None, "the phone is there");
        assert_eq!(s.address.street, "410 Terry Ave N");
        assert_eq!(
            s.address.apartment.as_deref(),
            Some("Suite 3, Attn: Dock 2")
        );
        assert_eq!(s.address.region.as_deref(), Some("WA"));
        assert_eq!(s.parcel.pieces, 3, "2 + (3 - 2) units left to ship");
        assert!(matches!(s.payment, Payment::Prepaid { order_total } if order_total.minor == 5798));
        assert_eq!(
            s.notes.text.as_deref(),
            Some("Ring twice. Drop-off: Front door")
        );
        assert_eq!(s.ship_by.unwrap().unix_timestamp(), 1_795_334_399);
        assert_eq!(e.shipments[0].shipping_method.as_deref(), Some("Standard"));
    }

    #[test]
    fn pending_waits_canceled_cancels_and_shipped_never_ships() {
        let mut v = order();
        v["OrderStatus"] = json!("Pending");
        let e = event(&v);
        assert!(triggers(&e)
            .iter()
            .all(|t| matches!(t, Trigger::Wait { .. })));
        assert_eq!(e.shipments.len(), 1);

        v["OrderStatus"] = json!("Canceled");
        let e = event(&v);
        assert!(triggers(&e)
            .iter()
            .all(|t| matches!(t, Trigger::Cancel { .. })));
        assert!(e.shipments.is_empty());

        for status in ["Shipped", "InvoiceUnconfirmed"] {
            v["OrderStatus"] = json!(status);
            let e = event(&v);
            // Ignored under every policy: nothing is left for a courier.
            assert!(
                triggers(&e)
                    .iter()
                    .all(|t| matches!(t, Trigger::Ignore { .. })),
                "{status}"
            );
            assert!(e.shipments.is_empty());
        }
    }

    #[test]
    fn orders_amazon_fulfils_or_the_buyer_collects_have_nothing_for_a_courier() {
        let cases = [
            ("FulfillmentChannel", json!("AFN")),
            ("IsISPU", json!(true)),
            ("OrderStatus", json!("Unfulfillable")),
        ];
        for (field, value) in cases {
            let mut v = order();
            v[field] = value;
            let e = event(&v);
            assert!(e.shipments.is_empty(), "{field}");
            assert!(
                triggers(&e)
                    .iter()
                    .all(|t| matches!(t, Trigger::Ignore { .. })),
                "{field}"
            );
            assert!(!triggers(&e)
                .iter()
                .any(|t| matches!(t, Trigger::Cancel { .. })));
        }
        // Even a cancelled AFN order: no courier task can exist to cancel.
        let mut v = order();
        v["FulfillmentChannel"] = json!("AFN");
        v["OrderStatus"] = json!("Canceled");
        assert!(!triggers(&event(&v))
            .iter()
            .any(|t| matches!(t, Trigger::Cancel { .. })));
    }

    #[test]
    fn cod_orders_ship_once_unshipped_and_collect_the_cod_part() {
        let mut v = order();
        v["PaymentMethod"] = json!("COD");
        v["OrderStatus"] = json!("Pending");
        assert!(triggers(&event(&v))
            .iter()
            .all(|t| matches!(t, Trigger::Wait { .. })));
        v["OrderStatus"] = json!("Unshipped");
        let e = event(&v);
        assert_eq!(triggers(&e), [Trigger::Ship, Trigger::Ship]);
        assert_eq!(
            shipment(&e).unwrap().payment.cod_amount().unwrap().minor,
            5798
        );
        v["PaymentExecutionDetail"] = json!([
            {"Payment": {"CurrencyCode": "USD", "Amount": "7.98"}, "PaymentMethod": "GC"},
            {"Payment": {"CurrencyCode": "USD", "Amount": "50.00"}, "PaymentMethod": "COD"}
        ]);
        assert_eq!(
            shipment(&event(&v))
                .unwrap()
                .payment
                .cod_amount()
                .unwrap()
                .minor,
            5000
        );
    }

    #[test]
    fn a_pending_buyer_cancellation_request_holds_the_order() {
        let mut it = items();
        it[0]["BuyerRequestedCancel"] =
            json!({"IsBuyerRequestedCancel": "true", "BuyerCancelReason": "Found cheaper"});
        let e = event_of(&order(), Some(&address()), Some(&buyer()), &it);
        assert!(triggers(&e)
            .iter()
            .all(|t| matches!(t, Trigger::Wait { .. })));
        // On an item already shipped it no longer matters.
        it[0]["QuantityShipped"] = json!(2);
        let e = event_of(&order(), Some(&address()), Some(&buyer()), &it);
        assert_eq!(triggers(&e), [Trigger::Ship, Trigger::Ship]);
        it[0]["BuyerRequestedCancel"]["IsBuyerRequestedCancel"] = json!("false");
        let item: OrderItem = serde_json::from_value(it[0].clone()).unwrap();
        assert!(!item.buyer_requested_cancel());
    }

    #[test]
    fn a_hidden_phone_falls_back_to_marketplace_messaging_or_needs_review() {
        for phone in [json!(null), json!(""), json!("  ")] {
            let mut a = address();
            a["ShippingAddress"]["Phone"] = phone.clone();
            let s = shipment(&event_of(&order(), Some(&a), Some(&buyer()), &items())).unwrap();
            assert_eq!(s.recipient.phone, None, "{phone}");
            assert_eq!(
                s.recipient.alternate_contact,
                Some(Contact {
                    kind: ContactKind::MarketplaceMessaging,
                    address: "x2kmw5r1qz@marketplace.amazon.com".into()
                })
            );
            assert_eq!(s.recipient.email, None);
            let reasons = shipment(&event_of(&order(), Some(&a), None, &items())).unwrap_err();
            assert_eq!(reasons, [ReviewReason::MissingPhone], "{phone}");
        }
        for masked in ["***-***-1000", "+1 206-XXX-XX00", "xxxxxxxxxx"] {
            let mut a = address();
            a["ShippingAddress"]["Phone"] = json!(masked);
            let e = event_of(&order(), Some(&a), Some(&buyer()), &items());
            assert!(e.shipments[0].phone_masked, "{masked}");
            assert_eq!(shipment(&e).unwrap().recipient.phone, None);
            let reasons = shipment(&event_of(&order(), Some(&a), None, &items())).unwrap_err();
            assert_eq!(reasons, [ReviewReason::MaskedPhone], "{masked}");
        }
    }

    #[test]
    fn extensions_are_not_masks() {
        assert!(!is_masked_phone("+1 480-386-0930 ext. 73824"));
        assert!(!is_masked_phone("+1 480-386-0930 x73824"));
        assert!(is_masked_phone("+1 480-386-XXXX"));
        assert!(is_masked_phone("*****0930"));
    }

    #[test]
    fn address_lines_move_up_and_brazilian_extended_fields_split_the_street() {
        let mut a = address();
        a["ShippingAddress"]["AddressLine1"] = json!("");
        let s = shipment(&event_of(&order(), Some(&a), Some(&buyer()), &items())).unwrap();
        assert_eq!(s.address.street, "Suite 3");
        assert_eq!(s.address.apartment.as_deref(), Some("Attn: Dock 2"));

        let brazil = json!({
            "AmazonOrderId": "701-0000000-0000001",
            "ShippingAddress": {
                "Name": "Ana Souza", "AddressLine1": "Rua Augusta, 1500 - Apto 12",
                "City": "São Paulo", "StateOrRegion": "SP", "PostalCode": "01304-001",
                "CountryCode": "BR", "Phone": "+55 11 3456-7890",
                "ExtendedFields": {"StreetName": "Rua Augusta", "StreetNumber": "1500", "Complement": "Apto 12", "Neighborhood": "Consolação"}
            }
        });
        let mut v = order();
        v["OrderTotal"] = json!({"CurrencyCode": "BRL", "Amount": "120.00"});
        let s = shipment(&event_of(&v, Some(&brazil), None, &items())).unwrap();
        assert_eq!(s.address.street_line(), "Rua Augusta 1500");
        assert_eq!(s.address.apartment.as_deref(), Some("Apto 12"));
    }

    #[test]
    fn pieces_fall_back_to_the_orders_count_and_scheduled_items_give_the_window() {
        let e = event_of(&order(), Some(&address()), None, &json!([]));
        assert_eq!(e.shipments[0].pieces, 3);
        let mut it = items();
        it[1]["ScheduledDeliveryStartDate"] = json!("2026-11-23T10:00:00Z");
        it[1]["ScheduledDeliveryEndDate"] = json!("2026-11-23T14:00:00Z");
        let s = shipment(&event_of(&order(), Some(&address()), None, &it)).unwrap();
        assert_eq!(s.window.map(|w| (w.end - w.start).whole_hours()), Some(4));
    }

    #[test]
    fn the_order_address_and_buyer_info_of_a_restricted_get_order_stand_in() {
        let mut v = order();
        v["ShippingAddress"] = address()["ShippingAddress"].clone();
        v["ShippingAddress"]["Phone"] = json!(null);
        v["BuyerInfo"] = buyer();
        let s = shipment(&event_of(&v, None, None, &items())).unwrap();
        assert_eq!(s.address.city, "Seattle");
        assert!(s.recipient.alternate_contact.is_some());
    }

    #[test]
    fn an_order_change_notification_is_read_and_other_types_are_not_acted_on() {
        let body = notification(json!({
            "SellerId": "A3TH9S8BH6GOGM", "AmazonOrderId": "114-3941689-8772232",
            "OrderChangeType": "OrderStatusChange",
            "OrderChangeTrigger": {"TimeOfOrderChange": "2026-11-20T09:05:00Z", "ChangeReason": "Order Status Changed"},
            "Summary": {"OrderStatus": "Unshipped", "FulfillmentType": "MFN",
                        "OrderItems": [{"OrderItemId": "1", "Quantity": 2, "IsBuyerRequestedCancel": false}]}
        }));
        let change = parse_notification(body.to_string().as_bytes()).unwrap();
        assert_eq!(change.notification_id, "n-1");
        assert_eq!(change.seller_id, "A3TH9S8BH6GOGM");
        assert_eq!(change.amazon_order_id, "114-3941689-8772232");
        assert_eq!(change.order_status.as_deref(), Some("Unshipped"));
        assert!(!change.buyer_requested_cancel && !change.is_fulfilled_by_amazon());
        assert_eq!(change.event_time.unwrap().unix_timestamp(), 1_795_165_501);

        let mut other = body.clone();
        other["NotificationType"] = json!("ANY_OFFER_CHANGED");
        assert_eq!(
            parse_notification(other.to_string().as_bytes()),
            Err(ParseError::UnknownTopic {
                channel: "amazon",
                topic: "ANY_OFFER_CHANGED".into()
            })
        );
    }

    #[test]
    fn a_buyer_requested_cancel_reason_is_a_cancellation_request() {
        let body = notification(json!({
            "SellerId": "A3TH9S8BH6GOGM", "AmazonOrderId": "114-3941689-8772232",
            "OrderChangeType": "BuyerRequestedChange",
            "OrderChangeTrigger": {"ChangeReason": "Buyer Requested Cancel"}
        }));
        assert!(
            parse_notification(body.to_string().as_bytes())
                .unwrap()
                .buyer_requested_cancel
        );
    }

    #[test]
    fn malformed_notifications_are_parse_errors() {
        let no_order = notification(json!({"SellerId": "A3TH9S8BH6GOGM"}));
        let mut no_id = notification(json!({"SellerId": "A", "AmazonOrderId": "1"}));
        no_id["NotificationMetadata"] = json!({});
        for body in [
            no_order.to_string(),
            no_id.to_string(),
            "{".into(),
            "[]".into(),
        ] {
            assert!(
                matches!(
                    parse_notification(body.as_bytes()),
                    Err(ParseError::Malformed { .. })
                ),
                "{body}"
            );
        }
    }

    #[test]
    fn response_bodies_need_a_payload() {
        let body = json!({"payload": order()}).to_string();
        assert_eq!(
            parse_order(body.as_bytes()).unwrap().order_status,
            "Unshipped"
        );
        let errors = json!({"errors": [{"code": "InvalidInput", "message": "Invalid Input"}]});
        assert!(parse_order(errors.to_string().as_bytes()).is_err());
        let page = json!({"payload": {"OrderItems": items(), "NextToken": "t2"}});
        let page = parse_order_items(page.to_string().as_bytes()).unwrap();
        assert_eq!(
            (page.order_items.len(), page.next_token.as_deref()),
            (2, Some("t2"))
        );
    }
}
