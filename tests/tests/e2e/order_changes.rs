//! Orders that change after they are first read: partial shipments, edits and cancellations
//! before and after the courier picks the parcel up, and events arriving shuffled and
//! repeated. Against moto server, the local runtime and the sandbox courier.

use domain::{Channel, ShipmentKey, ShipmentStatus};
use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness, STORE};
use serde_json::{json, Value};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn key(order: u64, shipment: &str) -> ShipmentKey {
    ShipmentKey::new(Channel::Shopify, STORE, &order.to_string(), shipment)
}

/// The order as of `minute` past 10:00: later minutes are newer events.
fn order_at(id: u64, minute: u32) -> Value {
    let mut order = paid_order(id);
    order["updated_at"] = json!(format!("2026-11-24T10:{minute:02}:00Z"));
    order
}

async fn status(h: &Harness, key: &ShipmentKey) -> Option<ShipmentStatus> {
    h.stores()
        .shipments
        .get(key)
        .await
        .unwrap()
        .map(|r| r.status)
}

async fn post(h: &Harness, topic: &str, id: &str, body: &Value) {
    let (code, answer) = h
        .deliver(topic, id, body.to_string().as_bytes())
        .await
        .into_tuple();
    assert_eq!(code, 200, "{topic} {id}: {answer}");
}

trait IntoTuple {
    fn into_tuple(self) -> (u16, Value);
}

