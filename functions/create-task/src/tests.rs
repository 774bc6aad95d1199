//! create-task's handler against in-memory fakes of its ports: exactly one task per
//! shipment whatever arrives twice, fails or dies midway; refusals become review items.

use super::*;
use aws::metrics::CaptureSink;
use domain::audit::{InboundRecord, InboundState};
use domain::courier::CourierTask;
use domain::idempotency::Claim;
use domain::messages::TaskAction;
use domain::notify::Template;
use domain::ports::Courier as _;
use domain::{PartnerError, ShipmentStatus};
use fakes::sample::{self, failed, sqs_batch};
use fakes::World;

const INBOUND: &str = "shopify:acme:w1";

struct Setup {
    world: World,
    metrics: Arc<CaptureSink>,
    step: CreateTask,
}

fn setup() -> Setup {
    let world = World::new();
    let metrics = Arc::new(CaptureSink::default());
    let step = CreateTask {
        shipments: world.shipments.clone(),
        reviews: world.reviews.clone(),
        audit: world.audit.clone(),
        idempotency: world.idempotency.clone(),
        tasks: world.tasks_queue.clone(),
        retries: world.retries.clone(),
        sync: world.sync_queue.clone(),
        rules: world.rules.clone(),
        notifiers: world.notifiers.clone(),
        outbox: world.outbox.clone(),
        wake: world.outbox_queue.clone(),
        links: None,
        couriers: world.couriers.clone(),
        metrics: Metrics::with_sink(metrics.clone()),
        lease: Duration::from_secs(30),
        backoff: Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(60),
        },
    };
    world.audit.insert(stored_payload(), 0);
    Setup {
        world,
        metrics,
        step,
    }
}

fn stored_payload() -> InboundRecord {
    InboundRecord {
        id: INBOUND.into(),
        channel: "shopify".into(),
        store: "acme".into(),
        topic: "orders/paid".into(),
        webhook_id: "w1".into(),
        received_at: "2026-12-01T10:00:00Z".into(),
        triggered_at: None,
        signature: "valid".into(),
        state: InboundState::Processed,
        duplicates: 0,
        body: b"{}".to_vec(),
        order_key: None,
        shipment_key: None,
        outcome: None,
        task_id: None,
        task_created_at: None,
        review_id: None,
    }
}

/// A pending shipment of order `order_id`, recorded from [`INBOUND`].
fn pending(s: &Setup, order_id: &str) -> ShipmentKey {
    let shipment = sample::shipment("acme", order_id);
    s.world
        .shipments
        .insert(sample::pending(&shipment, 1_000, INBOUND));
    shipment.key
}

fn request(key: &ShipmentKey, action: TaskAction) -> TaskRequested {
    TaskRequested::new(key.clone(), action)
}

fn duplicates_counted(s: &Setup) -> usize {
    s.metrics
        .documents()
        .iter()
        .filter(|d| d.get("DuplicateCreationAttempts").is_some())
        .count()
}

#[tokio::test]
async fn a_pending_shipment_gets_one_task_stored_credited_and_its_tracking_requested() {
    let s = setup();
    let key = pending(&s, "1001");
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert!(failed(&response).is_empty());

    let tasks = s.world.courier.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].reference, key.to_string());
    let record = s.world.shipments.record(&key).unwrap();
    assert_eq!(record.task.as_ref(), Some(&tasks[0].task));
    assert_eq!(record.status, ShipmentStatus::Created);
    assert_eq!(
        s.world.audit.record(INBOUND).unwrap().task_id.as_deref(),
        Some("tsk_1"),
        "the payload behind the task is credited"
    );
    assert_eq!(
        s.world.sync_queue.sent(),
        [SyncEvent::TrackingAssigned {
            shipment_key: key.clone()
        }]
    );
    assert!(
        s.world.tasks_queue.sent().is_empty(),
        "nothing changed meanwhile: no update of the new task"
    );
    let order_to_task = s
        .metrics
        .documents()
        .into_iter()
        .filter(|d| d.get("OrderToTaskMs").is_some())
        .count();
    assert_eq!(order_to_task, 1);
}

