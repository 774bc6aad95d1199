//! The shipment events table: every courier event about a shipment, once each, keyed by
//! shipment and (event time, event id) so a query returns the history in the order things
//! happened, whatever order the webhooks arrived in.

use super::item::{n, s, Item, Reader};
use super::{conditional, AwsError};
use crate::domain::{ShipmentKey, ShipmentStatus};

/// One courier event as kept in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When the courier says it happened, ms since the epoch.
    pub at_ms: i64,
    /// The audit-trail id of the webhook that carried it (unique per event).
    pub event_id: String,
    pub courier: String,
    /// The courier's own name for it ("taskCompleted", "delivered#5 (evt_…)").
    pub courier_event: String,
    /// The status it asked for, if any.
    pub status: Option<ShipmentStatus>,
}

#[derive(Clone, Debug)]
pub struct HistoryStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl HistoryStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        HistoryStore {
            client,
            table: table.into(),
        }
    }

    /// Adds the event; returns false when it is already there (a redelivery).
    pub async fn record(&self, key: &ShipmentKey, entry: &HistoryEntry) -> Result<bool, AwsError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(key.to_string()))
            .item("sk", s(sort_key(entry.at_ms, &entry.event_id)))
            .item("at_ms", n(entry.at_ms))
            .item("event_id", s(&entry.event_id))
            .item("courier", s(&entry.courier))
            .item("courier_event", s(&entry.courier_event))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(status) = entry.status {
            put = put.item("status", s(status.as_str()));
        }
        Ok(conditional("PutItem", put.send().await)?.is_some())
    }

    /// The shipment's events, oldest first.
    pub async fn list(&self, key: &ShipmentKey) -> Result<Vec<HistoryEntry>, AwsError> {
        let pk = key.to_string();
        super::query_pk(&self.client, &self.table, &pk)
            .await?
            .iter()
            .map(|item| entry(&pk, item))
            .collect()
    }
}

/// Zero-padded so that string order is time order (for any time after 1970).
fn sort_key(at_ms: i64, event_id: &str) -> String {
    format!("{:015}#{event_id}", at_ms.max(0))
}

fn entry(pk: &str, item: &Item) -> Result<HistoryEntry, AwsError> {
    let r = Reader::new(pk, item);
    let status = match r.opt_s("status")? {
        None => None,
        Some(text) => Some(
            serde_json::from_value(serde_json::Value::String(text.clone())).map_err(|_| {
                AwsError::Corrupt {
                    key: pk.to_owned(),
                    problem: format!("unknown status {text:?}"),
                }
            })?,
        ),
    };
    Ok(HistoryEntry {
        at_ms: r.n("at_ms")?,
        event_id: r.s("event_id")?,
        courier: r.s("courier")?,
        courier_event: r.s("courier_event")?,
        status,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn sort_keys_order_by_time_then_event() {
        let a = super::sort_key(999, "b");
        let b = super::sort_key(1_000, "a");
        assert!(a < b, "{a} < {b}");
        assert!(super::sort_key(5, "a") < super::sort_key(5, "b"));
    }
}
