//! The fake marketplace's orders (as seeded JSON), its shipment confirmations, the access
//! tokens its LWA endpoint issued and its notification destinations and subscriptions.
//!
//! Orders are kept as the JSON payloads they were seeded with, so every field a test puts in
//! comes back out unchanged; a confirmation edits only what Amazon would (quantities shipped,
//! counts, status, last update).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::notifications::Notifications;

/// One order for [`crate::Sandbox::seed_amazon_order`]: the `payload` objects of the Orders
/// API responses the fake serves for it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AmazonOrderSeed {
    /// `getOrder`'s payload (an `Order`); its `AmazonOrderId` is the order's id.
    pub order: Value,
    /// `getOrderAddress`'s payload; `{"AmazonOrderId": ...}` alone when `None`.
    pub address: Option<Value>,
    /// `getOrderBuyerInfo`'s payload; `{"AmazonOrderId": ...}` alone when `None`.
    pub buyer_info: Option<Value>,
    /// `getOrderItems`' `OrderItems`, each with `OrderItemId` and `QuantityOrdered`.
    pub order_items: Vec<Value>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AmazonSeedError {
    #[error("the order has no AmazonOrderId string")]
    MissingOrderId,
    #[error("order item {index} needs an OrderItemId string and a QuantityOrdered integer")]
    InvalidItem { index: usize },
}

/// A `confirmShipment` the fake accepted, as returned by
/// [`crate::Sandbox::amazon_confirmations`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonConfirmationView {
    pub order_id: String,
    pub marketplace_id: String,
    pub package_reference_id: String,
    pub carrier_code: String,
    pub carrier_name: Option<String>,
    pub shipping_method: Option<String>,
    pub tracking_number: String,
    pub ship_date: String,
    pub order_items: Vec<AmazonConfirmedItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmazonConfirmedItem {
    pub order_item_id: String,
    pub quantity: u32,
}

/// `confirmShipment`'s body (`ConfirmShipmentRequest`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfirmShipmentRequest {
    marketplace_id: String,
    package_detail: PackageDetail,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PackageDetail {
    package_reference_id: String,
    carrier_code: String,
    #[serde(default)]
    carrier_name: Option<String>,
    #[serde(default)]
    shipping_method: Option<String>,
    tracking_number: String,
    ship_date: String,
    order_items: Vec<ConfirmItem>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmItem {
    order_item_id: String,
    quantity: u32,
}

/// Why a request about an order fails.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum OrderError {
    #[error("The resource specified does not exist.")]
    NotFound,
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug)]
struct SeededOrder {
    order: Value,
    address: Option<Value>,
    buyer_info: Option<Value>,
    items: Vec<Value>,
}

/// Whom an access token acts for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// The seller who authorised the application (the `refresh_token` grant): the Orders
    /// API and the seller's own notification subscriptions.
    Seller,
    /// The application itself (the `client_credentials` grant with the notifications
    /// scope): the grantless Notifications operations.
    Grantless,
}

#[derive(Debug, Default)]
pub(crate) struct AmazonStore {
    orders: HashMap<String, SeededOrder>,
    confirmations: Vec<AmazonConfirmationView>,
    tokens: HashMap<String, TokenKind>,
    pub(crate) notifications: Notifications,
}

