//! Onfleet as the courier, end to end: tasks created through its API (a wiremock fake of
//! its published contract, throttling and failing at first), its webhooks through intake
//! (the validation handshake, signatures, a tampered body refused), and a shuffled,
//! duplicated stream of 1,000 task events for 100 shipments that must end exactly where an
//! ordered replay ends, with each store write-back and each customer message sent once.

use channels::onfleet;
use domain::notify::OutboxState;
use domain::{Channel, ShipmentKey, ShipmentStatus};
use end_to_end::ports::*;
use end_to_end::{paid_order, wait_for, Harness, STORE};
use futures::StreamExt;
use rand::seq::SliceRandom;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET_HEX: &str = "736f6d652d736563726574";
const REFERENCE: &str = "courier_bridge_reference";
const SHIPMENTS: u64 = 100;
const EVENTS_PER_SHIPMENT: usize = 10;
const FIRST_ORDER: u64 = 7_720_000_000_000_000_000;

fn reference_of(request: &Request) -> Option<String> {
    let body: Value = serde_json::from_slice(&request.body).ok()?;
    body["metadata"]
        .as_array()?
        .iter()
        .find(|m| m["name"] == REFERENCE)?["value"]
        .as_str()
        .map(str::to_owned)
}

/// Onfleet task ids are 24 characters; ours are derived from the reference.
fn task_id(reference: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(reference.as_bytes()))[..24].to_owned()
}

/// A fake Onfleet: creates answer with a task carrying our metadata, after 6 requests
/// throttled (429 + Retry-After) and 4 failing (503); lookups by metadata find nothing.
async fn onfleet_fake() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tasks"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .insert_header("X-RateLimit-Limit", "20")
                .insert_header("X-RateLimit-Remaining", "0")
                .set_body_json(json!({"code": "TooManyRequests", "message": {
                    "error": 2300, "message": "Rate limit exceeded"}})),
        )
        .up_to_n_times(6)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/tasks"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(4)
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/tasks"))
        .respond_with(|request: &Request| {
            let Some(reference) = reference_of(request) else {
                return ResponseTemplate::new(400);
            };
            let id = task_id(&reference);
            let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            ResponseTemplate::new(200).set_body_json(json!({
                "id": id, "shortId": &id[..8], "trackingURL": format!("https://onf.lt/{}", &id[..8]),
                "state": 0, "organization": "yAM*fDkztrT3gUcz9mNDgNOL",
                "metadata": body["metadata"]
            }))
        })
        .with_priority(5)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/tasks/metadata"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    server
}

async fn onfleet_harness(test: &str) -> (Harness, MockServer) {
    let server = onfleet_fake().await;
    let h = Harness::start(test, &[("COURIER_NAME", "onfleet")]).await;
    h.put_secret(
        "courier/onfleet",
        json!({"api_key": "onfleet_test_key", "base_url": server.uri(), "webhook_secret": SECRET_HEX}),
    )
    .await;
    h.configure_store(
        Channel::Shopify,
        STORE,
        json!({"notifications": {"channels": ["sms"]}}),
    )
    .await;
    (h, server)
}

/// One Onfleet webhook body as its docs show it (tests/fixtures/onfleet).
fn event(
    trigger: onfleet::Trigger,
    task: &str,
    reference: &str,
    time_ms: i64,
    extra: Value,
    task_extra: Value,
) -> Vec<u8> {
    let mut task_json = json!({
        "id": task, "shortId": &task[..8], "trackingURL": format!("https://onf.lt/{}", &task[..8]),
        "worker": "ZxcnkJi~79nonYaMTQ960Mg2",
        "metadata": [{"name": REFERENCE, "type": "string", "value": reference, "visibility": ["api"]}],
        "recipients": [{"name": "Kim Weber"}],
        "destination": {"location": [13.4132, 52.5219]}
    });
    if let (Some(t), Some(extra)) = (task_json.as_object_mut(), task_extra.as_object()) {
        t.extend(extra.clone());
    }
    let mut body = json!({
        "taskId": task, "triggerId": trigger.id(), "triggerName": trigger.name(),
        "time": time_ms, "workerId": "ZxcnkJi~79nonYaMTQ960Mg2", "adminId": null,
        "actionContext": {"type": "WORKER", "id": "ZxcnkJi~79nonYaMTQ960Mg2"},
        "data": {"task": task_json}
    });
    if let (Some(b), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(extra.clone());
    }
    body.to_string().into_bytes()
}

