//! The shipments table: one item per shipment key, holding the normalized shipment, its
//! status, and its courier task. Every write is conditional (DESIGN.md, principle 2).

use super::item::{n, now_ms, rfc3339_now, s, Item, Reader};
use super::{classify, conditional, AwsError};
use crate::courier::event::{Failure, ProofOfDelivery};
use crate::courier::CourierTask;
use crate::domain::{Money, Shipment, ShipmentKey, ShipmentStatus};
use aws_sdk_dynamodb::types::AttributeValue;

#[derive(Debug, Clone)]
pub struct ShipmentRecord {
    pub shipment: Shipment,
    pub status: ShipmentStatus,
    /// When the channel event that wrote this data happened (ms since the epoch).
    pub source_event_ms: i64,
    /// The inbound payload that last wrote this data (audit trail id).
    pub source_inbound: String,
    pub courier: Option<String>,
    pub task: Option<CourierTask>,
    pub version: u64,
    /// The store's reference for the tracking write-back, once done.
    pub tracking_written_back: Option<String>,
    /// The order was cancelled; the task (if any) is being cancelled at the courier.
    pub cancel_requested: bool,
    /// Every status the courier moved the shipment to, with when it happened, in the order
    /// they were applied. A status missing here was skipped or arrived too late.
    pub transitions: Vec<(ShipmentStatus, i64)>,
    /// What the courier reported with the delivery and the failure.
    pub delivery: DeliveryFacts,
}

/// The courier's account of the delivery, kept on the shipment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeliveryFacts {
    pub proof: Option<ProofOfDelivery>,
    pub failure: Option<Failure>,
    pub cod_collected: Option<Money>,
    pub delivery_cost: Option<Money>,
    /// Expected arrival (ms since the epoch) as of the latest event that gave one.
    pub eta_ms: Option<i64>,
    /// The courier's driver (worker) who had the task, as last reported: who holds its cash.
    pub driver: Option<String>,
    /// When the cash was collected (the event's time): the day it is reconciled on.
    pub cod_collected_ms: Option<i64>,
}

impl ShipmentRecord {
    /// Whether the shipment ever moved to `status` by a courier event.
    pub fn passed_through(&self, status: ShipmentStatus) -> bool {
        self.transitions.iter().any(|(s, _)| *s == status)
    }
}

/// What recording a shipment from a channel event did.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// First time this shipment is seen.
    New,
    /// A newer event replaced a pending shipment's data.
    Updated,
    /// The task exists and this newer event changes what the courier was told: the data is
    /// replaced and the task must be updated.
    Edited,
    /// Not written: the stored shipment is newer than this event, unchanged, or cancelled.
    /// The stored record is returned.
    Kept(Box<ShipmentRecord>),
}

/// What storing a created task found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskStored {
    /// This call stored it first (a repeat with the same task is not first).
    pub first: bool,
    /// The order was cancelled while the task was being created: cancel it now.
    pub cancel_requested: bool,
}

