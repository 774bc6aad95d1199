//! cod-reconcile: runs daily on the EventBridge schedule. For now it totals the cash on
//! delivery that open shipments expect, per currency, and logs it; reconciling expected
//! against collected and handed-over cash is issue 5.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::Serialize;
use shared::aws::AwsError;
use shared::services::Services;
use std::collections::BTreeMap;

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct CodSummary {
    /// Currency code → (shipments, expected amount in minor units). Never summed across
    /// currencies.
    pub expected: BTreeMap<String, (u64, i64)>,
}

pub async fn handle(services: &Services, _event: EventBridgeEvent) -> Result<CodSummary, AwsError> {
    let mut expected: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for record in services.shipments.all().await? {
        // A cancelled order's cash will not be collected.
        if record.cancel_requested || record.status == shared::domain::ShipmentStatus::Cancelled {
            continue;
        }
        if let Some(amount) = record.shipment.payment.cod_amount() {
            let entry = expected
                .entry(amount.currency.code().to_owned())
                .or_default();
            entry.0 += 1;
            entry.1 += amount.minor;
        }
    }
    tracing::info!(?expected, "cash on delivery expected from open shipments");
    Ok(CodSummary { expected })
}
