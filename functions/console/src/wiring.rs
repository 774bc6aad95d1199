//! console's configuration (only the variables it uses) and the adapters it is built from,
//! once per process.

use crate::auth::{CognitoSignIn, JwksOverHttp, Verifier};
use crate::Console;
use aws::config::{ConfigError, Env, StartupError};
use aws::dynamo::{
    DynamoAuditTrail, DynamoCashBook, DynamoDispatch, DynamoOutbox, DynamoReviewInbox,
    DynamoShipmentStore, DynamoStatusHistory, DynamoStoreRules,
};
use aws::reports::S3ReportShelf;
use aws::secrets::SecretStore;
use aws::sqs::SqsQueue;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub review_table: String,
    pub shipments_table: String,
    pub stores_table: String,
    pub inbound_table: String,
    pub history_table: String,
    pub outbox_table: String,
    pub cash_table: String,
    /// Where cod-reconcile keeps the day reports.
    pub reports_bucket: String,
    /// The fleet and the dispatch plans.
    pub dispatch_table: String,
    /// create-task's queue: a released item asks for its task there.
    pub tasks_queue_url: String,
    pub secrets_prefix: String,
    pub secrets_ttl: Duration,
    pub user_pool_id: String,
    /// The console's app client of the pool (no secret: sign-in with the password).
    pub user_pool_client_id: String,
    /// `QUEUE_URLS`: (logical id, URL) of each queue a dead letter goes back to.
    pub queues: Vec<(String, String)>,
    /// `DLQ_URLS`: (logical id, URL) of each dead-letter queue.
    pub dead_letter_queues: Vec<(String, String)>,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, ConfigError> {
        let config = Config {
            review_table: env.required("REVIEW_TABLE"),
            shipments_table: env.required("SHIPMENTS_TABLE"),
            stores_table: env.required("STORES_TABLE"),
            inbound_table: env.required("INBOUND_TABLE"),
            history_table: env.required("SHIPMENT_EVENTS_TABLE"),
            outbox_table: env.required("OUTBOX_TABLE"),
            cash_table: env.required("CASH_TABLE"),
            reports_bucket: env.required("REPORTS_BUCKET"),
            dispatch_table: env.required("DISPATCH_TABLE"),
            tasks_queue_url: env.required("TASKS_QUEUE_URL"),
            secrets_prefix: env.or("SECRETS_PREFIX", "courier-bridge/"),
            secrets_ttl: env.seconds("SECRETS_TTL_SECONDS", 300),
            user_pool_id: env.required("USER_POOL_ID"),
            user_pool_client_id: env.required("USER_POOL_CLIENT_ID"),
            queues: aws::config::named_urls(&mut env, "QUEUE_URLS"),
            dead_letter_queues: aws::config::dlq_urls(&mut env),
        };
        env.finish()?;
        Ok(config)
    }

    /// The `iss` of the pool's tokens in `region`: always Cognito's address (an emulator
    /// issues the same).
    pub fn issuer(&self, region: &str) -> String {
        format!(
            "https://cognito-idp.{region}.amazonaws.com/{}",
            self.user_pool_id
        )
    }

    /// Where the pool publishes its keys: Cognito's address, or the emulator's when the SDK
    /// is pointed at one.
    pub fn jwks_url(&self, region: &str, endpoint: Option<&str>) -> String {
        let base = endpoint
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("https://cognito-idp.{region}.amazonaws.com"));
        format!("{base}/{}/.well-known/jwks.json", self.user_pool_id)
    }
}

impl Console {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<Console, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let region = sdk
            .region()
            .map(|r| r.to_string())
            .ok_or_else(|| ConfigError::Missing("AWS_REGION".into()))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(StartupError::http)?;
        Ok(Console {
            reviews: Arc::new(DynamoReviewInbox::new(
                dynamodb.clone(),
                &config.review_table,
            )),
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            // An operator's view reads the rules fresh: no cache to show yesterday's.
            rules: Arc::new(DynamoStoreRules::new(
                dynamodb.clone(),
                &config.stores_table,
                Duration::ZERO,
            )),
            audit: Arc::new(DynamoAuditTrail::new(
                dynamodb.clone(),
                &config.inbound_table,
            )),
            history: Arc::new(DynamoStatusHistory::new(
                dynamodb.clone(),
                &config.history_table,
            )),
            outbox: Arc::new(DynamoOutbox::new(dynamodb.clone(), &config.outbox_table)),
            cash: Arc::new(DynamoCashBook::new(dynamodb.clone(), &config.cash_table)),
            plans: Arc::new(DynamoDispatch::new(dynamodb, &config.dispatch_table)),
            reports: Arc::new(S3ReportShelf::new(sdk, &config.reports_bucket)),
            tasks: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.tasks_queue_url,
            )),
            dead_letters: Arc::new(crate::dead_letters::SqsDeadLetters::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.queues,
                &config.dead_letter_queues,
            )),
            secrets: Arc::new(SecretStore::new(
                aws_sdk_secretsmanager::Client::new(sdk),
                &config.secrets_prefix,
                config.secrets_ttl,
            )),
            sign_in: Arc::new(CognitoSignIn {
                client: aws_sdk_cognitoidentityprovider::Client::new(sdk),
                client_id: config.user_pool_client_id.clone(),
            }),
            verifier: Arc::new(Verifier {
                issuer: config.issuer(&region),
                client_id: config.user_pool_client_id.clone(),
                keys: Arc::new(JwksOverHttp::new(
                    config.jwks_url(&region, cognito_endpoint(sdk).as_deref()),
                    http,
                )),
            }),
        })
    }
}

/// The endpoint the SDK's Cognito client uses, chosen as the client chooses it: one set in
/// code for every client, else `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, else
/// `AWS_ENDPOINT_URL`; none on AWS. The pool's keys are published beside it.
fn cognito_endpoint(sdk: &aws_config::SdkConfig) -> Option<String> {
    if sdk.get_origin("endpoint_url").is_client_config() {
        return sdk.endpoint_url().map(str::to_owned);
    }
    let key = aws_types::service_config::ServiceConfigKey::builder()
        .service_id("Cognito Identity Provider")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    sdk.service_config()
        .and_then(|config| config.load_config(key))
        .or_else(|| sdk.endpoint_url().map(str::to_owned))
}