#[derive(Clone, Debug)]
pub struct ShipmentStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn is_conditional_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl ShipmentStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        ShipmentStore {
            client,
            table: table.into(),
        }
    }

    /// Writes the shipment as of a channel event at `event_ms`, unless a newer event already
    /// wrote it or a task exists: a late retry carrying an old payload never overwrites newer
    /// data, and duplicates resolve here rather than in memory.
    pub async fn record(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        inbound_id: &str,
    ) -> Result<Recorded, AwsError> {
        let key = shipment.key.to_string();
        let body = serde_json::to_string(shipment).map_err(|e| AwsError::Corrupt {
            key: key.clone(),
            problem: e.to_string(),
        })?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(&key))
            .item("order_key", s(shipment.key.order_key()))
            .item("shipment", s(&body))
            .item("status", s(ShipmentStatus::Pending.as_str()))
            .item("source_event_ms", n(event_ms))
            .item("source_inbound", s(inbound_id))
            .item("version", n(1))
            .item("updated_at", s(rfc3339_now()))
            .condition_expression(
                "attribute_not_exists(pk) OR (source_event_ms < :t AND #status = :pending AND attribute_not_exists(task_id))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":t", n(event_ms))
            .expression_attribute_values(":pending", s(ShipmentStatus::Pending.as_str()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match result {
            Ok(out) if out.attributes.as_ref().is_some_and(|a| !a.is_empty()) => {
                Ok(Recorded::Updated)
            }
            Ok(_) => Ok(Recorded::New),
            Err(e) if e.as_service_error().is_some_and(is_conditional_failure) => {
                let existing =
                    self.get(&shipment.key)
                        .await?
                        .ok_or_else(|| AwsError::Conflict {
                            key: key.clone(),
                            problem: "condition failed but the shipment is gone".into(),
                        })?;
                let is_edit = existing.task.is_some()
                    && !existing.cancel_requested
                    && !existing.status.is_terminal()
                    && existing.source_event_ms < event_ms
                    && existing.shipment.courier_facing_change(shipment);
                if is_edit
                    && self
                        .record_edit(shipment, &body, event_ms, inbound_id)
                        .await?
                {
                    return Ok(Recorded::Edited);
                }
                Ok(Recorded::Kept(Box::new(existing)))
            }
            Err(e) => Err(classify("PutItem", e)),
        }
    }

    /// Replaces the data of a shipment that has a task, if this event is still the newest.
    /// Returns false when a newer event got there first.
    async fn record_edit(
        &self,
        shipment: &Shipment,
        body: &str,
        event_ms: i64,
        inbound_id: &str,
    ) -> Result<bool, AwsError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(shipment.key.to_string()))
            .update_expression(
                "SET shipment = :body, source_event_ms = :t, source_inbound = :inbound, \
                 edited_at = :now, updated_at = :now ADD version :one",
            )
            .condition_expression("attribute_exists(task_id) AND source_event_ms < :t")
            .expression_attribute_values(":body", s(body))
            .expression_attribute_values(":t", n(event_ms))
            .expression_attribute_values(":inbound", s(inbound_id))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }

    /// Marks the shipment's order cancelled. The flag, not the status, is what create-task
    /// reads: the status becomes Cancelled once the courier confirms (or at once when no
    /// task exists). Returns the record as it is now, or `None` for an unknown shipment.
    pub async fn request_cancel(
        &self,
        key: &ShipmentKey,
    ) -> Result<Option<ShipmentRecord>, AwsError> {
        let pk = key.to_string();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .update_expression("SET cancel_requested = :yes, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(
                ":yes",
                aws_sdk_dynamodb::types::AttributeValue::Bool(true),
            )
            .expression_attribute_values(":now", s(rfc3339_now()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        conditional("UpdateItem", result)?
            .and_then(|out| out.attributes)
            .map(|item| record(&pk, &item))
            .transpose()
    }

    /// Moves the status forward if it is still one of `from`. Returns whether it moved.
    pub async fn set_status(
        &self,
        key: &ShipmentKey,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
    ) -> Result<bool, AwsError> {
        let mut names = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.to_string()))
            .update_expression("SET #status = :to, updated_at = :now ADD version :one")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1));
        for (i, status) in from.iter().enumerate() {
            let name = format!(":from{i}");
            update = update.expression_attribute_values(&name, s(status.as_str()));
            names.push(name);
        }
        let update = update.condition_expression(format!("#status IN ({})", names.join(", ")));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    /// Remembers that the order was cancelled as of `event_ms`, before any of its shipments
    /// are looked up: an older event that arrives later (or concurrently) finds it and
    /// creates nothing. Kept as its own item because the order may have no shipment yet.
    pub async fn record_order_cancelled(
        &self,
        order_key: &str,
        event_ms: i64,
    ) -> Result<(), AwsError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", s(cancellation_pk(order_key)))
            .item("cancelled_event_ms", n(event_ms))
            .item("updated_at", s(rfc3339_now()))
            .condition_expression("attribute_not_exists(pk) OR cancelled_event_ms < :t")
            .expression_attribute_values(":t", n(event_ms))
            .send()
            .await;
        conditional("PutItem", result).map(drop)
    }

    /// When the order was cancelled (its event time), if it was.
    pub async fn order_cancelled_at(&self, order_key: &str) -> Result<Option<i64>, AwsError> {
        let pk = cancellation_pk(order_key);
        let found = super::get_by_pk(&self.client, &self.table, &pk).await?;
        found
            .map(|item| Reader::new(&pk, &item).n("cancelled_event_ms"))
            .transpose()
    }

    /// Every shipment of one order (the `by_order` index): what a cancellation must reach.
    pub async fn by_order(&self, order_key: &str) -> Result<Vec<ShipmentRecord>, AwsError> {
        let mut records = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name("by_order")
                .key_condition_expression("order_key = :o")
                .expression_attribute_values(":o", s(order_key))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| classify("Query", e))?;
            for item in out.items.unwrap_or_default() {
                let pk = Reader::new("shipment", &item).s("pk")?;
                records.push(record(&pk, &item)?);
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(records);
            }
        }
    }

    /// Stores the courier task on the shipment: Pending → Created. Returns whether this call
    /// was the first to store it; a repeat with the same task is a no-op; a different task id
    /// for the same shipment is a conflict, the one thing the idempotency protocol exists to
    /// prevent.
    pub async fn record_task(
        &self,
        key: &ShipmentKey,
        courier: &str,
        task: &CourierTask,
    ) -> Result<TaskStored, AwsError> {
        let pk = key.to_string();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(&pk))
            .update_expression(
                "SET task_id = :task, tracking_number = :tn, courier = :courier, #status = :created, \
                 task_created_at = :now, updated_at = :now ADD version :one",
            )
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(task_id) OR task_id = :task)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":task", s(&task.task_id))
            .expression_attribute_values(":tn", s(&task.tracking_number))
            .expression_attribute_values(":courier", s(courier))
            .expression_attribute_values(":created", s(ShipmentStatus::Created.as_str()))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld);
        if let Some(url) = &task.tracking_url {
            update = update
                .update_expression(
                    "SET task_id = :task, tracking_number = :tn, tracking_url = :url, courier = :courier, \
                     #status = :created, task_created_at = :now, updated_at = :now ADD version :one",
                )
                .expression_attribute_values(":url", s(url));
        }
        match update.send().await {
            Ok(out) => {
                let old = out.attributes.unwrap_or_default();
                Ok(TaskStored {
                    first: !old.contains_key("task_id"),
                    cancel_requested: old
                        .get("cancel_requested")
                        .is_some_and(|v| v.as_bool().is_ok_and(|b| *b)),
                })
            }
            Err(e) if e.as_service_error().is_some_and(is_conditional_failure) => {
                Err(AwsError::Conflict {
                    key: pk,
                    problem: format!(
                        "shipment is missing or already has another task than {}",
                        task.task_id
                    ),
                })
            }
            Err(e) => Err(classify("UpdateItem", e)),
        }
    }

    /// Notes that the store now shows the tracking (`reference` is the store's id for it).
    pub async fn record_tracking_written_back(
        &self,
        key: &ShipmentKey,
        reference: &str,
    ) -> Result<(), AwsError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.to_string()))
            .update_expression("SET tracking_written_back = :r, tracking_written_back_at = :now, updated_at = :now")
            .condition_expression("attribute_exists(task_id)")
            .expression_attribute_values(":r", s(reference))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(())
    }

    /// Moves the shipment to a status the courier reported, if its task is `task_id` and its
    /// status is still one of `from` (the statuses that may become `to`, DESIGN.md
    /// "Statuses"), recording the transition and what came with it in the same write.
    /// Returns whether it moved: a repeated, late or out-of-order event changes nothing.
    pub async fn apply_courier_status(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
        at_ms: i64,
        facts: &DeliveryFacts,
    ) -> Result<bool, AwsError> {
        if from.is_empty() {
            return Ok(false);
        }
        let mut set = vec![
            "#status = :to",
            "status_event_ms = :t",
            "transitions = list_append(if_not_exists(transitions, :empty), :entry)",
            "updated_at = :now",
        ];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.to_string()))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":t", n(at_ms))
            .expression_attribute_values(":task", s(task_id))
            .expression_attribute_values(":empty", AttributeValue::L(vec![]))
            .expression_attribute_values(
                ":entry",
                AttributeValue::L(vec![s(format!("{}@{at_ms}", to.as_str()))]),
            )
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1));
        if let Some(proof) = &facts.proof {
            set.push("proof = :proof, proof_event_ms = :t");
            update = update.expression_attribute_values(":proof", s(to_json(proof)));
        }
        if let Some(failure) = &facts.failure {
            set.push("failure = :failure");
            update = update.expression_attribute_values(":failure", s(to_json(failure)));
        }
        if let Some(cod) = &facts.cod_collected {
            set.push("cod_collected = :cod, cod_collected_ms = :t");
            update = update.expression_attribute_values(":cod", s(to_json(cod)));
        }
        if let Some(driver) = &facts.driver {
            set.push("driver = :driver");
            update = update.expression_attribute_values(":driver", s(driver));
        }
        if let Some(cost) = &facts.delivery_cost {
            set.push("delivery_cost = :cost");
            update = update.expression_attribute_values(":cost", s(to_json(cost)));
        }
        let mut names = Vec::new();
        for (i, status) in from.iter().enumerate() {
            let name = format!(":from{i}");
            update = update.expression_attribute_values(&name, s(status.as_str()));
            names.push(name);
        }
        let update = update
            .update_expression(format!("SET {} ADD version :one", set.join(", ")))
            .condition_expression(format!(
                "task_id = :task AND #status IN ({})",
                names.join(", ")
            ));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    /// Keeps cash the courier reports collecting with an event the state machine did not
    /// apply (a delivery of an order cancelled meanwhile): the courier holds that cash, and
    /// reconciliation must see it. A later report replaces an earlier one, never the reverse.
    pub async fn record_cash_collected(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        cash: &Money,
        driver: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, AwsError> {
        let mut set =
            "SET cod_collected = :cod, cod_collected_ms = :t, updated_at = :now".to_owned();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.to_string()))
            .expression_attribute_values(":cod", s(to_json(cash)))
            .expression_attribute_values(":t", n(at_ms))
            .expression_attribute_values(":task", s(task_id))
            .expression_attribute_values(":now", s(rfc3339_now()));
        if let Some(driver) = driver {
            set.push_str(", driver = :driver");
            update = update.expression_attribute_values(":driver", s(driver));
        }
        let update = update.update_expression(set).condition_expression(
            "task_id = :task AND (attribute_not_exists(cod_collected_ms) OR cod_collected_ms < :t)",
        );
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    /// Keeps proof that arrives after the delivery (Onfleet sends photos and the signature
    /// with later updates), unless newer proof is already stored.
    pub async fn record_proof(
        &self,
        key: &ShipmentKey,
        proof: &ProofOfDelivery,
        at_ms: i64,
    ) -> Result<bool, AwsError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.to_string()))
            .update_expression("SET proof = :proof, proof_event_ms = :t, updated_at = :now")
            .condition_expression(
                "#status = :delivered AND (attribute_not_exists(proof_event_ms) OR proof_event_ms < :t)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":delivered", s(ShipmentStatus::Delivered.as_str()))
            .expression_attribute_values(":proof", s(to_json(proof)))
            .expression_attribute_values(":t", n(at_ms))
            .expression_attribute_values(":now", s(rfc3339_now()));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    /// Keeps the courier's latest ETA; an older event's ETA never replaces a newer one.
    pub async fn record_eta(
        &self,
        key: &ShipmentKey,
        eta_ms: i64,
        at_ms: i64,
    ) -> Result<bool, AwsError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(key.to_string()))
            .update_expression("SET eta_ms = :eta, eta_event_ms = :t, updated_at = :now")
            .condition_expression(
                "attribute_exists(task_id) AND (attribute_not_exists(eta_event_ms) OR eta_event_ms < :t)",
            )
            .expression_attribute_values(":eta", n(eta_ms))
            .expression_attribute_values(":t", n(at_ms))
            .expression_attribute_values(":now", s(rfc3339_now()));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    pub async fn get(&self, key: &ShipmentKey) -> Result<Option<ShipmentRecord>, AwsError> {
        let pk = key.to_string();
        let found = super::get_by_pk(&self.client, &self.table, &pk).await?;
        found.map(|item| record(&pk, &item)).transpose()
    }

    /// Every shipment in the table (for the demo, tests and small reports; a scan).
    pub async fn all(&self) -> Result<Vec<ShipmentRecord>, AwsError> {
        let mut records = Vec::new();
        for item in super::scan_all(&self.client, &self.table).await? {
            let pk = Reader::new("shipment", &item).s("pk")?;
            if pk.starts_with("cancelled:") {
                continue;
            }
            records.push(record(&pk, &item)?);
        }
        Ok(records)
    }
}

