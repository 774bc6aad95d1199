//! The fake store's orders, fulfillment orders, fulfillments and fulfillment events.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use super::webhooks::WebhookBook;

/// A fulfillment in the fake store, as returned by [`crate::Sandbox::fulfillments`]: created
/// through `fulfillmentCreate`, or made by the merchant
/// ([`crate::Sandbox::seed_shopify_fulfillment`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FulfillmentView {
    /// The order's numeric id, as a string: Shopify ids exceed 2^53.
    pub order_id: String,
    /// `gid://shopify/Fulfillment/<n>`.
    pub fulfillment_id: String,
    /// `SUCCESS`.
    pub status: String,
    /// The fulfillment orders it fulfilled (and closed); empty for a merchant's fulfillment.
    pub fulfillment_order_ids: Vec<String>,
    /// The merchant made it (seeded), rather than a `fulfillmentCreate` call.
    pub by_merchant: bool,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub tracking_company: Option<String>,
    pub notify_customer: bool,
}

/// A fulfillment event in the fake store, as returned by
/// [`crate::Sandbox::shopify_fulfillment_events`]: what `fulfillmentEventCreate` recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentEventView {
    /// `gid://shopify/FulfillmentEvent/<n>`.
    pub event_id: String,
    /// The fulfillment it belongs to, `gid://shopify/Fulfillment/<n>`.
    pub fulfillment_id: String,
    /// A `FulfillmentEventStatus` value, e.g. `OUT_FOR_DELIVERY`.
    pub status: String,
    /// Shopify's `DateTime`: RFC 3339 in UTC, to the second (`2026-11-20T14:05:00Z`).
    pub happened_at: String,
    pub message: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Shopify's `DateTime`, like `happened_at`.
    pub estimated_delivery_at: Option<String>,
}

/// Why [`crate::Sandbox::seed_shopify_fulfillment`] refused a fulfillment.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShopifySeedError {
    /// Shopify's REST ids (the numeric part of a gid) are digits.
    #[error("{0:?} is not a numeric Shopify id")]
    NotNumeric(String),
    #[error("fulfillment {0} already exists")]
    FulfillmentExists(String),
}

/// `trackingInfo` of a fulfillment, both as `FulfillmentTrackingInput` and as the output.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TrackingInfo {
    pub(crate) company: Option<String>,
    pub(crate) number: Option<String>,
    pub(crate) url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FulfillmentOrderStatus {
    Open,
    Closed,
}

impl FulfillmentOrderStatus {
    /// The GraphQL enum value.
    pub(crate) fn as_graphql(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Closed => "CLOSED",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fulfillment {
    pub(crate) id: String,
    pub(crate) order_id: String,
    pub(crate) fulfillment_order_ids: Vec<String>,
    pub(crate) by_merchant: bool,
    pub(crate) tracking: Option<TrackingInfo>,
    pub(crate) notify_customer: bool,
}

/// A fulfillment event, as `fulfillmentEventCreate` made it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct FulfillmentEvent {
    /// `gid://shopify/FulfillmentEvent/<n>`.
    pub(crate) id: String,
    /// The fulfillment's gid.
    pub(crate) fulfillment_id: String,
    pub(crate) status: String,
    pub(crate) happened_at: OffsetDateTime,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) message: Option<String>,
    pub(crate) latitude: Option<f64>,
    pub(crate) longitude: Option<f64>,
    pub(crate) estimated_delivery_at: Option<OffsetDateTime>,
}

/// `FulfillmentEventInput`, validated: the status is one of the API version's values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NewFulfillmentEvent {
    /// The fulfillment's gid.
    pub(crate) fulfillment_id: String,
    pub(crate) status: String,
    pub(crate) happened_at: OffsetDateTime,
    pub(crate) message: Option<String>,
    pub(crate) latitude: Option<f64>,
    pub(crate) longitude: Option<f64>,
    pub(crate) estimated_delivery_at: Option<OffsetDateTime>,
}

/// Shopify's `DateTime` output: UTC, whole seconds, `Z` (`2019-07-03T20:47:55Z`).
pub(crate) fn shopify_datetime(at: OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// What the `fulfillmentOrders` query returns for one order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderSnapshot {
    /// The numeric id.
    pub(crate) id: String,
    pub(crate) fulfillment_orders: Vec<(String, FulfillmentOrderStatus)>,
    pub(crate) fulfillments: Vec<Fulfillment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewFulfillment {
    pub(crate) fulfillment_order_ids: Vec<String>,
    pub(crate) tracking: Option<TrackingInfo>,
    pub(crate) notify_customer: bool,
}

/// A GraphQL `UserError`: the mutation was understood but refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UserError {
    pub(crate) field: Vec<&'static str>,
    pub(crate) message: String,
}

