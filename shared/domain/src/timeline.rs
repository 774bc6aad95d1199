//! One shipment as people look at it: its record (status path, task, proof, money), every
//! courier event in the order it happened, and each customer message. Read the same way by
//! `courier-bridge shipment show` and the console's shipment page.

use crate::history::HistoryEntry;
use crate::notify::{OutboxEntry, Template};
use crate::ports::{Outbox, ShipmentStore, StatusHistory, StorageError};
use crate::record::ShipmentRecord;
use crate::ShipmentKey;

pub struct Timeline {
    pub record: ShipmentRecord,
    /// The courier's events, oldest first.
    pub events: Vec<HistoryEntry>,
    /// The customer messages composed for it, one per template at most.
    pub messages: Vec<OutboxEntry>,
}

/// The shipment's timeline; `None` when there is no such shipment.
pub async fn read(
    shipments: &dyn ShipmentStore,
    history: &dyn StatusHistory,
    outbox: &dyn Outbox,
    key: &ShipmentKey,
) -> Result<Option<Timeline>, StorageError> {
    let Some(record) = shipments.get(key).await? else {
        return Ok(None);
    };
    let events = history.list(key).await?;
    let mut messages = Vec::new();
    for template in Template::ALL {
        let id = OutboxEntry::id_for(&key.to_string(), template.as_str());
        if let Some(message) = outbox.get(&id).await? {
            messages.push(message);
        }
    }
    Ok(Some(Timeline {
        record,
        events,
        messages,
    }))
}
