//! cod-reconcile's configuration (only the variables it uses) and the adapters it is
//! built from, once per process.

use crate::CodReconcile;
use aws::config::{self, ConfigError, Env, StartupError};
use aws::dynamo::{DynamoCashBook, DynamoDispatch, DynamoShipmentStore};
use aws::metrics::Metrics;
use aws::reports::S3ReportShelf;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Config {
    pub shipments_table: String,
    pub cash_table: String,
    pub reports_bucket: String,
    /// `DISPATCH_TABLE`: the fleet, whose time zone makes a day of cash a local working day.
    pub dispatch_table: String,
    pub metrics: Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, ConfigError> {
        let config = Config {
            shipments_table: env.required("SHIPMENTS_TABLE"),
            cash_table: env.required("CASH_TABLE"),
            reports_bucket: env.required("REPORTS_BUCKET"),
            dispatch_table: env.required("DISPATCH_TABLE"),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl CodReconcile {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<CodReconcile, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        Ok(CodReconcile {
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            cash: Arc::new(DynamoCashBook::new(dynamodb.clone(), &config.cash_table)),
            fleet: Arc::new(DynamoDispatch::new(dynamodb, &config.dispatch_table)),
            reports: Arc::new(S3ReportShelf::new(sdk, &config.reports_bucket)),
            metrics: config.metrics,
        })
    }
}
