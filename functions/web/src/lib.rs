//! web: the customer's pages behind the stack's HTTP API, each opened by the signed link in
//! a customer message (shared/links): tracking `GET /t/{token}`, fix-my-address `GET`/`POST
//! /a/{token}` and reschedule `GET`/`POST /r/{token}`. The token names the shipment and the
//! page, so no login is needed, and any token that is not a genuine, unexpired link to that
//! page gets the same plain "not found" page.
//!
//! The pages are an axum app, served from the HTTP API's events by `http_api`.

mod fix_address;
mod reschedule;
mod wiring;

use std::sync::Arc;

use aws_lambda_events::event::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::messages::TaskRequested;
use domain::ports::{secret_json, Queue, ReviewInbox, Secrets, ShipmentStore, StoreRules};
use domain::rules::StoreConfig;
use domain::{ShipmentKey, ShipmentStatus};
use links::{LinkSecret, Purpose};

pub use wiring::Config;

/// What the pages read, each behind the domain's port.
pub struct Web {
    pub shipments: Arc<dyn ShipmentStore>,
    pub rules: Arc<dyn StoreRules>,
    /// The inbox a customer's address fix answers.
    pub reviews: Arc<dyn ReviewInbox>,
    /// Where a fixed shipment's task is asked for (create-task's queue).
    pub tasks: Arc<dyn Queue<TaskRequested>>,
    pub secrets: Arc<dyn Secrets>,
    /// Milliseconds since the epoch (a test sets the time).
    pub clock: fn() -> i64,
}

impl Web {
    /// Answers one request of the HTTP API.
    pub async fn handle(&self, event: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
        http_api::serve(self.router(), &event).await
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/t/{token}", get(track))
            .route(
                "/a/{token}",
                get(fix_address::show).post(fix_address::submit),
            )
            .route("/r/{token}", get(reschedule::show).post(reschedule::choose))
            .route("/static/pages.css", get(stylesheet))
            .fallback(not_found)
            .with_state(Pages {
                shipments: self.shipments.clone(),
                rules: self.rules.clone(),
                reviews: self.reviews.clone(),
                tasks: self.tasks.clone(),
                secrets: self.secrets.clone(),
                clock: self.clock,
            })
    }
}

/// The app's state: the same ports, cheap to clone per request.
#[derive(Clone)]
struct Pages {
    shipments: Arc<dyn ShipmentStore>,
    rules: Arc<dyn StoreRules>,
    reviews: Arc<dyn ReviewInbox>,
    tasks: Arc<dyn Queue<TaskRequested>>,
    secrets: Arc<dyn Secrets>,
    clock: fn() -> i64,
}

impl Pages {
    /// The review desk the CLI and the console use, over the same ports.
    fn desk(&self) -> domain::desk::Desk<'_> {
        domain::desk::Desk::over(
            self.reviews.as_ref(),
            self.rules.as_ref(),
            self.shipments.as_ref(),
            self.tasks.as_ref(),
        )
    }
}

/// The shipment a link to `purpose` names, or the page to answer with: "not found" for any
/// token that is not such a link, "try again" when the keys cannot be read.
async fn open_link(pages: &Pages, token: &str, purpose: Purpose) -> Result<ShipmentKey, Response> {
    let keys = open_keys(pages).await?;
    let now_s = (pages.clock)().div_euclid(1000);
    keys.verify(token, purpose, now_s).map_err(|refused| {
        // Said in the log for operators, never on the page.
        tracing::info!(%refused, page = purpose.as_str(), "link refused");
        not_found_page()
    })
}

/// The link keys, or the "try again" page when they cannot be read.
async fn open_keys(pages: &Pages) -> Result<links::LinkKeys, Response> {
    let secret: LinkSecret = match secret_json(pages.secrets.as_ref(), links::SECRET_NAME).await {
        Ok(secret) => secret,
        Err(error) => {
            tracing::error!(%error, "the link keys cannot be read");
            return Err(unavailable());
        }
    };
    secret.keys().map_err(|error| {
        tracing::error!(%error, "the link keys are not usable");
        unavailable()
    })
}

/// The store's name as its customers know it, and its rules (among them the language of
/// its pages, `locale`: English when it sets none).
async fn store_config(
    pages: &Pages,
    key: &ShipmentKey,
) -> Result<(String, Arc<StoreConfig>), Response> {
    match pages.rules.get(key.channel, &key.store).await {
        Ok(config) => Ok((
            config
                .notifications
                .sender_name
                .clone()
                .unwrap_or_else(|| key.store.clone()),
            config,
        )),
        Err(error) => {
            tracing::error!(%error, store = %key.store, "store rules unreadable");
            Err(unavailable())
        }
    }
}

async fn track(State(pages): State<Pages>, Path(token): Path<String>) -> Response {
    let key = match open_link(&pages, &token, Purpose::Track).await {
        Ok(key) => key,
        Err(refused) => return refused,
    };
    let record = match pages.shipments.get(&key).await {
        Ok(Some(record)) => record,
        Ok(None) => return not_found_page(),
        Err(error) => {
            tracing::error!(%error, shipment = %key, "shipment unreadable");
            return unavailable();
        }
    };
    let (store, config) = match store_config(&pages, &key).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    // The store's time zone, else the fleet's once a plan gave the shipment a driver.
    let time_zone = config
        .time_zone
        .as_ref()
        .map(|zone| zone.as_str())
        .or(record.dispatch.as_ref().map(|d| d.time_zone.as_str()));
    // The store offers slots and the time can still change: a link to choose another.
    let reschedule_url = match (&config.delivery_slots, record.status) {
        (
            Some(_),
            ShipmentStatus::Pending
            | ShipmentStatus::Created
            | ShipmentStatus::Assigned
            | ShipmentStatus::Failed,
        ) if !record.cancel_requested => match open_keys(&pages).await {
            Ok(keys) => Some(format!(
                "/{}/{}",
                Purpose::Reschedule.path(),
                keys.sign(
                    &key,
                    Purpose::Reschedule,
                    (pages.clock)().div_euclid(1000) + links::LINK_LIFETIME_S
                )
            )),
            Err(answer) => return answer,
        },
        _ => None,
    };
    let html = pages::track(&pages::TrackView {
        record: &record,
        store: &store,
        courier: record.courier.map(|c| c.display_name()),
        time_zone,
        reschedule_url: reschedule_url.as_deref(),
        locale: config.locale(),
    });
    page(StatusCode::OK, html)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        pages::STYLESHEET,
    )
        .into_response()
}

async fn not_found() -> Response {
    not_found_page()
}

fn not_found_page() -> Response {
    http_api::not_found()
}

fn unavailable() -> Response {
    http_api::unavailable()
}

fn page(status: StatusCode, html: String) -> Response {
    http_api::page(status, html)
}

#[cfg(test)]
mod tests;
