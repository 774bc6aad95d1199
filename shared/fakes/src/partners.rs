//! Fakes of the partner ports. Each keeps what a real partner keeps (the courier's tasks by
//! reference, the store's writes, the messages sent) and can be told to fail before it acts
//! ([`Faults`]: the request was not taken) or after (`lose_answers`: it acted and the
//! answer was lost, as after a timeout).

use crate::{lock, Faults};
use async_trait::async_trait;
use domain::courier::{CourierError, CourierKind, CourierTask};
use domain::notify::{NotifyChannel, OutgoingMessage, Sent};
use domain::order::OrderEvent;
use domain::ports::{
    Courier, Couriers, Notifier, Notifiers, OrderSource, StoreWriter, StoreWriters,
};
use domain::write_back::{StatusReport, StatusWriteBack, Tracking, WriteBack};
use domain::{Channel, PartnerError, Shipment, ShipmentKey, ShipmentStatus};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// A courier's task as the fake courier keeps it.
#[derive(Debug, Clone)]
pub struct FakeTask {
    pub task: CourierTask,
    pub reference: String,
    pub shipment: Shipment,
    pub updates: u32,
    pub cancelled: bool,
}

/// A courier: tasks by reference, each created once per call.
#[derive(Default)]
pub struct FakeCourier {
    tasks: Mutex<Vec<FakeTask>>,
    picked_up: Mutex<HashSet<String>>,
    /// Fail before acting: the request was not taken.
    pub faults: Faults<CourierError>,
    /// Act, then fail: the work is done and the answer lost.
    pub lose_answers: Faults<CourierError>,
    calls: Mutex<HashMap<&'static str, u32>>,
    /// Each driver's tasks in order, as the last route call left them.
    routes: Mutex<BTreeMap<String, Vec<String>>>,
}

impl FakeCourier {
    /// Each driver's ordered tasks.
    pub fn routes(&self) -> BTreeMap<String, Vec<String>> {
        lock(&self.routes).clone()
    }

    /// Every task ever created, in order.
    pub fn tasks(&self) -> Vec<FakeTask> {
        lock(&self.tasks).clone()
    }

    /// How many times an operation was called (whatever it answered).
    pub fn calls(&self, operation: &'static str) -> u32 {
        lock(&self.calls).get(operation).copied().unwrap_or(0)
    }

    /// The driver has the parcel: changes are too late from now on.
    pub fn pick_up(&self, task_id: &str) {
        lock(&self.picked_up).insert(task_id.to_owned());
    }

    fn called(&self, operation: &'static str) -> Result<(), CourierError> {
        *lock(&self.calls).entry(operation).or_default() += 1;
        self.faults.take(operation).map_or(Ok(()), Err)
    }

    fn answer<T>(&self, operation: &'static str, value: T) -> Result<T, CourierError> {
        self.lose_answers.take(operation).map_or(Ok(value), Err)
    }

    fn too_late(&self, task_id: &str) -> Result<(), CourierError> {
        if lock(&self.picked_up).contains(task_id) {
            return Err(CourierError::TooLate {
                status: "picked_up".into(),
            });
        }
        Ok(())
    }
}