impl AmazonStore {
    /// Adds the order, or replaces the one with the same id. Returns the id.
    pub(crate) fn seed(&mut self, seed: AmazonOrderSeed) -> Result<String, AmazonSeedError> {
        let id = seed.order["AmazonOrderId"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or(AmazonSeedError::MissingOrderId)?
            .to_owned();
        for (index, item) in seed.order_items.iter().enumerate() {
            if item["OrderItemId"].as_str().is_none() || item["QuantityOrdered"].as_u64().is_none()
            {
                return Err(AmazonSeedError::InvalidItem { index });
            }
        }
        self.orders.insert(
            id.clone(),
            SeededOrder {
                order: seed.order,
                address: seed.address,
                buyer_info: seed.buyer_info,
                items: seed.order_items,
            },
        );
        Ok(id)
    }

    /// Issues a new access token of this kind (they never expire here).
    pub(crate) fn issue_token(&mut self, kind: TokenKind) -> String {
        let token = format!("Atza|sandbox-{}", self.tokens.len() + 1);
        self.tokens.insert(token.clone(), kind);
        token
    }

    /// Every token issued, of both kinds.
    pub(crate) fn grants(&self) -> usize {
        self.tokens.len()
    }

    /// Whom an issued token acts for; `None` for a token never issued.
    pub(crate) fn token_kind(&self, token: &str) -> Option<TokenKind> {
        self.tokens.get(token).copied()
    }

    pub(crate) fn order(&self, id: &str) -> Result<Value, OrderError> {
        Ok(self.get(id)?.order.clone())
    }

    pub(crate) fn address(&self, id: &str) -> Result<Value, OrderError> {
        let order = self.get(id)?;
        Ok(order
            .address
            .clone()
            .unwrap_or_else(|| json!({ "AmazonOrderId": id })))
    }

    pub(crate) fn buyer_info(&self, id: &str) -> Result<Value, OrderError> {
        let order = self.get(id)?;
        Ok(order
            .buyer_info
            .clone()
            .unwrap_or_else(|| json!({ "AmazonOrderId": id })))
    }

    /// One page of `getOrderItems`: `page_size` items from the offset the token names.
    pub(crate) fn items_page(
        &self,
        id: &str,
        next_token: Option<&str>,
        page_size: usize,
    ) -> Result<Value, OrderError> {
        let order = self.get(id)?;
        let start = match next_token {
            None => 0,
            Some(token) => token
                .strip_prefix("items-")
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n > 0 && *n < order.items.len())
                .ok_or_else(|| OrderError::Invalid(format!("Invalid NextToken {token:?}")))?,
        };
        let end = (start + page_size.max(1)).min(order.items.len());
        let mut page = json!({ "AmazonOrderId": id, "OrderItems": &order.items[start..end] });
        if end < order.items.len() {
            page["NextToken"] = json!(format!("items-{end}"));
        }
        Ok(page)
    }

    pub(crate) fn confirmations(&self) -> Vec<AmazonConfirmationView> {
        self.confirmations.clone()
    }

