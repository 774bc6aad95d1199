//! webhook-intake's configuration (only the variables it uses) and the adapters it is
//! built from, once per process.

use crate::WebhookIntake;
use aws::config::{self, ConfigError, Env, StartupError};
use aws::dynamo::{DynamoAuditTrail, DynamoReviewInbox};
use aws::metrics::Metrics;
use aws::secrets::SecretStore;
use aws::sqs::SqsQueue;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub inbound_table: String,
    pub review_table: String,
    pub intake_queue_url: String,
    pub sync_queue_url: String,
    /// Where the stores' webhook secrets are: `{prefix}{channel}/{store}`.
    pub secrets_prefix: String,
    pub secrets_ttl: Duration,
    pub max_body_bytes: usize,
    pub metrics: Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, ConfigError> {
        let config = Config {
            inbound_table: env.required("INBOUND_TABLE"),
            review_table: env.required("REVIEW_TABLE"),
            intake_queue_url: env.required("INTAKE_QUEUE_URL"),
            sync_queue_url: env.required("SYNC_QUEUE_URL"),
            secrets_prefix: env.or("SECRETS_PREFIX", "courier-bridge/"),
            secrets_ttl: env.seconds("SECRETS_TTL_SECONDS", 300),
            max_body_bytes: env.number("MAX_WEBHOOK_BODY_BYTES", 262_144) as usize,
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl WebhookIntake {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<WebhookIntake, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        Ok(WebhookIntake {
            secrets: Arc::new(SecretStore::new(
                aws_sdk_secretsmanager::Client::new(sdk),
                &config.secrets_prefix,
                config.secrets_ttl,
            )),
            audit: Arc::new(DynamoAuditTrail::new(
                dynamodb.clone(),
                &config.inbound_table,
            )),
            reviews: Arc::new(DynamoReviewInbox::new(dynamodb, &config.review_table)),
            intake: Arc::new(SqsQueue::new(sqs.clone(), &config.intake_queue_url)),
            sync: Arc::new(SqsQueue::new(sqs, &config.sync_queue_url)),
            metrics: config.metrics,
            max_body_bytes: config.max_body_bytes,
        })
    }
}