impl UserError {
    fn on_fulfillment(message: impl Into<String>) -> Self {
        Self {
            field: vec!["fulfillment"],
            message: message.into(),
        }
    }
}

/// `gid://shopify/Fulfillment/<n>`: the numeric part is the REST id, which is what
/// `fulfillments/*` webhooks carry.
pub(crate) fn fulfillment_gid(numeric_id: &str) -> String {
    format!("gid://shopify/Fulfillment/{numeric_id}")
}

fn is_numeric_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

#[derive(Debug, Default)]
struct Order {
    fulfillment_order_ids: Vec<String>,
    fulfillments: Vec<usize>,
}

#[derive(Debug)]
struct FulfillmentOrder {
    order_id: String,
    status: FulfillmentOrderStatus,
}

#[derive(Debug, Default)]
pub(crate) struct ShopStore {
    /// Keyed by the order's numeric id, kept as a string.
    orders: HashMap<String, Order>,
    /// Keyed by gid.
    fulfillment_orders: HashMap<String, FulfillmentOrder>,
    fulfillments: Vec<Fulfillment>,
    /// Every fulfillment's events, in creation order.
    events: Vec<FulfillmentEvent>,
    last_fulfillment_order: u64,
    last_fulfillment: u64,
    last_event: u64,
    /// Webhook subscriptions and the app's access scopes.
    pub(crate) webhooks: WebhookBook,
}

impl ShopStore {
    /// The order with this numeric id. Orders appear the first time they are asked about,
    /// with one open fulfillment order, as a freshly paid single-location order would.
    pub(crate) fn order(&mut self, order_id: &str) -> OrderSnapshot {
        self.ensure_order(order_id);
        let order = &self.orders[order_id];
        OrderSnapshot {
            id: order_id.to_owned(),
            fulfillment_orders: order
                .fulfillment_order_ids
                .iter()
                .map(|id| (id.clone(), self.fulfillment_orders[id].status))
                .collect(),
            fulfillments: order
                .fulfillments
                .iter()
                .map(|&index| self.fulfillments[index].clone())
                .collect(),
        }
    }

    /// Creates the order on first mention (see [`ShopStore::order`]).
    fn ensure_order(&mut self, order_id: &str) {
        if !self.orders.contains_key(order_id) {
            self.last_fulfillment_order += 1;
            let fulfillment_order_id = format!(
                "gid://shopify/FulfillmentOrder/{}",
                self.last_fulfillment_order
            );
            self.fulfillment_orders.insert(
                fulfillment_order_id.clone(),
                FulfillmentOrder {
                    order_id: order_id.to_owned(),
                    status: FulfillmentOrderStatus::Open,
                },
            );
            self.orders.insert(
                order_id.to_owned(),
                Order {
                    fulfillment_order_ids: vec![fulfillment_order_id],
                    fulfillments: Vec::new(),
                },
            );
        }
    }

    /// Fulfills the named fulfillment orders in full and closes them, or refuses with one
    /// user error per fulfillment order that is unknown or no longer open. All or nothing.
    pub(crate) fn create_fulfillment(
        &mut self,
        new: NewFulfillment,
    ) -> Result<Fulfillment, Vec<UserError>> {
        let mut ids = new.fulfillment_order_ids;
        let mut seen = HashSet::new();
        ids.retain(|id| seen.insert(id.clone()));

        let Some(first) = ids.first() else {
            return Err(vec![UserError {
                field: vec!["fulfillment", "lineItemsByFulfillmentOrder"],
                message: "At least one fulfillment order is required.".to_owned(),
            }]);
        };
        let errors: Vec<UserError> = ids
            .iter()
            .filter_map(|id| match self.fulfillment_orders.get(id) {
                None => Some(UserError::on_fulfillment(
                    "Fulfillment order does not exist.",
                )),
                Some(fo) if fo.status != FulfillmentOrderStatus::Open => {
                    Some(UserError::on_fulfillment(format!(
                        "Fulfillment order {id} has an unfulfillable status= {}.",
                        fo.status.as_graphql().to_ascii_lowercase()
                    )))
                }
                Some(_) => None,
            })
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let order_id = self.fulfillment_orders[first].order_id.clone();
        if ids
            .iter()
            .any(|id| self.fulfillment_orders[id].order_id != order_id)
        {
            return Err(vec![UserError::on_fulfillment(
                "All fulfillment orders must belong to the same order.",
            )]);
        }

        for id in &ids {
            if let Some(fo) = self.fulfillment_orders.get_mut(id) {
                fo.status = FulfillmentOrderStatus::Closed;
            }
        }
        let fulfillment = Fulfillment {
            id: self.next_fulfillment_id(),
            order_id,
            fulfillment_order_ids: ids,
            by_merchant: false,
            tracking: new.tracking,
            notify_customer: new.notify_customer,
        };
        Ok(self.add(fulfillment))
    }

