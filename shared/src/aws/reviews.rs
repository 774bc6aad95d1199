//! The review table: the error inbox. One open item per subject (an order, or a payload that
//! could not be read), with machine-readable reasons; a repeat of the same problem counts on
//! the existing item instead of opening another.

use super::item::{n, rfc3339_now, s, Reader};
use super::{classify, conditional, AwsError};
use crate::domain::{ReviewReason, ShipmentDraft};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ReviewItem {
    /// "review:" + the subject: an order key, a shipment key, or an inbound payload id.
    pub id: String,
    /// What needs a person: "order", "payload", "task", "write_back".
    pub kind: String,
    pub reasons: Vec<ReviewReason>,
    pub order_key: Option<String>,
    pub shipment_key: Option<String>,
    /// The audit-trail id of the payload behind it; the payload itself is kept there whole.
    pub source_inbound: Option<String>,
    /// "open", "released" (back into the pipeline), "dismissed", or "superseded" (a newer
    /// event fixed it).
    pub status: String,
    pub created_at: String,
    pub occurrences: u32,
    /// The shipment as the channel gave it, for an operator to fix and release.
    pub draft: Option<ShipmentDraft>,
    /// When the event behind the draft happened: a release is still guarded by it, so it
    /// never overwrites data from a newer event.
    pub event_ms: Option<i64>,
    /// Operators' corrections, in order ("address.postal_code=40202 (ana)").
    pub fixes: Vec<String>,
    pub resolution: Option<String>,
}

pub const OPEN: &str = "open";
pub const RELEASED: &str = "released";
pub const DISMISSED: &str = "dismissed";
pub const SUPERSEDED: &str = "superseded";

impl ReviewItem {
    pub fn new(subject: &str, kind: &str, reasons: Vec<ReviewReason>) -> Self {
        ReviewItem {
            id: review_id(subject),
            kind: kind.to_owned(),
            reasons,
            order_key: None,
            shipment_key: None,
            source_inbound: None,
            status: OPEN.into(),
            created_at: rfc3339_now(),
            occurrences: 1,
            draft: None,
            event_ms: None,
            fixes: Vec::new(),
            resolution: None,
        }
    }
}

pub fn review_id(subject: &str) -> String {
    format!("review:{subject}")
}