/// A driver's day for one task: 10 events, a minute apart; every fourth delivery fails.
fn day(task: &str, reference: &str, start_ms: i64, fails: bool) -> Vec<Vec<u8>> {
    use onfleet::Trigger::*;
    let at = |i: i64| start_ms + i * 60_000;
    let completion = if fails {
        json!({"completionDetails": {"success": false, "time": at(8), "failureReason": "NOBODY",
               "failureNotes": "No answer at the door"}, "state": 3})
    } else {
        json!({"completionDetails": {"success": true, "time": at(8), "signatureText": "K. Weber",
               "signatureUploadId": "7cac66f57968cc3a14610040",
               "photoUploadIds": ["28e339b969068d2c21f1542a"],
               "lastLocation": [13.4133, 52.5218]}, "state": 3})
    };
    vec![
        event(
            TaskCreated,
            task,
            reference,
            at(0),
            json!({}),
            json!({"state": 0}),
        ),
        event(
            TaskAssigned,
            task,
            reference,
            at(1),
            json!({}),
            json!({"state": 1}),
        ),
        event(
            TaskEta,
            task,
            reference,
            at(2),
            json!({"etaSeconds": 3600}),
            json!({"state": 1}),
        ),
        event(
            TaskStarted,
            task,
            reference,
            at(3),
            json!({}),
            json!({"state": 2}),
        ),
        event(
            TaskEta,
            task,
            reference,
            at(4),
            json!({"etaSeconds": 1200}),
            json!({"state": 2}),
        ),
        event(
            TaskDelayed,
            task,
            reference,
            at(5),
            json!({"delay": 300}),
            json!({"state": 2}),
        ),
        event(
            TaskEta,
            task,
            reference,
            at(6),
            json!({"etaSeconds": 120}),
            json!({"state": 2}),
        ),
        event(
            TaskArrival,
            task,
            reference,
            at(7),
            json!({"distance": 50}),
            json!({"state": 2}),
        ),
        if fails {
            event(
                TaskFailed,
                task,
                reference,
                at(8),
                json!({}),
                completion.clone(),
            )
        } else {
            event(
                TaskCompleted,
                task,
                reference,
                at(8),
                json!({}),
                completion.clone(),
            )
        },
        event(TaskUpdated, task, reference, at(9), json!({}), completion),
    ]
}

/// What an ordered replay of `events` does to a shipment whose task was just created:
/// each status applied in time order through the state machine.
fn ordered_replay(events: &[Vec<u8>]) -> ShipmentStatus {
    let mut parsed: Vec<_> = events.iter().map(|b| onfleet::parse(b).unwrap()).collect();
    parsed.sort_by_key(|e| e.time_ms);
    parsed
        .iter()
        .fold(ShipmentStatus::Created, |now, e| match e.status {
            Some(to) if now.may_become(to, e.actor()) => to,
            _ => now,
        })
}

