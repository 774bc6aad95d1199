//! The dispatch table: the fleet document and the day plans, keyed by partition and sort
//! key so that one plan (which may hold thousands of stops, past DynamoDB's 400 KB item
//! limit) is one query:
//!
//! - `fleet` / `current`: the fleet as JSON, with who put it when;
//! - `day#2026-12-06` / `day`: the day's open plan and latest plan (the conditional write
//!   that opens a plan), and every plan id of the day in order;
//! - `plan#<id>` / `head`, `route#<driver>`, `unplanned#<n>`: a plan, a route per item,
//!   shipments left out in chunks.
//!
//! A plan's items are written before the day points at it; a run that loses the day's
//! condition leaves them unreferenced, never half a plan referenced.

use super::{from_item, rfc3339_now, s, to_item, Item, Table};
use crate::{classify, conditional};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::dispatch::{DayPlans, DispatchPlan, DriverRoute, Fleet, PlanStart, Unplanned};
use domain::ports::{FleetStore, PlanStore};
use domain::StorageError;
use serde::{Deserialize, Serialize};

/// Shipments left out per item: a few hundred bytes each, well under the item limit.
const UNPLANNED_PER_ITEM: usize = 200;

pub struct DynamoDispatch {
    table: Table,
}

impl DynamoDispatch {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoDispatch {
        DynamoDispatch {
            table: Table::new(client, table),
        }
    }

    async fn item(&self, pk: &str, sk: &str) -> Result<Option<Item>, StorageError> {
        self.table
            .client
            .get_item()
            .table_name(&self.table.name)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map(|out| out.item)
            .map_err(|e| classify("GetItem", e))
    }

    async fn put(&self, item: Item) -> Result<(), StorageError> {
        self.table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .send()
            .await
            .map(drop)
            .map_err(|e| classify("PutItem", e))
    }

    async fn day_row(&self, day: &str) -> Result<Option<DayRow>, StorageError> {
        let pk = day_pk(day);
        self.item(&pk, "day")
            .await?
            .map(|item| from_item(&pk, item))
            .transpose()
    }

    async fn load(&self, id: &str) -> Result<Option<DispatchPlan>, StorageError> {
        let pk = plan_pk(id);
        let items = self.table.query_pk(&pk).await?;
        let mut head: Option<PlanHead> = None;
        let mut routes = Vec::new();
        let mut unplanned = Vec::new();
        for item in items {
            let part: PlanPart = from_item(&pk, item)?;
            let corrupt =
                |e: serde_json::Error| StorageError::corrupt(&pk, format!("{}: {e}", part.sk));
            if part.sk == "head" {
                head = Some(serde_json::from_str(&part.body).map_err(corrupt)?);
            } else if part.sk.starts_with("route#") {
                routes.push(
                    serde_json::from_str::<(usize, DriverRoute)>(&part.body).map_err(corrupt)?,
                );
            } else if part.sk.starts_with("unplanned#") {
                unplanned.push(
                    serde_json::from_str::<(usize, Vec<Unplanned>)>(&part.body).map_err(corrupt)?,
                );
            }
        }
        let Some(head) = head else {
            return Ok(None);
        };
        routes.sort_by_key(|(i, _)| *i);
        unplanned.sort_by_key(|(i, _)| *i);
        if routes.len() != head.routes || unplanned.len() != head.unplanned_items {
            return Err(StorageError::corrupt(&pk, "parts of the plan are missing"));
        }
        Ok(Some(DispatchPlan {
            id: head.id,
            day: head.day,
            time_zone: head.time_zone,
            created_at: head.created_at,
            requested_by: head.requested_by,
            routes: routes.into_iter().map(|(_, r)| r).collect(),
            unplanned: unplanned.into_iter().flat_map(|(_, u)| u).collect(),
            distance_m: head.distance_m,
            duration_s: head.duration_s,
            budget_s: head.budget_s,
        }))
    }
}

fn day_pk(day: &str) -> String {
    format!("day#{day}")
}

fn plan_pk(id: &str) -> String {
    format!("plan#{id}")
}

#[derive(Serialize, Deserialize)]
struct FleetRow {
    pk: String,
    sk: String,
    /// The document as JSON text: zones' polygons are nested arrays DynamoDB need not see.
    fleet: String,
    updated_by: String,
    updated_at: String,
}

#[derive(Serialize, Deserialize, Default)]
struct DayRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    open_plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest_plan: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    plans: Vec<String>,
}

/// One item of a plan: its JSON part.
#[derive(Serialize, Deserialize)]
struct PlanPart {
    pk: String,
    sk: String,
    body: String,
}

/// The plan without its routes and shipments left out, and how many items hold those.
#[derive(Serialize, Deserialize)]
struct PlanHead {
    id: String,
    day: String,
    time_zone: String,
    created_at: String,
    requested_by: String,
    distance_m: u64,
    duration_s: u64,
    budget_s: u64,
    routes: usize,
    unplanned_items: usize,
}

fn part<T: Serialize>(pk: &str, sk: String, body: &T) -> Result<Item, StorageError> {
    let body = serde_json::to_string(body)
        .map_err(|e| StorageError::corrupt(pk, format!("{sk} does not serialize: {e}")))?;
    to_item(
        pk,
        &PlanPart {
            pk: pk.to_owned(),
            sk,
            body,
        },
    )
}