    /// Checks a confirmation the way Amazon documents it and applies it: the items' shipped
    /// quantities grow and the order becomes `PartiallyShipped` or `Shipped`. All or nothing.
    pub(crate) fn confirm(
        &mut self,
        id: &str,
        request: ConfirmShipmentRequest,
    ) -> Result<(), OrderError> {
        let invalid = |message: String| Err(OrderError::Invalid(message));
        let package = &request.package_detail;
        let already_used = self
            .confirmations
            .iter()
            .any(|c| c.order_id == id && c.package_reference_id == package.package_reference_id);
        let order = self.orders.get_mut(id).ok_or(OrderError::NotFound)?;
        let status = order.order["OrderStatus"].as_str().unwrap_or_default();
        if !matches!(status, "Unshipped" | "PartiallyShipped") {
            return invalid(format!("Order {id} is {status} and cannot be confirmed"));
        }
        if let Some(marketplace) = order.order["MarketplaceId"].as_str() {
            if marketplace != request.marketplace_id {
                return invalid(format!(
                    "marketplaceId {} is not the order's marketplace",
                    request.marketplace_id
                ));
            }
        }
        let reference = &package.package_reference_id;
        if reference.is_empty()
            || !reference.bytes().all(|b| b.is_ascii_digit())
            || reference.bytes().all(|b| b == b'0')
        {
            return invalid("packageReferenceId must be a positive number".into());
        }
        if already_used {
            return invalid(format!(
                "packageReferenceId {reference} is already used in order {id}"
            ));
        }
        if package.carrier_code.trim().is_empty() {
            return invalid("carrierCode is required".into());
        }
        let named = package
            .carrier_name
            .as_deref()
            .is_some_and(|n| !n.trim().is_empty());
        if package.carrier_code == "Other" && !named {
            return invalid("carrierName is required when carrierCode is Other".into());
        }
        if package.tracking_number.trim().is_empty() {
            return invalid("trackingNumber is required".into());
        }
        if OffsetDateTime::parse(&package.ship_date, &Rfc3339).is_err() {
            return invalid(format!(
                "shipDate {:?} is not an ISO 8601 date-time",
                package.ship_date
            ));
        }
        if package.order_items.is_empty() {
            return invalid("orderItems must not be empty".into());
        }
        let mut updates: Vec<(usize, u64)> = Vec::new();
        for confirmed in &package.order_items {
            let Some(index) = order
                .items
                .iter()
                .position(|i| i["OrderItemId"].as_str() == Some(confirmed.order_item_id.as_str()))
            else {
                return invalid(format!(
                    "orderItemId {} is not in order {id}",
                    confirmed.order_item_id
                ));
            };
            if updates.iter().any(|(i, _)| *i == index) {
                return invalid(format!(
                    "orderItemId {} is listed twice",
                    confirmed.order_item_id
                ));
            }
            let item = &order.items[index];
            let ordered = item["QuantityOrdered"].as_u64().unwrap_or(0);
            let shipped = item["QuantityShipped"].as_u64().unwrap_or(0);
            let quantity = u64::from(confirmed.quantity);
            if quantity == 0 || shipped + quantity > ordered {
                return invalid(format!(
                    "quantity {quantity} of orderItemId {} exceeds the {} left to ship",
                    confirmed.order_item_id,
                    ordered.saturating_sub(shipped)
                ));
            }
            updates.push((index, shipped + quantity));
        }

        for (index, shipped) in updates {
            order.items[index]["QuantityShipped"] = json!(shipped);
        }
        let (ordered, shipped) = order.items.iter().fold((0, 0), |(o, s), item| {
            (
                o + item["QuantityOrdered"].as_u64().unwrap_or(0),
                s + item["QuantityShipped"].as_u64().unwrap_or(0),
            )
        });
        order.order["NumberOfItemsShipped"] = json!(shipped);
        order.order["NumberOfItemsUnshipped"] = json!(ordered - shipped);
        order.order["OrderStatus"] = json!(if shipped < ordered {
            "PartiallyShipped"
        } else {
            "Shipped"
        });
        let now = OffsetDateTime::now_utc();
        if let Ok(now) = now.replace_nanosecond(0).unwrap_or(now).format(&Rfc3339) {
            order.order["LastUpdateDate"] = json!(now);
        }
        self.confirmations.push(AmazonConfirmationView {
            order_id: id.to_owned(),
            marketplace_id: request.marketplace_id.clone(),
            package_reference_id: reference.clone(),
            carrier_code: package.carrier_code.clone(),
            carrier_name: package.carrier_name.clone(),
            shipping_method: package.shipping_method.clone(),
            tracking_number: package.tracking_number.clone(),
            ship_date: package.ship_date.clone(),
            order_items: package
                .order_items
                .iter()
                .map(|i| AmazonConfirmedItem {
                    order_item_id: i.order_item_id.clone(),
                    quantity: i.quantity,
                })
                .collect(),
        });
        Ok(())
    }

