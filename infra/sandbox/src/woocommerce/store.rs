//! The fake WooCommerce store's orders, notes and status changes.

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
