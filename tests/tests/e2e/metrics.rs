//! The CloudWatch metrics each function emits in the situation that calls for it: through
//! the whole loop, with the functions writing their EMF documents to a capture file
//! (`METRICS_CAPTURE_FILE`) instead of stdout.

use domain::messages::{TaskAction, TaskRequested};
use domain::{Channel, ShipmentKey, ShipmentStatus};
use end_to_end::{paid_order, wait_for, Harness, STORE};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(40);

fn documents(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON document"))
        .collect()
}

fn named<'a>(docs: &'a [Value], metric: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d.get(metric).is_some()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_function_emits_its_metrics_when_it_happens_and_no_customer_data() {
    let capture = std::env::temp_dir().join(format!(
        "courier-bridge-metrics-{:x}.jsonl",
        rand::random::<u64>()
    ));
    let capture_text = capture.to_string_lossy().into_owned();
    let h = Harness::start("metrics", &[("METRICS_CAPTURE_FILE", &capture_text)]).await;
    // The courier is down for the first create call: one failed partner call.
    h.sandbox
        .set_create_task_fault(sandbox::Fault::Unavailable { times: 1 });

    let id = 7_720_000_000_000_000_001_u64;
    let body = paid_order(id).to_string();
    let (status, _, _) = h
        .deliver("orders/paid", "w-metrics-1", body.as_bytes())
        .await;
    assert_eq!(status, 200);
    let key = ShipmentKey::new(Channel::Shopify, STORE, &id.to_string(), "1");
    let task = h.task_for(&key.to_string()).await;

    // The same delivery again: deduped by webhook-intake.
    let (status, answer, _) = h
        .deliver("orders/paid", "w-metrics-1", body.as_bytes())
        .await;
    assert_eq!(
        (status, answer["status"].as_str()),
        (200, Some("duplicate"))
    );

    // A second request for the task (a redelivered message): create-task finds it done.
    h.stores()
        .tasks_queue
        .send_json(&TaskRequested {
            shipment_key: key.clone(),
            action: TaskAction::Create,
        })
        .await
        .expect("queued");

    let duplicate_from = |docs: &[Value], function: &str| {
        named(docs, "DuplicateCreationAttempts").iter().any(|d| {
            d["Function"] == function
                && d["Channel"] == "shopify"
                && d["DuplicateCreationAttempts"] == 1.0
        })
    };
    let docs = wait_for("time to task and both duplicates", WAIT, || async {
        let docs = documents(&capture);
        (!named(&docs, "OrderToTaskMs").is_empty()
            && duplicate_from(&docs, "webhook-intake")
            && duplicate_from(&docs, "create-task"))
        .then_some(docs)
    })
    .await;
    let to_task = named(&docs, "OrderToTaskMs");
    assert_eq!(to_task.len(), 1, "once per task: {to_task:?}");
    assert_eq!(to_task[0]["Channel"], "shopify");
    let ms = to_task[0]["OrderToTaskMs"].as_f64().unwrap();
    assert!((0.0..60_000.0).contains(&ms), "{ms}");
    let create_calls: Vec<f64> = named(&docs, "IntegrationFailures")
        .iter()
        .filter(|d| d["Function"] == "create-task" && d["Partner"] == "sandbox")
        .map(|d| d["IntegrationFailures"].as_f64().unwrap())
        .collect();
    assert!(
        create_calls.contains(&1.0) && create_calls.contains(&0.0),
        "the failed call and the one that worked: {create_calls:?}"
    );

    // Delivered right away: within its next-day promise.
    h.advance_task(&task.id, 4).await;
    h.wait_for_status(&key, ShipmentStatus::Delivered).await;
    let docs = wait_for("the SLA verdict", WAIT, || async {
        let docs = documents(&capture);
        (!named(&docs, "DeliverySla").is_empty()).then_some(docs)
    })
    .await;
    let sla = named(&docs, "DeliverySla");
    assert_eq!(sla.len(), 1, "once per delivery: {sla:?}");
    assert_eq!(sla[0]["Channel"], "shopify");
    assert_eq!(sla[0]["DeliverySla"], 100.0);
    assert!(
        named(&docs, "IntegrationFailures")
            .iter()
            .any(|d| d["Function"] == "status-sync" && d["Partner"] == "shopify"),
        "the store write-backs are partner calls"
    );

    // ship-by-watch reports every DLQ's depth.
    for (function, result) in h.runtime.invoke_scheduled().await {
        assert!(result.is_ok(), "{function}: {result:?}");
    }
    let docs = documents(&capture);
    let mut queues: Vec<&str> = named(&docs, "DlqDepth")
        .iter()
        .map(|d| d["Queue"].as_str().unwrap())
        .collect();
    queues.sort_unstable();
    assert_eq!(
        queues,
        [
            "AmazonNotificationsDLQ",
            "IntakeDLQ",
            "OutboxDLQ",
            "SyncDLQ",
            "TasksDLQ"
        ]
    );

    // Nothing the customer gave us is in any document.
    let text = std::fs::read_to_string(&capture).unwrap();
    for pii in [
        "kunde@example.com",
        "901820",
        "Torstra",
        "Kim Weber",
        "10119",
        &id.to_string(),
    ] {
        assert!(!text.contains(pii), "{pii} in the metrics");
    }
    h.stop().await;
    let _ = std::fs::remove_file(&capture);
}
