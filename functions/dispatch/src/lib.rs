//! dispatch: plans the day's routes. At the fleet's same-day cut-off (an EventBridge
//! schedule), or when a dispatcher asks (`courier-bridge dispatch plan`, or an invoke with
//! `{"day": "2026-12-07"}`), it takes the shipments whose task waits for a driver, plans
//! them over the fleet with `vrp-core`, gives each driver their route at the courier once,
//! and opens a review item for every shipment no driver can take
//! ([`dispatch::run`]). A deployment without a fleet has nothing to plan: the scheduled run
//! says so and does nothing.

mod wiring;

pub use wiring::Config;

use dispatch::{DispatchError, Ports, Ran, Request};
use domain::messages::OutboxQueued;
use domain::notify::Composer;
use domain::ports::{
    Couriers, FleetStore, Geocoder, IdempotencyStore, Notifiers, Outbox, PlanStore, Queue,
    ReportShelf, ReviewInbox, ShipmentStore, StoreRules,
};
use routing::Budget;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const FUNCTION: &str = "dispatch";

/// What starts a run: a scheduled EventBridge event (whose fields are ignored: the day is
/// today in the fleet's time zone) or an invoke naming the day.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DispatchEvent {
    /// "2026-12-07": plan this local day.
    #[serde(default)]
    pub day: Option<String>,
    /// Who asked (a dispatcher's name); a scheduled run is "schedule".
    #[serde(default)]
    pub requested_by: Option<String>,
}

/// What a run did, as the invoke answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DispatchReport {
    /// No fleet is configured: dispatch is not in use.
    NoFleet,
    /// No driver was given anything: nothing waits, or no driver can take what waits
    /// (`waiting`, each a review item with the reason).
    NothingToPlan { day: String, waiting: usize },
    /// A scheduled run before the fleet's cut-off, or after the day's cut-off plan was
    /// made (`planned`).
    NotDue {
        day: String,
        cut_off: String,
        planned: bool,
    },
    Applied {
        plan: String,
        day: String,
        /// An earlier run's open plan, finished now.
        resumed: bool,
        routes: usize,
        stops: usize,
        unplanned: usize,
        distance_m: u64,
    },
}

/// What dispatch reads and writes, each behind the domain's port.
pub struct Dispatch {
    pub shipments: Arc<dyn ShipmentStore>,
    pub fleet: Arc<dyn FleetStore>,
    pub plans: Arc<dyn PlanStore>,
    pub reviews: Arc<dyn ReviewInbox>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub couriers: Arc<dyn Couriers>,
    pub budget_seconds: u64,
    pub geocoder: Option<Arc<dyn Geocoder>>,
    /// Travel times by road; `None`: from the straight line.
    pub roads: Option<Arc<dyn domain::ports::RoadRouter>>,
    pub reports: Arc<dyn ReportShelf>,
    pub rules: Arc<dyn StoreRules>,
    pub notifiers: Arc<dyn Notifiers>,
    pub outbox: Arc<dyn Outbox>,
    pub wake: Arc<dyn Queue<OutboxQueued>>,
    /// Signed links to the stack's tracking page for messages; `None`: the courier's.
    pub links: Option<Arc<dyn domain::ports::CustomerLinks>>,
}