fn record(pk: &str, item: &Item) -> Result<ShipmentRecord, AwsError> {
    let r = Reader::new(pk, item);
    let status_text = r.s("status")?;
    let status =
        serde_json::from_value(serde_json::Value::String(status_text.clone())).map_err(|_| {
            AwsError::Corrupt {
                key: pk.to_owned(),
                problem: format!("unknown status {status_text:?}"),
            }
        })?;
    let task = match (r.opt_s("task_id")?, r.opt_s("tracking_number")?) {
        (Some(task_id), Some(tracking_number)) => Some(CourierTask {
            task_id,
            tracking_number,
            tracking_url: r.opt_s("tracking_url")?,
        }),
        _ => None,
    };
    Ok(ShipmentRecord {
        shipment: r.json("shipment")?,
        status,
        source_event_ms: r.n("source_event_ms")?,
        source_inbound: r.s("source_inbound")?,
        courier: r.opt_s("courier")?,
        task,
        version: r.opt_n("version")?.unwrap_or(1),
        tracking_written_back: r.opt_s("tracking_written_back")?,
        cancel_requested: item
            .get("cancel_requested")
            .is_some_and(|v| v.as_bool().is_ok_and(|b| *b)),
        transitions: transitions(pk, item)?,
        delivery: DeliveryFacts {
            proof: r.opt_json("proof")?,
            failure: r.opt_json("failure")?,
            cod_collected: r.opt_json("cod_collected")?,
            delivery_cost: r.opt_json("delivery_cost")?,
            eta_ms: r.opt_n("eta_ms")?,
            driver: r.opt_s("driver")?,
            cod_collected_ms: r.opt_n("cod_collected_ms")?,
        },
    })
}

