//! The shipments table: one item per shipment key, holding the normalized shipment, its
//! status, and its courier task. Every write is conditional (DESIGN.md, principle 2).
//! An order's cancellation is an item of its own (`cancelled:<order key>`), without an
//! `order_key`, so the `by_order` index never lists it.

use super::{from_item, json_text, n, pk_of, rfc3339_now, s, to_item, Item, Table};
use crate::{classify, conditional};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use domain::courier::{CourierKind, CourierTask, Failure, ProofOfDelivery};
use domain::ports::{ShipmentFind, ShipmentPage, ShipmentQuery, ShipmentStore};
use domain::record::{DeliveryFacts, Dispatched, Recorded, ShipmentRecord, TaskStored};
use domain::{Money, Shipment, ShipmentKey, ShipmentStatus, StorageError};
use serde::{Deserialize, Serialize};

/// A shipment's item, attribute by attribute.
#[derive(Debug, Serialize, Deserialize)]
struct ShipmentRow {
    pk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_key: Option<String>,
    #[serde(with = "json_text")]
    shipment: Shipment,
    status: ShipmentStatus,
    source_event_ms: i64,
    source_inbound: String,
    #[serde(default = "first_version")]
    version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracking_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    courier: Option<CourierKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracking_written_back: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    cancel_requested: bool,
    /// Set only by an edit of a shipment with a task (`record_edit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    edited_at: Option<String>,
    /// "Status@ms", appended to by conditional updates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    transitions: Vec<String>,
    #[serde(
        default,
        with = "json_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    proof: Option<ProofOfDelivery>,
    #[serde(
        default,
        with = "json_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    failure: Option<Failure>,
    #[serde(
        default,
        with = "json_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    cod_collected: Option<Money>,
    #[serde(
        default,
        with = "json_text::option",
        skip_serializing_if = "Option::is_none"
    )]
    delivery_cost: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    eta_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    driver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cod_collected_ms: Option<i64>,
    /// The plan that put the task on a driver's route (`record_dispatched`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispatch_plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispatch_driver: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispatch_eta_ms: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispatch_time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dispatch_day: Option<String>,
    /// The UTC day of the channel event that recorded the shipment (the `by_day` index's
    /// partition; an edit after the task keeps it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    order_day: Option<String>,
}

fn first_version() -> u64 {
    1
}

impl ShipmentRow {
    /// A shipment as a channel event first records it.
    fn new(shipment: &Shipment, event_ms: i64, inbound_id: &str) -> ShipmentRow {
        ShipmentRow {
            pk: shipment.key.to_string(),
            order_key: Some(shipment.key.order_key()),
            shipment: shipment.clone(),
            status: ShipmentStatus::Pending,
            source_event_ms: event_ms,
            source_inbound: inbound_id.to_owned(),
            version: 1,
            updated_at: Some(rfc3339_now()),
            task_id: None,
            tracking_number: None,
            tracking_url: None,
            courier: None,
            tracking_written_back: None,
            cancel_requested: false,
            edited_at: None,
            transitions: Vec::new(),
            proof: None,
            failure: None,
            cod_collected: None,
            delivery_cost: None,
            eta_ms: None,
            driver: None,
            cod_collected_ms: None,
            dispatch_plan: None,
            dispatch_driver: None,
            dispatch_eta_ms: None,
            dispatch_time_zone: None,
            dispatch_day: None,
            order_day: domain::ports::utc_day(event_ms),
        }
    }