impl Dispatch {
    pub async fn handle(
        &self,
        event: DispatchEvent,
        run_id: &str,
    ) -> Result<DispatchReport, DispatchError> {
        let ports = Ports {
            shipments: self.shipments.as_ref(),
            fleet: self.fleet.as_ref(),
            plans: self.plans.as_ref(),
            reviews: self.reviews.as_ref(),
            idempotency: self.idempotency.as_ref(),
            couriers: self.couriers.as_ref(),
            geocoder: self.geocoder.as_deref(),
            roads: self.roads.as_deref(),
            reports: Some(self.reports.as_ref()),
            clarify: Some(Composer {
                rules: self.rules.as_ref(),
                notifiers: self.notifiers.as_ref(),
                outbox: self.outbox.as_ref(),
                wake: self.wake.as_ref(),
                links: self.links.as_deref(),
            }),
        };
        let scheduled = event.day.is_none() && event.requested_by.is_none();
        let request = Request {
            day: event.day,
            requested_by: event.requested_by.unwrap_or_else(|| "schedule".into()),
            scheduled,
            run_id: run_id.to_owned(),
            now_ms: domain::clock::now_ms(),
            budget: Budget {
                seconds: self.budget_seconds as usize,
                generations: None,
                until_settled: true,
            },
        };
        match dispatch::run(&ports, &request).await {
            Ok(ran) => Ok(report(ran)),
            Err(DispatchError::NoFleet) if scheduled => {
                tracing::info!("no fleet is configured; nothing to plan");
                Ok(DispatchReport::NoFleet)
            }
            Err(e) => {
                tracing::error!(error = %e, "dispatch run failed");
                Err(e)
            }
        }
    }
}

fn report(ran: Ran) -> DispatchReport {
    match ran {
        Ran::NothingToPlan { day, waiting } => DispatchReport::NothingToPlan { day, waiting },
        Ran::NotDue {
            day,
            cut_off,
            planned,
        } => DispatchReport::NotDue {
            day,
            cut_off,
            planned,
        },
        Ran::Applied { plan, resumed } => {
            tracing::info!(
                plan = %plan.id,
                routes = plan.routes.len(),
                unplanned = plan.unplanned.len(),
                distance_m = plan.distance_m,
                "plan applied"
            );
            DispatchReport::Applied {
                routes: plan.routes.len(),
                stops: plan.routes.iter().map(|r| r.stops.len()).sum(),
                unplanned: plan.unplanned.len(),
                distance_m: plan.distance_m,
                plan: plan.id,
                day: plan.day,
                resumed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_event_and_an_invoke_both_read_as_events() {
        let scheduled: DispatchEvent = serde_json::from_value(serde_json::json!({
            "version": "0", "id": "e1", "detail-type": "Scheduled Event", "source": "aws.events",
            "time": "2026-12-07T09:30:00Z", "detail": {}
        }))
        .unwrap();
        assert!(scheduled.day.is_none() && scheduled.requested_by.is_none());
        let invoke: DispatchEvent =
            serde_json::from_value(serde_json::json!({"day": "2026-12-07", "requested_by": "ana"}))
                .unwrap();
        assert_eq!(invoke.day.as_deref(), Some("2026-12-07"));
    }

    #[tokio::test]
    async fn a_scheduled_run_without_a_fleet_does_nothing_and_an_asked_for_one_says_why() {
        let dispatch = Dispatch {
            shipments: Arc::new(fakes::FakeShipments::default()),
            fleet: Arc::new(fakes::FakeFleet::default()),
            plans: Arc::new(fakes::FakePlans::default()),
            reviews: Arc::new(fakes::FakeReviews::default()),
            idempotency: Arc::new(fakes::FakeIdempotency::default()),
            couriers: Arc::new(fakes::FakeCouriers::default()),
            budget_seconds: 1,
            geocoder: None,
            roads: None,
            reports: Arc::new(fakes::FakeReports::default()),
            rules: Arc::new(fakes::FakeStoreRules::default()),
            notifiers: Arc::new(fakes::FakeNotifiers::default()),
            outbox: Arc::new(fakes::FakeOutbox::default()),
            wake: Arc::new(fakes::FakeQueue::default()),
            links: None,
        };
        assert_eq!(
            dispatch
                .handle(DispatchEvent::default(), "r1")
                .await
                .unwrap(),
            DispatchReport::NoFleet
        );
        let asked = DispatchEvent {
            day: Some("2026-12-07".into()),
            requested_by: Some("ana".into()),
        };
        let err = dispatch.handle(asked, "r2").await.unwrap_err();
        assert!(matches!(err, DispatchError::NoFleet));
    }
}
