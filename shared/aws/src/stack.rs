//! One deployment's state as an operator sees it: every table, queue and bucket, behind the
//! domain's ports. For the operator's tools — the CLI, the local runtime's demo, the
//! end-to-end tests — which look across the whole pipeline; a function is never given this,
//! only the ports it uses.

use crate::dynamo::{
    DynamoAuditTrail, DynamoCashBook, DynamoDispatch, DynamoIdempotencyStore, DynamoOutbox,
    DynamoReviewInbox, DynamoShipmentStore, DynamoStatusHistory, DynamoStoreRules,
};
use crate::reports::S3ReportShelf;
use crate::sqs::SqsQueue;
use std::collections::BTreeMap;
use std::time::Duration;

/// Where the local runtime keeps the parameters it made stack `stack` with (a JSON object,
/// name → value), since no CloudFormation remembers them: the operator's CLI reads them back
/// (the courier, the message providers, `SecretsPrefix`). Outside any `SecretsPrefix`, so no
/// function reads it. (Not a table tag: DynamoDB Local keeps no tags.)
pub fn local_parameters_secret(stack: &str) -> String {
    format!("courier-bridge-local/{stack}/parameters")
}

/// Where a stack's resources are, by the template's logical ids.
#[derive(Debug, Clone, Default)]
pub struct StackResources {
    /// Logical id ("ShipmentsTable") → table name.
    pub tables: BTreeMap<String, String>,
    /// Logical id ("TasksQueue") → queue URL.
    pub queues: BTreeMap<String, String>,
    /// Logical id ("ReportsBucket") → bucket name.
    pub buckets: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
#[error("the stack has no {0}")]
pub struct MissingResource(pub String);

impl StackResources {
    pub fn table(&self, logical_id: &str) -> Result<&str, MissingResource> {
        found(&self.tables, logical_id)
    }

    pub fn queue(&self, logical_id: &str) -> Result<&str, MissingResource> {
        found(&self.queues, logical_id)
    }

    pub fn bucket(&self, logical_id: &str) -> Result<&str, MissingResource> {
        found(&self.buckets, logical_id)
    }
}

fn found<'a>(map: &'a BTreeMap<String, String>, id: &str) -> Result<&'a str, MissingResource> {
    map.get(id)
        .map(String::as_str)
        .ok_or_else(|| MissingResource(id.to_owned()))
}

/// Every store and queue of a stack.
pub struct StackStores {
    pub resources: StackResources,
    pub shipments: DynamoShipmentStore,
    pub reviews: DynamoReviewInbox,
    /// The audit trail (the inbound table).
    pub inbound: DynamoAuditTrail,
    pub outbox: DynamoOutbox,
    pub history: DynamoStatusHistory,
    pub cash: DynamoCashBook,
    /// Each store's rules.
    pub stores: DynamoStoreRules,
    pub idempotency: DynamoIdempotencyStore,
    /// The fleet and the day plans; `None` on a stack deployed before dispatch existed.
    pub dispatch: Option<DynamoDispatch>,
    pub reports: S3ReportShelf,
    pub intake_queue: SqsQueue,
    pub tasks_queue: SqsQueue,
    pub sync_queue: SqsQueue,
    pub outbox_queue: SqsQueue,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl StackStores {
    /// The stores of the stack at `resources`. An operator's view reads the rules fresh:
    /// no cache that could show yesterday's configuration.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        resources: StackResources,
    ) -> Result<StackStores, MissingResource> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let table = |id: &str| resources.table(id).map(str::to_owned);
        let queue = |id: &str| {
            resources
                .queue(id)
                .map(|url| SqsQueue::new(sqs.clone(), url))
        };
        Ok(StackStores {
            shipments: DynamoShipmentStore::new(dynamodb.clone(), table("ShipmentsTable")?),
            reviews: DynamoReviewInbox::new(dynamodb.clone(), table("ReviewTable")?),
            inbound: DynamoAuditTrail::new(dynamodb.clone(), table("InboundTable")?),
            outbox: DynamoOutbox::new(dynamodb.clone(), table("OutboxTable")?),
            history: DynamoStatusHistory::new(dynamodb.clone(), table("ShipmentEventsTable")?),
            cash: DynamoCashBook::new(dynamodb.clone(), table("CashTable")?),
            stores: DynamoStoreRules::new(dynamodb.clone(), table("StoresTable")?, Duration::ZERO),
            idempotency: DynamoIdempotencyStore::new(dynamodb.clone(), table("IdempotencyTable")?),
            dispatch: table("DispatchTable")
                .ok()
                .map(|name| DynamoDispatch::new(dynamodb.clone(), name)),
            reports: S3ReportShelf::new(sdk, resources.bucket("ReportsBucket")?),
            intake_queue: queue("IntakeQueue")?,
            tasks_queue: queue("TasksQueue")?,
            sync_queue: queue("SyncQueue")?,
            outbox_queue: queue("OutboxQueue")?,
            sqs,
            dynamodb,
            resources,
        })
    }

    /// The domain's intake steps (admit, review, cancel) on this stack.
    pub fn intake(&self) -> domain::pipeline::Intake<'_> {
        domain::pipeline::Intake {
            shipments: &self.shipments,
            reviews: &self.reviews,
            tasks: &self.tasks_queue,
        }
    }

    /// The review desk over this stack's inbox, rules and intake.
    pub fn desk(&self) -> domain::desk::Desk<'_> {
        domain::desk::Desk::over(
            &self.reviews,
            &self.stores,
            &self.shipments,
            &self.tasks_queue,
        )
    }

    /// The day's cash run on this stack, its days local to `time_zone` (the fleet's, from
    /// [`StackStores::fleet_time_zone`]; UTC without one).
    pub fn cash_desk<'a>(&'a self, time_zone: Option<&'a str>) -> domain::cod::CashDesk<'a> {
        domain::cod::CashDesk {
            shipments: &self.shipments,
            cash: &self.cash,
            reports: &self.reports,
            time_zone,
        }
    }

    /// The fleet's time zone, if the stack has a fleet.
    pub async fn fleet_time_zone(&self) -> Result<Option<String>, domain::StorageError> {
        use domain::ports::FleetStore;
        match &self.dispatch {
            Some(dispatch) => Ok(dispatch.get().await?.map(|fleet| fleet.time_zone)),
            None => Ok(None),
        }
    }
}
