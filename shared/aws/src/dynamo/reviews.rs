//! The review table: the error inbox. One open item per subject (an order, or a payload that
//! could not be read), with machine-readable reasons; a repeat of the same problem counts on
//! the existing item instead of opening another.

use super::{from_item, json_text, n, pk_of, rfc3339_now, s, to_item, Item, Table};
use crate::{classify, conditional};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::{ReviewInbox, ReviewPage, ReviewQuery};
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

    /// The `by_status` index (status, created_at), newest first. A reason filter is a
    /// filter expression on the query, so a page may take several queries to fill; each
    /// reads at most `limit` index entries, and at most [`MAX_QUERIES_PER_PAGE`] are made.
    async fn page(&self, query: &ReviewQuery) -> Result<ReviewPage, StorageError> {
        let mut start = query.after.as_deref().and_then(cursor::decode);
        let mut items = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let want = query.limit.saturating_sub(items.len() as u32).max(1);
            let mut request = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .index_name(BY_STATUS)
                .key_condition_expression("#status = :status")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":status", s(&query.status))
                .scan_index_forward(false)
                .limit(want as i32)
                .set_exclusive_start_key(start.take());
            if let Some(code) = &query.code {
                request = request
                    .filter_expression("contains(reason_codes, :code)")
                    .expression_attribute_values(":code", s(code));
            }
            let answer = request.send().await.map_err(|e| classify("Query", e))?;
            for item in answer.items.unwrap_or_default() {
                let item = review_item(item)?;
                // `contains` matches text; the codes are matched whole here.
                let wanted = query
                    .code
                    .as_deref()
                    .is_none_or(|code| item.reasons.iter().any(|r| r.code() == code));
                if wanted {
                    items.push(item);
                }
            }
            start = answer.last_evaluated_key;
            if start.is_none() || items.len() >= query.limit as usize {
                break;
            }
        }
        items.truncate(query.limit as usize);
        let next = match (&start, items.last()) {
            (Some(_), Some(last)) => Some(cursor::encode(last)),
            (Some(key), None) => cursor::from_key(key),
            (None, _) => None,
        };
        Ok(ReviewPage { items, next })
    }
}

/// The index the console's inbox pages through.
const BY_STATUS: &str = "by_status";

/// A filtered page stops after this many queries even if not full: a rare reason among a
/// million items never turns one page into a table's worth of reads.
const MAX_QUERIES_PER_PAGE: usize = 10;

/// A page's `next`: the index key of its last item (pk, status, created_at) as base64url
/// JSON. A cursor that is not one of ours lists from the start: it cannot show wrong data.
mod cursor {
    use super::{s, Item};
    use aws_sdk_dynamodb::types::AttributeValue;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use domain::ReviewItem;

    #[derive(serde::Serialize, serde::Deserialize)]
    struct Cursor {
        pk: String,
        status: String,
        created_at: String,
    }

    pub fn encode(item: &ReviewItem) -> String {
        seal(&Cursor {
            pk: item.id.clone(),
            status: item.status.clone(),
            created_at: item.created_at.clone(),
        })
    }

    pub fn from_key(key: &Item) -> Option<String> {
        let text = |name: &str| match key.get(name) {
            Some(AttributeValue::S(v)) => Some(v.clone()),
            _ => None,
        };
        Some(seal(&Cursor {
            pk: text("pk")?,
            status: text("status")?,
            created_at: text("created_at")?,
        }))
    }

    fn seal(cursor: &Cursor) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Option<Item> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        Some(Item::from([
            ("pk".to_owned(), s(cursor.pk)),
            ("status".to_owned(), s(cursor.status)),
            ("created_at".to_owned(), s(cursor.created_at)),
        ]))
    }
}
