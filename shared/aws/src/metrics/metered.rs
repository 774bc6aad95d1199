//! Partner ports that count their calls: each wraps a port of the domain and emits one
//! `IntegrationFailures` data point per call (1 for a failure, 0 for a success or for an
//! answer of the delivery domain, such as an address the courier cannot place), under the
//! function that made it and the partner that answered. Functions wire these around the
//! real clients; the domain and the clients know nothing of metrics.

use super::Metrics;
use async_trait::async_trait;
use domain::courier::{CourierError, CourierKind, CourierTask};
use domain::notify::{NotifyChannel, OutgoingMessage, Sent};
use domain::order::OrderEvent;
use domain::ports::{
    Courier, Couriers, Notifier, Notifiers, OrderSource, StoreWriter, StoreWriters,
};
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::{Channel, PartnerError, Shipment, ShipmentKey};
use std::sync::Arc;

/// Who counts: the emitting function and where its data points go.
#[derive(Clone, Debug)]
pub struct Meter {
    pub function: &'static str,
    pub metrics: Metrics,
}

impl Meter {
    pub fn new(function: &'static str, metrics: Metrics) -> Meter {
        Meter { function, metrics }
    }
}

pub struct MeteredCourier {
    inner: Arc<dyn Courier>,
    meter: Meter,
}

#[async_trait]
impl Courier for MeteredCourier {
    fn kind(&self) -> CourierKind {
        self.inner.kind()
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError> {
        let result = self.inner.create_task(reference, shipment).await;
        self.count(&result);
        result
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, CourierError> {
        let result = self.inner.find_by_reference(reference).await;
        self.count(&result);
        result
    }

    async fn update_task(
        &self,
        task_id: &str,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<(), CourierError> {
        let result = self.inner.update_task(task_id, reference, shipment).await;
        self.count(&result);
        result
    }

    async fn cancel_task(&self, task_id: &str) -> Result<(), CourierError> {
        let result = self.inner.cancel_task(task_id).await;
        self.count(&result);
        result
    }

    async fn assign_route(
        &self,
        driver: &str,
        plan: &str,
        task_ids: &[String],
    ) -> Result<(), CourierError> {
        let result = self.inner.assign_route(driver, plan, task_ids).await;
        self.count(&result);
        result
    }
}

impl MeteredCourier {
    fn count<T>(&self, result: &Result<T, CourierError>) {
        self.meter
            .metrics
            .partner_call(self.meter.function, self.inner.kind().as_str(), result);
    }
}

/// The deployment's courier, metered.
pub struct MeteredCouriers {
    pub inner: Arc<dyn Couriers>,
    pub meter: Meter,
}

#[async_trait]
impl Couriers for MeteredCouriers {
    async fn courier(&self) -> Result<Arc<dyn Courier>, CourierError> {
        Ok(Arc::new(MeteredCourier {
            inner: self.inner.courier().await?,
            meter: self.meter.clone(),
        }))
    }
}

pub struct MeteredStoreWriter {
    inner: Box<dyn StoreWriter>,
    channel: Channel,
    meter: Meter,
}

#[async_trait]
impl StoreWriter for MeteredStoreWriter {
    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        let result = self.inner.write_tracking(key, tracking).await;
        self.meter
            .metrics
            .partner_call(self.meter.function, self.channel.as_str(), &result);
        result
    }

    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        let result = self.inner.write_status(key, report).await;
        self.meter
            .metrics
            .partner_call(self.meter.function, self.channel.as_str(), &result);
        result
    }
}

/// Each store's write-back client, metered under the store's channel.
pub struct MeteredStoreWriters {
    pub inner: Arc<dyn StoreWriters>,
    pub meter: Meter,
}

#[async_trait]
impl StoreWriters for MeteredStoreWriters {
    async fn writer(&self, key: &ShipmentKey) -> Result<Box<dyn StoreWriter>, PartnerError> {
        Ok(Box::new(MeteredStoreWriter {
            inner: self.inner.writer(key).await?,
            channel: key.channel,
            meter: self.meter.clone(),
        }))
    }
}

pub struct MeteredNotifier {
    inner: Arc<dyn Notifier>,
    meter: Meter,
}

#[async_trait]
impl Notifier for MeteredNotifier {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, PartnerError> {
        let result = self.inner.send(message).await;
        self.meter
            .metrics
            .partner_call(self.meter.function, self.inner.name(), &result);
        result
    }
}

/// The message providers, metered under the provider's name.
pub struct MeteredNotifiers {
    pub inner: Arc<dyn Notifiers>,
    pub meter: Meter,
}

#[async_trait]
impl Notifiers for MeteredNotifiers {
    fn is_on(&self, channel: NotifyChannel) -> bool {
        self.inner.is_on(channel)
    }

    async fn notifier(
        &self,
        channel: NotifyChannel,
    ) -> Result<Option<Arc<dyn Notifier>>, PartnerError> {
        Ok(self.inner.notifier(channel).await?.map(|inner| {
            Arc::new(MeteredNotifier {
                inner,
                meter: self.meter.clone(),
            }) as Arc<dyn Notifier>
        }))
    }
}

/// A marketplace's order lookup, metered under the channel.
pub struct MeteredOrderSource {
    pub inner: Arc<dyn OrderSource>,
    pub meter: Meter,
}

#[async_trait]
impl OrderSource for MeteredOrderSource {
    async fn order_event(
        &self,
        channel: Channel,
        store: &str,
        order_id: &str,
    ) -> Result<OrderEvent, PartnerError> {
        let result = self.inner.order_event(channel, store, order_id).await;
        self.meter
            .metrics
            .partner_call(self.meter.function, channel.as_str(), &result);
        result
    }
}
