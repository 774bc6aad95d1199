//! `GET` and `POST /r/{token}`: the customer picks another of the store's delivery slots
//! (its rules' `delivery_slots`, on its clock). The choice goes through
//! [`domain::reschedule`]: before pickup the task's window changes once; after a failed
//! attempt a dispatcher arranges the next; with the driver, delivered or ended, the page
//! says why nothing changes.

use crate::{not_found_page, open_link, page, store_config, unavailable, Pages};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use domain::record::ShipmentRecord;
use domain::reschedule::{redelivery_item_id, Rescheduled};
use domain::rules::{Slot, StoreConfig};
use domain::ShipmentStatus;
use links::Purpose;
use pages::{Locale, RescheduleState, RescheduleView, SlotChoice};

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Shown {
    done: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Chosen {
    slot: String,
}

pub async fn show(
    State(pages): State<Pages>,
    Path(token): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    let (record, store, config) = match open(&pages, &token).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    answer(
        &pages,
        &record,
        &store,
        &config,
        Outcome::Shown {
            done: shown.done.is_some(),
        },
        StatusCode::OK,
    )
    .await
}

pub async fn choose(
    State(pages): State<Pages>,
    Path(token): Path<String>,
    Form(chosen): Form<Chosen>,
) -> Response {
    let (record, store, config) = match open(&pages, &token).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let now = (pages.clock)();
    let zone = zone_of(&config, &record);
    let offered = offered(&config, &record, now);
    let Some(slot) = offered
        .iter()
        .copied()
        .find(|slot| chosen.slot.trim() == slot.start_ms.to_string())
    else {
        return answer(
            &pages,
            &record,
            &store,
            &config,
            Outcome::NotOffered,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    // For the dispatcher who may read it on a redelivery item: the console is English.
    let words = pages::slot_words(slot.start_ms, slot.end_ms, zone.as_deref(), Locale::En)
        .unwrap_or_default();
    let intake = domain::pipeline::Intake {
        shipments: pages.shipments.as_ref(),
        reviews: pages.reviews.as_ref(),
        tasks: pages.tasks.as_ref(),
    };
    match domain::reschedule::reschedule(
        &intake,
        pages.reviews.as_ref(),
        &record,
        slot,
        &words,
        now,
    )
    .await
    {
        // Back to the page by GET (303): a reload posts nothing again.
        Ok(Rescheduled::WindowChanged { .. } | Rescheduled::RedeliveryRequested { .. }) => {
            Redirect::to(&format!("/{}/{token}?done=1", Purpose::Reschedule.path())).into_response()
        }
        // The status moved since the page was read: it says so now.
        Ok(_) => {
            answer(
                &pages,
                &record,
                &store,
                &config,
                Outcome::Shown { done: false },
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(error) => {
            tracing::error!(%error, shipment = %record.shipment.key, "reschedule failed");
            unavailable()
        }
    }
}

/// The shipment a reschedule link names, its store's name and rules.
async fn open(
    pages: &Pages,
    token: &str,
) -> Result<(ShipmentRecord, String, std::sync::Arc<StoreConfig>), Response> {
    let key = open_link(pages, token, Purpose::Reschedule).await?;
    let record = match pages.shipments.get(&key).await {
        Ok(Some(record)) => record,
        Ok(None) => return Err(not_found_page()),
        Err(error) => {
            tracing::error!(%error, shipment = %key, "shipment unreadable");
            return Err(unavailable());
        }
    };
    let (store, config) = store_config(pages, &key).await?;
    Ok((record, store, config))
}

/// The store's time zone, else the fleet's once a plan gave the shipment a driver.
fn zone_of(config: &StoreConfig, record: &ShipmentRecord) -> Option<String> {
    config
        .time_zone
        .as_ref()
        .map(|zone| zone.as_str().to_owned())
        .or(record.dispatch.as_ref().map(|d| d.time_zone.clone()))
}

fn offered(config: &StoreConfig, record: &ShipmentRecord, now: i64) -> Vec<Slot> {
    config
        .delivery_slots
        .as_ref()
        .map(|slots| slots.offered(now, zone_of(config, record).as_deref()))
        .unwrap_or_default()
}

/// What the page answers besides the shipment as it is now.
enum Outcome {
    /// The page; `done`: after a choice that was taken.
    Shown { done: bool },
    /// The choice was not one of the slots offered.
    NotOffered,
}

/// The page for the shipment as it is now, in the store's language.
async fn answer(
    pages: &Pages,
    record: &ShipmentRecord,
    store: &str,
    config: &StoreConfig,
    outcome: Outcome,
    status: StatusCode,
) -> Response {
    let locale = config.locale();
    let order = record
        .shipment
        .order_name
        .clone()
        .unwrap_or_else(|| record.shipment.key.order_id.clone());
    let zone = zone_of(config, record);
    let slots: Vec<SlotChoice> = offered(config, record, (pages.clock)())
        .into_iter()
        .filter_map(|slot| {
            Some(SlotChoice {
                value: slot.start_ms.to_string(),
                label: pages::slot_words(slot.start_ms, slot.end_ms, zone.as_deref(), locale)?,
            })
        })
        .collect();
    let current = record.shipment.window.as_ref().and_then(|w| {
        let ms = |t: time::OffsetDateTime| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok();
        pages::slot_words(ms(w.start)?, ms(w.end)?, zone.as_deref(), locale)
    });
    let redelivery = match record.status {
        ShipmentStatus::Failed => match pages.reviews.get(&redelivery_item_id(record)).await {
            Ok(item) => item.is_some_and(|i| i.status == domain::review::OPEN),
            Err(error) => {
                tracing::error!(%error, "review item unreadable");
                return unavailable();
            }
        },
        _ => false,
    };
    use ShipmentStatus::*;
    let state = match record.status {
        PickedUp | OutForDelivery => RescheduleState::WithDriver,
        Delivered => RescheduleState::Delivered,
        Cancelled | Returned => RescheduleState::Ended,
        _ if record.cancel_requested => RescheduleState::Ended,
        Failed if redelivery => RescheduleState::Requested,
        _ if slots.is_empty() => RescheduleState::NoSlots,
        _ => RescheduleState::Choose {
            slots: &slots,
            current: current.as_deref(),
            after_failure: record.status == Failed,
            done: matches!(outcome, Outcome::Shown { done: true }),
            not_offered: matches!(outcome, Outcome::NotOffered),
        },
    };
    let html = pages::reschedule(&RescheduleView {
        store,
        order: &order,
        state,
        locale,
    });
    page(status, html)
}
