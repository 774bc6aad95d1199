//! marketplace-intake's configuration (only the variables it uses) and the adapters it is
//! built from, once per process.

use crate::MarketplaceIntake;
use aws::config::{self, ConfigError, Env, StartupError};
use aws::dynamo::DynamoAuditTrail;
use aws::metrics::Metrics;
use aws::sqs::SqsQueue;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Config {
    pub inbound_table: String,
    pub intake_queue_url: String,
    /// Where Amazon delivers its SP-API notifications (this function's event source).
    pub amazon_notifications_queue_url: String,
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
            intake_queue_url: env.required("INTAKE_QUEUE_URL"),
            amazon_notifications_queue_url: env.required("AMAZON_NOTIFICATIONS_QUEUE_URL"),
            backoff: config::backoff(&mut env),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl MarketplaceIntake {
    /// The function with its adapters, built once per process.
    pub fn new(
        sdk: &aws_config::SdkConfig,
        config: Config,
    ) -> Result<MarketplaceIntake, StartupError> {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        Ok(MarketplaceIntake {
            audit: Arc::new(DynamoAuditTrail::new(
                aws_sdk_dynamodb::Client::new(sdk),
                &config.inbound_table,
            )),
            intake: Arc::new(SqsQueue::new(sqs.clone(), &config.intake_queue_url)),
            retries: Arc::new(SqsQueue::new(sqs, &config.amazon_notifications_queue_url)),
            metrics: config.metrics,
            backoff: config.backoff,
        })
    }
}
