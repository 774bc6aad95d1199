//! The fake WooCommerce store's orders, notes, status changes and webhooks.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::faults::FaultSlot;

/// The core order statuses the REST API accepts (`wc_get_order_statuses()` without the `wc-`
/// prefix, plus the block checkout's draft), in WooCommerce's order.
pub(crate) const ORDER_STATUSES: [&str; 8] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
];

/// Every order starts here: paid and waiting for delivery.
const INITIAL_STATUS: &str = "processing";

/// Webhook statuses (`wc_get_webhook_statuses()`): `active` delivers, `paused` was paused by
/// an admin, `disabled` was turned off by WooCommerce after repeated delivery failures.
pub(crate) const WEBHOOK_STATUSES: [&str; 3] = ["active", "paused", "disabled"];

/// The resources and events of a webhook topic `resource.event`
/// (`wc_is_webhook_valid_topic()` without custom `action.*` topics).
const WEBHOOK_RESOURCES: [&str; 4] = ["coupon", "customer", "order", "product"];
const WEBHOOK_EVENTS: [&str; 4] = ["created", "updated", "deleted", "restored"];

/// A webhook of the fake store, as returned by [`crate::Sandbox::woocommerce_webhooks`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WooCommerceWebhookView {
    pub id: u64,
    pub name: String,
    /// `resource.event`, e.g. `order.created`.
    pub topic: String,
    pub delivery_url: String,
    /// The secret deliveries would be signed with: the one given, or the one WooCommerce
    /// generated. The REST API never shows it.
    pub secret: String,
    /// One of `active`, `paused`, `disabled`.
    pub status: String,
}

/// A webhook as the store keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Webhook {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) status: String,
    /// Lower case, valid ([`is_valid_topic`]).
    pub(crate) topic: String,
    pub(crate) delivery_url: String,
    pub(crate) secret: String,
    pub(crate) created: OffsetDateTime,
    pub(crate) modified: OffsetDateTime,
}

impl Webhook {
    /// The part of the topic before the dot, e.g. `order`.
    pub(crate) fn resource(&self) -> &str {
        self.topic
            .split_once('.')
            .map_or("", |(resource, _)| resource)
    }

    /// The part of the topic after the dot, e.g. `created`.
    pub(crate) fn event(&self) -> &str {
        self.topic.split_once('.').map_or("", |(_, event)| event)
    }

    /// The WordPress actions that trigger the webhook (`WC_Webhook::get_topic_hooks()`);
    /// none for a valid topic WooCommerce has no hooks for (`customer.restored`).
    pub(crate) fn hooks(&self) -> &'static [&'static str] {
        match self.topic.as_str() {
            "coupon.created" => &[
                "woocommerce_process_shop_coupon_meta",
                "woocommerce_new_coupon",
            ],
            "coupon.updated" => &[
                "woocommerce_process_shop_coupon_meta",
                "woocommerce_update_coupon",
            ],
            "customer.created" => &[
                "user_register",
                "woocommerce_created_customer",
                "woocommerce_new_customer",
            ],
            "customer.updated" => &["profile_update", "woocommerce_update_customer"],
            "customer.deleted" => &["delete_user"],
            "order.created" => &["woocommerce_new_order"],
            "order.updated" => &["woocommerce_update_order", "woocommerce_order_refunded"],
            "product.created" => &[
                "woocommerce_process_product_meta",
                "woocommerce_new_product",
                "woocommerce_new_product_variation",
            ],
            "product.updated" => &[
                "woocommerce_process_product_meta",
                "woocommerce_update_product",
                "woocommerce_update_product_variation",
            ],
            "coupon.deleted" | "order.deleted" | "product.deleted" => &["wp_trash_post"],
            "coupon.restored" | "order.restored" | "product.restored" => &["untrashed_post"],
            _ => &[],
        }
    }
}

