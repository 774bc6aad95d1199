//! normalize's configuration (only the variables it uses) and the adapters it is built
//! from, once per process.

use crate::{Normalize, FUNCTION};
use aws::config::{self, ConfigError, Env, PartnerAccess, StartupError};
use aws::dynamo::{DynamoAuditTrail, DynamoReviewInbox, DynamoShipmentStore, DynamoStoreRules};
use aws::metrics::metered::{Meter, MeteredOrderSource};
use aws::metrics::Metrics;
use aws::sqs::SqsQueue;
use partners::stores::amazon::AmazonOrders;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Config {
    pub inbound_table: String,
    pub shipments_table: String,
    pub review_table: String,
    pub stores_table: String,
    /// Its own queue, for the retry delays of failed records.
    pub intake_queue_url: String,
    pub tasks_queue_url: String,
    /// A marketplace's credentials, for fetching the orders its notifications name.
    pub partners: PartnerAccess,
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
            stores_table: env.required("STORES_TABLE"),
            intake_queue_url: env.required("INTAKE_QUEUE_URL"),
            tasks_queue_url: env.required("TASKS_QUEUE_URL"),
            partners: PartnerAccess::read(&mut env),
            backoff: config::backoff(&mut env),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl Normalize {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<Normalize, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let secrets = config.partners.secret_store(sdk);
        let http = partners::http_client(config.partners.timeout).map_err(StartupError::http)?;
        Ok(Normalize {
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
            tasks: Arc::new(SqsQueue::new(sqs.clone(), &config.tasks_queue_url)),
            rules: Arc::new(DynamoStoreRules::new(
                dynamodb,
                &config.stores_table,
                config.partners.secrets_ttl,
            )),
            orders: Arc::new(MeteredOrderSource {
                inner: Arc::new(AmazonOrders::new(secrets, http)),
                meter: Meter::new(FUNCTION, config.metrics),
            }),
            retries: Arc::new(SqsQueue::new(sqs, &config.intake_queue_url)),
            backoff: config.backoff,
        })
    }
}
