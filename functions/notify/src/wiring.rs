//! notify's configuration (only the variables it uses) and the adapters it is built from,
//! once per process. It is the one function that links SES.

use crate::{Notify, FUNCTION};
use aws::config::{self, ConfigError, Env, PartnerAccess, StartupError};
use aws::dynamo::{DynamoOutbox, DynamoShipmentStore};
use aws::metrics::metered::{Meter, MeteredNotifiers};
use aws::metrics::Metrics;
use aws::sqs::SqsQueue;
use partners::notifiers::{ProviderChoice, Providers};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub outbox_table: String,
    pub shipments_table: String,
    pub outbox_queue_url: String,
    /// How long a sender holds a message it claimed (`IDEMPOTENCY_LEASE_SECONDS`).
    pub lease: Duration,
    /// Twilio's credentials and the request timeout.
    pub partners: PartnerAccess,
    pub providers: ProviderChoice,
    pub backoff: aws::batch::Backoff,
    pub metrics: Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, ConfigError> {
        let config = Config {
            outbox_table: env.required("OUTBOX_TABLE"),
            shipments_table: env.required("SHIPMENTS_TABLE"),
            outbox_queue_url: env.required("OUTBOX_QUEUE_URL"),
            lease: config::idempotency_lease(&mut env),
            partners: PartnerAccess::read(&mut env),
            providers: env.read_with("NOTIFY_*", ProviderChoice::default(), |lookup| {
                ProviderChoice::read(lookup)
            }),
            backoff: config::backoff(&mut env),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl Notify {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<Notify, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let secrets = config.partners.secret_store(sdk);
        let http = partners::http_client(config.partners.timeout).map_err(StartupError::http)?;
        let providers = Providers::new(config.providers, secrets, http)
            .with_ses(aws_sdk_sesv2::Client::new(sdk));
        Ok(Notify {
            outbox: Arc::new(DynamoOutbox::new(dynamodb.clone(), &config.outbox_table)),
            shipments: Arc::new(DynamoShipmentStore::new(dynamodb, &config.shipments_table)),
            notifiers: Arc::new(MeteredNotifiers {
                inner: Arc::new(providers),
                meter: Meter::new(FUNCTION, config.metrics),
            }),
            retries: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.outbox_queue_url,
            )),
            lease: config.lease,
            backoff: config.backoff,
        })
    }
}