#[async_trait]
impl FleetStore for DynamoDispatch {
    async fn get(&self) -> Result<Option<Fleet>, StorageError> {
        let Some(item) = self.item("fleet", "current").await? else {
            return Ok(None);
        };
        let row: FleetRow = from_item("fleet", item)?;
        serde_json::from_str(&row.fleet)
            .map(Some)
            .map_err(|e| StorageError::corrupt("fleet", e.to_string()))
    }

    async fn put(&self, fleet: &Fleet, by: &str) -> Result<(), StorageError> {
        let text = serde_json::to_string(fleet)
            .map_err(|e| StorageError::corrupt("fleet", e.to_string()))?;
        self.put(to_item(
            "fleet",
            &FleetRow {
                pk: "fleet".into(),
                sk: "current".into(),
                fleet: text,
                updated_by: by.to_owned(),
                updated_at: rfc3339_now(),
            },
        )?)
        .await
    }
}

#[async_trait]
impl PlanStore for DynamoDispatch {
    async fn day(&self, day: &str) -> Result<DayPlans, StorageError> {
        let row = self.day_row(day).await?.unwrap_or_default();
        let open = match &row.open_plan {
            Some(id) => self.load(id).await?,
            None => None,
        };
        Ok(DayPlans {
            open,
            latest: row.latest_plan,
        })
    }

    async fn start(
        &self,
        plan: &DispatchPlan,
        seen_latest: Option<&str>,
    ) -> Result<PlanStart, StorageError> {
        let pk = plan_pk(&plan.id);
        let chunks: Vec<&[Unplanned]> = plan.unplanned.chunks(UNPLANNED_PER_ITEM).collect();
        let head = PlanHead {
            id: plan.id.clone(),
            day: plan.day.clone(),
            time_zone: plan.time_zone.clone(),
            created_at: plan.created_at.clone(),
            requested_by: plan.requested_by.clone(),
            distance_m: plan.distance_m,
            duration_s: plan.duration_s,
            budget_s: plan.budget_s,
            routes: plan.routes.len(),
            unplanned_items: chunks.len(),
        };
        // The head first, and only if no plan has this id: two runs given the same id
        // (a caller that reused a run id) must never write their routes over each other.
        let claimed = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(part(&pk, "head".into(), &head)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if conditional("PutItem", claimed)?.is_none() {
            return Err(StorageError::corrupt(
                pk,
                "another plan already has this id: each run needs its own run id".to_owned(),
            ));
        }
        for (i, route) in plan.routes.iter().enumerate() {
            self.put(part(&pk, format!("route#{}", route.driver), &(i, route))?)
                .await?;
        }
        for (i, chunk) in chunks.iter().enumerate() {
            self.put(part(&pk, format!("unplanned#{i:05}"), &(i, chunk))?)
                .await?;
        }

        // Only now does the day point at it: open, if nothing is open and nothing newer was
        // made since this run looked.
        let latest_unchanged = match seen_latest {
            Some(_) => "latest_plan = :seen",
            None => "attribute_not_exists(latest_plan)",
        };
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(day_pk(&plan.day)))
            .key("sk", s("day"))
            .update_expression(
                "SET open_plan = :id, latest_plan = :id, \
                 plans = list_append(if_not_exists(plans, :none), :ids)",
            )
            .condition_expression(format!(
                "attribute_not_exists(open_plan) AND {latest_unchanged}"
            ))
            .expression_attribute_values(":id", s(&plan.id))
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":ids", AttributeValue::L(vec![s(&plan.id)]));
        if let Some(seen) = seen_latest {
            update = update.expression_attribute_values(":seen", s(seen));
        }
        if conditional("UpdateItem", update.send().await)?.is_some() {
            return Ok(PlanStart::Started);
        }
        let row = self.day_row(&plan.day).await?.unwrap_or_default();
        match row.open_plan {
            Some(id) => match self.load(&id).await? {
                Some(theirs) => Ok(PlanStart::AlreadyOpen(Box::new(theirs))),
                None => Err(StorageError::corrupt(
                    day_pk(&plan.day),
                    format!("open plan {id} has no items"),
                )),
            },
            None => Ok(PlanStart::Overtaken),
        }
    }

    async fn finish(&self, plan: &DispatchPlan) -> Result<(), StorageError> {
        let update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .key("pk", s(day_pk(&plan.day)))
            .key("sk", s("day"))
            .update_expression("REMOVE open_plan")
            .condition_expression("open_plan = :id")
            .expression_attribute_values(":id", s(&plan.id));
        // Already closed (a repeat) is what was asked for.
        conditional("UpdateItem", update.send().await).map(drop)
    }

    async fn plans(&self, day: &str) -> Result<Vec<DispatchPlan>, StorageError> {
        let row = self.day_row(day).await?.unwrap_or_default();
        let mut plans = Vec::with_capacity(row.plans.len());
        for id in &row.plans {
            if let Some(plan) = self.load(id).await? {
                plans.push(plan);
            }
        }
        Ok(plans)
    }
}
