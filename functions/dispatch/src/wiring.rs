//! dispatch's configuration (only the variables it uses) and the adapters it is built
//! from, once per process.

use crate::{Dispatch, FUNCTION};
use aws::config::{self, Env, PartnerAccess, StartupError};
use aws::dynamo::{
    DynamoDispatch, DynamoIdempotencyStore, DynamoOutbox, DynamoReviewInbox, DynamoShipmentStore,
    DynamoStoreRules,
};
use aws::geo::routes::AmazonLocationRouter;
use aws::geo::AmazonLocationGeocoder;
use aws::metrics::metered::{Meter, MeteredCouriers};
use aws::sqs::SqsQueue;
use domain::CourierKind;
use partners::couriers::ConfiguredCourier;
use partners::notifiers::{ProviderChoice, Providers};
use std::str::FromStr;
use std::sync::Arc;

/// Which Amazon Location service, if any, places addresses without coordinates
/// (`GEOCODER`) or gives travel times by road (`ROAD_ROUTER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeocoderChoice {
    None,
    AmazonLocation,
}

impl FromStr for GeocoderChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(GeocoderChoice::None),
            "amazon-location" => Ok(GeocoderChoice::AmazonLocation),
            other => Err(format!("unknown choice {other:?}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub shipments_table: String,
    pub dispatch_table: String,
    pub review_table: String,
    pub idempotency_table: String,
    /// `REPORTS_BUCKET`: each plan's page goes under `dispatch/<day>/`.
    pub reports_bucket: String,
    /// For asking customers to clarify addresses the geocoder cannot place: the stores'
    /// rules, the outbox, the queue that wakes notify, the channels' providers.
    pub stores_table: String,
    pub outbox_table: String,
    pub outbox_queue_url: String,
    pub providers: ProviderChoice,
    /// `PAGES_URL`: where the stack's pages are; customer messages then link to the
    /// tracking page (signed). Absent: the courier's tracking link.
    pub pages_url: Option<String>,
    /// `COURIER_NAME`: the deployment's courier.
    pub courier: CourierKind,
    /// `DISPATCH_BUDGET_SECONDS`: how long the solver searches (the function's timeout
    /// must leave room to apply the plan after it).
    pub budget_seconds: u64,
    /// `GEOCODER`: `amazon-location` places addresses without coordinates; `none` leaves
    /// them waiting (`no_location`).
    pub geocoder: GeocoderChoice,
    /// `GEO_PLACES_ENDPOINT`: another Places API endpoint than Amazon Location's (the
    /// sandbox's fake, locally).
    pub geo_places_endpoint: Option<String>,
    /// `ROAD_ROUTER`: `amazon-location` gives travel times by road; `none` estimates them
    /// from the straight line.
    pub road_router: GeocoderChoice,
    /// `GEO_ROUTES_ENDPOINT`: another Routes API endpoint than Amazon Location's.
    pub geo_routes_endpoint: Option<String>,
    pub partners: PartnerAccess,
    pub metrics: aws::metrics::Metrics,
}

impl Config {
    pub fn from_env() -> Result<Config, config::ConfigError> {
        Config::read(Env::process())
    }

    pub fn read(mut env: Env) -> Result<Config, config::ConfigError> {
        let config = Config {
            shipments_table: env.required("SHIPMENTS_TABLE"),
            dispatch_table: env.required("DISPATCH_TABLE"),
            review_table: env.required("REVIEW_TABLE"),
            idempotency_table: env.required("IDEMPOTENCY_TABLE"),
            reports_bucket: env.required("REPORTS_BUCKET"),
            stores_table: env.required("STORES_TABLE"),
            outbox_table: env.required("OUTBOX_TABLE"),
            outbox_queue_url: env.required("OUTBOX_QUEUE_URL"),
            providers: env.read_with("NOTIFY_*", ProviderChoice::default(), |lookup| {
                ProviderChoice::read(lookup)
            }),
            pages_url: env.optional("PAGES_URL"),
            courier: env.parsed(
                "COURIER_NAME",
                CourierKind::Sandbox,
                "a courier (sandbox, onfleet)",
            ),
            budget_seconds: env.number("DISPATCH_BUDGET_SECONDS", 20),
            geocoder: env.parsed(
                "GEOCODER",
                GeocoderChoice::None,
                "a geocoder (none, amazon-location)",
            ),
            geo_places_endpoint: env.optional("GEO_PLACES_ENDPOINT"),
            road_router: env.parsed(
                "ROAD_ROUTER",
                GeocoderChoice::None,
                "a road router (none, amazon-location)",
            ),
            geo_routes_endpoint: env.optional("GEO_ROUTES_ENDPOINT"),
            partners: PartnerAccess::read(&mut env),
            metrics: config::metrics(&env),
        };
        env.finish()?;
        Ok(config)
    }
}

impl Dispatch {
    /// The function with its adapters, built once per process.
    pub fn new(sdk: &aws_config::SdkConfig, config: Config) -> Result<Dispatch, StartupError> {
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        let secrets = config.partners.secret_store(sdk);
        let links = links::customer_links(secrets.clone(), config.pages_url.clone());
        let http = partners::http_client(config.partners.timeout).map_err(StartupError::http)?;
        let dispatch = Arc::new(DynamoDispatch::new(
            dynamodb.clone(),
            &config.dispatch_table,
        ));
        Ok(Dispatch {
            shipments: Arc::new(DynamoShipmentStore::new(
                dynamodb.clone(),
                &config.shipments_table,
            )),
            fleet: dispatch.clone(),
            plans: dispatch,
            reviews: Arc::new(DynamoReviewInbox::new(
                dynamodb.clone(),
                &config.review_table,
            )),
            idempotency: Arc::new(DynamoIdempotencyStore::new(
                dynamodb.clone(),
                &config.idempotency_table,
            )),
            couriers: Arc::new(MeteredCouriers {
                inner: Arc::new(ConfiguredCourier::new(
                    config.courier,
                    secrets.clone(),
                    http.clone(),
                )),
                meter: Meter::new(FUNCTION, config.metrics),
            }),
            budget_seconds: config.budget_seconds,
            reports: Arc::new(aws::reports::S3ReportShelf::new(
                sdk,
                &config.reports_bucket,
            )),
            rules: Arc::new(DynamoStoreRules::new(
                dynamodb.clone(),
                &config.stores_table,
                config.partners.secrets_ttl,
            )),
            notifiers: Arc::new(Providers::new(config.providers, secrets, http)),
            outbox: Arc::new(DynamoOutbox::new(dynamodb, &config.outbox_table)),
            wake: Arc::new(SqsQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                &config.outbox_queue_url,
            )),
            links,
            geocoder: match config.geocoder {
                GeocoderChoice::None => None,
                GeocoderChoice::AmazonLocation => Some(Arc::new(AmazonLocationGeocoder::new(
                    sdk,
                    config.geo_places_endpoint.as_deref(),
                ))),
            },
            roads: match config.road_router {
                GeocoderChoice::None => None,
                GeocoderChoice::AmazonLocation => Some(Arc::new(AmazonLocationRouter::new(
                    sdk,
                    config.geo_routes_endpoint.as_deref(),
                ))),
            },
        })
    }
}
