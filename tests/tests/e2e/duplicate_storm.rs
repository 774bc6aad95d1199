//! 200 orders, each delivered 1–4 times with the same webhook id, and half of them also as
//! `orders/create` with another id, all shuffled and concurrent: exactly 200 tasks, 200
//! store fulfillments, and every order traceable in the audit trail.

use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness};
use futures::stream::{self, StreamExt};
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const ORDERS: u64 = 200;
/// Above 2^53, so any float on the way would show.
const FIRST_ID: u64 = 9_007_199_254_740_993;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_duplicate_deliveries_creates_exactly_one_task_per_order() {
    let h = Harness::start("storm", &[]).await;
    let mut deliveries = Vec::new();
    for i in 0..ORDERS {
        let id = FIRST_ID + i;
        let body = paid_order(id).to_string().into_bytes();
        let copies = 1 + (i % 4);
        for _ in 0..copies {
            deliveries.push(("orders/paid", format!("paid-{id}"), body.clone()));
        }
        if i % 2 == 0 {
            deliveries.push(("orders/create", format!("create-{id}"), body.clone()));
        }
    }
    deliveries.shuffle(&mut rand::thread_rng());
    let unique_webhooks: BTreeSet<&String> = deliveries.iter().map(|d| &d.1).collect();
    let unique_webhooks = unique_webhooks.len();
    let total = deliveries.len();

    let answers: Vec<(u16, String, String, u32)> = stream::iter(&deliveries)
        .map(|(topic, webhook_id, body)| {
            let h = &h;
            async move {
                let (status, answer, posts) = h.deliver(topic, webhook_id, body).await;
                (
                    status,
                    answer["status"].as_str().unwrap_or_default().to_owned(),
                    webhook_id.clone(),
                    posts,
                )
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let mut by_answer: BTreeMap<String, usize> = BTreeMap::new();
    // Every post after a webhook id's first is a duplicate the intake must count, including
    // re-posts after a 503 "in flight" answer.
    let mut posts_per_webhook: BTreeMap<String, u32> = BTreeMap::new();
    for (status, answer, webhook_id, posts) in &answers {
        assert_eq!(*status, 200, "every delivery is finally acknowledged");
        *by_answer.entry(answer.clone()).or_default() += 1;
        *posts_per_webhook.entry(webhook_id.clone()).or_default() += posts;
    }
    assert_eq!(
        by_answer.get("accepted"),
        Some(&unique_webhooks),
        "{by_answer:?}"
    );
    assert_eq!(
        by_answer.get("duplicate"),
        Some(&(total - unique_webhooks)),
        "{by_answer:?}"
    );

    let stores = h.stores().clone();
    wait_for(
        "every order's tracking written back",
        Duration::from_secs(300),
        || {
            let stores = stores.clone();
            async move {
                let all = stores.shipments.all().await.ok()?;
                let done = all
                    .iter()
                    .filter(|r| r.tracking_written_back.is_some())
                    .count();
                (done as u64 == ORDERS).then_some(())
            }
        },
    )
    .await;

    let tasks = h.sandbox.tasks();
    let references: BTreeSet<&str> = tasks.iter().map(|t| t.reference.as_str()).collect();
    assert_eq!(tasks.len() as u64, ORDERS, "exactly one task per order");
    assert_eq!(references.len() as u64, ORDERS, "no order has two tasks");
    let fulfilled: BTreeSet<String> = h
        .sandbox
        .fulfillments()
        .into_iter()
        .map(|f| f.order_id)
        .collect();
    assert_eq!(fulfilled.len() as u64, ORDERS);
    assert_eq!(
        h.sandbox.fulfillments().len() as u64,
        ORDERS,
        "one fulfillment per order"
    );

    for i in 0..ORDERS {
        let id = FIRST_ID + i;
        let order_key = format!("shopify:{}:{id}", end_to_end::STORE);
        assert!(
            references.contains(format!("{order_key}:1").as_str()),
            "task reference for {id}, exact"
        );
        let trail = stores.inbound.by_order(&order_key).await.unwrap();
        let expected_payloads = if i % 2 == 0 { 2 } else { 1 };
        assert_eq!(
            trail.len(),
            expected_payloads,
            "every payload of {id} is in its audit trail"
        );
        let creators: Vec<_> = trail.iter().filter(|r| r.task_id.is_some()).collect();
        assert_eq!(
            creators.len(),
            1,
            "exactly one payload of {id} is marked as creating its task"
        );
        for record in &trail {
            let posts = posts_per_webhook[&record.webhook_id];
            assert_eq!(
                record.duplicates,
                posts - 1,
                "duplicate deliveries of {} are counted",
                record.webhook_id
            );
        }
    }
    assert_eq!(h.queue_depth("TasksDLQ").await, (0, 0));
    assert_eq!(h.queue_depth("IntakeDLQ").await, (0, 0));
    h.stop().await;
}
