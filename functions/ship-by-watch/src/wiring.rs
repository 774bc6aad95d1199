//! ship-by-watch's configuration (only the variables it uses) and the adapters it is
//! built from, once per process.

use crate::ShipByWatch;
use aws::config::{self, ConfigError, Env, StartupError};
use aws::dynamo::{DynamoReviewInbox, DynamoShipmentStore, DynamoStoreRules};
use aws::metrics::Metrics;
use aws::sqs::{QueueDepth, SqsQueue};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub shipments_table: String,
    pub stores_table: String,
    pub review_table: String,
    /// `DLQ_URLS`: (logical id, URL) of each dead-letter queue to report.
    pub dead_letter_queues: Vec<(String, String)>,
    pub rules_ttl: Duration,
    pub metrics: Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, ConfigError> {
        let config = Config {
            shipments_table: env.required("SHIPMENTS_TABLE"),
            stores_table: env.required("STORES_TABLE"),
            review_table: env.required("REVIEW_TABLE"),
            dead_letter_queues: config::dlq_urls(&mut env),
            rules_ttl: env.seconds("SECRETS_TTL_SECONDS", 300),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl ShipByWatch {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<ShipByWatch, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        Ok(ShipByWatch {
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            rules: Arc::new(DynamoStoreRules::new(
                dynamodb.clone(),
                &config.stores_table,
                config.rules_ttl,
            )),
            reviews: Arc::new(DynamoReviewInbox::new(dynamodb, &config.review_table)),
            dead_letter_queues: config
                .dead_letter_queues
                .iter()
                .map(|(name, url)| {
                    let queue: Arc<dyn QueueDepth> = Arc::new(SqsQueue::new(sqs.clone(), url));
                    (name.clone(), queue)
                })
                .collect(),
            metrics: config.metrics,
        })
    }
}