    /// A fulfillment the merchant made (in the admin, or another app did), with no tracking
    /// yet: under the ready-to-ship policy that fulfillment is the shipment and its
    /// `fulfillments/create` webhook starts the task. The order appears if it is new. Line
    /// items are not modelled, so its fulfillment orders stay as they are (a partial
    /// fulfillment leaves them open). Returns the fulfillment's gid.
    pub(crate) fn seed_fulfillment(
        &mut self,
        order_id: &str,
        fulfillment_id: &str,
    ) -> Result<String, ShopifySeedError> {
        for id in [order_id, fulfillment_id] {
            if !is_numeric_id(id) {
                return Err(ShopifySeedError::NotNumeric(id.to_owned()));
            }
        }
        let gid = fulfillment_gid(fulfillment_id);
        if self.position(&gid).is_some() {
            return Err(ShopifySeedError::FulfillmentExists(gid));
        }
        self.ensure_order(order_id);
        let fulfillment = Fulfillment {
            id: gid,
            order_id: order_id.to_owned(),
            fulfillment_order_ids: Vec::new(),
            by_merchant: true,
            tracking: None,
            notify_customer: false,
        };
        Ok(self.add(fulfillment).id)
    }

    /// The fulfillment with this gid, if the store has it.
    pub(crate) fn fulfillment(&self, gid: &str) -> Option<&Fulfillment> {
        self.position(gid).map(|index| &self.fulfillments[index])
    }

    /// `fulfillmentTrackingInfoUpdate`: replaces the fulfillment's tracking (Shopify keeps
    /// one set per fulfillment), or refuses an unknown fulfillment.
    pub(crate) fn update_tracking(
        &mut self,
        gid: &str,
        tracking: TrackingInfo,
        notify_customer: bool,
    ) -> Result<Fulfillment, Vec<UserError>> {
        let Some(index) = self.position(gid) else {
            return Err(vec![UserError {
                field: vec!["fulfillmentId"],
                message: "Fulfillment does not exist.".to_owned(),
            }]);
        };
        let fulfillment = &mut self.fulfillments[index];
        fulfillment.tracking = Some(tracking);
        fulfillment.notify_customer = notify_customer;
        Ok(fulfillment.clone())
    }

    /// `fulfillmentEventCreate`: records the event on the fulfillment, or refuses an unknown
    /// fulfillment. Shopify keeps every event it is given, repeats included: telling one
    /// event from its retry is the client's job.
    pub(crate) fn create_event(
        &mut self,
        new: NewFulfillmentEvent,
        now: OffsetDateTime,
    ) -> Result<FulfillmentEvent, Vec<UserError>> {
        if self.position(&new.fulfillment_id).is_none() {
            return Err(vec![UserError {
                field: vec!["fulfillmentEvent", "fulfillmentId"],
                message: "Fulfillment does not exist.".to_owned(),
            }]);
        }
        self.last_event += 1;
        let event = FulfillmentEvent {
            id: format!("gid://shopify/FulfillmentEvent/{}", self.last_event),
            fulfillment_id: new.fulfillment_id,
            status: new.status,
            // `DateTime` keeps whole seconds.
            happened_at: whole_seconds(new.happened_at),
            created_at: whole_seconds(now),
            message: new.message,
            latitude: new.latitude,
            longitude: new.longitude,
            estimated_delivery_at: new.estimated_delivery_at.map(whole_seconds),
        };
        self.events.push(event.clone());
        Ok(event)
    }