    fn get(&self, id: &str) -> Result<&SeededOrder, OrderError> {
        self.orders.get(id).ok_or(OrderError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> AmazonStore {
        let mut store = AmazonStore::default();
        let seed = AmazonOrderSeed {
            order: json!({"AmazonOrderId": "1", "OrderStatus": "Unshipped", "MarketplaceId": "M"}),
            order_items: vec![
                json!({"OrderItemId": "a", "QuantityOrdered": 2, "QuantityShipped": 0}),
                json!({"OrderItemId": "b", "QuantityOrdered": 1}),
                json!({"OrderItemId": "c", "QuantityOrdered": 1}),
            ],
            ..AmazonOrderSeed::default()
        };
        assert_eq!(store.seed(seed), Ok("1".to_owned()));
        store
    }

    fn request(reference: &str, items: Value) -> ConfirmShipmentRequest {
        serde_json::from_value(json!({
            "marketplaceId": "M",
            "packageDetail": {
                "packageReferenceId": reference, "carrierCode": "Other", "carrierName": "Sandbox",
                "trackingNumber": "T1", "shipDate": "2026-11-20T10:00:00Z", "orderItems": items
            }
        }))
        .unwrap()
    }

    #[test]
    fn seeds_need_ids_and_quantities() {
        let mut store = AmazonStore::default();
        assert_eq!(
            store.seed(AmazonOrderSeed::default()),
            Err(AmazonSeedError::MissingOrderId)
        );
        let bad = AmazonOrderSeed {
            order: json!({"AmazonOrderId": "1"}),
            order_items: vec![json!({"OrderItemId": "a"})],
            ..AmazonOrderSeed::default()
        };
        assert_eq!(
            store.seed(bad),
            Err(AmazonSeedError::InvalidItem { index: 0 })
        );
    }

    #[test]
    fn items_come_in_pages_linked_by_next_token() {
        let store = seeded();
        let first = store.items_page("1", None, 2).unwrap();
        assert_eq!(first["OrderItems"].as_array().unwrap().len(), 2);
        assert_eq!(first["NextToken"], "items-2");
        let last = store.items_page("1", Some("items-2"), 2).unwrap();
        assert_eq!(last["OrderItems"][0]["OrderItemId"], "c");
        assert!(last.get("NextToken").is_none());
        for bad in ["items-0", "items-3", "x"] {
            assert!(matches!(
                store.items_page("1", Some(bad), 2),
                Err(OrderError::Invalid(_))
            ));
        }
        assert_eq!(store.items_page("2", None, 2), Err(OrderError::NotFound));
    }

    #[test]
    fn confirming_ships_quantities_and_moves_the_status() {
        let mut store = seeded();
        let part = request("1", json!([{"orderItemId": "a", "quantity": 2}]));
        assert_eq!(store.confirm("1", part), Ok(()));
        let order = store.order("1").unwrap();
        assert_eq!(order["OrderStatus"], "PartiallyShipped");
        assert_eq!(
            (
                order["NumberOfItemsShipped"].as_u64(),
                order["NumberOfItemsUnshipped"].as_u64()
            ),
            (Some(2), Some(2))
        );

        let rest = request(
            "2",
            json!([{"orderItemId": "b", "quantity": 1}, {"orderItemId": "c", "quantity": 1}]),
        );
        assert_eq!(store.confirm("1", rest), Ok(()));
        assert_eq!(store.order("1").unwrap()["OrderStatus"], "Shipped");
        assert_eq!(store.confirmations().len(), 2);
        let again = request("3", json!([{"orderItemId": "a", "quantity": 1}]));
        assert!(matches!(
            store.confirm("1", again),
            Err(OrderError::Invalid(_))
        ));
    }

    #[test]
    fn refused_confirmations_change_nothing() {
        let cases = [
            request("0", json!([{"orderItemId": "a", "quantity": 1}])),
            request("1a", json!([{"orderItemId": "a", "quantity": 1}])),
            request("1", json!([])),
            request("1", json!([{"orderItemId": "z", "quantity": 1}])),
            request("1", json!([{"orderItemId": "a", "quantity": 3}])),
            request("1", json!([{"orderItemId": "a", "quantity": 0}])),
            request(
                "1",
                json!([{"orderItemId": "a", "quantity": 1}, {"orderItemId": "a", "quantity": 1}]),
            ),
        ];
        for case in cases {
            let mut store = seeded();
            assert!(matches!(
                store.confirm("1", case),
                Err(OrderError::Invalid(_))
            ));
            assert_eq!(store.order("1").unwrap()["OrderStatus"], "Unshipped");
            assert!(store.confirmations().is_empty());
        }
        let mut store = seeded();
        let mut wrong_market = request("1", json!([{"orderItemId": "a", "quantity": 1}]));
        wrong_market.marketplace_id = "OTHER".into();
        assert!(store.confirm("1", wrong_market).is_err());
        let mut unnamed = request("1", json!([{"orderItemId": "a", "quantity": 1}]));
        unnamed.package_detail.carrier_name = None;
        assert!(store.confirm("1", unnamed).is_err());
        let mut undated = request("1", json!([{"orderItemId": "a", "quantity": 1}]));
        undated.package_detail.ship_date = "02/21/2022".into();
        assert!(store.confirm("1", undated).is_err());
        let ok = request("1", json!([{"orderItemId": "a", "quantity": 1}]));
        assert!(matches!(store.confirm("9", ok), Err(OrderError::NotFound)));
    }

    #[test]
    fn tokens_are_new_each_grant_and_remember_their_kind() {
        let mut store = AmazonStore::default();
        let first = store.issue_token(TokenKind::Seller);
        let grantless = store.issue_token(TokenKind::Grantless);
        assert_ne!(grantless, first);
        assert_eq!(store.token_kind(&first), Some(TokenKind::Seller));
        assert_eq!(store.token_kind(&grantless), Some(TokenKind::Grantless));
        assert_eq!(store.token_kind("Atza|forged"), None);
        assert_eq!(store.grants(), 2);
    }
}
