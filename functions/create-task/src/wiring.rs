//! create-task's configuration (only the variables it uses) and the adapters it is built
//! from, once per process.

use crate::{CreateTask, FUNCTION};
use aws::config::{self, Env, PartnerAccess, StartupError};
use aws::dynamo::{
    DynamoAuditTrail, DynamoIdempotencyStore, DynamoOutbox, DynamoReviewInbox, DynamoShipmentStore,
    DynamoStoreRules,
};
use aws::metrics::metered::{Meter, MeteredCouriers};
use aws::sqs::SqsQueue;
use domain::CourierKind;
use partners::couriers::ConfiguredCourier;
use partners::notifiers::{ProviderChoice, Providers};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub shipments_table: String,
    pub review_table: String,
    pub inbound_table: String,
    pub idempotency_table: String,
    pub outbox_table: String,
    pub stores_table: String,
    pub tasks_queue_url: String,
    pub sync_queue_url: String,
    pub outbox_queue_url: String,
    /// `COURIER_NAME`: the deployment's courier.
    pub courier: CourierKind,
    pub lease: Duration,
    pub partners: PartnerAccess,
    /// Which notification channels have a provider (a clarification request goes to the
    /// first the customer can be reached on).
    pub providers: ProviderChoice,
    /// `PAGES_URL`: where the stack's pages are; customer messages then link to the
    /// tracking page (signed). Absent: the courier's tracking link.
    pub pages_url: Option<String>,
    pub backoff: aws::batch::Backoff,
    pub metrics: aws::metrics::Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, config::ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, config::ConfigError> {
        let config = Config {
            shipments_table: env.required("SHIPMENTS_TABLE"),
            review_table: env.required("REVIEW_TABLE"),
            inbound_table: env.required("INBOUND_TABLE"),
            idempotency_table: env.required("IDEMPOTENCY_TABLE"),
            outbox_table: env.required("OUTBOX_TABLE"),
            stores_table: env.required("STORES_TABLE"),
            tasks_queue_url: env.required("TASKS_QUEUE_URL"),
            sync_queue_url: env.required("SYNC_QUEUE_URL"),
            outbox_queue_url: env.required("OUTBOX_QUEUE_URL"),
            courier: env.parsed(
                "COURIER_NAME",
                CourierKind::Sandbox,
                "a courier (sandbox, onfleet)",
            ),
            lease: config::idempotency_lease(&mut env),
            partners: PartnerAccess::read(&mut env),
            providers: env.read_with("NOTIFY_*", ProviderChoice::default(), |lookup| {
                ProviderChoice::read(lookup)
            }),
            pages_url: env.optional("PAGES_URL"),
            backoff: config::backoff(&mut env),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl CreateTask {
    /// The function with its adapters, built once per process from `sdk` (honouring
    /// `AWS_ENDPOINT_URL`) and `config`.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<CreateTask, StartupError> {
        let metrics = config.metrics.clone();
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let secrets = config.partners.secret_store(sdk);
        let links = links::customer_links(secrets.clone(), config.pages_url.clone());
        let http = partners::http_client(config.partners.timeout).map_err(StartupError::http)?;
        let tasks = Arc::new(SqsQueue::new(sqs.clone(), &config.tasks_queue_url));
        let meter = Meter::new(FUNCTION, metrics.clone());
        Ok(CreateTask {
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            reviews: Arc::new(DynamoReviewInbox::new(
                dynamodb.clone(),
                &config.review_table,
            )),
            audit: Arc::new(DynamoAuditTrail::new(
                dynamodb.clone(),
                &config.inbound_table,
            )),
            idempotency: Arc::new(DynamoIdempotencyStore::new(
                dynamodb.clone(),
                &config.idempotency_table,
            )),
            tasks: tasks.clone(),
            retries: tasks,
            sync: Arc::new(SqsQueue::new(sqs.clone(), &config.sync_queue_url)),
            rules: Arc::new(DynamoStoreRules::new(
                dynamodb.clone(),
                &config.stores_table,
                config.partners.secrets_ttl,
            )),
            notifiers: Arc::new(Providers::new(
                config.providers,
                secrets.clone(),
                http.clone(),
            )),
            outbox: Arc::new(DynamoOutbox::new(dynamodb, &config.outbox_table)),
            wake: Arc::new(SqsQueue::new(sqs, &config.outbox_queue_url)),
            links,
            couriers: Arc::new(MeteredCouriers {
                inner: Arc::new(ConfiguredCourier::new(config.courier, secrets, http)),
                meter,
            }),
            metrics,
            lease: config.lease,
            backoff: config.backoff,
        })
    }
}