async fn post(h: &Harness, body: &[u8], signature: &str) -> u16 {
    h.post_raw(
        "courier",
        "onfleet",
        &[
            ("X-Onfleet-Signature", signature),
            ("Content-Type", "application/json"),
        ],
        body,
    )
    .await
    .0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onfleet_validates_the_url_and_a_tampered_webhook_is_refused() {
    let (h, _server) = onfleet_harness("onfleet-hooks").await;
    let url = format!(
        "{}/webhooks/courier/onfleet?check=a%2Bb%20c",
        h.runtime.http_url
    );
    let answer = reqwest::get(&url).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.text().await.unwrap(),
        "a+b c",
        "echoed exactly, decoded"
    );

    // Onfleet's published example, signed with the webhook secret, is accepted once.
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/onfleet/taskUpdated_completed_example.json"
    ))
    .unwrap();
    let signature = onfleet::sign(SECRET_HEX, &body).unwrap();
    assert_eq!(post(&h, &body, &signature).await, 200);
    let (_, again) = h
        .post_raw(
            "courier",
            "onfleet",
            &[("X-Onfleet-Signature", &signature)],
            &body,
        )
        .await;
    assert_eq!(again["status"], "duplicate");
    // One byte changed: refused, and nothing queued.
    let mut tampered = body.clone();
    let i = tampered.iter().position(|b| *b == b'3').unwrap();
    tampered[i] = b'4';
    assert_eq!(post(&h, &tampered, &signature).await, 401);
    assert_eq!(post(&h, &body, "00").await, 401);
    // The example's task is not one of ours: kept in the audit trail, nothing moved.
    let (sync_visible, _) = h.queue_depth("SyncDLQ").await;
    assert_eq!(sync_visible, 0);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shuffled_duplicated_stream_of_1000_events_ends_as_the_ordered_replay_with_each_effect_once(
) {
    let (h, server) = onfleet_harness("onfleet-storm").await;
    let keys: Vec<ShipmentKey> = (0..SHIPMENTS)
        .map(|i| ShipmentKey::new(Channel::Shopify, STORE, &(FIRST_ORDER + i).to_string(), "1"))
        .collect();
    futures::stream::iter(0..SHIPMENTS)
        .for_each_concurrent(8, |i| {
            let h = &h;
            async move {
                let id = FIRST_ORDER + i;
                let (status, _, _) = h
                    .deliver(
                        "orders/paid",
                        &format!("w-{id}"),
                        paid_order(id).to_string().as_bytes(),
                    )
                    .await;
                assert_eq!(status, 200);
            }
        })
        .await;
    // Every order becomes exactly one Onfleet task, although creation met 429s and 503s.
    wait_for(
        "100 tasks with tracking on the store",
        Duration::from_secs(120),
        || async {
            let all = h.stores().shipments.all().await.unwrap();
            let ready = all
                .iter()
                .filter(|r| r.task.is_some() && r.tracking_written_back.is_some())
                .count();
            (ready == SHIPMENTS as usize).then_some(())
        },
    )
    .await;
    let requests = server.received_requests().await.unwrap();
    let creates: Vec<&Request> = requests
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/tasks")
        .collect();
    assert!(
        creates.len() >= SHIPMENTS as usize + 10,
        "the faults were met"
    );
    let mut per_reference: HashMap<String, usize> = HashMap::new();
    for r in &creates {
        *per_reference.entry(reference_of(r).unwrap()).or_default() += 1;
    }
    assert_eq!(per_reference.len(), SHIPMENTS as usize);
    for key in &keys {
        let record = h.shipment(key).await;
        assert_eq!(record.task.unwrap().task_id, task_id(&key.to_string()));
    }

    // The stream: 1,000 distinct events, a third of them twice, shuffled.
    let start_ms = domain::clock::now_ms();
    let mut expected = BTreeMap::new();
    let mut stream: Vec<Vec<u8>> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let reference = key.to_string();
        let events = day(
            &task_id(&reference),
            &reference,
            start_ms + i as i64,
            i % 4 == 0,
        );
        assert_eq!(events.len(), EVENTS_PER_SHIPMENT);
        let final_status = ordered_replay(&events);
        let by_construction = if i % 4 == 0 {
            ShipmentStatus::Failed
        } else {
            ShipmentStatus::Delivered
        };
        assert_eq!(final_status, by_construction, "the replay model agrees");
        expected.insert(reference, final_status);
        stream.extend(events);
    }
    assert_eq!(stream.len(), 1_000);
    let duplicates: Vec<Vec<u8>> = stream.iter().step_by(3).cloned().collect();
    stream.extend(duplicates);
    stream.shuffle(&mut rand::thread_rng());
    let answers: Vec<u16> = futures::stream::iter(stream.iter())
        .map(|body| {
            let h = &h;
            async move { post(h, body, &onfleet::sign(SECRET_HEX, body).unwrap()).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    // 503 asks Onfleet to retry a duplicate whose first delivery is still in flight.
    let retry: Vec<&Vec<u8>> = stream
        .iter()
        .zip(&answers)
        .filter(|(_, a)| **a == 503)
        .map(|(b, _)| b)
        .collect();
    assert!(
        answers.iter().all(|a| *a == 200 || *a == 503),
        "{answers:?}"
    );
    for body in retry {
        wait_for(
            "a retried webhook accepted",
            Duration::from_secs(30),
            || async {
                let a = post(&h, body, &onfleet::sign(SECRET_HEX, body).unwrap()).await;
                (a == 200).then_some(())
            },
        )
        .await;
    }

    let records = wait_for(
        "every shipment settled",
        Duration::from_secs(180),
        || async {
            let (visible, in_flight) = h.queue_depth("SyncQueue").await;
            let (outbox_visible, outbox_in_flight) = h.queue_depth("OutboxQueue").await;
            if visible + in_flight + outbox_visible + outbox_in_flight > 0 {
                return None;
            }
            let records = h.stores().shipments.all().await.unwrap();
            records
                .iter()
                .all(|r| expected.get(&r.shipment.key.to_string()) == Some(&r.status))
                .then_some(records)
        },
    )
    .await;
    assert_eq!(records.len(), SHIPMENTS as usize);
    let (dlq, _) = h.queue_depth("SyncDLQ").await;
    assert_eq!(dlq, 0, "nothing left for an operator");

    // The history holds every distinct event once, in time order.
    for key in &keys {
        let history = h.stores().history.list(key).await.unwrap();
        assert_eq!(history.len(), EVENTS_PER_SHIPMENT, "{key}");
        assert!(history.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
        let record = h.shipment(key).await;
        if record.status == ShipmentStatus::Delivered {
            let proof = record.delivery.proof.expect("proof");
            assert_eq!(proof.signature_text.as_deref(), Some("K. Weber"));
        } else {
            let failure = record.delivery.failure.expect("why it failed");
            assert_eq!(failure.reason.as_deref(), Some("NOBODY"));
        }
    }

    // The store: each status at most once per fulfillment, and every final status there.
    let events = h.sandbox.shopify_fulfillment_events();
    let mut seen = HashSet::new();
    for e in &events {
        assert!(
            seen.insert((e.fulfillment_id.clone(), e.status.clone())),
            "written twice: {e:?}"
        );
    }
    for record in &records {
        let fulfillment = record.tracking_written_back.as_ref().unwrap();
        let final_event = match record.status {
            ShipmentStatus::Delivered => "DELIVERED",
            _ => "ATTEMPTED_DELIVERY",
        };
        assert!(
            seen.contains(&(fulfillment.clone(), final_event.to_owned())),
            "{} has no {final_event}",
            record.shipment.key
        );
    }

    // The customer: every message ended, none sent twice, the final one always sent.
    let outbox = h.stores().outbox.all().await.unwrap();
    assert!(outbox.iter().all(|m| m.state.is_final()), "{outbox:?}");
    let sent: Vec<_> = outbox
        .iter()
        .filter(|m| m.state == OutboxState::Sent)
        .collect();
    assert!(sent.iter().all(|m| m.attempts == 1));
    let sms = h.sandbox.sms_messages();
    assert_eq!(sms.len(), sent.len(), "one SMS per sent message");
    let sids: HashSet<_> = sms.iter().map(|m| m.sid.clone()).collect();
    for m in &sent {
        assert!(sids.contains(m.provider_id.as_ref().unwrap()));
    }
    for record in &records {
        let template = match record.status {
            ShipmentStatus::Delivered => "delivered",
            _ => "delivery_failed",
        };
        let id = format!("{}#{template}", record.shipment.key);
        assert!(sent.iter().any(|m| m.id == id), "{id} was not sent");
    }
    h.stop().await;
}
