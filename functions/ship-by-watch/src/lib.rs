//! ship-by-watch: every 15 minutes, finds marketplace shipments whose latest ship date is
//! near (the store's `ship_by_alert_hours`, default 24) or past and that the marketplace
//! has not yet been told are shipped, and raises an alert: a `ship_by_at_risk` review item
//! per shipment (one, however often it runs) and an error-level log line for alarms.
//! Missing the date costs the seller: Amazon counts late shipments against the account.
//!
//! Each run also reports how many messages wait in every dead-letter queue (`DLQ_URLS`) as
//! the `DlqDepth` metric, one data point per queue every 15 minutes, for the dashboard.
//! (The alarms watch SQS's own metric, which needs no function to run.)

mod wiring;

pub use wiring::Config;

use aws::metrics::Metrics;
use aws::sqs::QueueDepth;
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use domain::ports::{ReviewInbox, ShipmentStore, StoreRules};
use domain::record::ShipmentRecord;
use domain::review::OPEN;
use domain::{ReviewItem, ReviewReason, ShipmentStatus, StorageError};
use serde::Serialize;
use std::sync::Arc;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

/// What ship-by-watch reads and writes, each behind the domain's port.
pub struct ShipByWatch {
    pub shipments: Arc<dyn ShipmentStore>,
    pub rules: Arc<dyn StoreRules>,
    pub reviews: Arc<dyn ReviewInbox>,
    /// The dead-letter queues whose depth it reports, by logical id ("TasksDLQ").
    pub dead_letter_queues: Vec<(String, Arc<dyn QueueDepth>)>,
    pub metrics: Metrics,
}

#[derive(Debug, Serialize, PartialEq, Eq, Default)]
pub struct ShipByReport {
    /// Shipments with a ship-by date still to be confirmed.
    pub watched: u32,
    /// Of those, inside the alert window or late.
    pub at_risk: Vec<String>,
    /// Alerts opened now (the rest were open already, or dismissed).
    pub newly_alerted: u32,
    /// At risk, but a dispatcher dismissed the alert for this very date: not raised again.
    pub dismissed: u32,
    /// Messages waiting in each dead-letter queue (logical id → depth); a queue that could
    /// not be read is left out.
    pub dlq_depths: Vec<(String, u64)>,
}

impl ShipByWatch {
    pub async fn handle(&self, _event: EventBridgeEvent) -> Result<ShipByReport, StorageError> {
        let mut report = self.check(OffsetDateTime::now_utc()).await?;
        report.dlq_depths = self.dlq_depths().await;
        Ok(report)
    }

    /// Reads and reports each DLQ's depth. A queue that cannot be read is logged and skipped:
    /// the ship-by alerts above matter more than one missing data point.
    pub async fn dlq_depths(&self) -> Vec<(String, u64)> {
        let mut depths = Vec::new();
        for (name, queue) in &self.dead_letter_queues {
            match queue.approximate_depth().await {
                Ok(depth) => {
                    self.metrics.dlq_depth(name, depth);
                    if depth > 0 {
                        tracing::warn!(queue = %name, depth, "dead-letter queue is not empty");
                    }
                    depths.push((name.clone(), depth));
                }
                Err(e) => tracing::warn!(queue = %name, error = %e, "could not read a DLQ's depth"),
            }
        }
        depths
    }

    /// The watch as of `now` (a parameter so tests need no clock tricks).
    pub async fn check(&self, now: OffsetDateTime) -> Result<ShipByReport, StorageError> {
        let mut report = ShipByReport::default();
        for record in self.shipments.all().await? {
            let Some(ship_by) = pending_ship_by(&record) else {
                continue;
            };
            report.watched += 1;
            let key = &record.shipment.key;
            let config = self.rules.get(key.channel, &key.store).await?;
            let window = Duration::hours(i64::from(config.ship_by_alert_hours()));
            if now < ship_by - window {
                continue;
            }
            let ship_by_text = ship_by.format(&Rfc3339).unwrap_or_default();
            let mut item = ReviewItem::new(
                &format!("ship-by:{key}"),
                "alert",
                vec![ReviewReason::ShipByAtRisk {
                    ship_by: ship_by_text.clone(),
                }],
            );
            item.order_key = Some(key.order_key());
            item.shipment_key = Some(key.to_string());
            report.at_risk.push(key.to_string());
            if self.dismissed_before(&item).await? {
                report.dismissed += 1;
                tracing::warn!(shipment = %key, ship_by = %ship_by_text, late = now > ship_by, "latest ship date at risk; the alert was dismissed");
                continue;
            }
            if self.reviews.open(&item).await? {
                report.newly_alerted += 1;
            }
            tracing::error!(shipment = %key, ship_by = %ship_by_text, late = now > ship_by, "latest ship date at risk");
        }
        Ok(report)
    }
}

impl ShipByWatch {
    /// Whether a dispatcher closed this alert for the same ship-by date: reopening it every
    /// 15 minutes would undo their dismissal. A new date (the marketplace moved it) is a new
    /// alert.
    async fn dismissed_before(&self, alert: &ReviewItem) -> Result<bool, StorageError> {
        Ok(self
            .reviews
            .get(&alert.id)
            .await?
            .is_some_and(|existing| existing.status != OPEN && existing.reasons == alert.reasons))
    }
}

/// The ship-by date of a shipment the marketplace still waits to hear about.
fn pending_ship_by(record: &ShipmentRecord) -> Option<OffsetDateTime> {
    let done = record.tracking_written_back.is_some()
        || record.cancel_requested
        || matches!(
            record.status,
            ShipmentStatus::Cancelled | ShipmentStatus::Returned
        );
    if done {
        None
    } else {
        record.shipment.ship_by
    }
}

#[cfg(test)]
mod tests;
