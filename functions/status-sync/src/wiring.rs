//! status-sync's configuration (only the variables it uses) and the adapters it is built
//! from, once per process.

use crate::{StatusSync, FUNCTION};
use aws::config::{self, ConfigError, Env, PartnerAccess, StartupError};
use aws::dynamo::{
    DynamoAuditTrail, DynamoIdempotencyStore, DynamoOutbox, DynamoReviewInbox, DynamoShipmentStore,
    DynamoStatusHistory, DynamoStoreRules,
};
use aws::metrics::metered::{Meter, MeteredStoreWriters};
use aws::metrics::Metrics;
use aws::sqs::SqsQueue;
use partners::notifiers::{ProviderChoice, Providers};
use partners::stores::ChannelWriters;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub inbound_table: String,
    pub shipments_table: String,
    pub review_table: String,
    pub history_table: String,
    pub idempotency_table: String,
    pub stores_table: String,
    pub outbox_table: String,
    pub sync_queue_url: String,
    pub outbox_queue_url: String,
    pub lease: Duration,
    /// The stores' credentials, for writing back.
    pub partners: PartnerAccess,
    /// Which notification channels have a provider.
    pub providers: ProviderChoice,
    /// `PAGES_URL`: where the stack's pages are; customer messages then link to the
    /// tracking page (signed). Absent: the courier's tracking link.
    pub pages_url: Option<String>,
    pub backoff: aws::batch::Backoff,
    pub metrics: Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, ConfigError> {
        let config = Config {
            inbound_table: env.required("INBOUND_TABLE"),
            shipments_table: env.required("SHIPMENTS_TABLE"),
            review_table: env.required("REVIEW_TABLE"),
            history_table: env.required("SHIPMENT_EVENTS_TABLE"),
            idempotency_table: env.required("IDEMPOTENCY_TABLE"),
            stores_table: env.required("STORES_TABLE"),
            outbox_table: env.required("OUTBOX_TABLE"),
            sync_queue_url: env.required("SYNC_QUEUE_URL"),
            outbox_queue_url: env.required("OUTBOX_QUEUE_URL"),
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

impl StatusSync {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<StatusSync, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let secrets = config.partners.secret_store(sdk);
        let links = links::customer_links(secrets.clone(), config.pages_url.clone());
        let http = partners::http_client(config.partners.timeout).map_err(StartupError::http)?;
        let rules = Arc::new(DynamoStoreRules::new(
            dynamodb.clone(),
            &config.stores_table,
            config.partners.secrets_ttl,
        ));
        Ok(StatusSync {
            audit: Arc::new(DynamoAuditTrail::new(
                dynamodb.clone(),
                &config.inbound_table,
            )),
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            reviews: Arc::new(DynamoReviewInbox::new(
                dynamodb.clone(),
                &config.review_table,
            )),
            history: Arc::new(DynamoStatusHistory::new(
                dynamodb.clone(),
                &config.history_table,
            )),
            idempotency: Arc::new(DynamoIdempotencyStore::new(
                dynamodb.clone(),
                &config.idempotency_table,
            )),
            writers: Arc::new(MeteredStoreWriters {
                inner: Arc::new(ChannelWriters::new(
                    secrets.clone(),
                    rules.clone(),
                    http.clone(),
                )),
                meter: Meter::new(FUNCTION, config.metrics.clone()),
            }),
            rules,
            notifiers: Arc::new(Providers::new(config.providers, secrets, http)),
            outbox: Arc::new(DynamoOutbox::new(dynamodb, &config.outbox_table)),
            wake: Arc::new(SqsQueue::new(sqs.clone(), &config.outbox_queue_url)),
            links,
            retries: Arc::new(SqsQueue::new(sqs, &config.sync_queue_url)),
            metrics: config.metrics,
            lease: config.lease,
            backoff: config.backoff,
        })
    }
}