#[derive(Clone, Debug)]
pub struct ReviewStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl ReviewStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        ReviewStore {
            client,
            table: table.into(),
        }
    }

    /// Opens the item, or counts one more occurrence if it is already open. A closed item of
    /// the same subject is opened again with the new reasons. Returns whether it was opened
    /// (rather than counted).
    pub async fn open(&self, item: &ReviewItem) -> Result<bool, AwsError> {
        let reasons = serde_json::to_string(&item.reasons).map_err(|e| AwsError::Corrupt {
            key: item.id.clone(),
            problem: e.to_string(),
        })?;
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&item.id))
            .item("kind", s(&item.kind))
            .item("reasons", s(reasons))
            .item(
                "reason_codes",
                s(item
                    .reasons
                    .iter()
                    .map(ReviewReason::code)
                    .collect::<Vec<_>>()
                    .join(",")),
            )
            .item("status", s(&item.status))
            .item("created_at", s(&item.created_at))
            .item("occurrences", n(1))
            .condition_expression("attribute_not_exists(pk) OR #status <> :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":open", s(OPEN));
        if let Some(draft) = &item.draft {
            let text = serde_json::to_string(draft).map_err(|e| AwsError::Corrupt {
                key: item.id.clone(),
                problem: e.to_string(),
            })?;
            put = put.item("draft", s(text));
        }
        if let Some(ms) = item.event_ms {
            put = put.item("event_ms", n(ms));
        }
        for (name, value) in [
            ("order_key", &item.order_key),
            ("shipment_key", &item.shipment_key),
            ("source_inbound", &item.source_inbound),
        ] {
            if let Some(v) = value {
                put = put.item(name, s(v));
            }
        }
        match put.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                if let (Some(draft), Some(ms)) = (&item.draft, item.event_ms) {
                    self.newer_draft(item, draft, ms).await?;
                }
                self.client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", s(&item.id))
                    .update_expression("ADD occurrences :one SET last_seen_at = :now")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":now", s(rfc3339_now()))
                    .send()
                    .await
                    .map_err(|e| classify("UpdateItem", e))?;
                Ok(false)
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    /// A newer event about an open item's shipment, still invalid: its draft and reasons
    /// replace the older ones, so a release sends what the channel says now.
    async fn newer_draft(
        &self,
        item: &ReviewItem,
        draft: &ShipmentDraft,
        event_ms: i64,
    ) -> Result<(), AwsError> {
        let corrupt = |e: serde_json::Error| AwsError::Corrupt {
            key: item.id.clone(),
            problem: e.to_string(),
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&item.id))
            .update_expression("SET draft = :d, reasons = :r, reason_codes = :c, event_ms = :t")
            .condition_expression(
                "#status = :open AND (attribute_not_exists(event_ms) OR event_ms < :t)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":d", s(serde_json::to_string(draft).map_err(corrupt)?))
            .expression_attribute_values(
                ":r",
                s(serde_json::to_string(&item.reasons).map_err(corrupt)?),
            )
            .expression_attribute_values(
                ":c",
                s(item
                    .reasons
                    .iter()
                    .map(ReviewReason::code)
                    .collect::<Vec<_>>()
                    .join(",")),
            )
            .expression_attribute_values(":t", n(event_ms))
            .expression_attribute_values(":open", s(OPEN))
            .send()
            .await;
        conditional("UpdateItem", result).map(drop)
    }

    /// Stores an operator's corrected draft on an open item. Returns false if the item is
    /// not open (released or dismissed meanwhile).
    pub async fn fix(
        &self,
        id: &str,
        draft: &ShipmentDraft,
        reasons: &[ReviewReason],
        note: &str,
    ) -> Result<bool, AwsError> {
        let text = serde_json::to_string(draft).map_err(|e| AwsError::Corrupt {
            key: id.to_owned(),
            problem: e.to_string(),
        })?;
        let reasons_text = serde_json::to_string(reasons).map_err(|e| AwsError::Corrupt {
            key: id.to_owned(),
            problem: e.to_string(),
        })?;
        let codes: Vec<&str> = reasons.iter().map(ReviewReason::code).collect();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .update_expression(
                "SET draft = :d, reasons = :r, reason_codes = :c, \
                 fixes = list_append(if_not_exists(fixes, :empty), :fix), last_seen_at = :now",
            )
            .condition_expression("#status = :open")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":d", s(text))
            .expression_attribute_values(":r", s(reasons_text))
            .expression_attribute_values(":c", s(codes.join(",")))
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":fix", AttributeValue::L(vec![s(note)]))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    /// Closes an open item (`to` is released, dismissed or superseded). Conditional on it
    /// still being open, so of two operators (or an operator and a newer event) exactly one
    /// closes it. Returns whether this call did.
    pub async fn close(&self, id: &str, to: &str, resolution: &str) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
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

    pub async fn get(&self, id: &str) -> Result<Option<ReviewItem>, AwsError> {
        let found = super::get_by_pk(&self.client, &self.table, id).await?;
        found.map(|item| review_item(id, &item)).transpose()
    }

    /// All items (a scan; the inbox is small by design).
    pub async fn all(&self) -> Result<Vec<ReviewItem>, AwsError> {
        super::scan_all(&self.client, &self.table)
            .await?
            .iter()
            .map(|item| {
                let id = Reader::new("review", item).s("pk")?;
                review_item(&id, item)
            })
            .collect()
    }
}

fn review_item(id: &str, item: &super::item::Item) -> Result<ReviewItem, AwsError> {
    let r = Reader::new(id, item);
    Ok(ReviewItem {
        id: id.to_owned(),
        kind: r.s("kind")?,
        reasons: r.json("reasons")?,
        order_key: r.opt_s("order_key")?,
        shipment_key: r.opt_s("shipment_key")?,
        source_inbound: r.opt_s("source_inbound")?,
        status: r.s("status")?,
        created_at: r.s("created_at")?,
        occurrences: r.opt_n("occurrences")?.unwrap_or(1),
        draft: r.opt_json("draft")?,
        event_ms: r.opt_n("event_ms")?,
        fixes: match item.get("fixes") {
            Some(AttributeValue::L(list)) => {
                list.iter().filter_map(|v| v.as_s().ok().cloned()).collect()
            }
            _ => Vec::new(),
        },
        resolution: r.opt_s("resolution")?,
    })
}