    fn into_record(self) -> Result<ShipmentRecord, StorageError> {
        let transitions = self
            .transitions
            .iter()
            .map(|entry| transition(&self.pk, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let task = match (self.task_id, self.tracking_number) {
            (Some(task_id), Some(tracking_number)) => Some(CourierTask {
                task_id,
                tracking_number,
                tracking_url: self.tracking_url,
            }),
            _ => None,
        };
        Ok(ShipmentRecord {
            shipment: self.shipment,
            status: self.status,
            source_event_ms: self.source_event_ms,
            source_inbound: self.source_inbound,
            courier: self.courier,
            task,
            version: self.version,
            tracking_written_back: self.tracking_written_back,
            cancel_requested: self.cancel_requested,
            edited_after_task: self.edited_at.is_some(),
            transitions,
            delivery: DeliveryFacts {
                proof: self.proof,
                failure: self.failure,
                cod_collected: self.cod_collected,
                delivery_cost: self.delivery_cost,
                eta_ms: self.eta_ms,
                driver: self.driver,
                cod_collected_ms: self.cod_collected_ms,
            },
            dispatch: match (
                self.dispatch_plan,
                self.dispatch_driver,
                self.dispatch_eta_ms,
            ) {
                (Some(plan_id), Some(driver), Some(eta_ms)) => Some(Dispatched {
                    plan_id,
                    day: self.dispatch_day.unwrap_or_default(),
                    driver,
                    eta_ms,
                    time_zone: self.dispatch_time_zone.unwrap_or_else(|| "UTC".into()),
                }),
                _ => None,
            },
        })
    }
}

/// One "Status@ms" entry of `transitions`.
fn transition(pk: &str, entry: &str) -> Result<(ShipmentStatus, i64), StorageError> {
    let corrupt = || StorageError::corrupt(pk, format!("transition {entry:?}"));
    let (status, at) = entry.split_once('@').ok_or_else(corrupt)?;
    let status = serde_json::from_value(serde_json::Value::String(status.to_owned()))
        .map_err(|_| corrupt())?;
    Ok((status, at.parse().map_err(|_| corrupt())?))
}

fn record(item: super::Item) -> Result<ShipmentRecord, StorageError> {
    let pk = pk_of(&item);
    from_item::<ShipmentRow>(&pk, item)?.into_record()
}

/// The order's cancellation marker: when the cancelling event happened.
#[derive(Serialize, Deserialize)]
struct CancellationRow {
    pk: String,
    cancelled_event_ms: i64,
    updated_at: String,
}

/// "cancelled:" cannot begin a shipment key (a channel name does).
fn cancellation_pk(order_key: &str) -> String {
    format!("cancelled:{order_key}")
}

/// The courier's facts as attribute text. They are our own plain types, so serializing
/// cannot fail; no panic is left to chance all the same.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

/// `#status IN (:from0, :from1, ...)` and its values.
fn status_in(from: &[ShipmentStatus]) -> (String, Vec<(String, AttributeValue)>) {
    let values: Vec<(String, AttributeValue)> = from
        .iter()
        .enumerate()
        .map(|(i, status)| (format!(":from{i}"), s(status.as_str())))
        .collect();
    let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
    (format!("#status IN ({})", names.join(", ")), values)
}

#[derive(Clone, Debug)]
pub struct DynamoShipmentStore {
    table: Table,
}

impl DynamoShipmentStore {
    /// One partition of the `by_status` index, filtered (`:day` bound to `day`).
    async fn by_status(
        &self,
        status: &str,
        filter: &str,
        day: Option<&str>,
    ) -> Result<Vec<super::Item>, StorageError> {
        let mut query = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .index_name("by_status")
            .key_condition_expression("#status = :status")
            .filter_expression(filter)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", s(status));
        if let Some(day) = day {
            query = query.expression_attribute_values(":day", s(day));
        }
        query
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| crate::classify("Query", e))
    }

    /// The listed items read again, consistently (an index lags), kept if `keep`.
    async fn still(
        &self,
        listed: Vec<super::Item>,
        keep: impl Fn(&ShipmentRecord) -> bool,
    ) -> Result<Vec<ShipmentRecord>, StorageError> {
        let mut current = Vec::with_capacity(listed.len());
        for item in listed {
            if let Some(item) = self.table.get(&pk_of(&item)).await? {
                let record = record(item)?;
                if keep(&record) {
                    current.push(record);
                }
            }
        }
        Ok(current)
    }

    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoShipmentStore {
            table: Table::new(client, table),
        }
    }

    /// Replaces the data of a shipment that has a task, if this event is still the newest.
    /// Returns false when a newer event got there first.
    async fn record_edit(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        inbound_id: &str,
    ) -> Result<bool, StorageError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(shipment.key.to_string()))
            .update_expression(
                "SET shipment = :body, source_event_ms = :t, source_inbound = :inbound, \
                 edited_at = :now, updated_at = :now ADD version :one",
            )
            .condition_expression("attribute_exists(task_id) AND source_event_ms < :t")
            .expression_attribute_values(":body", s(to_json(shipment)))
            .expression_attribute_values(":t", n(event_ms))
            .expression_attribute_values(":inbound", s(inbound_id))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        Ok(conditional("UpdateItem", result)?.is_some())
    }
}

