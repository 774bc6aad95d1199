//! The review table: the error inbox. One open item per subject (an order, or a payload that
//! could not be read), with machine-readable reasons; a repeat of the same problem counts on
//! the existing item instead of opening another.

use super::{from_item, json_text, n, pk_of, rfc3339_now, s, to_item, Table};
use crate::{classify, conditional};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::ReviewInbox;
use domain::review::OPEN;
use domain::{ReviewItem, ReviewReason, ShipmentDraft, StorageError};
use serde::{Deserialize, Serialize};

/// A review item's item.
#[derive(Debug, Serialize, Deserialize)]
struct ReviewRow {
    pk: String,
    kind: String,
    #[serde(with = "json_text")]
    reasons: Vec<ReviewReason>,
    /// The reasons' codes, comma-separated: what an operator filters on.
    #[serde(default)]
    reason_codes: String,
    status: String,
    created_at: String,
    #[serde(default = "one")]
    occurrences: u32,
    #[serde(
        default,
        with = "json_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    draft: Option<ShipmentDraft>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shipment_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source_inbound: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resolution: Option<String>,
}

fn one() -> u32 {
    1
}

fn codes(reasons: &[ReviewReason]) -> String {
    reasons
        .iter()
        .map(ReviewReason::code)
        .collect::<Vec<_>>()
        .join(",")
}

fn text<T: Serialize>(key: &str, value: &T) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(|e| StorageError::corrupt(key, e))
}

impl From<ReviewRow> for ReviewItem {
    fn from(row: ReviewRow) -> ReviewItem {
        ReviewItem {
            id: row.pk,
            kind: row.kind,
            reasons: row.reasons,
            order_key: row.order_key,
            shipment_key: row.shipment_key,
            source_inbound: row.source_inbound,
            status: row.status,
            created_at: row.created_at,
            occurrences: row.occurrences,
            draft: row.draft,
            event_ms: row.event_ms,
            fixes: row.fixes,
            resolution: row.resolution,
        }
    }
}

fn review_item(item: super::Item) -> Result<ReviewItem, StorageError> {
    let pk = pk_of(&item);
    Ok(from_item::<ReviewRow>(&pk, item)?.into())
}

#[derive(Clone, Debug)]
pub struct DynamoReviewInbox {
    table: Table,
}

impl DynamoReviewInbox {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoReviewInbox {
            table: Table::new(client, table),
        }
    }

    /// A newer event about an open item's shipment, still invalid: its draft and reasons
    /// replace the older ones, so a release sends what the channel says now.
    async fn newer_draft(
        &self,
        item: &ReviewItem,
        draft: &ShipmentDraft,
        event_ms: i64,
    ) -> Result<(), StorageError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(&item.id))
            .update_expression("SET draft = :d, reasons = :r, reason_codes = :c, event_ms = :t")
            .condition_expression(
                "#status = :open AND (attribute_not_exists(event_ms) OR event_ms < :t)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":d", s(text(&item.id, draft)?))
            .expression_attribute_values(":r", s(text(&item.id, &item.reasons)?))
            .expression_attribute_values(":c", s(codes(&item.reasons)))
            .expression_attribute_values(":t", n(event_ms))
            .expression_attribute_values(":open", s(OPEN))
            .send()
            .await;
        conditional("UpdateItem", result).map(drop)
    }
}

#[async_trait]
impl ReviewInbox for DynamoReviewInbox {
    async fn open(&self, item: &ReviewItem) -> Result<bool, StorageError> {
        let row = ReviewRow {
            pk: item.id.clone(),
            kind: item.kind.clone(),
            reasons: item.reasons.clone(),
            reason_codes: codes(&item.reasons),
            status: item.status.clone(),
            created_at: item.created_at.clone(),
            occurrences: 1,
            draft: item.draft.clone(),
            event_ms: item.event_ms,
            order_key: item.order_key.clone(),
            shipment_key: item.shipment_key.clone(),
            source_inbound: item.source_inbound.clone(),
            fixes: Vec::new(),
            resolution: None,
        };
        let put = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&item.id, &row)?))
            .condition_expression("attribute_not_exists(pk) OR #status <> :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s(OPEN))
            .send()
            .await;
        if conditional("PutItem", put)?.is_some() {
            return Ok(true);
        }
        if let (Some(draft), Some(ms)) = (&item.draft, item.event_ms) {
            self.newer_draft(item, draft, ms).await?;
        }
        self.table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(&item.id))
            .update_expression("ADD occurrences :one SET last_seen_at = :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(false)
    }

    async fn fix(
        &self,
        id: &str,
        draft: &ShipmentDraft,
        reasons: &[ReviewReason],
        note: &str,
    ) -> Result<bool, StorageError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(id))
            .update_expression(
                "SET draft = :d, reasons = :r, reason_codes = :c, \
                 fixes = list_append(if_not_exists(fixes, :empty), :fix), last_seen_at = :now",
            )
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":d", s(text(id, draft)?))
            .expression_attribute_values(":r", s(text(id, &reasons)?))
            .expression_attribute_values(":c", s(codes(reasons)))
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":fix", AttributeValue::L(vec![s(note)]))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    async fn close(&self, id: &str, to: &str, resolution: &str) -> Result<bool, StorageError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(id))
            .update_expression("SET #status = :to, resolution = :why, closed_at = :now")
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to))
            .expression_attribute_values(":why", s(resolution))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    async fn get(&self, id: &str) -> Result<Option<ReviewItem>, StorageError> {
        self.table.get(id).await?.map(review_item).transpose()
    }

    async fn all(&self) -> Result<Vec<ReviewItem>, StorageError> {
        self.table
            .scan()
            .await?
            .into_iter()
            .map(review_item)
            .collect()
    }
}