#[tokio::test]
async fn the_same_request_twice_in_a_batch_and_again_later_makes_one_task() {
    let s = setup();
    let key = pending(&s, "1002");
    let twice = [
        request(&key, TaskAction::Create),
        request(&key, TaskAction::Create),
    ];
    let first = s.step.handle(sqs_batch(&twice)).await;
    // One of the two may have met the other's live lease: it comes back, it does not fail.
    for id in failed(&first) {
        let retries = s.world.retries.delays();
        assert!(
            retries.iter().any(|(_, d)| *d <= Duration::from_secs(2)),
            "{id} waits for the lease holder: {retries:?}"
        );
    }
    let again = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert!(failed(&again).is_empty());

    assert_eq!(s.world.courier.tasks().len(), 1, "exactly one task");
    assert_eq!(s.world.courier.calls("create_task"), 1);
    assert!(duplicates_counted(&s) >= 1, "the repeat is counted");
}

#[tokio::test]
async fn a_duplicate_that_meets_a_live_lease_waits_for_it_and_creates_nothing() {
    let s = setup();
    let key = pending(&s, "1003");
    s.world.idempotency.hold(&format!("task:{key}"), 30_000);
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert_eq!(failed(&response), ["m1"]);
    assert_eq!(s.world.retries.delays(), [("r1".to_owned(), BUSY_RETRY)]);
    assert_eq!(s.world.courier.calls("create_task"), 0);
}

#[tokio::test]
async fn after_a_crash_the_task_the_courier_has_is_found_not_created_again() {
    let s = setup();
    let key = pending(&s, "1004");
    // The earlier attempt created the task, then died before storing it: its lease ran out.
    let shipment = s.world.shipments.record(&key).unwrap().shipment;
    let made = s
        .world
        .courier
        .create_task(&key.to_string(), &shipment)
        .await
        .unwrap();
    s.world.idempotency.hold(&format!("task:{key}"), -1);

    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert!(failed(&response).is_empty());
    assert_eq!(s.world.courier.calls("create_task"), 1, "no second create");
    assert_eq!(s.world.courier.calls("find_by_reference"), 1);
    assert_eq!(s.world.shipments.record(&key).unwrap().task, Some(made));
}

#[tokio::test]
async fn a_lost_answer_is_retried_and_the_retry_finds_the_task_it_made() {
    let s = setup();
    let key = pending(&s, "1005");
    s.world.courier.lose_answers.inject(
        "create_task",
        PartnerError::ambiguous("sandbox", "timed out after sending").into(),
    );
    let first = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert_eq!(failed(&first), ["m1"], "an unknown outcome is retried");
    assert!(s.world.shipments.record(&key).unwrap().task.is_none());

    let retry = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert!(failed(&retry).is_empty());
    assert_eq!(s.world.courier.tasks().len(), 1, "the retry looked first");
    assert_eq!(
        s.world
            .shipments
            .record(&key)
            .unwrap()
            .task
            .unwrap()
            .task_id,
        "tsk_1"
    );
}

#[tokio::test]
async fn an_unavailable_courier_backs_off_honouring_its_retry_after() {
    let s = setup();
    let key = pending(&s, "1006");
    s.world.courier.faults.inject(
        "create_task",
        PartnerError::Throttled {
            partner: "sandbox",
            retry_after: Some(Duration::from_secs(9)),
        }
        .into(),
    );
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert_eq!(failed(&response), ["m1"]);
    let delays = s.world.retries.delays();
    assert!(delays[0].1 >= Duration::from_secs(9), "{delays:?}");
    assert!(s.world.courier.tasks().is_empty());
    // The key was given back: the next attempt need not wait for the lease.
    let claim = s
        .world
        .idempotency
        .claim(&format!("task:{key}"), Duration::from_secs(1))
        .await
        .unwrap();
    assert!(
        matches!(claim, Claim::Acquired { resumed: true, .. }),
        "{claim:?}"
    );
}

#[tokio::test]
async fn a_courier_that_refuses_the_task_opens_a_review_item_instead_of_retrying() {
    let s = setup();
    let key = pending(&s, "1007");
    s.world.courier.faults.inject(
        "create_task",
        PartnerError::rejected("sandbox", "422", "invalid_request: parcel.pieces").into(),
    );
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert!(failed(&response).is_empty(), "a refusal is not retried");
    let items = s.world.reviews.open_items();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].reasons,
        [ReviewReason::CourierRejected {
            status: 422,
            message: "invalid_request: parcel.pieces".into()
        }]
    );
    assert_eq!(
        items[0].shipment_key.as_deref(),
        Some(key.to_string().as_str())
    );
}