    /// The events of the fulfillment with this gid, oldest first.
    pub(crate) fn events_of(&self, gid: &str) -> Vec<FulfillmentEvent> {
        self.events
            .iter()
            .filter(|event| event.fulfillment_id == gid)
            .cloned()
            .collect()
    }

    pub(crate) fn event_views(&self) -> Vec<FulfillmentEventView> {
        self.events
            .iter()
            .map(|event| FulfillmentEventView {
                event_id: event.id.clone(),
                fulfillment_id: event.fulfillment_id.clone(),
                status: event.status.clone(),
                happened_at: shopify_datetime(event.happened_at),
                message: event.message.clone(),
                latitude: event.latitude,
                longitude: event.longitude,
                estimated_delivery_at: event.estimated_delivery_at.map(shopify_datetime),
            })
            .collect()
    }

    fn position(&self, gid: &str) -> Option<usize> {
        self.fulfillments.iter().position(|f| f.id == gid)
    }

    /// The next counter id that no seeded fulfillment already took.
    fn next_fulfillment_id(&mut self) -> String {
        loop {
            self.last_fulfillment += 1;
            let gid = fulfillment_gid(&self.last_fulfillment.to_string());
            if self.position(&gid).is_none() {
                return gid;
            }
        }
    }

    fn add(&mut self, fulfillment: Fulfillment) -> Fulfillment {
        self.fulfillments.push(fulfillment.clone());
        let index = self.fulfillments.len() - 1;
        if let Some(order) = self.orders.get_mut(&fulfillment.order_id) {
            order.fulfillments.push(index);
        }
        fulfillment
    }

    pub(crate) fn views(&self) -> Vec<FulfillmentView> {
        self.fulfillments
            .iter()
            .map(|fulfillment| {
                let tracking = fulfillment.tracking.clone().unwrap_or_default();
                FulfillmentView {
                    order_id: fulfillment.order_id.clone(),
                    fulfillment_id: fulfillment.id.clone(),
                    status: "SUCCESS".to_owned(),
                    fulfillment_order_ids: fulfillment.fulfillment_order_ids.clone(),
                    by_merchant: fulfillment.by_merchant,
                    tracking_number: tracking.number,
                    tracking_url: tracking.url,
                    tracking_company: tracking.company,
                    notify_customer: fulfillment.notify_customer,
                }
            })
            .collect()
    }
}