#[async_trait]
impl Courier for FakeCourier {
    fn kind(&self) -> CourierKind {
        CourierKind::Sandbox
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &Shipment,
    ) -> Result<CourierTask, CourierError> {
        self.called("create_task")?;
        let task = {
            let mut tasks = lock(&self.tasks);
            let n = tasks.len() + 1;
            let task = CourierTask {
                task_id: format!("tsk_{n}"),
                tracking_number: format!("TRK{n:04}"),
                tracking_url: Some(format!("https://track.example/TRK{n:04}")),
            };
            tasks.push(FakeTask {
                task: task.clone(),
                reference: reference.to_owned(),
                shipment: shipment.clone(),
                updates: 0,
                cancelled: false,
            });
            task
        };
        self.answer("create_task", task)
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, CourierError> {
        self.called("find_by_reference")?;
        let found = lock(&self.tasks)
            .iter()
            .find(|t| t.reference == reference)
            .map(|t| t.task.clone());
        self.answer("find_by_reference", found)
    }

    async fn update_task(
        &self,
        task_id: &str,
        _reference: &str,
        shipment: &Shipment,
    ) -> Result<(), CourierError> {
        self.called("update_task")?;
        self.too_late(task_id)?;
        let mut tasks = lock(&self.tasks);
        let task = tasks
            .iter_mut()
            .find(|t| t.task.task_id == task_id)
            .ok_or_else(|| PartnerError::rejected("sandbox", "404", "no such task"))?;
        task.shipment = shipment.clone();
        task.updates += 1;
        drop(tasks);
        self.answer("update_task", ())
    }

    async fn cancel_task(&self, task_id: &str) -> Result<(), CourierError> {
        self.called("cancel_task")?;
        self.too_late(task_id)?;
        if let Some(task) = lock(&self.tasks)
            .iter_mut()
            .find(|t| t.task.task_id == task_id)
        {
            task.cancelled = true;
        }
        self.answer("cancel_task", ())
    }

    async fn assign_route(
        &self,
        driver: &str,
        _plan: &str,
        task_ids: &[String],
    ) -> Result<(), CourierError> {
        self.called("assign_route")?;
        {
            let picked_up = lock(&self.picked_up);
            let mut routes = lock(&self.routes);
            // As the port says: a task is on one driver's list only; the driver's started
            // tasks stay first, then the route, then what they had and it did not list.
            let previous = routes.remove(driver).unwrap_or_default();
            for tasks in routes.values_mut() {
                tasks.retain(|t| !task_ids.contains(t));
            }
            let mut list: Vec<String> = previous
                .iter()
                .filter(|t| picked_up.contains(*t))
                .cloned()
                .collect();
            list.extend(
                task_ids
                    .iter()
                    .filter(|t| !list.contains(t))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            list.extend(
                previous
                    .into_iter()
                    .filter(|t| !list.contains(t))
                    .collect::<Vec<_>>(),
            );
            routes.insert(driver.to_owned(), list);
        }
        self.answer("assign_route", ())
    }
}

/// The deployment's courier.
pub struct FakeCouriers {
    courier: Arc<FakeCourier>,
    /// Failures of reaching the courier at all (its credentials).
    pub faults: Faults<CourierError>,
}

impl FakeCouriers {
    pub fn new(courier: Arc<FakeCourier>) -> FakeCouriers {
        FakeCouriers {
            courier,
            faults: Faults::default(),
        }
    }
}

impl Default for FakeCouriers {
    fn default() -> Self {
        FakeCouriers::new(Arc::new(FakeCourier::default()))
    }
}

#[async_trait]
impl Couriers for FakeCouriers {
    async fn courier(&self) -> Result<Arc<dyn Courier>, CourierError> {
        if let Some(e) = self.faults.take("courier") {
            return Err(e);
        }
        Ok(self.courier.clone())
    }
}

/// One write the fake store received.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreWrite {
    Tracking(ShipmentKey, Tracking),
    Status(ShipmentKey, ShipmentStatus),
}

/// A store: what was written back, looked at before writing again.
#[derive(Default)]
pub struct FakeStoreWriter {
    writes: Mutex<Vec<StoreWrite>>,
    pub faults: Faults<PartnerError>,
    pub lose_answers: Faults<PartnerError>,
}

impl FakeStoreWriter {
    pub fn writes(&self) -> Vec<StoreWrite> {
        lock(&self.writes).clone()
    }
}

#[async_trait]
impl StoreWriter for FakeStoreWriter {
    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        if let Some(e) = self.faults.take("write_tracking") {
            return Err(e);
        }
        let write = StoreWrite::Tracking(key.clone(), tracking.clone());
        let reference = format!("fulfillment:{key}");
        {
            let mut writes = lock(&self.writes);
            if writes.contains(&write) {
                return Ok(WriteBack::AlreadyThere { reference });
            }
            writes.push(write);
        }
        self.lose_answers
            .take("write_tracking")
            .map_or(Ok(WriteBack::Written { reference }), Err)
    }

    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        if let Some(e) = self.faults.take("write_status") {
            return Err(e);
        }
        if !report.is_shown() {
            return Ok(StatusWriteBack::NotShown);
        }
        let write = StoreWrite::Status(key.clone(), report.status);
        let reference = format!("event:{key}:{}", report.status);
        {
            let mut writes = lock(&self.writes);
            if writes.contains(&write) {
                return Ok(StatusWriteBack::AlreadyThere { reference });
            }
            writes.push(write);
        }
        self.lose_answers
            .take("write_status")
            .map_or(Ok(StatusWriteBack::Written { reference }), Err)
    }
}

/// One store for every channel.
#[derive(Default)]
pub struct FakeStoreWriters {
    pub store: Arc<FakeStoreWriter>,
    pub faults: Faults<PartnerError>,
}

struct SharedWriter(Arc<FakeStoreWriter>);

#[async_trait]
impl StoreWriter for SharedWriter {
    async fn write_tracking(
        &self,
        key: &ShipmentKey,
        tracking: &Tracking,
    ) -> Result<WriteBack, PartnerError> {
        self.0.write_tracking(key, tracking).await
    }

    async fn write_status(
        &self,
        key: &ShipmentKey,
        report: &StatusReport,
    ) -> Result<StatusWriteBack, PartnerError> {
        self.0.write_status(key, report).await
    }
}

