//! web's configuration (only the variables it uses) and the adapters it is built from,
//! once per process.

use crate::Web;
use aws::config::{ConfigError, Env, StartupError};
use aws::dynamo::{DynamoReviewInbox, DynamoShipmentStore, DynamoStoreRules};
use aws::secrets::SecretStore;
use aws::sqs::SqsQueue;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub shipments_table: String,
    pub stores_table: String,
    pub review_table: String,
    /// create-task's queue: a customer's fixed address asks for the task there.
    pub tasks_queue_url: String,
    /// Where the link keys are: `{prefix}links`.
    pub secrets_prefix: String,
    pub secrets_ttl: Duration,
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
            tasks_queue_url: env.required("TASKS_QUEUE_URL"),
            secrets_prefix: env.or("SECRETS_PREFIX", "courier-bridge/"),
            secrets_ttl: env.seconds("SECRETS_TTL_SECONDS", 300),
        };
        env.finish()?;
        Ok(config)
    }
}

impl Web {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<Web, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        Ok(Web {
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            rules: Arc::new(DynamoStoreRules::new(
                dynamodb.clone(),
                &config.stores_table,
                config.secrets_ttl,
            )),
            reviews: Arc::new(DynamoReviewInbox::new(dynamodb, &config.review_table)),
            tasks: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.tasks_queue_url,
            )),
            secrets: Arc::new(SecretStore::new(
                aws_sdk_secretsmanager::Client::new(sdk),
                &config.secrets_prefix,
                config.secrets_ttl,
            )),
            clock: domain::clock::now_ms,
        })
    }
}