/// `transitions` is a list of "Status@ms" strings, appended to by conditional updates.
fn transitions(pk: &str, item: &Item) -> Result<Vec<(ShipmentStatus, i64)>, AwsError> {
    let corrupt = |problem: String| AwsError::Corrupt {
        key: pk.to_owned(),
        problem,
    };
    let Some(value) = item.get("transitions") else {
        return Ok(Vec::new());
    };
    let list = value
        .as_l()
        .map_err(|_| corrupt("transitions is not a list".into()))?;
    list.iter()
        .map(|entry| {
            let text = entry
                .as_s()
                .map_err(|_| corrupt("a transition is not a string".into()))?;
            let (status, at) = text
                .split_once('@')
                .ok_or_else(|| corrupt(format!("transition {text:?}")))?;
            let status: ShipmentStatus =
                serde_json::from_value(serde_json::Value::String(status.to_owned()))
                    .map_err(|_| corrupt(format!("transition {text:?}")))?;
            let at = at
                .parse()
                .map_err(|_| corrupt(format!("transition {text:?}")))?;
            Ok((status, at))
        })
        .collect()
}

/// The cancellation marker's key: "cancelled:" cannot begin a shipment key (a channel name
/// does), and the marker has no `order_key` attribute, so the index never lists it.
fn cancellation_pk(order_key: &str) -> String {
    format!("cancelled:{order_key}")
}

/// The courier's facts as attribute text. They are our own plain types, so serializing
/// cannot fail; no panic is left to chance all the same.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// Milliseconds for "now", for events whose channel gives no time.
pub fn event_ms_now() -> i64 {
    now_ms()
}