#[async_trait]
impl StoreWriters for FakeStoreWriters {
    async fn writer(&self, _key: &ShipmentKey) -> Result<Box<dyn StoreWriter>, PartnerError> {
        if let Some(e) = self.faults.take("writer") {
            return Err(e);
        }
        Ok(Box::new(SharedWriter(self.store.clone())))
    }
}

/// A message provider: what it accepted, in order.
#[derive(Default)]
pub struct FakeNotifier {
    sent: Mutex<Vec<OutgoingMessage>>,
    pub faults: Faults<PartnerError>,
    pub lose_answers: Faults<PartnerError>,
}

impl FakeNotifier {
    pub fn sent(&self) -> Vec<OutgoingMessage> {
        lock(&self.sent).clone()
    }
}

#[async_trait]
impl Notifier for FakeNotifier {
    fn name(&self) -> &'static str {
        "fake"
    }

    async fn send(&self, message: &OutgoingMessage) -> Result<Sent, PartnerError> {
        if let Some(e) = self.faults.take("send") {
            return Err(e);
        }
        let n = {
            let mut sent = lock(&self.sent);
            sent.push(message.clone());
            sent.len()
        };
        self.lose_answers.take("send").map_or(
            Ok(Sent {
                provider: "fake".into(),
                provider_id: format!("msg_{n}"),
            }),
            Err,
        )
    }
}

/// Providers per channel: one fake provider, every channel on unless switched off.
#[derive(Default)]
pub struct FakeNotifiers {
    pub provider: Arc<FakeNotifier>,
    off: Mutex<HashSet<NotifyChannel>>,
}

impl FakeNotifiers {
    pub fn switch_off(&self, channel: NotifyChannel) {
        lock(&self.off).insert(channel);
    }
}

#[async_trait]
impl Notifiers for FakeNotifiers {
    fn is_on(&self, channel: NotifyChannel) -> bool {
        !lock(&self.off).contains(&channel)
    }

    async fn notifier(
        &self,
        channel: NotifyChannel,
    ) -> Result<Option<Arc<dyn Notifier>>, PartnerError> {
        Ok(self
            .is_on(channel)
            .then(|| self.provider.clone() as Arc<dyn Notifier>))
    }
}

/// A marketplace's orders, by store and order id.
#[derive(Default)]
pub struct FakeOrderSource {
    orders: Mutex<BTreeMap<(String, String), OrderEvent>>,
    pub faults: Faults<PartnerError>,
}

impl FakeOrderSource {
    pub fn put(&self, store: &str, order_id: &str, event: OrderEvent) {
        lock(&self.orders).insert((store.to_owned(), order_id.to_owned()), event);
    }
}

#[async_trait]
impl OrderSource for FakeOrderSource {
    async fn order_event(
        &self,
        _channel: Channel,
        store: &str,
        order_id: &str,
    ) -> Result<OrderEvent, PartnerError> {
        if let Some(e) = self.faults.take("order_event") {
            return Err(e);
        }
        lock(&self.orders)
            .get(&(store.to_owned(), order_id.to_owned()))
            .cloned()
            .ok_or_else(|| PartnerError::rejected("amazon", "404", format!("no order {order_id}")))
    }
}

/// A geocoder with set answers per street line; others are placed at `default`.
pub struct FakeGeocoder {
    default: domain::dispatch::GeoPoint,
    answers: Mutex<HashMap<String, domain::ports::Placement>>,
    pub faults: Faults<PartnerError>,
    calls: Mutex<u32>,
}

impl FakeGeocoder {
    pub fn placing_at(default: domain::dispatch::GeoPoint) -> FakeGeocoder {
        FakeGeocoder {
            default,
            answers: Mutex::new(HashMap::new()),
            faults: Faults::default(),
            calls: Mutex::new(0),
        }
    }

    /// The answer for addresses whose street line is `street_line`.
    pub fn answer(&self, street_line: &str, placement: domain::ports::Placement) {
        lock(&self.answers).insert(street_line.to_owned(), placement);
    }

    pub fn calls(&self) -> u32 {
        *lock(&self.calls)
    }
}

#[async_trait]
impl domain::ports::Geocoder for FakeGeocoder {
    async fn geocode(
        &self,
        address: &domain::Address,
    ) -> Result<domain::ports::Placement, PartnerError> {
        *lock(&self.calls) += 1;
        if let Some(e) = self.faults.take("geocode") {
            return Err(e);
        }
        Ok(lock(&self.answers)
            .get(&address.street_line())
            .cloned()
            .unwrap_or(domain::ports::Placement::Placed(self.default)))
    }
}