impl IntoTuple for (u16, Value, u32) {
    fn into_tuple(self) -> (u16, Value) {
        (self.0, self.1)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fulfillment_of_a_ready_to_ship_store_becomes_its_own_task() {
    let h = Harness::start("partial", &[]).await;
    h.configure_store(Channel::Shopify, STORE, json!({"trigger": "ready_to_ship"}))
        .await;
    let order = 7_100_000_000_000_000_001_u64;
    // Paid, but the warehouse has not packed anything: no task.
    post(&h, "orders/paid", "p-1", &order_at(order, 0)).await;
    let fulfillment = |id: u64, items: Value| {
        json!({
            "id": id, "order_id": order, "status": "success", "name": "#1001.1",
            "updated_at": "2026-11-24T11:00:00Z",
            "destination": paid_order(order)["shipping_address"].clone(),
            "line_items": items,
            "currency": "EUR"
        })
    };
    let first = fulfillment(
        501,
        json!([{"quantity": 2, "requires_shipping": true, "price": "10.00", "grams": 400}]),
    );
    let second = fulfillment(
        502,
        json!([{"quantity": 1, "requires_shipping": true, "price": "5.00", "grams": 900}]),
    );
    // The merchant makes both fulfillments in the store, which then sends their webhooks.
    for id in ["501", "502"] {
        h.sandbox
            .seed_shopify_fulfillment(&order.to_string(), id)
            .unwrap();
    }
    post(&h, "fulfillments/create", "f-501", &first).await;
    post(&h, "fulfillments/create", "f-502", &second).await;
    // Shopify re-sends one of them under a new webhook id: still two tasks.
    post(&h, "fulfillments/create", "f-501-again", &first).await;

    let a = h.task_for(&key(order, "501").to_string()).await;
    let b = h.task_for(&key(order, "502").to_string()).await;
    assert_ne!(a.id, b.id);
    assert_eq!((a.parcel.pieces, b.parcel.pieces), (2, 1));
    wait_for("every request handled", WAIT, || async {
        let depth = h.queue_depth("TasksQueue").await;
        (depth == (0, 0)).then_some(())
    })
    .await;
    let tasks: Vec<_> = h
        .sandbox
        .tasks()
        .into_iter()
        .filter(|t| {
            t.reference
                .starts_with(&format!("shopify:{STORE}:{order}:"))
        })
        .collect();
    assert_eq!(
        tasks.len(),
        2,
        "one task per fulfillment, none for the order itself"
    );

    // Each task's tracking goes on its own fulfillment: none is created for the order.
    let gid = |id: &str| format!("gid://shopify/Fulfillment/{id}");
    for (shipment, task) in [("501", &a), ("502", &b)] {
        let record = wait_for("the tracking written back", WAIT, || async {
            h.stores()
                .shipments
                .get(&key(order, shipment))
                .await
                .unwrap()
                .filter(|r| r.tracking_written_back.is_some())
        })
        .await;
        assert_eq!(record.tracking_written_back, Some(gid(shipment)));
        let shown: Vec<_> = h
            .sandbox
            .fulfillments()
            .into_iter()
            .filter(|f| f.fulfillment_id == gid(shipment))
            .collect();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].order_id, order.to_string());
        assert_eq!(
            shown[0].tracking_number.as_deref(),
            Some(task.tracking_number.as_str())
        );
        assert!(shown[0].notify_customer);
    }
    assert_eq!(
        h.sandbox.fulfillments().len(),
        2,
        "no fulfillment created for the order"
    );
    assert!(h.open_reviews("store_rejected").await.is_empty());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_edit_before_pickup_updates_the_task_and_after_pickup_asks_a_dispatcher() {
    let h = Harness::start("edits", &[]).await;
    let (before, after) = (7_200_000_000_000_000_001_u64, 7_200_000_000_000_000_002_u64);
    for id in [before, after] {
        post(&h, "orders/paid", &format!("paid-{id}"), &order_at(id, 0)).await;
    }
    let early = h.task_for(&key(before, "1").to_string()).await;
    let late = h.task_for(&key(after, "1").to_string()).await;
    h.advance_task(&late.id, 2).await; // assigned, picked_up

    for id in [before, after] {
        let mut edited = order_at(id, 5);
        edited["shipping_address"]["address1"] = json!("Karl-Marx-Allee 90");
        edited["shipping_address"]["zip"] = json!("10243");
        post(&h, "orders/updated", &format!("edit-{id}"), &edited).await;
    }

    wait_for("the task before pickup updated", WAIT, || async {
        h.sandbox
            .tasks()
            .into_iter()
            .find(|t| t.id == early.id && t.destination.line1 == "Karl-Marx-Allee 90")
    })
    .await;
    let items = wait_for(
        "a dispatcher review for the edit after pickup",
        WAIT,
        || async {
            let items = h.open_reviews("edit_after_pickup").await;
            (!items.is_empty()).then_some(items)
        },
    )
    .await;
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].shipment_key.as_deref(),
        Some(key(after, "1").to_string().as_str())
    );
    let picked = h
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.id == late.id)
        .unwrap();
    assert_eq!(
        picked.destination.line1, "Torstraße 1",
        "the courier's task is untouched"
    );
    assert_eq!(picked.status, "picked_up");
    // Our record has the customer's new address either way: it is what they asked for.
    let record = h
        .stores()
        .shipments
        .get(&key(after, "1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.shipment.address.street, "Karl-Marx-Allee 90");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_cancels_the_task_before_pickup_and_flags_a_dispatcher_after() {
    let h = Harness::start("cancels", &[]).await;
    let (before, after) = (7_300_000_000_000_000_001_u64, 7_300_000_000_000_000_002_u64);
    for id in [before, after] {
        post(&h, "orders/paid", &format!("paid-{id}"), &order_at(id, 0)).await;
    }
    let early = h.task_for(&key(before, "1").to_string()).await;
    let late = h.task_for(&key(after, "1").to_string()).await;
    h.advance_task(&late.id, 3).await; // assigned, picked_up, out_for_delivery

    for id in [before, after] {
        let mut cancelled = order_at(id, 9);
        cancelled["cancelled_at"] = json!("2026-11-24T10:09:00Z");
        post(&h, "orders/cancelled", &format!("cancel-{id}"), &cancelled).await;
    }

    wait_for("the early task cancelled at the courier", WAIT, || async {
        h.sandbox
            .tasks()
            .into_iter()
            .find(|t| t.id == early.id && t.status == "cancelled")
    })
    .await;
    wait_for("the early shipment cancelled", WAIT, || async {
        (status(&h, &key(before, "1")).await == Some(ShipmentStatus::Cancelled)).then_some(())
    })
    .await;
    let items = wait_for(
        "a dispatcher review for the late cancellation",
        WAIT,
        || async {
            let items = h.open_reviews("cancel_after_pickup").await;
            (!items.is_empty()).then_some(items)
        },
    )
    .await;
    assert_eq!(
        items[0].shipment_key.as_deref(),
        Some(key(after, "1").to_string().as_str())
    );
    let out = h
        .sandbox
        .tasks()
        .into_iter()
        .find(|t| t.id == late.id)
        .unwrap();
    assert_eq!(
        out.status, "out_for_delivery",
        "the parcel is with the driver"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_cancelled_before_its_task_exists_never_gets_one() {
    let h = Harness::start("cancel-early", &[]).await;
    let order = 7_400_000_000_000_000_001_u64;
    // The courier is down: the shipment waits for its task.
    h.sandbox
        .set_create_task_fault(sandbox::Fault::UnavailableUntilCleared);
    post(&h, "orders/paid", "paid", &order_at(order, 0)).await;
    wait_for("the shipment recorded", WAIT, || async {
        status(&h, &key(order, "1")).await
    })
    .await;
    let mut cancelled = order_at(order, 3);
    cancelled["cancelled_at"] = json!("2026-11-24T10:03:00Z");
    post(&h, "orders/cancelled", "cancel", &cancelled).await;
    wait_for("the shipment cancelled", WAIT, || async {
        (status(&h, &key(order, "1")).await == Some(ShipmentStatus::Cancelled)).then_some(())
    })
    .await;
    // A retry of the create request finds the cancellation and ends it. The courier stays
    // down until then: an attempt that read the shipment just before the cancellation
    // landed is still on its way to the courier, and one that reached it would make a task
    // that must then be cancelled (a_cancellation_recorded_while_the_task_is_made_... in
    // create-task covers that race); here no attempt may reach it.
    wait_for("the create request handled", WAIT, || async {
        (h.queue_depth("TasksQueue").await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(
        h.queue_depth("TasksDLQ").await,
        (0, 0),
        "handled by finding the cancellation, not dead-lettered"
    );
    h.sandbox.clear_faults();
    assert_eq!(
        status(&h, &key(order, "1")).await,
        Some(ShipmentStatus::Cancelled)
    );
    assert!(
        h.sandbox
            .tasks()
            .iter()
            .all(|t| t.reference != key(order, "1").to_string()),
        "no task for a cancelled order"
    );
    h.stop().await;
}

/// Every order gets paid (10:00), edited (10:05) and — every other one — cancelled
/// (10:09); the deliveries arrive shuffled and some twice. Whatever the order of arrival,
/// each order ends as its newest event says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shuffled_and_repeated_updates_and_cancellations_end_as_the_newest_event_says() {
    use rand::seq::SliceRandom;
    let h = Harness::start("shuffled", &[]).await;
    let orders: Vec<u64> = (0..12).map(|i| 7_500_000_000_000_000_000 + i).collect();
    let mut deliveries = Vec::new();
    for (i, id) in orders.iter().enumerate() {
        let paid = order_at(*id, 0);
        let mut edited = order_at(*id, 5);
        edited["shipping_address"]["address1"] = json!("Frankfurter Allee 1");
        deliveries.push(("orders/paid", format!("paid-{id}"), paid));
        deliveries.push(("orders/updated", format!("edit-{id}"), edited.clone()));
        if i % 2 == 0 {
            let mut cancelled = edited;
            cancelled["cancelled_at"] = json!("2026-11-24T10:09:00Z");
            cancelled["updated_at"] = json!("2026-11-24T10:09:00Z");
            deliveries.push(("orders/cancelled", format!("cancel-{id}"), cancelled));
        }
    }
    let repeats: Vec<_> = deliveries.iter().step_by(3).cloned().collect();
    deliveries.extend(repeats);
    deliveries.shuffle(&mut rand::thread_rng());
    for (topic, webhook_id, body) in &deliveries {
        post(&h, topic, webhook_id, body).await;
    }

    for (i, id) in orders.iter().enumerate() {
        let k = key(*id, "1");
        if i % 2 == 0 {
            // Cancelled: either no task was ever made, or the one made is cancelled.
            wait_for(&format!("{k} cancelled"), WAIT, || async {
                (status(&h, &k).await == Some(ShipmentStatus::Cancelled)).then_some(())
            })
            .await;
        } else {
            let task = wait_for(&format!("{k} carries the edit"), WAIT, || async {
                h.sandbox.tasks().into_iter().find(|t| {
                    t.reference == k.to_string() && t.destination.line1 == "Frankfurter Allee 1"
                })
            })
            .await;
            assert_eq!(task.status, "created");
        }
    }
    wait_for("all queues drained", WAIT, || async {
        let idle = h.queue_depth("IntakeQueue").await == (0, 0)
            && h.queue_depth("TasksQueue").await == (0, 0);
        idle.then_some(())
    })
    .await;
    let tasks = h.sandbox.tasks();
    for (i, id) in orders.iter().enumerate() {
        let k = key(*id, "1").to_string();
        let mine: Vec<_> = tasks.iter().filter(|t| t.reference == k).collect();
        assert!(mine.len() <= 1, "{k}: never two tasks");
        if i % 2 == 0 {
            assert!(
                mine.iter().all(|t| t.status == "cancelled"),
                "{k}: no live task"
            );
        } else {
            assert_eq!(mine.len(), 1, "{k}: exactly one task");
        }
    }
    h.stop().await;
}