fn whole_seconds(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fulfill(store: &mut ShopStore, ids: &[&str]) -> Result<Fulfillment, Vec<UserError>> {
        store.create_fulfillment(NewFulfillment {
            fulfillment_order_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            tracking: None,
            notify_customer: false,
        })
    }

    #[test]
    fn orders_are_created_once_with_one_open_fulfillment_order() {
        let mut store = ShopStore::default();
        let first = store.order("1");
        assert_eq!(
            first.fulfillment_orders,
            [(
                "gid://shopify/FulfillmentOrder/1".to_owned(),
                FulfillmentOrderStatus::Open
            )]
        );
        assert_eq!(store.order("1"), first);
        assert_eq!(
            store.order("2").fulfillment_orders[0].0,
            "gid://shopify/FulfillmentOrder/2"
        );
    }

    #[test]
    fn fulfilling_closes_the_fulfillment_order_once() {
        let mut store = ShopStore::default();
        let fo = store.order("7").fulfillment_orders[0].0.clone();
        let fulfillment = fulfill(&mut store, &[&fo, &fo]);
        assert_eq!(
            fulfillment
                .as_ref()
                .map(|f| f.fulfillment_order_ids.clone()),
            Ok(vec![fo.clone()])
        );
        let order = store.order("7");
        assert_eq!(
            order.fulfillment_orders[0].1,
            FulfillmentOrderStatus::Closed
        );
        assert_eq!(order.fulfillments.len(), 1);

        let again = fulfill(&mut store, &[&fo]);
        assert_eq!(
            again.err().map(|errors| errors[0].message.clone()),
            Some(format!(
                "Fulfillment order {fo} has an unfulfillable status= closed."
            ))
        );
        assert_eq!(store.views().len(), 1);
    }

    #[test]
    fn merchant_fulfillments_are_found_by_gid_and_take_their_tracking() {
        let mut store = ShopStore::default();
        assert_eq!(
            store.seed_fulfillment("7", "501"),
            Ok("gid://shopify/Fulfillment/501".to_owned())
        );
        assert_eq!(
            store.seed_fulfillment("7", "501"),
            Err(ShopifySeedError::FulfillmentExists(
                "gid://shopify/Fulfillment/501".to_owned()
            ))
        );
        assert_eq!(
            store.seed_fulfillment("7", "gid://shopify/Fulfillment/9"),
            Err(ShopifySeedError::NotNumeric(
                "gid://shopify/Fulfillment/9".to_owned()
            ))
        );
        let order = store.order("7");
        assert_eq!(order.fulfillments.len(), 1);
        assert!(order.fulfillments[0].by_merchant);
        assert_eq!(
            order.fulfillment_orders[0].1,
            FulfillmentOrderStatus::Open,
            "line items are not modelled: a merchant's fulfillment closes nothing"
        );

        let tracking = TrackingInfo {
            company: Some("Sandbox Courier".to_owned()),
            number: Some("SBX1".to_owned()),
            url: None,
        };
        let updated =
            store.update_tracking("gid://shopify/Fulfillment/501", tracking.clone(), true);
        assert_eq!(updated.map(|f| f.tracking), Ok(Some(tracking.clone())));
        assert_eq!(
            store
                .fulfillment("gid://shopify/Fulfillment/501")
                .map(|f| f.notify_customer),
            Some(true)
        );
        assert_eq!(
            store
                .update_tracking("gid://shopify/Fulfillment/404", tracking, true)
                .err()
                .map(|errors| errors[0].message.clone()),
            Some("Fulfillment does not exist.".to_owned())
        );
    }

    #[test]
    fn created_fulfillments_skip_ids_a_merchant_took() {
        let mut store = ShopStore::default();
        store.seed_fulfillment("7", "1").ok();
        let fo = store.order("8").fulfillment_orders[0].0.clone();
        assert_eq!(
            fulfill(&mut store, &[&fo]).map(|f| f.id),
            Ok("gid://shopify/Fulfillment/2".to_owned())
        );
        assert_eq!(store.views().len(), 2);
    }

    #[test]
    fn refuses_unknown_empty_and_cross_order_requests() {
        let mut store = ShopStore::default();
        assert_eq!(
            fulfill(&mut store, &["gid://shopify/FulfillmentOrder/99"])
                .err()
                .map(|errors| errors[0].message.clone()),
            Some("Fulfillment order does not exist.".to_owned())
        );
        assert!(fulfill(&mut store, &[]).is_err());

        let a = store.order("1").fulfillment_orders[0].0.clone();
        let b = store.order("2").fulfillment_orders[0].0.clone();
        assert!(fulfill(&mut store, &[&a, &b]).is_err());
        // Refused requests change nothing.
        assert_eq!(
            store.order("1").fulfillment_orders[0].1,
            FulfillmentOrderStatus::Open
        );
        assert!(store.views().is_empty());
    }

    #[test]
    fn events_attach_to_known_fulfillments_only_and_keep_whole_seconds() {
        let mut store = ShopStore::default();
        let gid = store.seed_fulfillment("7", "501").unwrap();
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_795_000_000_250_000_000).unwrap();
        let new = |fulfillment_id: &str| NewFulfillmentEvent {
            fulfillment_id: fulfillment_id.to_owned(),
            status: "DELIVERED".to_owned(),
            happened_at: at,
            message: Some("Signed for by A.".to_owned()),
            latitude: Some(52.52),
            longitude: Some(13.405),
            estimated_delivery_at: None,
        };
        let unknown = store.create_event(new("gid://shopify/Fulfillment/9"), at);
        assert_eq!(
            unknown
                .err()
                .map(|errors| (errors[0].field.clone(), errors[0].message.clone())),
            Some((
                vec!["fulfillmentEvent", "fulfillmentId"],
                "Fulfillment does not exist.".to_owned()
            ))
        );
        assert!(store.event_views().is_empty());

        let first = store.create_event(new(&gid), at).unwrap();
        let second = store.create_event(new(&gid), at).unwrap();
        assert_eq!(first.id, "gid://shopify/FulfillmentEvent/1");
        assert_eq!(
            second.id, "gid://shopify/FulfillmentEvent/2",
            "repeats are kept"
        );
        assert_eq!(store.events_of(&gid).len(), 2);
        assert!(store.events_of("gid://shopify/Fulfillment/9").is_empty());
        let view = &store.event_views()[0];
        assert_eq!(view.happened_at, "2026-11-18T11:06:40Z");
        assert_eq!(view.fulfillment_id, gid);
        assert_eq!(view.latitude, Some(52.52));
    }
}