/// Whether `topic` (lower-cased) is a webhook topic WooCommerce accepts.
pub(crate) fn is_valid_topic(topic: &str) -> bool {
    topic.split_once('.').is_some_and(|(resource, event)| {
        WEBHOOK_RESOURCES.contains(&resource) && WEBHOOK_EVENTS.contains(&event)
    })
}

/// A webhook to create, validated by the handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NewWebhook {
    pub(crate) name: String,
    pub(crate) topic: String,
    pub(crate) delivery_url: String,
    pub(crate) secret: String,
}

/// Changes to a webhook (`PUT /webhooks/{id}`), validated by the handler; `None` keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct WebhookChanges {
    pub(crate) name: Option<String>,
    pub(crate) status: Option<String>,
    pub(crate) topic: Option<String>,
    pub(crate) delivery_url: Option<String>,
    pub(crate) secret: Option<String>,
}

/// The sort of `GET /webhooks` (`orderby`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WebhookOrder {
    Date,
    Id,
    Title,
}

/// An order note added through the REST API, as returned by
/// [`crate::Sandbox::woocommerce_notes`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WooCommerceNoteView {
    pub order_id: String,
    pub note_id: u64,
    pub note: String,
    /// Shown to (and e-mailed to) the customer.
    pub customer_note: bool,
    /// Attributed to the API user rather than to "WooCommerce".
    pub added_by_user: bool,
}

/// An order status change made through the REST API, as returned by
/// [`crate::Sandbox::woocommerce_statuses`]. Setting the status an order already has is not
/// a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WooCommerceStatusView {
    pub order_id: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Note {
    pub(crate) id: u64,
    pub(crate) order_id: u64,
    pub(crate) note: String,
    pub(crate) customer_note: bool,
    pub(crate) added_by_user: bool,
    pub(crate) created: OffsetDateTime,
}

#[derive(Debug)]
struct Order {
    status: String,
    /// Indexes into `WooStore::notes`, oldest first.
    notes: Vec<usize>,
}