#[tokio::test]
async fn an_address_the_courier_cannot_place_asks_the_customer_once() {
    let s = setup();
    let key = pending(&s, "1008");
    for _ in 0..2 {
        s.world.courier.faults.inject(
            "create_task",
            CourierError::AddressUnresolved {
                ambiguous: false,
                message: "address_not_found: no such street".into(),
            },
        );
        let response = s
            .step
            .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
            .await;
        assert!(failed(&response).is_empty());
    }
    let items = s.world.reviews.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].reasons[0].code(), "address_not_found");
    assert_eq!(items[0].occurrences, 2);
    assert!(items[0].draft.is_some(), "the draft is kept to fix");
    let messages = s.world.outbox.entries();
    assert_eq!(messages.len(), 1, "the customer is asked once");
    assert_eq!(
        messages[0].template,
        Template::AddressClarification.as_str()
    );
    assert_eq!(
        messages[0].to, "kim@example.com",
        "e-mail first, by default"
    );
}

#[tokio::test]
async fn an_edit_after_pickup_is_a_dispatchers_review_item() {
    let s = setup();
    let shipment = sample::shipment("acme", "1009");
    let task = sample::task(7);
    s.world.shipments.insert(sample::with_task(
        &shipment,
        &task,
        ShipmentStatus::PickedUp,
    ));
    let response = s
        .step
        .handle(sqs_batch(&[request(&shipment.key, TaskAction::Update)]))
        .await;
    assert!(failed(&response).is_empty());
    assert_eq!(
        s.world.courier.calls("update_task"),
        0,
        "the record says it is too late"
    );
    let items = s.world.reviews.open_items();
    assert_eq!(items[0].reasons[0].code(), "edit_after_pickup");
}

#[tokio::test]
async fn a_cancellation_before_the_task_cancels_the_shipment_without_the_courier() {
    let s = setup();
    let key = pending(&s, "1010");
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Cancel)]))
        .await;
    assert!(failed(&response).is_empty());
    assert_eq!(
        s.world.shipments.record(&key).unwrap().status,
        ShipmentStatus::Cancelled
    );
    assert_eq!(s.world.courier.calls("cancel_task"), 0);
}

#[tokio::test]
async fn a_create_request_for_a_shipment_that_has_its_task_changes_nothing() {
    let s = setup();
    let shipment = sample::shipment("acme", "1011");
    let task: CourierTask = sample::task(3);
    s.world.shipments.insert(sample::with_task(
        &shipment,
        &task,
        ShipmentStatus::OutForDelivery,
    ));
    let response = s
        .step
        .handle(sqs_batch(&[request(&shipment.key, TaskAction::Create)]))
        .await;
    assert!(failed(&response).is_empty());
    assert_eq!(
        s.world.shipments.record(&shipment.key).unwrap().status,
        ShipmentStatus::OutForDelivery
    );
    assert_eq!(s.world.courier.calls("create_task"), 0);
}

#[tokio::test]
async fn a_storage_outage_backs_off_and_a_message_that_is_not_json_goes_to_the_dlq() {
    let s = setup();
    let key = pending(&s, "1012");
    s.world
        .shipments
        .faults
        .inject("get", fakes::unavailable("GetItem"));
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert_eq!(failed(&response), ["m1"]);
    assert!(s.world.retries.delays()[0].1 >= Duration::from_secs(1));

    let poison = s.step.handle(sample::sqs_raw(&["not json"])).await;
    assert_eq!(failed(&poison), ["m1"]);
    assert_eq!(
        s.world.retries.delays().last().map(|(_, d)| *d),
        Some(Duration::ZERO),
        "poison is not held back: it walks to the DLQ"
    );
}

/// The courier, with the order edited (a newer event recorded) while it makes the task.
/// What a channel event does to the shipment while its task is being made.
enum Meanwhile {
    Edited(Box<domain::Shipment>),
    Cancelled(ShipmentKey),
}

/// The fake courier, with an event landing between its making the task and answering.
struct ChangedDuringCreation {
    courier: Arc<fakes::FakeCourier>,
    shipments: Arc<dyn ShipmentStore>,
    meanwhile: Meanwhile,
}

