//! Everything a function talks to, built once in `main` (or once per stack by the local
//! runtime) and passed by reference to the handler. No client is built per event.

use crate::aws::cash::CashStore;
use crate::aws::history::HistoryStore;
use crate::aws::idempotency::DynamoIdempotencyStore;
use crate::aws::inbound::InboundStore;
use crate::aws::outbox::OutboxStore;
use crate::aws::queue::Queue;
use crate::aws::reports::ReportStore;
use crate::aws::reviews::ReviewStore;
use crate::aws::secrets::SecretStore;
use crate::aws::shipments::ShipmentStore;
use crate::aws::stores::StoreConfigs;
use crate::batch::Backoff;
use crate::config::Config;

pub struct Services {
    pub config: Config,
    pub inbound: InboundStore,
    pub shipments: ShipmentStore,
    pub idempotency: DynamoIdempotencyStore,
    pub reviews: ReviewStore,
    pub stores: StoreConfigs,
    pub intake_queue: Queue,
    pub tasks_queue: Queue,
    pub sync_queue: Queue,
    /// Wakes the notify function; the messages themselves are in [`Services::outbox`].
    pub outbox_queue: Queue,
    pub outbox: OutboxStore,
    pub history: HistoryStore,
    /// Hand-overs and cash-out tasks (cod-reconcile and the CLI).
    pub cash: CashStore,
    /// The COD reports bucket.
    pub reports: ReportStore,
    /// Amazon's notifications queue (marketplace-intake only).
    pub amazon_notifications: Option<Queue>,
    pub secrets: SecretStore,
    /// Amazon SES, for customer e-mail (notify only).
    pub ses: aws_sdk_sesv2::Client,
    /// One pooled HTTP client (rustls) for every partner.
    pub http: reqwest::Client,
    /// CloudWatch metrics (EMF on stdout, or the capture file).
    pub metrics: crate::metrics::Metrics,
    /// The dead-letter queues ship-by-watch reports on, by logical id (ship-by-watch only).
    pub dead_letter_queues: Vec<(String, Queue)>,
}

impl Services {
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<Services, reqwest::Error> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let secrets = aws_sdk_secretsmanager::Client::new(sdk);
        let http = reqwest::Client::builder()
            .timeout(config.partner_timeout)
            .connect_timeout(std::time::Duration::from_secs(3))
            .user_agent(concat!("courier-bridge/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Services {
            inbound: InboundStore::new(dynamodb.clone(), &config.inbound_table),
            shipments: ShipmentStore::new(dynamodb.clone(), &config.shipments_table),
            idempotency: DynamoIdempotencyStore::new(dynamodb.clone(), &config.idempotency_table),
            reviews: ReviewStore::new(dynamodb.clone(), &config.review_table),
            outbox: OutboxStore::new(dynamodb.clone(), &config.outbox_table),
            history: HistoryStore::new(dynamodb.clone(), &config.history_table),
            cash: CashStore::new(dynamodb.clone(), &config.cash_table),
            reports: ReportStore::new(sdk, &config.reports_bucket),
            stores: StoreConfigs::new(dynamodb, &config.stores_table, config.secrets_ttl),
            intake_queue: Queue::new(sqs.clone(), &config.intake_queue_url),
            tasks_queue: Queue::new(sqs.clone(), &config.tasks_queue_url),
            sync_queue: Queue::new(sqs.clone(), &config.sync_queue_url),
            outbox_queue: Queue::new(sqs.clone(), &config.outbox_queue_url),
            amazon_notifications: config
                .amazon_notifications_queue_url
                .as_ref()
                .map(|url| Queue::new(sqs.clone(), url)),
            dead_letter_queues: config
                .dlq_urls
                .iter()
                .map(|(name, url)| (name.clone(), Queue::new(sqs.clone(), url)))
                .collect(),
            secrets: SecretStore::new(secrets, &config.secrets_prefix, config.secrets_ttl),
            ses: aws_sdk_sesv2::Client::new(sdk),
            http,
            metrics: crate::metrics::Metrics::from_capture_file(
                config.metrics_capture_file.as_deref(),
            ),
            config,
        })
    }

    pub fn backoff(&self) -> Backoff {
        Backoff {
            base: self.config.retry_base,
            max: self.config.retry_max,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

impl Services {
    /// What every function's `main` does first: configuration from the environment, the AWS
    /// SDK (honouring `AWS_ENDPOINT_URL`), and the clients.
    pub async fn from_env() -> Result<Services, StartupError> {
        let config = Config::from_env()?;
        let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Ok(Services::new(&sdk, config)?)
    }
}