impl Default for Order {
    fn default() -> Self {
        Order {
            status: INITIAL_STATUS.to_owned(),
            notes: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct WooStore {
    orders: HashMap<u64, Order>,
    notes: Vec<Note>,
    status_changes: Vec<WooCommerceStatusView>,
    /// Note ids are WordPress comment ids: one sequence for the whole site.
    last_note: u64,
    /// In creation order.
    webhooks: Vec<Webhook>,
    /// Webhooks have their own table (`wc_webhooks`) and so their own id sequence.
    last_webhook: u64,
    /// The fault armed for every WooCommerce REST route.
    pub(crate) fault: FaultSlot,
}

impl WooStore {
    /// Orders appear the first time they are asked about, in `processing`.
    fn order(&mut self, order_id: u64) -> &mut Order {
        self.orders.entry(order_id).or_default()
    }

    pub(crate) fn status(&mut self, order_id: u64) -> String {
        self.order(order_id).status.clone()
    }

    /// The order's notes, newest first (WooCommerce lists them by date, descending).
    pub(crate) fn notes(&mut self, order_id: u64) -> Vec<Note> {
        let indexes = self.order(order_id).notes.clone();
        indexes
            .iter()
            .rev()
            .map(|&index| self.notes[index].clone())
            .collect()
    }

    pub(crate) fn add_note(
        &mut self,
        order_id: u64,
        note: String,
        customer_note: bool,
        added_by_user: bool,
        now: OffsetDateTime,
    ) -> Note {
        self.last_note += 1;
        let note = Note {
            id: self.last_note,
            order_id,
            note,
            customer_note,
            added_by_user,
            created: now,
        };
        self.notes.push(note.clone());
        let index = self.notes.len() - 1;
        self.order(order_id).notes.push(index);
        note
    }

    /// Sets the status, recording it when it changes. `status` must be one of
    /// [`ORDER_STATUSES`] (the handler checks).
    pub(crate) fn set_status(&mut self, order_id: u64, status: &str) {
        let order = self.order(order_id);
        if order.status == status {
            return;
        }
        let from = std::mem::replace(&mut order.status, status.to_owned());
        self.status_changes.push(WooCommerceStatusView {
            order_id: order_id.to_string(),
            from,
            to: status.to_owned(),
        });
    }

    pub(crate) fn note_views(&self) -> Vec<WooCommerceNoteView> {
        self.notes
            .iter()
            .map(|n| WooCommerceNoteView {
                order_id: n.order_id.to_string(),
                note_id: n.id,
                note: n.note.clone(),
                customer_note: n.customer_note,
                added_by_user: n.added_by_user,
            })
            .collect()
    }

    pub(crate) fn status_views(&self) -> Vec<WooCommerceStatusView> {
        self.status_changes.clone()
    }

    /// Creates an `active` webhook: WooCommerce creates every webhook active, whatever
    /// status the request asks for.
    pub(crate) fn add_webhook(&mut self, new: NewWebhook, now: OffsetDateTime) -> Webhook {
        self.last_webhook += 1;
        let webhook = Webhook {
            id: self.last_webhook,
            name: new.name,
            status: "active".to_owned(),
            topic: new.topic,
            delivery_url: new.delivery_url,
            secret: new.secret,
            created: now,
            modified: now,
        };
        self.webhooks.push(webhook.clone());
        webhook
    }

    pub(crate) fn webhook(&self, id: u64) -> Option<Webhook> {
        self.webhooks.iter().find(|w| w.id == id).cloned()
    }

    /// Applies `changes` to the webhook and returns it; `None` if there is no such webhook.
    pub(crate) fn update_webhook(
        &mut self,
        id: u64,
        changes: WebhookChanges,
        now: OffsetDateTime,
    ) -> Option<Webhook> {
        let webhook = self.webhooks.iter_mut().find(|w| w.id == id)?;
        let WebhookChanges {
            name,
            status,
            topic,
            delivery_url,
            secret,
        } = changes;
        for (field, value) in [
            (&mut webhook.name, name),
            (&mut webhook.status, status),
            (&mut webhook.topic, topic),
            (&mut webhook.delivery_url, delivery_url),
            (&mut webhook.secret, secret),
        ] {
            if let Some(value) = value {
                *field = value;
            }
        }
        webhook.modified = now;
        Some(webhook.clone())
    }

    /// Deletes the webhook for good and returns it (webhooks have no trash).
    pub(crate) fn delete_webhook(&mut self, id: u64) -> Option<Webhook> {
        let index = self.webhooks.iter().position(|w| w.id == id)?;
        Some(self.webhooks.remove(index))
    }

    /// The webhooks with `status` (all when `None`), sorted by `order`, ascending or not.
    /// Ties (webhooks made in the same second, or with one name) go by id, in the same
    /// direction.
    pub(crate) fn webhooks(
        &self,
        status: Option<&str>,
        order: WebhookOrder,
        ascending: bool,
    ) -> Vec<Webhook> {
        let mut listed: Vec<Webhook> = self
            .webhooks
            .iter()
            .filter(|w| status.is_none_or(|status| w.status == status))
            .cloned()
            .collect();
        listed.sort_by(|a, b| {
            let by = match order {
                // WordPress stores dates to the second.
                WebhookOrder::Date => a.created.unix_timestamp().cmp(&b.created.unix_timestamp()),
                WebhookOrder::Id => std::cmp::Ordering::Equal,
                WebhookOrder::Title => a.name.cmp(&b.name),
            };
            by.then(a.id.cmp(&b.id))
        });
        if !ascending {
            listed.reverse();
        }
        listed
    }

    pub(crate) fn webhook_views(&self) -> Vec<WooCommerceWebhookView> {
        self.webhooks
            .iter()
            .map(|w| WooCommerceWebhookView {
                id: w.id,
                name: w.name.clone(),
                topic: w.topic.clone(),
                delivery_url: w.delivery_url.clone(),
                secret: w.secret.clone(),
                status: w.status.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_per_order_newest_first_with_site_wide_ids() {
        let mut store = WooStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        store.add_note(7, "a".into(), true, false, now);
        store.add_note(8, "b".into(), false, false, now);
        store.add_note(7, "c".into(), false, true, now);
        let ids: Vec<(u64, String)> = store.notes(7).into_iter().map(|n| (n.id, n.note)).collect();
        assert_eq!(ids, [(3, "c".to_owned()), (1, "a".to_owned())]);
        assert!(store.notes(9).is_empty());
        assert_eq!(store.note_views().len(), 3);
    }

    fn new_webhook(name: &str, topic: &str) -> NewWebhook {
        NewWebhook {
            name: name.into(),
            topic: topic.into(),
            delivery_url: "https://example.com/hooks".into(),
            secret: "s".into(),
        }
    }

    #[test]
    fn topics_are_resource_dot_event() {
        for topic in ["order.created", "customer.restored", "coupon.deleted"] {
            assert!(is_valid_topic(topic), "{topic}");
        }
        for topic in [
            "order",
            "order.shipped",
            "orders.created",
            "action.woocommerce_new_order",
            "",
        ] {
            assert!(!is_valid_topic(topic), "{topic}");
        }
    }

    #[test]
    fn webhooks_sort_by_date_id_or_title_and_filter_by_status() {
        let mut store = WooStore::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let t1 = t0 + time::Duration::seconds(1);
        store.add_webhook(new_webhook("b", "order.created"), t1);
        store.add_webhook(new_webhook("c", "order.updated"), t0);
        store.add_webhook(new_webhook("a", "order.deleted"), t1);
        let ids = |listed: Vec<Webhook>| listed.iter().map(|w| w.id).collect::<Vec<_>>();
        assert_eq!(
            ids(store.webhooks(None, WebhookOrder::Date, false)),
            [3, 1, 2]
        );
        assert_eq!(
            ids(store.webhooks(None, WebhookOrder::Date, true)),
            [2, 1, 3]
        );
        assert_eq!(ids(store.webhooks(None, WebhookOrder::Id, true)), [1, 2, 3]);
        assert_eq!(
            ids(store.webhooks(None, WebhookOrder::Title, true)),
            [3, 1, 2]
        );

        let paused = WebhookChanges {
            status: Some("paused".into()),
            ..WebhookChanges::default()
        };
        assert_eq!(
            store
                .update_webhook(2, paused, t1)
                .map(|w| (w.status, w.modified)),
            Some(("paused".to_owned(), t1))
        );
        assert_eq!(
            ids(store.webhooks(Some("paused"), WebhookOrder::Date, false)),
            [2]
        );
        assert_eq!(
            ids(store.webhooks(Some("active"), WebhookOrder::Date, false)),
            [3, 1]
        );
        assert_eq!(store.delete_webhook(2).map(|w| w.id), Some(2));
        assert_eq!(store.delete_webhook(2), None);
        assert_eq!(store.webhook_views().len(), 2);
    }

    #[test]
    fn hooks_follow_the_topic() {
        let mut store = WooStore::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let created = store.add_webhook(new_webhook("x", "order.created"), now);
        assert_eq!(created.hooks(), ["woocommerce_new_order"]);
        assert_eq!((created.resource(), created.event()), ("order", "created"));
        let restored = store.add_webhook(new_webhook("y", "customer.restored"), now);
        assert!(restored.hooks().is_empty());
    }

    #[test]
    fn only_real_status_changes_are_recorded() {
        let mut store = WooStore::default();
        assert_eq!(store.status(5), "processing");
        store.set_status(5, "processing");
        store.set_status(5, "completed");
        store.set_status(5, "completed");
        assert_eq!(
            store.status_views(),
            [WooCommerceStatusView {
                order_id: "5".into(),
                from: "processing".into(),
                to: "completed".into()
            }]
        );
    }
}