#[async_trait::async_trait]
impl domain::ports::Courier for ChangedDuringCreation {
    fn kind(&self) -> domain::CourierKind {
        self.courier.kind()
    }

    async fn create_task(
        &self,
        reference: &str,
        shipment: &domain::Shipment,
    ) -> Result<CourierTask, domain::courier::CourierError> {
        let task = self.courier.create_task(reference, shipment).await?;
        match &self.meanwhile {
            Meanwhile::Edited(edited) => {
                self.shipments
                    .record(edited, 2_000, "shopify:acme:w2")
                    .await
                    .expect("the edit is recorded");
            }
            Meanwhile::Cancelled(key) => {
                self.shipments
                    .request_cancel(key)
                    .await
                    .expect("the cancellation is recorded");
            }
        }
        Ok(task)
    }

    async fn find_by_reference(
        &self,
        reference: &str,
    ) -> Result<Option<CourierTask>, domain::courier::CourierError> {
        self.courier.find_by_reference(reference).await
    }

    async fn update_task(
        &self,
        task_id: &str,
        reference: &str,
        shipment: &domain::Shipment,
    ) -> Result<(), domain::courier::CourierError> {
        self.courier.update_task(task_id, reference, shipment).await
    }

    async fn cancel_task(&self, task_id: &str) -> Result<(), domain::courier::CourierError> {
        self.courier.cancel_task(task_id).await
    }

    async fn assign_route(
        &self,
        driver: &str,
        plan: &str,
        task_ids: &[String],
    ) -> Result<(), domain::courier::CourierError> {
        self.courier.assign_route(driver, plan, task_ids).await
    }
}

struct Only(Arc<dyn domain::ports::Courier>);

#[async_trait::async_trait]
impl domain::ports::Couriers for Only {
    async fn courier(
        &self,
    ) -> Result<Arc<dyn domain::ports::Courier>, domain::courier::CourierError> {
        Ok(self.0.clone())
    }
}

/// Shipment 1001's create request, handled while `meanwhile` lands at the courier.
async fn create_while(meanwhile: impl FnOnce(&ShipmentKey) -> Meanwhile) -> (Setup, ShipmentKey) {
    let mut s = setup();
    let key = pending(&s, "1001");
    s.step.couriers = Arc::new(Only(Arc::new(ChangedDuringCreation {
        courier: s.world.courier.clone(),
        shipments: s.world.shipments.clone(),
        meanwhile: meanwhile(&key),
    })));
    let response = s
        .step
        .handle(sqs_batch(&[request(&key, TaskAction::Create)]))
        .await;
    assert!(failed(&response).is_empty());
    (s, key)
}

#[tokio::test]
async fn an_edit_recorded_while_the_task_is_made_asks_for_the_tasks_update() {
    let mut edited = sample::shipment("acme", "1001");
    edited.address.street = "Chausseestraße".into();
    let (s, key) = create_while(|_| Meanwhile::Edited(Box::new(edited.clone()))).await;

    let tasks = s.world.courier.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(
        tasks[0].shipment.address.street, "Torstraße",
        "made from the first data"
    );
    assert_eq!(
        s.world.tasks_queue.sent(),
        [request(&key, TaskAction::Update)],
        "the task is brought up to date with the edit"
    );
    let record = s.world.shipments.record(&key).unwrap();
    assert_eq!(record.shipment.address.street, "Chausseestraße");
    assert_eq!(record.task.as_ref(), Some(&tasks[0].task));
}

/// The cancellation that lands while the courier is making the task cannot stop it; the
/// task is stored (so nothing makes a second one) and its cancellation is asked for.
#[tokio::test]
async fn a_cancellation_recorded_while_the_task_is_made_asks_for_the_tasks_cancellation() {
    let (s, key) = create_while(|key| Meanwhile::Cancelled(key.clone())).await;

    let tasks = s.world.courier.tasks();
    assert_eq!(
        tasks.len(),
        1,
        "the courier made the task before the cancellation"
    );
    assert_eq!(
        s.world.tasks_queue.sent(),
        [request(&key, TaskAction::Cancel)],
        "the new task's cancellation is asked for"
    );
    let record = s.world.shipments.record(&key).unwrap();
    assert!(record.cancel_requested);
    assert_eq!(
        record.task.as_ref(),
        Some(&tasks[0].task),
        "the task is stored"
    );
}
