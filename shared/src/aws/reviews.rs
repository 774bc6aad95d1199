//! The review table: the error inbox. One open item per subject (an order, or a payload that
//! could not be read), with machine-readable reasons; a repeat of the same problem counts on
//! the existing item instead of opening another.

use super::item::{n, rfc3339_now, s, Reader};
use super::{classify, AwsError};
use crate::domain::ReviewReason;
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
    pub status: String,
    pub created_at: String,
    pub occurrences: u32,
}

impl ReviewItem {
    pub fn new(subject: &str, kind: &str, reasons: Vec<ReviewReason>) -> Self {
        ReviewItem {
            id: review_id(subject),
            kind: kind.to_owned(),
            reasons,
            order_key: None,
            shipment_key: None,
            source_inbound: None,
            status: "open".into(),
            created_at: rfc3339_now(),
            occurrences: 1,
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

    /// Opens the item, or counts one more occurrence if it is already open. Returns whether
    /// it was new.
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
            .condition_expression("attribute_not_exists(pk)");
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

    pub async fn get(&self, id: &str) -> Result<Option<ReviewItem>, AwsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify("GetItem", e))?;
        out.item.map(|item| review_item(id, &item)).transpose()
    }

    /// All items (a scan; the inbox is small by design).
    pub async fn all(&self) -> Result<Vec<ReviewItem>, AwsError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("Scan", e))?;
            for item in out.items.unwrap_or_default() {
                let id = Reader::new("review", &item).s("pk")?;
                items.push(review_item(&id, &item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
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
    })
}
