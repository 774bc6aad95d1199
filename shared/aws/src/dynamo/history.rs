//! The shipment events table: every courier event about a shipment, once each, keyed by
//! shipment and (event time, event id) so a query returns the history in the order things
//! happened, whatever order the webhooks arrived in.

use super::{from_item, to_item, Table};
use crate::conditional;
use async_trait::async_trait;
use domain::courier::CourierKind;
use domain::history::HistoryEntry;
use domain::ports::StatusHistory;
use domain::{ShipmentKey, ShipmentStatus, StorageError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct HistoryRow {
    pk: String,
    sk: String,
    at_ms: i64,
    event_id: String,
    courier: CourierKind,
    courier_event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<ShipmentStatus>,
}

/// Zero-padded so that string order is time order (for any time after 1970).
fn sort_key(at_ms: i64, event_id: &str) -> String {
    format!("{:015}#{event_id}", at_ms.max(0))
}

#[derive(Clone, Debug)]
pub struct DynamoStatusHistory {
    table: Table,
}

impl DynamoStatusHistory {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoStatusHistory {
            table: Table::new(client, table),
        }
    }
}

#[async_trait]
impl StatusHistory for DynamoStatusHistory {
    async fn record(&self, key: &ShipmentKey, entry: &HistoryEntry) -> Result<bool, StorageError> {
        let pk = key.to_string();
        let row = HistoryRow {
            pk: pk.clone(),
            sk: sort_key(entry.at_ms, &entry.event_id),
            at_ms: entry.at_ms,
            event_id: entry.event_id.clone(),
            courier: entry.courier,
            courier_event: entry.courier_event.clone(),
            status: entry.status,
        };
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&pk, &row)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        Ok(conditional("PutItem", put)?.is_some())
    }

    async fn list(&self, key: &ShipmentKey) -> Result<Vec<HistoryEntry>, StorageError> {
        let pk = key.to_string();
        self.table
            .query_pk(&pk)
            .await?
            .into_iter()
            .map(|item| {
                let row: HistoryRow = from_item(&pk, item)?;
                Ok(HistoryEntry {
                    at_ms: row.at_ms,
                    event_id: row.event_id,
                    courier: row.courier,
                    courier_event: row.courier_event,
                    status: row.status,
                })
            })
            .collect()
    }
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
