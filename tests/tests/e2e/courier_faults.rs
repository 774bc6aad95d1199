//! The courier fails: down for good (retries with backoff, the DLQ, a redrive, one task), and
//! ambiguously (the task is created but the answer is lost; the retry finds it).

use domain::{Channel, ShipmentKey};
use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness};
use sandbox::Fault;
use std::time::Duration;

/// template.yaml's maxReceiveCount for TasksQueue.
const TASKS_MAX_RECEIVES: usize = 8;

fn key(id: u64) -> ShipmentKey {
    ShipmentKey::new(Channel::Shopify, end_to_end::STORE, &id.to_string(), "1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_courier_that_stays_down_walks_the_task_to_the_dlq_and_a_redrive_creates_it_once() {
    let h = Harness::start("courier-down", &[]).await;
    h.sandbox
        .set_create_task_fault(Fault::UnavailableUntilCleared);
    let id = 4_100_000_000_000_000_001;
    let (status, _, _) = h
        .deliver(
            "orders/paid",
            "down-1",
            paid_order(id).to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);

    wait_for(
        "the task request in the DLQ",
        Duration::from_secs(120),
        || async { (h.queue_depth("TasksDLQ").await.0 == 1).then_some(()) },
    )
    .await;
    let attempts: Vec<_> = h
        .sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/tasks")
        .collect();
    assert_eq!(
        attempts.len(),
        TASKS_MAX_RECEIVES,
        "one create attempt per receive, then the DLQ"
    );
    assert!(attempts.iter().all(|r| r.status == Some(503)));
    assert!(h.sandbox.tasks().is_empty());
    let record = h
        .stores()
        .shipments
        .get(&key(id))
        .await
        .unwrap()
        .expect("shipment kept");
    assert!(
        record.task.is_none(),
        "nothing created, nothing lost: the shipment waits"
    );

    h.sandbox.clear_faults();
    let sqs = aws_sdk_sqs::Client::new(&h.sdk);
    let moved = local_runtime::dlq::redrive(
        &sqs,
        h.runtime.queue_url("TasksDLQ").unwrap(),
        h.runtime.queue_url("TasksQueue").unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(moved, 1);

    let stores = h.stores().clone();
    wait_for(
        "tracking written back after the redrive",
        Duration::from_secs(60),
        || {
            let stores = stores.clone();
            async move {
                stores
                    .shipments
                    .get(&key(id))
                    .await
                    .ok()??
                    .tracking_written_back
            }
        },
    )
    .await;
    let tasks = h.sandbox.tasks();
    assert_eq!(tasks.len(), 1, "exactly one task after the redrive");
    assert_eq!(tasks[0].reference, key(id).to_string());
    assert_eq!(h.queue_depth("TasksDLQ").await, (0, 0));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_courier_answer_is_resolved_by_lookup_not_by_a_second_task() {
    // The courier holds its answer 3 s; create-task gives up after 1 s.
    let h = Harness::start("ambiguous", &[("PARTNER_TIMEOUT_MS", "1000")]).await;
    h.sandbox.set_create_task_fault(Fault::LoseResponse {
        times: 1,
        delay_ms: 3_000,
    });
    let id = 4_200_000_000_000_000_001;
    let (status, _, _) = h
        .deliver(
            "orders/paid",
            "lost-1",
            paid_order(id).to_string().as_bytes(),
        )
        .await;
    assert_eq!(status, 200);

    let stores = h.stores().clone();
    let record = wait_for(
        "the task stored on the shipment",
        Duration::from_secs(60),
        || {
            let stores = stores.clone();
            async move {
                let r = stores.shipments.get(&key(id)).await.ok()??;
                r.tracking_written_back.is_some().then_some(r)
            }
        },
    )
    .await;
    let tasks = h.sandbox.tasks();
    assert_eq!(tasks.len(), 1, "still exactly one task");
    assert_eq!(
        record.task.unwrap().task_id,
        tasks[0].id,
        "the shipment holds the task the courier made"
    );
    let requests = h.sandbox.requests();
    let creates = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/tasks")
        .count();
    let lookups = requests
        .iter()
        .filter(|r| {
            r.method == "GET"
                && r.query
                    .as_deref()
                    .is_some_and(|q| q.starts_with("reference="))
        })
        .count();
    assert_eq!(creates, 1, "no second create after the ambiguous timeout");
    assert!(lookups >= 1, "the retry looked the task up by reference");
    h.stop().await;
}