#[async_trait]
impl ShipmentStore for DynamoShipmentStore {
    async fn record(
        &self,
        shipment: &Shipment,
        event_ms: i64,
        inbound_id: &str,
    ) -> Result<Recorded, StorageError> {
        let key = shipment.key.to_string();
        let row = ShipmentRow::new(shipment, event_ms, inbound_id);
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&key, &row)?))
            .condition_expression(
                "attribute_not_exists(pk) OR (source_event_ms < :t AND #status = :pending AND attribute_not_exists(task_id))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":t", n(event_ms))
            .expression_attribute_values(":pending", s(ShipmentStatus::Pending.as_str()))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        if let Some(out) = conditional("PutItem", result)? {
            return Ok(if out.attributes.is_some_and(|a| !a.is_empty()) {
                Recorded::Updated
            } else {
                Recorded::New
            });
        }
        let existing = self
            .get(&shipment.key)
            .await?
            .ok_or_else(|| StorageError::Conflict {
                key: key.clone(),
                problem: "condition failed but the shipment is gone".into(),
            })?;
        let is_edit = existing.task.is_some()
            && !existing.cancel_requested
            && !existing.status.is_terminal()
            && existing.source_event_ms < event_ms
            && existing.shipment.courier_facing_change(shipment);
        if is_edit && self.record_edit(shipment, event_ms, inbound_id).await? {
            return Ok(Recorded::Edited);
        }
        Ok(Recorded::Kept(Box::new(existing)))
    }

    async fn request_cancel(
        &self,
        key: &ShipmentKey,
    ) -> Result<Option<ShipmentRecord>, StorageError> {
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key.to_string()))
            .update_expression("SET cancel_requested = :yes, updated_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        conditional("UpdateItem", result)?
            .and_then(|out| out.attributes)
            .map(record)
            .transpose()
    }

    async fn set_status(
        &self,
        key: &ShipmentKey,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
    ) -> Result<bool, StorageError> {
        if from.is_empty() {
            return Ok(false);
        }
        let (condition, values) = status_in(from);
        let update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key.to_string()))
            .update_expression("SET #status = :to, updated_at = :now ADD version :one")
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1));
        let update = values.into_iter().fold(update, |u, (name, value)| {
            u.expression_attribute_values(name, value)
        });
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    async fn record_order_cancelled(
        &self,
        order_key: &str,
        event_ms: i64,
    ) -> Result<(), StorageError> {
        let pk = cancellation_pk(order_key);
        let row = CancellationRow {
            pk: pk.clone(),
            cancelled_event_ms: event_ms,
            updated_at: rfc3339_now(),
        };
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(to_item(&pk, &row)?))
            .condition_expression("attribute_not_exists(pk) OR cancelled_event_ms < :t")
            .expression_attribute_values(":t", n(event_ms))
            .send()
            .await;
        conditional("PutItem", result).map(drop)
    }

    async fn order_cancelled_at(&self, order_key: &str) -> Result<Option<i64>, StorageError> {
        let row: Option<CancellationRow> = self.table.get_as(&cancellation_pk(order_key)).await?;
        Ok(row.map(|r| r.cancelled_event_ms))
    }

    async fn by_order(&self, order_key: &str) -> Result<Vec<ShipmentRecord>, StorageError> {
        self.table
            .query_index("by_order", "order_key", order_key)
            .await?
            .into_iter()
            .map(record)
            .collect()
    }

    /// The task is stored, and the status set to Created, only by the write that finds no
    /// task: a repeat with the same task (a concurrent duplicate that found the stored
    /// result) must not move a shipment the courier has already moved on back to Created.
    async fn record_task(
        &self,
        key: &ShipmentKey,
        courier: CourierKind,
        task: &CourierTask,
    ) -> Result<TaskStored, StorageError> {
        let pk = key.to_string();
        let mut set = "SET task_id = :task, tracking_number = :tn, courier = :courier, \
                       #status = :created, task_created_at = :now, updated_at = :now"
            .to_owned();
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(&pk))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(task_id)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":task", s(&task.task_id))
            .expression_attribute_values(":tn", s(&task.tracking_number))
            .expression_attribute_values(":courier", s(courier.as_str()))
            .expression_attribute_values(":created", s(ShipmentStatus::Created.as_str()))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllOld);
        if let Some(url) = &task.tracking_url {
            set.push_str(", tracking_url = :url");
            update = update.expression_attribute_values(":url", s(url));
        }
        let result = update
            .update_expression(format!("{set} ADD version :one"))
            .send()
            .await;
        if let Some(out) = conditional("UpdateItem", result)? {
            // The item as it was just before the task went in: the shipment's data then, and
            // a cancellation requested meanwhile. (No second read is needed for either.)
            let old = record(out.attributes.unwrap_or_default())?;
            return Ok(TaskStored {
                first: true,
                cancel_requested: old.cancel_requested,
                shipment: Box::new(old.shipment),
            });
        }
        // A task is there already: ours again (a repeat), or another one, which is the one
        // thing the idempotency protocol exists to prevent.
        match self.get(key).await? {
            Some(record)
                if record
                    .task
                    .as_ref()
                    .is_some_and(|t| t.task_id == task.task_id) =>
            {
                Ok(TaskStored {
                    first: false,
                    cancel_requested: record.cancel_requested,
                    shipment: Box::new(record.shipment),
                })
            }
            _ => Err(StorageError::Conflict {
                key: pk,
                problem: format!(
                    "shipment is missing or already has another task than {}",
                    task.task_id
                ),
            }),
        }
    }

    async fn record_tracking_written_back(
        &self,
        key: &ShipmentKey,
        reference: &str,
    ) -> Result<(), StorageError> {
        self.table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key.to_string()))
            .update_expression(
                "SET tracking_written_back = :r, tracking_written_back_at = :now, updated_at = :now",
            )
            .condition_expression("attribute_exists(task_id)")
            .expression_attribute_values(":r", s(reference))
            .expression_attribute_values(":now", s(rfc3339_now()))
            .send()
            .await
            .map_err(|e| classify("UpdateItem", e))?;
        Ok(())
    }

    async fn apply_courier_status(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        from: &[ShipmentStatus],
        to: ShipmentStatus,
        at_ms: i64,
        facts: &DeliveryFacts,
    ) -> Result<bool, StorageError> {
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
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
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
        let (status_condition, values) = status_in(from);
        let update = values
            .into_iter()
            .fold(update, |u, (name, value)| {
                u.expression_attribute_values(name, value)
            })
            .update_expression(format!("SET {} ADD version :one", set.join(", ")))
            .condition_expression(format!("task_id = :task AND {status_condition}"));
        Ok(conditional("UpdateItem", update.send().await)?.is_some())
    }

    async fn record_cash_collected(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        cash: &Money,
        driver: Option<&str>,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let mut set =
            "SET cod_collected = :cod, cod_collected_ms = :t, updated_at = :now".to_owned();
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
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

    async fn record_proof(
        &self,
        key: &ShipmentKey,
        proof: &ProofOfDelivery,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
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

    async fn record_eta(
        &self,
        key: &ShipmentKey,
        eta_ms: i64,
        at_ms: i64,
    ) -> Result<bool, StorageError> {
        let update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
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

    async fn get(&self, key: &ShipmentKey) -> Result<Option<ShipmentRecord>, StorageError> {
        self.table
            .get(&key.to_string())
            .await?
            .map(record)
            .transpose()
    }

    async fn all(&self) -> Result<Vec<ShipmentRecord>, StorageError> {
        self.table
            .scan()
            .await?
            .into_iter()
            .filter(|item| !pk_of(item).starts_with("cancelled:"))
            .map(record)
            .collect()
    }

    /// The `by_status` index's Created partition holds exactly the shipments with a task
    /// and nothing further yet; it is read eventually consistently, so each one is read
    /// again, consistently, and kept only if still waiting: a stop a plan has just taken
    /// must not be planned twice.
    async fn awaiting_dispatch(&self) -> Result<Vec<ShipmentRecord>, StorageError> {
        let listed = self
            .by_status("Created", "attribute_not_exists(dispatch_plan)", None)
            .await?;
        self.still(listed, |r| {
            r.status == ShipmentStatus::Created && r.dispatch.is_none()
        })
        .await
    }

    async fn dispatched_on(&self, day: &str) -> Result<Vec<ShipmentRecord>, StorageError> {
        let mut listed = Vec::new();
        for status in ["Assigned", "PickedUp", "OutForDelivery"] {
            listed.extend(
                self.by_status(status, "dispatch_day = :day", Some(day))
                    .await?,
            );
        }
        self.still(listed, |r| {
            matches!(
                r.status,
                ShipmentStatus::Assigned
                    | ShipmentStatus::PickedUp
                    | ShipmentStatus::OutForDelivery
            ) && r.dispatch.as_ref().is_some_and(|d| d.day == day)
        })
        .await
    }

    /// A query of one index partition: `by_tracking` and `by_order` hold a few shipments
    /// each; a day's `by_day` partition is read newest first, with the store and status as
    /// filters, so a page may take several queries to fill (at most
    /// [`MAX_QUERIES_PER_PAGE`], each reading at most `limit` entries).
    async fn search(&self, query: &ShipmentQuery) -> Result<ShipmentPage, StorageError> {
        let limit = query.limit.max(1);
        let mut start = query
            .after
            .as_deref()
            .and_then(|text| cursor::decode(text, &query.find));
        let mut found: Vec<Item> = Vec::new();
        for _ in 0..MAX_QUERIES_PER_PAGE {
            let want = limit.saturating_sub(found.len() as u32).max(1);
            let request = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .limit(want as i32)
                .set_exclusive_start_key(start.take());
            let request = match &query.find {
                ShipmentFind::Tracking(number) => request
                    .index_name("by_tracking")
                    .key_condition_expression("tracking_number = :key")
                    .expression_attribute_values(":key", s(number)),
                ShipmentFind::Order {
                    channel,
                    store,
                    order_id,
                } => request
                    .index_name("by_order")
                    .key_condition_expression("order_key = :key")
                    .expression_attribute_values(
                        ":key",
                        s(format!("{channel}:{store}:{order_id}")),
                    ),
                ShipmentFind::Day { day, store, status } => {
                    let mut filters = Vec::new();
                    let mut request = request
                        .index_name("by_day")
                        .key_condition_expression("order_day = :key")
                        .expression_attribute_values(":key", s(day))
                        .scan_index_forward(false);
                    if let Some((channel, store)) = store {
                        filters.push("begins_with(pk, :store)");
                        request = request.expression_attribute_values(
                            ":store",
                            s(format!("{channel}:{store}:")),
                        );
                    }
                    if let Some(status) = status {
                        filters.push("#status = :status");
                        request = request
                            .expression_attribute_names("#status", "status")
                            .expression_attribute_values(":status", s(status.as_str()));
                    }
                    if filters.is_empty() {
                        request
                    } else {
                        request.filter_expression(filters.join(" AND "))
                    }
                }
            };
            let answer = request.send().await.map_err(|e| classify("Query", e))?;
            found.extend(answer.items.unwrap_or_default());
            start = answer.last_evaluated_key;
            if start.is_none() || found.len() >= limit as usize {
                break;
            }
        }
        found.truncate(limit as usize);
        let next = match (&start, found.last()) {
            // Cut short or more to read: the next page starts after the last one shown.
            (Some(_), Some(last)) => cursor::encode(last, &query.find),
            (Some(key), None) => cursor::encode(key, &query.find),
            (None, _) => None,
        };
        // The indexes hold keys (and the status a filter needs), so an update of a
        // shipment's facts costs no index write; the page's shipments are read whole, and
        // consistently (an index lags): one that no longer matches is left off.
        let reads = found.iter().map(|item| {
            let pk = pk_of(item);
            async move { self.table.get(&pk).await }
        });
        let mut shipments = Vec::with_capacity(found.len());
        for item in futures::future::try_join_all(reads)
            .await?
            .into_iter()
            .flatten()
        {
            let record = record(item)?;
            if query.find.matches(&record) {
                shipments.push(record);
            }
        }
        Ok(ShipmentPage { shipments, next })
    }

    async fn record_dispatched(
        &self,
        key: &ShipmentKey,
        task_id: &str,
        dispatched: &Dispatched,
    ) -> Result<bool, StorageError> {
        let update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(key.to_string()))
            .update_expression(
                "SET dispatch_plan = :plan, dispatch_driver = :driver, dispatch_eta_ms = :eta, \
                 dispatch_time_zone = :zone, dispatch_day = :day, updated_at = :now \
                 ADD version :one",
            )
            .condition_expression(
                "task_id = :task AND attribute_not_exists(cancel_requested) \
                 AND (attribute_not_exists(dispatch_plan) OR dispatch_driver = :driver)",
            )
            .expression_attribute_values(":day", s(&dispatched.day))
            .expression_attribute_values(":plan", s(&dispatched.plan_id))
            .expression_attribute_values(":driver", s(&dispatched.driver))
            .expression_attribute_values(":eta", n(dispatched.eta_ms))
            .expression_attribute_values(":zone", s(&dispatched.time_zone))
            .expression_attribute_values(":task", s(task_id))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(rfc3339_now()));
        if conditional("UpdateItem", update.send().await)?.is_some() {
            return Ok(true);
        }
        // Lost the condition: marked by this plan already (a repeat) is still a yes.
        Ok(self.get(key).await?.is_some_and(|r| {
            r.task.is_some_and(|t| t.task_id == task_id)
                && r.dispatch.is_some_and(|d| d.plan_id == dispatched.plan_id)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_read_back_as_status_and_time_and_refuse_anything_else() {
        assert_eq!(
            transition("k", "Delivered@1700000000000").unwrap(),
            (ShipmentStatus::Delivered, 1_700_000_000_000)
        );
        for bad in ["Delivered", "Teleported@1", "Delivered@soon"] {
            assert!(transition("k", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_new_shipment_is_stored_without_empty_attributes() {
        let shipment: Shipment = serde_json::from_value(serde_json::json!({
            "key": "shopify:acme:1001:1",
            "recipient": {"name": "Ana"},
            "address": {"street": "Main St", "city": "Berlin", "country_code": "DE"},
            "parcel": {"pieces": 1},
            "payment": {"kind": "prepaid", "order_total": {"minor": 100, "currency": "EUR"}},
            "service": "standard"
        }))
        .unwrap();
        let item = to_item("k", &ShipmentRow::new(&shipment, 5, "shopify:acme:w1")).unwrap();
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        // `task_id` must be absent, not NULL: the conditions test `attribute_not_exists`.
        assert_eq!(
            names,
            [
                "order_day",
                "order_key",
                "pk",
                "shipment",
                "source_event_ms",
                "source_inbound",
                "status",
                "updated_at",
                "version"
            ]
        );
        assert_eq!(item["status"], s("Pending"));
        let back = record(item).unwrap();
        assert_eq!(back.shipment, shipment);
        assert_eq!(back.source_event_ms, 5);
        assert!(back.task.is_none() && back.transitions.is_empty());
    }
}

/// A filtered page stops after this many queries even if not full: a rare store or status
/// among a day's shipments never turns one page into the whole day's reads.
const MAX_QUERIES_PER_PAGE: usize = 10;

/// A page's `next`: the index key of the last shipment shown (the table's key and the
/// index's), as base64url JSON. A cursor that is not one of ours lists from the start: it
/// cannot show wrong data.
mod cursor {
    use super::{n, s, Item};
    use aws_sdk_dynamodb::types::AttributeValue;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use domain::ports::ShipmentFind;
    use std::collections::BTreeMap;

    /// The attributes that make up the index key a search reads (each text or number).
    fn key_names(find: &ShipmentFind) -> &'static [&'static str] {
        match find {
            ShipmentFind::Tracking(_) => &["pk", "tracking_number"],
            ShipmentFind::Order { .. } => &["pk", "order_key"],
            ShipmentFind::Day { .. } => &["pk", "order_day", "source_event_ms"],
        }
    }

    fn sorted(names: &[&'static str]) -> Vec<&'static str> {
        let mut names = names.to_vec();
        names.sort_unstable();
        names
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    enum Value {
        S(String),
        N(String),
    }

    pub fn encode(item: &Item, find: &ShipmentFind) -> Option<String> {
        let mut key = BTreeMap::new();
        for name in key_names(find) {
            let value = match item.get(*name)? {
                AttributeValue::S(text) => Value::S(text.clone()),
                AttributeValue::N(number) => Value::N(number.clone()),
                _ => return None,
            };
            key.insert((*name).to_owned(), value);
        }
        Some(URL_SAFE_NO_PAD.encode(serde_json::to_vec(&key).ok()?))
    }

    /// The key a cursor holds, if it is a key of the index `find` reads.
    pub fn decode(text: &str, find: &ShipmentFind) -> Option<Item> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let key: BTreeMap<String, Value> = serde_json::from_slice(&bytes).ok()?;
        if !key.keys().map(String::as_str).eq(sorted(key_names(find))) {
            return None;
        }
        Some(
            key.into_iter()
                .map(|(name, value)| {
                    let value = match value {
                        Value::S(text) => s(text),
                        Value::N(number) => n(number),
                    };
                    (name, value)
                })
                .collect(),
        )
    }
}
